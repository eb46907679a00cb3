COMMENT ON INDEX families_school_language IS NULL;
