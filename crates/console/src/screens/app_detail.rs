//! App detail, a [`Component`]: an app registration's FICs (with their findings) and its
//! secrets and certificates. It moves between them, reloads, copies, and asks the root to open
//! the wizard (`a`, `c`, `f`), the exchange (`x`), the delete confirmation (`D`) and the export
//! view (`e`).

use ficus_core::text::sanitize;
use ratatui::crossterm::event::KeyEvent;

use crate::component::{Command, Component, Ctx, Outcome, ToastLevel, keymap_commands};
use crate::error::DirectoryError;
use crate::evidence::{Evidence, SecretVerdict};
use crate::keymap::{Action, Context};
use crate::keymap::{Chord, Lookup};
use crate::model::CredentialKind;
use crate::model::{AppDetail, FicRow, Severity};
use crate::msg::{Cmd, RequestId, UndoPlan};
use crate::nav::{AppChoice, EditInWizard, ExchangeEntry, Given, Nav};
use crate::overlay::{ConfirmDelete, ExportScreen, Overlay, TextPanel};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailPane {
    Fics,
    Credentials,
}

pub struct AppDetailScreen {
    pub object_id: String,
    /// Known from the list row before the detail arrives.
    pub name: String,
    pub request: RequestId,
    pub detail: Option<AppDetail>,
    pub error: Option<String>,
    pub pane: DetailPane,
    pub fic_cursor: usize,
    pub credential_cursor: usize,
    /// The migration's end (#15): the evidence a secret's removal is judged by, and the
    /// question on screen (remove this secret, undo the last change).
    pub migration: Migration,
}

/// What App detail knows for removing a secret and undoing a change.
#[derive(Debug, Clone, Default)]
pub struct Migration {
    /// This app's sign-in evidence (the root copies it here as it arrives).
    pub evidence: Option<Evidence>,
    /// A question waiting for `y`.
    pub question: Option<Question>,
}

/// A question on App detail that waits for `y` (any other key keeps things as they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// Remove this client secret: the exact request, and whether it may go.
    RemoveSecret {
        key_id: String,
        name: String,
        /// `POST {graph}/applications/{id}/removePassword {"keyId": "…"}`.
        request_line: String,
        verdict: SecretVerdict,
        /// The admin said yes once to a refusal: the next `y` removes it anyway.
        insisted: bool,
    },
    /// Undo the newest change of the history journal.
    Undo(UndoPlan),
}

impl Question {
    /// A removal the evidence refuses (used within the quiet period, or no evidence): it
    /// takes a second `y`.
    pub fn refused(&self) -> bool {
        matches!(
            self,
            Question::RemoveSecret {
                verdict: SecretVerdict::InUse { .. } | SecretVerdict::Unknown(_),
                ..
            }
        )
    }
}

impl AppDetailScreen {
    /// Its detail arrived (already sanitized): the cursors stay within the new lists.
    pub fn loaded(&mut self, result: Result<AppDetail, DirectoryError>) {
        match result {
            Ok(detail) => {
                self.fic_cursor = self.fic_cursor.min(detail.fics.len().saturating_sub(1));
                self.credential_cursor = self
                    .credential_cursor
                    .min(detail.app.credentials.len().saturating_sub(1));
                self.detail = Some(detail);
                self.error = None;
            }
            Err(error) => self.error = Some(sanitize(&error.message).into_owned()),
        }
    }

    /// The FIC under the cursor, when the FIC pane has focus.
    pub fn selected_fic(&self) -> Option<&FicRow> {
        if self.pane != DetailPane::Fics {
            return None;
        }
        self.detail.as_ref()?.fics.get(self.fic_cursor)
    }

    fn move_cursor(&mut self, delta: isize) {
        let Some(detail) = &self.detail else {
            return;
        };
        let (cursor, len) = match self.pane {
            DetailPane::Fics => (&mut self.fic_cursor, detail.fics.len()),
            DetailPane::Credentials => (&mut self.credential_cursor, detail.app.credentials.len()),
        };
        *cursor = cursor
            .saturating_add_signed(delta)
            .min(len.saturating_sub(1));
    }

