-- Accounts and security: roles for service tokens and users, password logins with web
-- sessions, and the audit log. Portable SQL (SQLite and PostgreSQL).

-- The role a secret key acts with on its project. Secret keys created before roles existed
-- could read and query everything and send events: that is an analyst.
ALTER TABLE api_keys ADD COLUMN role TEXT CHECK (role IN ('admin', 'analyst', 'viewer', 'business_viewer'));
UPDATE api_keys SET role = 'analyst' WHERE kind = 'secret';
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;

-- Argon2id PHC strings; NULL for users who only come through a gateway (JWT).
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- A role on the user's whole organization (scope '') or on one of its projects (scope =
-- project id). A scope string instead of a nullable project id keeps the primary key portable.
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    scope   TEXT NOT NULL,
    role    TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer', 'business_viewer')),
    PRIMARY KEY (user_id, scope)
);

-- Web sessions, by the SHA-256 of the cookie's token.
CREATE TABLE user_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);

CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    org_id     TEXT,
    project_id TEXT,
    actor      TEXT NOT NULL,
    actor_name TEXT,
    key_id     TEXT,
    via        TEXT NOT NULL,
    action     TEXT NOT NULL,
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,
    status     INTEGER NOT NULL,
    ip_hash    TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
CREATE INDEX audit_log_project ON audit_log (project_id, id);
