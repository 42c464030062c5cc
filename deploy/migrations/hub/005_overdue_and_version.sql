-- The overdue gauge's per-request half: a request the deadline watch marked overdue
-- (open) until its ending event arrives, or an ending event that arrived before its mark
-- (not open) until the mark does; either way the pair removes the row.
CREATE TABLE overdue_request (
    request_id uuid PRIMARY KEY,
    requester  char(6) NOT NULL,
    recipient  char(6) NOT NULL,
    kind       text,
    marked_on  date    NOT NULL,
    open       boolean NOT NULL
);

-- A number that moves whenever a figure may have moved (the counters, the registry), in
-- the same transaction: the statistics API caches answers by it.
CREATE TABLE stat_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO stat_version (version) VALUES (1);

-- and tells listeners the new number when the transaction commits (in commit order)
CREATE FUNCTION stat_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
    UPDATE stat_version SET version = version + 1 RETURNING version INTO v;
    PERFORM pg_notify('stat_version', v::text);
    RETURN NULL;
END $$;

-- statement-level: one bump per counted event (stat_total is written last) or load
CREATE TRIGGER stat_total_bumps AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stat_total
    FOR EACH STATEMENT EXECUTE FUNCTION stat_version_bump();
CREATE TRIGGER registry_bumps AFTER INSERT OR UPDATE OR DELETE ON registry_state
    FOR EACH STATEMENT EXECUTE FUNCTION stat_version_bump();
