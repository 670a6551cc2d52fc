//! Sign-in evidence of an app's credentials, as the app detail shows it: per secret,
//! certificate and FIC, the last successful use, the uses in the window, the last failure
//! with its AADSTS code; or why there is no evidence (no Entra ID P1/P2, no permission).
//! Fetched when the app detail opens (`Cmd::LoadEvidence`), kept per app in
//! `State::evidence`.

use time::OffsetDateTime;

use ficus_core::text::relative_time;

/// How far back the app detail looks, in days.
pub const WINDOW_DAYS: i64 = 30;

/// What the sign-ins say about one credential, by its key (a secret's or certificate's keyId,
/// a FIC's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialUse {
    pub key: String,
    pub last_used: Option<OffsetDateTime>,
    pub uses: usize,
    pub last_failure: Option<(OffsetDateTime, u64)>,
    /// Failed attempts in the window.
    pub failures: usize,
}

/// The key of federated sign-ins no FIC matched.
pub const UNMATCHED: &str = "unmatched-federated-assertion";

/// An app's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    Usage(Vec<CredentialUse>),
    /// Why there is none, in words (shown under the credentials).
    Unavailable(String),
}

impl Evidence {
    /// The evidence line of one credential: `used 2 hours ago · 30 in 30 d`, `not used in
    /// 30 d`, with `· ✗ AADSTS700213 5 minutes ago` when its last attempt failed.
    pub fn describe(&self, key: &str, now: OffsetDateTime) -> String {
        let Evidence::Usage(uses) = self else {
            return "use unknown".into();
        };
        let Some(usage) = uses.iter().find(|u| u.key.eq_ignore_ascii_case(key)) else {
            return format!("not used in {WINDOW_DAYS} d");
        };
        let mut text = match usage.last_used {
            Some(at) => format!(
                "used {} · {} in {WINDOW_DAYS} d",
                relative_time(at, now),
                usage.uses
            ),
            None => format!("not used in {WINDOW_DAYS} d"),
        };
        if let Some((at, code)) = usage.last_failure
            && usage.last_used.is_none_or(|ok| at > ok)
        {
            text.push_str(&format!(" · ✗ AADSTS{code} {}", relative_time(at, now)));
        }
        text
    }

    /// A FIC's line: its own uses, and the refused assertions no FIC matched (Entra names no
    /// FIC for those; they are what a wrong issuer, subject or audience looks like).
    pub fn describe_fic(&self, id: &str, now: OffsetDateTime) -> String {
        let mut text = self.describe(id, now);
        if let Evidence::Usage(uses) = self
            && let Some(unmatched) = uses.iter().find(|u| u.key == UNMATCHED)
            && let Some((at, code)) = unmatched.last_failure
        {
            text.push_str(&format!(
                " · ✗ AADSTS{code} {} ({} assertion(s) no FIC matched)",
                relative_time(at, now),
                unmatched.failures
            ));
        }
        text
    }

    /// Why there is no evidence, if there is none.
    pub fn unavailable(&self) -> Option<&str> {
        match self {
            Evidence::Unavailable(why) => Some(why),
            Evidence::Usage(_) => None,
        }
    }
}

/// How far back the Failing workloads view looks: the last 24 hours or 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailingWindow {
    #[default]
    Day,
    Week,
}

impl FailingWindow {
    pub fn hours(self) -> i64 {
        match self {
            FailingWindow::Day => 24,
            FailingWindow::Week => 24 * 7,
        }
    }

    /// `last 24 h`, `last 7 d`.
    pub fn label(self) -> &'static str {
        match self {
            FailingWindow::Day => "last 24 h",
            FailingWindow::Week => "last 7 d",
        }
    }

    pub fn other(self) -> FailingWindow {
        match self {
            FailingWindow::Day => FailingWindow::Week,
            FailingWindow::Week => FailingWindow::Day,
        }
    }
}

/// The FIC a failing workload's sign-ins point at, and what the rules say is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FicAtFault {
    pub fic: ficus_core::fic::Fic,
    pub message: String,
    /// The corrected value, when the rule knows it: field, value, what applying it does.
    pub fix: Option<(ficus_core::fic::Field, String, String)>,
}

