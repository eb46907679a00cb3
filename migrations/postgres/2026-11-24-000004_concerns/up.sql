-- Concerns a family or staff member raised, worked as cases from open to closed.
CREATE TABLE concerns (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES families (id),
    student_id TEXT REFERENCES students (id),
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    raised_by TEXT NOT NULL,
    raised_by_kind TEXT NOT NULL,
    assignee TEXT,
    status TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    first_response_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    resolution TEXT,
    satisfaction INTEGER,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX concerns_school_id ON concerns (school_id, id);
CREATE INDEX concerns_school_family ON concerns (school_id, family_id, created_at, id);
CREATE INDEX concerns_school_assignee ON concerns (school_id, assignee, id);
CREATE INDEX concerns_school_status ON concerns (school_id, status, id);
-- Concerns with neither a first response nor a resolution, newest first: the overdue queue
-- reads this in list order (due_at alongside, so it is judged without the row) and stops after
-- a page.
CREATE INDEX concerns_school_unanswered ON concerns (school_id, id, due_at)
    WHERE first_response_at IS NULL AND resolved_at IS NULL;

-- Everything that happened to a concern: creation, transitions, assignments, priority changes,
-- comments, the family's rating.
CREATE TABLE concern_events (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    concern_id TEXT NOT NULL REFERENCES concerns (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    body TEXT,
    visibility TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX concern_events_school_concern ON concern_events (school_id, concern_id, id);

-- A school's settings; a school without a row has the defaults.
CREATE TABLE school_settings (
    school_id TEXT PRIMARY KEY NOT NULL,
    urgent_response_hours INTEGER NOT NULL,
    high_response_hours INTEGER NOT NULL,
    normal_response_hours INTEGER NOT NULL,
    low_response_hours INTEGER NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
