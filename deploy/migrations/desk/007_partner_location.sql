-- The partner table has every field of the registry record (services/common/registry_rows.py).
ALTER TABLE partner ADD COLUMN location_approximate boolean NOT NULL DEFAULT false;
