DROP INDEX communications_school_applicant_time;
ALTER TABLE communications DROP COLUMN applicant_id;
DELETE FROM communications WHERE family_id IS NULL;
ALTER TABLE communications ALTER COLUMN family_id SET NOT NULL;
DROP TABLE applicant_moves;
DROP TABLE applicants;
DROP TABLE admission_stages;
