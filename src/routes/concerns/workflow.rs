//! The concern workflow as pure rules: which status moves each role may make, what a move
//! changes and what it writes into the concern's history, what counts as the school's first
//! response, when a concern is due and when overdue, and what a raise, an edit, a rating and a
//! comment may do. No HTTP and no database: the handlers load the concern, ask these rules and
//! write what they answer, so every rule is tested here on its own.

use chrono::{Duration, NaiveDateTime};

use super::wire::{
    ConcernFields, ConcernVisibility, EventKind, EventVisibility, Priority, RaisedBy, Status,
};
use crate::auth::Role;
use crate::routes::settings::ResponseHours;

/// The workflow's part of a concern: its status and the times and answer the moves set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Where it stands.
    pub status: Status,
    /// The answer given, if any.
    pub resolution: Option<String>,
    /// The school's first response.
    pub first_response_at: Option<NaiveDateTime>,
    /// When it was last resolved.
    pub resolved_at: Option<NaiveDateTime>,
    /// When it was closed.
    pub closed_at: Option<NaiveDateTime>,
}

/// A requested status move, as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The status to move to.
    pub to: Status,
    /// Why.
    pub note: Option<String>,
    /// Who may read the note (default: staff only).
    pub note_visibility: Option<EventVisibility>,
    /// The answer, when resolving.
    pub resolution: Option<String>,
}

/// An entry to write into a concern's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What happened.
    pub kind: EventKind,
    /// The value before.
    pub from: Option<String>,
    /// The value after.
    pub to: Option<String>,
    /// A note or a comment's text.
    pub body: Option<String>,
    /// Who may see the entry.
    pub visibility: EventVisibility,
    /// Who may read a transition's note, when it has one.
    pub note_visibility: Option<EventVisibility>,
}

impl Entry {
    fn new(kind: EventKind, visibility: EventVisibility) -> Entry {
        Entry {
            kind,
            from: None,
            to: None,
            body: None,
            visibility,
            note_visibility: None,
        }
    }

    fn change(mut self, from: Option<String>, to: Option<String>) -> Entry {
        self.from = from;
        self.to = to;
        self
    }
}

/// What a move does: the workflow's fields after it, and the history entry it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// The concern's status, times and answer after the move.
    pub after: Case,
    /// The transition entry.
    pub entry: Entry,
}

/// A field of the request that does not fit what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    /// The field.
    pub field: &'static str,
    /// A stable code (`required`, `unexpected`, `not_allowed`).
    pub code: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

/// Why the workflow refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may not do this at all (403).
    Forbidden(&'static str),
    /// Not a move from the concern's current status for this caller (409); `allowed` lists
    /// the moves that are.
    Illegal {
        /// What is wrong, in a sentence.
        detail: String,
        /// The legal moves.
        allowed: Vec<Status>,
    },
    /// The concern's state rules it out (409).
    Conflict(&'static str),
    /// Fields of the request that do not fit (400), all of them.
    Fields(Vec<FieldIssue>),
}

/// Roles that may close a concern that was never resolved.
fn may_close_early(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Pre)
}

/// Whether a concern is still being worked (neither resolved nor closed).
pub fn is_open(status: Status) -> bool {
    matches!(
        status,
        Status::Open | Status::Acknowledged | Status::InProgress
    )
}

/// The moves a caller of `role` may make from `from`: along open → acknowledged → in_progress →
/// resolved → closed, resolved → in_progress to reopen, and for an admin or PRE, closing an
/// open concern early. Guardians make none.
pub fn legal_moves(from: Status, role: Role) -> Vec<Status> {
    if role == Role::Guardian {
        return Vec::new();
    }
    let mut moves = match from {
        Status::Open => vec![Status::Acknowledged],
        Status::Acknowledged => vec![Status::InProgress],
        Status::InProgress => vec![Status::Resolved],
        Status::Resolved => vec![Status::Closed, Status::InProgress],
        Status::Closed => vec![],
    };
    if may_close_early(role) && is_open(from) {
        moves.push(Status::Closed);
    }
    moves
}

