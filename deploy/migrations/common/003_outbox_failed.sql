-- Outbox rows that can never be published (say, for an exchange the topology does not
-- have), moved aside with the reason so that they do not block the rows after them.
CREATE TABLE outbox_failed (LIKE outbox);
ALTER TABLE outbox_failed ADD COLUMN reason text NOT NULL,
    ADD COLUMN failed_at timestamptz NOT NULL DEFAULT now();
