//! The rules of IEP notes as pure functions: what a guardian may write, what an edit may change
//! for whom, and how action items keep their ids and who marked them done. No HTTP and no
//! database: the handlers load the note, ask these rules and write what they answer.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use uuid::Uuid;

use super::wire::{
    ActionItemInput, IepNoteFields, IepNoteInput, NoteKind, NoteVisibility, FAMILY_OWNER,
};
use crate::ids::ActionItemId;

/// Why a rule refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may not do this (403).
    Forbidden(&'static str),
    /// A field that does not fit (400): the field, a stable code and a message.
    Field(String, &'static str, &'static str),
}

/// A client's time as both databases keep it: to the microsecond.
pub fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

/// A `parent_input` note is the family's voice: it is always shared with the family, whoever
/// writes it.
fn check_parent_input_shared(kind: NoteKind, visibility: NoteVisibility) -> Result<(), Refusal> {
    if kind == NoteKind::ParentInput && visibility == NoteVisibility::Staff {
        return Err(Refusal::Field(
            "visibility".into(),
            "not_allowed",
            "a parent_input note is always shared with the family",
        ));
    }
    Ok(())
}

/// Judges a new note and settles its visibility. A guardian writes only `parent_input`, with
/// no action items (the school sets those), always shared with the family (`staff` is a 400).
/// Staff notes are `staff` unless they say `family`.
pub fn create(input: &IepNoteInput, guardian: bool) -> Result<NoteVisibility, Refusal> {
    if guardian {
        if input.visibility == Some(NoteVisibility::Staff) {
            return Err(Refusal::Field(
                "visibility".into(),
                "not_allowed",
                "a guardian's note is shared with their family; `staff` is for the school's own notes",
            ));
        }
        if input.kind != NoteKind::ParentInput {
            return Err(Refusal::Forbidden(
                "guardians write only parent_input notes",
            ));
        }
        if !input.action_items.is_empty() {
            return Err(Refusal::Forbidden("the school sets a note's action items"));
        }
        return Ok(NoteVisibility::Family);
    }
    let visibility = input.visibility.unwrap_or(match input.kind {
        NoteKind::ParentInput => NoteVisibility::Family,
        _ => NoteVisibility::Staff,
    });
    check_parent_input_shared(input.kind, visibility)?;
    check_item_ids(&input.action_items, &[])?;
    Ok(visibility)
}

/// Who is editing, as the edit rules need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// A member of staff with `iep:write`.
    Staff,
    /// A guardian; `own` when the note is a `parent_input` note they wrote.
    Guardian {
        /// Whether the note is their own parent input.
        own: bool,
    },
}

/// Judges an edit from `before` to `after`. Staff change anything (a `parent_input` note stays
/// shared with the family; an item's `id` must be one of the note's). A guardian changes the
/// title, body and meeting date of their own parent input, and the `done_at` of items the family
/// owes, nothing else (403).
pub fn edit(
    editor: Editor,
    before: &IepNoteFields,
    after: &IepNoteFields,
    existing: &[ActionItemId],
) -> Result<(), Refusal> {
    check_parent_input_shared(after.kind, after.visibility)?;
    check_item_ids(&after.action_items, existing)?;
    let Editor::Guardian { own } = editor else {
        return Ok(());
    };
    if after.kind != before.kind || after.visibility != before.visibility {
        return Err(Refusal::Forbidden(
            "the school sets a note's kind and visibility",
        ));
    }
    let content_changed = after.title != before.title
        || after.body != before.body
        || after.meeting_date != before.meeting_date;
    if content_changed && !own {
        return Err(Refusal::Forbidden(
            "guardians edit only the parent input they wrote",
        ));
    }
    let same_items = after.action_items.len() == before.action_items.len()
        && before
            .action_items
            .iter()
            .zip(&after.action_items)
            .all(|(b, a)| {
                a.id == b.id
                    && a.description == b.description
                    && a.owner == b.owner
                    && a.due_on == b.due_on
                    && (a.done_at == b.done_at || b.owner == FAMILY_OWNER)
            });
    if !same_items {
        return Err(Refusal::Forbidden(
            "guardians only mark done the action items the family owes",
        ));
    }
    Ok(())
}

