//! The events table and its numbered migrations. Column names match
//! `sextant_query::EVENT_COLUMNS`; `docs/schema.md` explains each one.

use crate::rollup;
use duckdb::Connection;

/// Applied in order, each once, each in its own transaction. Never edit a released entry:
/// append a new one (to `migrations` when its SQL is built from shared definitions).
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "CREATE TABLE events (
        project_id  VARCHAR   NOT NULL,
        event       VARCHAR   NOT NULL,
        timestamp   TIMESTAMP NOT NULL,
        received_at TIMESTAMP NOT NULL,
        insert_id   VARCHAR   NOT NULL,
        user_id     VARCHAR,
        device_id   VARCHAR,
        person_id   VARCHAR,
        session_id  VARCHAR,
        app         VARCHAR,
        url         VARCHAR,
        host        VARCHAR,
        path        VARCHAR,
        route       VARCHAR,
        referrer    VARCHAR,
        entity_type VARCHAR,
        entity_id   VARCHAR,
        device_type VARCHAR,
        browser     VARCHAR,
        os          VARCHAR,
        country     VARCHAR,
        value       DOUBLE,
        library     VARCHAR,
        properties  JSON
    );",
    ),
    (
        2,
        // Identity: the first user an anonymous device was seen with. Queries resolve a
        // device-only event to that user, so the events before sign-up and after it count as
        // one person without rewriting history.
        "CREATE TABLE person_links (
        project_id VARCHAR   NOT NULL,
        device_id  VARCHAR   NOT NULL,
        user_id    VARCHAR   NOT NULL,
        linked_at  TIMESTAMP NOT NULL,
        PRIMARY KEY (project_id, device_id)
    );",
    ),
    (
        3,
        // Links for events stored before person_links existed: each device's earliest user.
        "INSERT INTO person_links
        SELECT project_id, device_id, arg_min(user_id, timestamp), min(timestamp)
        FROM events WHERE user_id IS NOT NULL AND device_id IS NOT NULL
        GROUP BY project_id, device_id
        ON CONFLICT DO NOTHING;",
    ),
    (
        4,
        // Person properties from identify calls ($set, $set_once, $unset, traits), per person
        // (user id, or device id for anonymous visitors), for `person.<key>` in queries.
        "CREATE TABLE persons (
        project_id VARCHAR   NOT NULL,
        person_id  VARCHAR   NOT NULL,
        properties JSON      NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (project_id, person_id)
    );",
    ),
    (
        5,
        // Hourly rollups (see `rollup.rs`), backfilled from the events already stored. Rows are
        // partial sums (several per key until compacted), so there is no primary key.
        "CREATE TABLE rollup_hourly (
        project_id  VARCHAR   NOT NULL,
        hour        TIMESTAMP NOT NULL,
        event       VARCHAR   NOT NULL,
        events      BIGINT    NOT NULL,
        value_count BIGINT    NOT NULL,
        value_sum   DOUBLE,
        value_min   DOUBLE,
        value_max   DOUBLE
    );
    INSERT INTO rollup_hourly
        SELECT project_id, date_trunc('hour', timestamp), event, count(*), count(value), sum(value), min(value), max(value)
        FROM events GROUP BY ALL;",
    ),
    (
        6,
        // People per hour (see `rollup.rs`), backfilled from the events already stored, in
        // time order so scans of a range skip the rest. Partial rows until compacted, as above.
        "CREATE TABLE rollup_actors (
        project_id VARCHAR   NOT NULL,
        hour       TIMESTAMP NOT NULL,
        event      VARCHAR   NOT NULL,
        person_id  VARCHAR,
        anon       BOOLEAN   NOT NULL,
        events     BIGINT    NOT NULL
    );
    INSERT INTO rollup_actors
        SELECT project_id, date_trunc('hour', timestamp) AS hour, event, person_id, user_id IS NULL, count(*)
        FROM events GROUP BY ALL ORDER BY project_id, hour;",
    ),
];

