-- Notes that staff and parents write together around a student's IEP. Every read of them is
-- audited. `title` and `body` are NULL only in a tombstone: a note whose content was destroyed
-- on request (IDEA 34 CFR 300.624), which keeps its id, kind, dates and who destroyed it, when
-- and why.
CREATE TABLE iep_notes (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    student_id TEXT NOT NULL REFERENCES students (id),
    family_id TEXT NOT NULL REFERENCES families (id),
    kind TEXT NOT NULL,
    title TEXT,
    body TEXT,
    meeting_date DATE,
    visibility TEXT NOT NULL,
    author TEXT NOT NULL,
    author_role TEXT NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP,
    destroyed_at TIMESTAMP,
    destroyed_by TEXT,
    destroyed_reason TEXT
);
-- A student's notes newest first; a family's shared notes on its timeline.
CREATE INDEX iep_notes_school_student ON iep_notes (school_id, student_id, id);
CREATE INDEX iep_notes_school_family_time ON iep_notes (school_id, family_id, created_at, id);

-- The action items of a note, in the note's order: part of the note (written with it, erased
-- with its content), in a table of their own so that open items are listed across students.
CREATE TABLE iep_action_items (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    note_id TEXT NOT NULL REFERENCES iep_notes (id),
    student_id TEXT NOT NULL REFERENCES students (id),
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_on DATE,
    done_at TIMESTAMP,
    done_by TEXT
);
CREATE INDEX iep_action_items_school_note ON iep_action_items (school_id, note_id, position);
CREATE INDEX iep_action_items_school_open ON iep_action_items (school_id, owner, id)
    WHERE done_at IS NULL;