/// Every given item id must be one of the note's items (`existing`), each at most once.
fn check_item_ids(items: &[ActionItemInput], existing: &[ActionItemId]) -> Result<(), Refusal> {
    let mut seen: Vec<Uuid> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(id) = item.id else { continue };
        if !existing.contains(&ActionItemId(id)) {
            return Err(Refusal::Field(
                format!("action_items[{i}].id"),
                "not_found",
                "is not an item of this note; leave `id` out for a new item",
            ));
        }
        if seen.contains(&id) {
            return Err(Refusal::Field(
                format!("action_items[{i}].id"),
                "duplicate",
                "names an item given earlier in the list",
            ));
        }
        seen.push(id);
    }
    Ok(())
}

/// An action item as it is to be stored: its id, fields, and who marked it done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its id (kept from the note's item it names, else new).
    pub id: ActionItemId,
    /// What is to be done.
    pub description: String,
    /// Who owes it.
    pub owner: String,
    /// When it is due.
    pub due_on: Option<chrono::NaiveDate>,
    /// When it was done.
    pub done_at: Option<NaiveDateTime>,
    /// Who marked it done.
    pub done_by: Option<String>,
}

/// The items to store after a write by `by`: an item keeps its id when it names one, and its
/// `done_by` while its `done_at` stays; a `done_at` newly set (or changed) is by `by`; an open
/// item has no `done_by`.
pub fn items_after(before: &[Item], after: Vec<ActionItemInput>, by: &str) -> Vec<Item> {
    after
        .into_iter()
        .map(|input| {
            let done_at = input.done_at.map(stored);
            let old = input
                .id
                .and_then(|id| before.iter().find(|b| b.id == ActionItemId(id)));
            let done_by = match (done_at, old) {
                (None, _) => None,
                (Some(at), Some(old)) if old.done_at == Some(at) => old.done_by.clone(),
                (Some(_), _) => Some(by.to_string()),
            };
            Item {
                id: input.id.map_or_else(ActionItemId::new, ActionItemId),
                description: input.description,
                owner: input.owner,
                due_on: input.due_on,
                done_at,
                done_by,
            }
        })
        .collect()
}