    fn copy(&self, id: bool, out: &mut Outcome) {
        let picked = match (&self.detail, id) {
            (Some(detail), true) => Some(("the app id", detail.app.app_id.clone())),
            (Some(detail), false) => match self.pane {
                DetailPane::Fics => detail
                    .fics
                    .get(self.fic_cursor)
                    .map(|f| ("the FIC's subject", f.fic.subject.clone())),
                DetailPane::Credentials => detail
                    .app
                    .credentials
                    .get(self.credential_cursor)
                    .map(|c| ("the credential's key id", c.key_id.clone())),
            },
            (None, _) => None,
        };
        if let Some((what, text)) = picked {
            out.set_toast(ToastLevel::Info, crate::terminal::sent_to_clipboard(what));
            out.cmds.push(Cmd::copy(text));
        }
    }

    /// `x`: the exchange for this app, with the selected FIC's identity.
    fn test_exchange(&self, ctx: &Ctx) -> Nav {
        let mut entry = ExchangeEntry::default();
        if let Some(detail) = &self.detail {
            entry.app = Some(AppChoice::from(&detail.app));
            entry.identity = detail
                .fics
                .get(self.fic_cursor)
                .and_then(|f| crate::screens::exchange::identity_for_subject(ctx, &f.fic.subject));
        } else {
            // The detail is still loading: the list's row knows the app id.
            entry.app = ctx
                .apps
                .find(|a| a.object_id == self.object_id)
                .map(AppChoice::from);
        }
        Nav::OpenExchange(Box::new(entry))
    }

    /// "Use it in your workload" for the selected FIC: its app, the identity it trusts, the
    /// session's tenant and the cloud's Graph `.default`.
    fn workload_code(&self, ctx: &Ctx, out: &mut Outcome) {
        let (Some(detail), Some(row)) = (&self.detail, self.selected_fic()) else {
            out.set_toast(
                ToastLevel::Info,
                select_first(ctx, "a FIC", "the FIC list", None),
            );
            return;
        };
        let identities = ctx.identities.items().iter().map(|r| &r.identity);
        let Some(identity) = crate::screens::workload::identity_of(&row.fic, identities) else {
            out.set_toast(
                ToastLevel::Info,
                "This FIC's subject is not a managed identity of this tenant: its workload is not one ficus can write code for.",
            );
            return;
        };
        let tenant = ctx.session.map(|s| s.tenant_id.clone()).unwrap_or_default();
        let values = crate::screens::workload::values_for(
            &ctx.cloud(),
            &detail.app,
            identity,
            &tenant,
            None,
            Some(&row.fic),
        );
        out.nav = Some(Nav::OpenWorkload(Box::new(values)));
    }

    fn edit(&self, apply_fix: bool, ctx: &Ctx, out: &mut Outcome) {
        let Some(detail) = &self.detail else {
            out.set_toast(
                ToastLevel::Info,
                "The app is still loading; try again in a moment.",
            );
            return;
        };
        let Some(row) = detail.fics.get(self.fic_cursor) else {
            out.set_toast(
                ToastLevel::Info,
                format!(
                    "This app has no FIC to change; {} adds one.",
                    ctx.key(Context::AppDetail, Action::AddFic)
                ),
            );
            return;
        };
        out.nav = Some(Nav::EditInWizard(Box::new(EditInWizard {
            app: detail.app.clone(),
            fics: detail.fics.iter().map(|f| f.fic.clone()).collect(),
            original: row.stored().clone(),
            apply_fix,
        })));
    }

