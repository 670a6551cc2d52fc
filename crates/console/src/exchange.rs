//! The live test exchange screen (#7): state, transitions and the effects it asks for.
//!
//! Entry point for other screens (app detail, identity detail, the wizard's last step, the
//! palette): [`open`] with an [`ExchangeEntry`], or `update(state, Msg::OpenExchange(entry))`.
//! The screen pre-fills what the entry names (app, identity, resource tenant, scope), detects
//! where the managed identity token will come from, and, with `entry.run`, starts at once.
//!
//! The flow: `Cmd::Exchange(ExchangeCmd::Run)` → the effects runner calls
//! [`Directory::exchange`](super::effects::Directory::exchange), which reports each finished
//! step as `Msg::Exchange(ExchangeMsg::Step)` and ends with `ExchangeMsg::Finished`. A refusal
//! with AADSTS70021 while the app's FIC matches the token (or right after the wizard created
//! it) is Entra's replication delay: the screen retries by itself with backoff.

use time::OffsetDateTime;
use tui_input::{Input, InputRequest};

use super::keymap::Action;
use super::model::{AppRow, IdentityKind, IdentityRow, sanitize};
use super::msg::{Cmd, Msg, RequestId};
use super::state::{Screen, State, ToastLevel};
use ficus_core::fic::{self, Fic};
use ficus_core::jwt::Jwt;
use ficus_core::secret::Secret;

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
const RECENT_SCOPES: usize = 5;

/// The app the exchange is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppChoice {
    pub object_id: String,
    /// The application (client) id the token endpoint is asked with.
    pub app_id: String,
    pub name: String,
}

impl From<&AppRow> for AppChoice {
    fn from(app: &AppRow) -> Self {
        AppChoice {
            object_id: app.object_id.clone(),
            app_id: app.app_id.clone(),
            name: app.name.clone(),
        }
    }
}

/// What a screen passes to open the exchange. Anything left `None` is picked on the screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeEntry {
    pub app: Option<AppChoice>,
    pub identity: Option<IdentityRow>,
    /// Default: the signed-in tenant (the app's home tenant).
    pub resource_tenant: Option<String>,
    /// Default: Microsoft Graph `.default`.
    pub scope: Option<String>,
    /// A FIC was created moments ago (the wizard): an AADSTS70021 is then retried with backoff.
    pub just_created: bool,
    /// Start the exchange at once instead of waiting for `x`.
    pub run: bool,
}

/// Where the managed identity token will come from, as the directory found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// `IMDS (http://169.254.169.254)`, `App Service (…)`, `the sandbox's emulated host …`.
    pub label: String,
    pub endpoint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    Detecting,
    Found(SourceInfo),
    /// Not an Azure host (or the endpoint is unusable): the sentence says why and what to do.
    Unavailable(String),
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
    /// Verified with the key of this id.
    Verified(String),
    Failed(String),
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

/// One choice of the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickItem {
    pub label: String,
    pub detail: String,
    /// Why it cannot be chosen (a system-assigned identity), if so.
    pub disabled: Option<String>,
    pub value: String,
}

/// A filterable list for one field; for the tenant and scope, typed text is a value too.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub field: Option<FormField>,
    pub input: Input,
    pub items: Vec<PickItem>,
    pub selected: usize,
    /// Whatever is typed may be used as is (tenant, scope, file path).
    pub free_text: bool,
}

impl Picker {
    pub fn visible(&self) -> Vec<&PickItem> {
        let wanted = self.input.value().to_lowercase();
        self.items
            .iter()
            .filter(|i| {
                wanted.is_empty()
                    || i.label.to_lowercase().contains(&wanted)
                    || i.detail.to_lowercase().contains(&wanted)
            })
            .collect()
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
    pub picker: Option<Picker>,
    pub source_request: RequestId,
    pub source: SourceState,
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

impl ExchangeScreen {
    pub fn is_running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.result.is_none())
    }

    pub fn result(&self) -> Option<&ExchangeResult> {
        self.run.as_ref().and_then(|r| r.result.as_deref())
    }
}

/// Session-long memory of the exchange screen (recent scopes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeMemory {
    pub recent_scopes: Vec<String>,
}

/// The exchange's and inspector's own messages (one variant of [`Msg`]).
#[derive(Debug, Clone)]
pub enum ExchangeMsg {
    SourceDetected {
        request: RequestId,
        result: Result<SourceInfo, String>,
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
        result: Result<Box<ExchangeResult>, String>,
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
        result: Result<Vec<Fic>, String>,
    },
}

