-- Broadcast requests: one request to many partners, tracked as a group of children.
CREATE TABLE request_group (
    id              uuid PRIMARY KEY,
    requester       char(6)     NOT NULL,
    kind            text        NOT NULL,
    content         jsonb       NOT NULL,
    target          jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      text        NOT NULL,
    idempotency_key text,
    content_sha256  bytea       NOT NULL,
    UNIQUE (requester, idempotency_key)
);
CREATE INDEX request_group_idx ON request (group_id) WHERE group_id IS NOT NULL;
