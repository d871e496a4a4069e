-- The learned model's versions (issue 25): every model ever put in force, the newest being the
-- current one. `model` is the saved JSON of `samaritan_engine::learn::Model` exactly as written
-- (`sha256` of it is repeated in the version's audit entry); `source` says what made it:
-- `import` (a file made by `samaritan model train`), `decisions` (a batch of reviewers'
-- decisions learned by the service; `source_detail` lists which), `rollback` (a copy of an older
-- version). `through_decision`: every decision with a lower or equal `seq` was learned or
-- deliberately passed over by this version, so the service resumes with the decisions after it.
-- Changes are audited (`model.update`, `model.rollback`).
CREATE TABLE models (
    version          BIGINT PRIMARY KEY,
    model            TEXT NOT NULL,
    sha256           TEXT NOT NULL,
    source           TEXT NOT NULL,
    source_detail    TEXT NOT NULL,
    through_decision BIGINT NOT NULL,
    actor            TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
-- The model's shadow scores: what the current model said about an ad revision when the service
-- analysed it. Recorded beside the analysis; nothing reads it to decide (shadow).
CREATE TABLE model_scores (
    ad_id         TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    model_version BIGINT NOT NULL,
    probability   REAL NOT NULL,
    severe        REAL NOT NULL,
    raised        BIGINT NOT NULL,              -- 1 when the probability reached the threshold
    detail        TEXT NOT NULL,                -- JSON: the score and its top features with spans
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (ad_id, revision, model_version)
) WITHOUT ROWID;
