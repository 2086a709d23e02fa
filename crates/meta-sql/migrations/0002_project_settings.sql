-- Per-project ingestion policy as one JSON document (see sextant_store::ProjectSettings);
-- '{}' means every setting at its default.
ALTER TABLE projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
