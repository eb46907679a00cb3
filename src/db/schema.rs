// The tables as diesel sees them; kept in step with `migrations/`.

diesel::table! {
    families (id) {
        id -> Text,
        school_id -> Text,
        external_id -> Nullable<Text>,
        display_name -> Text,
        primary_language -> Nullable<Text>,
        preferred_channel -> Nullable<Text>,
        sms_opt_in -> Bool,
        directory_opt_out -> Bool,
        address_line1 -> Nullable<Text>,
        address_line2 -> Nullable<Text>,
        address_city -> Nullable<Text>,
        address_region -> Nullable<Text>,
        address_postal_code -> Nullable<Text>,
        address_country -> Nullable<Text>,
        notes -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    guardians (id) {
        id -> Text,
        school_id -> Text,
        family_id -> Text,
        given_name -> Text,
        family_name -> Text,
        relationship -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        preferred_language -> Nullable<Text>,
        preferred_channel -> Nullable<Text>,
        is_primary -> Bool,
        sms_opt_in -> Bool,
        contact_allowed -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    students (id) {
        id -> Text,
        school_id -> Text,
        family_id -> Text,
        given_name -> Text,
        family_name -> Text,
        external_id -> Nullable<Text>,
        grade_level -> Nullable<Text>,
        date_of_birth -> Nullable<Date>,
        has_iep -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    guardian_student_links (id) {
        id -> Text,
        school_id -> Text,
        student_id -> Text,
        guardian_id -> Text,
        relationship -> Nullable<Text>,
        legal_guardian -> Bool,
        lives_with -> Bool,
        emergency_contact -> Bool,
        contact_priority -> Nullable<Integer>,
        can_view_records -> Bool,
        contact_restricted -> Bool,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (school_id, principal, idempotency_key) {
        school_id -> Text,
        principal -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    communications (id) {
        id -> Text,
        school_id -> Text,
        family_id -> Nullable<Text>,
        student_id -> Nullable<Text>,
        guardian_id -> Nullable<Text>,
        channel -> Text,
        direction -> Text,
        category -> Text,
        subject -> Nullable<Text>,
        body -> Nullable<Text>,
        language -> Nullable<Text>,
        interpreter_used -> Bool,
        translated -> Bool,
        occurred_at -> Timestamp,
        follow_up_due_at -> Nullable<Timestamp>,
        follow_up_done_at -> Nullable<Timestamp>,
        author -> Text,
        author_role -> Text,
        visibility -> Text,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
        applicant_id -> Nullable<Text>,
    }
}

diesel::table! {
    concerns (id) {
        id -> Text,
        school_id -> Text,
        family_id -> Text,
        student_id -> Nullable<Text>,
        category -> Text,
        priority -> Text,
        title -> Text,
        description -> Nullable<Text>,
        raised_by -> Text,
        raised_by_kind -> Text,
        assignee -> Nullable<Text>,
        status -> Text,
        due_at -> Timestamp,
        first_response_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
        satisfaction -> Nullable<Integer>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        visibility -> Text,
    }
}

diesel::table! {
    concern_events (id) {
        id -> Text,
        school_id -> Text,
        concern_id -> Text,
        kind -> Text,
        actor -> Text,
        actor_role -> Text,
        from_value -> Nullable<Text>,
        to_value -> Nullable<Text>,
        body -> Nullable<Text>,
        visibility -> Text,
        created_at -> Timestamp,
        note_visibility -> Nullable<Text>,
    }
}

diesel::table! {
    school_settings (school_id) {
        school_id -> Text,
        urgent_response_hours -> Integer,
        high_response_hours -> Integer,
        normal_response_hours -> Integer,
        low_response_hours -> Integer,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    admission_stages (id) {
        id -> Text,
        school_id -> Text,
        key -> Text,
        name -> Text,
        position -> Integer,
        kind -> Text,
        checklist -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    applicants (id) {
        id -> Text,
        school_id -> Text,
        external_id -> Nullable<Text>,
        given_name -> Text,
        family_name -> Text,
        date_of_birth -> Nullable<Date>,
        applying_for_grade -> Nullable<Text>,
        entry_term -> Nullable<Text>,
        guardian_name -> Text,
        guardian_email -> Nullable<Text>,
        guardian_phone -> Nullable<Text>,
        guardian_preferred_language -> Nullable<Text>,
        guardian_relationship -> Nullable<Text>,
        guardian_sms_opt_in -> Bool,
        source -> Text,
        stage -> Text,
        stage_entered_at -> Timestamp,
        reached -> Text,
        stays -> Text,
        assignee -> Nullable<Text>,
        checklist -> Text,
        notes -> Nullable<Text>,
        family_id -> Nullable<Text>,
        student_id -> Nullable<Text>,
        guardian_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    applicant_moves (id) {
        id -> Text,
        school_id -> Text,
        applicant_id -> Text,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        note -> Nullable<Text>,
        actor -> Text,
        actor_role -> Text,
        moved_at -> Timestamp,
        left_at -> Nullable<Timestamp>,
        seconds -> Nullable<BigInt>,
    }
}

diesel::joinable!(guardians -> families (family_id));
diesel::joinable!(applicant_moves -> applicants (applicant_id));
diesel::joinable!(students -> families (family_id));
diesel::joinable!(guardian_student_links -> students (student_id));
diesel::joinable!(guardian_student_links -> guardians (guardian_id));

diesel::table! {
    audit_events (id) {
        id -> Text,
        school_id -> Text,
        occurred_at -> Timestamp,
        actor -> Text,
        actor_role -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        family_id -> Nullable<Text>,
        student_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        purpose -> Nullable<Text>,
    }
}

diesel::table! {
    changes (school_id, seq) {
        school_id -> Text,
        seq -> BigInt,
        resource_type -> Text,
        resource_id -> Text,
        external_id -> Nullable<Text>,
        operation -> Text,
        version -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    change_sequences (school_id) {
        school_id -> Text,
        last_seq -> BigInt,
    }
}

diesel::table! {
    iep_notes (id) {
        id -> Text,
        school_id -> Text,
        student_id -> Text,
        family_id -> Text,
        kind -> Text,
        title -> Nullable<Text>,
        body -> Nullable<Text>,
        meeting_date -> Nullable<Date>,
        visibility -> Text,
        author -> Text,
        author_role -> Text,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
        destroyed_at -> Nullable<Timestamp>,
        destroyed_by -> Nullable<Text>,
        destroyed_reason -> Nullable<Text>,
    }
}

diesel::table! {
    iep_action_items (id) {
        id -> Text,
        school_id -> Text,
        note_id -> Text,
        student_id -> Text,
        position -> Integer,
        description -> Text,
        owner -> Text,
        due_on -> Nullable<Date>,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        school_id -> Text,
        kind -> Text,
        title -> Text,
        description -> Nullable<Text>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        location -> Nullable<Text>,
        online_url -> Nullable<Text>,
        languages -> Text,
        interpreter_available -> Bool,
        childcare_available -> Bool,
        capacity -> Nullable<Integer>,
        waitlist -> Bool,
        audience -> Text,
        rsvp_deadline -> Nullable<Timestamp>,
        organizer -> Nullable<Text>,
        places_taken -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_audience (school_id, member_kind, member, event_id) {
        school_id -> Text,
        event_id -> Text,
        member_kind -> Text,
        member -> Text,
    }
}

diesel::table! {
    rsvps (id) {
        id -> Text,
        school_id -> Text,
        event_id -> Text,
        family_id -> Text,
        response -> Text,
        status -> Text,
        adults -> Integer,
        children -> Integer,
        needs_interpreter -> Bool,
        language -> Nullable<Text>,
        needs_childcare -> Bool,
        note -> Nullable<Text>,
        answered_by -> Text,
        waitlisted_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    attendance (id) {
        id -> Text,
        school_id -> Text,
        event_id -> Text,
        family_id -> Text,
        attended -> Bool,
        adults -> Integer,
        children -> Integer,
        recorded_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    event_feedback (id) {
        id -> Text,
        school_id -> Text,
        event_id -> Text,
        family_id -> Text,
        rating -> Integer,
        comment -> Nullable<Text>,
        given_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    event_slots (id) {
        id -> Text,
        school_id -> Text,
        event_id -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        host -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        school_id -> Text,
        event_id -> Text,
        slot_id -> Text,
        family_id -> Text,
        student_id -> Text,
        booked_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    community_resources (id) {
        id -> Text,
        school_id -> Text,
        name -> Text,
        category -> Text,
        description -> Nullable<Text>,
        languages -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        address -> Nullable<Text>,
        eligibility -> Nullable<Text>,
        cost -> Nullable<Text>,
        active -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        school_id -> Text,
        family_id -> Text,
        student_id -> Nullable<Text>,
        resource_id -> Text,
        reason -> Text,
        status -> Text,
        follow_up_due_at -> Nullable<Timestamp>,
        outcome_note -> Nullable<Text>,
        visibility -> Text,
        referred_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(iep_action_items -> iep_notes (note_id));

diesel::table! {
    clients (id) {
        id -> Text,
        school_id -> Text,
        name -> Text,
        role -> Text,
        scopes -> Nullable<Text>,
        secret_hash -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    communications,
    concern_events,
    concerns,
    school_settings,
    families,
    guardians,
    students,
    guardian_student_links,
    idempotency_keys,
    audit_events,
    changes,
    change_sequences,
    iep_notes,
    iep_action_items,
    admission_stages,
    applicants,
    applicant_moves,
    events,
    event_audience,
    rsvps,
    attendance,
    event_feedback,
    event_slots,
    bookings,
    community_resources,
    referrals,
    clients,
);
