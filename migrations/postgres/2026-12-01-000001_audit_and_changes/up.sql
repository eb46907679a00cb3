-- Audit events and change records are never changed or removed, whatever the client.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;

-- Every write, recorded in the write's own transaction: who did what to which record, when,
-- from which request and why. Append-only.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    family_id TEXT,
    student_id TEXT,
    request_id TEXT,
    purpose TEXT
);
-- Newest first, school-wide and by record, actor, family and student (the access log).
CREATE INDEX audit_events_school_time ON audit_events (school_id, occurred_at, id);
CREATE INDEX audit_events_school_resource ON audit_events (school_id, resource_id, occurred_at, id);
CREATE INDEX audit_events_school_actor ON audit_events (school_id, actor, occurred_at, id);
CREATE INDEX audit_events_school_family ON audit_events (school_id, family_id, occurred_at, id)
    WHERE family_id IS NOT NULL;
CREATE INDEX audit_events_school_student ON audit_events (school_id, student_id, occurred_at, id)
    WHERE student_id IS NOT NULL;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The change feed: every create, update and archive, numbered per school in commit order.
-- A write takes its numbers in its own transaction, just before it commits: on PostgreSQL from
-- its school's row in change_sequences, whose lock serialises the appends; SQLite has one
-- writer, which numbers on from the highest seq written.
CREATE TABLE changes (
    school_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    external_id TEXT,
    operation TEXT NOT NULL,
    version BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (school_id, seq)
);
CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE TABLE change_sequences (
    school_id TEXT PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL
);

-- A concern staff keep among themselves (`staff`) is never shown to a guardian.
ALTER TABLE concerns ADD COLUMN visibility TEXT NOT NULL DEFAULT 'family';
