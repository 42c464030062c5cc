-- When an event was counted: housekeeping forgets event ids by this, not by when the
-- event happened (history loaded today may have happened years ago).
ALTER TABLE counted_event ADD COLUMN counted_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX counted_event_age_idx ON counted_event (counted_at);
