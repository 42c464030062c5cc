-- When a file chunk arrived, so that chunks whose file never became known here (its offer
-- was refused or never came) can be pruned after the retention window (issue 12).
ALTER TABLE attachment_chunk ADD COLUMN received_at timestamptz NOT NULL DEFAULT now();
