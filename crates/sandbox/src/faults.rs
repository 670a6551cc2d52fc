//! Injected faults (`--faults throttle=3,latency=20,replication=30`): Graph throttling, latency
//! on every request, and the replication delay after a FIC is created.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every Nth Graph request answers 429 with `Retry-After: 1`.
    pub throttle_every: Option<u64>,
    /// Every request (token service, Graph, MSI) waits this long first.
    pub latency: Option<Duration>,
    /// A FIC younger than this is not yet visible to the token endpoint (AADSTS70021).
    pub replication: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultsError {
    #[error(
        "unknown fault '{0}'; use throttle=N, latency=MS or replication=SECS, comma-separated (e.g. throttle=3,latency=20)"
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

/// Counts Graph requests for `throttle=N`.
#[derive(Debug, Default)]
pub struct ThrottleCounter(AtomicU64);

impl ThrottleCounter {
    /// True when this request is the Nth and must be throttled.
    pub fn should_throttle(&self, every: Option<u64>) -> bool {
        match every {
            Some(n) if n > 0 => {
                let count = self.0.fetch_add(1, Ordering::Relaxed) + 1;
                count.is_multiple_of(n)
            }
            _ => false,
        }
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
    fn throttles_every_nth() {
        let c = ThrottleCounter::default();
        let hits: Vec<bool> = (0..6).map(|_| c.should_throttle(Some(3))).collect();
        assert_eq!(hits, [false, false, true, false, false, true]);
        assert!(!c.should_throttle(None));
    }
}