/// Every migration: the fixed ones, then those built from the rollup definitions.
fn migrations() -> Vec<(i32, String)> {
    let mut all: Vec<(i32, String)> =
        MIGRATIONS.iter().map(|(n, sql)| (*n, (*sql).to_owned())).collect();
    // Dimension counts and the sketch of `value` (see `rollup.rs`), backfilled in time order.
    all.push((
        7,
        format!(
            "CREATE TABLE rollup_dimensions (
            project_id      VARCHAR   NOT NULL,
            hour            TIMESTAMP NOT NULL,
            event           VARCHAR   NOT NULL,
            dimension       VARCHAR   NOT NULL,
            dimension_value VARCHAR,
            events          BIGINT    NOT NULL,
            value_count     BIGINT    NOT NULL,
            value_sum       DOUBLE,
            value_min       DOUBLE,
            value_max       DOUBLE
        );
        CREATE TABLE rollup_value_buckets (
            project_id VARCHAR   NOT NULL,
            hour       TIMESTAMP NOT NULL,
            event      VARCHAR   NOT NULL,
            bucket     INTEGER   NOT NULL,
            n          BIGINT    NOT NULL
        );
        INSERT INTO rollup_dimensions {};
        INSERT INTO rollup_value_buckets {};",
            rollup::dimensions_from_events("TRUE"),
            rollup::value_buckets_from_events("TRUE"),
        ),
    ));
    // People per UTC day, and both people tables with the key of each person id (see
    // `rollup.rs`): the hours are copied with their keys, the days folded from the hours,
    // which hold the same counts in ~10x fewer rows than the events.
    all.push((
        8,
        "CREATE TABLE rollup_actors_keyed (
            project_id VARCHAR   NOT NULL,
            hour       TIMESTAMP NOT NULL,
            event      VARCHAR   NOT NULL,
            person_id  VARCHAR,
            anon       BOOLEAN   NOT NULL,
            events     BIGINT    NOT NULL,
            person_key UHUGEINT
        );
        INSERT INTO rollup_actors_keyed
            SELECT project_id, hour, event, person_id, anon, events, md5_number(person_id)
            FROM rollup_actors ORDER BY project_id, hour;
        DROP TABLE rollup_actors;
        ALTER TABLE rollup_actors_keyed RENAME TO rollup_actors;
        CREATE TABLE rollup_actors_daily (
            project_id VARCHAR   NOT NULL,
            day        TIMESTAMP NOT NULL,
            event      VARCHAR   NOT NULL,
            person_id  VARCHAR,
            anon       BOOLEAN   NOT NULL,
            events     BIGINT    NOT NULL,
            person_key UHUGEINT
        );
        INSERT INTO rollup_actors_daily
            SELECT project_id, date_trunc('day', hour) AS day, event, person_id, anon, sum(events), person_key
            FROM rollup_actors GROUP BY ALL ORDER BY project_id, day;"
            .to_owned(),
    ));
    // The people per hour with their events' times (see `rollup.rs`), rebuilt from the events.
    all.push((
        9,
        format!(
            "ALTER TABLE rollup_actors ADD COLUMN last_ts BIGINT;
        ALTER TABLE rollup_actors ADD COLUMN times BIGINT[];
        DELETE FROM rollup_actors;
        INSERT INTO rollup_actors {};",
            rollup::hourly_actors_from_events("TRUE"),
        ),
    ));
    all
}

/// Brings the schema up to date; returns the version it ends at.
pub(crate) fn migrate(conn: &Connection) -> duckdb::Result<i32> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS sextant_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)")?;
    let current: i32 =
        conn.query_row("SELECT coalesce(max(version), 0) FROM sextant_migrations", [], |row| {
            row.get(0)
        })?;
    let mut version = current;
    for (number, sql) in migrations().into_iter().filter(|(n, _)| *n > current) {
        conn.execute_batch("BEGIN TRANSACTION")?;
        let applied = conn.execute_batch(&sql).and_then(|()| {
            conn.execute("INSERT INTO sextant_migrations (version) VALUES (?)", [number])
        });
        match applied {
            Ok(_) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                conn.execute_batch("ROLLBACK")?;
                return Err(e);
            }
        }
        version = number;
    }
    Ok(version)
}
