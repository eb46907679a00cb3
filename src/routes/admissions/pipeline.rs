//! The admissions pipeline as pure rules: the default pipeline, how positions stay unique when a
//! stage is placed or removed, which moves a caller may make, the checklist gate, and the
//! funnel's arithmetic. No HTTP and no database: the handlers load, ask these rules, and write
//! what they answer.

use std::collections::{BTreeMap, BTreeSet};

use super::wire::{ChecklistEntry, Source, StageKind};
use crate::auth::Role;

/// A stage as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRule {
    /// Its key.
    pub key: String,
    /// Its position.
    pub position: i32,
    /// Its kind.
    pub kind: StageKind,
    /// Its checklist.
    pub checklist: Vec<ChecklistEntry>,
}

/// A stage of the default pipeline: key, name, kind, checklist (key, label, required).
pub type DefaultStage = (
    &'static str,
    &'static str,
    StageKind,
    &'static [(&'static str, &'static str, bool)],
);

/// The pipeline a school gets on first use.
pub const DEFAULT_PIPELINE: [DefaultStage; 10] = [
    ("inquiry", "Inquiry", StageKind::Open, &[]),
    (
        "tour",
        "Tour",
        StageKind::Open,
        &[("tour_attended", "Tour attended", false)],
    ),
    (
        "application",
        "Application",
        StageKind::Open,
        &[
            ("application_form", "Application form received", true),
            ("school_records", "Previous school records received", false),
        ],
    ),
    (
        "interview",
        "Interview",
        StageKind::Open,
        &[("interview_held", "Interview held", true)],
    ),
    ("assessment", "Assessment", StageKind::Open, &[]),
    (
        "offer",
        "Offer",
        StageKind::Open,
        &[("deposit_paid", "Enrolment deposit paid", true)],
    ),
    ("enrolled", "Enrolled", StageKind::Won, &[]),
    ("waitlisted", "Waitlisted", StageKind::Open, &[]),
    ("declined", "Declined", StageKind::Lost, &[]),
    ("withdrawn", "Withdrawn", StageKind::Lost, &[]),
];

/// The order of `ids` after `moving` is put at `position` (from 1; beyond the end or `None`:
/// last). `moving` may be new (not in `ids`) or one of them. Positions are then the indexes
/// plus one: unique and without gaps.
pub fn place<T: PartialEq + Clone>(ids: &[T], moving: &T, position: Option<i32>) -> Vec<T> {
    let mut order: Vec<T> = ids.iter().filter(|i| *i != moving).cloned().collect();
    let at = match position {
        Some(p) if p >= 1 => (p as usize - 1).min(order.len()),
        _ => order.len(),
    };
    order.insert(at, moving.clone());
    order
}

/// Why a pipeline change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineRefusal {
    /// Two items of one stage share a key.
    DuplicateItem(String),
    /// An item key is another stage's.
    ItemOfAnotherStage {
        /// The item.
        item: String,
        /// The stage that has it.
        stage: String,
    },
    /// The change would leave the pipeline with no open or no won stage.
    Incomplete(StageKind),
}

/// Checks a stage's checklist against itself and the other stages, and that the pipeline
/// `after` the change still has an open and a won stage.
pub fn check_pipeline(after: &[StageRule], changed: &str) -> Result<(), PipelineRefusal> {
    let Some(stage) = after.iter().find(|s| s.key == changed) else {
        return check_complete(after);
    };
    let mut own = BTreeSet::new();
    for item in &stage.checklist {
        if !own.insert(item.key.as_str()) {
            return Err(PipelineRefusal::DuplicateItem(item.key.clone()));
        }
    }
    for other in after.iter().filter(|s| s.key != changed) {
        if let Some(item) = other
            .checklist
            .iter()
            .find(|i| own.contains(i.key.as_str()))
        {
            return Err(PipelineRefusal::ItemOfAnotherStage {
                item: item.key.clone(),
                stage: other.key.clone(),
            });
        }
    }
    check_complete(after)
}

