-- Guardians get the SIS's id, as families and students have: bulk imports find a guardian by
-- it (to update rather than duplicate), and links name their adult by it.
ALTER TABLE guardians ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX guardians_external_id_key ON guardians (school_id, external_id)
    WHERE external_id IS NOT NULL AND archived_at IS NULL;