/// The exchange's and inspector's own commands (one variant of [`Cmd`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeCmd {
    DetectSource {
        request: RequestId,
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

/// The scope asked for by default: Graph `.default` of the signed-in cloud (the sandbox
/// mimics the public cloud's Graph resource).
pub fn default_scope(state: &State) -> String {
    match &state.session {
        Some(session) if session.cloud_endpoints.kind != ficus_core::cloud::CloudKind::Custom => {
            session.cloud_endpoints.graph_default_scope()
        }
        _ => COMMON_SCOPES[0].to_string(),
    }
}

/// Opens the exchange screen on top of the current one.
pub fn open(state: &mut State, entry: ExchangeEntry) -> Vec<Cmd> {
    state.overlay = None;
    state.editing_filter = false;
    let tenant = entry
        .resource_tenant
        .clone()
        .or_else(|| state.session.as_ref().map(|s| s.tenant_id.clone()))
        .unwrap_or_default();
    let scope = entry.scope.clone().unwrap_or_else(|| default_scope(state));
    let source_request = state.new_request();
    let focus = if entry.app.is_none() {
        FormField::App
    } else if entry.identity.is_none() {
        FormField::Identity
    } else {
        FormField::Scope
    };
    let screen = ExchangeScreen {
        app: entry.app.map(|mut a| {
            a.name = sanitize(&a.name).into_owned();
            a
        }),
        identity: entry.identity,
        tenant: sanitize(&tenant).into_owned(),
        scope: sanitize(&scope).into_owned(),
        focus,
        picker: None,
        source_request,
        source: SourceState::Detecting,
        pasted: None,
        file_input: None,
        file_request: 0,
        just_created: entry.just_created,
        run: None,
        reveal: false,
        scroll: 0,
    };
    state.stack.push(Screen::Exchange(Box::new(screen)));
    let mut cmds = vec![Cmd::Exchange(ExchangeCmd::DetectSource {
        request: source_request,
    })];
    if entry.run {
        cmds.extend(start_run(state, 1));
    }
    cmds
}

/// `exchange [app] [identity]` from the palette: names are matched against the loaded lists.
pub fn open_from_palette(state: &mut State, argument: &str) -> Vec<Cmd> {
    let mut words = argument.split_whitespace();
    let app = words.next().and_then(|name| {
        state
            .apps
            .find(|a| a.name.eq_ignore_ascii_case(name) || a.app_id.eq_ignore_ascii_case(name))
            .map(AppChoice::from)
    });
    let identity = words.next().and_then(|name| {
        state
            .identities
            .find(|i| {
                i.name.eq_ignore_ascii_case(name)
                    || i.client_id.eq_ignore_ascii_case(name)
                    || i.principal_id.eq_ignore_ascii_case(name)
            })
            .cloned()
    });
    open(
        state,
        ExchangeEntry {
            app,
            identity,
            ..ExchangeEntry::default()
        },
    )
}

/// The identity a FIC names, from the loaded identities (its subject is a principal id, or
/// mistakenly a client id).
pub fn identity_for_subject(state: &State, subject: &str) -> Option<IdentityRow> {
    state
        .identities
        .find(|i| {
            i.principal_id.eq_ignore_ascii_case(subject)
                || i.client_id.eq_ignore_ascii_case(subject)
        })
        .cloned()
}

fn top(state: &mut State) -> Option<&mut ExchangeScreen> {
    match state.stack.last_mut() {
        Some(Screen::Exchange(screen)) => Some(screen),
        _ => None,
    }
}

/// True when the exchange screen is on top and typing goes to one of its inputs.
pub fn captures_keys(state: &State) -> bool {
    matches!(state.stack.last(), Some(Screen::Exchange(s)) if s.picker.is_some() || s.file_input.is_some())
}

/// The 1 Hz tick is needed while a token countdown or a retry countdown is on screen.
pub fn needs_tick(state: &State) -> bool {
    match state.stack.last() {
        Some(Screen::Exchange(s)) => s
            .run
            .as_ref()
            .is_some_and(|r| r.retry.is_some() || r.result.as_ref().is_some_and(|x| x.succeeded())),
        _ => false,
    }
}

fn start_run(state: &mut State, attempt: usize) -> Vec<Cmd> {
    let request = state.new_request();
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    let Some(app) = screen.app.clone() else {
        screen.focus = FormField::App;
        state.toast(
            ToastLevel::Warning,
            "Pick the app first: Enter on App lists the app registrations.",
        );
        return Vec::new();
    };
    if screen.pasted.is_none() {
        match &screen.identity {
            None => {
                screen.focus = FormField::Identity;
                state.toast(
                    ToastLevel::Warning,
                    "Pick the managed identity (Enter on Identity), or paste its token with p.",
                );
                return Vec::new();
            }
            Some(identity) if identity.kind == IdentityKind::SystemAssigned => {
                state.toast(
                    ToastLevel::Warning,
                    "A system-assigned identity cannot be a FIC's subject; pick a user-assigned one.",
                );
                return Vec::new();
            }
            Some(_) => {}
        }
        if let SourceState::Unavailable(why) = &screen.source {
            let why = why.clone();
            state.toast(
                ToastLevel::Warning,
                format!("{why} — press p to paste a token or f to read one from a file."),
            );
            return Vec::new();
        }
    }
    if screen.scope.trim().is_empty() || screen.tenant.trim().is_empty() {
        state.toast(
            ToastLevel::Warning,
            "The resource tenant and the scope cannot be empty; Enter on them to choose.",
        );
        return Vec::new();
    }
    let spec = ExchangeSpec {
        app_object_id: app.object_id.clone(),
        app_id: app.app_id.clone(),
        identity_client_id: screen.identity.as_ref().map(|i| i.client_id.clone()),
        identity_principal_id: screen.identity.as_ref().map(|i| i.principal_id.clone()),
        resource_tenant: screen.tenant.trim().to_string(),
        scope: screen.scope.trim().to_string(),
        pasted: screen.pasted.clone(),
    };
    screen.run = Some(Run {
        request,
        attempt,
        steps: Vec::new(),
        result: None,
        retry: None,
    });
    screen.scroll = 0;
    let scope = spec.scope.clone();
    let memory = &mut state.exchange_memory.recent_scopes;
    memory.retain(|s| *s != scope);
    memory.insert(0, scope);
    memory.truncate(RECENT_SCOPES);
    vec![Cmd::Exchange(ExchangeCmd::Run {
        request,
        spec: Box::new(spec),
    })]
}

/// Answers from the effects runner.
pub fn on_msg(state: &mut State, msg: ExchangeMsg) -> Vec<Cmd> {
    match msg {
        ExchangeMsg::SourceDetected { request, result } => {
            if let Some(screen) = top(state)
                && screen.source_request == request
            {
                screen.source = match result {
                    Ok(mut info) => {
                        info.label = sanitize(&info.label).into_owned();
                        info.endpoint = sanitize(&info.endpoint).into_owned();
                        SourceState::Found(info)
                    }
                    Err(why) => SourceState::Unavailable(sanitize(&why).into_owned()),
                };
            }
            Vec::new()
        }
        ExchangeMsg::TokenFileRead {
            request,
            label,
            result,
        } => {
            if let Some(screen) = top(state)
                && screen.file_request == request
            {
                match result {
                    Ok(token) => {
                        screen.pasted = Some(PastedToken {
                            label: sanitize(&label).into_owned(),
                            token,
                        });
                        state.toast(
                            ToastLevel::Success,
                            "Token loaded; x runs the exchange with it as the assertion.",
                        );
                    }
                    Err(error) => state.toast(
                        ToastLevel::Error,
                        format!("{} — press f to try another path", sanitize(&error)),
                    ),
                }
            } else {
                return super::inspector::on_file(state, request, label, result);
            }
            Vec::new()
        }
        ExchangeMsg::Step { request, step } => {
            if let Some(run) = top(state).and_then(|s| s.run.as_mut())
                && run.request == request
            {
                run.steps.push(clean_step(step));
            }
            Vec::new()
        }
        ExchangeMsg::Finished { request, result } => finished(state, request, result),
        ExchangeMsg::RetryDue { request } => {
            let due = top(state)
                .and_then(|s| s.run.as_ref())
                .filter(|r| r.request == request)
                .and_then(|r| r.retry.as_ref())
                .map(|r| r.attempt);
            match due {
                Some(attempt) => start_run(state, attempt),
                None => Vec::new(),
            }
        }
        ExchangeMsg::TokenVerified { .. } | ExchangeMsg::AppFicsLoaded { .. } => {
            super::inspector::on_msg(state, msg)
        }
    }
}

fn clean_step(mut step: StepView) -> StepView {
    step.name = sanitize(&step.name).into_owned();
    step.endpoint = sanitize(&step.endpoint).into_owned();
    step.outcome = match step.outcome {
        StepOutcome::Ok(s) => StepOutcome::Ok(sanitize(&s).into_owned()),
        StepOutcome::Failed(s) => StepOutcome::Failed(sanitize(&s).into_owned()),
        StepOutcome::Skipped(s) => StepOutcome::Skipped(sanitize(&s).into_owned()),
    };
    step
}

/// A refusal that is Entra's replication delay: AADSTS70021 while a FIC matches the token, or
/// right after one was created.
pub fn is_replication_delay(result: &ExchangeResult, just_created: bool) -> bool {
    let code = result.refusal.as_ref().and_then(|r| r.code);
    code == Some(70021)
        && (just_created
            || result
                .comparison
                .as_ref()
                .is_some_and(|c| c.matched.is_some()))
}

fn finished(
    state: &mut State,
    request: RequestId,
    result: Result<Box<ExchangeResult>, String>,
) -> Vec<Cmd> {
    let now = state.now;
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    let just_created = screen.just_created;
    let Some(run) = screen.run.as_mut().filter(|r| r.request == request) else {
        return Vec::new();
    };
    let mut result = match result {
        Ok(result) => result,
        Err(error) => {
            let error = sanitize(&error).into_owned();
            run.result = Some(Box::new(ExchangeResult {
                source: String::new(),
                token_endpoint: String::new(),
                steps: run.steps.clone(),
                assertion: None,
                assertion_raw: None,
                app_token: None,
                app_token_raw: None,
                refusal: None,
                failure: Some(error),
                explanation: None,
                fics: Vec::new(),
                comparison: None,
                assertion_signature: Signature::NotChecked(String::new()),
                app_token_signature: Signature::NotChecked(String::new()),
            }));
            return Vec::new();
        }
    };
    sanitize_result(&mut result);
    run.steps = result.steps.clone();
    let retry = is_replication_delay(&result, just_created);
    run.result = Some(result);
    if retry && run.attempt <= RETRY_BACKOFF.len() {
        let seconds = RETRY_BACKOFF[run.attempt - 1];
        run.retry = Some(RetryPlan {
            due: now + time::Duration::seconds(seconds),
            attempt: run.attempt + 1,
        });
        return vec![Cmd::Exchange(ExchangeCmd::RetryAfter {
            request,
            seconds: seconds as u64,
        })];
    }
    Vec::new()
}

fn sanitize_result(result: &mut ExchangeResult) {
    result.source = sanitize(&result.source).into_owned();
    result.token_endpoint = sanitize(&result.token_endpoint).into_owned();
    result.steps = std::mem::take(&mut result.steps)
        .into_iter()
        .map(clean_step)
        .collect();
    if let Some(refusal) = &mut result.refusal {
        refusal.error = sanitize(&refusal.error).into_owned();
        refusal.message = sanitize(&refusal.message).into_owned();
    }
    if let Some(failure) = &mut result.failure {
        *failure = sanitize(failure).into_owned();
    }
    if let Some(explanation) = &mut result.explanation {
        explanation.summary = sanitize(&explanation.summary).into_owned();
        explanation.fix = explanation.fix.as_deref().map(|f| sanitize(f).into_owned());
    }
}

/// Keys of the exchange screen that the keymap dispatched. `None`: not ours, let the console
/// handle it (quit, help, palette…).
pub fn perform(state: &mut State, action: Action) -> Option<Vec<Cmd>> {
    let screen = top(state)?;
    let has_result = screen.result().is_some();
    let cmds = match action {
        Action::Up | Action::Down if !has_result => {
            let index = FormField::ALL
                .iter()
                .position(|f| *f == screen.focus)
                .unwrap_or(0);
            let next = if action == Action::Up {
                index.saturating_sub(1)
            } else {
                (index + 1).min(FormField::ALL.len() - 1)
            };
            screen.focus = FormField::ALL[next];
            Vec::new()
        }
        Action::NextPane => {
            let index = FormField::ALL
                .iter()
                .position(|f| *f == screen.focus)
                .unwrap_or(0);
            screen.focus = FormField::ALL[(index + 1) % FormField::ALL.len()];
            Vec::new()
        }
        Action::Up | Action::Down | Action::HalfPageUp | Action::HalfPageDown | Action::Top => {
            screen.scroll = scrolled(screen.scroll, action);
            Vec::new()
        }
        Action::Open => {
            let field = screen.focus;
            open_picker(state, field);
            Vec::new()
        }
        Action::RunExchange | Action::Refresh => {
            if screen.is_running() {
                state.toast(
                    ToastLevel::Info,
                    "The exchange is running; wait for its verdict.",
                );
                Vec::new()
            } else {
                start_run(state, 1)
            }
        }
        Action::Reveal => {
            screen.reveal = !screen.reveal;
            let text = if screen.reveal {
                "Tokens shown in full; v masks them again. They are never written to the log."
            } else {
                "Tokens masked."
            };
            state.toast(ToastLevel::Info, text);
            Vec::new()
        }
        Action::PasteToken => {
            if screen.pasted.take().is_some() {
                state.toast(
                    ToastLevel::Info,
                    "Pasted token dropped; the host's managed identity is used again.",
                );
            } else {
                state.toast(
                    ToastLevel::Info,
                    "Paste the assertion now (the terminal's paste); it replaces the host's managed identity token.",
                );
            }
            Vec::new()
        }
        Action::TokenFromFile => {
            screen.file_input = Some(Input::default());
            Vec::new()
        }
        Action::Copy | Action::CopyId => {
            let (token, what) = match (action, screen.result()) {
                (Action::Copy, Some(r)) => (r.app_token_raw.clone(), "app token"),
                (_, Some(r)) => (
                    r.assertion_raw.clone(),
                    "managed identity token (assertion)",
                ),
                _ => (None, "token"),
            };
            match token {
                Some(token) => {
                    state.toast(
                        ToastLevel::Success,
                        format!("Copied the {what} (OSC 52). Treat it as a password."),
                    );
                    vec![Cmd::Copy(token.expose().clone())]
                }
                None => {
                    state.toast(
                        ToastLevel::Info,
                        format!("No {what} to copy yet; x runs the exchange."),
                    );
                    Vec::new()
                }
            }
        }
        Action::FixInWizard => fix_in_wizard(state),
        Action::Inspect => {
            let token = screen
                .result()
                .and_then(|r| r.app_token_raw.clone().or_else(|| r.assertion_raw.clone()));
            let app = screen.app.clone();
            let fics = screen.result().map(|r| r.fics.clone()).unwrap_or_default();
            match token {
                Some(token) => super::inspector::open_with(state, Some(token), app, fics),
                None => {
                    state.toast(ToastLevel::Info, "No token yet; x runs the exchange.");
                    Vec::new()
                }
            }
        }
        _ => return None,
    };
    Some(cmds)
}

/// A FIC to open in the wizard with one field corrected: what `F` on a failed exchange sends
/// as `Msg::EditFic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FicFix {
    pub app: AppChoice,
    pub fic: Fic,
    pub field: fic::Field,
    pub corrected: String,
}

