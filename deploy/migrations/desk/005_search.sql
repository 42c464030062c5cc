-- Search and filters for investigators, fast at a million requests per desk.
-- Every list is one party's box, newest first, keyset-paginated on (created_at, id);
-- each index below starts with the party column so a box is one index range.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX request_inbox_state_idx  ON request (recipient, state, created_at DESC, id DESC);
CREATE INDEX request_outbox_state_idx ON request (requester, state, created_at DESC, id DESC);
CREATE INDEX request_inbox_from_idx   ON request (recipient, requester, created_at DESC, id DESC);
CREATE INDEX request_outbox_to_idx    ON request (requester, recipient, created_at DESC, id DESC);
CREATE INDEX request_credit_code_idx  ON request (credit_code, created_at DESC);
CREATE INDEX request_merchant_trgm_idx ON request USING gin (merchant_name gin_trgm_ops);
