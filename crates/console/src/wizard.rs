//! The Managed Identity FIC wizard (#6): from an app (or an identity) to a FIC that lets a
//! user-assigned managed identity sign in as the app, validated live by `fic::rules`, shown as
//! the exact Graph request and as az / Graph PowerShell / Bicep / Terraform, created (POST, read
//! back), then tested with one key. The same field screen edits an existing FIC (name
//! immutable) and applies a finding's fix in one key.
//!
//! Pure like the rest of `update`: [`on_key`], [`on_paste`] and [`on_msg`] change the
//! [`Wizard`] on top of the screen stack and return [`Cmd`]s; [`spawn`] runs the wizard's
//! effects over the [`Directory`]. Escape goes back one step and keeps every input; leaving
//! ficus mid-wizard asks first.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::UnboundedSender;
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use super::effects::Directory;
use super::keymap::{Action, Chord, Context, Lookup};
use super::model::{AppDetail, AppRow, CredentialKind, IdentityKind, IdentityRow, sanitize};
use super::msg::{Cmd, Msg, RequestId};
use super::state::{Overlay, Screen, State, ToastLevel};
use ficus_core::cloud::Cloud;
use ficus_core::fic::{self, AppRecord, AppRef, Fic, Field, Identity};

/// The two sides a FIC joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    App,
    Identity,
}

/// Creating a new FIC, or changing an existing one (its name is immutable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Create,
    Edit { fic_id: String, original: Fic },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Choosing this side from a filterable list.
    Pick(Side),
    /// Reading the chosen app's FICs (to check "already trusted?" and the limit).
    Loading,
    /// The app already has a FIC for this identity.
    AlreadyTrusted {
        fic: Fic,
    },
    /// The app has Graph's maximum of FICs.
    Full,
    Fields,
    Review,
    Saving {
        request: RequestId,
    },
    Failed {
        error: String,
    },
    Done {
        stored: Fic,
    },
}

impl Step {
    /// The step's number and name in the step bar.
    pub fn stage(&self) -> usize {
        match self {
            Step::Pick(_) | Step::Loading | Step::AlreadyTrusted { .. } | Step::Full => 0,
            Step::Fields => 1,
            Step::Review => 2,
            Step::Saving { .. } | Step::Failed { .. } => 3,
            Step::Done { .. } => 4,
        }
    }
}

pub const STAGES: [&str; 5] = ["Choose", "Fields", "Review", "Save", "Test"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldId {
    Name,
    Issuer,
    Subject,
    Audience,
    Description,
}

impl FieldId {
    pub const ALL: [FieldId; 5] = [
        FieldId::Name,
        FieldId::Issuer,
        FieldId::Subject,
        FieldId::Audience,
        FieldId::Description,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FieldId::Name => "name",
            FieldId::Issuer => "issuer",
            FieldId::Subject => "subject",
            FieldId::Audience => "audience",
            FieldId::Description => "description",
        }
    }

    pub fn fic_field(self) -> Field {
        match self {
            FieldId::Name => Field::Name,
            FieldId::Issuer => Field::Issuer,
            FieldId::Subject => Field::Subject,
            FieldId::Audience => Field::Audiences,
            FieldId::Description => Field::Description,
        }
    }

    fn from_fic_field(field: Field) -> Option<FieldId> {
        FieldId::ALL.into_iter().find(|f| f.fic_field() == field)
    }
}

/// One field: what is typed, and the value ficus filled in with where it came from.
#[derive(Debug, Clone, Default)]
pub struct FieldState {
    pub input: Input,
    pub auto: Option<String>,
    /// Where the auto-filled value came from ("the tenant's authority …").
    pub source: String,
    /// Set when a finding's fix wrote the value.
    pub fixed: Option<String>,
}

impl FieldState {
    /// Where the current value came from, in words.
    pub fn provenance(&self) -> String {
        if self.auto.as_deref() == Some(self.input.value()) {
            self.source.clone()
        } else if let Some(label) = &self.fixed {
            format!("fixed: {label}")
        } else {
            "typed by you".to_string()
        }
    }
}

/// The app the FIC goes into, with its FICs once read.
#[derive(Debug, Clone)]
pub struct WizardApp {
    pub row: AppRow,
    /// `None` while they are being read.
    pub fics: Option<Vec<Fic>>,
}

pub struct Wizard {
    pub mode: Mode,
    /// The side the admin started from.
    pub start: Side,
    pub step: Step,
    pub app: Option<WizardApp>,
    pub identity: Option<IdentityRow>,
    /// The app-loading request the wizard waits for.
    pub load_request: Option<RequestId>,
    pub picker_filter: Input,
    pub picker_editing: bool,
    pub picker_cursor: usize,
    pub fields: Vec<FieldState>,
    pub focus: usize,
    /// The field whose input has the keys, if any.
    pub editing: bool,
    pub findings: Vec<fic::Finding>,
    /// Warnings the admin accepted (by message); new warnings need a new OK.
    pub acknowledged: Vec<String>,
    pub review_tab: usize,
    /// Lines scrolled in the review's text.
    pub review_scroll: u16,
    /// `q` was pressed: waiting for `y` to leave ficus.
    pub confirm_quit: bool,
    /// Context for the rules.
    pub cloud: Cloud,
    pub tenant_id: String,
    pub identities: Vec<Identity>,
}

pub fn identity_of(row: &IdentityRow) -> Identity {
    Identity {
        name: row.name.clone(),
        kind: row.kind,
        client_id: row.client_id.clone(),
        principal_id: row.principal_id.clone(),
        arm_id: row.arm_id.clone(),
        subscription: row.subscription.clone(),
        resource_group: row.resource_group.clone(),
        tenant_id: row.tenant_id.clone(),
    }
}

/// Why a system-assigned identity cannot be picked.
pub const SYSTEM_ASSIGNED_REASON: &str =
    "system-assigned: not usable in a FIC (only user-assigned)";

/// Why, at length (said when one is chosen).
pub const SYSTEM_ASSIGNED_WHY: &str = "system-assigned: Entra accepts only user-assigned identities as a FIC's subject (a system-assigned one lives and dies with its resource)";

impl Wizard {
    fn new(state: &State, mode: Mode, start: Side) -> Wizard {
        let (cloud, tenant_id) = state.session.as_ref().map_or_else(
            || (Cloud::global(), String::new()),
            |s| (s.cloud_endpoints.clone(), s.tenant_id.clone()),
        );
        Wizard {
            mode,
            start,
            step: Step::Pick(Side::Identity),
            app: None,
            identity: None,
            load_request: None,
            picker_filter: Input::default(),
            picker_editing: false,
            picker_cursor: 0,
            fields: vec![FieldState::default(); FieldId::ALL.len()],
            focus: 0,
            editing: false,
            findings: Vec::new(),
            acknowledged: Vec::new(),
            review_tab: 0,
            review_scroll: 0,
            confirm_quit: false,
            cloud,
            tenant_id,
            identities: state.identities.items().iter().map(identity_of).collect(),
        }
    }

