//! Injected faults (`--faults throttle=3,latency=20,replication=30,graph-lag=30`) and the runtime
//! state of Graph's own limits.
//!
//! Faults: Graph throttling every Nth request, latency on every request, the replication delay
//! after a FIC is created (token service), Graph's read-after-write lag (`graph-lag=SECS`),
//! transient Graph failures (`graph-503=N`, `graph-504=N`, `graph-drop=N`) and a smaller
//! throttling budget (`graph-budget=RU`).
//!
//! Limits that are always on, as in Entra ([`GraphRuntime`]): Graph's token bucket per app and
//! tenant (resource units per 10 s by tenant size, a write quota per 150 s), and the
//! `$select=keyCredentials` quota of 150 requests per minute per tenant.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every Nth Graph request answers 429 with `Retry-After: 1`.
    pub throttle_every: Option<u64>,
    /// Every request (token service, Graph, MSI) waits this long first.
    pub latency: Option<Duration>,
    /// A FIC younger than this is not yet visible to the token endpoint (AADSTS70021).
    pub replication: Option<Duration>,
    /// `graph-lag=SECS`: Graph's reads (gets, lists, the advanced-query index) of an
    /// application whose FICs were just written show the state before the write for this long.
    pub graph_lag: Option<Duration>,
    /// `graph-503=N`: every Nth Graph request answers 503 before doing anything.
    pub graph_503_every: Option<u64>,
    /// `graph-504=N`: every Nth Graph write is carried out, then answered 504 (the gateway gave
    /// up waiting for a backend that did the work).
    pub graph_504_every: Option<u64>,
    /// `graph-drop=N`: every Nth Graph write is carried out, then its connection is dropped
    /// without an answer.
    pub graph_drop_every: Option<u64>,
    /// `graph-budget=RU`: the app-and-tenant token bucket holds this many resource units per
    /// 10 s instead of the tenant size's (3,500 / 5,000 / 8,000).
    pub graph_budget: Option<u64>,
    /// `graph-write-quota=N`: the app may write N times per 150 s in a tenant instead of
    /// Graph's 3,000 (its `Retry-After` then runs past 30 s, as Graph's does).
    pub graph_write_quota: Option<u64>,
    /// `device-interval=SECS`: the polling interval a device code answer carries instead of
    /// Entra's 5 s (whole seconds, as Entra sends it; clients still wait it between polls).
    pub device_interval: Option<u64>,
    /// `approve-after=MS`: the auto-approver approves a device code this long after it is
    /// issued instead of about a second.
    pub approve_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultsError {
    #[error(
        "unknown fault '{0}'; use throttle=N, latency=MS, replication=SECS, graph-lag=SECS, graph-503=N, graph-504=N, graph-drop=N, graph-budget=RU, graph-write-quota=N, device-interval=SECS or approve-after=MS, comma-separated (e.g. throttle=3,latency=20)"
    )]
    Unknown(String),
    #[error("fault '{name}' needs a positive whole number, got '{value}' (e.g. {name}=5)")]
    BadNumber { name: String, value: String },
    #[error("fault '{name}={value}' is out of range: {name} goes from 1 to {max} {unit}")]
    OutOfRange {
        name: String,
        value: String,
        max: u64,
        unit: &'static str,
    },
}

/// The largest `latency=MS`: ten minutes (any client times out long before).
pub const MAX_LATENCY_MS: u64 = 10 * 60 * 1000;
/// The largest `replication=SECS`: one day (Entra's real delay is seconds to minutes).
pub const MAX_REPLICATION_SECS: u64 = 24 * 60 * 60;
/// The largest `graph-budget=RU`: more than any real tenant's bucket.
pub const MAX_GRAPH_BUDGET: u64 = 1_000_000;
/// The largest `device-interval=SECS`: a device code's whole lifetime (15 minutes).
pub const MAX_DEVICE_INTERVAL_SECS: u64 = 15 * 60;

