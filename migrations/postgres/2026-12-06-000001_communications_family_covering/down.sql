COMMENT ON INDEX communications_school_family_time IS NULL;