/// Judges a status move by a caller of `role` at `now`.
///
/// Resolving needs a `resolution` (given, or the one the concern already has) and stamps
/// `resolved_at`; reopening a resolved concern clears `resolved_at`; closing stamps `closed_at`
/// and, for a concern never resolved, needs a `note`. A `resolution` is given only when
/// resolving. A note's visibility without a note governs nothing and is not kept (a refusal
/// would be a rule the OpenAPI document cannot state, so generated clients could not know it).
/// Any move by the school is a response: the
/// first sets `first_response_at`. The entry records the move for the family (on a concern they
/// may see) and its note for staff only unless the note is `family`.
pub fn transition(
    case: &Case,
    mv: Move,
    role: Role,
    now: NaiveDateTime,
) -> Result<Effects, Refusal> {
    if role == Role::Guardian {
        return Err(Refusal::Forbidden(
            "the school moves a concern's status; guardians comment",
        ));
    }
    let from = case.status;
    let allowed = legal_moves(from, role);
    if !allowed.contains(&mv.to) {
        let detail = if mv.to == Status::Closed && is_open(from) {
            format!("only an admin or PRE may close a concern that is {from}")
        } else {
            format!("a concern cannot move from {from} to {}", mv.to)
        };
        return Err(Refusal::Illegal { detail, allowed });
    }
    let mut issues = Vec::new();
    let mut after = Case {
        status: mv.to,
        first_response_at: case.first_response_at.or(Some(now)),
        ..case.clone()
    };
    match mv.to {
        Status::Resolved => match mv.resolution.clone().or_else(|| case.resolution.clone()) {
            Some(answer) => {
                after.resolution = Some(answer);
                after.resolved_at = Some(now);
            }
            None => issues.push(FieldIssue {
                field: "resolution",
                code: "required",
                message: "is required to resolve a concern",
            }),
        },
        Status::Closed => {
            if is_open(from) && mv.note.is_none() {
                issues.push(FieldIssue {
                    field: "note",
                    code: "required",
                    message: "is required to close an unresolved concern",
                });
            }
            after.closed_at = Some(now);
        }
        Status::InProgress if from == Status::Resolved => after.resolved_at = None,
        _ => {}
    }
    if mv.resolution.is_some() && mv.to != Status::Resolved {
        issues.push(FieldIssue {
            field: "resolution",
            code: "unexpected",
            message: "is given only when resolving",
        });
    }
    if !issues.is_empty() {
        return Err(Refusal::Fields(issues));
    }
    let note_visibility = mv
        .note
        .as_ref()
        .map(|_| mv.note_visibility.unwrap_or(EventVisibility::Internal));
    let entry = Entry {
        body: mv.note,
        note_visibility,
        ..Entry::new(EventKind::Transition, EventVisibility::Family)
            .change(Some(from.to_string()), Some(mv.to.to_string()))
    };
    Ok(Effects { after, entry })
}

/// When a concern raised (or re-prioritised from its raising) at `raised_at` is due: the
/// response target of its priority later.
pub fn due_at(
    raised_at: NaiveDateTime,
    priority: Priority,
    hours: &ResponseHours,
) -> NaiveDateTime {
    let h = match priority {
        Priority::Urgent => hours.urgent,
        Priority::High => hours.high,
        Priority::Normal => hours.normal,
        Priority::Low => hours.low,
    };
    raised_at + Duration::hours(i64::from(h))
}

/// Whether a concern is overdue at `now`: strictly past `due_at` with neither a first response
/// nor a resolution.
pub fn is_overdue(
    due_at: NaiveDateTime,
    first_response_at: Option<NaiveDateTime>,
    resolved_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> bool {
    due_at < now && first_response_at.is_none() && resolved_at.is_none()
}

/// What raising a concern makes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    /// Whether the family or staff raised it.
    pub raised_by: RaisedBy,
    /// Who may see it.
    pub visibility: ConcernVisibility,
    /// Its first history entries.
    pub entries: Vec<Entry>,
}

