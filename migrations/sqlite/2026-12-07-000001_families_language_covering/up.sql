-- The families of one language (`GET /v1/families?primary_language=`, a page in id order) are
-- read from this index alone. With the index of keys only, each family of the page was one more
-- lookup in the table: 51 seeks, most of them a page read from the OS, when the readers' caches
-- cannot hold the school. An index that carries every column serves the page from a few
-- adjacent leaf pages (SEARCH ... USING COVERING INDEX). It costs each write to a family a larger
-- index entry and the table's size again on disk.
-- Every column of `families` must be in it (the rowid is implicit): a column added later and
-- left out would quietly send each row back to the table (a test checks).
DROP INDEX families_school_language;
CREATE INDEX families_school_language_covering ON families (school_id, primary_language, id,
    external_id, display_name, preferred_channel, sms_opt_in, directory_opt_out, address_line1,
    address_line2, address_city, address_region, address_postal_code, address_country, notes,
    version, created_at, updated_at, archived_at);
