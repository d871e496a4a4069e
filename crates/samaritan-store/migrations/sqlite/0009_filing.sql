-- Filing a report case to the CyberTipline (issue 22): each step is persisted before and after
-- its call, so a crash resumes without a duplicate report. `state` moves
-- approved → submitting → submitted (NCMEC's report id known) → finished, or to failed (with
-- the error; filing may be tried again) or retracted.
ALTER TABLE reports ADD COLUMN ncmec_report_id TEXT;
ALTER TABLE reports ADD COLUMN filing_error TEXT;
ALTER TABLE reports ADD COLUMN finished_at INTEGER;
