//! Roles and scopes, as DESIGN.md's table sets them.

use std::fmt;

/// One permission a token may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Scope {
    /// Read families, guardians, students and their links.
    FamiliesRead,
    /// Create, change and archive families, guardians, students and links.
    FamiliesWrite,
    /// Read communications.
    CommunicationsRead,
    /// Log and change communications.
    CommunicationsWrite,
    /// Read concerns.
    ConcernsRead,
    /// Raise and work concerns.
    ConcernsWrite,
    /// Read IEP notes.
    IepRead,
    /// Write IEP notes.
    IepWrite,
    /// Read admissions.
    AdmissionsRead,
    /// Work admissions.
    AdmissionsWrite,
    /// Configure the admissions pipeline.
    AdmissionsConfigure,
    /// Read events, RSVPs, attendance, feedback, resources and referrals.
    EngagementRead,
    /// Run events and referrals (a guardian: answer for their family).
    EngagementWrite,
    /// Read reports.
    ReportsRead,
    /// Run imports.
    ImportsWrite,
    /// Read the audit log.
    AuditRead,
    /// Follow the change feed (only the kinds of record the caller may also read).
    ChangesRead,
    /// Create and revoke service accounts.
    ClientsWrite,
}

impl Scope {
    /// Every scope, in a stable order.
    pub const ALL: [Scope; 18] = [
        Scope::FamiliesRead,
        Scope::FamiliesWrite,
        Scope::CommunicationsRead,
        Scope::CommunicationsWrite,
        Scope::ConcernsRead,
        Scope::ConcernsWrite,
        Scope::IepRead,
        Scope::IepWrite,
        Scope::AdmissionsRead,
        Scope::AdmissionsWrite,
        Scope::AdmissionsConfigure,
        Scope::EngagementRead,
        Scope::EngagementWrite,
        Scope::ReportsRead,
        Scope::ImportsWrite,
        Scope::AuditRead,
        Scope::ChangesRead,
        Scope::ClientsWrite,
    ];

    /// The scope's name as tokens spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::FamiliesRead => "families:read",
            Scope::FamiliesWrite => "families:write",
            Scope::CommunicationsRead => "communications:read",
            Scope::CommunicationsWrite => "communications:write",
            Scope::ConcernsRead => "concerns:read",
            Scope::ConcernsWrite => "concerns:write",
            Scope::IepRead => "iep:read",
            Scope::IepWrite => "iep:write",
            Scope::AdmissionsRead => "admissions:read",
            Scope::AdmissionsWrite => "admissions:write",
            Scope::AdmissionsConfigure => "admissions:configure",
            Scope::EngagementRead => "engagement:read",
            Scope::EngagementWrite => "engagement:write",
            Scope::ReportsRead => "reports:read",
            Scope::ImportsWrite => "imports:write",
            Scope::AuditRead => "audit:read",
            Scope::ChangesRead => "changes:read",
            Scope::ClientsWrite => "clients:write",
        }
    }

    /// Parses a scope name; unknown names are `None`.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|sc| sc.as_str() == s)
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u32);

