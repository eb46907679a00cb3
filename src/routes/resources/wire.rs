//! Community resources and referrals on the wire, and the enumerations they are made of
//! (stored as the same text).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{plain_text, text_enum, LanguageTag};

text_enum! {
    /// What a community resource offers.
    ResourceCategory {
        /// Counselling.
        Counseling => "counseling",
        /// Health care.
        Health => "health",
        /// Food.
        Food => "food",
        /// Housing.
        Housing => "housing",
        /// Financial aid.
        FinancialAid => "financial_aid",
        /// Legal aid.
        Legal => "legal",
        /// Tutoring.
        Tutoring => "tutoring",
        /// Language classes.
        LanguageClasses => "language_classes",
        /// Childcare.
        Childcare => "childcare",
        /// Anything else.
        Other => "other",
    }
}

text_enum! {
    /// What a resource costs a family.
    Cost {
        /// Nothing.
        Free => "free",
        /// By income.
        SlidingScale => "sliding_scale",
        /// A fee.
        Paid => "paid",
    }
}

text_enum! {
    /// Where a referral stands.
    ReferralStatus {
        /// The family was referred.
        Referred => "referred",
        /// The resource (or the family) was contacted.
        Contacted => "contacted",
        /// The family is connected to the resource.
        Connected => "connected",
        /// The family declined.
        Declined => "declined",
        /// Nobody could be reached.
        Unreachable => "unreachable",
    }
}

text_enum! {
    /// Who may see a referral.
    ReferralVisibility {
        /// Staff only (the default).
        Staff => "staff",
        /// Staff and the family.
        Family => "family",
    }
}

/// A community resource's fields: what `POST /v1/resources` takes and a merge patch edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ResourceFields {
    /// Its name.
    #[schema(min_length = 1, max_length = 200, example = "Eastside Food Pantry")]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub name: String,
    /// What it offers.
    pub category: ResourceCategory,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub description: Option<String>,
    /// The languages it serves (BCP 47).
    #[serde(default)]
    #[schema(max_items = 20)]
    #[validate(length(max = 20))]
    pub languages: Vec<LanguageTag>,
    /// Its phone number, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 50)]
    #[validate(length(min = 1, max = 50), custom(function = plain_text))]
    pub phone: Option<String>,
    /// Its email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 3, max_length = 254)]
    #[validate(length(min = 3, max = 254), custom(function = plain_text))]
    pub email: Option<String>,
    /// Its website (http or https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    #[validate(
        length(min = 1, max = 2000),
        custom(function = crate::routes::events::rules::web_url)
    )]
    pub website: Option<String>,
    /// Where it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 500)]
    #[validate(length(min = 1, max = 500), custom(function = plain_text))]
    pub address: Option<String>,
    /// Who may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 4000)]
    #[validate(length(min = 1, max = 4000), custom(function = plain_text))]
    pub eligibility: Option<String>,
    /// What it costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Whether families are referred to it now (default true; guardians see only active ones).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a community resource.
    ///
    /// Its schema is derived from `ResourceFields`'s by `patch_schema!`, so the two cannot drift.
    pub struct ResourcePatch for ResourceFields;
}

/// A community resource.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resource {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What it offers.
    pub category: ResourceCategory,
    /// What it does.
    pub description: Option<String>,
    /// The languages it serves.
    pub languages: Vec<String>,
    /// Its phone number.
    pub phone: Option<String>,
    /// Its email address.
    pub email: Option<String>,
    /// Its website.
    pub website: Option<String>,
    /// Where it is.
    pub address: Option<String>,
    /// Who may use it.
    pub eligibility: Option<String>,
    /// What it costs.
    pub cost: Option<Cost>,
    /// Whether families are referred to it now.
    pub active: bool,
    /// Its version.
    pub version: i64,
    /// When it was recorded.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Filters of the resources.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListResourcesQuery {
    /// Of this category.
    pub category: Option<ResourceCategory>,
    /// Serving this language.
    pub language: Option<LanguageTag>,
    /// Name or description contains this (any case).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub q: Option<String>,
    /// Active (`true`) or not (`false`); a guardian sees only active ones.
    pub active: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A new referral.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// The family referred.
    pub family_id: Uuid,
    /// The child it is for, if one.
    #[serde(default)]
    pub student_id: Option<Uuid>,
    /// The resource.
    pub resource_id: Uuid,
    /// Why.
    #[schema(
        min_length = 1,
        max_length = 4000,
        example = "Looking for weekend food support"
    )]
    #[validate(length(min = 1, max = 4000), custom(function = plain_text))]
    pub reason: String,
    /// When to follow up.
    #[serde(default)]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// `staff` (the default) or `family` (the family sees it).
    #[serde(default)]
    pub visibility: Option<ReferralVisibility>,
}

