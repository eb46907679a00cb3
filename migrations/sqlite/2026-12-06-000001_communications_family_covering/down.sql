DROP INDEX communications_school_family_covering;
CREATE INDEX communications_school_family_time ON communications (school_id, family_id, occurred_at, id);
