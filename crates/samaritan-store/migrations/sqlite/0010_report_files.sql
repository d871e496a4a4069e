-- Files filed with a CyberTipline report (issue 22): each image is uploaded (`/upload` gives
-- NCMEC's file id), then described (`/fileinfo`); both steps are recorded before the next call,
-- per NCMEC report id, so a resume knows what that report already holds. `lease_until` is when
-- the filer that took the last step is surely done with it (its client's timeout): before then
-- another filer leaves the case alone.
ALTER TABLE reports ADD COLUMN lease_until INTEGER;
CREATE TABLE report_files (
    report_id       INTEGER NOT NULL,
    ncmec_report_id TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    file_id         TEXT NOT NULL,
    md5             TEXT,
    uploaded_at     INTEGER NOT NULL,
    described_at    INTEGER,
    PRIMARY KEY (report_id, ncmec_report_id, sha256)
);
