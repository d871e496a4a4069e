-- Quality assurance in review (issue 21): golden items and sampled second reviews.
--
-- A golden item is a decided ad with a known answer, set by a lead, that is mixed blind into
-- reviewers' queues; a second review is a decided item sampled for another reviewer to judge
-- blind. Both are `qa_tasks`: one per assignment, answered once, never a decision on the ad.
CREATE TABLE golden_items (
    ad_id           TEXT PRIMARY KEY NOT NULL,
    revision        BIGINT NOT NULL,
    expected_action TEXT NOT NULL,
    expected_reason TEXT NOT NULL,
    note            TEXT NOT NULL,
    added_by        TEXT NOT NULL,
    added_at        BIGINT NOT NULL,
    active          BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE qa_tasks (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT NOT NULL,            -- golden | second
    ad_id           TEXT NOT NULL,
    revision        BIGINT NOT NULL,
    expected_action TEXT NOT NULL,
    -- golden: the lead who set the answer; second: the reviewer whose decision is checked.
    first_actor     TEXT NOT NULL,
    decision_seq    BIGINT,                  -- second: the decision under review
    assigned_to     TEXT,
    lease_until     BIGINT,
    answer_action   TEXT,
    answer_reason   TEXT,
    answer_note     TEXT,
    answered_at     BIGINT,
    agreed          BIGINT,
    resolved_by     TEXT,
    resolved_at     BIGINT,
    resolution      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX qa_tasks_by_person ON qa_tasks (assigned_to, answered_at);
CREATE INDEX qa_tasks_waiting ON qa_tasks (kind, answered_at, created_at);
