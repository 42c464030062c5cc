-- Evidence files on requests and replies.
--
-- Stored in the desk's own database as 256 KiB bytea chunks: a file commits in the
-- same transaction as its audit entry and the outbox messages that carry it to the
-- other party's desk, is backed up and restored with the requests it belongs to, and
-- there is no second store (file system, object store) to keep consistent with this
-- one. 20 MiB files in 256 KiB rows stay far below PostgreSQL's 1 GB value limit and
-- are read back one chunk at a time.

CREATE TABLE attachment (
    id                 uuid PRIMARY KEY,
    request_id         uuid        NOT NULL REFERENCES request (id),
    name               text        NOT NULL,
    media_type         text        NOT NULL,
    size               bigint      NOT NULL CHECK (size > 0),
    sha256             bytea       NOT NULL CHECK (length(sha256) = 32),
    chunks             integer     NOT NULL CHECK (chunks > 0),
    -- 'request': the requester's evidence; 'reply': the recipient's
    purpose            text        NOT NULL CHECK (purpose IN ('request', 'reply')),
    uploaded_by_bureau char(6)     NOT NULL,
    uploaded_by        text        NOT NULL,
    uploaded_at        timestamptz NOT NULL,
    -- every chunk is here and the whole matched sha256 (at upload, or on receipt)
    complete           boolean     NOT NULL DEFAULT false,
    completed_at       timestamptz,
    -- set when the received chunks did not add up to sha256; never served then
    failed_reason      text,
    CHECK (NOT (complete AND failed_reason IS NOT NULL))
);
CREATE INDEX attachment_request_idx ON attachment (request_id, uploaded_at, id);

-- No foreign key to attachment: over the bus a chunk may arrive before its offer.
CREATE TABLE attachment_chunk (
    attachment_id uuid    NOT NULL,
    idx           integer NOT NULL CHECK (idx >= 0),
    data          bytea   NOT NULL,
    PRIMARY KEY (attachment_id, idx)
);
-- PDFs, JPEGs, PNGs and office files are compressed already: store out of line as is.
ALTER TABLE attachment_chunk ALTER COLUMN data SET STORAGE EXTERNAL;

-- Which file an audited upload or download was about.
ALTER TABLE audit_log ADD COLUMN attachment_id uuid;
