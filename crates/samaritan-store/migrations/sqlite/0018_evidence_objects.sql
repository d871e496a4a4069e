-- Preserved evidence off the database (issue 24): a sealed file's ciphertext is kept in blob
-- storage (a local directory or S3-compatible storage) under the SHA-256 of the ciphertext,
-- which this column records; such a row's `ciphertext` is empty. Rows preserved before keep
-- their ciphertext here (NULL object) and are read as they are: preserved blobs are never
-- rewritten (the trigger `blobs_unchanged`).
ALTER TABLE evidence_blobs ADD COLUMN object_sha256 TEXT;
