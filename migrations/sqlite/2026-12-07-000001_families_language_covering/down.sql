DROP INDEX families_school_language_covering;
CREATE INDEX families_school_language ON families (school_id, primary_language, id);
