-- Runs of scheduled jobs, one row per job and slot (e.g. retention, 2026-12-07). Nodes claim a
-- slot by inserting its row; a row left unfinished with an expired lease can be claimed again
-- (see crates/meta-sql/src/job_runs.rs). Portable SQL (SQLite and PostgreSQL).
CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    slot        TEXT NOT NULL,
    node        TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    finished_at BIGINT,
    outcome     TEXT CHECK (outcome IN ('ok', 'error')),
    detail      TEXT,
    PRIMARY KEY (job, slot)
);
CREATE INDEX job_runs_started ON job_runs (started_at);
