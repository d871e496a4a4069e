-- Reports to NCMEC's CyberTipline (issue 22): one case per `report` decision, opened from the
-- ad, its analysis, its network and the evidence (`draft`, JSON), then approved (a lead, never
-- the reviewer who decided: the two-person rule) before it can be filed. Every change of state
-- is audited (`report.*`). `follow_up_of` lists the earlier cases on the same account or phone.
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ad_id           TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    decision_seq    INTEGER NOT NULL UNIQUE,
    incident_type   TEXT NOT NULL,
    state           TEXT NOT NULL,            -- draft | approved (filing states come later)
    account         TEXT,
    follow_up_of    TEXT NOT NULL,            -- JSON array of earlier report ids
    draft           TEXT NOT NULL,            -- JSON: the case as built
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    approved_by     TEXT,
    approved_at     INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX reports_by_state ON reports (state, created_at);
CREATE INDEX reports_by_ad ON reports (ad_id);
