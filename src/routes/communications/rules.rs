//! The school's contact rules, as pure functions over a contact and the people it reaches.
//!
//! They hold no request and read no database: the handlers judge a contact when it is logged or
//! changed, and a sender (the outbox) can judge the same stored contact again at send time,
//! with the target loaded afresh (`store::contact_target`).

use std::fmt;

use super::wire::Direction;
use crate::domain::{Channel, LanguageTag};
use crate::ids::{GuardianId, StudentId};

/// What the rules judge of a communication: who is contacted, how, and in which language.
///
/// Two contacts that are equal are the same contact: a change that leaves it equal (a subject,
/// a follow-up recorded) is bookkeeping on a contact already judged, and is not judged again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The guardian contacted, if one (else the household).
    pub guardian: Option<GuardianId>,
    /// The student it is about, if one.
    pub student: Option<StudentId>,
    /// How.
    pub channel: Channel,
    /// Which way; only outbound contacts are judged.
    pub direction: Direction,
    /// The language it happens in.
    pub language: Option<LanguageTag>,
    /// An interpreter took part.
    pub interpreter_used: bool,
    /// It was translated into the recipient's language.
    pub translated: bool,
}

/// The household's consents and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    /// The family agreed to text messages.
    pub sms_opt_in: bool,
    /// The family's language.
    pub language: Option<LanguageTag>,
}

/// The named guardian's consents and restrictions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianTarget {
    /// False under a court order: nothing may be sent to this adult.
    pub contact_allowed: bool,
    /// The guardian agreed to text messages.
    pub sms_opt_in: bool,
    /// The guardian's own language, if they stated one.
    pub preferred_language: Option<LanguageTag>,
    /// Their link to the contact's student is `contact_restricted` (false when no student is
    /// named).
    pub restricted_for_student: bool,
}

/// Everything the rules need to know about whom a contact reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactTarget {
    /// The family.
    pub household: Household,
    /// The guardian, when the contact names one.
    pub guardian: Option<GuardianTarget>,
}

/// Who receives a contact, as messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The named guardian.
    Guardian,
    /// The household as a whole.
    Family,
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Recipient::Guardian => "guardian",
            Recipient::Family => "family",
        })
    }
}

/// Why a contact may not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The guardian's `contact_allowed` is false.
    ContactNotAllowed,
    /// The guardian's link to the student is `contact_restricted`.
    ContactRestricted,
    /// A text message to someone who has not agreed to them.
    SmsConsentMissing(Recipient),
}

/// A remark on a contact that may be made but deserves a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// Made in a language the recipient does not prefer, with neither interpreter nor
    /// translation.
    LanguageMismatch {
        /// The language it was made in.
        sent: LanguageTag,
        /// The recipient's language.
        preferred: LanguageTag,
        /// Who.
        recipient: Recipient,
    },
}

impl fmt::Display for Warning {
    /// The remark as clients read it in `warnings`: its code, then what it means.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LanguageMismatch {
                sent,
                preferred,
                recipient,
            } => write!(
                f,
                "language_mismatch: sent in {sent} but the {recipient} prefers {preferred}, with no interpreter or translation"
            ),
        }
    }
}

/// Judges a contact against whom it reaches: a refusal, or the warnings of a contact that may
/// be made. Only outbound contacts are judged (what a family sends the school is never refused).
///
/// `target` must be loaded for the contact's guardian and student.
pub fn judge(contact: &Contact, target: &ContactTarget) -> Result<Vec<Warning>, Refusal> {
    if contact.direction != Direction::Outbound {
        return Ok(Vec::new());
    }
    let household = &target.household;
    let (recipient, sms_opt_in, preferred) = match &target.guardian {
        Some(g) => {
            if !g.contact_allowed {
                return Err(Refusal::ContactNotAllowed);
            }
            if g.restricted_for_student {
                return Err(Refusal::ContactRestricted);
            }
            // A guardian with no language of their own goes by the household's.
            let preferred = g
                .preferred_language
                .as_ref()
                .or(household.language.as_ref());
            (Recipient::Guardian, g.sms_opt_in, preferred)
        }
        None => (
            Recipient::Family,
            household.sms_opt_in,
            household.language.as_ref(),
        ),
    };
    if contact.channel == Channel::Sms && !sms_opt_in {
        return Err(Refusal::SmsConsentMissing(recipient));
    }
    let mut warnings = Vec::new();
    if let (Some(sent), Some(preferred)) = (&contact.language, preferred) {
        if !same_language(sent, preferred) && !contact.interpreter_used && !contact.translated {
            warnings.push(Warning::LanguageMismatch {
                sent: sent.clone(),
                preferred: preferred.clone(),
                recipient,
            });
        }
    }
    Ok(warnings)
}

