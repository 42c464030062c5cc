-- SM2 signatures of timeline entries (GB/T 32918). ``signed`` is the statement the
-- deciding desk signed (the canonical body of the message that carried the change, or the
-- entry's own fields for a step that never left this desk), ``signed_by`` the region of the
-- desk whose key made ``signature``. Entries recorded before this migration stay unsigned.
ALTER TABLE request_event
    ADD COLUMN signed    text,
    ADD COLUMN signature bytea,
    ADD COLUMN signed_by text;

-- Each desk's provinces and public key, as the hub's registry last said.
CREATE TABLE desk_key (
    region      text PRIMARY KEY,
    provinces   text[] NOT NULL,
    public_key  bytea NOT NULL CHECK (length(public_key) = 64),
    received_at timestamptz NOT NULL
);
CREATE INDEX desk_key_provinces_idx ON desk_key USING gin (provinces);
