//! The exchange screen's state: the form (app, identity, resource tenant, scope), where the
//! managed identity token comes from, and the run with its timeline and result.

use time::OffsetDateTime;
use tui_input::Input;

use crate::component::key_named;
use crate::keymap::{Action, Context, Keymap};
use crate::model::IdentityRow;
use crate::nav::AppChoice;
use crate::request::RequestId;
use crate::token_effects::{ExchangeResult, MsiChoice, PastedToken, SourceInfo, StepView};
use crate::widgets::picker::Picker;

pub(crate) type Here<'a, 'c> = crate::component::Here<'a, 'c, ExchangeScreen>;

/// Waits before each automatic retry after a replication-delay refusal (seconds).
pub const RETRY_BACKOFF: [i64; 4] = [5, 10, 20, 40];

/// The steps a run goes through, in order; the timeline shows those not yet done as pending.
pub const STEP_NAMES: [&str; 4] = [
    "managed identity token",
    "decode assertion",
    "exchange at token endpoint",
    "verify signatures",
];

/// Scopes offered besides the recent ones.
pub const COMMON_SCOPES: [&str; 4] = [
    "https://graph.microsoft.com/.default",
    "https://management.azure.com/.default",
    "https://vault.azure.net/.default",
    "https://storage.azure.com/.default",
];

/// How many recently used scopes the picker remembers.
pub const RECENT_SCOPES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    Detecting,
    Found(SourceInfo),
    /// Not an Azure host (or the endpoint is unusable): the sentence says why and what to do.
    Unavailable(String),
}

/// Where the assertion comes from, as `s` cycles it: the session's endpoint (the sandbox's
/// emulated host in a sandbox session), this machine's own (skipped when that is the
/// session's), or a pasted token or file (`p`, `f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceChoice {
    Session,
    ThisMachine,
    PasteOrFile,
}

impl SourceChoice {
    /// The next choice; `emulated`: the session has an emulated host of its own.
    pub fn next(self, emulated: bool) -> SourceChoice {
        match self {
            SourceChoice::Session if emulated => SourceChoice::ThisMachine,
            SourceChoice::Session | SourceChoice::ThisMachine => SourceChoice::PasteOrFile,
            SourceChoice::PasteOrFile => SourceChoice::Session,
        }
    }

    /// The endpoint the directory asks (for the two host choices).
    pub fn msi(self) -> MsiChoice {
        match self {
            SourceChoice::ThisMachine => MsiChoice::ThisMachine,
            SourceChoice::Session | SourceChoice::PasteOrFile => MsiChoice::Session,
        }
    }
}

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    App,
    Identity,
    Tenant,
    Scope,
}

impl FormField {
    pub const ALL: [FormField; 4] = [
        FormField::App,
        FormField::Identity,
        FormField::Tenant,
        FormField::Scope,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FormField::App => "App",
            FormField::Identity => "Identity",
            FormField::Tenant => "Resource tenant",
            FormField::Scope => "Scope",
        }
    }
}

/// A retry scheduled after a replication-delay refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPlan {
    pub due: OffsetDateTime,
    /// The attempt the retry will be (2 = the first retry).
    pub attempt: usize,
}

/// One run of the exchange: the timeline so far, then the result.
#[derive(Debug, Clone)]
pub struct Run {
    pub request: RequestId,
    pub attempt: usize,
    pub steps: Vec<StepView>,
    pub result: Option<Box<ExchangeResult>>,
    /// What to do about a refusal (core's remedies, best first), derived once from the result.
    pub remedies: Vec<ficus_core::fic::Remedy>,
    pub retry: Option<RetryPlan>,
}

/// The exchange screen.
#[derive(Debug, Clone)]
pub struct ExchangeScreen {
    pub app: Option<AppChoice>,
    pub identity: Option<IdentityRow>,
    pub tenant: String,
    pub scope: String,
    pub focus: FormField,
    pub picker: Option<Picker<FormField>>,
    pub source_request: RequestId,
    pub source: SourceState,
    /// Which source `s` has chosen; a pasted or loaded token makes it `PasteOrFile`.
    pub source_choice: SourceChoice,
    /// The session has an emulated managed identity host (`--sandbox`, `--sandbox-url`).
    pub emulated_host: bool,
    pub pasted: Option<PastedToken>,
    /// `f` opened a path input.
    pub file_input: Option<Input>,
    pub file_request: RequestId,
    pub just_created: bool,
    pub run: Option<Run>,
    /// Tokens shown in full (`v`).
    pub reveal: bool,
    pub scroll: u16,
}

/// Session-long memory of the exchange screen (recent scopes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeMemory {
    pub recent_scopes: Vec<String>,
}

pub(super) fn top<'h>(here: &'h mut Here) -> Option<&'h mut ExchangeScreen> {
    Some(&mut *here.screen)
}

impl ExchangeScreen {
    /// Why the token comes from where it does, and what `s` switches to (one short line); keys
    /// as `keymap` binds them on the exchange screen.
    pub fn source_reason(&self, keymap: &Keymap) -> String {
        let key = |action| key_named(keymap, Context::Exchange, action);
        let next = match self.source_choice.next(self.emulated_host) {
            SourceChoice::Session if self.emulated_host => "the sandbox's host",
            SourceChoice::Session => "this machine",
            SourceChoice::ThisMachine => "this machine",
            SourceChoice::PasteOrFile => "a pasted token",
        };
        let why = match (self.source_choice, self.emulated_host) {
            (SourceChoice::Session, true) => "a sandbox session asks its emulated host".to_string(),
            (SourceChoice::Session, false) => {
                "found on this machine (IMDS only on Azure)".to_string()
            }
            (SourceChoice::ThisMachine, _) => "chosen: this machine's own endpoint".to_string(),
            (SourceChoice::PasteOrFile, _) if self.pasted.is_some() => {
                "chosen: the token given; no endpoint asked".to_string()
            }
            (SourceChoice::PasteOrFile, _) => format!(
                "chosen: {} pastes a token, {} reads a file",
                key(Action::PasteToken),
                key(Action::TokenFromFile)
            ),
        };
        format!("{why} · {}: {next}", key(Action::TokenSource))
    }

    pub fn is_running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.result.is_none())
    }

    pub fn result(&self) -> Option<&ExchangeResult> {
        self.run.as_ref().and_then(|r| r.result.as_deref())
    }
}

impl ExchangeScreen {
    /// Typing goes to one of its inputs (the picker or the file path).
    pub fn captures_keys(&self) -> bool {
        self.picker.is_some() || self.file_input.is_some()
    }

    /// The 1 Hz tick is needed while a token countdown or a retry countdown is on screen.
    pub fn needs_tick(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| r.retry.is_some() || r.result.as_ref().is_some_and(|x| x.succeeded()))
    }
}