    fn ask_delete(&self, ctx: &Ctx, out: &mut Outcome) {
        if ctx.read_only() {
            out.set_toast(
                ToastLevel::Warning,
                "Read-only session: nothing can be deleted. Start ficus without --read-only to make changes.",
            );
            return;
        }
        let graph = ctx
            .session
            .map(|s| s.graph_base.clone())
            .unwrap_or_default();
        let Some(fic) = self.selected_fic() else {
            out.set_toast(
                ToastLevel::Info,
                select_first(ctx, "a FIC", "the FIC list", Some(Action::DeleteFic)),
            );
            return;
        };
        let Some(fic_id) = &fic.fic.id else {
            return;
        };
        out.nav = Some(Nav::Overlay(Box::new(Overlay::ConfirmDelete(
            ConfirmDelete {
                app_object_id: self.object_id.clone(),
                app_name: self
                    .detail
                    .as_ref()
                    .map_or(self.name.clone(), |d| d.app.name.clone()),
                fic_id: fic_id.clone(),
                fic_name: fic.fic.name.clone(),
                request_line: format!(
                    "DELETE {graph}/applications/{}/federatedIdentityCredentials/{fic_id}",
                    self.object_id
                ),
            },
        ))));
    }

    fn export(&self, ctx: &Ctx, out: &mut Outcome) {
        let cloud = ctx
            .session
            .map_or_else(ficus_core::cloud::Cloud::global, |s| {
                s.cloud_endpoints.clone()
            });
        let (Some(detail), Some(fic)) = (&self.detail, self.selected_fic()) else {
            out.set_toast(
                ToastLevel::Info,
                select_first(ctx, "a FIC", "the FIC list", Some(Action::Export)),
            );
            return;
        };
        // Exported as is, a FIC with errors would not work: the view says so (defect e).
        let mut warnings: Vec<String> = fic
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        // What is stored is exported, control or invisible characters escaped for each
        // language; the view says which fields hold them (issue 12).
        let stored = fic.stored();
        warnings.extend(
            ficus_core::fic::export::export_warnings(stored)
                .iter()
                .map(|w| w.message()),
        );
        out.nav = Some(Nav::Overlay(Box::new(Overlay::Export(ExportScreen {
            fic_name: fic.fic.name.clone(),
            snippets: crate::domain::export_snippets(&detail.app, stored, &cloud),
            tab: 0,
            warnings,
        }))));
    }
}

impl AppDetailScreen {
    /// `V`: the selected FIC's values (or, with no FIC selected, the app's ids), each alone
    /// on one unwrapped line.
    fn one_line(&self, out: &mut Outcome) {
        let Some(detail) = &self.detail else {
            return;
        };
        let panel = match self.selected_fic() {
            Some(row) => {
                let fic = &row.fic;
                let mut values = vec![
                    ("name", fic.name.clone()),
                    ("issuer", fic.issuer.clone()),
                    ("subject", fic.subject.clone()),
                ];
                values.extend(fic.audiences.iter().map(|a| ("audience", a.clone())));
                if let Some(id) = &fic.id {
                    values.push(("FIC id", id.clone()));
                }
                TextPanel::values(format!("{} — values", fic.name), &values)
            }
            None => TextPanel::values(
                format!("{} — ids", detail.app.name),
                &[
                    ("app (client) id", detail.app.app_id.clone()),
                    ("object id", detail.app.object_id.clone()),
                ],
            ),
        };
        out.nav = Some(Nav::Overlay(Box::new(Overlay::Text(panel))));
    }
}

