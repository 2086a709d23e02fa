//! The conformance suites every storage backend must pass. A backend's test crate
//! instantiates them with [`event_store_conformance!`] and [`meta_store_conformance!`].

pub mod cross_backend;
pub mod cross_check;
pub mod events;
pub mod generated;
pub mod job_runs;
pub mod meta;
pub mod reference;

pub use events::fixture_events;
pub use generated::generated_events;

use crate::{EventStore, MetaStore};
use std::sync::Arc;

/// A fresh, empty events store plus whatever must outlive it (e.g. its temporary directory).
pub struct Subject {
    pub store: Arc<dyn EventStore>,
    pub keep_alive: Box<dyn std::any::Any + Send>,
}

/// A fresh, empty metadata store plus whatever must outlive it.
pub struct MetaSubject {
    pub store: Arc<dyn MetaStore>,
    pub keep_alive: Box<dyn std::any::Any + Send>,
}

/// Expands to one `#[tokio::test]` per events case; `$make` is an async function returning a
/// fresh [`Subject`].
#[macro_export]
macro_rules! event_store_conformance {
    ($make:path) => {
        $crate::conformance_cases!(events, $make;
            query_fixtures, scoped_to_project, list_pages_newest_first, export_round_trips,
            delete_range_and_stats, concurrent_appends_and_queries, empty_append_is_a_no_op,
            closed_store_refuses_work, duplicate_insert_ids_are_stored_once,
            identified_devices_count_as_one_person, person_properties_filter_and_break_down);
        $crate::conformance_cases!(cross_check, $make; cross_check_generated);
    };
}

/// Expands to one `#[tokio::test]` per metadata case; `$make` is an async function returning
/// a fresh [`MetaSubject`].
#[macro_export]
macro_rules! meta_store_conformance {
    ($make:path) => {
        $crate::conformance_cases!(meta, $make;
            orgs_are_idempotent_by_name, projects_come_with_a_write_key, keys_authenticate_until_revoked,
            key_scopes_are_checked, find_project_by_id_or_name, users_are_unique_by_email,
            users_hold_grants_within_their_organization, sessions_live_until_expiry_or_disable,
            audit_records_page_filter_and_expire, project_settings_round_trip);
        $crate::conformance_cases!(job_runs, $make;
            job_slots_are_claimed_once, dead_holders_are_taken_over_after_their_lease,
            concurrent_claims_have_one_winner);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! conformance_cases {
    ($suite:ident, $make:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let subject = $make().await;
                $crate::conformance::$suite::$case(&subject).await;
            }
        )*
    };
}