/// Judges a new concern raised by a caller of `role`: guardians raise their family's concerns,
/// unassigned (403 otherwise) and never staff-only — a guardian who sends `visibility` at all is
/// refused (400) rather than silently given the family's view. Staff choose, `family` by default.
pub fn raise(
    role: Role,
    assignee: Option<&str>,
    visibility: Option<ConcernVisibility>,
) -> Result<Raised, Refusal> {
    let guardian = role == Role::Guardian;
    if guardian && assignee.is_some() {
        return Err(Refusal::Forbidden("guardians cannot assign concerns"));
    }
    if guardian && visibility.is_some() {
        return Err(Refusal::Fields(vec![FieldIssue {
            field: "visibility",
            code: "not_allowed",
            message: "is set by the school; a concern a guardian raises is the family's",
        }]));
    }
    let mut entries = vec![Entry::new(EventKind::Created, EventVisibility::Family)
        .change(None, Some(Status::Open.to_string()))];
    if let Some(a) = assignee {
        entries.push(
            Entry::new(EventKind::Assignment, EventVisibility::Internal)
                .change(None, Some(a.to_string())),
        );
    }
    Ok(Raised {
        raised_by: if guardian {
            RaisedBy::Family
        } else {
            RaisedBy::Staff
        },
        visibility: visibility.unwrap_or(ConcernVisibility::Family),
        entries,
    })
}

/// What a merge patch of a concern is, once judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The family's rating (audited as a rating), with its entry.
    Rating(Entry),
    /// Staff's changes, with an entry for each kind of change (all staff-only); `reprioritised`
    /// when `due_at` must be computed again.
    Fields {
        /// The history entries.
        entries: Vec<Entry>,
        /// Whether the priority changed.
        reprioritised: bool,
    },
}

/// Judges a change of a concern's fields from `before` to `after` (which differ) by a caller of
/// `role`, the concern being at `status`. A guardian only rates `satisfaction`, once, after the
/// concern is resolved (or closed); staff change everything else, never the rating.
pub fn edit(
    status: Status,
    role: Role,
    before: &ConcernFields,
    after: &ConcernFields,
) -> Result<Edit, Refusal> {
    let others_changed = ConcernFields {
        satisfaction: before.satisfaction,
        ..after.clone()
    } != *before;
    if role == Role::Guardian {
        if others_changed {
            return Err(Refusal::Forbidden("guardians may only rate satisfaction"));
        }
        if before.satisfaction.is_some() {
            return Err(Refusal::Conflict(
                "the family has already rated this concern",
            ));
        }
        if is_open(status) {
            return Err(Refusal::Conflict(
                "a concern can be rated once it is resolved",
            ));
        }
        return Ok(Edit::Rating(
            Entry::new(EventKind::Satisfaction, EventVisibility::Family)
                .change(None, after.satisfaction.map(|s| s.to_string())),
        ));
    }
    if after.satisfaction != before.satisfaction {
        return Err(Refusal::Forbidden("satisfaction is the family's to rate"));
    }
    let internal = |kind| Entry::new(kind, EventVisibility::Internal);
    let mut entries = Vec::new();
    let reprioritised = after.priority != before.priority;
    if reprioritised {
        entries.push(internal(EventKind::PriorityChange).change(
            Some(before.priority.to_string()),
            Some(after.priority.to_string()),
        ));
    }
    if after.assignee != before.assignee {
        entries.push(
            internal(EventKind::Assignment).change(before.assignee.clone(), after.assignee.clone()),
        );
    }
    if after.title != before.title
        || after.description != before.description
        || after.category != before.category
        || after.student_id != before.student_id
    {
        entries.push(internal(EventKind::Edit));
    }
    if after.visibility != before.visibility {
        entries.push(internal(EventKind::VisibilityChange).change(
            Some(before.visibility.to_string()),
            Some(after.visibility.to_string()),
        ));
    }
    Ok(Edit::Fields {
        entries,
        reprioritised,
    })
}

/// What a comment is, once judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commented {
    /// The comment, as a history entry.
    pub entry: Entry,
    /// Set when this comment is the school's first response to the family (`now`).
    pub first_response_at: Option<NaiveDateTime>,
}

