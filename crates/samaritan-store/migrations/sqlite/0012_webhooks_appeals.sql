-- Back to the platform (issue 23). Webhook endpoints (a destination URL, the events it wants,
-- its signing secret and, during a rotation, the previous one until `previous_until`); an
-- outbox of events written in the same transaction as the change that causes them (decisions,
-- report cases, appeals), each with its id and exact body; and one delivery row per endpoint
-- and event (pending → delivered | dead after the last attempt), which the service works off
-- in order per ad, retrying with backoff.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,          -- JSON array of event patterns (`decision.*`)
    secret          TEXT NOT NULL,          -- `whsec_` + base64 of the key
    previous_secret TEXT,
    previous_until  INTEGER,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    disabled_at     INTEGER
);
CREATE TABLE webhook_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL UNIQUE,   -- `msg_…`, the `webhook-id` header
    event_type      TEXT NOT NULL,
    ad_id           TEXT,
    body            TEXT NOT NULL,          -- the exact JSON sent (and signed)
    created_at      INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
    endpoint_id     INTEGER NOT NULL,
    event_seq       INTEGER NOT NULL,
    ad_id           TEXT,                   -- copied from the event: order is kept per ad
    state           TEXT NOT NULL,          -- pending | delivered | dead
    attempts        INTEGER NOT NULL,
    next_at         INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    PRIMARY KEY (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_at, event_seq);
CREATE INDEX webhook_deliveries_by_ad ON webhook_deliveries (endpoint_id, ad_id, state, event_seq);

-- Appeals (issue 23): the platform files one for its user against a decision on an ad, with
-- the user's statement; a reviewer other than the one who decided answers it (upheld or
-- reversed); both are audited and sent as webhook events.
CREATE TABLE appeals (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ad_id           TEXT NOT NULL,
    decision_seq    INTEGER NOT NULL,       -- the decision appealed
    decided_by      TEXT NOT NULL,          -- who made that decision (never answers the appeal)
    statement       TEXT NOT NULL,
    state           TEXT NOT NULL,          -- open | decided
    claimed_by      TEXT,
    lease_until     INTEGER,
    outcome         TEXT,                   -- upheld | reversed
    reason          TEXT,
    note            TEXT,
    answered_by     TEXT,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    answered_at     INTEGER
);
CREATE INDEX appeals_by_state ON appeals (state, created_at);
CREATE INDEX appeals_by_ad ON appeals (ad_id);
