//! What the Health tab's effects carry (#14): a finding as a list row, the commands and the
//! answers. Apart from the screen so `msg.rs` can name them without importing the screen.

use std::cmp::Ordering;

use ficus_core::audit::{AuditFinding, Severity};
use time::OffsetDateTime;

use crate::error::DirectoryError;
use crate::filter::{Facet, FacetFields, Row, compare_names};
use crate::request::RequestId;

/// One finding as the Health tab lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub finding: AuditFinding,
    /// The FIC's position among its app's FICs as listed, so `Enter` opens App detail on it.
    pub fic_index: Option<usize>,
    /// What the filter's fuzzy text matches: the object's name, the kind, the FIC or
    /// credential name.
    pub text: String,
}

impl FindingRow {
    pub fn new(finding: AuditFinding, fic_index: Option<usize>) -> FindingRow {
        let detail = finding
            .fic
            .as_ref()
            .map(|f| f.name.clone())
            .or_else(|| {
                finding
                    .credential
                    .as_ref()
                    .and_then(|c| c.display_name.clone())
            })
            .unwrap_or_default();
        let text = format!(
            "{} {} {}",
            finding.object_name(),
            finding.kind.code(),
            detail
        );
        FindingRow {
            finding,
            fic_index,
            text,
        }
    }

    pub fn app_object_id(&self) -> Option<&str> {
        self.finding.app.as_ref().map(|a| a.object_id.as_str())
    }

    /// The FIC or credential the finding is about, by name.
    pub fn what(&self) -> String {
        if let Some(fic) = &self.finding.fic {
            return format!("FIC {}", fic.name);
        }
        if let Some(credential) = &self.finding.credential {
            let name = credential
                .display_name
                .clone()
                .unwrap_or_else(|| credential.key_id.clone());
            return format!("{} {name}", credential.credential_type.label());
        }
        match (&self.finding.app, &self.finding.identity) {
            (None, Some(_)) => "identity".to_string(),
            _ => "app".to_string(),
        }
    }
}

/// The sort columns (`o 1` … `o 3`).
pub const COLUMNS: &[&str] = &["severity", "age", "app"];

impl Row for FindingRow {
    const NOUN: &'static str = "findings";
    const FACETS: &'static str = "severity:error|warning|info expired expires:<30d";

    /// Its severity, and its credential's date (`expired`, `expires:<30d`).
    fn accepts(facet: &Facet) -> bool {
        matches!(
            facet,
            Facet::Severity(_) | Facet::Expired | Facet::ExpiresWithin(_)
        )
    }

    fn name(&self) -> &str {
        &self.text
    }

    fn facet_fields(&self, expiries: &mut Vec<OffsetDateTime>) -> FacetFields {
        expiries.extend(self.finding.date);
        FacetFields {
            has_credentials_facets: true,
            severity: Some(match self.finding.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Info => 2,
            }),
            ..FacetFields::default()
        }
    }

    fn columns() -> &'static [&'static str] {
        COLUMNS
    }

    fn compare(&self, other: &Self, column: usize, _now: OffsetDateTime) -> Ordering {
        let (a, b) = (&self.finding, &other.finding);
        let worst_first = || {
            (a.severity, a.kind)
                .cmp(&(b.severity, b.kind))
                .then_with(|| compare_names(a.object_name(), b.object_name()))
        };
        match column {
            0 => worst_first(),
            // Oldest first: the credential that expired longest ago; undated findings last.
            1 => match (a.date, b.date) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
            .then_with(worst_first),
            _ => compare_names(a.object_name(), b.object_name())
                .then_with(|| (a.severity, a.kind).cmp(&(b.severity, b.kind))),
        }
    }
}

/// The Health tab's effects (run by `effects/health.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthCmd {
    /// Audit the whole tenant, answering a `HealthMsg::Page` per page of apps.
    Audit { request: RequestId },
    /// Audit one app again (after a fix), answering `HealthMsg::AppAudited`.
    AuditApp {
        request: RequestId,
        object_id: String,
    },
}

/// The answers.
#[derive(Debug, Clone)]
pub enum HealthMsg {
    /// One page of apps audited (or, with `done`, the tenant-wide findings at the end).
    Page {
        request: RequestId,
        rows: Vec<FindingRow>,
        /// Apps in this page.
        apps: usize,
        /// The tenant's managed identities (known from the first page on).
        identities: usize,
        done: bool,
    },
    Failed {
        request: RequestId,
        error: DirectoryError,
    },
    /// One app's findings, replacing what the tab held for it.
    AppAudited {
        request: RequestId,
        object_id: String,
        result: Result<Vec<FindingRow>, DirectoryError>,
    },
}
