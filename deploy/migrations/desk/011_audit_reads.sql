-- Reads of many requests at once (lists, escalations, group summaries) name what they
-- showed (010 made the log append-only and chained; ``detail`` is part of the chain).
ALTER TABLE audit_log ADD COLUMN detail jsonb;
