-- Preserved evidence and legal holds (issue 22). When a report case opens, everything it rests
-- on (the ad at every revision, its analyses, images, network, decisions, audit entries) is
-- preserved as content-addressed blobs, encrypted by the service before they reach the store
-- (an AEAD; `key_id` names the key, `nonce` is the blob's), listed per case in
-- `evidence_files`, and put under a hold. A hold ends only when an admin releases it, with a
-- reason (never before `until_ms`, the report + 365 days or longer, while a filed report is in
-- its legal year or a law-enforcement extension runs). Triggers refuse, whatever the caller, any
-- change that would remove held evidence: deleting or rewriting a held case's files, their
-- blobs, the ad's revisions or analyses, or the hold itself.
CREATE TABLE evidence_blobs (
    sha256          TEXT PRIMARY KEY NOT NULL,  -- of the plaintext
    key_id          TEXT NOT NULL,
    nonce           BLOB NOT NULL,
    ciphertext      BLOB NOT NULL,
    bytes           INTEGER NOT NULL,           -- plaintext length
    created_at      INTEGER NOT NULL
);
CREATE TABLE evidence_files (
    report_id       INTEGER NOT NULL,
    path            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    preserved_at    INTEGER NOT NULL,
    PRIMARY KEY (report_id, path)
);
CREATE INDEX evidence_files_by_blob ON evidence_files (sha256);
CREATE TABLE holds (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id       INTEGER NOT NULL UNIQUE,
    ad_id           TEXT NOT NULL,
    state           TEXT NOT NULL,              -- held | released
    created_at      INTEGER NOT NULL,
    until_ms        INTEGER NOT NULL,
    released_at     INTEGER,
    released_by     TEXT,
    release_reason  TEXT
);
CREATE INDEX holds_by_ad ON holds (ad_id, state);
CREATE TABLE hold_extensions (
    hold_id         INTEGER NOT NULL,
    until_ms        INTEGER NOT NULL,
    reference       TEXT NOT NULL,              -- the request's number or docket
    agency          TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     INTEGER NOT NULL
);
CREATE INDEX hold_extensions_by_hold ON hold_extensions (hold_id);

CREATE TRIGGER held_files_stay BEFORE DELETE ON evidence_files
WHEN EXISTS (SELECT 1 FROM holds WHERE report_id = OLD.report_id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the case''s preserved files are under a hold'); END;
CREATE TRIGGER held_files_unchanged BEFORE UPDATE ON evidence_files
WHEN EXISTS (SELECT 1 FROM holds WHERE report_id = OLD.report_id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the case''s preserved files are under a hold'); END;
CREATE TRIGGER held_blobs_stay BEFORE DELETE ON evidence_blobs
WHEN EXISTS (SELECT 1 FROM evidence_files f JOIN holds h ON h.report_id = f.report_id
             WHERE f.sha256 = OLD.sha256 AND h.state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: a preserved blob is under a hold'); END;
CREATE TRIGGER blobs_unchanged BEFORE UPDATE ON evidence_blobs
BEGIN SELECT RAISE(ABORT, 'preserved blobs are never rewritten'); END;
CREATE TRIGGER held_revisions_stay BEFORE DELETE ON ad_history
WHEN EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.ad_id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the ad is under a hold'); END;
CREATE TRIGGER held_revisions_unchanged BEFORE UPDATE ON ad_history
WHEN EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.ad_id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the ad is under a hold'); END;
CREATE TRIGGER held_analyses_stay BEFORE DELETE ON analyses
WHEN EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.ad_id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the ad is under a hold'); END;
CREATE TRIGGER held_ads_stay BEFORE DELETE ON ads
WHEN EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the ad is under a hold'); END;
-- A re-post keeps the earlier revision in ad_history; rewriting a held revision in place is not.
CREATE TRIGGER held_ads_unchanged BEFORE UPDATE ON ads
WHEN (NEW.revision < OLD.revision OR (NEW.revision = OLD.revision AND NEW.raw <> OLD.raw))
     AND EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.id AND state = 'held')
BEGIN SELECT RAISE(ABORT, 'held evidence: the ad is under a hold'); END;
CREATE TRIGGER holds_stay BEFORE DELETE ON holds
BEGIN SELECT RAISE(ABORT, 'holds are never deleted; an admin releases them'); END;
CREATE TRIGGER holds_release_only BEFORE UPDATE ON holds
WHEN OLD.state = 'released' OR NEW.report_id <> OLD.report_id OR NEW.ad_id <> OLD.ad_id
     OR NEW.created_at <> OLD.created_at OR NEW.until_ms < OLD.until_ms
     OR (NEW.state = 'released' AND (NEW.release_reason IS NULL OR NEW.released_by IS NULL))
BEGIN SELECT RAISE(ABORT, 'a hold only lengthens, or is released once with a reason'); END;
