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
        let none = Evidence::Unavailable("no P1".into());
        assert_eq!(none.describe("K1", now), "use unknown");
        assert_eq!(none.unavailable(), Some("no P1"));
    }
}
