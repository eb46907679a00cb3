-- casefold(text): the case folding that name searches use. On SQLite the service supplies it
-- on each connection (SQLite's own lower() folds only ASCII).
CREATE FUNCTION casefold(t TEXT) RETURNS TEXT AS $$ SELECT lower(t) $$ LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;
