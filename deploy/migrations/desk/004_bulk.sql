-- Bulk checks: numbered items attached to a request (up to 10,000), each answered on
-- its own. Both parties' desks keep a copy; the deciding desk answers, the requester's
-- desk applies the answers it is sent.

CREATE TABLE bulk_item (
    request_id  uuid        NOT NULL REFERENCES request (id),
    idx         integer     NOT NULL CHECK (idx BETWEEN 1 AND 10000),
    kind        text        NOT NULL CHECK (kind IN ('merchant', 'shop', 'complainant')),
    -- what makes two items the same check (kind and credit code, URL or ID number)
    key         text        NOT NULL,
    data        jsonb       NOT NULL,
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'answered')),
    answer      jsonb,
    answered_at timestamptz,
    answered_by text,
    added_at    timestamptz NOT NULL,
    PRIMARY KEY (request_id, idx),
    UNIQUE (request_id, key),
    CHECK ((status = 'answered') = (answer IS NOT NULL))
);
-- counts per status, and pages of one status in item order
CREATE INDEX bulk_item_status_idx ON bulk_item (request_id, status, idx);
