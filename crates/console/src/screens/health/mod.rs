//! The Health tab (#14): the tenant audit (`ficus_core::audit`) in the console. Its findings
//! stream in page by page (`Cmd::Health(HealthCmd::Audit)`, run by `effects/health.rs`) into a
//! [`Listing`], the same filtered, sorted list the Apps and Identities tabs use, so the
//! filter's syntax, the cursor and the scrolling are theirs; sorting happens once per page,
//! never per frame. Counts by kind are kept as pages arrive.
//!
//! Its own component rather than a third `ListKind`: the lists' listings are the root's
//! because every screen reads them (pickers, palette); the findings are read by this screen
//! alone, so it owns them, and the lists keep their two-arm matches. It sits at the bottom of
//! the screen stack (`Screen::Health`), so `Enter` and `f` push App detail, Identity detail or
//! the wizard above it and `Esc` comes back to it.

pub mod effect;

use std::collections::BTreeMap;

use ficus_core::audit::{Kind, Severity};
use ficus_core::fic::Field;
use ratatui::crossterm::event::KeyEvent;
use time::OffsetDateTime;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::component::{
    Command, Component, Ctx, Outcome, ToastLevel, filter_typing_commands, keymap_commands,
};
use crate::filter::{Listing, Load};
use crate::keymap::{Action, Context};
use crate::model::IdentityRow;
use crate::msg::{Cmd, RequestId};
use crate::nav::{AppChoice, FicFix, Nav};

pub use effect::{COLUMNS, FindingRow, HealthCmd, HealthMsg};

/// The Health tab.
pub struct HealthScreen {
    pub request: RequestId,
    pub findings: Listing<FindingRow>,
    pub filter: Input,
    pub editing_filter: bool,
    /// Per kind: the worst severity seen and how many, kept as pages arrive.
    pub counts: BTreeMap<Kind, (Severity, usize)>,
    pub apps_scanned: usize,
    pub identities: usize,
    /// The app whose finding `f` opened in the wizard: audited again when the wizard closes
    /// after saving.
    pub fixing: Option<String>,
    /// The one-app audit in flight.
    pub reaudit: Option<(RequestId, String)>,
    /// When the tenant audit finished: the findings' age, shown (the tab keeps them while
    /// another tab is shown; `r` audits again).
    pub audited_at: Option<OffsetDateTime>,
}

impl HealthScreen {
    /// A new tab and the command that fills it.
    pub fn open(ctx: &Ctx) -> (HealthScreen, Cmd) {
        let request = ctx.new_request();
        let mut findings = Listing::new();
        findings.load = Load::Loading { pages: 0 };
        findings.request = request;
        let screen = HealthScreen {
            request,
            findings,
            filter: Input::default(),
            editing_filter: false,
            counts: BTreeMap::new(),
            apps_scanned: 0,
            identities: 0,
            fixing: None,
            reaudit: None,
            audited_at: None,
        };
        (screen, Cmd::Health(HealthCmd::Audit { request }))
    }

    /// The counts by kind, worst first.
    pub fn counts(&self) -> Vec<(Kind, Severity, usize)> {
        let mut counts: Vec<(Kind, Severity, usize)> =
            self.counts.iter().map(|(k, (s, n))| (*k, *s, *n)).collect();
        counts.sort_by_key(|(kind, severity, _)| (*severity, *kind));
        counts
    }

    /// Totals by severity: errors, warnings, infos.
    pub fn totals(&self) -> (usize, usize, usize) {
        self.counts
            .values()
            .fold((0, 0, 0), |(e, w, i), (severity, n)| match severity {
                Severity::Error => (e + n, w, i),
                Severity::Warning => (e, w + n, i),
                Severity::Info => (e, w, i + n),
            })
    }

    fn count(&mut self, rows: &[FindingRow]) {
        for row in rows {
            let entry = self
                .counts
                .entry(row.finding.kind)
                .or_insert((row.finding.severity, 0));
            entry.0 = entry.0.min(row.finding.severity);
            entry.1 += 1;
        }
    }

    fn recount(&mut self) {
        self.counts.clear();
        let rows: Vec<FindingRow> = self.findings.items().to_vec();
        self.count(&rows);
    }