impl Faults {
    /// Parses `throttle=N,latency=MS,replication=SECS` (any subset, any order). An empty string
    /// or `none` means no faults.
    pub fn parse(spec: &str) -> Result<Faults, FaultsError> {
        let mut faults = Faults::default();
        let spec = spec.trim();
        if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
            return Ok(faults);
        }
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| FaultsError::Unknown(part.to_string()))?;
            let name = name.trim().to_ascii_lowercase();
            let number = value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| FaultsError::BadNumber {
                    name: name.clone(),
                    value: value.trim().to_string(),
                })?;
            let in_range = |max: u64, unit: &'static str| {
                if number <= max {
                    Ok(number)
                } else {
                    Err(FaultsError::OutOfRange {
                        name: name.clone(),
                        value: value.trim().to_string(),
                        max,
                        unit,
                    })
                }
            };
            match name.as_str() {
                "throttle" => faults.throttle_every = Some(number),
                "latency" => {
                    let ms = in_range(MAX_LATENCY_MS, "milliseconds")?;
                    faults.latency = Some(Duration::from_millis(ms));
                }
                "replication" => {
                    let secs = in_range(MAX_REPLICATION_SECS, "seconds")?;
                    faults.replication = Some(Duration::from_secs(secs));
                }
                "graph-lag" => {
                    let secs = in_range(MAX_REPLICATION_SECS, "seconds")?;
                    faults.graph_lag = Some(Duration::from_secs(secs));
                }
                "graph-503" => faults.graph_503_every = Some(number),
                "graph-504" => faults.graph_504_every = Some(number),
                "graph-drop" => faults.graph_drop_every = Some(number),
                "graph-budget" => {
                    faults.graph_budget = Some(in_range(MAX_GRAPH_BUDGET, "resource units")?)
                }
                "graph-write-quota" => {
                    faults.graph_write_quota = Some(in_range(WRITES_PER_WINDOW as u64, "writes")?)
                }
                "device-interval" => {
                    faults.device_interval = Some(in_range(MAX_DEVICE_INTERVAL_SECS, "seconds")?)
                }
                "approve-after" => {
                    let ms = in_range(MAX_LATENCY_MS, "milliseconds")?;
                    faults.approve_after = Some(Duration::from_millis(ms));
                }
                _ => return Err(FaultsError::Unknown(part.to_string())),
            }
        }
        Ok(faults)
    }

    pub fn is_none(&self) -> bool {
        self == &Faults::default()
    }
}

impl std::str::FromStr for Faults {
    type Err = FaultsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Faults::parse(s)
    }
}

/// The runtime of Graph's limits and faults, shared by every request of one sandbox: the
/// legacy `throttle=N` counter, the transient-fault counters, the token buckets, the
/// `keyCredentials` quota and the read-after-write lag journal. (Kept under its old name in
/// the shared state: [`ThrottleCounter`].)
///
/// Time is `Instant::now()` plus an offset tests may move forward ([`GraphRuntime::advance`]),
/// so no test waits real seconds for a bucket to refill or a replica to catch up.
#[derive(Debug, Default)]
pub struct GraphRuntime {
    nth: AtomicU64,
    requests_503: AtomicU64,
    writes_504: AtomicU64,
    writes_drop: AtomicU64,
    reads: AtomicU64,
    /// Milliseconds added to the real clock.
    offset_ms: AtomicI64,
    throttled: AtomicU64,
    buckets: Mutex<HashMap<(Uuid, String), Bucket>>,
    key_credentials: Mutex<HashMap<Uuid, VecDeque<Instant>>>,
    lag: Mutex<HashMap<(Uuid, Uuid), LagEntry>>,
}

/// The old name of [`GraphRuntime`], as the shared state knows it.
pub type ThrottleCounter = GraphRuntime;

/// Requests with `$select=keyCredentials` a tenant may send per minute (application list and
/// get docs).
pub const KEY_CREDENTIALS_PER_MINUTE: usize = 150;
/// Writes an app may send to one tenant per [`WRITE_WINDOW`] ("3,000 requests per 2 minutes
/// and 30 seconds", Graph's identity and access service limits).
pub const WRITES_PER_WINDOW: usize = 3000;
pub const WRITE_WINDOW: Duration = Duration::from_secs(150);
/// The token bucket's refill period: the documented quotas are resource units per 10 s.
pub const BUCKET_PERIOD: Duration = Duration::from_secs(10);

/// Resource units per 10 s of an app in a tenant, by tenant size (Graph's identity and access
/// service limits: small < 50 users 3,500; medium 50–500 users 5,000; large > 500 users 8,000).
pub fn tenant_budget(users: usize) -> u64 {
    match users {
        0..50 => 3500,
        50..=500 => 5000,
        _ => 8000,
    }
}

#[derive(Debug)]
struct Bucket {
    units: f64,
    refilled: Instant,
    writes: VecDeque<Instant>,
}

/// The FICs an application had before a burst of writes, and when the last write landed.
#[derive(Debug, Clone)]
struct LagEntry {
    last_write: Instant,
    before: Vec<crate::model::FederatedIdentityCredential>,
}

