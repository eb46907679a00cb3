-- SQLite reads the families of one language from an index that carries every column (see the
-- SQLite migration of this name). PostgreSQL keeps its index of keys: a B-tree entry there is
-- capped near 2.7 kB, below what a family's notes may hold, and an index-only scan would still
-- visit the table for every page the visibility map does not mark all-visible. This records why.
COMMENT ON INDEX families_school_language IS
    'The families of one language, in id order. Keys only: notes do not fit a B-tree entry.';
