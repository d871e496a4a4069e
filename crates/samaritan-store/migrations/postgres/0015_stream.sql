-- Parked messages of the ads stream: see the SQLite migration 0016.
CREATE TABLE stream_parked (
    id BIGSERIAL PRIMARY KEY,
    stream TEXT NOT NULL,
    seq BIGINT NOT NULL,
    subject TEXT NOT NULL,
    msg_id TEXT,
    payload BYTEA NOT NULL,
    error TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    parked_at BIGINT NOT NULL,
    UNIQUE (stream, seq)
);
