-- When an event was parked, so that old ones (a predecessor that never came) are reported.
ALTER TABLE parked_event ADD COLUMN parked_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX parked_event_age_idx ON parked_event (parked_at);
