-- Comparisons of a request's chain with the other party's desk (``verify``): the question
-- this desk sent (chain.requested) and the answer that came back (chain.answered).
CREATE TABLE chain_check (
    check_id    uuid PRIMARY KEY,
    request_id  uuid NOT NULL,
    asked_of    text NOT NULL,
    asked_at    timestamptz NOT NULL,
    answered_at timestamptz,
    answer      jsonb
);
