-- Keys bound to people (issue 22's two-person rule): `person` names the console user who holds
-- the key, so that a decision made with one of their keys and an approval made with another (or
-- in the console) count as the same person's. NULL: a service key (a platform's ingest, a
-- pipeline), which is a person of its own. Set only when the key is made (recorded in its
-- `key.create` audit entry); a key is never rebound.
ALTER TABLE api_keys ADD COLUMN person TEXT;
