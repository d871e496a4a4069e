-- The learned model's versions and its shadow scores: see the SQLite migration 0015.
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
CREATE TABLE model_scores (
    ad_id         TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    model_version BIGINT NOT NULL,
    probability   DOUBLE PRECISION NOT NULL,
    severe        DOUBLE PRECISION NOT NULL,
    raised        BIGINT NOT NULL,
    detail        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (ad_id, revision, model_version)
);
