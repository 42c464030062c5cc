-- Linking a chained row in one round trip instead of two or three (issue 14): take the
-- chain's lock, then read its last row. A VOLATILE function's statements each take a
-- fresh snapshot, so the read sees every row committed by whoever held the lock before
-- (one statement with the lock and the read inside would read from before the wait).

-- The timeline of one request: its last chained entry, else position 0 and the algorithm
-- a new chain starts with. The lock is the one services/desk/store/chain.py took before.
CREATE FUNCTION timeline_chain_tail(rid uuid, OUT pos integer, OUT last_hash bytea,
                                    OUT alg text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(rid::text, 9));
    SELECT e.chain_pos, e.hash, e.hash_alg INTO pos, last_hash, alg FROM request_event e
     WHERE e.request_id = rid AND e.chain_pos IS NOT NULL ORDER BY e.chain_pos DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT 0, NULL, c.algorithm INTO pos, last_hash, alg FROM timeline_chain_config c;
    END IF;
END $$;

-- An investigator's audit rows on one request (request id NULL: its rows on none), with
-- the transaction's time, which the row's hash covers.
CREATE FUNCTION audit_chain_tail(inv uuid, rid uuid, OUT pos integer,
                                 OUT last_hash bytea, OUT alg text, OUT at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(
        hashtextextended(inv::text || ' ' || coalesce(rid::text, 'None'), 10));
    at := now();
    SELECT a.chain_pos, a.hash, a.hash_alg INTO pos, last_hash, alg FROM audit_log a
     WHERE a.investigator_id = inv AND a.request_id IS NOT DISTINCT FROM rid
       AND a.chain_pos IS NOT NULL ORDER BY a.chain_pos DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT 0, NULL, c.algorithm INTO pos, last_hash, alg FROM timeline_chain_config c;
    END IF;
END $$;
