//! What a caller may see: their school always; a guardian, only their own family and the
//! children a current link lets them see.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::auth::Caller;
use crate::db::schema::{guardian_student_links as links, guardians, students};
use crate::db::DbConnection;
use crate::error::ApiError;

/// The guardian behind a guardian token.
#[derive(Debug, Clone)]
pub struct GuardianView {
    /// The adult's id.
    pub guardian_id: String,
    /// Their family.
    pub family_id: String,
    /// The date links are judged current on.
    pub today: NaiveDate,
}

/// The caller's reach, resolved against the database.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The caller's school.
    pub school_id: String,
    /// Set for guardians.
    pub guardian: Option<GuardianView>,
}

impl Viewer {
    /// Resolves the caller. A guardian whose record is archived or belongs to another school is
    /// refused with 401; one under a contact restriction (`contact_allowed: false`) with 403.
    pub fn resolve(
        conn: &mut DbConnection,
        caller: &Caller,
        today: NaiveDate,
    ) -> Result<Viewer, ApiError> {
        let guardian = match caller.guardian() {
            None => None,
            Some(gid) => {
                let found: Option<(String, bool)> = guardians::table
                    .filter(guardians::school_id.eq(&caller.school_id))
                    .filter(guardians::id.eq(gid.to_string()))
                    .filter(guardians::archived_at.is_null())
                    .select((guardians::family_id, guardians::contact_allowed))
                    .first(conn)
                    .optional()?;
                match found {
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
                    Some((family_id, true)) => Some(GuardianView {
                        guardian_id: gid.to_string(),
                        family_id,
                        today,
                    }),
                }
            }
        };
        Ok(Viewer {
            school_id: caller.school_id.clone(),
            guardian,
        })
    }

    /// 404 unless the caller may see this family.
    pub fn check_family(&self, family_id: &str) -> Result<(), ApiError> {
        match &self.guardian {
            Some(g) if g.family_id != family_id => Err(ApiError::NotFound),
            _ => Ok(()),
        }
    }

    /// Whether a guardian is the caller (staff: never).
    pub fn is_guardian(&self) -> bool {
        self.guardian.is_some()
    }

    /// 404 unless the caller may see this student.
    pub fn check_student(&self, conn: &mut DbConnection, student_id: &str) -> Result<(), ApiError> {
        let Some(g) = &self.guardian else {
            return Ok(());
        };
        let visible: i64 = viewable_links(g)
            .filter(links::student_id.eq(student_id))
            .count()
            .get_result(conn)?;
        if visible > 0 {
            Ok(())
        } else {
            Err(ApiError::NotFound)
        }
    }
}

/// The guardian's current links that let them see the child.
pub fn viewable_links(g: &GuardianView) -> links::BoxedQuery<'static, crate::db::MultiBackend> {
    links::table
        .filter(links::guardian_id.eq(g.guardian_id.clone()))
        .filter(links::archived_at.is_null())
        .filter(links::can_view_records.eq(true))
        .filter(links::starts_on.is_null().or(links::starts_on.le(g.today)))
        .filter(links::ends_on.is_null().or(links::ends_on.ge(g.today)))
        .into_boxed()
}

/// Whether a student goes with a family: one of its children, or a child of another household
/// linked to one of its guardians.
pub fn student_with_family(
    conn: &mut DbConnection,
    school: &str,
    family_id: &str,
    student_id: &str,
) -> QueryResult<bool> {
    let in_family: i64 = students::table
        .filter(students::school_id.eq(school))
        .filter(students::id.eq(student_id))
        .filter(students::archived_at.is_null())
        .filter(students::family_id.eq(family_id))
        .count()
        .get_result(conn)?;
    if in_family > 0 {
        return Ok(true);
    }
    let family_guardians = guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::family_id.eq(family_id))
        .filter(guardians::archived_at.is_null())
        .select(guardians::id);
    let linked: i64 = links::table
        .filter(links::school_id.eq(school))
        .filter(links::student_id.eq(student_id))
        .filter(links::archived_at.is_null())
        .filter(links::guardian_id.eq_any(family_guardians))
        .count()
        .get_result(conn)?;
    Ok(linked > 0)
}

/// Loads an active family the caller may see (transitional: for modules not yet on the policy).
pub fn find_family(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<crate::routes::families::store::FamilyRow, ApiError> {
    use crate::db::schema::families;
    use crate::routes::families::store::FamilyRow;
    viewer.check_family(id)?;
    Ok(families::table
        .filter(families::school_id.eq(&viewer.school_id))
        .filter(families::id.eq(id))
        .filter(families::archived_at.is_null())
        .select(FamilyRow::as_select())
        .first(conn)?)
}

/// The policy's viewer as this module's, on `today`: for the family timeline, which reads
/// communications through the policy and concerns through this module until concerns move.
impl From<(&crate::auth::policy::Viewer, NaiveDate)> for Viewer {
    fn from((viewer, today): (&crate::auth::policy::Viewer, NaiveDate)) -> Viewer {
        Viewer {
            school_id: viewer.school_id.clone(),
            guardian: viewer.guardian.as_ref().map(|g| GuardianView {
                guardian_id: g.guardian_id.to_string(),
                family_id: g.family_id.to_string(),
                today,
            }),
        }
    }
}
