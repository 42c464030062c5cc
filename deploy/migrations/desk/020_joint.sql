-- Joint action: cases a lead bureau runs with several members. The lead's desk owns a
-- case and numbers its changes; every other participant's desk keeps the newest copy
-- it was sent (by seq) and the timeline entries, one row per seq.
CREATE TABLE joint_case (
    id             uuid PRIMARY KEY,
    lead           char(6)     NOT NULL,
    supervisor     char(6),
    state          text        NOT NULL,
    seq            integer     NOT NULL,
    snapshot       jsonb       NOT NULL,
    members        text[]      NOT NULL,  -- every bureau ever invited, for "my cases"
    correlation_id text        NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX joint_case_lead_idx ON joint_case (lead);
CREATE INDEX joint_case_members_idx ON joint_case USING gin (members);

CREATE TABLE joint_entry (
    case_id     uuid        NOT NULL REFERENCES joint_case (id),
    seq         integer     NOT NULL,
    event_id    uuid        NOT NULL UNIQUE,
    type        text        NOT NULL,
    bureau      char(6)     NOT NULL,
    actor       text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    change      jsonb       NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Tasks: assistance requests the lead sent to members for the case (lead's desk).
CREATE TABLE joint_task (
    request_id uuid PRIMARY KEY,
    case_id    uuid    NOT NULL REFERENCES joint_case (id),
    assignee   char(6) NOT NULL
);
CREATE INDEX joint_task_case_idx ON joint_task (case_id);

-- Evidence shared with a case, stored in chunks; verified when the last chunk is in.
CREATE TABLE joint_file (
    id         uuid PRIMARY KEY,
    case_id    uuid        NOT NULL REFERENCES joint_case (id),
    meta       jsonb       NOT NULL,  -- protocol.v1.joint.SharedFile
    chunks     integer     NOT NULL,
    status     text        NOT NULL,  -- receiving, complete, failed
    shared     boolean     NOT NULL DEFAULT false,  -- on the timeline (lead's desk)
    created_at timestamptz NOT NULL
);
CREATE INDEX joint_file_case_idx ON joint_file (case_id);

CREATE TABLE joint_file_chunk (
    file_id uuid    NOT NULL REFERENCES joint_file (id),
    idx     integer NOT NULL,
    data    bytea   NOT NULL,
    PRIMARY KEY (file_id, idx)
);

-- Who saw or changed which joint case (the audit log's request_id stays for requests).
ALTER TABLE audit_log ADD COLUMN joint_case_id uuid;
CREATE INDEX audit_log_joint_idx ON audit_log (joint_case_id, at) WHERE joint_case_id IS NOT NULL;
