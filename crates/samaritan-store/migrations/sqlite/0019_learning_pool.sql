-- Active learning (issue 25): ads the policy allowed whose model score is near the model's
-- decision point wait here; a share of each claim is drawn from the smallest margins first and
-- enters the queue as `source = 'learning'` (claimed by the reviewer who drew it).
CREATE TABLE learning_pool (
    ad_id         TEXT PRIMARY KEY,
    revision      BIGINT NOT NULL,
    model_version BIGINT NOT NULL,
    margin        REAL NOT NULL,               -- |probability - decision point|, 0 = coin toss
    created_at    BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX learning_pool_order ON learning_pool (margin, created_at, ad_id);

-- Why an item is in the queue: `policy` (its verdict) or `learning` (drawn by active learning).
ALTER TABLE queue ADD COLUMN source TEXT NOT NULL DEFAULT 'policy';
