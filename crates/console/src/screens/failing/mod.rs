//! Failing workloads (#15), a [`Component`]: the tenant's failed workload sign-ins of the last
//! 24 hours or 7 days (`w` switches), grouped by app, presented identity and AADSTS code, each
//! joined with the app's FICs through entra's `failing_workloads` (the join `ficus failing`
//! uses): "inventory-sync has failed 288 times since 09:12 with AADSTS700213 …". `f` opens the
//! fix in the wizard, `x` the test exchange for that app and identity, `Enter` the app. The
//! admin needs no access to the workload's logs.

use crate::component::{Command, Component, Ctx, Outcome, ToastLevel, keymap_commands};
use crate::error::DirectoryError;
use crate::evidence::{FailingReport, FailingRow, FailingWindow};
use crate::keymap::{Action, Context};
use crate::msg::{Cmd, RequestId};
use crate::nav::{AddFic, AppChoice, ExchangeEntry, FicFix, Nav};

pub struct FailingScreen {
    pub window: FailingWindow,
    /// The report being waited for.
    pub request: RequestId,
    /// `None` while loading.
    pub report: Option<FailingReport>,
    /// Why the last read failed (the rows of an earlier read stay).
    pub error: Option<String>,
    pub cursor: usize,
    /// The app whose row the cursor goes to when the report arrives (opened from a Health
    /// finding).
    pub focus_app: Option<AppChoice>,
    /// That app had no failing sign-ins in the report: the sentence that says so, once.
    pub focus_missed: Option<String>,
}

/// The view over `window`, and the read of its report.
pub fn open(ctx: &Ctx, window: FailingWindow) -> (FailingScreen, Vec<Cmd>) {
    let request = ctx.new_request();
    let screen = FailingScreen {
        window,
        request,
        report: None,
        error: None,
        cursor: 0,
        focus_app: None,
        focus_missed: None,
    };
    let cmds = vec![Cmd::LoadFailing {
        request,
        hours: window.hours(),
    }];
    (screen, cmds)
}

impl FailingScreen {
    /// The report arrived (or failed); answers for another read are dropped.
    pub fn loaded(
        &mut self,
        request: RequestId,
        result: Result<FailingReport, DirectoryError>,
    ) -> bool {
        if request != self.request {
            return false;
        }
        match result {
            Ok(mut report) => {
                if let FailingReport::Rows(rows) = &mut report {
                    rows.iter_mut().for_each(FailingRow::sanitize);
                    self.cursor = self.cursor.min(rows.len().saturating_sub(1));
                    if let Some(app) = self.focus_app.take() {
                        match rows
                            .iter()
                            .position(|r| r.app_object_id.as_deref() == Some(&app.object_id))
                        {
                            Some(at) => self.cursor = at,
                            None => {
                                self.focus_missed = Some(format!(
                                    "No workload of {} failed to sign in in the {}.",
                                    ficus_core::text::sanitize(&app.name),
                                    self.window.label()
                                ))
                            }
                        }
                    }
                }
                self.report = Some(report);
                self.error = None;
            }
            Err(error) => {
                self.error = Some(ficus_core::text::sanitize(&error.message).into_owned());
            }
        }
        true
    }

    pub fn rows(&self) -> &[FailingRow] {
        match &self.report {
            Some(FailingReport::Rows(rows)) => rows,
            _ => &[],
        }
    }

    pub fn selected(&self) -> Option<&FailingRow> {
        self.rows().get(self.cursor)
    }

    fn reload(&mut self, ctx: &Ctx, out: &mut Outcome) {
        self.request = ctx.new_request();
        self.error = None;
        out.cmds.push(Cmd::LoadFailing {
            request: self.request,
            hours: self.window.hours(),
        });
    }

    fn app_choice(row: &FailingRow) -> Option<AppChoice> {
        Some(AppChoice {
            object_id: row.app_object_id.clone()?,
            app_id: row.app_id.clone(),
            name: row.app_name.clone(),
        })
    }

