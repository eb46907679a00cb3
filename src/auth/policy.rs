//! Who sees what: the one access policy every resource asks.
//!
//! Staff see their whole school (the scopes of their role decide which kinds of record). A
//! guardian sees only their own family, and of each child only what a current link with
//! `can_view_records` lets them see; of the records about a family (communications, concerns,
//! IEP notes, …) only those shared with the family (`visibility: family`) and about the family
//! as a whole or a child they may see. Anything else is answered as if it did not exist (404).

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{Caller, Role};
use crate::db::schema::{guardian_student_links as links, guardians, students};
use crate::db::{native, DbConnection};
use crate::error::ApiError;
use crate::ids::{FamilyId, GuardianId, StudentId};

/// What a guardian may see, resolved once per request.
#[derive(Debug, Clone)]
pub struct GuardianReach {
    /// The adult.
    pub guardian_id: GuardianId,
    /// Their household.
    pub family_id: FamilyId,
    /// The children whose records they may see: those of a current link (today within
    /// `starts_on`..`ends_on`) with `can_view_records`, whichever family the child belongs to.
    pub students: Vec<StudentId>,
}

/// The caller's reach, resolved against the database.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The caller's school: every query is confined to it.
    pub school_id: String,
    /// The caller's role.
    pub role: Role,
    /// The caller (`sub`).
    pub sub: String,
    /// Set for guardians.
    pub guardian: Option<GuardianReach>,
    /// Whether the caller may see applicants (`admissions:read`), and so the communications
    /// with an applicant's household that no family holds yet.
    pub sees_applicants: bool,
}

impl Viewer {
    /// Resolves the caller on `today`. A guardian whose record is archived or belongs to another
    /// school is refused with 401; one the school has barred (`contact_allowed: false`) with 403.
    /// Staff need no query.
    pub fn resolve(
        conn: &mut DbConnection,
        caller: &Caller,
        today: NaiveDate,
    ) -> Result<Viewer, ApiError> {
        let guardian = match caller.guardian() {
            None => None,
            Some(gid) => Some(reach(conn, caller, gid, today)?),
        };
        Ok(Viewer {
            school_id: caller.school_id.clone(),
            role: caller.role,
            sub: caller.sub.clone(),
            guardian,
            sees_applicants: caller.scopes.contains(super::Scope::AdmissionsRead),
        })
    }

    /// Whether the caller is a guardian (staff: never).
    pub fn is_guardian(&self) -> bool {
        self.guardian.is_some()
    }

    /// 404 unless the caller may see this family (its existence is the store's to check).
    pub fn family(&self, family: FamilyId) -> Result<(), ApiError> {
        match &self.guardian {
            Some(g) if g.family_id != family => Err(ApiError::NotFound),
            _ => Ok(()),
        }
    }

    /// 404 unless the caller may see this student's records.
    pub fn student(&self, student: StudentId) -> Result<(), ApiError> {
        match &self.guardian {
            Some(g) if !g.students.contains(&student) => Err(ApiError::NotFound),
            _ => Ok(()),
        }
    }

    /// Whether the caller may see a record about `family` (and `student`, if it names one)
    /// that is shared with the family (`shared`) or kept among staff.
    pub fn sees_record(&self, family: FamilyId, student: Option<StudentId>, shared: bool) -> bool {
        match &self.guardian {
            None => true,
            Some(g) => {
                shared && g.family_id == family && student.is_none_or(|s| g.students.contains(&s))
            }
        }
    }

    /// For a guardian: the family and children a list of records about families is confined to
    /// (records shared with the family about it or about one of these children). `None` for
    /// staff: the whole school.
    pub fn record_scope(&self) -> Option<(FamilyId, &[StudentId])> {
        self.guardian
            .as_ref()
            .map(|g| (g.family_id, g.students.as_slice()))
    }

    /// The guardian's own id, when the caller is one.
    pub fn guardian_id(&self) -> Option<GuardianId> {
        self.guardian.as_ref().map(|g| g.guardian_id)
    }
}