fn check_complete(after: &[StageRule]) -> Result<(), PipelineRefusal> {
    for kind in [StageKind::Open, StageKind::Won] {
        if !after.iter().any(|s| s.kind == kind) {
            return Err(PipelineRefusal::Incomplete(kind));
        }
    }
    Ok(())
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveRefusal {
    /// Not a move this caller may make from here; `allowed` lists those they may.
    Illegal {
        /// What is wrong.
        detail: String,
        /// The keys of the stages they may move to.
        allowed: Vec<String>,
    },
    /// The required checklist items of the stage being left that are not done (key, label).
    ChecklistIncomplete(Vec<(String, String)>),
}

/// The stages (keys, in pipeline order) a caller of `role` may move an applicant to from
/// `from` by a transition: any other stage that is not `won` (enrolment makes that move); from
/// a `won` or `lost` stage, none unless the caller is an admin.
pub fn legal_moves(stages: &[StageRule], from: &str, role: Role) -> Vec<String> {
    let terminal = stages
        .iter()
        .find(|s| s.key == from)
        .is_some_and(|s| s.kind != StageKind::Open);
    if terminal && role != Role::Admin {
        return Vec::new();
    }
    stages
        .iter()
        .filter(|s| s.key != from && s.kind != StageKind::Won)
        .map(|s| s.key.clone())
        .collect()
}

/// Judges a move from `from` to `to` (both of `stages`; `to` may be `won` when `enrolling`) by
/// a caller of `role`, with the checklist items `done`.
///
/// The checklist gate holds a move forward: to a `won` stage, or to an `open` stage later in
/// the pipeline. Moving back to an earlier stage, or out to a `lost` one (a family that
/// withdraws does not finish its paperwork), is not held up.
pub fn judge_move(
    stages: &[StageRule],
    from: &str,
    to: &str,
    role: Role,
    enrolling: bool,
    done: &dyn Fn(&str) -> bool,
) -> Result<(), MoveRefusal> {
    let current = stages.iter().find(|s| s.key == from);
    let Some(target) = stages.iter().find(|s| s.key == to) else {
        return Err(MoveRefusal::Illegal {
            detail: format!("there is no stage `{to}`"),
            allowed: legal_moves(stages, from, role),
        });
    };
    if !enrolling {
        let allowed = legal_moves(stages, from, role);
        if !allowed.iter().any(|k| k == to) {
            let detail = if target.kind == StageKind::Won {
                format!("an applicant enters `{to}` by enrolment (POST …/enroll), not a transition")
            } else if to == from {
                format!("the applicant is already in `{to}`")
            } else {
                format!("an applicant in `{from}` (a closed stage) is moved on only by an admin")
            };
            return Err(MoveRefusal::Illegal { detail, allowed });
        }
    } else if current.is_some_and(|c| c.kind == StageKind::Won) {
        // Enrolled already: enrolling again moves nothing.
        return Ok(());
    } else if current.is_some_and(|c| c.kind == StageKind::Lost) && role != Role::Admin {
        return Err(MoveRefusal::Illegal {
            detail: format!(
                "an applicant in `{from}` (a closed stage) is enrolled only by an admin"
            ),
            allowed: legal_moves(stages, from, role),
        });
    }
    let forward = match (current, target.kind) {
        (_, StageKind::Won) => true,
        (_, StageKind::Lost) => false,
        (Some(c), StageKind::Open) => target.position > c.position,
        (None, StageKind::Open) => false,
    };
    if let (true, Some(c)) = (forward, current) {
        let missing: Vec<(String, String)> = c
            .checklist
            .iter()
            .filter(|i| i.required && !done(&i.key))
            .map(|i| (i.key.clone(), i.label.clone()))
            .collect();
        if !missing.is_empty() {
            return Err(MoveRefusal::ChecklistIncomplete(missing));
        }
    }
    Ok(())
}

/// A guardian's given and family names from the contact's `name`: the first word, and the
/// rest (or `fallback_family`, the applicant's family name, when there is one word).
pub fn split_name(name: &str, fallback_family: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((given, rest)) if !rest.trim().is_empty() => {
            (given.to_string(), rest.trim().to_string())
        }
        _ => (name.to_string(), fallback_family.to_string()),
    }
}

/// The median of `values` (reordered here), the mean of the middle two for an even count.
pub fn median(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    // In linear time: the upper middle in place, every smaller value to its left.
    let (below, upper, _) = values.select_nth_unstable(n / 2);
    let upper = *upper as f64;
    Some(match below.iter().max() {
        Some(lower) if n % 2 == 0 => (*lower as f64 + upper) / 2.0,
        _ => upper,
    })
}

