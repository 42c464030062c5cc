-- The bureau table has every field of the registry record (services/common/registry_rows.py).
ALTER TABLE bureau ADD COLUMN location_approximate boolean NOT NULL DEFAULT false;