fn fix_in_wizard(state: &mut State) -> Vec<Cmd> {
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    let (Some(app), Some(result)) = (screen.app.clone(), screen.result()) else {
        return Vec::new();
    };
    if result.succeeded() {
        state.toast(
            ToastLevel::Info,
            "The exchange worked; there is nothing to fix.",
        );
        return Vec::new();
    }
    let Some(((fic, _), (field, corrected))) = result.nearest().zip(result.correction()) else {
        state.toast(
            ToastLevel::Info,
            "No FIC to correct: the app has none for this token, or every field already matches. a in the app's detail adds one.",
        );
        return Vec::new();
    };
    let fix = FicFix {
        app,
        fic: fic.clone(),
        field,
        corrected,
    };
    super::update::update(state, Msg::EditFic(Box::new(fix)))
}

/// The picker for a field, filled from what is loaded.
fn open_picker(state: &mut State, field: FormField) {
    let items: Vec<PickItem> = match field {
        FormField::App => state
            .apps
            .items()
            .iter()
            .map(|a| PickItem {
                label: a.name.clone(),
                detail: a.app_id.clone(),
                disabled: None,
                value: a.object_id.clone(),
            })
            .collect(),
        FormField::Identity => state
            .identities
            .items()
            .iter()
            .map(|i| PickItem {
                label: i.name.clone(),
                detail: i.client_id.clone(),
                disabled: (i.kind == IdentityKind::SystemAssigned)
                    .then(|| "system-assigned: cannot be a FIC's subject".to_string()),
                value: i.principal_id.clone(),
            })
            .collect(),
        FormField::Tenant => {
            let mut items = Vec::new();
            if let Some(session) = &state.session {
                items.push(PickItem {
                    label: session.tenant_id.clone(),
                    detail: format!("{} (the app's home tenant)", session.tenant),
                    disabled: None,
                    value: session.tenant_id.clone(),
                });
            }
            items
        }
        FormField::Scope => {
            let mut values: Vec<(String, &str)> = state
                .exchange_memory
                .recent_scopes
                .iter()
                .map(|s| (s.clone(), "recent"))
                .collect();
            let default = default_scope(state);
            for scope in std::iter::once(default.as_str()).chain(COMMON_SCOPES) {
                if !values.iter().any(|(v, _)| v == scope) {
                    values.push((scope.to_string(), "common"));
                }
            }
            if let Some(Screen::Exchange(screen)) = state.stack.last()
                && let Some(app) = &screen.app
            {
                let own = format!("api://{}/.default", app.app_id);
                if !values.iter().any(|(v, _)| *v == own) {
                    values.push((own, "the app's own API"));
                }
            }
            values
                .into_iter()
                .map(|(value, detail)| PickItem {
                    label: value.clone(),
                    detail: detail.to_string(),
                    disabled: None,
                    value,
                })
                .collect()
        }
    };
    let free_text = matches!(field, FormField::Tenant | FormField::Scope);
    if let Some(screen) = top(state) {
        screen.picker = Some(Picker {
            field: Some(field),
            input: Input::default(),
            items,
            selected: 0,
            free_text,
        });
    }
}