/// What the funnel counts of a cohort of applicants, before it is laid out by the pipeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Applicants by current stage and source.
    pub current: BTreeMap<(String, Source), i64>,
    /// Applicants who ever entered each stage.
    pub reached: BTreeMap<String, i64>,
    /// Per stage, its ended stays: how many, and the median of their lengths in seconds.
    pub stays: BTreeMap<String, (i64, f64)>,
}

/// Applicants as the funnel reads them: current stage, source, the stages reached (`a,b,…`),
/// the ended stays (`stage:seconds,…`), and how many applicants the line stands for (their
/// stays concatenated, when the database grouped them).
pub type Counted<'a> = (&'a str, Source, &'a str, &'a str, i64);

impl Tally {
    /// Counts the lines of applicants. Stage keys are few: they are kept in a short list and
    /// each count found by its position, so nothing is allocated per applicant or per stay.
    pub fn count<'a>(rows: impl IntoIterator<Item = Counted<'a>>) -> Tally {
        // The stage keys met so far; `reached` and `lengths` are indexed alike.
        let mut keys: Vec<&'a str> = Vec::new();
        let mut reached: Vec<i64> = Vec::new();
        let mut lengths: Vec<Vec<i64>> = Vec::new();
        let mut slot = |key: &'a str| match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                keys.push(key);
                keys.len() - 1
            }
        };
        let mut current: BTreeMap<(&'a str, Source), i64> = BTreeMap::new();
        for (stage, source, path, stays, n) in rows {
            *current.entry((stage, source)).or_default() += n;
            for key in path.split(',').filter(|k| !k.is_empty()) {
                let i = slot(key);
                if i >= reached.len() {
                    reached.resize(i + 1, 0);
                }
                reached[i] += n;
            }
            for stay in stays.split(',').filter(|s| !s.is_empty()) {
                if let Some((key, seconds)) = stay.split_once(':') {
                    if let Ok(seconds) = seconds.parse() {
                        let i = slot(key);
                        if i >= lengths.len() {
                            lengths.resize_with(i + 1, Vec::new);
                        }
                        lengths[i].push(seconds);
                    }
                }
            }
        }
        let mut tally = Tally {
            current: current
                .into_iter()
                .map(|((stage, source), n)| ((stage.to_string(), source), n))
                .collect(),
            ..Tally::default()
        };
        for (i, key) in keys.iter().enumerate() {
            if let Some(&n) = reached.get(i).filter(|n| **n > 0) {
                tally.reached.insert(key.to_string(), n);
            }
            if let Some(ended) = lengths.get_mut(i) {
                if let Some(m) = median(ended) {
                    tally.stays.insert(key.to_string(), (ended.len() as i64, m));
                }
            }
        }
        tally
    }
}

/// `x` to `places` decimals.
pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// `num / den` to four decimals, `None` when `den` is 0.
pub fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| round(num as f64 / den as f64, 4))
}

/// Seconds as days, to two decimals.
pub fn days(seconds: f64) -> f64 {
    round(seconds / 86_400.0, 2)
}