impl AppDetailScreen {
    /// `X`: asks to remove the selected secret, showing the exact request and what the
    /// evidence says about it.
    fn ask_remove_secret(&mut self, ctx: &Ctx, out: &mut Outcome) {
        if ctx.read_only() {
            out.set_toast(
                ToastLevel::Warning,
                "Read-only session: no secret can be removed. Start ficus without --read-only to make changes.",
            );
            return;
        }
        let selected = self
            .detail
            .as_ref()
            .filter(|_| self.pane == DetailPane::Credentials)
            .and_then(|d| d.app.credentials.get(self.credential_cursor));
        let Some(credential) = selected else {
            out.set_toast(
                ToastLevel::Info,
                select_first(ctx, "a secret", "Secrets and certificates", None),
            );
            return;
        };
        if credential.kind != CredentialKind::Secret {
            out.set_toast(
                ToastLevel::Info,
                "ficus removes client secrets; a certificate goes with az ad app credential delete or in the portal.",
            );
            return;
        }
        let graph = ctx
            .session
            .map(|s| s.graph_base.clone())
            .unwrap_or_default();
        let verdict = match &self.migration.evidence {
            Some(evidence) => evidence.secret_verdict(&credential.key_id, ctx.now),
            None => SecretVerdict::Unknown("the sign-in evidence has not arrived yet".into()),
        };
        self.migration.question = Some(Question::RemoveSecret {
            key_id: credential.key_id.clone(),
            name: credential.name.clone(),
            request_line: format!(
                "POST {graph}/applications/{}/removePassword {{\"keyId\": \"{}\"}}",
                self.object_id, credential.key_id
            ),
            verdict,
            insisted: false,
        });
    }

    /// The question's answer: `y` goes on (a refused removal asks once more), any other key
    /// keeps things as they are.
    fn answer(&mut self, key: KeyEvent, ctx: &Ctx) -> Outcome {
        let mut out = Outcome::default();
        let yes = ctx
            .keymap
            .lookup(Context::Question, &[], Chord::from_event(&key))
            == Lookup::Action(Action::Confirm);
        let Some(question) = self.migration.question.take() else {
            return out;
        };
        if !yes {
            out.set_toast(
                ToastLevel::Info,
                match question {
                    Question::RemoveSecret { .. } => "Not removed.",
                    Question::Undo(_) => "Nothing undone.",
                },
            );
            return out;
        }
        match question {
            Question::RemoveSecret {
                key_id,
                name,
                request_line,
                verdict,
                insisted: false,
            } if matches!(
                verdict,
                SecretVerdict::InUse { .. } | SecretVerdict::Unknown(_)
            ) =>
            {
                // The evidence says no: the admin insists with a second `y`.
                self.migration.question = Some(Question::RemoveSecret {
                    key_id,
                    name,
                    request_line,
                    verdict,
                    insisted: true,
                });
            }
            Question::RemoveSecret { key_id, name, .. } => {
                let request = ctx.new_request();
                self.request = request;
                out.set_toast(ToastLevel::Info, format!("Removing the secret {name}…"));
                out.cmds.push(Cmd::RemoveSecret {
                    request,
                    app_object_id: self.object_id.clone(),
                    key_id,
                    name,
                });
            }
            Question::Undo(plan) => {
                out.set_toast(ToastLevel::Info, format!("Undoing: {}…", plan.change));
                out.cmds.push(Cmd::Undo {
                    request: ctx.new_request(),
                    number: plan.number,
                    app_object_id: plan.app_object_id,
                });
            }
        }
        out
    }
}

