ALTER TABLE concern_events DROP COLUMN note_visibility;
