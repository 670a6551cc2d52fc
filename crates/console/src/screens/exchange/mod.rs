//! The live test exchange screen (#7): its state, transitions and the effects it asks for.
//!
//! Entry point for other screens (app detail, identity detail, the wizard's last step, the
//! palette): [`open`] with an [`ExchangeEntry`], or, from a screen, `Nav::OpenExchange(entry)`.
//! The screen pre-fills what the entry names (app, identity, resource tenant, scope), detects
//! where the managed identity token will come from, and, with `entry.run`, starts at once.
//!
//! The flow: `Cmd::Exchange(ExchangeCmd::Run)` → the effects runner calls
//! `Directory::exchange` (the effects runner), which reports each finished
//! step as `Msg::Exchange(ExchangeMsg::Step)` and ends with `ExchangeMsg::Finished`. A refusal
//! with AADSTS70021 while the app's FIC matches the token (or right after the wizard created
//! it) is Entra's replication delay: the screen retries by itself with backoff.

use time::OffsetDateTime;
use tui_input::Input;

use ficus_core::secret::Secret;
use ratatui::crossterm::event::KeyEvent;

use crate::component::{Component, Ctx, Outcome, ToastLevel};
use crate::keymap::{Action, Context};
use crate::model::{IdentityKind, IdentityRow, sanitize};
use crate::msg::{Cmd, RequestId};
use crate::nav::{AddFic, AppChoice, ExchangeEntry, FicFix, InspectorEntry, Nav};
use crate::widgets::picker::{FocusedKey, PickItem, Picker, focused_key, focused_paste, scrolled};

pub mod diff;

pub use diff::{DiffRuns, char_diff};

pub use crate::token_effects::{
    ExchangeCmd, ExchangeMsg, ExchangeResult, ExchangeSpec, Explanation, PastedToken, Refusal,
    Signature, SourceInfo, StepOutcome, StepView,
};

type Here<'a, 'c> = crate::component::Here<'a, 'c, ExchangeScreen>;

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

/// The scope asked for by default: Graph `.default` of the signed-in cloud (the sandbox
/// mimics the public cloud's Graph resource).
pub fn default_scope(ctx: &Ctx) -> String {
    match ctx.session {
        Some(session) if session.cloud_endpoints.kind != ficus_core::cloud::CloudKind::Custom => {
            session.cloud_endpoints.graph_default_scope()
        }
        _ => COMMON_SCOPES[0].to_string(),
    }
}

/// The exchange screen for an entry (the root pushes it), with its first commands.
pub fn open(ctx: &Ctx, entry: ExchangeEntry) -> (ExchangeScreen, Outcome) {
    let tenant = entry
        .resource_tenant
        .clone()
        .or_else(|| ctx.session.map(|s| s.tenant_id.clone()))
        .unwrap_or_default();
    let scope = entry.scope.clone().unwrap_or_else(|| default_scope(ctx));
    let source_request = ctx.new_request();
    let focus = if entry.app.is_none() {
        FormField::App
    } else if entry.identity.is_none() {
        FormField::Identity
    } else {
        FormField::Scope
    };
    let mut screen = ExchangeScreen {
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
    let mut here = Here::new(&mut screen, ctx);
    let mut cmds = vec![Cmd::Exchange(ExchangeCmd::DetectSource {
        request: source_request,
    })];
    if entry.run {
        cmds.extend(start_run(&mut here, 1));
    }
    let outcome = here.finish(cmds);
    (screen, outcome)
}

/// `exchange [app] [identity]` from the palette: names are matched against the loaded lists.
pub fn entry_from_palette(ctx: &Ctx, argument: &str) -> ExchangeEntry {
    let mut words = argument.split_whitespace();
    let app = words.next().and_then(|name| {
        ctx.apps
            .find(|a| a.name.eq_ignore_ascii_case(name) || a.app_id.eq_ignore_ascii_case(name))
            .map(AppChoice::from)
    });
    let identity = words.next().and_then(|name| {
        ctx.identities
            .find(|i| {
                i.name.eq_ignore_ascii_case(name)
                    || i.client_id.eq_ignore_ascii_case(name)
                    || i.principal_id.eq_ignore_ascii_case(name)
            })
            .cloned()
    });
    ExchangeEntry {
        app,
        identity,
        ..ExchangeEntry::default()
    }
}

/// The identity a FIC names, from the loaded identities (its subject is a principal id, or
/// mistakenly a client id).
pub fn identity_for_subject(ctx: &Ctx, subject: &str) -> Option<IdentityRow> {
    ctx.identities
        .find(|i| {
            i.principal_id.eq_ignore_ascii_case(subject)
                || i.client_id.eq_ignore_ascii_case(subject)
        })
        .cloned()
}

fn top<'h>(here: &'h mut Here) -> Option<&'h mut ExchangeScreen> {
    Some(&mut *here.screen)
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