    pub fn field(&self, id: FieldId) -> &FieldState {
        &self.fields[id as usize]
    }

    fn field_mut(&mut self, id: FieldId) -> &mut FieldState {
        &mut self.fields[id as usize]
    }

    pub fn focused(&self) -> FieldId {
        FieldId::ALL[self.focus.min(FieldId::ALL.len() - 1)]
    }

    pub fn is_edit(&self) -> bool {
        matches!(self.mode, Mode::Edit { .. })
    }

    /// Whether a field can be typed into (the name of an existing FIC cannot).
    pub fn editable(&self, id: FieldId) -> bool {
        !(self.is_edit() && id == FieldId::Name)
    }

    /// The FIC as the fields say now.
    pub fn draft(&self) -> Fic {
        let value = |id: FieldId| self.field(id).input.value().to_string();
        let audience = value(FieldId::Audience);
        let audiences = if audience.is_empty() {
            Vec::new()
        } else {
            audience.split(',').map(|a| a.to_string()).collect()
        };
        let description = value(FieldId::Description);
        Fic {
            id: match &self.mode {
                Mode::Edit { fic_id, .. } => Some(fic_id.clone()),
                Mode::Create => None,
            },
            name: value(FieldId::Name),
            issuer: value(FieldId::Issuer),
            subject: value(FieldId::Subject),
            audiences,
            description: (!description.is_empty()).then_some(description),
        }
    }

    pub fn existing(&self) -> &[Fic] {
        self.app
            .as_ref()
            .and_then(|a| a.fics.as_deref())
            .unwrap_or_default()
    }

    fn chosen_identity(&self) -> Option<Identity> {
        self.identity.as_ref().map(identity_of)
    }

    /// Runs the rules on the draft.
    pub fn revalidate(&mut self) {
        let draft = self.draft();
        let identity = self.chosen_identity();
        let app_id = self.app.as_ref().map(|a| a.row.app_id.clone());
        let mut context = fic::RuleContext::new(&self.cloud, &self.tenant_id)
            .with_existing(self.existing())
            .with_identities(&self.identities);
        if let Some(identity) = &identity {
            context = context.with_identity(identity);
        }
        if let Some(app_id) = &app_id {
            context = context.with_app_id(app_id);
        }
        self.findings = fic::validate(&draft, &context);
        let current: Vec<String> = self.warnings().map(|f| f.message.clone()).collect();
        self.acknowledged.retain(|m| current.contains(m));
    }