/// A result's scroll position after a scrolling action (the exchange result, the inspector).
pub fn scrolled(scroll: u16, action: Action) -> u16 {
    match action {
        Action::Up => scroll.saturating_sub(1),
        Action::Down => scroll.saturating_add(1),
        Action::HalfPageUp => scroll.saturating_sub(10),
        Action::HalfPageDown => scroll.saturating_add(10),
        Action::Top => 0,
        _ => scroll,
    }
}

/// What a key did to the token-file path input or the picker, whichever has focus: the
/// keys the exchange screen and the inspector share.
pub enum FocusedKey {
    /// Handled (moved, typed, closed); nothing more to do.
    Done,
    /// Enter on a non-empty file path (the input is closed): read that file.
    ReadFile(String),
    /// Enter in the picker (still open): the screen chooses the selected item.
    Choose,
}

pub fn focused_key(
    file_input: &mut Option<Input>,
    picker: &mut Option<Picker>,
    key: ratatui::crossterm::event::KeyEvent,
) -> FocusedKey {
    use ratatui::crossterm::event::{Event, KeyCode};
    let feed = |input: &mut Input| {
        tui_input::backend::crossterm::to_input_request(&Event::Key(key))
            .map(|request| input.handle(request))
            .is_some()
    };
    if let Some(input) = file_input {
        match key.code {
            KeyCode::Esc => *file_input = None,
            KeyCode::Enter => {
                let path = input.value().trim().to_string();
                *file_input = None;
                if !path.is_empty() {
                    return FocusedKey::ReadFile(path);
                }
            }
            _ => {
                feed(input);
            }
        }
        return FocusedKey::Done;
    }
    let Some(open) = picker else {
        return FocusedKey::Done;
    };
    match key.code {
        KeyCode::Esc => *picker = None,
        KeyCode::Down | KeyCode::Tab => {
            let len = open.visible().len();
            open.selected = (open.selected + 1).min(len.saturating_sub(1));
        }
        KeyCode::Up | KeyCode::BackTab => open.selected = open.selected.saturating_sub(1),
        KeyCode::Enter => return FocusedKey::Choose,
        _ => {
            if feed(&mut open.input) {
                open.selected = 0;
            }
        }
    }
    FocusedKey::Done
}

/// Pasted text into the picker's filter or the file path input, whichever is open (sanitized,
/// trimmed, capped); false when neither is.
pub fn focused_paste(
    file_input: &mut Option<Input>,
    picker: &mut Option<Picker>,
    text: &str,
) -> bool {
    let (input, cap) = match (picker.as_mut(), file_input.as_mut()) {
        (Some(picker), _) => {
            picker.selected = 0;
            (&mut picker.input, 2048)
        }
        (None, Some(input)) => (input, 4096),
        (None, None) => return false,
    };
    for c in sanitize(text.trim()).chars().take(cap) {
        input.handle(InputRequest::InsertChar(c));
    }
    true
}

