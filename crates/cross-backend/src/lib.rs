//! Test-only crate: `tests/answers.rs` ingests the same generated events into the embedded
//! (DuckDB) and the scale-out (ClickHouse) events backends and compares every query kind's
//! answers. It lives apart so neither store depends on the other.
