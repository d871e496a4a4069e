-- Preserved evidence and legal holds (issue 22): see the SQLite migration 0011 for the model.
-- Triggers refuse, whatever the caller, any change that would remove held evidence.
CREATE TABLE evidence_blobs (
    sha256          TEXT PRIMARY KEY NOT NULL,
    key_id          TEXT NOT NULL,
    nonce           BYTEA NOT NULL,
    ciphertext      BYTEA NOT NULL,
    bytes           BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE TABLE evidence_files (
    report_id       BIGINT NOT NULL,
    path            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    preserved_at    BIGINT NOT NULL,
    PRIMARY KEY (report_id, path)
);
CREATE INDEX evidence_files_by_blob ON evidence_files (sha256);
CREATE TABLE holds (
    id              BIGSERIAL PRIMARY KEY,
    report_id       BIGINT NOT NULL UNIQUE,
    ad_id           TEXT NOT NULL,
    state           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    until_ms        BIGINT NOT NULL,
    released_at     BIGINT,
    released_by     TEXT,
    release_reason  TEXT
);
CREATE INDEX holds_by_ad ON holds (ad_id, state);
CREATE TABLE hold_extensions (
    hold_id         BIGINT NOT NULL,
    until_ms        BIGINT NOT NULL,
    reference       TEXT NOT NULL,
    agency          TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL
);
CREATE INDEX hold_extensions_by_hold ON hold_extensions (hold_id);

CREATE FUNCTION samaritan_refuse_held() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE held boolean;
BEGIN
    IF TG_TABLE_NAME = 'evidence_files' THEN
        held := EXISTS (SELECT 1 FROM holds WHERE report_id = OLD.report_id AND state = 'held');
    ELSIF TG_TABLE_NAME = 'evidence_blobs' THEN
        held := TG_OP = 'UPDATE' OR EXISTS (SELECT 1 FROM evidence_files f JOIN holds h
            ON h.report_id = f.report_id WHERE f.sha256 = OLD.sha256 AND h.state = 'held');
    ELSIF TG_TABLE_NAME = 'ads' THEN
        -- A re-post keeps the earlier revision in ad_history; rewriting one in place is not.
        held := (TG_OP = 'DELETE' OR NEW.revision < OLD.revision
                 OR (NEW.revision = OLD.revision AND NEW.raw <> OLD.raw))
            AND EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.id AND state = 'held');
    ELSE
        held := EXISTS (SELECT 1 FROM holds WHERE ad_id = OLD.ad_id AND state = 'held');
    END IF;
    IF held THEN
        RAISE EXCEPTION 'held evidence: % on % is refused while a hold stands', TG_OP, TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER held_files BEFORE DELETE OR UPDATE ON evidence_files
    FOR EACH ROW EXECUTE FUNCTION samaritan_refuse_held();
CREATE TRIGGER held_blobs BEFORE DELETE OR UPDATE ON evidence_blobs
    FOR EACH ROW EXECUTE FUNCTION samaritan_refuse_held();
CREATE TRIGGER held_revisions BEFORE DELETE OR UPDATE ON ad_history
    FOR EACH ROW EXECUTE FUNCTION samaritan_refuse_held();
CREATE TRIGGER held_analyses BEFORE DELETE ON analyses
    FOR EACH ROW EXECUTE FUNCTION samaritan_refuse_held();
CREATE TRIGGER held_ads BEFORE DELETE OR UPDATE ON ads
    FOR EACH ROW EXECUTE FUNCTION samaritan_refuse_held();

CREATE FUNCTION samaritan_hold_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'holds are never deleted; an admin releases them';
    END IF;
    IF OLD.state = 'released' OR NEW.report_id <> OLD.report_id OR NEW.ad_id <> OLD.ad_id
       OR NEW.created_at <> OLD.created_at OR NEW.until_ms < OLD.until_ms
       OR (NEW.state = 'released' AND (NEW.release_reason IS NULL OR NEW.released_by IS NULL)) THEN
        RAISE EXCEPTION 'a hold only lengthens, or is released once with a reason';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER hold_rules BEFORE DELETE OR UPDATE ON holds
    FOR EACH ROW EXECUTE FUNCTION samaritan_hold_rules();