/// The conversion of each stage (in pipeline order, with its kind and `reached`): its
/// `reached` over the previous non-`lost` stage's; `None` for the first such stage, for `lost`
/// stages, and after a stage nobody reached.
pub fn conversions(stages: &[(StageKind, i64)]) -> Vec<Option<f64>> {
    let mut previous: Option<i64> = None;
    stages
        .iter()
        .map(|(kind, reached)| {
            if *kind == StageKind::Lost {
                return None;
            }
            let out = previous.and_then(|p| ratio(*reached, p));
            previous = Some(*reached);
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(key: &str, position: i32, kind: StageKind, items: &[(&str, bool)]) -> StageRule {
        StageRule {
            key: key.into(),
            position,
            kind,
            checklist: items
                .iter()
                .map(|(k, required)| ChecklistEntry {
                    key: (*k).into(),
                    label: format!("{k} label"),
                    required: *required,
                })
                .collect(),
        }
    }

    fn pipeline() -> Vec<StageRule> {
        vec![
            stage("inquiry", 1, StageKind::Open, &[]),
            stage(
                "application",
                2,
                StageKind::Open,
                &[("form", true), ("extra", false)],
            ),
            stage("offer", 3, StageKind::Open, &[("deposit", true)]),
            stage("enrolled", 4, StageKind::Won, &[]),
            stage("declined", 5, StageKind::Lost, &[]),
        ]
    }

    #[test]
    fn placing_keeps_positions_unique_and_gapless() {
        let ids = ["a", "b", "c", "d"];
        assert_eq!(place(&ids, &"x", None), ["a", "b", "c", "d", "x"]);
        assert_eq!(place(&ids, &"x", Some(1)), ["x", "a", "b", "c", "d"]);
        assert_eq!(place(&ids, &"x", Some(3)), ["a", "b", "x", "c", "d"]);
        assert_eq!(place(&ids, &"x", Some(99)), ["a", "b", "c", "d", "x"]);
        assert_eq!(place(&ids, &"d", Some(1)), ["d", "a", "b", "c"]);
        assert_eq!(place(&ids, &"a", Some(3)), ["b", "c", "a", "d"]);
        assert_eq!(place(&ids, &"b", None), ["a", "c", "d", "b"]);
    }

    #[test]
    fn the_default_pipeline_is_complete_and_its_item_keys_are_unique() {
        let stages: Vec<StageRule> = DEFAULT_PIPELINE
            .iter()
            .enumerate()
            .map(|(i, (key, _, kind, items))| {
                let items: Vec<(&str, bool)> = items.iter().map(|(k, _, r)| (*k, *r)).collect();
                stage(key, i as i32 + 1, *kind, &items)
            })
            .collect();
        for s in &stages {
            assert_eq!(check_pipeline(&stages, &s.key), Ok(()));
        }
    }

    #[test]
    fn item_keys_are_unique_in_the_pipeline_and_it_keeps_an_open_and_a_won_stage() {
        let mut p = pipeline();
        p[0].checklist = stage("x", 1, StageKind::Open, &[("deposit", false)]).checklist;
        assert_eq!(
            check_pipeline(&p, "inquiry"),
            Err(PipelineRefusal::ItemOfAnotherStage {
                item: "deposit".into(),
                stage: "offer".into()
            })
        );
        p[0].checklist = stage("x", 1, StageKind::Open, &[("a", false), ("a", true)]).checklist;
        assert_eq!(
            check_pipeline(&p, "inquiry"),
            Err(PipelineRefusal::DuplicateItem("a".into()))
        );
        let without_won: Vec<StageRule> = pipeline()
            .into_iter()
            .filter(|s| s.kind != StageKind::Won)
            .collect();
        assert_eq!(
            check_pipeline(&without_won, "enrolled"),
            Err(PipelineRefusal::Incomplete(StageKind::Won))
        );
    }

    #[test]
    fn closed_stages_are_left_only_by_an_admin_and_won_only_by_enrolment() {
        let p = pipeline();
        assert_eq!(
            legal_moves(&p, "inquiry", Role::Admissions),
            ["application", "offer", "declined"]
        );
        assert!(legal_moves(&p, "declined", Role::Admissions).is_empty());
        assert!(legal_moves(&p, "enrolled", Role::Pre).is_empty());
        assert_eq!(
            legal_moves(&p, "declined", Role::Admin),
            ["inquiry", "application", "offer"]
        );
        let none = |_: &str| false;
        match judge_move(&p, "inquiry", "enrolled", Role::Admin, false, &none) {
            Err(MoveRefusal::Illegal { detail, .. }) => assert!(detail.contains("enrol")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            judge_move(&p, "declined", "inquiry", Role::Admissions, false, &none),
            Err(MoveRefusal::Illegal { .. })
        ));
        assert_eq!(
            judge_move(&p, "declined", "inquiry", Role::Admin, false, &none),
            Ok(())
        );
        assert!(matches!(
            judge_move(&p, "inquiry", "inquiry", Role::Admin, false, &none),
            Err(MoveRefusal::Illegal { .. })
        ));
        assert!(matches!(
            judge_move(&p, "inquiry", "nowhere", Role::Admin, false, &none),
            Err(MoveRefusal::Illegal { .. })
        ));
        // Enrolling from a lost stage is an admin's; enrolling again is fine.
        assert!(matches!(
            judge_move(&p, "declined", "enrolled", Role::Pre, true, &none),
            Err(MoveRefusal::Illegal { .. })
        ));
        assert_eq!(
            judge_move(&p, "enrolled", "enrolled", Role::Pre, true, &none),
            Ok(())
        );
    }

    #[test]
    fn moving_forward_needs_the_required_items_of_the_stage_left() {
        let p = pipeline();
        let none = |_: &str| false;
        assert_eq!(
            judge_move(&p, "application", "offer", Role::Admissions, false, &none),
            Err(MoveRefusal::ChecklistIncomplete(vec![(
                "form".into(),
                "form label".into()
            )]))
        );
        let form = |k: &str| k == "form";
        assert_eq!(
            judge_move(&p, "application", "offer", Role::Admissions, false, &form),
            Ok(())
        );
        // Back, or out: not held up.
        assert_eq!(
            judge_move(&p, "application", "inquiry", Role::Admissions, false, &none),
            Ok(())
        );
        assert_eq!(
            judge_move(
                &p,
                "application",
                "declined",
                Role::Admissions,
                false,
                &none
            ),
            Ok(())
        );
        // Enrolment is a move forward.
        assert!(matches!(
            judge_move(&p, "offer", "enrolled", Role::Admin, true, &none),
            Err(MoveRefusal::ChecklistIncomplete(_))
        ));
    }

    #[test]
    fn names_split_at_the_first_word() {
        assert_eq!(
            split_name("María López García", "López"),
            ("María".into(), "López García".into())
        );
        assert_eq!(split_name("Ana", "Doe"), ("Ana".into(), "Doe".into()));
        assert_eq!(split_name("  Ana  ", "Doe"), ("Ana".into(), "Doe".into()));
    }

    #[test]
    fn a_tally_counts_stages_reached_current_stages_and_ended_stays() {
        let rows = [
            ("tour", Source::Website, "inquiry,tour", "inquiry:100", 1),
            ("tour", Source::Website, "inquiry,tour", "inquiry:300", 1),
            (
                "declined",
                Source::Referral,
                "inquiry,declined",
                "inquiry:200",
                1,
            ),
            ("inquiry", Source::Referral, "inquiry", "", 1),
        ];
        let tally = Tally::count(rows);
        let key = |s: &str| s.to_string();
        assert_eq!(
            tally.current,
            BTreeMap::from([
                ((key("declined"), Source::Referral), 1),
                ((key("inquiry"), Source::Referral), 1),
                ((key("tour"), Source::Website), 2),
            ])
        );
        assert_eq!(
            tally.reached,
            BTreeMap::from([(key("declined"), 1), (key("inquiry"), 4), (key("tour"), 2)])
        );
        assert_eq!(tally.stays, BTreeMap::from([(key("inquiry"), (3, 200.0))]));
        // The same applicants as the database groups them: equal lines counted once, their
        // stays concatenated (an applicant without an ended stay adds an empty item).
        let grouped = [
            (
                "tour",
                Source::Website,
                "inquiry,tour",
                "inquiry:300,inquiry:100",
                2,
            ),
            (
                "declined",
                Source::Referral,
                "inquiry,declined",
                "inquiry:200",
                1,
            ),
            ("inquiry", Source::Referral, "inquiry", ",", 2),
        ];
        let mut expected = tally.clone();
        *expected
            .current
            .get_mut(&(key("inquiry"), Source::Referral))
            .unwrap() = 2;
        *expected.reached.get_mut("inquiry").unwrap() = 5;
        assert_eq!(Tally::count(grouped), expected);
    }

    #[test]
    fn funnel_arithmetic() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5]), Some(5.0));
        assert_eq!(median(&mut [9, 1, 5]), Some(5.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
        assert_eq!(median(&mut [7, 7, 1, 9, 3, 7]), Some(7.0));
        assert_eq!(median(&mut [10, 2]), Some(6.0));
        assert_eq!(ratio(2, 3), Some(0.6667));
        assert_eq!(ratio(1, 0), None);
        assert_eq!(days(86_400.0 * 1.5), 1.5);
        assert_eq!(days(3600.0), 0.04);
        assert_eq!(
            conversions(&[
                (StageKind::Open, 10),
                (StageKind::Open, 5),
                (StageKind::Won, 2),
                (StageKind::Open, 0),
                (StageKind::Lost, 3),
                (StageKind::Open, 1)
            ]),
            [None, Some(0.5), Some(0.4), Some(0.0), None, None]
        );
    }
}
