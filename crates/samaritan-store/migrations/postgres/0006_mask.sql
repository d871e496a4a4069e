-- Wellness (issue 21): a reviewer may have explicit terms masked in the ad text the console
-- shows (off by default: the words are evidence; masking is each person's choice).
ALTER TABLE user_settings ADD COLUMN mask_explicit BIGINT NOT NULL DEFAULT 0;