    pub fn errors(&self) -> impl Iterator<Item = &fic::Finding> {
        self.findings.iter().filter(|f| f.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &fic::Finding> {
        self.findings.iter().filter(|f| !f.is_error())
    }

    pub fn warnings_acknowledged(&self) -> bool {
        self.warnings()
            .all(|w| self.acknowledged.contains(&w.message))
    }

    /// The fix `f` would apply: the focused field's first, else the first one at all.
    pub fn next_fix(&self) -> Option<&fic::Fix> {
        let focused = self.focused().fic_field();
        self.findings
            .iter()
            .filter(|f| f.fix.is_some())
            .find(|f| f.field == focused)
            .or_else(|| self.findings.iter().find(|f| f.fix.is_some()))
            .and_then(|f| f.fix.as_ref())
    }

    fn set_value(&mut self, id: FieldId, value: String) {
        self.field_mut(id).input = Input::new(value);
    }

    /// Fills the fields from the app and identity with `fic::managed_identity_fic`, keeping
    /// whatever the admin typed.
    fn autofill(&mut self) {
        let (Some(app), Some(identity)) = (&self.app, &self.identity) else {
            return;
        };
        let app_ref = AppRef {
            app_id: app.row.app_id.clone(),
            display_name: app.row.name.clone(),
        };
        let filled = fic::managed_identity_fic(
            &self.cloud,
            &self.tenant_id,
            &app_ref,
            &identity_of(identity),
            self.existing(),
        );
        let cloud_label = match self.cloud.kind {
            ficus_core::cloud::CloudKind::Custom => "sandbox".to_string(),
            other => other.label().to_string(),
        };
        let sources = [
            (
                FieldId::Name,
                filled.name.clone(),
                format!("auto: \"mi-\" + {}, unique in the app", identity.name),
            ),
            (
                FieldId::Issuer,
                filled.issuer.clone(),
                "auto: the tenant's authority, as its tokens name it".to_string(),
            ),
            (
                FieldId::Subject,
                filled.subject.clone(),
                format!("auto: the principal id of {}", identity.name),
            ),
            (
                FieldId::Audience,
                filled.audiences.join(","),
                format!("auto: the {cloud_label} cloud's token exchange audience"),
            ),
            (
                FieldId::Description,
                filled.description.clone().unwrap_or_default(),
                "auto: names the identity and the app".to_string(),
            ),
        ];
        for (id, value, source) in sources {
            let typed = {
                let field = self.field(id);
                !field.input.value().is_empty()
                    && field.auto.as_deref() != Some(field.input.value())
            };
            let field = self.field_mut(id);
            field.source = source;
            field.auto = Some(value.clone());
            if !typed {
                field.input = Input::new(value);
                field.fixed = None;
            }
        }
        self.revalidate();
    }
}

fn wizard(state: &State) -> Option<&Wizard> {
    match state.stack.last() {
        Some(Screen::Wizard(wizard)) => Some(wizard),
        _ => None,
    }
}

fn wizard_mut(state: &mut State) -> Option<&mut Wizard> {
    match state.stack.last_mut() {
        Some(Screen::Wizard(wizard)) => Some(wizard),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Starting

/// `a` on an app or an identity (list or detail): opens the wizard with that side chosen.
pub fn start(state: &mut State) -> Vec<Cmd> {
    use super::state::ListKind;
    enum Given {
        App(AppRow, Option<Vec<Fic>>),
        Identity(IdentityRow),
    }
    let given = match state.stack.last() {
        Some(Screen::AppDetail(screen)) => match &screen.detail {
            Some(detail) => Given::App(
                detail.app.clone(),
                Some(detail.fics.iter().map(|f| f.fic.clone()).collect()),
            ),
            None => {
                state.toast(
                    ToastLevel::Info,
                    "The app is still loading; press a again in a moment.",
                );
                return Vec::new();
            }
        },
        Some(Screen::IdentityDetail(screen)) => Given::Identity(screen.identity.clone()),
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => return Vec::new(),
        None => match state.list {
            ListKind::Apps => match state.apps.selected() {
                Some(app) => Given::App(app.clone(), None),
                None => return Vec::new(),
            },
            ListKind::Identities => match state.identities.selected() {
                Some(identity) => Given::Identity(identity.clone()),
                None => return Vec::new(),
            },
        },
    };
    match given {
        Given::App(row, fics) => {
            let mut wizard = Wizard::new(state, Mode::Create, Side::App);
            let mut cmds = Vec::new();
            if fics.is_none() {
                let request = state.new_request();
                wizard.load_request = Some(request);
                cmds.push(Cmd::Wizard(WizardCmd::LoadApp {
                    request,
                    object_id: row.object_id.clone(),
                }));
            }
            let full = fics
                .as_ref()
                .is_some_and(|f| f.len() >= fic::rules::MAX_FICS_PER_APP);
            wizard.app = Some(WizardApp { row, fics });
            wizard.step = if full {
                Step::Full
            } else {
                Step::Pick(Side::Identity)
            };
            state.stack.push(Screen::Wizard(Box::new(wizard)));
            cmds
        }
        Given::Identity(identity) => {
            if !identity.usable_for_fic() {
                state.toast(
                    ToastLevel::Warning,
                    format!(
                        "{} is {SYSTEM_ASSIGNED_WHY}. Pick a user-assigned identity.",
                        identity.name
                    ),
                );
                return Vec::new();
            }
            let mut wizard = Wizard::new(state, Mode::Create, Side::Identity);
            wizard.identity = Some(identity);
            wizard.step = Step::Pick(Side::App);
            state.stack.push(Screen::Wizard(Box::new(wizard)));
            Vec::new()
        }
    }
}

/// `c` on a FIC in App detail: the field screen on that FIC (name immutable).
pub fn start_edit(state: &mut State) -> Vec<Cmd> {
    open_edit(state, false)
}

/// `f` on a FIC in App detail: the same, with the first finding's fix already applied.
pub fn start_fix(state: &mut State) -> Vec<Cmd> {
    open_edit(state, true)
}

fn open_edit(state: &mut State, apply_fix: bool) -> Vec<Cmd> {
    let Some(Screen::AppDetail(screen)) = state.stack.last() else {
        return Vec::new();
    };
    let Some(detail) = &screen.detail else {
        state.toast(
            ToastLevel::Info,
            "The app is still loading; try again in a moment.",
        );
        return Vec::new();
    };
    let Some(row) = detail.fics.get(screen.fic_cursor) else {
        state.toast(
            ToastLevel::Info,
            "This app has no FIC to change; a adds one.",
        );
        return Vec::new();
    };
    let original = row.fic.clone();
    let app = WizardApp {
        row: detail.app.clone(),
        fics: Some(detail.fics.iter().map(|f| f.fic.clone()).collect()),
    };
    edit_fic(
        state,
        app,
        original,
        if apply_fix {
            Correction::First
        } else {
            Correction::None
        },
    )
}

enum Correction {
    None,
    /// The first fix the rules offer.
    First,
    /// A given value (the exchange screen's diagnosis).
    Value(Field, String),
}

/// `Msg::EditFic` (the exchange screen's `F`): that FIC in the wizard, the corrected value in
/// its field, ready to review.
pub fn open_correction(state: &mut State, fix: super::exchange::FicFix) -> Vec<Cmd> {
    let known = state.stack.iter().rev().find_map(|screen| match screen {
        Screen::AppDetail(s) if s.object_id == fix.app.object_id => {
            s.detail.as_ref().map(|d| WizardApp {
                row: d.app.clone(),
                fics: Some(d.fics.iter().map(|f| f.fic.clone()).collect()),
            })
        }
        _ => None,
    });
    let mut cmds = Vec::new();
    let app = match known {
        Some(app) => app,
        None => {
            // Not on screen: start from what the list knows and read its FICs for the rules.
            let row = state
                .apps
                .find(|a| a.object_id == fix.app.object_id)
                .cloned()
                .unwrap_or_else(|| AppRow {
                    object_id: fix.app.object_id.clone(),
                    app_id: fix.app.app_id.clone(),
                    name: fix.app.name.clone(),
                    fic_count: None,
                    credentials: Vec::new(),
                    audience: super::model::Audience::Single,
                });
            let request = state.new_request();
            cmds.push(Cmd::Wizard(WizardCmd::LoadApp {
                request,
                object_id: row.object_id.clone(),
            }));
            WizardApp {
                row,
                fics: Some(vec![fix.fic.clone()]),
            }
        }
    };
    let load = cmds.first().and_then(|c| match c {
        Cmd::Wizard(WizardCmd::LoadApp { request, .. }) => Some(*request),
        _ => None,
    });
    let mut out = edit_fic(
        state,
        app,
        fix.fic,
        Correction::Value(fix.field, fix.corrected),
    );
    if let Some(wizard) = wizard_mut(state) {
        wizard.load_request = load;
    }
    out.extend(cmds);
    out
}

fn edit_fic(state: &mut State, app: WizardApp, original: Fic, correction: Correction) -> Vec<Cmd> {
    let Some(fic_id) = original.id.clone() else {
        state.toast(
            ToastLevel::Warning,
            "This FIC has no id yet (still replicating?); press r to reload the app first.",
        );
        return Vec::new();
    };
    let subject = original.subject.trim().to_ascii_lowercase();
    let identity = state
        .identities
        .items()
        .iter()
        .find(|i| i.principal_id.to_ascii_lowercase() == subject)
        .or_else(|| {
            state
                .identities
                .items()
                .iter()
                .find(|i| i.client_id.to_ascii_lowercase() == subject)
        })
        .cloned();
    let mut wizard = Wizard::new(
        state,
        Mode::Edit {
            fic_id,
            original: original.clone(),
        },
        Side::App,
    );
    wizard.app = Some(app);
    wizard.identity = identity;
    fill_from(&mut wizard, &original);
    wizard.step = Step::Fields;
    wizard.focus = 1;
    wizard.revalidate();
    let fix = match correction {
        Correction::None => None,
        Correction::First => match wizard.findings.iter().find_map(|f| f.fix.clone()) {
            Some(fix) => Some(fix),
            None => {
                state.stack.push(Screen::Wizard(Box::new(wizard)));
                state.toast(
                    ToastLevel::Info,
                    "No finding on this FIC has a fix to apply; edit it here (e on a field).",
                );
                return Vec::new();
            }
        },
        Correction::Value(field, value) => Some(fic::Fix {
            field,
            label: format!("set the {} to {value}", field.label()),
            value,
        }),
    };
    let note = fix.map(|fix| {
        apply(&mut wizard, &fix);
        if let Some(id) = FieldId::from_fic_field(fix.field) {
            wizard.focus = id as usize;
        }
        format!("{}: {}. Enter reviews it.", original.name, fix.label)
    });
    state.stack.push(Screen::Wizard(Box::new(wizard)));
    if let Some(text) = note {
        state.toast(ToastLevel::Success, text);
    }
    Vec::new()
}

/// The fields as a saved FIC has them, "as saved" being where they came from.
fn fill_from(wizard: &mut Wizard, original: &Fic) {
    let values = [
        (
            FieldId::Name,
            original.name.clone(),
            "its name (Graph does not allow renaming)",
        ),
        (FieldId::Issuer, original.issuer.clone(), "as saved"),
        (FieldId::Subject, original.subject.clone(), "as saved"),
        (FieldId::Audience, original.audiences.join(","), "as saved"),
        (
            FieldId::Description,
            original.description.clone().unwrap_or_default(),
            "as saved",
        ),
    ];
    for (id, value, source) in values {
        let field = wizard.field_mut(id);
        field.auto = Some(value.clone());
        field.source = source.to_string();
        field.fixed = None;
        field.input = Input::new(value);
    }
}

fn apply(wizard: &mut Wizard, fix: &fic::Fix) {
    if let Some(id) = FieldId::from_fic_field(fix.field) {
        if !wizard.editable(id) {
            return;
        }
        wizard.set_value(id, fix.value.clone());
        wizard.field_mut(id).fixed = Some(fix.label.clone());
    }
    wizard.revalidate();
}

// ---------------------------------------------------------------------------------------------
// Effects

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WizardCmd {
    /// Read the app (its FICs and credentials).
    LoadApp {
        request: RequestId,
        object_id: String,
    },
    Create {
        request: RequestId,
        app_object_id: String,
        fic: Fic,
    },
    Update {
        request: RequestId,
        app_object_id: String,
        fic_id: String,
        fic: Fic,
    },
}

#[derive(Debug, Clone)]
pub enum WizardMsg {
    AppLoaded {
        request: RequestId,
        result: Result<Box<AppDetail>, String>,
    },
    Saved {
        request: RequestId,
        result: Result<Fic, String>,
    },
}

/// Runs one of the wizard's commands in the background.
pub fn spawn<D: Directory>(directory: &Arc<D>, cmd: WizardCmd, tx: &UnboundedSender<Msg>) {
    let directory = Arc::clone(directory);
    let sender = tx.clone();
    let tx = tx.clone();
    // A panic ends the step with an error the wizard shows, every field kept.
    let (request, saving) = match &cmd {
        WizardCmd::LoadApp { request, .. } => (*request, false),
        WizardCmd::Create { request, .. } | WizardCmd::Update { request, .. } => (*request, true),
    };
    let on_panic = move |error| {
        Msg::Wizard(if saving {
            WizardMsg::Saved {
                request,
                result: Err(error),
            }
        } else {
            WizardMsg::AppLoaded {
                request,
                result: Err(error),
            }
        })
    };
    super::effects::spawn_guarded(
        &sender,
        async move {
            let msg = match cmd {
                WizardCmd::LoadApp { request, object_id } => WizardMsg::AppLoaded {
                    request,
                    result: directory.app_detail(object_id).await.map(Box::new),
                },
                WizardCmd::Create {
                    request,
                    app_object_id,
                    fic,
                } => {
                    tracing::info!(request, %app_object_id, name = %fic.name, "creating FIC");
                    WizardMsg::Saved {
                        request,
                        result: directory.create_fic(app_object_id, fic).await,
                    }
                }
                WizardCmd::Update {
                    request,
                    app_object_id,
                    fic_id,
                    fic,
                } => {
                    tracing::info!(request, %app_object_id, %fic_id, "updating FIC");
                    WizardMsg::Saved {
                        request,
                        result: directory.update_fic(app_object_id, fic_id, fic).await,
                    }
                }
            };
            let _ = tx.send(Msg::Wizard(msg));
        },
        on_panic,
    );
}

/// An effect's answer. Answers nobody waits for any more are dropped.
pub fn on_msg(state: &mut State, msg: WizardMsg) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    match msg {
        WizardMsg::AppLoaded { request, result } => {
            if wizard.load_request != Some(request) {
                return Vec::new();
            }
            wizard.load_request = None;
            match result {
                Ok(mut detail) => {
                    detail.sanitize();
                    let fics: Vec<Fic> = detail.fics.iter().map(|f| f.fic.clone()).collect();
                    wizard.app = Some(WizardApp {
                        row: detail.app.clone(),
                        fics: Some(fics),
                    });
                    match wizard.step {
                        // Still choosing the identity: say "full" now, before any typing.
                        Step::Pick(Side::Identity)
                            if wizard.existing().len() >= fic::rules::MAX_FICS_PER_APP =>
                        {
                            wizard.step = Step::Full;
                        }
                        Step::Loading => after_both_chosen(wizard),
                        // An edit opened from elsewhere: the rules now see every FIC.
                        Step::Fields => wizard.revalidate(),
                        _ => {}
                    }
                    Vec::new()
                }
                Err(error) => {
                    let error = sanitize(&error).into_owned();
                    if wizard.step == Step::Loading {
                        wizard.step = Step::Pick(if wizard.start == Side::App {
                            Side::Identity
                        } else {
                            Side::App
                        });
                    }
                    state.toast(
                        ToastLevel::Error,
                        format!("Could not read the app's credentials: {error} — choose it again to retry."),
                    );
                    Vec::new()
                }
            }
        }
        WizardMsg::Saved { request, result } => {
            if wizard.step != (Step::Saving { request }) {
                return Vec::new();
            }
            match result {
                Ok(mut stored) => {
                    for value in [&mut stored.name, &mut stored.issuer, &mut stored.subject] {
                        *value = sanitize(value).into_owned();
                    }
                    if let Some(app) = &mut wizard.app
                        && let Some(fics) = &mut app.fics
                    {
                        fics.retain(|f| f.id.is_none() || f.id != stored.id);
                        fics.push(stored.clone());
                    }
                    let verb = if wizard.is_edit() { "Saved" } else { "Created" };
                    let name = stored.name.clone();
                    wizard.step = Step::Done { stored };
                    state.toast(
                        ToastLevel::Success,
                        format!("{verb} {name} and read it back. x runs the test exchange."),
                    );
                }
                Err(error) => {
                    wizard.step = Step::Failed {
                        error: sanitize(&error).into_owned(),
                    };
                }
            }
            Vec::new()
        }
    }
}

/// Both sides are known (and the app's FICs read): the limit, "already trusted?", or the
/// fields.
fn after_both_chosen(wizard: &mut Wizard) {
    if wizard.app.as_ref().is_some_and(|a| a.fics.is_none()) {
        wizard.step = Step::Loading;
        return;
    }
    if wizard.existing().len() >= fic::rules::MAX_FICS_PER_APP {
        wizard.step = Step::Full;
        return;
    }
    if let Some(identity) = &wizard.identity {
        let principal = identity.principal_id.trim();
        if let Some(found) = wizard
            .existing()
            .iter()
            .find(|f| f.subject.trim().eq_ignore_ascii_case(principal))
        {
            wizard.step = Step::AlreadyTrusted { fic: found.clone() };
            return;
        }
    }
    wizard.autofill();
    wizard.step = Step::Fields;
    wizard.focus = 0;
}

// ---------------------------------------------------------------------------------------------
// Keys

/// Keys while the wizard is on top (and no overlay is open). `None`: not the wizard's.
pub fn intercept(state: &mut State, key: &KeyEvent) -> Option<Vec<Cmd>> {
    if state.overlay.is_some() || wizard(state).is_none() {
        return None;
    }
    state.toast = None;
    Some(on_key(state, *key))
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    if wizard.confirm_quit {
        wizard.confirm_quit = false;
        if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) || is_ctrl_c(&key) {
            state.quit = true;
            return vec![Cmd::Quit];
        }
        state.toast(ToastLevel::Info, "Staying; nothing was lost.");
        return Vec::new();
    }
    if is_ctrl_c(&key) {
        return ask_quit(state);
    }
    if wizard.editing {
        return on_field_key(state, key);
    }
    if wizard.picker_editing {
        return on_picker_filter_key(state, key);
    }
    let chord = Chord::from_event(&key);
    let pending = std::mem::take(&mut state.pending);
    match state.keymap.lookup(Context::Wizard, &pending, chord) {
        Lookup::Action(action) => perform(state, action),
        Lookup::Pending => {
            state.pending = pending;
            state.pending.push(chord);
            Vec::new()
        }
        Lookup::Unbound if !pending.is_empty() => on_key(state, key),
        Lookup::Unbound if starts_typing(state, &key) => {
            if let Some(wizard) = wizard_mut(state) {
                wizard.editing = true;
            }
            on_field_key(state, key)
        }
        Lookup::Unbound => Vec::new(),
    }
}

/// A printable character that no binding claims, on a selected editable field, starts editing
/// it (no need to press `e` first).
fn starts_typing(state: &State, key: &KeyEvent) -> bool {
    let printable = matches!(key.code, KeyCode::Char(c) if !c.is_control())
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    printable
        && matches!(
            state.stack.last(),
            Some(Screen::Wizard(wizard))
                if wizard.step == Step::Fields && wizard.editable(wizard.focused())
        )
}

fn ask_quit(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    // After a save nothing is in flight; anywhere else, ask (even a choice is work).
    if matches!(wizard.step, Step::Done { .. }) {
        state.quit = true;
        return vec![Cmd::Quit];
    }
    wizard.confirm_quit = true;
    wizard.editing = false;
    state.toast(
        ToastLevel::Warning,
        "Quit ficus? This FIC is not saved yet. y quits · any other key stays",
    );
    Vec::new()
}

fn perform(state: &mut State, action: Action) -> Vec<Cmd> {
    match action {
        Action::Quit => ask_quit(state),
        Action::Help => {
            state.overlay = Some(Overlay::Help { scroll: 0 });
            Vec::new()
        }
        Action::Back => back(state),
        Action::Up => move_cursor(state, -1),
        Action::Down => move_cursor(state, 1),
        Action::Top => move_cursor(state, isize::MIN / 2),
        Action::Bottom => move_cursor(state, isize::MAX / 2),
        Action::HalfPageUp => move_cursor(state, -10),
        Action::HalfPageDown => move_cursor(state, 10),
        Action::Open => next(state),
        Action::Filter => {
            if let Some(wizard) = wizard_mut(state)
                && matches!(wizard.step, Step::Pick(_))
            {
                wizard.picker_editing = true;
            }
            Vec::new()
        }
        Action::EditField => edit(state),
        Action::ApplyFix => fix(state),
        Action::AcknowledgeWarnings => acknowledge(state),
        Action::NextPane => {
            if let Some(wizard) = wizard_mut(state) {
                if matches!(wizard.step, Step::Review | Step::Failed { .. }) {
                    wizard.review_tab = (wizard.review_tab + 1) % REVIEW_TABS.len();
                    wizard.review_scroll = 0;
                } else if wizard.step == Step::Fields {
                    wizard.focus = (wizard.focus + 1) % FieldId::ALL.len();
                }
            }
            Vec::new()
        }
        Action::Copy => copy(state),
        Action::TestExchange => test_exchange(state),
        Action::Refresh => retry(state),
        Action::EditFic => {
            // From "already trusted": change that FIC instead.
            edit_existing(state)
        }
        Action::Palette | Action::ShowApps | Action::ShowIdentities => {
            state.toast(
                ToastLevel::Info,
                "Finish or leave the wizard first (Esc goes back one step, nothing is lost).",
            );
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Esc: one step back, every input kept; out of the first step closes the wizard.
fn back(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    let other = |side: Side| match side {
        Side::App => Side::Identity,
        Side::Identity => Side::App,
    };
    let chooser = Step::Pick(other(wizard.start));
    let previous = match &wizard.step {
        Step::Pick(_) => None,
        Step::Loading | Step::AlreadyTrusted { .. } => Some(chooser),
        Step::Full => (wizard.start == Side::Identity).then_some(chooser),
        Step::Fields => match wizard.mode {
            Mode::Create => Some(chooser),
            Mode::Edit { .. } => None,
        },
        Step::Review => Some(Step::Fields),
        Step::Failed { .. } => Some(Step::Review),
        Step::Saving { .. } => {
            state.toast(
                ToastLevel::Info,
                "The request is on its way; wait for its answer (nothing is lost).",
            );
            return Vec::new();
        }
        Step::Done { .. } => None,
    };
    match previous {
        Some(step) => {
            if wizard.step == Step::Loading {
                wizard.load_request = None;
            }
            wizard.step = step;
            Vec::new()
        }
        None => close(state),
    }
}

/// Leaves the wizard; after a save the screen below is reloaded.
fn close(state: &mut State) -> Vec<Cmd> {
    let saved = matches!(wizard(state).map(|w| &w.step), Some(Step::Done { .. }));
    state.stack.pop();
    if !saved {
        return Vec::new();
    }
    let request = state.new_request();
    match state.stack.last_mut() {
        Some(Screen::AppDetail(screen)) => {
            screen.request = request;
            vec![Cmd::LoadAppDetail {
                request,
                object_id: screen.object_id.clone(),
            }]
        }
        Some(Screen::IdentityDetail(screen)) => {
            screen.request = request;
            vec![Cmd::LoadIdentityDetail {
                request,
                identity: Box::new(screen.identity.clone()),
            }]
        }
        _ => Vec::new(),
    }
}

/// The picker's rows: apps or identities matching the filter, in list order.
pub fn picker_rows(state: &State) -> PickerRows<'_> {
    let Some(wizard) = wizard(state) else {
        return PickerRows::Apps(Vec::new());
    };
    let needle = wizard.picker_filter.value().trim().to_ascii_lowercase();
    let matches = |fields: &[&str]| {
        needle.is_empty()
            || fields
                .iter()
                .any(|f| f.to_ascii_lowercase().contains(&needle))
    };
    match wizard.step {
        Step::Pick(Side::App) => PickerRows::Apps(
            state
                .apps
                .items()
                .iter()
                .filter(|a| matches(&[&a.name, &a.app_id]))
                .collect(),
        ),
        _ => {
            // Usable ones first, by name; the system-assigned ones after, to show why not.
            let mut rows: Vec<&IdentityRow> = state
                .identities
                .items()
                .iter()
                .filter(|i| matches(&[&i.name, &i.client_id, &i.principal_id]))
                .collect();
            rows.sort_by(|a, b| {
                (
                    a.kind == IdentityKind::SystemAssigned,
                    a.name.to_ascii_lowercase(),
                )
                    .cmp(&(
                        b.kind == IdentityKind::SystemAssigned,
                        b.name.to_ascii_lowercase(),
                    ))
            });
            PickerRows::Identities(rows)
        }
    }
}

pub enum PickerRows<'a> {
    Apps(Vec<&'a AppRow>),
    Identities(Vec<&'a IdentityRow>),
}

impl PickerRows<'_> {
    pub fn len(&self) -> usize {
        match self {
            PickerRows::Apps(rows) => rows.len(),
            PickerRows::Identities(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn move_cursor(state: &mut State, delta: isize) -> Vec<Cmd> {
    let rows = picker_rows(state).len();
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    match wizard.step {
        Step::Pick(_) => {
            wizard.picker_cursor = wizard
                .picker_cursor
                .saturating_add_signed(delta)
                .min(rows.saturating_sub(1));
        }
        Step::Fields => {
            wizard.focus = wizard
                .focus
                .saturating_add_signed(delta)
                .min(FieldId::ALL.len() - 1);
        }
        Step::Review => {
            wizard.review_scroll = (wizard.review_scroll as isize + delta).clamp(0, 200) as u16;
        }
        _ => {}
    }
    Vec::new()
}

/// Enter: the next step.
fn next(state: &mut State) -> Vec<Cmd> {
    let Some(step) = wizard(state).map(|w| w.step.clone()) else {
        return Vec::new();
    };
    match step {
        Step::Pick(side) => choose(state, side),
        Step::Loading => {
            state.toast(ToastLevel::Info, "Reading the app's credentials…");
            Vec::new()
        }
        Step::AlreadyTrusted { .. } => {
            state.toast(
                ToastLevel::Info,
                "Nothing to add: x tests the existing FIC, c changes it, Esc picks another.",
            );
            Vec::new()
        }
        Step::Full => {
            state.toast(
                ToastLevel::Warning,
                "The app has 20 FICs; delete one (D in its FIC list) before adding another.",
            );
            Vec::new()
        }
        Step::Fields => to_review(state),
        Step::Review => save(state),
        Step::Failed { .. } => save(state),
        Step::Saving { .. } => Vec::new(),
        Step::Done { .. } => close(state),
    }
}

fn choose(state: &mut State, side: Side) -> Vec<Cmd> {
    let cursor = wizard(state).map_or(0, |w| w.picker_cursor);
    match side {
        Side::Identity => {
            let picked = match picker_rows(state) {
                PickerRows::Identities(rows) => rows.get(cursor).map(|r| (*r).clone()),
                PickerRows::Apps(_) => None,
            };
            let Some(identity) = picked else {
                return Vec::new();
            };
            if identity.kind == IdentityKind::SystemAssigned {
                state.toast(
                    ToastLevel::Warning,
                    format!(
                        "{} is {SYSTEM_ASSIGNED_WHY}. Choose a user-assigned one.",
                        identity.name
                    ),
                );
                return Vec::new();
            }
            let request = state.new_request();
            let Some(wizard) = wizard_mut(state) else {
                return Vec::new();
            };
            wizard.identity = Some(identity);
            wizard.picker_editing = false;
            // The app's FICs are not known and no read is under way (it failed): read again.
            if let Some(app) = &wizard.app
                && app.fics.is_none()
                && wizard.load_request.is_none()
            {
                let object_id = app.row.object_id.clone();
                wizard.load_request = Some(request);
                wizard.step = Step::Loading;
                return vec![Cmd::Wizard(WizardCmd::LoadApp { request, object_id })];
            }
            after_both_chosen(wizard);
            Vec::new()
        }
        Side::App => {
            let picked = match picker_rows(state) {
                PickerRows::Apps(rows) => rows.get(cursor).map(|r| (*r).clone()),
                PickerRows::Identities(_) => None,
            };
            let Some(row) = picked else {
                return Vec::new();
            };
            let request = state.new_request();
            let Some(wizard) = wizard_mut(state) else {
                return Vec::new();
            };
            let object_id = row.object_id.clone();
            let same_app = wizard
                .app
                .as_ref()
                .is_some_and(|a| a.row.object_id == object_id && a.fics.is_some());
            wizard.picker_editing = false;
            if same_app {
                after_both_chosen(wizard);
                return Vec::new();
            }
            wizard.app = Some(WizardApp { row, fics: None });
            wizard.load_request = Some(request);
            wizard.step = Step::Loading;
            vec![Cmd::Wizard(WizardCmd::LoadApp { request, object_id })]
        }
    }
}

fn to_review(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    wizard.revalidate();
    let errors = wizard.errors().count();
    let blocking = wizard.errors().next().map(|first| {
        format!(
            "✗ {errors} error{} block saving. First, {}: {}{}",
            if errors == 1 { "" } else { "s" },
            first.field.label(),
            first.message,
            if first.fix.is_some() {
                " (f fixes it)"
            } else {
                ""
            }
        )
    });
    if let Some(text) = blocking {
        state.toast(ToastLevel::Error, text);
        return Vec::new();
    }
    if !wizard.warnings_acknowledged() {
        state.toast(
            ToastLevel::Warning,
            "Read the warnings: w accepts them and goes on, or fix them (f / e).",
        );
        return Vec::new();
    }
    if wizard.is_edit() && wizard.draft() == original_of(wizard) {
        state.toast(
            ToastLevel::Info,
            "Nothing changed yet: e edits the selected field, f applies a fix.",
        );
        return Vec::new();
    }
    wizard.step = Step::Review;
    Vec::new()
}

fn original_of(wizard: &Wizard) -> Fic {
    match &wizard.mode {
        Mode::Edit { original, .. } => original.clone(),
        Mode::Create => Fic::default(),
    }
}

fn save(state: &mut State) -> Vec<Cmd> {
    if state.read_only() {
        state.toast(
            ToastLevel::Warning,
            "Saving is off (--read-only): y copies a snippet to run elsewhere.",
        );
        return Vec::new();
    }
    let request = state.new_request();
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    wizard.revalidate();
    if fic::has_errors(&wizard.findings) || !wizard.warnings_acknowledged() {
        wizard.step = Step::Fields;
        return to_review(state);
    }
    let Some(app) = &wizard.app else {
        return Vec::new();
    };
    let app_object_id = app.row.object_id.clone();
    let fic = wizard.draft();
    let cmd = match &wizard.mode {
        Mode::Create => WizardCmd::Create {
            request,
            app_object_id,
            fic,
        },
        Mode::Edit { fic_id, .. } => WizardCmd::Update {
            request,
            app_object_id,
            fic_id: fic_id.clone(),
            fic,
        },
    };
    wizard.step = Step::Saving { request };
    vec![Cmd::Wizard(cmd)]
}

fn retry(state: &mut State) -> Vec<Cmd> {
    match wizard(state).map(|w| &w.step) {
        Some(Step::Failed { .. }) => save(state),
        _ => Vec::new(),
    }
}

/// `e`: type into the focused field.
fn edit(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    if wizard.step != Step::Fields {
        if wizard.step == Step::Review {
            wizard.step = Step::Fields;
        } else {
            return Vec::new();
        }
    }
    let focused = wizard.focused();
    if !wizard.editable(focused) {
        state.toast(
            ToastLevel::Info,
            "A FIC's name cannot change (Graph keys it by name). To rename, add a new FIC and delete this one.",
        );
        return Vec::new();
    }
    wizard.editing = true;
    Vec::new()
}

fn fix(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    if wizard.step != Step::Fields {
        return Vec::new();
    }
    match wizard.next_fix().cloned() {
        Some(fix) => {
            apply(wizard, &fix);
            if let Some(id) = FieldId::from_fic_field(fix.field) {
                wizard.focus = id as usize;
            }
            state.toast(ToastLevel::Success, format!("Fixed: {}.", fix.label));
        }
        None => state.toast(ToastLevel::Info, "No finding has a fix to apply."),
    }
    Vec::new()
}

fn acknowledge(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    if wizard.step != Step::Fields {
        return Vec::new();
    }
    let warnings: Vec<String> = wizard.warnings().map(|w| w.message.clone()).collect();
    if warnings.is_empty() {
        state.toast(ToastLevel::Info, "There are no warnings to accept.");
        return Vec::new();
    }
    wizard.acknowledged = warnings;
    state.toast(
        ToastLevel::Info,
        "Warnings accepted; Enter reviews the request.",
    );
    Vec::new()
}

fn edit_existing(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    let Step::AlreadyTrusted { fic } = &wizard.step else {
        return Vec::new();
    };
    let Some(fic_id) = fic.id.clone() else {
        return Vec::new();
    };
    let original = fic.clone();
    wizard.mode = Mode::Edit {
        fic_id,
        original: original.clone(),
    };
    fill_from(wizard, &original);
    wizard.step = Step::Fields;
    wizard.focus = 1;
    wizard.revalidate();
    Vec::new()
}

fn on_field_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    let Some(wizard) = wizard_mut(state) else {
        return Vec::new();
    };
    match key.code {
        // Both keep what was typed: the draft follows every keystroke.
        KeyCode::Esc | KeyCode::Enter => wizard.editing = false,
        KeyCode::Tab | KeyCode::Down => {
            wizard.focus = (wizard.focus + 1).min(FieldId::ALL.len() - 1);
            wizard.editing = wizard.editable(wizard.focused());
        }
        KeyCode::BackTab | KeyCode::Up => {
            wizard.focus = wizard.focus.saturating_sub(1);
            wizard.editing = wizard.editable(wizard.focused());
        }
        _ => {
            let event = ratatui::crossterm::event::Event::Key(key);
            if let Some(request) = to_input_request(&event) {
                let focused = wizard.focused();
                let field = wizard.field_mut(focused);
                if field.input.handle(request).is_some() {
                    field.fixed = None;
                    wizard.revalidate();
                }
            }
        }
    }
    Vec::new()
}

fn on_picker_filter_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    match key.code {
        KeyCode::Esc => {
            if let Some(wizard) = wizard_mut(state) {
                wizard.picker_editing = false;
            }
            Vec::new()
        }
        KeyCode::Enter => {
            let side = match wizard(state).map(|w| &w.step) {
                Some(Step::Pick(side)) => *side,
                _ => return Vec::new(),
            };
            choose(state, side)
        }
        KeyCode::Down => move_cursor(state, 1),
        KeyCode::Up => move_cursor(state, -1),
        _ => {
            let event = ratatui::crossterm::event::Event::Key(key);
            if let Some(wizard) = wizard_mut(state)
                && let Some(request) = to_input_request(&event)
                && wizard.picker_filter.handle(request).is_some()
            {
                wizard.picker_cursor = 0;
            }
            Vec::new()
        }
    }
}

/// Bracketed paste: into the field or the filter being typed.
pub fn on_paste(state: &mut State, text: &str) -> Option<Vec<Cmd>> {
    if state.overlay.is_some() {
        return None;
    }
    let wizard = wizard_mut(state)?;
    // Pasted values are one line; trailing newlines from a copy are dropped, inner
    // whitespace kept so the rules can point at it.
    let clean = sanitize(text.trim_end_matches(['\n', '\r'])).into_owned();
    if wizard.editing {
        let focused = wizard.focused();
        let field = wizard.field_mut(focused);
        for c in clean.chars() {
            field.input.handle(InputRequest::InsertChar(c));
        }
        field.fixed = None;
        wizard.revalidate();
    } else if wizard.picker_editing || matches!(wizard.step, Step::Pick(_)) {
        wizard.picker_editing = true;
        for c in clean.trim().chars() {
            wizard.picker_filter.handle(InputRequest::InsertChar(c));
        }
        wizard.picker_cursor = 0;
    } else {
        state.toast(
            ToastLevel::Info,
            "To paste into a field, select it and press e first.",
        );
    }
    Some(Vec::new())
}

// ---------------------------------------------------------------------------------------------
// Review

pub const REVIEW_TABS: [&str; 5] = [
    "Graph request",
    "Azure CLI",
    "Graph PowerShell",
    "Bicep",
    "Terraform",
];

/// The text of each review tab.
pub fn review_snippets(wizard: &Wizard) -> Vec<(String, String)> {
    let Some(app) = &wizard.app else {
        return Vec::new();
    };
    let record = AppRecord {
        object_id: app.row.object_id.clone(),
        app_id: app.row.app_id.clone(),
        display_name: app.row.name.clone(),
        unique_name: None,
    };
    let draft = wizard.draft();
    let cloud = &wizard.cloud;
    let created = |format| fic::export(format, &draft, &record, cloud);
    let texts = match &wizard.mode {
        Mode::Create => vec![
            created(fic::ExportFormat::GraphRequest),
            created(fic::ExportFormat::AzCli),
            created(fic::ExportFormat::GraphPowerShell),
            created(fic::ExportFormat::Bicep),
            created(fic::ExportFormat::Terraform),
        ],
        Mode::Edit { fic_id, original } => {
            let patch = patch_body(original, &draft);
            let url = format!(
                "{}/applications/{}/federatedIdentityCredentials/{}",
                cloud.graph_v1(),
                record.object_id,
                fic_id
            );
            let pretty = serde_json::to_string_pretty(&patch).unwrap_or_else(|_| patch.to_string());
            vec![
                format!("PATCH {url}\nContent-Type: application/json\n\n{pretty}\n"),
                format!(
                    "az ad app federated-credential update --id {} --federated-credential-id {} --parameters {}",
                    fic::export::shell_quote(&record.app_id),
                    fic::export::shell_quote(fic_id),
                    fic::export::shell_quote(&fic::export::graph_body(&draft).to_string())
                ),
                update_powershell(&record, fic_id, &draft),
                created(fic::ExportFormat::Bicep),
                created(fic::ExportFormat::Terraform),
            ]
        }
    };
    REVIEW_TABS
        .iter()
        .map(|t| t.to_string())
        .zip(texts)
        .collect()
}

/// The PATCH body: only what changed (the name never does).
pub fn patch_body(original: &Fic, draft: &Fic) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    if draft.issuer != original.issuer {
        body.insert("issuer".into(), draft.issuer.clone().into());
    }
    if draft.subject != original.subject {
        body.insert("subject".into(), draft.subject.clone().into());
    }
    if draft.audiences != original.audiences {
        body.insert("audiences".into(), draft.audiences.clone().into());
    }
    if draft.description != original.description {
        body.insert(
            "description".into(),
            draft.description.clone().unwrap_or_default().into(),
        );
    }
    serde_json::Value::Object(body)
}

fn update_powershell(app: &AppRecord, fic_id: &str, fic: &Fic) -> String {
    use fic::export::powershell_quote as q;
    let audiences: Vec<String> = fic.audiences.iter().map(|a| q(a)).collect();
    let mut out = format!(
        "Update-MgApplicationFederatedIdentityCredential -ApplicationId {} -FederatedIdentityCredentialId {} -BodyParameter @{{\n",
        q(&app.object_id),
        q(fic_id)
    );
    out.push_str(&format!("    issuer      = {}\n", q(&fic.issuer)));
    out.push_str(&format!("    subject     = {}\n", q(&fic.subject)));
    out.push_str(&format!("    audiences   = @({})\n", audiences.join(", ")));
    if let Some(description) = &fic.description {
        out.push_str(&format!("    description = {}\n", q(description)));
    }
    out.push('}');
    out
}

fn copy(state: &mut State) -> Vec<Cmd> {
    let Some(wizard) = wizard(state) else {
        return Vec::new();
    };
    let picked = match &wizard.step {
        Step::Review | Step::Failed { .. } => review_snippets(wizard)
            .get(wizard.review_tab)
            .map(|(label, text)| (format!("the {label}"), text.clone())),
        Step::Fields => {
            let focused = wizard.focused();
            Some((
                format!("the {}", focused.label()),
                wizard.field(focused).input.value().to_string(),
            ))
        }
        Step::Done { stored } => stored.id.clone().map(|id| ("the FIC's id".to_string(), id)),
        _ => None,
    };
    match picked {
        Some((what, text)) => {
            state.toast(ToastLevel::Success, format!("Copied {what} (OSC 52)."));
            vec![Cmd::Copy(text)]
        }
        None => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Test exchange

fn test_exchange(state: &mut State) -> Vec<Cmd> {
    use super::exchange::{AppChoice, ExchangeEntry};
    let Some(wizard) = wizard(state) else {
        return Vec::new();
    };
    let just_created = match &wizard.step {
        Step::Done { .. } => !wizard.is_edit(),
        Step::AlreadyTrusted { .. } => false,
        _ => {
            state.toast(
                ToastLevel::Info,
                "The test exchange runs once the FIC is saved (or from an existing one).",
            );
            return Vec::new();
        }
    };
    let (Some(app), Some(identity)) = (&wizard.app, &wizard.identity) else {
        state.toast(
            ToastLevel::Info,
            "The FIC's subject is not an identity ficus knows; the exchange needs one.",
        );
        return Vec::new();
    };
    // The exchange screen (#7) opens above the wizard; Esc there comes back here.
    let entry = ExchangeEntry {
        app: Some(AppChoice::from(&app.row)),
        identity: Some(identity.clone()),
        just_created,
        run: true,
        ..ExchangeEntry::default()
    };
    super::exchange::open(state, entry)
}

/// Secrets and certificates the app still has: once the exchange works they can go.
pub fn remaining_secrets(app: &AppRow) -> (usize, usize) {
    let secrets = app
        .credentials
        .iter()
        .filter(|c| c.kind == CredentialKind::Secret)
        .count();
    (secrets, app.credentials.len() - secrets)
}

#[cfg(test)]
mod tests;
