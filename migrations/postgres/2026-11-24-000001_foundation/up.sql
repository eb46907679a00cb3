-- Families, guardians, students, the links between them, and idempotency records.
CREATE TABLE families (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT NOT NULL,
    primary_language TEXT,
    preferred_channel TEXT,
    sms_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    directory_opt_out BOOLEAN NOT NULL DEFAULT FALSE,
    address_line1 TEXT,
    address_line2 TEXT,
    address_city TEXT,
    address_region TEXT,
    address_postal_code TEXT,
    address_country TEXT,
    notes TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX families_school_id ON families (school_id, id);
CREATE UNIQUE INDEX families_external_id_key ON families (school_id, external_id)
    WHERE external_id IS NOT NULL AND archived_at IS NULL;
CREATE INDEX families_school_language ON families (school_id, primary_language, id);
CREATE INDEX families_school_updated ON families (school_id, updated_at);

CREATE TABLE guardians (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES families (id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    relationship TEXT,
    email TEXT,
    phone TEXT,
    preferred_language TEXT,
    preferred_channel TEXT,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    sms_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    contact_allowed BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX guardians_school_id ON guardians (school_id, id);
CREATE INDEX guardians_school_family ON guardians (school_id, family_id, id);
CREATE INDEX guardians_family ON guardians (family_id);

CREATE TABLE students (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES families (id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    external_id TEXT,
    grade_level TEXT,
    date_of_birth DATE,
    has_iep BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX students_school_id ON students (school_id, id);
CREATE INDEX students_school_family ON students (school_id, family_id, id);
CREATE INDEX students_family ON students (family_id);
CREATE UNIQUE INDEX students_external_id_key ON students (school_id, external_id)
    WHERE external_id IS NOT NULL AND archived_at IS NULL;

CREATE TABLE guardian_student_links (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    student_id TEXT NOT NULL REFERENCES students (id),
    guardian_id TEXT NOT NULL REFERENCES guardians (id),
    relationship TEXT,
    legal_guardian BOOLEAN NOT NULL DEFAULT FALSE,
    lives_with BOOLEAN NOT NULL DEFAULT FALSE,
    emergency_contact BOOLEAN NOT NULL DEFAULT FALSE,
    contact_priority INTEGER,
    can_view_records BOOLEAN NOT NULL DEFAULT TRUE,
    contact_restricted BOOLEAN NOT NULL DEFAULT FALSE,
    starts_on DATE,
    ends_on DATE,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX guardian_student_links_school_student ON guardian_student_links (school_id, student_id, id);
CREATE INDEX guardian_student_links_school_guardian ON guardian_student_links (school_id, guardian_id);
CREATE INDEX guardian_student_links_guardian ON guardian_student_links (guardian_id);
CREATE UNIQUE INDEX guardian_student_links_active_key ON guardian_student_links (student_id, guardian_id)
    WHERE archived_at IS NULL;

-- What a create answered, so a retry with the same Idempotency-Key replays it.
CREATE TABLE idempotency_keys (
    school_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    location TEXT,
    etag TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (school_id, principal, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
