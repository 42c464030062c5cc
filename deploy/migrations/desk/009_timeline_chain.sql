-- Each request's timeline is a hash chain: an entry's hash covers the entry before it
-- (services/desk/domain/chain.py). Entries recorded before this migration stay unchained.
ALTER TABLE request_event
    ADD COLUMN chain_pos integer,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea,
    ADD COLUMN hash_alg  text;
CREATE UNIQUE INDEX request_event_chain_idx ON request_event (request_id, chain_pos);

-- The algorithm new chains start with (the desk writes its setting here at start).
CREATE TABLE timeline_chain_config (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    algorithm text NOT NULL DEFAULT 'sm3' CHECK (algorithm IN ('sm3', 'sha256'))
);
INSERT INTO timeline_chain_config DEFAULT VALUES;
