-- Console sign-ins (issue 21). Only the SHA-256 of a session token is kept, so a copy of the
-- database lets nobody act as a signed-in reviewer. `seen_at` moves as the person works (idle
-- timeout); `ended_at` is set on sign-out. Opening and ending a session are audited.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    address      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    seen_at      BIGINT NOT NULL,
    ended_at     BIGINT,
    -- Exposure in this session (wellness): ad pages opened, images revealed.
    items_seen      BIGINT NOT NULL DEFAULT 0,
    images_revealed BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Each person's own viewing settings (wellness): how strongly images are blurred (1 to 3),
-- whether revealed images stay greyscale, and after how many items and images the console
-- suggests a break. Changes are audited (`user.settings`).
CREATE TABLE user_settings (
    user_id      TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    blur         BIGINT NOT NULL DEFAULT 2,
    greyscale    BIGINT NOT NULL DEFAULT 1,
    break_items  BIGINT NOT NULL DEFAULT 60,
    break_images BIGINT NOT NULL DEFAULT 10,
    updated_at   BIGINT NOT NULL
);

-- A person's own claims, listed on every queue page.
CREATE INDEX queue_claimed_by ON queue (claimed_by);
