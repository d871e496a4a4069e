-- HMA-compatible banks (issue 23, points 4-5): the banks that platforms running Meta's
-- Hasher-Matcher-Actioner API curate through /hma/c/…, the content banked in them (an
-- integer id the API hands out, the caller's optional metadata and note, and a time until
-- which it is disabled) and each content's signals (PDQ only, lowercase hex). The server's
-- /hma/m/lookup matches against the signals; the engine's image stage loads the enabled
-- ones too (bank `hma.<NAME>`). Changes are audited (`hma.bank.*`, `hma.content.*`).
CREATE TABLE hma_banks (
    name                   TEXT PRIMARY KEY,     -- ^[A-Z0-9_]+$
    matching_enabled_ratio REAL NOT NULL,        -- 0 (never matches) to 1 (always)
    created_at             BIGINT NOT NULL
);
CREATE TABLE hma_content (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    bank             TEXT NOT NULL,
    content_id       TEXT,                       -- the caller's own id for it
    content_uri      TEXT,
    metadata_json    TEXT,                       -- the caller's `json` object
    note             TEXT,                       -- at most 255 characters
    disable_until_ts BIGINT NOT NULL DEFAULT 0,  -- seconds; enabled when <= now
    created_at       BIGINT NOT NULL
);
CREATE INDEX hma_content_bank ON hma_content (bank);
CREATE TABLE hma_signals (
    content_id  BIGINT NOT NULL,
    signal_type TEXT NOT NULL,                   -- `pdq`
    signal      TEXT NOT NULL,                   -- lowercase hex
    PRIMARY KEY (content_id, signal_type)
);
