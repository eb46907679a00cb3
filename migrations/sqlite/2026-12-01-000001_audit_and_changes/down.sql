ALTER TABLE concerns DROP COLUMN visibility;
DROP TABLE change_sequences;
DROP TABLE changes;
DROP TABLE audit_events;
