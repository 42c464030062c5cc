-- The counters' version as one number per shard: a counting transaction bumps the shard
-- of its connection (backend pid mod 16), so the hub's concurrent consumers no longer
-- queue on one row from their counting statement to their commit (measured: about 600
-- counting transactions/s at concurrency 16 with one row, about 830 without the bump).
-- A kept statistics answer is valid while the whole vector is what it was read at.
DROP TABLE stat_version;
CREATE TABLE stat_version (
    shard   smallint PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO stat_version (shard, version) SELECT s, 1 FROM generate_series(0, 15) AS s;

-- and tells listeners "shard:version" when the transaction commits (per shard, in commit
-- order: a shard's writers take its row one after the other)
CREATE OR REPLACE FUNCTION stat_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s smallint := pg_backend_pid() % 16; v bigint;
BEGIN
    UPDATE stat_version SET version = version + 1 WHERE shard = s RETURNING version INTO v;
    PERFORM pg_notify('stat_version', s || ':' || v);
    RETURN NULL;
END $$;