/// Judges a comment by a caller of `role` at `now` on a concern whose first response is
/// `first_response_at`. Staff comments are `internal` unless asked otherwise; guardians' are
/// always the family's (asking for `internal` is refused). The first family-visible comment by
/// staff is the school's first response.
pub fn comment(
    role: Role,
    body: String,
    asked: Option<EventVisibility>,
    first_response_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Commented, Refusal> {
    let guardian = role == Role::Guardian;
    let visibility = match (guardian, asked) {
        (true, Some(EventVisibility::Internal)) => {
            return Err(Refusal::Forbidden(
                "guardians' comments are visible to the family",
            ))
        }
        (true, _) => EventVisibility::Family,
        (false, v) => v.unwrap_or(EventVisibility::Internal),
    };
    let responds = !guardian && visibility == EventVisibility::Family;
    Ok(Commented {
        entry: Entry {
            body: Some(body),
            ..Entry::new(EventKind::Comment, visibility)
        },
        first_response_at: (responds && first_response_at.is_none()).then_some(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    const STAFF: [Role; 4] = [Role::Admin, Role::Pre, Role::Teacher, Role::Counselor];

    fn t(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2030, 1, 1)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap()
    }

    fn case(status: Status) -> Case {
        Case {
            status,
            resolution: None,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
        }
    }

    fn to(to: Status) -> Move {
        Move {
            to,
            note: None,
            note_visibility: None,
            resolution: None,
        }
    }

    fn fields(issues: &Refusal) -> Vec<(&'static str, &'static str)> {
        match issues {
            Refusal::Fields(f) => f.iter().map(|i| (i.field, i.code)).collect(),
            other => panic!("not a field refusal: {other:?}"),
        }
    }

    #[test]
    fn the_legal_moves_follow_the_path_and_only_admins_and_pres_close_early() {
        use Status::*;
        for role in STAFF {
            let closer = matches!(role, Role::Admin | Role::Pre);
            let early = |mut v: Vec<Status>| {
                if closer {
                    v.push(Closed);
                }
                v
            };
            assert_eq!(legal_moves(Open, role), early(vec![Acknowledged]));
            assert_eq!(legal_moves(Acknowledged, role), early(vec![InProgress]));
            assert_eq!(legal_moves(InProgress, role), early(vec![Resolved]));
            assert_eq!(legal_moves(Resolved, role), vec![Closed, InProgress]);
            assert_eq!(legal_moves(Closed, role), vec![]);
        }
        for from in Status::ALL {
            assert_eq!(legal_moves(*from, Role::Guardian), vec![]);
        }
    }

    #[test]
    fn an_illegal_move_lists_the_legal_ones_and_says_why() {
        let r = transition(
            &case(Status::Open),
            to(Status::Resolved),
            Role::Teacher,
            t(1),
        );
        assert_eq!(
            r,
            Err(Refusal::Illegal {
                detail: "a concern cannot move from open to resolved".into(),
                allowed: vec![Status::Acknowledged],
            })
        );
        let mut mv = to(Status::Closed);
        mv.note = Some("dup".into());
        match transition(&case(Status::InProgress), mv, Role::Teacher, t(1)) {
            Err(Refusal::Illegal { detail, allowed }) => {
                assert!(detail.contains("only an admin or PRE"), "{detail}");
                assert_eq!(allowed, vec![Status::Resolved]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            transition(&case(Status::Closed), to(Status::InProgress), Role::Admin, t(1)),
            Err(Refusal::Illegal { allowed, .. }) if allowed.is_empty()
        ));
    }

    #[test]
    fn guardians_move_nothing() {
        for from in Status::ALL {
            for target in Status::ALL {
                assert!(matches!(
                    transition(&case(*from), to(*target), Role::Guardian, t(1)),
                    Err(Refusal::Forbidden(_))
                ));
            }
        }
    }

    #[test]
    fn a_move_is_the_first_response_and_the_first_stays_first() {
        let e = transition(
            &case(Status::Open),
            to(Status::Acknowledged),
            Role::Teacher,
            t(2),
        )
        .unwrap();
        assert_eq!(e.after.status, Status::Acknowledged);
        assert_eq!(e.after.first_response_at, Some(t(2)));
        let c = Case {
            first_response_at: Some(t(1)),
            ..case(Status::Acknowledged)
        };
        let e = transition(&c, to(Status::InProgress), Role::Teacher, t(3)).unwrap();
        assert_eq!(e.after.first_response_at, Some(t(1)));
        assert_eq!(
            (e.entry.kind, e.entry.from.as_deref(), e.entry.to.as_deref()),
            (
                EventKind::Transition,
                Some("acknowledged"),
                Some("in_progress")
            )
        );
        assert_eq!(e.entry.visibility, EventVisibility::Family);
        assert_eq!((e.entry.body, e.entry.note_visibility), (None, None));
    }

    #[test]
    fn resolving_needs_an_answer_and_keeps_the_one_it_has() {
        let c = case(Status::InProgress);
        let r = transition(&c, to(Status::Resolved), Role::Teacher, t(1)).unwrap_err();
        assert_eq!(fields(&r), [("resolution", "required")]);
        let mut mv = to(Status::Resolved);
        mv.resolution = Some("Moved seats".into());
        let e = transition(&c, mv, Role::Teacher, t(2)).unwrap();
        assert_eq!(e.after.resolution.as_deref(), Some("Moved seats"));
        assert_eq!(e.after.resolved_at, Some(t(2)));
        // Reopened, then resolved again with no new answer: the old one stands.
        let reopened = transition(&e.after, to(Status::InProgress), Role::Teacher, t(3)).unwrap();
        assert_eq!(reopened.after.resolved_at, None);
        assert_eq!(reopened.after.resolution.as_deref(), Some("Moved seats"));
        let again = transition(&reopened.after, to(Status::Resolved), Role::Teacher, t(4)).unwrap();
        assert_eq!(again.after.resolution.as_deref(), Some("Moved seats"));
        assert_eq!(again.after.resolved_at, Some(t(4)));
        // Closing a resolved concern keeps when it was resolved.
        let closed = transition(&again.after, to(Status::Closed), Role::Teacher, t(5)).unwrap();
        assert_eq!(
            (closed.after.resolved_at, closed.after.closed_at),
            (Some(t(4)), Some(t(5)))
        );
    }

    #[test]
    fn closing_early_needs_a_note_and_every_misplaced_field_is_named_at_once() {
        let c = case(Status::Open);
        let mut mv = to(Status::Closed);
        mv.resolution = Some("x".into());
        let r = transition(&c, mv, Role::Pre, t(1)).unwrap_err();
        assert_eq!(
            fields(&r),
            [("note", "required"), ("resolution", "unexpected")]
        );
        let mut mv = to(Status::Closed);
        mv.note = Some("duplicate".into());
        let e = transition(&c, mv, Role::Pre, t(2)).unwrap();
        assert_eq!((e.after.closed_at, e.after.resolved_at), (Some(t(2)), None));
    }

    #[test]
    fn a_note_is_internal_unless_it_is_the_familys() {
        let c = case(Status::Open);
        let mut mv = to(Status::Acknowledged);
        mv.note = Some("called the teacher".into());
        let e = transition(&c, mv.clone(), Role::Teacher, t(1)).unwrap();
        assert_eq!(e.entry.body.as_deref(), Some("called the teacher"));
        assert_eq!(e.entry.note_visibility, Some(EventVisibility::Internal));
        assert_eq!(
            e.entry.visibility,
            EventVisibility::Family,
            "the move is seen"
        );
        mv.note_visibility = Some(EventVisibility::Family);
        let e = transition(&c, mv.clone(), Role::Teacher, t(1)).unwrap();
        assert_eq!(e.entry.note_visibility, Some(EventVisibility::Family));
        // Without a note there is nothing for a visibility to govern.
        mv.note = None;
        let e = transition(&c, mv, Role::Teacher, t(1)).unwrap();
        assert_eq!((e.entry.body, e.entry.note_visibility), (None, None));
    }

    #[test]
    fn due_at_is_the_prioritys_target_after_raising() {
        let hours = ResponseHours::default();
        for (p, h) in [
            (Priority::Urgent, 4),
            (Priority::High, 24),
            (Priority::Normal, 72),
            (Priority::Low, 168),
        ] {
            assert_eq!(due_at(t(0), p, &hours), t(0) + Duration::hours(h), "{p}");
        }
        let custom = ResponseHours {
            urgent: 1,
            high: 2,
            normal: 3,
            low: 2160,
        };
        assert_eq!(due_at(t(0), Priority::Urgent, &custom), t(1));
        assert_eq!(
            due_at(t(0), Priority::Low, &custom),
            t(0) + Duration::days(90)
        );
    }

    #[test]
    fn overdue_is_strictly_past_due_with_no_response_or_resolution() {
        let due = t(4);
        assert!(!is_overdue(due, None, None, t(4)), "at due_at: not yet");
        assert!(is_overdue(due, None, None, t(4) + Duration::seconds(1)));
        assert!(!is_overdue(due, Some(t(5)), None, t(6)));
        assert!(!is_overdue(due, None, Some(t(5)), t(6)));
    }

    #[test]
    fn guardians_raise_the_familys_concerns_unassigned_and_never_choose_visibility() {
        let r = raise(Role::Guardian, None, None).unwrap();
        assert_eq!(
            (r.raised_by, r.visibility),
            (RaisedBy::Family, ConcernVisibility::Family)
        );
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.entries[0].kind, EventKind::Created);
        assert_eq!(r.entries[0].visibility, EventVisibility::Family);
        assert!(matches!(
            raise(Role::Guardian, Some("teacher-1"), None),
            Err(Refusal::Forbidden(_))
        ));
        for v in ConcernVisibility::ALL {
            let r = raise(Role::Guardian, None, Some(*v)).unwrap_err();
            assert_eq!(fields(&r), [("visibility", "not_allowed")]);
        }
        let r = raise(
            Role::Counselor,
            Some("pre-1"),
            Some(ConcernVisibility::Staff),
        )
        .unwrap();
        assert_eq!(
            (r.raised_by, r.visibility),
            (RaisedBy::Staff, ConcernVisibility::Staff)
        );
        assert_eq!(
            r.entries
                .iter()
                .map(|e| (e.kind, e.visibility, e.to.as_deref()))
                .collect::<Vec<_>>(),
            [
                (EventKind::Created, EventVisibility::Family, Some("open")),
                (
                    EventKind::Assignment,
                    EventVisibility::Internal,
                    Some("pre-1")
                )
            ]
        );
        assert_eq!(
            raise(Role::Teacher, None, None).unwrap().visibility,
            ConcernVisibility::Family
        );
    }

    fn concern_fields() -> ConcernFields {
        ConcernFields {
            student_id: None,
            category: super::super::wire::ConcernCategory::Academic,
            priority: Priority::Normal,
            title: "Homework".into(),
            description: None,
            assignee: None,
            visibility: ConcernVisibility::Family,
            satisfaction: None,
        }
    }

    #[test]
    fn the_family_rates_once_after_resolution_and_nothing_else() {
        let before = concern_fields();
        let rated = ConcernFields {
            satisfaction: Some(4),
            ..before.clone()
        };
        for open in [Status::Open, Status::Acknowledged, Status::InProgress] {
            assert!(matches!(
                edit(open, Role::Guardian, &before, &rated),
                Err(Refusal::Conflict(_))
            ));
        }
        for done in [Status::Resolved, Status::Closed] {
            match edit(done, Role::Guardian, &before, &rated) {
                Ok(Edit::Rating(e)) => {
                    assert_eq!(
                        (e.kind, e.to.as_deref()),
                        (EventKind::Satisfaction, Some("4"))
                    );
                    assert_eq!(e.visibility, EventVisibility::Family);
                }
                other => panic!("{other:?}"),
            }
        }
        let again = ConcernFields {
            satisfaction: Some(5),
            ..rated.clone()
        };
        assert!(matches!(
            edit(Status::Resolved, Role::Guardian, &rated, &again),
            Err(Refusal::Conflict(_))
        ));
        let retitled = ConcernFields {
            title: "Mine".into(),
            ..rated.clone()
        };
        assert!(matches!(
            edit(Status::Resolved, Role::Guardian, &before, &retitled),
            Err(Refusal::Forbidden(_))
        ));
        let hidden = ConcernFields {
            visibility: ConcernVisibility::Staff,
            ..before.clone()
        };
        assert!(matches!(
            edit(Status::Resolved, Role::Guardian, &before, &hidden),
            Err(Refusal::Forbidden(_))
        ));
        for role in STAFF {
            assert!(matches!(
                edit(Status::Resolved, role, &before, &rated),
                Err(Refusal::Forbidden(_))
            ));
        }
    }

    #[test]
    fn staff_edits_leave_an_internal_entry_per_kind_of_change() {
        let before = concern_fields();
        let after = ConcernFields {
            priority: Priority::Urgent,
            assignee: Some("pre-1".into()),
            title: "Reworded".into(),
            visibility: ConcernVisibility::Staff,
            ..before.clone()
        };
        match edit(Status::Open, Role::Teacher, &before, &after) {
            Ok(Edit::Fields {
                entries,
                reprioritised,
            }) => {
                assert!(reprioritised);
                assert_eq!(
                    entries
                        .iter()
                        .map(|e| (e.kind, e.from.as_deref(), e.to.as_deref()))
                        .collect::<Vec<_>>(),
                    [
                        (EventKind::PriorityChange, Some("normal"), Some("urgent")),
                        (EventKind::Assignment, None, Some("pre-1")),
                        (EventKind::Edit, None, None),
                        (EventKind::VisibilityChange, Some("family"), Some("staff")),
                    ]
                );
                assert!(entries
                    .iter()
                    .all(|e| e.visibility == EventVisibility::Internal));
            }
            other => panic!("{other:?}"),
        }
        let described = ConcernFields {
            description: Some("more".into()),
            ..before.clone()
        };
        assert_eq!(
            edit(Status::Closed, Role::Admin, &before, &described),
            Ok(Edit::Fields {
                entries: vec![Entry::new(EventKind::Edit, EventVisibility::Internal)],
                reprioritised: false
            })
        );
    }

    #[test]
    fn the_first_family_visible_staff_comment_is_the_first_response() {
        let c = comment(Role::Teacher, "calling".into(), None, None, t(1)).unwrap();
        assert_eq!(c.entry.visibility, EventVisibility::Internal);
        assert_eq!(c.first_response_at, None, "an internal note is no response");
        let c = comment(Role::Guardian, "any news?".into(), None, None, t(1)).unwrap();
        assert_eq!(c.entry.visibility, EventVisibility::Family);
        assert_eq!(
            c.first_response_at, None,
            "the family's own comment is no response"
        );
        let c = comment(
            Role::Guardian,
            "x".into(),
            Some(EventVisibility::Family),
            None,
            t(1),
        )
        .unwrap();
        assert_eq!(c.entry.visibility, EventVisibility::Family);
        assert!(matches!(
            comment(
                Role::Guardian,
                "x".into(),
                Some(EventVisibility::Internal),
                None,
                t(1)
            ),
            Err(Refusal::Forbidden(_))
        ));
        let family = Some(EventVisibility::Family);
        let c = comment(Role::Teacher, "on it".into(), family, None, t(2)).unwrap();
        assert_eq!(c.first_response_at, Some(t(2)));
        assert_eq!(
            (c.entry.kind, c.entry.body.as_deref()),
            (EventKind::Comment, Some("on it"))
        );
        let c = comment(Role::Teacher, "again".into(), family, Some(t(2)), t(3)).unwrap();
        assert_eq!(
            c.first_response_at, None,
            "the first response stays the first"
        );
    }
}
