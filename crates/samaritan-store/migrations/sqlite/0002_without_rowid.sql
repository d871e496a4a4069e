-- Identifiers and network memberships are short rows found by their keys. As WITHOUT ROWID
-- tables each row is stored once, in its primary-key b-tree, instead of in a rowid table plus
-- a separate key index: one b-tree fewer to write per row on every ingest (identifiers are the
-- most written rows, several per ad). Same columns and meaning; PostgreSQL needs no change.

CREATE TABLE identifiers_v2 (
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    ad_id           TEXT NOT NULL,
    PRIMARY KEY (kind, value, ad_id)
) WITHOUT ROWID;
INSERT INTO identifiers_v2 (kind, value, ad_id) SELECT kind, value, ad_id FROM identifiers;
DROP TABLE identifiers;
ALTER TABLE identifiers_v2 RENAME TO identifiers;
CREATE INDEX identifiers_by_ad ON identifiers (ad_id);

CREATE TABLE network_members_v2 (
    ad_id           TEXT PRIMARY KEY NOT NULL,
    network_id      TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO network_members_v2 (ad_id, network_id) SELECT ad_id, network_id FROM network_members;
DROP TABLE network_members;
ALTER TABLE network_members_v2 RENAME TO network_members;
CREATE INDEX network_members_by_network ON network_members (network_id, ad_id);
