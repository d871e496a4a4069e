-- A decision is bound to what it judged: the ad's revision and content digest at the time, how
-- the decider held the item (`claim`, or a lead's `override`), and the decision it replaced.
-- Decisions recorded before this migration keep revision 0 and an empty digest (unknown).
-- Keep in step with ../sqlite/0003_decision_binding.sql.
ALTER TABLE decisions ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN digest TEXT NOT NULL DEFAULT '';
ALTER TABLE decisions ADD COLUMN basis TEXT NOT NULL DEFAULT 'claim';
ALTER TABLE decisions ADD COLUMN supersedes BIGINT;