    /// An effect's answer.
    pub fn on_msg(&mut self, msg: HealthMsg, ctx: &Ctx) -> Outcome {
        let mut out = Outcome::default();
        match msg {
            HealthMsg::Page {
                request,
                rows,
                apps,
                identities,
                done,
            } => {
                if request != self.request {
                    return out;
                }
                self.count(&rows);
                self.apps_scanned += apps;
                self.identities = identities;
                self.findings.extend(rows, ctx.now);
                if done {
                    self.audited_at = Some(ctx.now);
                }
                self.findings.load = if done {
                    Load::Done
                } else {
                    match self.findings.load {
                        Load::Loading { pages } => Load::Loading { pages: pages + 1 },
                        _ => Load::Loading { pages: 1 },
                    }
                };
            }
            HealthMsg::Failed { request, error } => {
                if request != self.request {
                    return out;
                }
                let message = ficus_core::text::sanitize(&error.message).into_owned();
                let retry = ctx.key(Context::Health, Action::Refresh);
                out.set_toast(
                    ToastLevel::Error,
                    format!("{message} — press {retry} to audit again"),
                );
                self.findings.load = Load::Failed(message);
            }
            HealthMsg::AppAudited {
                request,
                object_id,
                result,
            } => {
                if self.reaudit.as_ref().map(|(r, _)| *r) != Some(request) {
                    return out;
                }
                self.reaudit = None;
                match result {
                    Ok(rows) => {
                        let name = self.app_name(&object_id).unwrap_or_default();
                        let before = self.replace_app(&object_id, rows, ctx.now);
                        let left = self
                            .findings
                            .items()
                            .iter()
                            .filter(|r| r.app_object_id() == Some(object_id.as_str()))
                            .count();
                        let text = match (before, left) {
                            (_, 0) => format!("Audited again: nothing left to fix{name}"),
                            (b, l) if l < b => {
                                format!("Audited again: {} fewer finding(s){name}", b - l)
                            }
                            (_, l) => format!("Audited again: {l} finding(s) remain{name}"),
                        };
                        out.set_toast(ToastLevel::Success, text);
                    }
                    Err(error) => out.set_toast(
                        ToastLevel::Warning,
                        format!(
                            "Could not audit the app again: {}; press {} to audit the tenant again",
                            ficus_core::text::sanitize(&error.message),
                            ctx.key(Context::Health, Action::Refresh)
                        ),
                    ),
                }
            }
        }
        out
    }

    fn app_name(&self, object_id: &str) -> Option<String> {
        self.findings
            .find(|r| r.app_object_id() == Some(object_id))
            .map(|r| format!(" ({})", r.finding.object_name()))
    }

    /// Replaces the findings about one app (the rest keep their order, the filter and the
    /// sort stay); returns how many it had before.
    pub fn replace_app(
        &mut self,
        object_id: &str,
        rows: Vec<FindingRow>,
        now: OffsetDateTime,
    ) -> usize {
        let cursor = self.findings.cursor();
        let (before, mut kept): (Vec<FindingRow>, Vec<FindingRow>) = self
            .findings
            .items()
            .iter()
            .cloned()
            .partition(|r| r.app_object_id() == Some(object_id));
        kept.extend(rows);
        let load = self.findings.load.clone();
        self.findings.clear();
        self.findings.extend(kept, now);
        self.findings.load = load;
        self.findings.move_cursor(cursor as isize);
        self.recount();
        before.len()
    }

    /// A FIC of this app was written (the wizard saved): audit the app again.
    pub fn reaudit_app(&mut self, object_id: String, request: RequestId) -> Cmd {
        if self.fixing.as_deref() == Some(object_id.as_str()) {
            self.fixing = None;
        }
        self.reaudit = Some((request, object_id.clone()));
        Cmd::Health(HealthCmd::AuditApp { request, object_id })
    }

    /// The wizard closed after saving: audit the app `f` opened again, unless that
    /// happened when it saved.
    pub fn after_fix(&mut self, request: RequestId) -> Option<Cmd> {
        let object_id = self.fixing.take()?;
        self.reaudit = Some((request, object_id.clone()));
        Some(Cmd::Health(HealthCmd::AuditApp { request, object_id }))
    }

