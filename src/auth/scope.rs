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
    /// Read reports.
    ReportsRead,
    /// Run imports.
    ImportsWrite,
    /// Read the audit log.
    AuditRead,
}

impl Scope {
    /// Every scope, in a stable order.
    pub const ALL: [Scope; 14] = [
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
        Scope::ReportsRead,
        Scope::ImportsWrite,
        Scope::AuditRead,
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
            Scope::ReportsRead => "reports:read",
            Scope::ImportsWrite => "imports:write",
            Scope::AuditRead => "audit:read",
        }
    }

    /// Parses a scope name; unknown names are `None`.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|sc| sc.as_str() == s)
    }

    fn bit(self) -> u16 {
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
pub struct Scopes(u16);

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

    /// The names, space-separated.
    pub fn to_claim(self) -> String {
        Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ")
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

    /// Every scope the role may ever have.
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
            ]),
            Role::Counselor => Scopes::from_iter([
                FamiliesRead,
                CommunicationsRead,
                CommunicationsWrite,
                ConcernsRead,
                ConcernsWrite,
                IepRead,
                IepWrite,
                ReportsRead,
            ]),
            Role::Admissions => Scopes::from_iter([
                FamiliesRead,
                CommunicationsRead,
                CommunicationsWrite,
                AdmissionsRead,
                AdmissionsWrite,
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
            ]),
            Role::Integration => Scopes::from_iter([
                FamiliesRead,
                FamiliesWrite,
                ImportsWrite,
                AdmissionsRead,
                CommunicationsRead,
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
}
