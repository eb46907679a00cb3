-- A transition's note is `internal` (staff only) or `family`, like a comment, while the move
-- itself stays in the family's view of the concern. NULL: no note of its own visibility (every
-- other kind of entry, and transitions recorded before notes had one, whose text the entry's
-- `visibility` governs as before).
ALTER TABLE concern_events ADD COLUMN note_visibility TEXT;
