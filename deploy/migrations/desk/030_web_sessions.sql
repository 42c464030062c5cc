-- Browser sessions of investigators (services/desk/sessions): only a SHA-256 of the
-- cookie's value is stored; each session carries its own CSRF token.
CREATE TABLE web_session (
    id_sha256       bytea PRIMARY KEY,
    investigator_id uuid        NOT NULL REFERENCES investigator (id) ON DELETE CASCADE,
    csrf            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX web_session_expires ON web_session (expires_at);
