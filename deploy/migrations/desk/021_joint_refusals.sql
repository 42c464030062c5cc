-- A participant's joint-case change the lead's desk refused: kept for the asking bureau.
CREATE TABLE joint_refusal (
    command_id uuid PRIMARY KEY,
    case_id    uuid        NOT NULL REFERENCES joint_case (id),
    bureau     char(6)     NOT NULL,
    event      text        NOT NULL,
    code       text        NOT NULL,
    reason     text        NOT NULL,
    refused_at timestamptz NOT NULL
);
CREATE INDEX joint_refusal_case_idx ON joint_refusal (case_id, bureau);
