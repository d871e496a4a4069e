-- Console sign-ins (issue 21). Only the SHA-256 of a session token is kept, so a copy of the
-- database lets nobody act as a signed-in reviewer. `seen_at` moves as the person works (idle
-- timeout); `ended_at` is set on sign-out. Opening and ending a session are audited.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    address      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    seen_at      INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);
