-- Messages of the ads stream (issue 24) that the linker could not take in after its attempts:
-- kept whole with the last error, so nothing is lost and nothing loops. One row per stream
-- sequence (parking the same message again changes nothing).
CREATE TABLE stream_parked (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    subject TEXT NOT NULL,
    msg_id TEXT,
    payload BLOB NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    parked_at INTEGER NOT NULL,
    UNIQUE (stream, seq)
);