/// The items as a merge patch sees them.
pub fn item_inputs(items: &[Item]) -> Vec<ActionItemInput> {
    items
        .iter()
        .map(|i| ActionItemInput {
            id: Some(i.id.uuid()),
            description: i.description.clone(),
            owner: i.owner.clone(),
            due_on: i.due_on,
            done_at: i.done_at.map(|t| t.and_utc()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn item(owner: &str) -> ActionItemInput {
        ActionItemInput {
            id: None,
            description: "Read nightly".into(),
            owner: owner.into(),
            due_on: NaiveDate::from_ymd_opt(2027, 1, 15),
            done_at: None,
        }
    }

    fn input(kind: NoteKind, visibility: Option<NoteVisibility>) -> IepNoteInput {
        IepNoteInput {
            kind,
            title: "t".into(),
            body: "b".into(),
            meeting_date: None,
            visibility,
            action_items: Vec::new(),
        }
    }

    fn fields(items: Vec<ActionItemInput>) -> IepNoteFields {
        IepNoteFields {
            kind: NoteKind::MeetingNote,
            title: "t".into(),
            body: "b".into(),
            meeting_date: None,
            visibility: NoteVisibility::Family,
            action_items: items,
        }
    }

    #[test]
    fn guardians_write_only_shared_parent_input_without_items() {
        let ok = create(&input(NoteKind::ParentInput, None), true);
        assert_eq!(ok, Ok(NoteVisibility::Family));
        assert!(matches!(
            create(&input(NoteKind::MeetingNote, None), true),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            create(&input(NoteKind::ParentInput, Some(NoteVisibility::Staff)), true),
            Err(Refusal::Field(f, _, _)) if f == "visibility"
        ));
        let mut with_items = input(NoteKind::ParentInput, None);
        with_items.action_items.push(item("family"));
        assert!(matches!(
            create(&with_items, true),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn staff_notes_default_to_staff_and_parent_input_is_always_shared() {
        assert_eq!(
            create(&input(NoteKind::MeetingNote, None), false),
            Ok(NoteVisibility::Staff)
        );
        assert_eq!(
            create(&input(NoteKind::ParentInput, None), false),
            Ok(NoteVisibility::Family)
        );
        assert!(create(
            &input(NoteKind::ParentInput, Some(NoteVisibility::Staff)),
            false
        )
        .is_err());
    }

    #[test]
    fn a_guardian_marks_done_only_what_the_family_owes() {
        let (fam, staff) = (ActionItemId::new(), ActionItemId::new());
        let mut f = item("family");
        f.id = Some(fam.uuid());
        let mut s = item("teacher-1");
        s.id = Some(staff.uuid());
        let before = fields(vec![f.clone(), s.clone()]);
        let existing = [fam, staff];
        let guardian = Editor::Guardian { own: false };
        let mut done = before.clone();
        done.action_items[0].done_at = Some(Utc::now());
        assert_eq!(edit(guardian, &before, &done, &existing), Ok(()));
        let mut theirs = before.clone();
        theirs.action_items[1].done_at = Some(Utc::now());
        assert!(edit(guardian, &before, &theirs, &existing).is_err());
        let mut reworded = before.clone();
        reworded.action_items[0].description = "other".into();
        assert!(edit(guardian, &before, &reworded, &existing).is_err());
        let mut dropped = before.clone();
        dropped.action_items.pop();
        assert!(edit(guardian, &before, &dropped, &existing).is_err());
        let mut retitled = before.clone();
        retitled.title = "mine".into();
        assert!(edit(guardian, &before, &retitled, &existing).is_err());
        assert_eq!(
            edit(
                Editor::Guardian { own: true },
                &before,
                &retitled,
                &existing
            ),
            Ok(())
        );
        assert_eq!(edit(Editor::Staff, &before, &theirs, &existing), Ok(()));
    }

    #[test]
    fn item_ids_must_be_the_notes_own_and_unique() {
        let known = ActionItemId::new();
        let mut a = item("family");
        a.id = Some(known.uuid());
        let mut stranger = item("family");
        stranger.id = Some(Uuid::now_v7());
        let before = fields(vec![]);
        assert!(edit(Editor::Staff, &before, &fields(vec![a.clone()]), &[known]).is_ok());
        assert!(edit(Editor::Staff, &before, &fields(vec![stranger]), &[known]).is_err());
        assert!(edit(
            Editor::Staff,
            &before,
            &fields(vec![a.clone(), a]),
            &[known]
        )
        .is_err());
    }

    #[test]
    fn done_by_follows_who_marked_it() {
        let old = Item {
            id: ActionItemId::new(),
            description: "d".into(),
            owner: "family".into(),
            due_on: None,
            done_at: None,
            done_by: None,
        };
        let at = Utc::now().trunc_subsecs(6);
        let mut input = item_inputs(std::slice::from_ref(&old));
        input[0].done_at = Some(at);
        let after = items_after(std::slice::from_ref(&old), input.clone(), "g-1");
        assert_eq!(after[0].id, old.id);
        assert_eq!(after[0].done_by.as_deref(), Some("g-1"));
        // Unchanged by someone else: the mark stays theirs.
        let again = items_after(&after, input, "teacher-1");
        assert_eq!(again[0].done_by.as_deref(), Some("g-1"));
        // Reopened: nobody's.
        let reopened = items_after(&after, item_inputs(std::slice::from_ref(&old)), "t");
        assert_eq!(reopened[0].done_by, None);
        // New items get new ids.
        let new = items_after(&[], vec![item("family")], "t");
        assert_ne!(new[0].id, old.id);
    }
}
