-- Engagement: events and workshops with their audience, RSVPs, attendance and feedback,
-- conference slots and their bookings; the community resources directory and referrals.

-- `languages` and `audience` hold JSON (a list of BCP 47 tags; the audience object as sent).
-- `places_taken` counts the families with a confirmed yes: an RSVP takes a place by a guarded
-- update (`places_taken < capacity`), so two families racing for the last place cannot both
-- get it on either backend. `cancelled_at` is set by DELETE: the event and its RSVPs stay.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    location TEXT,
    online_url TEXT,
    languages TEXT NOT NULL,
    interpreter_available BOOLEAN NOT NULL,
    childcare_available BOOLEAN NOT NULL,
    capacity INTEGER,
    waitlist BOOLEAN NOT NULL,
    audience TEXT NOT NULL,
    rsvp_deadline TIMESTAMP,
    organizer TEXT,
    places_taken INTEGER NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    cancelled_at TIMESTAMP
);
CREATE INDEX events_school_starts ON events (school_id, starts_at, id);

-- Who an event is for, one row per member of its audience: (`school`, ''), (`grade`, '5'),
-- (`language`, 'es') or (`family`, <id>). Written with the event; a guardian's list of events
-- is one indexed lookup of their family, their children's grades and their languages.
CREATE TABLE event_audience (
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    member_kind TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (school_id, member_kind, member, event_id)
);
CREATE INDEX event_audience_event ON event_audience (school_id, event_id);

-- A family's answer to an invitation: one per family and event. `status` is `confirmed`
-- (a yes that holds a place, or any no/maybe) or `waitlisted` (a yes beyond capacity, promoted
-- in order of `waitlisted_at` when a place frees).
CREATE TABLE rsvps (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    family_id TEXT NOT NULL REFERENCES families (id),
    response TEXT NOT NULL,
    status TEXT NOT NULL,
    adults INTEGER NOT NULL,
    children INTEGER NOT NULL,
    needs_interpreter BOOLEAN NOT NULL,
    language TEXT,
    needs_childcare BOOLEAN NOT NULL,
    note TEXT,
    answered_by TEXT NOT NULL,
    waitlisted_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX rsvps_event_family ON rsvps (school_id, event_id, family_id);
CREATE INDEX rsvps_family ON rsvps (school_id, family_id, created_at, id);
CREATE INDEX rsvps_waitlist ON rsvps (school_id, event_id, waitlisted_at, id)
    WHERE status = 'waitlisted';

-- Who came, recorded by staff (also for families that did not answer).
CREATE TABLE attendance (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    family_id TEXT NOT NULL REFERENCES families (id),
    attended BOOLEAN NOT NULL,
    adults INTEGER NOT NULL,
    children INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX attendance_event_family ON attendance (school_id, event_id, family_id);
CREATE INDEX attendance_family ON attendance (school_id, family_id, created_at, id);

-- A family's feedback on an event, once (the unique index holds it to once under races too).
CREATE TABLE event_feedback (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    family_id TEXT NOT NULL REFERENCES families (id),
    rating INTEGER NOT NULL,
    comment TEXT,
    given_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX event_feedback_event_family ON event_feedback (school_id, event_id, family_id);

-- Conference slots of an event, each with its host.
CREATE TABLE event_slots (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    host TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX event_slots_event ON event_slots (school_id, event_id, starts_at, id);

-- A slot booked for a child. A released booking keeps its row (`released_at`); the partial
-- unique indexes hold a slot to one live booking and a child to one live booking per event,
-- so of two guardians racing for a slot exactly one wins on either backend.
CREATE TABLE bookings (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    slot_id TEXT NOT NULL REFERENCES event_slots (id),
    family_id TEXT NOT NULL REFERENCES families (id),
    student_id TEXT NOT NULL REFERENCES students (id),
    booked_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    released_at TIMESTAMP
);
CREATE UNIQUE INDEX bookings_slot_live ON bookings (school_id, slot_id) WHERE released_at IS NULL;
CREATE UNIQUE INDEX bookings_student_live ON bookings (school_id, event_id, student_id)
    WHERE released_at IS NULL;
CREATE INDEX bookings_family ON bookings (school_id, family_id, created_at, id);

-- The school's directory of community services.
CREATE TABLE community_resources (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT,
    languages TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    website TEXT,
    address TEXT,
    eligibility TEXT,
    cost TEXT,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX community_resources_school ON community_resources (school_id, id);

-- A family connected to a resource, followed up to an outcome.
CREATE TABLE referrals (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES families (id),
    student_id TEXT REFERENCES students (id),
    resource_id TEXT NOT NULL REFERENCES community_resources (id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    follow_up_due_at TIMESTAMP,
    outcome_note TEXT,
    visibility TEXT NOT NULL,
    referred_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX referrals_school ON referrals (school_id, id);
CREATE INDEX referrals_family ON referrals (school_id, family_id, id);