/// What happens to a Graph write after it was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterWrite {
    Answer,
    /// 504 Gateway Timeout: the backend did the work, the answer was lost.
    GatewayTimeout,
    /// The connection is dropped without an answer.
    Drop,
}

/// A refusal by a quota: answer 429 with this `Retry-After` (whole seconds, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverQuota {
    pub retry_after: u64,
}

fn every(counter: &AtomicU64, n: Option<u64>) -> bool {
    match n {
        Some(n) if n > 0 => (counter.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(n),
        _ => false,
    }
}

fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl GraphRuntime {
    /// True when this request is the Nth and must be throttled (`throttle=N`).
    pub fn should_throttle(&self, every_n: Option<u64>) -> bool {
        every(&self.nth, every_n)
    }

    /// The sandbox's notion of now (the real clock plus what tests advanced).
    pub fn now(&self) -> Instant {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        let base = Instant::now();
        if offset >= 0 {
            base + Duration::from_millis(offset.unsigned_abs())
        } else {
            base
        }
    }

    /// Moves the sandbox's Graph clock forward (tests: buckets refill, replicas catch up).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// How many 429s the token buckets and quotas answered so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// `graph-503=N`: this request answers 503 before doing anything.
    pub fn unavailable(&self, faults: &Faults) -> bool {
        every(&self.requests_503, faults.graph_503_every)
    }

    /// `graph-504=N` / `graph-drop=N`: what becomes of a write that was carried out.
    pub fn after_write(&self, faults: &Faults) -> AfterWrite {
        if every(&self.writes_drop, faults.graph_drop_every) {
            AfterWrite::Drop
        } else if every(&self.writes_504, faults.graph_504_every) {
            AfterWrite::GatewayTimeout
        } else {
            AfterWrite::Answer
        }
    }

    /// Spends `cost` resource units of the app's bucket in the tenant (and one write of its
    /// write quota when `write` names it). Refused with the wait until enough units (or a write slot)
    /// are back.
    pub fn spend(
        &self,
        tenant: Uuid,
        app: &str,
        capacity: u64,
        cost: u64,
        write: Option<usize>,
    ) -> Result<(), OverQuota> {
        let now = self.now();
        let capacity = capacity.max(1) as f64;
        let cost = (cost as f64).min(capacity);
        let per_second = capacity / BUCKET_PERIOD.as_secs_f64();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets
            .entry((tenant, app.to_ascii_lowercase()))
            .or_insert_with(|| Bucket {
                units: capacity,
                refilled: now,
                writes: VecDeque::new(),
            });
        let elapsed = now.saturating_duration_since(bucket.refilled);
        bucket.units = (bucket.units + elapsed.as_secs_f64() * per_second).min(capacity);
        bucket.refilled = now;
        if let Some(write_quota) = write {
            while bucket
                .writes
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= WRITE_WINDOW)
            {
                bucket.writes.pop_front();
            }
            if bucket.writes.len() >= write_quota {
                let oldest = bucket.writes.front().copied().unwrap_or(now);
                let wait = (oldest + WRITE_WINDOW).saturating_duration_since(now);
                self.throttled.fetch_add(1, Ordering::Relaxed);
                return Err(OverQuota {
                    retry_after: whole_seconds(wait).max(1),
                });
            }
        }
        if bucket.units < cost {
            let wait = Duration::from_secs_f64((cost - bucket.units) / per_second);
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(OverQuota {
                retry_after: whole_seconds(wait).max(1),
            });
        }
        bucket.units -= cost;
        if write.is_some() {
            bucket.writes.push_back(now);
        }
        Ok(())
    }

    /// Counts a `$select=keyCredentials` request of the tenant against its 150 per minute.
    pub fn key_credentials(&self, tenant: Uuid) -> Result<(), OverQuota> {
        let now = self.now();
        let minute = Duration::from_secs(60);
        let mut all = self
            .key_credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let log = all.entry(tenant).or_default();
        while log
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= minute)
        {
            log.pop_front();
        }
        if log.len() >= KEY_CREDENTIALS_PER_MINUTE {
            let oldest = log.front().copied().unwrap_or(now);
            let wait = (oldest + minute).saturating_duration_since(now);
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(OverQuota {
                retry_after: whole_seconds(wait).max(1),
            });
        }
        log.push_back(now);
        Ok(())
    }

    /// Notes a write to an application's FICs under `graph-lag`: reads keep showing `before`
    /// (the FICs before the first of a burst of writes) until the replicas catch up.
    pub fn record_write(
        &self,
        tenant: Uuid,
        app: Uuid,
        before: &[crate::model::FederatedIdentityCredential],
        lag: Option<Duration>,
    ) {
        let Some(lag) = lag else { return };
        let now = self.now();
        let mut journal = self.lag.lock().unwrap_or_else(|e| e.into_inner());
        journal.retain(|_, e| now.saturating_duration_since(e.last_write) < lag);
        journal
            .entry((tenant, app))
            .and_modify(|e| e.last_write = now)
            .or_insert_with(|| LagEntry {
                last_write: now,
                before: before.to_vec(),
            });
    }

    /// The applications of `tenant` whose FICs this read still sees as before their last
    /// write, with those FICs. Reads go to two replicas in turn, as Entra's are many: one
    /// catches up after half the lag, the other after all of it, so a read-back can flip
    /// between the new and the old value before it settles.
    pub fn stale_view(
        &self,
        tenant: Uuid,
        lag: Option<Duration>,
    ) -> Vec<(Uuid, Vec<crate::model::FederatedIdentityCredential>)> {
        let Some(lag) = lag else { return Vec::new() };
        let now = self.now();
        let journal = self.lag.lock().unwrap_or_else(|e| e.into_inner());
        if !journal.keys().any(|(t, _)| *t == tenant) {
            return Vec::new();
        }
        let replica = self.reads.fetch_add(1, Ordering::Relaxed) % 2;
        let catch_up = if replica == 0 { lag / 2 } else { lag };
        journal
            .iter()
            .filter(|((t, _), e)| {
                *t == tenant && now.saturating_duration_since(e.last_write) < catch_up
            })
            .map(|((_, app), e)| (*app, e.before.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let f = Faults::parse("throttle=3,latency=20,replication=30").expect("parses");
        assert_eq!(f.throttle_every, Some(3));
        assert_eq!(f.latency, Some(Duration::from_millis(20)));
        assert_eq!(f.replication, Some(Duration::from_secs(30)));
        assert!(Faults::parse("").expect("empty").is_none());
        assert!(Faults::parse("none").expect("none").is_none());
    }

    #[test]
    fn refuses_bad_specs() {
        assert!(matches!(
            Faults::parse("explode=1"),
            Err(FaultsError::Unknown(_))
        ));
        assert!(matches!(
            Faults::parse("throttle=x"),
            Err(FaultsError::BadNumber { .. })
        ));
        assert!(matches!(
            Faults::parse("throttle=0"),
            Err(FaultsError::BadNumber { .. })
        ));
        assert!(matches!(
            Faults::parse("latency"),
            Err(FaultsError::Unknown(_))
        ));
    }

    #[test]
    fn out_of_range_values_are_refused_not_wrapped() {
        // 2^63 used to become a negative i64 in the token service and disable the fault.
        for spec in [
            "replication=9223372036854775808",
            "replication=18446744073709551615",
            "replication=86401",
            "latency=600001",
        ] {
            let e = Faults::parse(spec).expect_err(spec);
            assert!(matches!(e, FaultsError::OutOfRange { .. }), "{spec}: {e:?}");
            assert!(e.to_string().contains("out of range"), "{e}");
        }
        // Beyond u64: still refused, as a bad number.
        assert!(Faults::parse("replication=99999999999999999999").is_err());
        let f = Faults::parse("replication=86400,latency=600000").expect("the maxima parse");
        assert_eq!(f.replication, Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn parses_the_graph_faults() {
        let f = Faults::parse("graph-lag=30,graph-503=2,graph-504=3,graph-drop=1,graph-budget=20")
            .expect("parses");
        assert_eq!(f.graph_lag, Some(Duration::from_secs(30)));
        assert_eq!(f.graph_503_every, Some(2));
        assert_eq!(f.graph_504_every, Some(3));
        assert_eq!(f.graph_drop_every, Some(1));
        assert_eq!(f.graph_budget, Some(20));
        assert!(Faults::parse("graph-lag=86401").is_err());
        assert!(Faults::parse("graph-budget=1000001").is_err());
    }

    #[test]
    fn parses_the_device_code_knobs() {
        let f = Faults::parse("device-interval=1,approve-after=50").expect("parses");
        assert_eq!(f.device_interval, Some(1));
        assert_eq!(f.approve_after, Some(Duration::from_millis(50)));
        assert!(!f.is_none());
        // Whole seconds of at least one, as Entra sends the interval.
        assert!(matches!(
            Faults::parse("device-interval=0"),
            Err(FaultsError::BadNumber { .. })
        ));
        assert!(matches!(
            Faults::parse("device-interval=901"),
            Err(FaultsError::OutOfRange { .. })
        ));
        assert!(Faults::parse("approve-after=600001").is_err());
        let unknown = Faults::parse("device=1").expect_err("unknown");
        assert!(
            unknown.to_string().contains("approve-after=MS"),
            "{unknown}"
        );
    }

    #[test]
    fn the_token_bucket_refills_and_says_how_long_to_wait() {
        let rt = GraphRuntime::default();
        let t = Uuid::nil();
        for _ in 0..10 {
            rt.spend(t, "app", 20, 2, None).expect("within the budget");
        }
        let refused = rt.spend(t, "app", 20, 2, None).expect_err("empty");
        // 2 units at 2 units per second: one second.
        assert_eq!(refused.retry_after, 1);
        assert!(rt.spend(t, "other-app", 20, 2, None).is_ok(), "per app");
        rt.advance(Duration::from_secs(10));
        assert!(rt.spend(t, "app", 20, 2, None).is_ok(), "refilled");
        assert_eq!(rt.throttled(), 1);
    }

    #[test]
    fn the_write_quota_waits_longer_than_thirty_seconds() {
        let rt = GraphRuntime::default();
        let t = Uuid::nil();
        for _ in 0..WRITES_PER_WINDOW {
            rt.spend(t, "app", 1_000_000, 1, Some(WRITES_PER_WINDOW))
                .expect("within quota");
        }
        let refused = rt
            .spend(t, "app", 1_000_000, 1, Some(WRITES_PER_WINDOW))
            .expect_err("quota");
        assert_eq!(refused.retry_after, 150);
        rt.advance(Duration::from_secs(100));
        let refused = rt
            .spend(t, "app", 1_000_000, 1, Some(WRITES_PER_WINDOW))
            .expect_err("quota");
        assert_eq!(refused.retry_after, 50);
    }

    #[test]
    fn key_credentials_quota_is_150_per_minute_per_tenant() {
        let rt = GraphRuntime::default();
        let (a, b) = (Uuid::nil(), Uuid::max());
        for _ in 0..KEY_CREDENTIALS_PER_MINUTE {
            rt.key_credentials(a).expect("within quota");
        }
        assert_eq!(rt.key_credentials(a), Err(OverQuota { retry_after: 60 }));
        assert!(rt.key_credentials(b).is_ok(), "per tenant");
        rt.advance(Duration::from_secs(60));
        assert!(rt.key_credentials(a).is_ok());
    }

    #[test]
    fn transient_faults_count_requests_and_writes() {
        let rt = GraphRuntime::default();
        let f = Faults::parse("graph-503=2,graph-drop=3").expect("faults");
        let hits: Vec<bool> = (0..4).map(|_| rt.unavailable(&f)).collect();
        assert_eq!(hits, [false, true, false, true]);
        let after: Vec<AfterWrite> = (0..3).map(|_| rt.after_write(&f)).collect();
        assert_eq!(
            after,
            [AfterWrite::Answer, AfterWrite::Answer, AfterWrite::Drop]
        );
    }

    #[test]
    fn lagging_reads_see_the_old_fics_until_both_replicas_catch_up() {
        let rt = GraphRuntime::default();
        let (t, app) = (Uuid::nil(), Uuid::max());
        let lag = Some(Duration::from_secs(30));
        assert!(rt.stale_view(t, lag).is_empty());
        rt.record_write(t, app, &[], lag);
        assert_eq!(rt.stale_view(t, lag).len(), 1);
        assert_eq!(rt.stale_view(t, lag).len(), 1);
        rt.advance(Duration::from_secs(20));
        let seen: Vec<usize> = (0..4).map(|_| rt.stale_view(t, lag).len()).collect();
        assert_eq!(
            seen.iter().sum::<usize>(),
            2,
            "one replica caught up: {seen:?}"
        );
        rt.advance(Duration::from_secs(11));
        assert!(rt.stale_view(t, lag).is_empty());
        assert!(rt.stale_view(t, None).is_empty());
    }

    #[test]
    fn throttles_every_nth() {
        let c = ThrottleCounter::default();
        let hits: Vec<bool> = (0..6).map(|_| c.should_throttle(Some(3))).collect();
        assert_eq!(hits, [false, false, true, false, false, true]);
        assert!(!c.should_throttle(None));
    }
}
