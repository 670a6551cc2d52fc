//! Token work: what the exchange screen and the token inspector ask of the effects runner
//! ([`ExchangeCmd`]) and what it answers ([`ExchangeMsg`]), with the data of one exchange run.

use ficus_core::fic::{self, Fic};
use ficus_core::jwt::Jwt;
use ficus_core::secret::Secret;

use crate::error::DirectoryError;
use crate::request::RequestId;

/// Where the managed identity token will come from, as the directory found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// `IMDS (http://169.254.169.254)`, `App Service (…)`, `the sandbox's emulated host …`.
    pub label: String,
    pub endpoint: String,
}

/// Which managed identity endpoint is asked for the assertion (the exchange screen's `s`
/// switches it; a pasted token or file is the third choice, carried as `pasted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum MsiChoice {
    /// The session's: the sandbox's emulated host when the session has one (`--sandbox`,
    /// `--sandbox-url`), else this machine's.
    #[default]
    Session,
    /// This machine's own: App Service, a workload identity token file, or IMDS (asked only on
    /// an Azure VM), whatever the session is.
    ThisMachine,
}

/// A token the admin pasted or loaded, used as the assertion instead of the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedToken {
    /// `pasted token`, `token file /path`.
    pub label: String,
    pub token: Secret<String>,
}

/// What the runner needs to run one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeSpec {
    pub app_object_id: String,
    pub app_id: String,
    /// The identity to ask the host for (client id), when no token was pasted.
    pub identity_client_id: Option<String>,
    pub identity_principal_id: Option<String>,
    pub resource_tenant: String,
    pub scope: String,
    pub pasted: Option<PastedToken>,
    /// The endpoint asked when nothing was pasted.
    pub msi: MsiChoice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Ok(String),
    Failed(String),
    Skipped(String),
}

/// One finished step of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    pub name: String,
    pub endpoint: String,
    pub duration_ms: u64,
    pub outcome: StepOutcome,
}

/// The token service's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Option<u32>,
    /// `invalid_client`, …
    pub error: String,
    /// Entra's own message, without the code prefix.
    pub message: String,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
}

/// ficus' explanation of a refusal (from `fic::explain_with_context`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub summary: String,
    pub field: Option<String>,
    pub fix: Option<String>,
}

/// A token's signature check against its issuer's published keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    NotChecked(String),
    /// Verified with the key of this id, and `iss` checked against `tid`, the key's
    /// `{tenantid}` template and the session's tenant (Entra's keys sign every tenant's tokens).
    Verified(String),
    Failed(String),
    /// A Microsoft Graph token (a `nonce` header): only Graph can verify it; neither verified
    /// nor failed. Holds why (`jwt::GRAPH_TOKEN_NOT_VERIFIABLE`).
    NotForYou(String),
}

/// Everything one exchange produced, in the console's terms.
#[derive(Debug, Clone)]
pub struct ExchangeResult {
    pub source: String,
    pub token_endpoint: String,
    pub steps: Vec<StepView>,
    pub assertion: Option<Jwt>,
    pub assertion_raw: Option<Secret<String>>,
    pub app_token: Option<Jwt>,
    pub app_token_raw: Option<Secret<String>>,
    pub refusal: Option<Refusal>,
    /// A failure that is not the token service's (no source, network…).
    pub failure: Option<String>,
    pub explanation: Option<Explanation>,
    /// The app's FICs when the exchange ran.
    pub fics: Vec<Fic>,
    /// The assertion against those FICs, as Entra matches them.
    pub comparison: Option<fic::Diagnosis>,
    pub assertion_signature: Signature,
    pub app_token_signature: Signature,
}

impl ExchangeResult {
    pub fn succeeded(&self) -> bool {
        self.app_token_raw.is_some()
    }

    /// The FIC that matched (success) or the nearest one (failure), with the comparison.
    pub fn nearest(&self) -> Option<(&Fic, &fic::FicComparison)> {
        let diagnosis = self.comparison.as_ref()?;
        let comparison = diagnosis.comparisons.first()?;
        Some((self.fics.get(comparison.index)?, comparison))
    }

    /// The correction for the FIC at fault: (field, value the token needs).
    pub fn correction(&self) -> Option<(fic::Field, String)> {
        let (_, comparison) = self.nearest()?;
        let wrong = comparison.mismatches().next()?;
        Some((wrong.field, wrong.token_value.clone()))
    }
}

/// The exchange's and inspector's own messages (one variant of [`Msg`](crate::msg::Msg)).
#[derive(Debug, Clone)]
pub enum ExchangeMsg {
    SourceDetected {
        request: RequestId,
        result: Result<SourceInfo, DirectoryError>,
    },
    TokenFileRead {
        request: RequestId,
        label: String,
        result: Result<Secret<String>, String>,
    },
    Step {
        request: RequestId,
        step: StepView,
    },
    Finished {
        request: RequestId,
        result: Result<Box<ExchangeResult>, DirectoryError>,
    },
    RetryDue {
        request: RequestId,
    },
    /// The inspector's signature check.
    TokenVerified {
        request: RequestId,
        result: Result<String, String>,
    },
    /// The inspector's chosen app's FICs.
    AppFicsLoaded {
        request: RequestId,
        result: Result<Vec<Fic>, DirectoryError>,
    },
}

/// The exchange's and inspector's own commands (one variant of [`Cmd`](crate::msg::Cmd)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeCmd {
    DetectSource {
        request: RequestId,
        choice: MsiChoice,
    },
    ReadTokenFile {
        request: RequestId,
        path: String,
    },
    Run {
        request: RequestId,
        spec: Box<ExchangeSpec>,
    },
    RetryAfter {
        request: RequestId,
        seconds: u64,
    },
    VerifyToken {
        request: RequestId,
        token: Secret<String>,
    },
    LoadAppFics {
        request: RequestId,
        app_object_id: String,
    },
}
