// figment::Jail fixes the closure's error type.
#![allow(clippy::result_large_err)]

use super::*;
use figment::Jail;
use std::time::Duration;

const EXAMPLE: &str = include_str!("../../../config/sextant.example.toml");

fn err(text: &str) -> String {
    from_toml_str(text).unwrap_err().to_string()
}

#[test]
fn example_config_loads_and_matches_defaults() {
    let example = from_toml_str(EXAMPLE).unwrap();
    let defaults = from_toml_str("").unwrap();
    assert_eq!(
        format!("{example:?}"),
        format!("{defaults:?}"),
        "the example documents the defaults"
    );
    assert_eq!(example.server.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(example.server.public_url, "http://127.0.0.1:8000");
    assert_eq!(example.storage.data_dir, std::path::PathBuf::from("./sextant-data"));
    assert_eq!(example.storage.meta_url, "sqlite://./sextant-data/meta.sqlite");
    assert_eq!(example.server.max_body_bytes, 20 << 20);
    assert_eq!(example.ingest.retry_after, Duration::from_secs(1));
    assert_eq!(example.ingest.limits.max_properties_bytes, 32 << 10);
    assert_eq!(example.log.format, LogFormat::Text);
}

#[test]
fn metadata_urls_are_sqlite_or_postgres_and_errors_hide_the_rest() {
    let postgres =
        from_toml_str("[storage]\nmeta_url = \"postgres://sextant:pw@db:5432/sextant\"").unwrap();
    assert_eq!(postgres.storage.meta_url, "postgres://sextant:pw@db:5432/sextant");
    let error = err("[storage]\nmeta_url = \"mysql://root:hunter2@db/sextant\"");
    assert_eq!(
        error,
        "invalid `storage.meta_url`: the scheme `mysql:` is not supported; use sqlite:// (embedded) or postgres:// (PostgreSQL)"
    );
    assert!(!error.contains("hunter2"));
}

#[test]
fn errors_name_the_key_and_the_problem() {
    assert_eq!(
        err("[server]\nlisten = \"nowhere\""),
        "invalid `server.listen`: `nowhere` is not host:port such as 127.0.0.1:8000"
    );
    assert_eq!(
        err("[query]\nmax_buckets = 0"),
        "invalid `query.max_buckets`: must be greater than zero"
    );
    assert!(
        err("[ingest]\nretry_after = \"soon\"")
            .starts_with("invalid `ingest.retry_after`: `soon` is not a duration")
    );
    assert_eq!(
        err("[log]\nformat = \"xml\""),
        "invalid `log.format`: `xml` is not one of text, json"
    );
    let unknown = err("[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"");
    assert!(
        unknown.starts_with("invalid `server.lisen`: unknown field: found `lisen`"),
        "{unknown}"
    );
    let size = err("[server]\nmax_body_bytes = \"20 parsecs\"");
    assert!(size.contains("unknown size unit `parsecs`"), "{size}");
    assert!(size.contains("server.max_body_bytes"), "{size}");
    let pending = err("[ingest]\nmax_pending_events = 10");
    assert!(
        pending.starts_with("invalid `ingest.max_pending_events`: must be at least"),
        "{pending}"
    );
}

#[test]
fn file_then_env_then_flags() {
    Jail::expect_with(|jail| {
        jail.create_file("custom.toml", "[server]\nlisten = \"127.0.0.1:7000\"\n[storage]\ndata_dir = \"/from/file\"\n[query]\nmax_buckets = 10")?;
        jail.set_env("SEXTANT_CONFIG", "custom.toml");
        jail.set_env("SEXTANT_STORAGE__DATA_DIR", "/from/env");
        jail.set_env("SEXTANT_INGEST__MAX_BATCH_EVENTS", "1234");
        jail.set_env("SEXTANT_STORAGE__DUCKDB__MEMORY_LIMIT", "1GiB");
        let flags = Overrides { listen: Some("127.0.0.1:9000".into()), ..Overrides::default() };
        let s = load(None, &flags).unwrap();
        assert_eq!(s.server.listen.to_string(), "127.0.0.1:9000", "flag beats file");
        assert_eq!(s.storage.data_dir, std::path::PathBuf::from("/from/env"), "env beats file");
        assert_eq!(s.query.max_buckets, 10, "file beats default");
        assert_eq!(s.ingest.max_batch_events, 1234);
        assert_eq!(s.storage.duckdb.memory_limit, Some(1 << 30));
        Ok(())
    });
}

#[test]
fn env_errors_name_the_variable() {
    Jail::expect_with(|jail| {
        jail.set_env("SEXTANT_SERVER__LISTN", "x");
        let e = load(None, &Overrides::default()).unwrap_err().to_string();
        assert!(e.starts_with("invalid `server.listn`: unknown field: found `listn`"), "{e}");
        assert!(e.contains("SEXTANT_SERVER__LISTN"), "{e}");
        Ok(())
    });
}

#[test]
fn missing_explicit_file_is_an_error() {
    let e = load(Some(std::path::Path::new("/no/such/sextant.toml")), &Overrides::default())
        .unwrap_err();
    assert_eq!(e.to_string(), "config file /no/such/sextant.toml does not exist");
}

#[test]
fn gateway_jwts_map_claims_to_roles_and_keep_secrets_out_of_debug() {
    let settings = from_toml_str(
        r#"
[server]
public_url = "https://analytics.example.com"
cors_allowed_origins = ["https://admin.example.com/"]
[auth.jwt]
hs256_secret = "a-secret-of-at-least-thirty-two-bytes"
issuer = "https://idp.example.com/"
roles_claim = "realm_access.roles"
[auth.jwt.roles]
"analytics" = "analyst"
"shop-team" = "admin@shop"
"#,
    )
    .unwrap();
    assert!(settings.auth.secure_cookies, "https public URL");
    assert_eq!(settings.auth.cors_allowed_origins, ["https://admin.example.com"]);
    let jwt = settings.auth.jwt.as_ref().unwrap();
    assert_eq!(jwt.header, "authorization");
    assert_eq!(jwt.organization, "default");
    assert_eq!(jwt.verifier.roles_claim, "realm_access.roles");
    let mapped: Vec<(String, sextant_core::Role, Option<String>)> = jwt
        .verifier
        .role_map
        .iter()
        .map(|m| (m.claim_value.clone(), m.role, m.project.clone()))
        .collect();
    assert_eq!(
        mapped,
        [
            ("analytics".into(), sextant_core::Role::Analyst, None),
            ("shop-team".into(), sextant_core::Role::Admin, Some("shop".into())),
        ]
    );
    assert!(!format!("{settings:?}").contains("thirty-two"), "secrets are redacted");

    assert_eq!(
        err("[auth.jwt]\nissuer = \"x\""),
        "invalid `auth.jwt`: needs hs256_secret (prefer SEXTANT_AUTH__JWT__HS256_SECRET) or jwks_file / jwks_url"
    );
    assert_eq!(
        err("[auth.jwt]\nhs256_secret = \"short\""),
        "invalid `auth.jwt.hs256_secret`: needs at least 32 bytes"
    );
    assert!(
        err("[auth.jwt]\njwks_file = \"/k.json\"\n[auth.jwt.roles]\nops = \"owner\"")
            .starts_with("invalid `auth.jwt.roles`: `ops` maps to `owner`")
    );
    assert!(
        err("[server]\ncors_allowed_origins = [\"app.example.com\"]").contains("is not an origin")
    );
    assert_eq!(
        err("[audit]\nretention_days = 0"),
        "invalid `audit.retention_days`: must be at least 1"
    );
}

#[test]
fn events_go_to_duckdb_unless_clickhouse_is_chosen_and_its_password_is_never_shown() {
    assert_eq!(from_toml_str("").unwrap().storage.events, EventsBackend::DuckDb);
    let text = "[storage]\nevents = \"clickhouse\"\n[storage.clickhouse]\nurl = \"http://ch:8123\"\nuser = \"sextant\"\npassword = \"hunter2\"";
    let settings = from_toml_str(text).unwrap();
    let EventsBackend::ClickHouse(ch) = &settings.storage.events else { panic!("clickhouse") };
    assert_eq!((ch.url.as_str(), ch.database.as_str()), ("http://ch:8123", "sextant"));
    assert_eq!(ch.password.as_deref(), Some("hunter2"));
    assert!(ch.compress);
    assert!(!format!("{settings:?}").contains("hunter2"));
    assert_eq!(
        err("[storage]\nevents = \"mysql\""),
        "invalid `storage.events`: `mysql` is not an events backend; use duckdb or clickhouse"
    );
    assert!(
        err("[storage]\nevents = \"clickhouse\"\n[storage.clickhouse]\nurl = \"tcp://ch:9000\"")
            .starts_with("invalid `storage.clickhouse.url`")
    );
}
