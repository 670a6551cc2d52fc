//! The wizard's state: its steps, fields and findings, and how the effects' answers move it.

use tui_input::Input;

use crate::component::{Ctx, ToastLevel};
use crate::error::ErrorKind;
use crate::keymap::{Action, Context};
use crate::model::{AppRow, IdentityRow};
use crate::msg::{Cmd, RequestId};
use ficus_core::cloud::Cloud;
use ficus_core::fic::{self, AppRef, Fic, Field, Identity};
use ficus_core::text::sanitize;

use super::effect::WizardMsg;

pub(crate) type Here<'a, 'c> = crate::component::Here<'a, 'c, Wizard>;

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

    pub(crate) fn from_fic_field(field: Field) -> Option<FieldId> {
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
    /// Esc would close the wizard and drop typed values: waiting for `y` to discard them.
    pub confirm_discard: bool,
    /// Context for the rules.
    pub cloud: Cloud,
    pub tenant_id: String,
    pub identities: Vec<Identity>,
    /// A FIC drafted elsewhere (the exchange's `F`: core's `Remedy::AddFic`): its values win
    /// over the auto-fill.
    pub prefill: Option<Fic>,
    /// Whether Graph's reads showed the last create (`false`: saved, not replicated yet).
    pub replicated: bool,
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

/// What the done step and its toast say when Graph's reads do not show a new FIC yet.
pub const NOT_REPLICATED: &str =
    "created — Graph's reads do not show it yet (replication); it is saved";

/// Why a system-assigned identity cannot be picked.
pub const SYSTEM_ASSIGNED_REASON: &str =
    "system-assigned: not usable in a FIC (only user-assigned)";

/// Why, at length (said when one is chosen).
pub const SYSTEM_ASSIGNED_WHY: &str = "system-assigned: Entra accepts only user-assigned identities as a FIC's subject (a system-assigned one lives and dies with its resource)";

impl Wizard {
    pub(crate) fn new(ctx: &Ctx, mode: Mode, start: Side) -> Wizard {
        let (cloud, tenant_id) = ctx.session.map_or_else(
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
            confirm_discard: false,
            cloud,
            tenant_id,
            identities: ctx.identities.items().iter().map(identity_of).collect(),
            prefill: None,
            replicated: true,
        }
    }

    /// The identity chosen before the wizard opened (the exchange's `F` on an app without
    /// FICs): the fields follow as soon as the app's FICs are read.
    pub fn preselect_identity(&mut self, identity: IdentityRow) {
        if !identity.usable_for_fic() || self.step != Step::Pick(Side::Identity) {
            return;
        }
        self.identity = Some(identity);
        after_both_chosen(self);
    }

    /// Values typed (or fixed) that leaving would lose: a field no longer as filled in.
    pub fn has_typed_values(&self) -> bool {
        !matches!(self.step, Step::Done { .. })
            && self
                .fields
                .iter()
                .any(|f| f.input.value() != f.auto.as_deref().unwrap_or(""))
    }

    pub fn field(&self, id: FieldId) -> &FieldState {
        &self.fields[id as usize]
    }

    pub(crate) fn field_mut(&mut self, id: FieldId) -> &mut FieldState {
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

    pub(crate) fn chosen_identity(&self) -> Option<Identity> {
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

    pub(crate) fn set_value(&mut self, id: FieldId, value: String) {
        self.field_mut(id).input = Input::new(value);
    }

    /// Fills the fields from the app and identity with `fic::managed_identity_fic`, keeping
    /// whatever the admin typed.
    pub(crate) fn autofill(&mut self) {
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
        if let Some(draft) = self.prefill.clone() {
            let drafted = [
                (FieldId::Issuer, draft.issuer.clone()),
                (FieldId::Subject, draft.subject.clone()),
                (FieldId::Audience, draft.audiences.join(",")),
            ];
            for (id, value) in drafted {
                let field = self.field_mut(id);
                if !value.trim().is_empty() && field.input.value() != value {
                    field.source = "from the token the exchange presented".to_string();
                    field.auto = Some(value.clone());
                    field.input = Input::new(value);
                    field.fixed = None;
                }
            }
        }
        self.revalidate();
    }
}

pub(super) fn wizard<'h>(here: &'h Here) -> Option<&'h Wizard> {
    Some(&*here.screen)
}

pub(super) fn wizard_mut<'h>(here: &'h mut Here) -> Option<&'h mut Wizard> {
    Some(&mut *here.screen)
}

/// An effect's answer. Answers nobody waits for any more are dropped.
pub(super) fn on_msg(here: &mut Here, msg: WizardMsg) -> Vec<Cmd> {
    // Keys for the sentences below, as the keymap binds them in the wizard.
    let test_key = here.key(Context::Wizard, Action::TestExchange);
    let back_key = here.key(Context::Wizard, Action::Back);
    let Some(wizard) = wizard_mut(here) else {
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
                    let error = sanitize(&error.message).into_owned();
                    if wizard.step == Step::Loading {
                        wizard.step = Step::Pick(if wizard.start == Side::App {
                            Side::Identity
                        } else {
                            Side::App
                        });
                    }
                    here.toast(
                        ToastLevel::Error,
                        format!("Could not read the app's credentials: {error} — choose it again to retry."),
                    );
                    Vec::new()
                }
            }
        }
        WizardMsg::Replication {
            request,
            replicated,
        } => {
            if wizard.step == (Step::Saving { request }) {
                wizard.replicated = replicated;
            }
            Vec::new()
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
                    let counted = match &wizard.app {
                        Some(WizardApp {
                            row,
                            fics: Some(fics),
                        }) if !wizard.is_edit() => Some((
                            row.object_id.clone(),
                            fics.iter().map(|f| f.subject.clone()).collect(),
                        )),
                        _ => None,
                    };
                    let verb = if wizard.is_edit() { "Saved" } else { "Created" };
                    let name = stored.name.clone();
                    let toast = if wizard.replicated || wizard.is_edit() {
                        format!(
                            "{verb} {name} and read it back. {test_key} runs the test exchange."
                        )
                    } else {
                        format!("{name} {NOT_REPLICATED}")
                    };
                    wizard.step = Step::Done { stored };
                    here.out.app_fics = counted;
                    here.toast(ToastLevel::Success, toast);
                }
                Err(error) => {
                    let detail = sanitize(&error.message).into_owned();
                    let name = wizard.field(FieldId::Name).input.value().trim().to_string();
                    // The kind, not the wording, says what to do; every field is kept.
                    let error = match error.kind {
                        ErrorKind::Conflict if !wizard.is_edit() => format!(
                            "The name {name} is taken: this app already has a FIC named so (or one with this issuer and subject). {back_key} twice goes back to the fields to choose another name; every value is kept. ({detail})"
                        ),
                        ErrorKind::Forbidden => format!(
                            "You may not change this app: you need to own it or be an Application Administrator. Every value is kept. ({detail})"
                        ),
                        ErrorKind::NotFound => format!(
                            "The app is gone (deleted elsewhere?); nothing was saved. ({detail})"
                        ),
                        _ => detail,
                    };
                    wizard.step = Step::Failed { error };
                }
            }
            Vec::new()
        }
    }
}

/// Both sides are known (and the app's FICs read): the limit, "already trusted?", or the
/// fields.
pub(super) fn after_both_chosen(wizard: &mut Wizard) {
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
