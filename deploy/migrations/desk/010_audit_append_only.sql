-- The audit log is append-only: no role may change or remove a row (a trigger refuses, even
-- for the table's owner), and the services' role xiecha_desk is granted no UPDATE, DELETE
-- or TRUNCATE on it. An investigator's rows on one request are a hash chain like a
-- timeline's.
ALTER TABLE audit_log
    ADD COLUMN chain_pos integer,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea,
    ADD COLUMN hash_alg  text;
CREATE INDEX audit_log_chain_idx ON audit_log (investigator_id, request_id, chain_pos);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The role a desk's service logs in as (through a login role that is a member of it).
DO $$
BEGIN
    CREATE ROLE xiecha_desk NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- made by another database
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO xiecha_desk;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO xiecha_desk;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO xiecha_desk;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO xiecha_desk;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM xiecha_desk, PUBLIC;
