-- SQLite reads one family's communications from an index that carries every column (see the
-- SQLite migration of this name). PostgreSQL keeps its index of keys: a B-tree entry there is
-- capped near 2.7 kB, below a body's 20,000 characters, and an index-only scan would still visit
-- the table for every page the visibility map does not mark all-visible. This records why.
COMMENT ON INDEX communications_school_family_time IS
    'One family''s communications, newest first. Keys only: a body does not fit a B-tree entry.';