    fn refresh(&mut self, ctx: &Ctx) -> Outcome {
        let request = ctx.new_request();
        self.request = request;
        self.findings.clear();
        self.findings.request = request;
        self.findings.load = Load::Loading { pages: 0 };
        self.counts.clear();
        self.apps_scanned = 0;
        self.reaudit = None;
        self.audited_at = None;
        let mut out = Outcome::default();
        out.set_toast(ToastLevel::Info, "Auditing the tenant again…");
        out.cmds.push(Cmd::Health(HealthCmd::Audit { request }));
        out
    }

    fn open_selected(&self) -> Outcome {
        let Some(row) = self.findings.selected() else {
            return Outcome::default();
        };
        let finding = &row.finding;
        let nav = match (&finding.app, &finding.identity) {
            (Some(app), _) => Nav::OpenAppAt {
                object_id: app.object_id.clone(),
                name: app.display_name.clone(),
                fic_index: row.fic_index,
            },
            (None, Some(identity)) => {
                Nav::OpenIdentity(Box::new(IdentityRow::from_identity(identity)))
            }
            (None, None) => return Outcome::default(),
        };
        Outcome::nav(nav)
    }

    /// Why `f` cannot run on the selected finding, or `None` when it can.
    fn why_no_fix(&self, ctx: &Ctx) -> Option<String> {
        let Some(row) = self.findings.selected() else {
            return Some("no finding selected".into());
        };
        if ctx.read_only() {
            return Some("read-only session: every write is refused".into());
        }
        match (&row.finding.fix, &row.finding.fic, &row.finding.app) {
            (Some(_), Some(_), Some(_)) => None,
            _ if row.finding.action.is_empty() => Some(format!(
                "no one-key fix for this finding: open it with {}",
                ctx.key(Context::Health, Action::Open)
            )),
            _ => Some(format!(
                "no one-key fix for this finding: {}",
                row.finding.action
            )),
        }
    }

    fn fix(&mut self) -> Outcome {
        let Some(row) = self.findings.selected() else {
            return Outcome::default();
        };
        let finding = &row.finding;
        let (Some(fix), Some(fic), Some(app)) = (&finding.fix, &finding.fic, &finding.app) else {
            return Outcome::default();
        };
        let fix = FicFix {
            app: AppChoice {
                object_id: app.object_id.clone(),
                app_id: app.app_id.clone(),
                name: app.display_name.clone(),
            },
            fic: fic.clone(),
            field: fix.field,
            corrected: fix.value.clone(),
        };
        self.fixing = Some(app.object_id.clone());
        Outcome::nav(Nav::EditFic(Box::new(fix)))
    }

    fn copy(&self) -> Outcome {
        let mut out = Outcome::default();
        if let Some(row) = self.findings.selected() {
            let f = &row.finding;
            let text = format!(
                "{} {} {}: {} — {}",
                f.severity.label(),
                f.kind.code(),
                f.object_name(),
                f.message,
                f.action
            );
            out.set_toast(
                ToastLevel::Info,
                crate::terminal::sent_to_clipboard("the finding"),
            );
            out.cmds.push(Cmd::copy(text));
        }
        out
    }

    fn sort(&mut self, column: usize, descending: bool, ctx: &Ctx, next: String) -> Outcome {
        self.findings.set_sort(column, descending, ctx.now);
        let mut out = Outcome::default();
        let direction = if descending {
            "descending"
        } else {
            "ascending"
        };
        out.set_toast(
            ToastLevel::Info,
            format!("Sorted by {} ({direction}); {next}", COLUMNS[column]),
        );
        out
    }

    fn on_filter_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Outcome {
        match ctx.keymap.input_action(&key) {
            Some(Action::Back | Action::Open) => self.editing_filter = false,
            Some(Action::Down) => self.findings.move_cursor(1),
            Some(Action::Up) => self.findings.move_cursor(-1),
            _ => {
                let event = ratatui::crossterm::event::Event::Key(key);
                if let Some(request) = to_input_request(&event) {
                    self.filter.handle(request);
                    let value = self.filter.value().to_string();
                    self.findings.set_query(&value, ctx.now);
                }
            }
        }
        Outcome::default()
    }
}

