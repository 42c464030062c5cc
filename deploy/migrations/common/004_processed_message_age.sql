-- Housekeeping forgets processed message ids by age (services/common/housekeeping.py).
CREATE INDEX processed_message_age_idx ON processed_message (processed_at);