impl Scopes {
    /// Every scope.
    pub fn all() -> Self {
        Scopes::from_iter(Scope::ALL)
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in both sets.
    pub fn intersect(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    /// Parses a space-separated `scope` claim; unknown names are dropped, as they grant nothing.
    pub fn parse_claim(claim: &str) -> Scopes {
        Scopes::from_iter(claim.split_ascii_whitespace().filter_map(Scope::parse))
    }

    /// The scopes in the set, in `Scope::ALL`'s order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The names, space-separated.
    pub fn to_claim(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

/// Who the caller is in the school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The school's administrator: every scope.
    Admin,
    /// A Parent Relationship Executive or parent liaison.
    Pre,
    /// A teacher.
    Teacher,
    /// A counselor.
    Counselor,
    /// Admissions staff.
    Admissions,
    /// A parent or guardian, confined to their own family and linked children.
    Guardian,
    /// A system such as the school's SIS.
    Integration,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Pre,
        Role::Teacher,
        Role::Counselor,
        Role::Admissions,
        Role::Guardian,
        Role::Integration,
    ];

    /// The role's name as tokens spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Pre => "pre",
            Role::Teacher => "teacher",
            Role::Counselor => "counselor",
            Role::Admissions => "admissions",
            Role::Guardian => "guardian",
            Role::Integration => "integration",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Every scope the role may ever have (DESIGN.md, "Who may do what").
    pub fn scopes(self) -> Scopes {
        use Scope::*;
        match self {
            Role::Admin => Scopes::all(),
            Role::Pre => Scopes::from_iter([
                FamiliesRead,
                FamiliesWrite,
                CommunicationsRead,
                CommunicationsWrite,
                ConcernsRead,
                ConcernsWrite,
                IepRead,
                AdmissionsRead,
                AdmissionsWrite,
                EngagementRead,
                EngagementWrite,
                ReportsRead,
                ImportsWrite,
            ]),
            Role::Teacher => Scopes::from_iter([
                FamiliesRead,
                CommunicationsRead,
                CommunicationsWrite,
                ConcernsRead,
                ConcernsWrite,
                IepRead,
                IepWrite,
                EngagementRead,
                EngagementWrite,
            ]),
            Role::Counselor => Scopes::from_iter([
                FamiliesRead,
                CommunicationsRead,
                CommunicationsWrite,
                ConcernsRead,
                ConcernsWrite,
                IepRead,
                IepWrite,
                EngagementRead,
                EngagementWrite,
                ReportsRead,
            ]),
            Role::Admissions => Scopes::from_iter([
                FamiliesRead,
                CommunicationsRead,
                CommunicationsWrite,
                AdmissionsRead,
                AdmissionsWrite,
                EngagementRead,
                EngagementWrite,
                ReportsRead,
            ]),
            Role::Guardian => Scopes::from_iter([
                FamiliesRead,
                CommunicationsRead,
                CommunicationsWrite,
                ConcernsRead,
                ConcernsWrite,
                IepRead,
                IepWrite,
                EngagementRead,
                EngagementWrite,
            ]),
            Role::Integration => Scopes::from_iter([
                FamiliesRead,
                FamiliesWrite,
                ImportsWrite,
                AdmissionsRead,
                CommunicationsRead,
                EngagementRead,
                ChangesRead,
            ]),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("superuser"), None);
    }

    #[test]
    fn a_claim_narrows_and_never_widens() {
        let claim = Scopes::parse_claim("families:read audit:read bogus");
        let teacher = claim.intersect(Role::Teacher.scopes());
        assert!(teacher.contains(Scope::FamiliesRead));
        assert!(!teacher.contains(Scope::AuditRead));
        assert_eq!(
            Scopes::parse_claim(&Scopes::all().to_claim()),
            Scopes::all()
        );
        assert!(!Role::Pre.scopes().contains(Scope::AuditRead));
        assert!(Role::Integration.scopes().contains(Scope::ImportsWrite));
    }

    /// DESIGN.md's table, row by row, as it is written there.
    #[test]
    fn each_role_may_have_exactly_what_the_design_table_says() {
        let table: [(Role, &str); 7] = [
            (
                Role::Admin,
                "families:read families:write communications:read communications:write \
                 concerns:read concerns:write iep:read iep:write admissions:read admissions:write \
                 admissions:configure engagement:read engagement:write reports:read imports:write \
                 audit:read changes:read clients:write",
            ),
            (
                Role::Pre,
                "families:read families:write communications:read communications:write \
                 concerns:read concerns:write iep:read admissions:read admissions:write \
                 engagement:read engagement:write reports:read imports:write",
            ),
            (
                Role::Teacher,
                "families:read communications:read communications:write concerns:read \
                 concerns:write iep:read iep:write engagement:read engagement:write",
            ),
            (
                Role::Counselor,
                "families:read communications:read communications:write concerns:read \
                 concerns:write iep:read iep:write engagement:read engagement:write reports:read",
            ),
            (
                Role::Admissions,
                "families:read communications:read communications:write admissions:read \
                 admissions:write engagement:read engagement:write reports:read",
            ),
            (
                Role::Guardian,
                "families:read communications:read communications:write concerns:read \
                 concerns:write iep:read iep:write engagement:read engagement:write",
            ),
            (
                Role::Integration,
                "families:read families:write imports:write admissions:read communications:read \
                 engagement:read changes:read",
            ),
        ];
        for (role, names) in table {
            let mut want: Vec<&str> = names.split_whitespace().collect();
            want.sort_unstable();
            for name in &want {
                assert!(Scope::parse(name).is_some(), "{role}: unknown scope {name}");
            }
            let mut got: Vec<&str> = role.scopes().iter().map(Scope::as_str).collect();
            got.sort_unstable();
            assert_eq!(got, want, "{role}");
        }
        // The admin-only scopes are the admin's alone.
        for scope in [
            Scope::AuditRead,
            Scope::AdmissionsConfigure,
            Scope::ClientsWrite,
        ] {
            let holders: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|r| r.scopes().contains(scope))
                .collect();
            assert_eq!(holders, [Role::Admin], "{scope}");
        }
        assert_eq!(Scope::ALL.len(), Scopes::all().iter().count());
    }
}