/// Whether two language tags name the same language (`es` and `es-MX` do).
pub fn same_language(a: &LanguageTag, b: &LanguageTag) -> bool {
    let primary = |t: &LanguageTag| {
        let s = t.as_str();
        s.split('-').next().unwrap_or(s).to_ascii_lowercase()
    };
    primary(a) == primary(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> LanguageTag {
        LanguageTag::parse(tag).expect("a language tag")
    }

    fn call(channel: Channel) -> Contact {
        Contact {
            guardian: None,
            student: None,
            channel,
            direction: Direction::Outbound,
            language: None,
            interpreter_used: false,
            translated: false,
        }
    }

    fn household(sms_opt_in: bool, language: Option<&str>) -> ContactTarget {
        ContactTarget {
            household: Household {
                sms_opt_in,
                language: language.map(lang),
            },
            guardian: None,
        }
    }

    fn guardian() -> GuardianTarget {
        GuardianTarget {
            contact_allowed: true,
            sms_opt_in: false,
            preferred_language: None,
            restricted_for_student: false,
        }
    }

    fn with(guardian: GuardianTarget) -> ContactTarget {
        ContactTarget {
            guardian: Some(guardian),
            ..household(true, Some("es"))
        }
    }

    #[test]
    fn a_barred_guardian_is_never_contacted_whatever_else_holds() {
        let barred = with(GuardianTarget {
            contact_allowed: false,
            sms_opt_in: true,
            restricted_for_student: true,
            ..guardian()
        });
        for channel in [Channel::Phone, Channel::Sms, Channel::Letter] {
            assert_eq!(
                judge(&call(channel), &barred),
                Err(Refusal::ContactNotAllowed)
            );
        }
    }

    #[test]
    fn a_restricted_link_bars_contact_about_that_child() {
        let restricted = with(GuardianTarget {
            restricted_for_student: true,
            sms_opt_in: true,
            ..guardian()
        });
        assert_eq!(
            judge(&call(Channel::Email), &restricted),
            Err(Refusal::ContactRestricted)
        );
    }

    #[test]
    fn a_text_needs_the_recipients_own_consent() {
        // The guardian's consent counts when one is named, the household's otherwise.
        let no_guardian_consent = with(guardian());
        assert_eq!(
            judge(&call(Channel::Sms), &no_guardian_consent),
            Err(Refusal::SmsConsentMissing(Recipient::Guardian))
        );
        let consenting = with(GuardianTarget {
            sms_opt_in: true,
            ..guardian()
        });
        assert_eq!(judge(&call(Channel::Sms), &consenting), Ok(vec![]));
        assert_eq!(
            judge(&call(Channel::Sms), &household(false, None)),
            Err(Refusal::SmsConsentMissing(Recipient::Family))
        );
        assert_eq!(
            judge(&call(Channel::Sms), &household(true, None)),
            Ok(vec![])
        );
        // No consent is needed for a call.
        assert_eq!(
            judge(&call(Channel::Phone), &household(false, None)),
            Ok(vec![])
        );
    }

    #[test]
    fn what_the_family_sends_is_never_refused() {
        let barred = with(GuardianTarget {
            contact_allowed: false,
            ..guardian()
        });
        let inbound = Contact {
            direction: Direction::Inbound,
            language: Some(lang("fr")),
            ..call(Channel::Sms)
        };
        assert_eq!(judge(&inbound, &barred), Ok(vec![]));
        assert_eq!(judge(&inbound, &household(false, Some("es"))), Ok(vec![]));
    }

    #[test]
    fn another_language_without_help_is_a_warning_not_a_refusal() {
        let in_lang = |tag: &str| Contact {
            language: Some(lang(tag)),
            ..call(Channel::Phone)
        };
        let family = household(false, Some("es"));
        let warnings = judge(&in_lang("en"), &family).expect("accepted");
        assert_eq!(
            warnings,
            vec![Warning::LanguageMismatch {
                sent: lang("en"),
                preferred: lang("es"),
                recipient: Recipient::Family,
            }]
        );
        assert_eq!(
            warnings[0].to_string(),
            "language_mismatch: sent in en but the family prefers es, with no interpreter or translation"
        );
        // A regional variant is the same language; help makes any language fine.
        assert_eq!(judge(&in_lang("es-MX"), &family), Ok(vec![]));
        for helped in [
            Contact {
                interpreter_used: true,
                ..in_lang("en")
            },
            Contact {
                translated: true,
                ..in_lang("en")
            },
        ] {
            assert_eq!(judge(&helped, &family), Ok(vec![]));
        }
        // No language on either side: nothing to compare.
        assert_eq!(judge(&call(Channel::Phone), &family), Ok(vec![]));
        assert_eq!(judge(&in_lang("en"), &household(false, None)), Ok(vec![]));
    }

    #[test]
    fn a_guardian_without_a_language_goes_by_the_households() {
        let luis = with(guardian());
        let contact = Contact {
            language: Some(lang("en")),
            ..call(Channel::Phone)
        };
        let warnings = judge(&contact, &luis).expect("accepted");
        assert!(matches!(
            warnings.as_slice(),
            [Warning::LanguageMismatch { preferred, recipient: Recipient::Guardian, .. }]
                if *preferred == lang("es")
        ));
        // Their own language, when stated, wins over the household's.
        let ana = with(GuardianTarget {
            preferred_language: Some(lang("en")),
            ..guardian()
        });
        assert_eq!(judge(&contact, &ana), Ok(vec![]));
    }

    #[test]
    fn languages_compare_by_their_primary_subtag() {
        assert!(same_language(&lang("es"), &lang("es-419")));
        assert!(same_language(&lang("zh-Hant-TW"), &lang("zh")));
        assert!(!same_language(&lang("en"), &lang("es")));
    }
}
