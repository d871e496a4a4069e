-- The quality audit (issue 25): a uniform random sample of the ad revisions the policy allowed.
-- A share of each claim is drawn from it, oldest first, and enters the queue as
-- `source = 'audit'`. Only these decisions show what the allowed ads really are, so the learned
-- model's calibration and raise threshold are fitted on them. A drawn row stays (`drawn_at`):
-- it names the decision that answered it (the latest decision on that revision).
CREATE TABLE audit_sample (
    ad_id      TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    sampled_at BIGINT NOT NULL,
    drawn_at   BIGINT,
    drawn_by   TEXT,
    PRIMARY KEY (ad_id, revision)
) WITHOUT ROWID;
CREATE INDEX audit_sample_undrawn ON audit_sample (drawn_at, sampled_at, ad_id);
