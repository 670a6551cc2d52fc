//! How the wizard starts: from an app or an identity (`a`), on an existing FIC (`c`, `f`), or
//! on a FIC with one field corrected (the exchange screen's `F`). Each returns the wizard for
//! the root to push, with its first commands and toast.

use tui_input::Input;

use super::effect::WizardCmd;
use super::state::{FieldId, Mode, SYSTEM_ASSIGNED_WHY, Side, Step, Wizard, WizardApp};
use crate::component::{Ctx, Outcome, ToastLevel};
use crate::keymap::{Action, Context};
use crate::model::{AppRow, Audience};
use crate::msg::Cmd;
use crate::nav::FicFix;
use ficus_core::fic::{self, Fic, Field};

type Opening<'a, 'c> = crate::component::Here<'a, 'c, Option<Wizard>>;

// ---------------------------------------------------------------------------------------------
// Starting

/// `a` on an app or an identity (list or detail): opens the wizard with that side chosen.
pub use crate::nav::Given;

/// `a` on an app or an identity (list or detail): the wizard with that side chosen, or why
/// not (a toast).
pub fn start(ctx: &Ctx, given: Given) -> (Option<Wizard>, Outcome) {
    opening(ctx, |here| start_in(here, given))
}

/// `c` (or `f`, `apply_fix`) on a FIC in App detail: the field screen on that FIC (name
/// immutable), with the first finding's fix applied for `f`.
pub fn edit(
    ctx: &Ctx,
    app: WizardApp,
    original: Fic,
    apply_fix: bool,
) -> (Option<Wizard>, Outcome) {
    let correction = if apply_fix {
        Correction::First
    } else {
        Correction::None
    };
    opening(ctx, |here| edit_fic(here, app, original, correction))
}

/// `Nav::EditFic` (the exchange screen's `F`): that FIC in the wizard, the corrected value in
/// its field, ready to review. `known`: the app as a detail screen below already has it.
pub fn open_correction(
    ctx: &Ctx,
    fix: FicFix,
    known: Option<WizardApp>,
) -> (Option<Wizard>, Outcome) {
    opening(ctx, |here| correction_in(here, fix, known))
}

/// Runs a start-up transition into an empty slot.
fn opening(
    ctx: &Ctx,
    transition: impl FnOnce(&mut Opening) -> Vec<Cmd>,
) -> (Option<Wizard>, Outcome) {
    let mut slot = None;
    let mut here = Opening::new(&mut slot, ctx);
    let cmds = transition(&mut here);
    let outcome = here.finish(cmds);
    (slot, outcome)
}

fn start_in(here: &mut Opening, given: Given) -> Vec<Cmd> {
    match given {
        Given::App(row, fics) => {
            let mut wizard = Wizard::new(here.ctx, Mode::Create, Side::App);
            let mut cmds = Vec::new();
            if fics.is_none() {
                let request = here.new_request();
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
            *here.screen = Some(wizard);
            cmds
        }
        Given::Identity(identity) => {
            if !identity.usable_for_fic() {
                here.toast(
                    ToastLevel::Warning,
                    format!(
                        "{} is {SYSTEM_ASSIGNED_WHY}. Pick a user-assigned identity.",
                        identity.name
                    ),
                );
                return Vec::new();
            }
            let mut wizard = Wizard::new(here.ctx, Mode::Create, Side::Identity);
            wizard.identity = Some(identity);
            wizard.step = Step::Pick(Side::App);
            *here.screen = Some(wizard);
            Vec::new()
        }
    }
}

enum Correction {
    None,
    /// The first fix the rules offer.
    First,
    /// A given value (the exchange screen's diagnosis).
    Value(Field, String),
}

fn correction_in(here: &mut Opening, fix: FicFix, known: Option<WizardApp>) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    let app = match known {
        Some(app) => app,
        None => {
            // Not on screen: start from what the list knows and read its FICs for the rules.
            let row = here
                .apps
                .find(|a| a.object_id == fix.app.object_id)
                .cloned()
                .unwrap_or_else(|| AppRow {
                    object_id: fix.app.object_id.clone(),
                    app_id: fix.app.app_id.clone(),
                    name: fix.app.name.clone(),
                    fic_count: None,
                    fic_subjects: None,
                    credentials: Vec::new(),
                    audience: Audience::Single,
                });
            let request = here.new_request();
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
        here,
        app,
        fix.fic,
        Correction::Value(fix.field, fix.corrected),
    );
    if let Some(wizard) = here.screen.as_mut() {
        wizard.load_request = load;
    }
    out.extend(cmds);
    out
}

fn edit_fic(here: &mut Opening, app: WizardApp, original: Fic, correction: Correction) -> Vec<Cmd> {
    let Some(fic_id) = original.id.clone() else {
        let reload = here.key(Context::AppDetail, Action::Refresh);
        here.toast(
            ToastLevel::Warning,
            format!("This FIC has no id yet (still replicating?); press {reload} to reload the app first."),
        );
        return Vec::new();
    };
    let subject = original.subject.trim().to_ascii_lowercase();
    let identity = here
        .identities
        .items()
        .iter()
        .find(|i| i.principal_id.to_ascii_lowercase() == subject)
        .or_else(|| {
            here.identities
                .items()
                .iter()
                .find(|i| i.client_id.to_ascii_lowercase() == subject)
        })
        .cloned();
    let mut wizard = Wizard::new(
        here,
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
                *here.screen = Some(wizard);
                let edit = here.key(Context::Wizard, Action::EditField);
                here.toast(
                    ToastLevel::Info,
                    format!("No finding on this FIC has a fix to apply; edit it here ({edit} on a field)."),
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
    let review = here.key(Context::Wizard, Action::Open);
    let note = fix.map(|fix| {
        apply(&mut wizard, &fix);
        if let Some(id) = FieldId::from_fic_field(fix.field) {
            wizard.focus = id as usize;
        }
        format!("{}: {}. {review} reviews it.", original.name, fix.label)
    });
    *here.screen = Some(wizard);
    if let Some(text) = note {
        here.toast(ToastLevel::Success, text);
    }
    Vec::new()
}

/// The fields as a saved FIC has them, "as saved" being where they came from.
pub(super) fn fill_from(wizard: &mut Wizard, original: &Fic) {
    // The fields show what is stored cleaned for the terminal; the review sends what is
    // stored for a field left as shown (`review::update_of`).
    let original = &super::review::shown(original);
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

pub(super) fn apply(wizard: &mut Wizard, fix: &fic::Fix) {
    if let Some(id) = FieldId::from_fic_field(fix.field) {
        if !wizard.editable(id) {
            return;
        }
        wizard.set_value(id, fix.value.clone());
        wizard.field_mut(id).fixed = Some(fix.label.clone());
    }
    wizard.revalidate();
}
