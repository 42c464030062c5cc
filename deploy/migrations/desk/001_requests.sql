-- A desk's own database: the partner registry it received from the hub, its
-- investigators, and the requests its bureaus sent or received.

CREATE TABLE partner (
    code          char(6) PRIMARY KEY,
    name          text             NOT NULL,
    province      char(2)          NOT NULL,
    province_name text             NOT NULL,
    level         smallint         NOT NULL,
    longitude     double precision NOT NULL,
    latitude      double precision NOT NULL,
    status        text             NOT NULL,
    signed_on     date
);

CREATE TABLE registry_state (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version     integer     NOT NULL,
    received_at timestamptz NOT NULL
);

CREATE TABLE investigator (
    id           uuid PRIMARY KEY,
    token_sha256 bytea   NOT NULL UNIQUE,
    name         text    NOT NULL,
    bureau       char(6) NOT NULL,
    role         text    NOT NULL DEFAULT 'investigator',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE request (
    id              uuid PRIMARY KEY,
    requester       char(6)     NOT NULL,
    recipient       char(6)     NOT NULL,
    kind            text        NOT NULL,
    content         jsonb       NOT NULL,
    merchant_name   text        NOT NULL,
    credit_code     text,
    due_date        date,
    state           text        NOT NULL,
    reply           jsonb,
    correlation_id  text        NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      text        NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- last recipient-side event applied here (they arrive in any order)
    last_seq        integer     NOT NULL DEFAULT 0,
    idempotency_key text,
    content_sha256  bytea,
    UNIQUE (requester, idempotency_key)
);
CREATE INDEX request_outbox_idx ON request (requester, created_at DESC, id DESC);
CREATE INDEX request_inbox_idx  ON request (recipient, created_at DESC, id DESC);

-- The timeline: every change of a request is an event with a stable id.
CREATE TABLE request_event (
    event_id    uuid PRIMARY KEY,
    request_id  uuid        NOT NULL REFERENCES request (id),
    seq         integer,
    type        text        NOT NULL,
    bureau      char(6)     NOT NULL,
    actor       text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    -- when this desk learned of it (differs from occurred_at for remote events)
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    data        jsonb
);
CREATE INDEX request_event_request_idx ON request_event (request_id, occurred_at, event_id);

-- Recipient-side events that arrived ahead of their predecessor, held until it comes.
CREATE TABLE parked_event (
    request_id uuid    NOT NULL,
    seq        integer NOT NULL,
    payload    bytea   NOT NULL,
    PRIMARY KEY (request_id, seq)
);

CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    investigator_id uuid        NOT NULL,
    bureau          char(6)     NOT NULL,
    action          text        NOT NULL,
    request_id      uuid,
    correlation_id  text        NOT NULL
);
CREATE INDEX audit_log_request_idx ON audit_log (request_id, at);
