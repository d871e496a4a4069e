-- Samaritan store, SQLite dialect. Keep in step with ../postgres/0001_initial.sql: the same tables,
-- columns and meaning; only the types differ. Times are milliseconds since the Unix epoch (UTC).

-- The current revision of every ad, exactly as received, with the latest analysis beside it.
CREATE TABLE ads (
    id              TEXT PRIMARY KEY NOT NULL,
    raw             TEXT NOT NULL,             -- the ad's JSON as the platform sent it
    digest          TEXT NOT NULL,             -- SHA-256 (hex) of the ad's canonical JSON
    revision        INTEGER NOT NULL,          -- 1 for the first version, +1 per changed re-send
    received_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    verdict         TEXT NOT NULL,
    score           REAL NOT NULL,
    priority        INTEGER NOT NULL,
    policy          TEXT NOT NULL,
    analysis        TEXT NOT NULL              -- latest analysis JSON (schema 1)
);

-- Earlier revisions of ads that were re-sent with changed content (evidence is never overwritten).
CREATE TABLE ad_history (
    ad_id           TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    raw             TEXT NOT NULL,
    digest          TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    PRIMARY KEY (ad_id, revision)
);

-- Every analysis ever made, newest last.
CREATE TABLE analyses (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    ad_id           TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    verdict         TEXT NOT NULL,
    score           REAL NOT NULL,
    priority        INTEGER NOT NULL,
    policy          TEXT NOT NULL,
    analysis        TEXT NOT NULL
);
CREATE INDEX analyses_by_ad ON analyses (ad_id, seq);

-- Normalised identifiers (phone, email, handle, payment, account, pdq, sha256) -> ads, for search.
CREATE TABLE identifiers (
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    ad_id           TEXT NOT NULL,
    PRIMARY KEY (kind, value, ad_id)
);
CREATE INDEX identifiers_by_ad ON identifiers (ad_id);

-- The review queue: one row per ad that needs (or needed) a human.
CREATE TABLE queue (
    ad_id           TEXT PRIMARY KEY NOT NULL,
    priority        INTEGER NOT NULL,
    state           TEXT NOT NULL,             -- open | escalated | decided
    claimed_by      TEXT,                      -- key id of the reviewer holding the lease
    lease_until     INTEGER,
    enqueued_at     INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX queue_order ON queue (state, priority DESC, enqueued_at, ad_id);

CREATE TABLE decisions (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    ad_id           TEXT NOT NULL,
    action          TEXT NOT NULL,             -- remove | allow | report | escalate
    reason          TEXT NOT NULL,
    note            TEXT NOT NULL,
    actor           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    audit_seq       INTEGER NOT NULL
);
CREATE INDEX decisions_by_ad ON decisions (ad_id, seq);

CREATE TABLE networks (
    id              TEXT PRIMARY KEY NOT NULL,
    size            INTEGER NOT NULL,
    cities          INTEGER NOT NULL,
    reasons         TEXT NOT NULL,             -- JSON array of strings
    detail          TEXT NOT NULL,             -- JSON object the linker keeps (features, evidence)
    updated_at      INTEGER NOT NULL
);
CREATE TABLE network_members (
    ad_id           TEXT PRIMARY KEY NOT NULL,
    network_id      TEXT NOT NULL
);
CREATE INDEX network_members_by_network ON network_members (network_id, ad_id);

-- Opaque records the linker saves and restores (LSH bands, union-find state, ...), by kind + key.
CREATE TABLE link_state (
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL,
    value           BLOB NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Known-image hash banks (PDQ, MD5, SHA-256) and what each entry means.
CREATE TABLE hash_bank (
    bank            TEXT NOT NULL,
    kind            TEXT NOT NULL,             -- pdq | md5 | sha256
    hash            TEXT NOT NULL,             -- lowercase hex
    label           TEXT NOT NULL,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (bank, kind, hash)
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    hash            TEXT NOT NULL,             -- SHA-256 (hex) of the whole key; the key itself is never stored
    scopes          TEXT NOT NULL,             -- comma-separated: ingest,review,admin,audit
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);

CREATE TABLE policies (
    version         INTEGER PRIMARY KEY NOT NULL,
    label           TEXT NOT NULL,             -- name@version as the engine reports it
    text            TEXT NOT NULL,
    actor           TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- The hash-chained audit log (see src/audit.rs for the canonical form).
CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY NOT NULL,
    ts              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
