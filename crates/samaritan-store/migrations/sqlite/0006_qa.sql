-- Quality assurance in review (issue 21): golden items and sampled second reviews.
--
-- A golden item is a decided ad with a known answer, set by a lead, that is mixed blind into
-- reviewers' queues; a second review is a decided item sampled for another reviewer to judge
-- blind. Both are `qa_tasks`: one per assignment, answered once, never a decision on the ad.
CREATE TABLE golden_items (
    ad_id           TEXT PRIMARY KEY NOT NULL,
    revision        INTEGER NOT NULL,
    expected_action TEXT NOT NULL,
    expected_reason TEXT NOT NULL,
    note            TEXT NOT NULL,
    added_by        TEXT NOT NULL,
    added_at        INTEGER NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE qa_tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,            -- golden | second
    ad_id           TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    expected_action TEXT NOT NULL,
    -- golden: the lead who set the answer; second: the reviewer whose decision is checked.
    first_actor     TEXT NOT NULL,
    decision_seq    INTEGER,                  -- second: the decision under review
    assigned_to     TEXT,
    lease_until     INTEGER,
    answer_action   TEXT,
    answer_reason   TEXT,
    answer_note     TEXT,
    answered_at     INTEGER,
    agreed          INTEGER,
    resolved_by     TEXT,
    resolved_at     INTEGER,
    resolution      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX qa_tasks_by_person ON qa_tasks (assigned_to, answered_at);
CREATE INDEX qa_tasks_waiting ON qa_tasks (kind, answered_at, created_at);
