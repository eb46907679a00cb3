//! Rate limits: per caller token buckets (GCRA, `governor`) for reads, writes and imports, and
//! the limit on failed token requests.
//!
//! Every `/v1` request with a token that verifies is counted against its caller's (its school's
//! and `sub`'s) bucket for its kind: GET and HEAD are reads, requests under `/v1/imports/` imports, anything
//! else a write. The answer carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
//! and `RateLimit-Policy` (IETF draft "RateLimit header fields for HTTP"); an empty bucket is a
//! 429 with `Retry-After`. A request without a usable token is not counted: it is answered 401
//! by the handler at the cost of the token check alone.
//!
//! The middleware verifies the token once and leaves the caller in the request's extensions,
//! where the `Caller` extractor takes it: the token is not verified twice. The count itself is
//! one lookup in a sharded map and no allocation but the header values.
//!
//! The limits hold per process: behind a balancer with N servers a caller gets up to N times
//! the quota.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::{Rate, RateLimitConfig};
use crate::error::ApiError;
use crate::AppState;

type Limiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

fn quota(rate: Rate) -> Option<Quota> {
    let count = NonZeroU32::new(rate.count)?;
    Quota::with_period(rate.per / count.get()).map(|q| q.allow_burst(count))
}

/// One kind of request's bucket: the limiter, and what its headers say of it.
struct Bucket {
    limiter: Limiter<String>,
    burst: u32,
    interval: Duration,
    limit: HeaderValue,
    policy: HeaderValue,
}

/// What a count decided, and the header values to send.
pub struct Outcome {
    limit: HeaderValue,
    policy: HeaderValue,
    remaining: u32,
    reset: u64,
    /// Seconds to wait when the bucket was empty.
    retry_after: Option<u64>,
}

impl Outcome {
    /// Writes the `RateLimit-*` fields (and `Retry-After` on a refusal).
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(RATELIMIT_LIMIT, self.limit.clone());
        headers.insert(RATELIMIT_REMAINING, HeaderValue::from(self.remaining));
        headers.insert(RATELIMIT_RESET, HeaderValue::from(self.reset));
        headers.insert(RATELIMIT_POLICY, self.policy.clone());
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
}

const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Whole seconds, rounded up.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Bucket {
    fn new(rate: Rate) -> Option<Bucket> {
        let quota = quota(rate)?;
        Some(Bucket {
            limiter: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            burst: rate.count,
            interval: quota.replenish_interval(),
            limit: HeaderValue::from(rate.count),
            policy: HeaderValue::from_str(&format!("{};w={}", rate.count, rate.per.as_secs()))
                .ok()?,
        })
    }

    fn check(&self, key: &String) -> Outcome {
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                // When the bucket is full again: each spent request comes back after one interval.
                let reset = ceil_secs(self.interval * self.burst.saturating_sub(remaining));
                Outcome {
                    limit: self.limit.clone(),
                    policy: self.policy.clone(),
                    remaining,
                    reset,
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = ceil_secs(not_until.wait_time_from(self.limiter.clock().now())).max(1);
                Outcome {
                    limit: self.limit.clone(),
                    policy: self.policy.clone(),
                    remaining: 0,
                    reset: wait,
                    retry_after: Some(wait),
                }
            }
        }
    }
}

/// The limits of one process.
pub struct RateLimits {
    reads: Option<Bucket>,
    writes: Option<Bucket>,
    imports: Option<Bucket>,
    failures: Option<Failures>,
}

impl RateLimits {
    /// The limits `config` sets.
    pub fn new(config: &RateLimitConfig) -> RateLimits {
        RateLimits {
            reads: config.reads.and_then(Bucket::new),
            writes: config.writes.and_then(Bucket::new),
            imports: config.imports.and_then(Bucket::new),
            failures: config.token_failures.and_then(Failures::new),
        }
    }

    /// The bucket a request to `path` with `method` counts against, if that one is on.
    fn bucket(&self, method: &Method, path: &str) -> Option<&Bucket> {
        if path.starts_with("/v1/imports/") {
            self.imports.as_ref()
        } else if method == Method::GET || method == Method::HEAD {
            self.reads.as_ref()
        } else {
            self.writes.as_ref()
        }
    }

    /// Forgets the callers whose buckets are full again (they would start full anyway), so that
    /// the maps hold only recent callers.
    pub fn forget_idle(&self) {
        for bucket in [&self.reads, &self.writes, &self.imports]
            .into_iter()
            .flatten()
        {
            bucket.limiter.retain_recent();
            bucket.limiter.shrink_to_fit();
        }
        if let Some(f) = &self.failures {
            f.forget_idle();
        }
    }

    /// The failed-token-request limit, if on.
    pub fn failures(&self) -> Option<&Failures> {
        self.failures.as_ref()
    }
}

/// The limit on failed token requests, per client id and per peer address. A key whose failures
/// ran over its quota is refused (429) without checking its secret until it may try again, so
/// a guesser gets no answer at all, right or wrong, while it is blocked.
pub struct Failures {
    clients: Limiter<String>,
    peers: Limiter<IpAddr>,
    blocked: Mutex<HashMap<Key, Instant>>,
}

