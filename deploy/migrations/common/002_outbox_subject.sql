-- Who sends each outbox message and which request it concerns, so that a hook run on
-- the broker's confirm (the desk records 'sent') reads them without parsing payloads.
ALTER TABLE outbox ADD COLUMN sender text, ADD COLUMN request_id uuid;