/// The field a fix corrects, in words (`f fix subject`).
pub fn field_word(field: Field) -> &'static str {
    match field {
        Field::Name => "name",
        Field::Issuer => "issuer",
        Field::Subject => "subject",
        Field::Audiences => "audience",
        Field::Description => "description",
        Field::App | Field::Identity => "value",
    }
}

impl Component for HealthScreen {
    fn context(&self) -> Context {
        Context::Health
    }

    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        if self.editing_filter {
            return filter_typing_commands();
        }
        keymap_commands(ctx.keymap, Context::Health)
            .into_iter()
            .map(|c| match c.action {
                Action::FixFic => {
                    let why = self.why_no_fix(ctx);
                    Command { disabled: why, ..c }
                }
                _ => c,
            })
            .collect()
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        self.editing_filter.then(|| self.on_filter_key(key, ctx))
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let half_page = (ctx.list_height / 2).max(1) as isize;
        match action {
            Action::Up => self.findings.move_cursor(-1),
            Action::Down => self.findings.move_cursor(1),
            Action::HalfPageUp => self.findings.move_cursor(-half_page),
            Action::HalfPageDown => self.findings.move_cursor(half_page),
            Action::Top => self.findings.cursor_to_start(),
            Action::Bottom => self.findings.cursor_to_end(),
            Action::Filter => {
                self.filter = Input::default();
                self.findings.set_query("", ctx.now);
                self.editing_filter = true;
            }
            Action::Back if !self.filter.value().is_empty() => {
                self.filter = Input::default();
                self.findings.set_query("", ctx.now);
            }
            // Esc with nothing to clear: back to the lists.
            Action::Back | Action::NextPane => return Outcome::nav(Nav::CloseHealth),
            Action::Open => return self.open_selected(),
            Action::FixFic => return self.fix(),
            Action::Refresh => return self.refresh(ctx),
            Action::Copy => return self.copy(),
            // Failing workloads at the selected finding's app: one path from a wrong FIC to
            // the sign-ins that fail because of it.
            Action::ShowFailing => {
                let app = self
                    .findings
                    .selected()
                    .and_then(|r| r.finding.app.as_ref())
                    .map(|app| AppChoice {
                        object_id: app.object_id.clone(),
                        app_id: app.app_id.clone(),
                        name: app.display_name.clone(),
                    });
                return Outcome::nav(Nav::OpenFailingAt { app });
            }
            Action::Sort => {
                let (column, descending) = match self.findings.sort() {
                    None => (0, false),
                    Some((column, false)) => (column, true),
                    Some((column, true)) => ((column + 1) % COLUMNS.len(), false),
                };
                let again = ctx.key(Context::Health, Action::Sort);
                return self.sort(
                    column,
                    descending,
                    ctx,
                    format!("{again} again for the next column"),
                );
            }
            Action::SortBy(column) if (column as usize) < COLUMNS.len() => {
                let column = column as usize;
                let descending = self.findings.sort() == Some((column, false));
                let again = ctx.key(Context::Health, Action::SortBy(column as u8));
                return self.sort(column, descending, ctx, format!("{again} again to reverse"));
            }
            Action::ReverseSort => {
                let (column, descending) = self.findings.sort().unwrap_or((0, false));
                let again = ctx.key(Context::Health, Action::ReverseSort);
                return self.sort(
                    column,
                    !descending,
                    ctx,
                    format!("{again} again to reverse"),
                );
            }
            _ => return Outcome::ignored(),
        }
        Outcome::default()
    }

    fn on_paste(&mut self, text: &str, ctx: &Ctx) -> Option<Outcome> {
        if !self.editing_filter {
            return None;
        }
        for c in text.chars() {
            self.filter.handle(tui_input::InputRequest::InsertChar(c));
        }
        let value = self.filter.value().to_string();
        self.findings.set_query(&value, ctx.now);
        Some(Outcome::default())
    }
}

#[cfg(test)]
mod tests;
