-- People who sign in to the console (issue 21). The password is kept only as an Argon2id PHC
-- string; `failed_logins` and `locked_until` are the per-account throttle, the only columns that
-- change without an audit entry of their own (a lockout has one: `user.lockout`).
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('reviewer', 'lead', 'admin', 'auditor')),
    password_hash       TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    disabled_at         INTEGER,
    password_changed_at INTEGER NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        INTEGER
);