/// What failures are counted by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Client(String),
    Peer(IpAddr),
}

impl Failures {
    fn new(rate: Rate) -> Option<Failures> {
        let quota = quota(rate)?;
        Some(Failures {
            clients: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            peers: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            blocked: Mutex::new(HashMap::new()),
        })
    }

    fn keys(client_id: Option<&str>, peer: Option<IpAddr>) -> impl Iterator<Item = Key> {
        client_id
            .map(|c| Key::Client(c.to_string()))
            .into_iter()
            .chain(peer.map(Key::Peer))
    }

    /// Seconds to wait, if the client id or the address is blocked now.
    pub fn blocked(&self, client_id: Option<&str>, peer: Option<IpAddr>) -> Option<u64> {
        let now = Instant::now();
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(client_id, peer)
            .filter_map(|k| blocked.get(&k))
            .filter(|until| **until > now)
            .map(|until| ceil_secs(*until - now).max(1))
            .max()
    }

    /// Counts a failure; the seconds to wait when it went over the quota.
    pub fn fail(&self, client_id: Option<&str>, peer: Option<IpAddr>) -> Option<u64> {
        let mut wait = None::<Duration>;
        if let Some(c) = client_id {
            if let Err(nu) = self.clients.check_key(&c.to_string()) {
                wait = Some(nu.wait_time_from(self.clients.clock().now()));
            }
        }
        if let Some(p) = peer {
            if let Err(nu) = self.peers.check_key(&p) {
                let w = nu.wait_time_from(self.peers.clock().now());
                wait = Some(wait.map_or(w, |x| x.max(w)));
            }
        }
        let wait = wait?;
        let until = Instant::now() + wait;
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        if blocked.len() >= 10_000 {
            let now = Instant::now();
            blocked.retain(|_, t| *t > now);
        }
        for key in Self::keys(client_id, peer) {
            blocked.insert(key, until);
        }
        Some(ceil_secs(wait).max(1))
    }

    fn forget_idle(&self) {
        self.clients.retain_recent();
        self.peers.retain_recent();
        let now = Instant::now();
        self.blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, t| *t > now);
    }
}

/// The bearer token of a request, if it has one.
fn bearer(req: &ServiceRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Middleware: counts a `/v1` request against its caller's bucket, refuses it with 429 when the
/// bucket is empty, and puts the `RateLimit-*` fields on the answer.
pub async fn middleware<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let outcome = count(&req);
    match outcome {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(outcome) if outcome.retry_after.is_some() => {
            let refusal = ApiError::RateLimited {
                retry_after: outcome.retry_after.unwrap_or(1),
            };
            let mut res = refusal.error_response();
            outcome.apply(res.headers_mut());
            Ok(req.into_response(res).map_into_right_body())
        }
        Some(outcome) => {
            let mut res = next.call(req).await?;
            outcome.apply(res.headers_mut());
            Ok(res.map_into_left_body())
        }
    }
}

/// The count of a request, when it is one to count (a `/v1` request with a token that
/// verifies, of a kind whose bucket is on). The verified caller is left for the extractor.
fn count(req: &ServiceRequest) -> Option<Outcome> {
    if !req.path().starts_with("/v1/") {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    let bucket = state.limits.bucket(req.method(), req.path())?;
    let caller = state.keys.verify(bearer(req)?).ok()?;
    // A caller is a `sub` within its school: tokens of two schools that share a `sub` (an
    // identity provider's numbering, `liaison token`'s default) never spend each other's quota.
    let key = format!("{}\n{}", caller.school_id, caller.sub);
    let outcome = bucket.check(&key);
    req.extensions_mut().insert(caller);
    Some(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_counts_down_and_says_when_it_is_full_again() {
        let bucket = Bucket::new(Rate {
            count: 3,
            per: Duration::from_secs(3),
        })
        .unwrap();
        let key = "a".to_string();
        let first = bucket.check(&key);
        assert_eq!(
            (first.remaining, first.reset, first.retry_after),
            (2, 1, None)
        );
        bucket.check(&key);
        let third = bucket.check(&key);
        assert_eq!((third.remaining, third.reset), (0, 3));
        let refused = bucket.check(&key);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after, Some(1));
        // Another caller has a bucket of its own.
        assert_eq!(bucket.check(&"b".to_string()).remaining, 2);
    }

    #[test]
    fn failures_block_the_client_and_the_address_once_over_the_quota() {
        let f = Failures::new(Rate {
            count: 2,
            per: Duration::from_secs(60),
        })
        .unwrap();
        let peer: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(f.blocked(Some("c"), Some(peer)), None);
        assert_eq!(f.fail(Some("c"), Some(peer)), None);
        assert_eq!(f.fail(Some("c"), Some(peer)), None);
        let wait = f.fail(Some("c"), Some(peer)).unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(f.blocked(Some("c"), None).is_some());
        assert!(f.blocked(Some("other"), Some(peer)).is_some());
        assert_eq!(f.blocked(Some("other"), None), None);
    }
}
