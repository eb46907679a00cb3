//! The service's notion of now: the system clock, or one the tests hold.

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime, SubsecRound, Utc};

/// A clock.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<NaiveDateTime>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands still at `at` until moved.
    pub fn fixed(at: NaiveDateTime) -> Self {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    /// Now, in UTC, to the microsecond (what both databases keep).
    pub fn now(&self) -> NaiveDateTime {
        match &self.0 {
            None => Utc::now().naive_utc().trunc_subsecs(6),
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Today's date in UTC.
    pub fn today(&self) -> NaiveDate {
        self.now().date()
    }

    /// Moves a held clock (no effect on the system clock).
    pub fn set(&self, at: NaiveDateTime) {
        if let Some(t) = &self.0 {
            *t.lock().unwrap_or_else(|p| p.into_inner()) = at.trunc_subsecs(6);
        }
    }
}