impl Component for ExchangeScreen {
    fn context(&self) -> Context {
        Context::Exchange
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        if !self.captures_keys() {
            return None;
        }
        let mut here = Here::new(self, ctx);
        let cmds = on_raw_key(&mut here, key);
        Some(here.finish(cmds))
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        match perform(&mut here, action) {
            Some(cmds) => here.finish(cmds),
            None => Outcome::ignored(),
        }
    }

    fn on_paste(&mut self, text: &str, ctx: &Ctx) -> Option<Outcome> {
        let mut here = Here::new(self, ctx);
        let cmds = on_paste(&mut here, text);
        Some(here.finish(cmds))
    }

    fn needs_tick(&self) -> bool {
        ExchangeScreen::needs_tick(self)
    }
}

impl ExchangeScreen {
    /// The effects runner's answers.
    pub fn on_msg(&mut self, msg: ExchangeMsg, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        let cmds = on_msg(&mut here, msg);
        here.finish(cmds)
    }
}

fn start_run(here: &mut Here, attempt: usize) -> Vec<Cmd> {
    let request = here.new_request();
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    let Some(app) = screen.app.clone() else {
        screen.focus = FormField::App;
        here.toast(
            ToastLevel::Warning,
            "Pick the app first: Enter on App lists the app registrations.",
        );
        return Vec::new();
    };
    if screen.pasted.is_none() {
        match &screen.identity {
            None => {
                screen.focus = FormField::Identity;
                here.toast(
                    ToastLevel::Warning,
                    "Pick the managed identity (Enter on Identity), or paste its token with p.",
                );
                return Vec::new();
            }
            Some(identity) if identity.kind == IdentityKind::SystemAssigned => {
                here.toast(
                    ToastLevel::Warning,
                    "A system-assigned identity cannot be a FIC's subject; pick a user-assigned one.",
                );
                return Vec::new();
            }
            Some(_) => {}
        }
        if let SourceState::Unavailable(why) = &screen.source {
            let why = why.clone();
            here.toast(
                ToastLevel::Warning,
                format!("{why} — press p to paste a token or f to read one from a file."),
            );
            return Vec::new();
        }
    }
    if screen.scope.trim().is_empty() || screen.tenant.trim().is_empty() {
        here.toast(
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
    here.out.remember_scope = Some(scope);
    vec![Cmd::Exchange(ExchangeCmd::Run {
        request,
        spec: Box::new(spec),
    })]
}

/// Answers from the effects runner.
pub fn on_msg(here: &mut Here, msg: ExchangeMsg) -> Vec<Cmd> {
    match msg {
        ExchangeMsg::SourceDetected { request, result } => {
            if let Some(screen) = top(here)
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
            if let Some(screen) = top(here)
                && screen.file_request == request
            {
                match result {
                    Ok(token) => {
                        screen.pasted = Some(PastedToken {
                            label: sanitize(&label).into_owned(),
                            token,
                        });
                        // A new assertion: the previous run's steps are not its.
                        screen.run = None;
                        screen.scroll = 0;
                        here.toast(
                            ToastLevel::Success,
                            "Token loaded; x runs the exchange with it as the assertion.",
                        );
                    }
                    Err(error) => here.toast(
                        ToastLevel::Error,
                        format!("{} — press f to try another path", sanitize(&error)),
                    ),
                }
            }
            Vec::new()
        }
        ExchangeMsg::Step { request, step } => {
            if let Some(run) = top(here).and_then(|s| s.run.as_mut())
                && run.request == request
            {
                run.steps.push(clean_step(step));
            }
            Vec::new()
        }
        ExchangeMsg::Finished { request, result } => finished(here, request, result),
        ExchangeMsg::RetryDue { request } => {
            let due = top(here)
                .and_then(|s| s.run.as_ref())
                .filter(|r| r.request == request)
                .and_then(|r| r.retry.as_ref())
                .map(|r| r.attempt);
            match due {
                Some(attempt) => start_run(here, attempt),
                None => Vec::new(),
            }
        }
        // The inspector's answers.
        ExchangeMsg::TokenVerified { .. } | ExchangeMsg::AppFicsLoaded { .. } => Vec::new(),
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
    here: &mut Here,
    request: RequestId,
    result: Result<Box<ExchangeResult>, String>,
) -> Vec<Cmd> {
    let now = here.now;
    let Some(screen) = top(here) else {
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
pub fn perform(here: &mut Here, action: Action) -> Option<Vec<Cmd>> {
    let screen = top(here)?;
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
            open_picker(here, field);
            Vec::new()
        }
        Action::RunExchange | Action::Refresh => {
            if screen.is_running() {
                here.toast(
                    ToastLevel::Info,
                    "The exchange is running; wait for its verdict.",
                );
                Vec::new()
            } else {
                start_run(here, 1)
            }
        }
        Action::Reveal => {
            screen.reveal = !screen.reveal;
            let text = if screen.reveal {
                "Tokens shown in full; v masks them again. They are never written to the log."
            } else {
                "Tokens masked."
            };
            here.toast(ToastLevel::Info, text);
            Vec::new()
        }
        Action::PasteToken => {
            if screen.pasted.take().is_some() {
                here.toast(
                    ToastLevel::Info,
                    "Pasted token dropped; the host's managed identity is used again.",
                );
            } else {
                here.toast(
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
                    here.toast(
                        ToastLevel::Success,
                        format!("Copied the {what} (OSC 52). Treat it as a password."),
                    );
                    vec![Cmd::Copy(token.expose().clone())]
                }
                None => {
                    here.toast(
                        ToastLevel::Info,
                        format!("No {what} to copy yet; x runs the exchange."),
                    );
                    Vec::new()
                }
            }
        }
        Action::FixInWizard => fix_in_wizard(here),
        Action::Inspect => {
            let token = screen
                .result()
                .and_then(|r| r.app_token_raw.clone().or_else(|| r.assertion_raw.clone()));
            let app = screen.app.clone();
            let fics = screen.result().map(|r| r.fics.clone()).unwrap_or_default();
            match token {
                Some(token) => {
                    here.nav(Nav::OpenInspector(Box::new(InspectorEntry {
                        token: Some(token),
                        app,
                        fics,
                    })));
                    Vec::new()
                }
                None => {
                    here.toast(ToastLevel::Info, "No token yet; x runs the exchange.");
                    Vec::new()
                }
            }
        }
        _ => return None,
    };
    Some(cmds)
}

fn fix_in_wizard(here: &mut Here) -> Vec<Cmd> {
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    let (Some(app), Some(result)) = (screen.app.clone(), screen.result()) else {
        return Vec::new();
    };
    if result.succeeded() {
        here.toast(
            ToastLevel::Info,
            "The exchange worked; there is nothing to fix.",
        );
        return Vec::new();
    }
    // AADSTS70025: the app has no FIC at all; the fix is a new one, for this identity.
    let no_fics = result.refusal.as_ref().and_then(|r| r.code) == Some(70025)
        || (result.fics.is_empty() && result.refusal.is_some());
    if no_fics {
        let identity = screen.identity.clone();
        here.nav(Nav::AddFic(Box::new(AddFic { app, identity })));
        return Vec::new();
    }
    let Some(((fic, _), (field, corrected))) = result.nearest().zip(result.correction()) else {
        here.toast(
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
    here.nav(Nav::EditFic(Box::new(fix)));
    Vec::new()
}

/// The picker for a field, filled from what is loaded.
fn open_picker(here: &mut Here, field: FormField) {
    let items: Vec<PickItem> = match field {
        FormField::App => here
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
        FormField::Identity => here
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
            if let Some(session) = &here.session {
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
            let mut values: Vec<(String, &str)> = here
                .recent_scopes
                .iter()
                .map(|s| (s.clone(), "recent"))
                .collect();
            let default = default_scope(here);
            for scope in std::iter::once(default.as_str()).chain(COMMON_SCOPES) {
                if !values.iter().any(|(v, _)| v == scope) {
                    values.push((scope.to_string(), "common"));
                }
            }
            if let Some(app) = &here.screen.app {
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
    if let Some(screen) = top(here) {
        screen.picker = Some(Picker {
            field: Some(field),
            input: Input::default(),
            items,
            selected: 0,
            free_text,
        });
    }
}

/// Keys while the picker or the file path input has focus.
pub fn on_raw_key(here: &mut Here, key: ratatui::crossterm::event::KeyEvent) -> Vec<Cmd> {
    let request = here.new_request();
    let Some(screen) = top(here) else {
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
                    here.toast(ToastLevel::Warning, format!("{}: {why}", item.label));
                    return Vec::new();
                }
                Some(item) => item.value,
                None if free_text && !typed.is_empty() => typed,
                _ => return Vec::new(),
            };
            screen.picker = None;
            choose(here, field, value);
            Vec::new()
        }
    }
}

fn choose(here: &mut Here, field: Option<FormField>, value: String) {
    let value = sanitize(&value).into_owned();
    let app = here
        .apps
        .find(|a| a.object_id == value)
        .map(AppChoice::from);
    let identity = here.identities.find(|i| i.principal_id == value).cloned();
    let Some(screen) = top(here) else {
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
pub fn on_paste(here: &mut Here, text: &str) -> Vec<Cmd> {
    let Some(screen) = top(here) else {
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
            screen.run = None;
            screen.scroll = 0;
            here.toast(
                ToastLevel::Success,
                "Token pasted; x runs the exchange with it as the assertion (p drops it).",
            );
        }
        Err(error) => here.toast(
            ToastLevel::Error,
            format!("That paste is not a usable token: {error}. Nothing was kept."),
        ),
    }
    Vec::new()
}

#[cfg(test)]
mod tests;
