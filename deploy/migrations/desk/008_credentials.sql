-- Credentials that expire and can be revoked; a rotation replaces the token's hash.
ALTER TABLE investigator
    ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '90 days',
    ADD COLUMN revoked_at timestamptz;
