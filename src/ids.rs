//! Typed ids: a family's id cannot be passed where a student's is expected. Each is a UUID
//! (v7 for the ids Liaison mints), stored as text and sent as a UUID string.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id (UUIDv7: ids sort by creation time).
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            /// The UUID.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        $crate::db::types::text_sql!(
            $name,
            $what,
            owned = to_string,
            from = |s: &str| Uuid::parse_str(s).ok().map($name)
        );
    };
}

id_type!(
    /// A family's id.
    FamilyId,
    "family id"
);
id_type!(
    /// A guardian's id.
    GuardianId,
    "guardian id"
);
id_type!(
    /// A student's id.
    StudentId,
    "student id"
);
id_type!(
    /// A guardian–student link's id.
    LinkId,
    "link id"
);
id_type!(
    /// A communication's id.
    CommunicationId,
    "communication id"
);
id_type!(
    /// A concern's id.
    ConcernId,
    "concern id"
);
id_type!(
    /// An entry of a concern's history (a comment, a transition, …).
    ConcernEventId,
    "concern event id"
);
id_type!(
    /// An IEP collaboration note's id.
    IepNoteId,
    "IEP note id"
);
id_type!(
    /// An action item's id (an item of an IEP note).
    ActionItemId,
    "action item id"
);
id_type!(
    /// An admissions stage's id.
    StageId,
    "stage id"
);
id_type!(
    /// An applicant's id.
    ApplicantId,
    "applicant id"
);
id_type!(
    /// An entry of an applicant's stage history.
    ApplicantMoveId,
    "applicant move id"
);
id_type!(
    /// An audit event's id.
    AuditEventId,
    "audit event id"
);

id_type!(
    /// An event's id.
    EventId,
    "event id"
);
id_type!(
    /// An RSVP's id.
    RsvpId,
    "RSVP id"
);
id_type!(
    /// An attendance record's id.
    AttendanceId,
    "attendance id"
);
id_type!(
    /// An event feedback's id.
    FeedbackId,
    "feedback id"
);
id_type!(
    /// A conference slot's id.
    SlotId,
    "slot id"
);
id_type!(
    /// A booking's id.
    BookingId,
    "booking id"
);
id_type!(
    /// A community resource's id.
    ResourceId,
    "resource id"
);
id_type!(
    /// A referral's id.
    ReferralId,
    "referral id"
);
id_type!(
    /// A service account's id (its OAuth 2 `client_id`).
    ClientId,
    "client id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_uuid_strings() {
        let id = FamilyId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.0));
        let back: FamilyId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<FamilyId>("\"not-a-uuid\"").is_err());
    }
}