impl Component for AppDetailScreen {
    fn context(&self) -> Context {
        Context::AppDetail
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        self.migration
            .question
            .is_some()
            .then(|| self.answer(key, ctx))
    }

    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        if self.migration.question.is_some() {
            return vec![
                Command::answer(Action::Confirm, "yes"),
                Command::note("any other key", "keep it"),
            ];
        }
        let fic = self.selected_fic();
        let secret_selected = self.pane == DetailPane::Credentials
            && self
                .detail
                .as_ref()
                .and_then(|d| d.app.credentials.get(self.credential_cursor))
                .is_some_and(|c| c.kind == CredentialKind::Secret);
        let fixable = fic.is_some_and(|f| f.findings.iter().any(|finding| finding.fixable));
        keymap_commands(ctx.keymap, Context::AppDetail)
            .into_iter()
            .map(|command| match command.action {
                Action::FixFic => command.disabled_unless(
                    fixable,
                    format!(
                        "The selected FIC has no finding with a fix; {} changes it by hand.",
                        ctx.key(Context::AppDetail, Action::EditFic)
                    ),
                ),
                Action::DeleteFic if ctx.read_only() => command.disabled_unless(
                    false,
                    "Read-only session: nothing can be deleted. Start ficus without --read-only to make changes.",
                ),
                Action::RemoveSecret if ctx.read_only() => command.disabled_unless(
                    false,
                    "Read-only session: no secret can be removed. Start ficus without --read-only to make changes.",
                ),
                Action::RemoveSecret => command.disabled_unless(
                    secret_selected,
                    select_first(ctx, "a secret", "Secrets and certificates", None),
                ),
                Action::Undo if ctx.read_only() => command.disabled_unless(
                    false,
                    "Read-only session: nothing can be undone. Start ficus without --read-only to make changes.",
                ),
                Action::DeleteFic | Action::Export | Action::WorkloadCode => command.disabled_unless(
                    fic.is_some(),
                    select_first(ctx, "a FIC", "the FIC list", None),
                ),
                _ => command,
            })
            .collect()
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let half_page = (ctx.list_height / 2).max(1) as isize;
        let mut out = Outcome::default();
        match action {
            Action::Up => self.move_cursor(-1),
            Action::Down => self.move_cursor(1),
            Action::HalfPageUp => self.move_cursor(-half_page),
            Action::HalfPageDown => self.move_cursor(half_page),
            Action::Top => self.move_cursor(isize::MIN / 2),
            Action::Bottom => self.move_cursor(isize::MAX / 2),
            Action::NextPane => {
                self.pane = match self.pane {
                    DetailPane::Fics => DetailPane::Credentials,
                    DetailPane::Credentials => DetailPane::Fics,
                };
            }
            Action::Refresh => {
                let request = ctx.new_request();
                self.request = request;
                self.error = None;
                out.cmds.push(Cmd::LoadAppDetail {
                    request,
                    object_id: self.object_id.clone(),
                });
            }
            Action::Copy => self.copy(false, &mut out),
            Action::CopyId => self.copy(true, &mut out),
            Action::AddFic => match &self.detail {
                Some(detail) => {
                    out.nav = Some(Nav::StartWizard(Box::new(Given::App(
                        detail.app.clone(),
                        Some(detail.fics.iter().map(|f| f.fic.clone()).collect()),
                    ))));
                }
                None => out.set_toast(
                    ToastLevel::Info,
                    format!(
                        "The app is still loading; press {} again in a moment.",
                        ctx.key(Context::AppDetail, Action::AddFic)
                    ),
                ),
            },
            Action::EditFic => self.edit(false, ctx, &mut out),
            Action::FixFic => self.edit(true, ctx, &mut out),
            Action::TestExchange => out.nav = Some(self.test_exchange(ctx)),
            Action::DeleteFic => self.ask_delete(ctx, &mut out),
            Action::Export => self.export(ctx, &mut out),
            Action::WorkloadCode => self.workload_code(ctx, &mut out),
            Action::OneLine => self.one_line(&mut out),
            Action::RemoveSecret => self.ask_remove_secret(ctx, &mut out),
            // This app's last change (the palette's `undo`: the tenant's).
            Action::Undo => out.cmds.push(Cmd::PlanUndo {
                request: ctx.new_request(),
                app_object_id: Some(self.object_id.clone()),
            }),
            // Open has nothing to open here; the rest is the console's (quit, help, palette…).
            Action::Open => {}
            _ => return Outcome::ignored(),
        }
        out
    }
}

/// "Select a FIC first (Tab to the FIC list, j/k to pick one), then D.", keys as bound.
fn select_first(ctx: &Ctx, what: &str, pane: &str, then: Option<Action>) -> String {
    let key = |action| ctx.key(Context::AppDetail, action);
    let then = then.map_or(String::new(), |action| format!(", then {}", key(action)));
    format!(
        "Select {what} first ({} to {pane}, {}/{} to pick one){then}.",
        key(Action::NextPane),
        key(Action::Down),
        key(Action::Up)
    )
}
