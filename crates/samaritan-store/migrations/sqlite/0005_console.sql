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
    ended_at     INTEGER,
    -- Exposure in this session (wellness): ad pages opened, images revealed.
    items_seen      INTEGER NOT NULL DEFAULT 0,
    images_revealed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Each person's own viewing settings (wellness): how strongly images are blurred (1 to 3),
-- whether revealed images stay greyscale, and after how many items and images the console
-- suggests a break. Changes are audited (`user.settings`).
CREATE TABLE user_settings (
    user_id      TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    blur         INTEGER NOT NULL DEFAULT 2,
    greyscale    INTEGER NOT NULL DEFAULT 1,
    break_items  INTEGER NOT NULL DEFAULT 60,
    break_images INTEGER NOT NULL DEFAULT 10,
    updated_at   INTEGER NOT NULL
);

-- A person's own claims, listed on every queue page.
CREATE INDEX queue_claimed_by ON queue (claimed_by);