/// Keys while the picker or the file path input has focus.
pub fn on_raw_key(state: &mut State, key: ratatui::crossterm::event::KeyEvent) -> Vec<Cmd> {
    let request = state.new_request();
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    match focused_key(&mut screen.file_input, &mut screen.picker, key) {
        FocusedKey::Done => Vec::new(),
        FocusedKey::ReadFile(path) => {
            screen.file_request = request;
            vec![Cmd::Exchange(ExchangeCmd::ReadTokenFile { request, path })]
        }
        FocusedKey::Choose => {
            let Some(picker) = &screen.picker else {
                return Vec::new();
            };
            let typed = picker.input.value().trim().to_string();
            let chosen = picker.visible().get(picker.selected).map(|i| (*i).clone());
            let (field, free_text) = (picker.field, picker.free_text);
            let value = match chosen {
                Some(item) if item.disabled.is_some() => {
                    let why = item.disabled.unwrap_or_default();
                    state.toast(ToastLevel::Warning, format!("{}: {why}", item.label));
                    return Vec::new();
                }
                Some(item) => item.value,
                None if free_text && !typed.is_empty() => typed,
                _ => return Vec::new(),
            };
            screen.picker = None;
            choose(state, field, value);
            Vec::new()
        }
    }
}

fn choose(state: &mut State, field: Option<FormField>, value: String) {
    let value = sanitize(&value).into_owned();
    let app = state
        .apps
        .find(|a| a.object_id == value)
        .map(AppChoice::from);
    let identity = state.identities.find(|i| i.principal_id == value).cloned();
    let Some(screen) = top(state) else {
        return;
    };
    match field {
        Some(FormField::App) if app.is_some() => {
            screen.app = app;
            screen.focus = FormField::Identity;
        }
        Some(FormField::Identity) if identity.is_some() => {
            screen.identity = identity;
            screen.focus = FormField::Scope;
        }
        Some(FormField::Tenant) => screen.tenant = value,
        Some(FormField::Scope) => screen.scope = value,
        _ => {}
    }
}

/// Pasted text on the exchange screen: into the open input, else it becomes the assertion.
pub fn on_paste(state: &mut State, text: &str) -> Vec<Cmd> {
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    if focused_paste(&mut screen.file_input, &mut screen.picker, text) {
        return Vec::new();
    }
    match ficus_core::jwt::decode(text) {
        Ok(_) => {
            screen.pasted = Some(PastedToken {
                label: "pasted token".into(),
                token: Secret::new(text.trim().to_string()),
            });
            state.toast(
                ToastLevel::Success,
                "Token pasted; x runs the exchange with it as the assertion (p drops it).",
            );
        }
        Err(error) => state.toast(
            ToastLevel::Error,
            format!("That paste is not a usable token: {error}. Nothing was kept."),
        ),
    }
    Vec::new()
}

