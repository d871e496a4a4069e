-- Keys bound to people: see the SQLite migration 0014.
ALTER TABLE api_keys ADD COLUMN person TEXT;