    /// `f`: the FIC at fault in the wizard with the rule's corrected value; an app without a
    /// FIC gets the wizard creating one for the presented identity.
    fn fix(&self, ctx: &Ctx, out: &mut Outcome) {
        let Some(row) = self.selected() else {
            return;
        };
        let Some(app) = Self::app_choice(row) else {
            out.set_toast(
                ToastLevel::Warning,
                format!(
                    "{} is no longer in the directory: nothing to fix.",
                    row.app_name
                ),
            );
            return;
        };
        match &row.fault {
            Some(fault) => match &fault.fix {
                Some((field, value, _)) => {
                    out.nav = Some(Nav::EditFic(Box::new(FicFix {
                        app,
                        fic: fault.fic.clone(),
                        field: *field,
                        corrected: value.clone(),
                    })));
                }
                None => out.set_toast(
                    ToastLevel::Info,
                    format!(
                        "The rules know what is wrong with {} but not the corrected value: {} ({} opens the app; {} there changes it by hand).",
                        fault.fic.name,
                        fault.message,
                        ctx.key(Context::Failing, Action::Open),
                        ctx.key(Context::AppDetail, Action::EditFic)
                    ),
                ),
            },
            None => {
                let identity = row
                    .identity
                    .as_ref()
                    .and_then(|(principal_id, _)| identity_row(ctx, principal_id));
                out.nav = Some(Nav::AddFic(Box::new(AddFic {
                    app,
                    identity,
                    draft: None,
                })));
            }
        }
    }

    /// `x`: the live test exchange for the app and the identity whose token it presented.
    fn test(&self, ctx: &Ctx, out: &mut Outcome) {
        let Some(row) = self.selected() else {
            return;
        };
        let entry = ExchangeEntry {
            app: Self::app_choice(row),
            identity: row
                .identity
                .as_ref()
                .and_then(|(principal_id, _)| identity_row(ctx, principal_id)),
            ..ExchangeEntry::default()
        };
        out.nav = Some(Nav::OpenExchange(Box::new(entry)));
    }
}

fn identity_row(ctx: &Ctx, principal_id: &str) -> Option<crate::model::IdentityRow> {
    ctx.identities
        .find(|i| i.principal_id.eq_ignore_ascii_case(principal_id))
        .cloned()
}

impl Component for FailingScreen {
    fn context(&self) -> Context {
        Context::Failing
    }

    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        let row = self.selected();
        let in_directory = row.is_some_and(|r| r.app_object_id.is_some());
        keymap_commands(ctx.keymap, Context::Failing)
            .into_iter()
            .map(|command| match command.action {
                Action::Open | Action::TestExchange => command.disabled_unless(
                    in_directory,
                    "Select a failing workload whose app is still in the directory.",
                ),
                Action::FixFic => command.disabled_unless(
                    in_directory
                        && row.is_some_and(|r| r.fault.as_ref().is_none_or(|f| f.fix.is_some())),
                    format!(
                        "No corrected value is known for this one; {} opens the app.",
                        ctx.key(Context::Failing, Action::Open)
                    ),
                ),
                _ => command,
            })
            .collect()
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let mut out = Outcome::default();
        let last = self.rows().len().saturating_sub(1);
        let half_page = (ctx.list_height / 2).max(1);
        match action {
            Action::Down => self.cursor = (self.cursor + 1).min(last),
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::HalfPageDown => self.cursor = (self.cursor + half_page).min(last),
            Action::HalfPageUp => self.cursor = self.cursor.saturating_sub(half_page),
            Action::Top => self.cursor = 0,
            Action::Bottom => self.cursor = last,
            Action::ToggleWindow => {
                self.window = self.window.other();
                self.reload(ctx, &mut out);
            }
            Action::Refresh => self.reload(ctx, &mut out),
            Action::Open => {
                if let Some(row) = self.selected()
                    && let Some(object_id) = row.app_object_id.clone()
                {
                    out.nav = Some(Nav::OpenApp {
                        object_id,
                        name: row.app_name.clone(),
                    });
                }
            }
            Action::FixFic => self.fix(ctx, &mut out),
            Action::TestExchange => self.test(ctx, &mut out),
            _ => return Outcome::ignored(),
        }
        out
    }
}

#[cfg(test)]
mod tests;
