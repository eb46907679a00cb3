DROP INDEX guardians_external_id_key;
ALTER TABLE guardians DROP COLUMN external_id;