fn reach(
    conn: &mut DbConnection,
    caller: &Caller,
    gid: GuardianId,
    today: NaiveDate,
) -> Result<GuardianReach, ApiError> {
    let school = caller.school_id.as_str();
    let found: Option<(FamilyId, bool)> = native!(conn, |c| guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::id.eq(gid))
        .filter(guardians::archived_at.is_null())
        .select((guardians::family_id, guardians::contact_allowed))
        .first(c)
        .optional())?;
    let family_id = match found {
        None => {
            return Err(ApiError::Unauthorized(
                "the token's guardian is not known to this school".into(),
            ))
        }
        Some((_, false)) => {
            return Err(ApiError::Forbidden(
                "access for this guardian is restricted by the school".into(),
            ))
        }
        Some((family_id, true)) => family_id,
    };
    let students = native!(conn, |c| links::table
        .filter(links::school_id.eq(school))
        .filter(links::guardian_id.eq(gid))
        .filter(links::archived_at.is_null())
        .filter(links::can_view_records.eq(true))
        .filter(links::starts_on.is_null().or(links::starts_on.le(today)))
        .filter(links::ends_on.is_null().or(links::ends_on.ge(today)))
        .select(links::student_id)
        .load(c))?;
    Ok(GuardianReach {
        guardian_id: gid,
        family_id,
        students,
    })
}

/// Whether a student goes with a family: one of its children, or a child of another household
/// linked to one of its guardians (families split across two households are ordinary).
pub fn student_goes_with_family(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
    student: StudentId,
) -> QueryResult<bool> {
    let in_family: i64 = native!(conn, |c| students::table
        .filter(students::school_id.eq(school))
        .filter(students::id.eq(student))
        .filter(students::archived_at.is_null())
        .filter(students::family_id.eq(family))
        .count()
        .get_result(c))?;
    if in_family > 0 {
        return Ok(true);
    }
    let family_guardians = guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::family_id.eq(family))
        .filter(guardians::archived_at.is_null())
        .select(guardians::id);
    let linked: i64 = native!(conn, |c| links::table
        .filter(links::school_id.eq(school))
        .filter(links::student_id.eq(student))
        .filter(links::archived_at.is_null())
        .filter(links::guardian_id.eq_any(family_guardians))
        .count()
        .get_result(c))?;
    Ok(linked > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guardian_viewer(family: FamilyId, students: Vec<StudentId>) -> Viewer {
        Viewer {
            school_id: "s".into(),
            role: Role::Guardian,
            sub: "g".into(),
            guardian: Some(GuardianReach {
                guardian_id: GuardianId::new(),
                family_id: family,
                students,
            }),
            sees_applicants: false,
        }
    }

    #[test]
    fn a_guardian_sees_shared_records_of_their_family_and_visible_children_only() {
        let (family, other_family) = (FamilyId::new(), FamilyId::new());
        let (child, hidden_child) = (StudentId::new(), StudentId::new());
        let g = guardian_viewer(family, vec![child]);
        assert!(g.sees_record(family, None, true));
        assert!(g.sees_record(family, Some(child), true));
        assert!(!g.sees_record(family, Some(hidden_child), true));
        assert!(!g.sees_record(family, None, false), "staff-only records");
        assert!(!g.sees_record(other_family, None, true));
        assert!(g.family(family).is_ok());
        assert!(matches!(g.family(other_family), Err(ApiError::NotFound)));
        assert!(g.student(child).is_ok());
        assert!(matches!(g.student(hidden_child), Err(ApiError::NotFound)));
    }

    #[test]
    fn staff_see_the_whole_school() {
        let staff = Viewer {
            school_id: "s".into(),
            role: Role::Teacher,
            sub: "t".into(),
            guardian: None,
            sees_applicants: false,
        };
        assert!(staff.sees_record(FamilyId::new(), Some(StudentId::new()), false));
        assert!(staff.family(FamilyId::new()).is_ok());
        assert!(staff.student(StudentId::new()).is_ok());
        assert!(staff.record_scope().is_none());
    }
}