/// One failing workload: failed sign-ins of one app, presented identity and AADSTS code,
/// joined with the app's FICs (entra's `failing_workloads`, the join `ficus failing` uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingRow {
    /// "inventory-sync has failed 288 times since 09:12 with AADSTS700213 …".
    pub summary: String,
    pub app_name: String,
    pub app_id: String,
    /// `None`: the app is gone from the directory.
    pub app_object_id: Option<String>,
    pub error_code: u64,
    pub count: usize,
    pub first: Option<OffsetDateTime>,
    pub last: Option<OffsetDateTime>,
    /// The managed identity whose token was presented: principal id and name.
    pub identity: Option<(String, String)>,
    pub fault: Option<FicAtFault>,
    /// Entra's failure reason of the newest attempt.
    pub reason: Option<String>,
}

impl FailingRow {
    /// Tenant-controlled text made safe to draw.
    pub fn sanitize(&mut self) {
        let clean = |s: &mut String| *s = ficus_core::text::sanitize(s).into_owned();
        clean(&mut self.summary);
        clean(&mut self.app_name);
        if let Some((_, name)) = &mut self.identity {
            clean(name);
        }
        if let Some(reason) = &mut self.reason {
            clean(reason);
        }
        if let Some(fault) = &mut self.fault {
            clean(&mut fault.message);
            clean(&mut fault.fic.name);
        }
    }
}

/// What the Failing workloads view shows: the groups, worst first, or why there are none to
/// show (no Entra ID P1/P2, no permission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailingReport {
    Rows(Vec<FailingRow>),
    Unavailable(String),
}

/// A secret may go once it has not been used for this long (the migration's quiet period).
pub const QUIET_DAYS: i64 = 7;

/// Whether a secret may be removed, from the app's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretVerdict {
    /// Not used within the quiet period (the newest use seen, if any in the window).
    Quiet { last_used: Option<OffsetDateTime> },
    /// Used within it: removing it would break the workload.
    InUse { last_used: OffsetDateTime },
    /// No evidence (no P1/P2, no permission, not read yet): ficus cannot tell.
    Unknown(String),
}

impl Evidence {
    /// May the secret `key_id` go, given the quiet period of [`QUIET_DAYS`]?
    pub fn secret_verdict(&self, key_id: &str, now: OffsetDateTime) -> SecretVerdict {
        let Evidence::Usage(uses) = self else {
            return SecretVerdict::Unknown(self.unavailable().unwrap_or_default().to_string());
        };
        let last_used = uses
            .iter()
            .find(|u| u.key.eq_ignore_ascii_case(key_id))
            .and_then(|u| u.last_used);
        match last_used {
            Some(at) if now - at < time::Duration::days(QUIET_DAYS) => {
                SecretVerdict::InUse { last_used: at }
            }
            last_used => SecretVerdict::Quiet { last_used },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_credential_reads_in_words() {
        let now = time::macros::datetime!(2026-11-30 12:00 UTC);
        let evidence = Evidence::Usage(vec![
            CredentialUse {
                key: "K1".into(),
                last_used: Some(now - time::Duration::days(1)),
                uses: 30,
                last_failure: None,
                failures: 0,
            },
            CredentialUse {
                key: "F1".into(),
                last_used: None,
                uses: 0,
                last_failure: Some((now - time::Duration::minutes(5), 700213)),
                failures: 1,
            },
            CredentialUse {
                key: UNMATCHED.into(),
                last_used: None,
                uses: 0,
                last_failure: Some((now - time::Duration::minutes(2), 700213)),
                failures: 288,
            },
        ]);
        assert!(evidence.describe("k1", now).starts_with("used "));
        assert!(evidence.describe("k1", now).ends_with("30 in 30 d"));
        assert_eq!(evidence.describe("other", now), "not used in 30 d");
        let failing = evidence.describe("F1", now);
        assert!(failing.contains("✗ AADSTS700213"), "{failing}");
        assert!(
            evidence
                .describe_fic("F9", now)
                .contains("(288 assertion(s) no FIC matched)")
        );
        assert_eq!(
            evidence.secret_verdict("k1", now),
            SecretVerdict::InUse {
                last_used: now - time::Duration::days(1)
            }
        );
        assert_eq!(
            evidence.secret_verdict("k1", now + time::Duration::days(7)),
            SecretVerdict::Quiet {
                last_used: Some(now - time::Duration::days(1))
            }
        );
        assert_eq!(
            evidence.secret_verdict("never-used", now),
            SecretVerdict::Quiet { last_used: None }
        );
        let none = Evidence::Unavailable("no P1".into());
        assert_eq!(
            none.secret_verdict("K1", now),
            SecretVerdict::Unknown("no P1".into())
        );
        assert_eq!(none.describe("K1", now), "use unknown");
        assert_eq!(none.unavailable(), Some("no P1"));
    }
}