/// Runs one of the exchange's commands in the background (called by the effects runner).
pub(super) fn spawn_effect<D: super::effects::Directory>(
    directory: std::sync::Arc<D>,
    cmd: ExchangeCmd,
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
) {
    // A panic becomes an error toast (effects::spawn_guarded), not a dead task.
    let guard = tx.clone();
    let send = move |tx: &tokio::sync::mpsc::UnboundedSender<Msg>, msg| {
        let _ = tx.send(Msg::Exchange(msg));
    };
    match cmd {
        ExchangeCmd::DetectSource { request } => {
            super::effects::spawn_guarded(
                &guard,
                async move {
                    let result = directory.msi_source().await;
                    send(&tx, ExchangeMsg::SourceDetected { request, result });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::ReadTokenFile { request, path } => {
            super::effects::spawn_guarded(
                &guard,
                async move {
                    let label = format!("token file {path}");
                    let result = tokio::task::spawn_blocking(move || {
                        super::effects::contain_blocking(|| read_token_file(&path))
                    })
                    .await
                    .map_err(|error| error.to_string())
                    .and_then(|contained| contained)
                    .unwrap_or_else(|error| {
                        Err(format!(
                            "reading the file stopped unexpectedly ({error}); try again, or paste the token (p)"
                        ))
                    });
                    send(
                        &tx,
                        ExchangeMsg::TokenFileRead {
                            request,
                            label,
                            result,
                        },
                    );
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::Run { request, spec } => {
            super::effects::spawn_guarded(
                &guard,
                async move {
                    tracing::info!(request, app = %spec.app_id, "test exchange");
                    let result = directory
                        .exchange(request, *spec, tx.clone())
                        .await
                        .map(Box::new);
                    send(&tx, ExchangeMsg::Finished { request, result });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::RetryAfter { request, seconds } => {
            super::effects::spawn_guarded(
                &guard,
                async move {
                    tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
                    send(&tx, ExchangeMsg::RetryDue { request });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::VerifyToken { request, token } => {
            super::effects::spawn_guarded(
                &guard,
                async move {
                    let result = directory.verify_token(token).await;
                    send(&tx, ExchangeMsg::TokenVerified { request, result });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::LoadAppFics {
            request,
            app_object_id,
        } => {
            super::effects::spawn_guarded(
                &guard,
                async move {
                    let result = directory.app_fics(app_object_id).await;
                    send(&tx, ExchangeMsg::AppFicsLoaded { request, result });
                },
                Msg::EffectPanicked,
            );
        }
    }
}

/// Reads a token file: at most a few times a token's size, trimmed, never echoed.
pub fn read_token_file(path: &str) -> Result<Secret<String>, String> {
    let limit = ficus_core::jwt::MAX_TOKEN_LEN as u64;
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}; check the path"))?;
    if metadata.len() > limit {
        return Err(format!(
            "{path} is {} bytes, larger than any token ({limit} at most); point at the token file itself",
            metadata.len()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {path}: {e}; a token file is plain text"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "{path} is empty; the token has not been written yet"
        ));
    }
    Ok(Secret::new(token.to_string()))
}

/// Runs of text, each marked whether it differs from the other side.
pub type DiffRuns = Vec<(String, bool)>;

/// A character-level diff of two values: each side as runs of (text, differs).
pub fn char_diff(left: &str, right: &str) -> (DiffRuns, DiffRuns) {
    let a: Vec<char> = left.chars().collect();
    let b: Vec<char> = right.chars().collect();
    // Values compared here are short (issuers, GUIDs, URIs); past this, mark everything.
    if a.len() * b.len() > 250_000 {
        return (
            vec![(left.to_string(), true)],
            vec![(right.to_string(), true)],
        );
    }
    let mut lcs = vec![vec![0u16; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut keep_a = vec![false; a.len()];
    let mut keep_b = vec![false; b.len()];
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            keep_a[i] = true;
            keep_b[j] = true;
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (runs(&a, &keep_a), runs(&b, &keep_b))
}

fn runs(chars: &[char], keep: &[bool]) -> DiffRuns {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (c, kept) in chars.iter().zip(keep) {
        let differs = !kept;
        match out.last_mut() {
            Some((text, d)) if *d == differs => text.push(*c),
            _ => out.push((c.to_string(), differs)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::Keymap;
    use crate::model::{AppRow, Audience};
    use crate::msg::Session;
    use crate::theme::Themes;
    use crate::update::{start_console, update};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

    fn key(code: KeyCode) -> Msg {
        let modifiers = match code {
            KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
            _ => KeyModifiers::NONE,
        };
        Msg::Key(KeyEvent::new(code, modifiers))
    }

    fn row(name: &str) -> AppRow {
        AppRow {
            object_id: format!("obj-{name}"),
            app_id: format!("app-{name}"),
            name: name.into(),
            fic_count: Some(1),
            credentials: Vec::new(),
            audience: Audience::Single,
        }
    }

    fn identity(name: &str, kind: IdentityKind) -> IdentityRow {
        IdentityRow {
            name: name.into(),
            kind,
            client_id: format!("client-{name}"),
            principal_id: format!("principal-{name}"),
            resource_group: None,
            subscription: None,
            arm_id: None,
            tenant_id: None,
        }
    }

    fn console() -> State {
        let mut state = State::new(Keymap::default(), Themes::built_in(), "mono", NOW);
        state.session = Some(Session {
            tenant: "contoso".into(),
            tenant_id: "tenant-guid".into(),
            cloud: "sandbox".into(),
            user: "admin".into(),
            read_only: false,
            graph_base: "https://127.0.0.1:1/v1.0".into(),
            cloud_endpoints: ficus_core::cloud::Cloud::custom(
                "https://127.0.0.1:1",
                "https://127.0.0.1:1/v1.0",
            ),
        });
        start_console(&mut state);
        let (apps, identities) = (state.apps.request, state.identities.request);
        update(
            &mut state,
            Msg::AppsPage {
                request: apps,
                rows: vec![row("payments-api"), row("inventory-sync")],
                page: 1,
                done: true,
            },
        );
        update(
            &mut state,
            Msg::IdentitiesPage {
                request: identities,
                rows: vec![
                    identity("id-payments", IdentityKind::UserAssigned),
                    identity("vm-legacy", IdentityKind::SystemAssigned),
                ],
                page: 1,
                done: true,
            },
        );
        state
    }

    fn screen(state: &State) -> &ExchangeScreen {
        match state.stack.last() {
            Some(Screen::Exchange(s)) => s,
            _ => panic!("exchange on top"),
        }
    }

    fn source_found(state: &mut State) {
        let request = screen(state).source_request;
        update(
            state,
            Msg::Exchange(ExchangeMsg::SourceDetected {
                request,
                result: Ok(SourceInfo {
                    label: "IMDS (http://169.254.169.254)".into(),
                    endpoint: "http://169.254.169.254/metadata/identity/oauth2/token".into(),
                }),
            }),
        );
    }

    fn run_request(cmds: &[Cmd]) -> (RequestId, ExchangeSpec) {
        match cmds {
            [Cmd::Exchange(ExchangeCmd::Run { request, spec })] => (*request, (**spec).clone()),
            other => panic!("expected a run, got {other:?}"),
        }
    }

    /// A refusal with AADSTS70021 for a token that the app's FIC matches.
    fn replication_refusal() -> ExchangeResult {
        let issuer = "https://login.microsoftonline.com/t/v2.0";
        let claims = serde_json::json!({
            "iss": issuer, "sub": "principal-id-payments",
            "aud": ficus_core::cloud::TOKEN_EXCHANGE_APP_ID,
        });
        let token = format!(
            "{}.{}.{}",
            ficus_core::jwt::b64url(br#"{"alg":"RS256"}"#),
            ficus_core::jwt::b64url(claims.to_string().as_bytes()),
            ficus_core::jwt::b64url(b"s")
        );
        let assertion = ficus_core::jwt::decode(&token).expect("decodes");
        let fics = vec![Fic {
            id: Some("1".into()),
            name: "mi-id-payments".into(),
            issuer: issuer.into(),
            subject: "principal-id-payments".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            description: None,
        }];
        let comparison = fic::diagnose(&assertion, &fics, &ficus_core::cloud::Cloud::global());
        ExchangeResult {
            source: "IMDS".into(),
            token_endpoint: "https://login/t/oauth2/v2.0/token".into(),
            steps: Vec::new(),
            assertion: Some(assertion),
            assertion_raw: Some(Secret::new(token)),
            app_token: None,
            app_token_raw: None,
            refusal: Some(Refusal {
                code: Some(70021),
                error: "invalid_client".into(),
                message: "No matching federated identity record found".into(),
                trace_id: None,
                correlation_id: None,
            }),
            failure: None,
            explanation: None,
            fics,
            comparison: Some(comparison),
            assertion_signature: Signature::NotChecked(String::new()),
            app_token_signature: Signature::NotChecked(String::new()),
        }
    }

    #[test]
    fn opens_prefilled_detects_the_source_and_runs() {
        let mut state = console();
        let cmds = update(
            &mut state,
            Msg::OpenExchange(Box::new(ExchangeEntry {
                app: Some(AppChoice::from(&row("payments-api"))),
                identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
                ..ExchangeEntry::default()
            })),
        );
        assert!(matches!(
            cmds.as_slice(),
            [Cmd::Exchange(ExchangeCmd::DetectSource { .. })]
        ));
        assert_eq!(screen(&state).tenant, "tenant-guid");
        assert_eq!(screen(&state).scope, "https://graph.microsoft.com/.default");
        assert_eq!(screen(&state).focus, FormField::Scope);
        source_found(&mut state);
        let (request, spec) = run_request(&update(&mut state, key(KeyCode::Char('x'))));
        assert_eq!(spec.app_id, "app-payments-api");
        assert_eq!(
            spec.identity_client_id.as_deref(),
            Some("client-id-payments")
        );
        assert!(spec.pasted.is_none());
        assert!(screen(&state).is_running());
        // Steps fill in; a stale answer is dropped.
        update(
            &mut state,
            Msg::Exchange(ExchangeMsg::Step {
                request: request + 100,
                step: StepView {
                    name: STEP_NAMES[0].into(),
                    endpoint: String::new(),
                    duration_ms: 1,
                    outcome: StepOutcome::Ok("x".into()),
                },
            }),
        );
        assert!(screen(&state).run.as_ref().expect("run").steps.is_empty());
        update(
            &mut state,
            Msg::Exchange(ExchangeMsg::Step {
                request,
                step: StepView {
                    name: STEP_NAMES[0].into(),
                    endpoint: "http://x\u{1b}[2J".into(),
                    duration_ms: 1,
                    outcome: StepOutcome::Ok("token".into()),
                },
            }),
        );
        let steps = &screen(&state).run.as_ref().expect("run").steps;
        assert_eq!(steps.len(), 1);
        assert!(!steps[0].endpoint.contains('\u{1b}'), "sanitized");
        // Another x while running does not start a second run.
        assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
    }

    #[test]
    fn refuses_to_run_without_what_it_needs_and_says_what_to_do() {
        let mut state = console();
        open(&mut state, ExchangeEntry::default());
        assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
        assert!(
            state
                .toast
                .as_ref()
                .expect("toast")
                .text
                .contains("Pick the app")
        );
        assert_eq!(screen(&state).focus, FormField::App);
        // Enter opens the app picker; typing filters; Enter chooses.
        update(&mut state, key(KeyCode::Enter));
        for c in "inventory".chars() {
            update(&mut state, key(KeyCode::Char(c)));
        }
        update(&mut state, key(KeyCode::Enter));
        assert_eq!(
            screen(&state).app.as_ref().map(|a| a.name.as_str()),
            Some("inventory-sync")
        );
        assert_eq!(screen(&state).focus, FormField::Identity);
        assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
        assert!(
            state
                .toast
                .as_ref()
                .expect("toast")
                .text
                .contains("managed identity")
        );
        // A system-assigned identity is shown disabled with the reason.
        update(&mut state, key(KeyCode::Enter));
        update(&mut state, key(KeyCode::Down));
        update(&mut state, key(KeyCode::Enter));
        assert!(screen(&state).identity.is_none());
        assert!(
            state
                .toast
                .as_ref()
                .expect("toast")
                .text
                .contains("system-assigned")
        );
        update(&mut state, key(KeyCode::Up));
        update(&mut state, key(KeyCode::Enter));
        assert_eq!(
            screen(&state).identity.as_ref().map(|i| i.name.as_str()),
            Some("id-payments")
        );
        // Not an Azure host: said plainly, and paste / file offered.
        let request = screen(&state).source_request;
        update(
            &mut state,
            Msg::Exchange(ExchangeMsg::SourceDetected {
                request,
                result: Err("This machine is not an Azure host".into()),
            }),
        );
        assert!(update(&mut state, key(KeyCode::Char('x'))).is_empty());
        let toast = &state.toast.as_ref().expect("toast").text;
        assert!(
            toast.contains("not an Azure host") && toast.contains("paste"),
            "{toast}"
        );
        // A pasted token is the assertion instead.
        update(&mut state, Msg::Paste("not a token".into()));
        assert!(screen(&state).pasted.is_none());
        let token = format!(
            "{}.{}.{}",
            ficus_core::jwt::b64url(br#"{"alg":"RS256"}"#),
            ficus_core::jwt::b64url(br#"{"iss":"x","sub":"y"}"#),
            ficus_core::jwt::b64url(b"s")
        );
        update(&mut state, Msg::Paste(token.clone()));
        let (_, spec) = run_request(&update(&mut state, key(KeyCode::Char('x'))));
        assert_eq!(
            spec.pasted.as_ref().map(|p| p.token.expose().clone()),
            Some(token)
        );
    }

    #[test]
    fn scrolling_stays_within_bounds() {
        assert_eq!(scrolled(0, Action::Up), 0);
        assert_eq!(scrolled(3, Action::Down), 4);
        assert_eq!(scrolled(4, Action::HalfPageUp), 0);
        assert_eq!(scrolled(u16::MAX - 2, Action::HalfPageDown), u16::MAX);
        assert_eq!(scrolled(40, Action::Top), 0);
        assert_eq!(scrolled(7, Action::Reveal), 7, "not a scrolling action");
    }

    /// The keys the exchange screen and the inspector share: a file path input, then a
    /// picker's movement, typing (which goes back to the first match) and choice.
    #[test]
    fn focused_keys_read_a_file_move_filter_and_choose() {
        let press = |code| KeyEvent::new(code, KeyModifiers::NONE);
        let mut file_input = Some(Input::default());
        let mut picker = None;
        for c in "/tmp/t.jwt".chars() {
            focused_key(&mut file_input, &mut picker, press(KeyCode::Char(c)));
        }
        assert!(matches!(
            focused_key(&mut file_input, &mut picker, press(KeyCode::Enter)),
            FocusedKey::ReadFile(path) if path == "/tmp/t.jwt"
        ));
        assert!(file_input.is_none(), "the input closes once read");
        file_input = Some(Input::default());
        assert!(matches!(
            focused_key(&mut file_input, &mut picker, press(KeyCode::Enter)),
            FocusedKey::Done
        ));
        assert!(file_input.is_none(), "an empty path closes without reading");

        let item = |label: &str| PickItem {
            label: label.into(),
            detail: String::new(),
            disabled: None,
            value: label.into(),
        };
        picker = Some(Picker {
            items: vec![item("alpha"), item("beta"), item("gamma")],
            ..Picker::default()
        });
        let selected = |picker: &Option<Picker>| picker.as_ref().map(|p| p.selected);
        focused_key(&mut file_input, &mut picker, press(KeyCode::Down));
        focused_key(&mut file_input, &mut picker, press(KeyCode::Down));
        focused_key(&mut file_input, &mut picker, press(KeyCode::Down));
        assert_eq!(selected(&picker), Some(2), "stops at the last item");
        focused_key(&mut file_input, &mut picker, press(KeyCode::Char('a')));
        assert_eq!(
            selected(&picker),
            Some(0),
            "typing goes back to the first match"
        );
        assert_eq!(
            picker.as_ref().map(|p| p.visible().len()),
            Some(3),
            "every label holds an a"
        );
        focused_key(&mut file_input, &mut picker, press(KeyCode::Char('m')));
        let visible: Vec<String> = picker
            .as_ref()
            .map(|p| p.visible().iter().map(|i| i.label.clone()).collect())
            .unwrap_or_default();
        assert_eq!(visible, ["gamma"]);
        assert!(matches!(
            focused_key(&mut file_input, &mut picker, press(KeyCode::Enter)),
            FocusedKey::Choose
        ));
        assert!(
            picker.is_some(),
            "the screen chooses; the picker is still open"
        );
        focused_key(&mut file_input, &mut picker, press(KeyCode::Esc));
        assert!(picker.is_none());

        // Pastes go to what is open, cleaned of control characters; nothing open: not taken.
        assert!(!focused_paste(&mut file_input, &mut picker, "x"));
        file_input = Some(Input::default());
        assert!(focused_paste(
            &mut file_input,
            &mut picker,
            " /tmp/a\u{1b}[31m.jwt\n"
        ));
        let pasted = file_input.as_ref().map(|i| i.value().to_string());
        assert!(
            pasted
                .as_deref()
                .is_some_and(|v| v.starts_with("/tmp/a") && !v.contains('\u{1b}'))
        );
    }

    #[test]
    fn scope_picker_offers_recent_and_common_and_takes_typed_text() {
        let mut state = console();
        open(
            &mut state,
            ExchangeEntry {
                app: Some(AppChoice::from(&row("payments-api"))),
                ..ExchangeEntry::default()
            },
        );
        state.exchange_memory.recent_scopes = vec!["api://custom/.default".into()];
        if let Some(Screen::Exchange(s)) = state.stack.last_mut() {
            s.focus = FormField::Scope;
        }
        update(&mut state, key(KeyCode::Enter));
        let picker = screen(&state).picker.as_ref().expect("picker");
        let labels: Vec<&str> = picker.items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels[0], "api://custom/.default");
        assert!(labels.contains(&"https://management.azure.com/.default"));
        assert!(labels.contains(&"api://app-payments-api/.default"));
        for c in "https://x.example/.default".chars() {
            update(&mut state, key(KeyCode::Char(c)));
        }
        update(&mut state, key(KeyCode::Enter));
        assert_eq!(screen(&state).scope, "https://x.example/.default");
    }

    #[test]
    fn replication_delay_retries_with_backoff_then_stops() {
        let mut state = console();
        let cmds = open(
            &mut state,
            ExchangeEntry {
                app: Some(AppChoice::from(&row("payments-api"))),
                identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
                just_created: true,
                run: true,
                ..ExchangeEntry::default()
            },
        );
        let (mut request, _) = run_request(&cmds[1..]);
        for (attempt, seconds) in RETRY_BACKOFF.iter().enumerate() {
            let cmds = update(
                &mut state,
                Msg::Exchange(ExchangeMsg::Finished {
                    request,
                    result: Ok(Box::new(replication_refusal())),
                }),
            );
            assert_eq!(
                cmds,
                vec![Cmd::Exchange(ExchangeCmd::RetryAfter {
                    request,
                    seconds: *seconds as u64
                })]
            );
            let retry = screen(&state).run.as_ref().and_then(|r| r.retry.clone());
            assert_eq!(retry.map(|r| r.attempt), Some(attempt + 2));
            assert!(state.needs_tick(), "the retry countdown ticks");
            let cmds = update(&mut state, Msg::Exchange(ExchangeMsg::RetryDue { request }));
            let (next, _) = run_request(&cmds);
            assert_ne!(next, request);
            // The old timer firing again does nothing.
            assert!(
                update(&mut state, Msg::Exchange(ExchangeMsg::RetryDue { request })).is_empty()
            );
            request = next;
        }
        // After the last backoff: no more retries.
        let cmds = update(
            &mut state,
            Msg::Exchange(ExchangeMsg::Finished {
                request,
                result: Ok(Box::new(replication_refusal())),
            }),
        );
        assert!(cmds.is_empty());
        assert!(!state.needs_tick());
    }

    #[test]
    fn a_70021_that_no_fic_matches_is_not_called_replication() {
        let mut result = replication_refusal();
        assert!(is_replication_delay(&result, false));
        result.comparison = result.comparison.map(|mut c| {
            c.matched = None;
            c
        });
        assert!(!is_replication_delay(&result, false));
        assert!(is_replication_delay(&result, true));
        result.refusal = result.refusal.map(|mut r| {
            r.code = Some(700213);
            r
        });
        assert!(!is_replication_delay(&result, true));
    }

    #[test]
    fn reveal_copy_and_leaving_stop_the_tick() {
        let mut state = console();
        let cmds = open(
            &mut state,
            ExchangeEntry {
                app: Some(AppChoice::from(&row("payments-api"))),
                identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
                run: true,
                ..ExchangeEntry::default()
            },
        );
        let (request, _) = run_request(&cmds[1..]);
        let mut result = replication_refusal();
        result.refusal = None;
        result.app_token = result.assertion.clone();
        result.app_token_raw = Some(Secret::new("app.token.raw".into()));
        update(
            &mut state,
            Msg::Exchange(ExchangeMsg::Finished {
                request,
                result: Ok(Box::new(result)),
            }),
        );
        assert!(state.needs_tick(), "the expiry countdown is on screen");
        assert!(!screen(&state).reveal);
        update(&mut state, key(KeyCode::Char('v')));
        assert!(screen(&state).reveal);
        assert_eq!(
            update(&mut state, key(KeyCode::Char('y'))),
            vec![Cmd::Copy("app.token.raw".into())]
        );
        update(&mut state, key(KeyCode::Esc));
        assert!(!matches!(state.stack.last(), Some(Screen::Exchange(_))));
        assert!(!state.needs_tick());
    }

    #[test]
    fn fix_sends_the_corrected_value() {
        let mut state = console();
        let cmds = open(
            &mut state,
            ExchangeEntry {
                app: Some(AppChoice::from(&row("payments-api"))),
                identity: Some(identity("id-payments", IdentityKind::UserAssigned)),
                run: true,
                ..ExchangeEntry::default()
            },
        );
        let (request, _) = run_request(&cmds[1..]);
        let mut result = replication_refusal();
        result.fics[0].subject = "client-id-payments".into();
        let assertion = result.assertion.clone().expect("assertion");
        result.comparison = Some(fic::diagnose(
            &assertion,
            &result.fics,
            &ficus_core::cloud::Cloud::global(),
        ));
        update(
            &mut state,
            Msg::Exchange(ExchangeMsg::Finished {
                request,
                result: Ok(Box::new(result)),
            }),
        );
        update(&mut state, key(KeyCode::Char('F')));
        let toast = &state.toast.as_ref().expect("toast").text;
        assert!(
            toast.contains("subject") && toast.contains("principal-id-payments"),
            "{toast}"
        );
    }

    #[test]
    fn char_diff_marks_only_what_differs() {
        let (left, right) = char_diff("https://x/v2.0/", "https://x/v2.0");
        assert_eq!(
            left,
            vec![
                ("https://x/v2.0".to_string(), false),
                ("/".to_string(), true)
            ]
        );
        assert_eq!(right, vec![("https://x/v2.0".to_string(), false)]);
        let (left, right) = char_diff("abc", "aXc");
        assert_eq!(
            left,
            vec![
                ("a".to_string(), false),
                ("b".to_string(), true),
                ("c".to_string(), false)
            ]
        );
        assert_eq!(right[1], ("X".to_string(), true));
    }
}