/// The fields of a referral a merge patch edits (its status moves by transitions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReferralFields {
    /// Why.
    #[schema(min_length = 1, max_length = 4000)]
    #[validate(length(min = 1, max = 4000), custom(function = plain_text))]
    pub reason: String,
    /// When to follow up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// What came of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 4000)]
    #[validate(length(min = 1, max = 4000), custom(function = plain_text))]
    pub outcome_note: Option<String>,
    /// `staff` or `family`.
    pub visibility: ReferralVisibility,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a referral.
    ///
    /// Its schema is derived from `ReferralFields`'s by `patch_schema!`, so the two cannot drift.
    pub struct ReferralPatch for ReferralFields;
}

/// A referral.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Referral {
    /// Its id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// The child, if one.
    pub student_id: Option<Uuid>,
    /// The resource.
    pub resource_id: Uuid,
    /// Why.
    pub reason: String,
    /// Where it stands.
    pub status: ReferralStatus,
    /// When to follow up.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// What came of it.
    pub outcome_note: Option<String>,
    /// Who may see it.
    pub visibility: ReferralVisibility,
    /// Who referred (a staff `sub`).
    pub referred_by: String,
    /// Its version.
    pub version: i64,
    /// When it was made.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A move of a referral's status.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReferralTransition {
    /// The status to move to.
    pub to: ReferralStatus,
    /// What came of it (replaces `outcome_note` when given).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 4000)]
    #[validate(length(min = 1, max = 4000), custom(function = plain_text))]
    pub outcome_note: Option<String>,
}

text_enum! {
    /// Which follow-ups to list.
    FollowUp {
        /// Open referrals whose follow-up falls today (UTC) or earlier.
        Due => "due",
        /// Open referrals whose follow-up time has passed.
        Overdue => "overdue",
    }
}

/// Filters of the referrals.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListReferralsQuery {
    /// In this status.
    pub status: Option<ReferralStatus>,
    /// To this resource.
    pub resource_id: Option<Uuid>,
    /// Of this family.
    pub family_id: Option<Uuid>,
    /// `due` or `overdue` (open referrals only: `referred` or `contacted`).
    #[param(inline)]
    pub follow_up: Option<FollowUp>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The legal moves from `from`.
pub fn moves_from(from: ReferralStatus) -> &'static [ReferralStatus] {
    use ReferralStatus::*;
    match from {
        Referred => &[Contacted],
        Contacted => &[Connected, Declined, Unreachable],
        Connected | Declined | Unreachable => &[],
    }
}

/// Whether a referral in `status` is still being followed.
pub fn is_open(status: ReferralStatus) -> bool {
    matches!(status, ReferralStatus::Referred | ReferralStatus::Contacted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrals_move_forward_to_one_outcome() {
        use ReferralStatus::*;
        assert_eq!(moves_from(Referred), &[Contacted]);
        assert_eq!(moves_from(Contacted), &[Connected, Declined, Unreachable]);
        for end in [Connected, Declined, Unreachable] {
            assert!(moves_from(end).is_empty());
            assert!(!is_open(end));
        }
        assert!(is_open(Referred) && is_open(Contacted));
    }
}
