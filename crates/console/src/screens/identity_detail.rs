//! Identity detail, a [`Component`]: the apps that trust a managed identity (each FIC checked).
//! `Enter` asks the root to open the selected app; `a` the wizard; `x` the exchange.

use ficus_core::text::sanitize;

use crate::component::{Component, Ctx, Outcome, ToastLevel};
use crate::error::DirectoryError;
use crate::keymap::{Action, Context};
use crate::model::{IdentityDetail, IdentityRow};
use crate::msg::{Cmd, RequestId};
use crate::nav::{AppChoice, ExchangeEntry, Given, Nav};
use crate::overlay::{Overlay, TextPanel};

pub struct IdentityDetailScreen {
    pub identity: IdentityRow,
    pub request: RequestId,
    pub detail: Option<IdentityDetail>,
    pub error: Option<String>,
    pub cursor: usize,
}

impl IdentityDetailScreen {
    /// Its detail arrived (already sanitized): the cursor stays within the trusting apps.
    pub fn loaded(&mut self, result: Result<IdentityDetail, DirectoryError>) {
        match result {
            Ok(detail) => {
                self.cursor = self.cursor.min(detail.trusted_by.len().saturating_sub(1));
                self.detail = Some(detail);
                self.error = None;
            }
            Err(error) => self.error = Some(sanitize(&error.message).into_owned()),
        }
    }

    fn selected_app(&self) -> Option<AppChoice> {
        let trust = self.detail.as_ref()?.trusted_by.get(self.cursor)?;
        Some(AppChoice {
            object_id: trust.app_object_id.clone(),
            app_id: trust.app_id.clone(),
            name: trust.app_name.clone(),
        })
    }
}

impl Component for IdentityDetailScreen {
    fn context(&self) -> Context {
        Context::IdentityDetail
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let half_page = (ctx.list_height / 2).max(1) as isize;
        let mut out = Outcome::default();
        let mut move_cursor = |delta: isize| {
            let len = self.detail.as_ref().map_or(0, |d| d.trusted_by.len());
            self.cursor = self
                .cursor
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        };
        match action {
            Action::Up => move_cursor(-1),
            Action::Down => move_cursor(1),
            Action::HalfPageUp => move_cursor(-half_page),
            Action::HalfPageDown => move_cursor(half_page),
            Action::Top => move_cursor(isize::MIN / 2),
            Action::Bottom => move_cursor(isize::MAX / 2),
            Action::Open => {
                if let Some(app) = self.selected_app() {
                    out.nav = Some(Nav::OpenApp {
                        object_id: app.object_id,
                        name: app.name,
                    });
                }
            }
            Action::Refresh => {
                let request = ctx.new_request();
                self.request = request;
                self.error = None;
                out.cmds.push(Cmd::LoadIdentityDetail {
                    request,
                    identity: Box::new(self.identity.clone()),
                });
            }
            Action::Copy | Action::CopyId => {
                let (what, text) = if action == Action::CopyId {
                    ("the client id", self.identity.client_id.clone())
                } else {
                    ("the principal id", self.identity.principal_id.clone())
                };
                out.set_toast(ToastLevel::Info, crate::terminal::sent_to_clipboard(what));
                out.cmds.push(Cmd::copy(text));
            }
            Action::AddFic => {
                out.nav = Some(Nav::StartWizard(Box::new(Given::Identity(
                    self.identity.clone(),
                ))));
            }
            Action::TestExchange => {
                out.nav = Some(Nav::OpenExchange(Box::new(ExchangeEntry {
                    identity: Some(self.identity.clone()),
                    app: self.selected_app(),
                    ..ExchangeEntry::default()
                })));
            }
            Action::OneLine => {
                let identity = &self.identity;
                let mut values = vec![
                    (
                        "principal id (a FIC's subject)",
                        identity.principal_id.clone(),
                    ),
                    ("client id", identity.client_id.clone()),
                ];
                if let Some(arm_id) = &identity.arm_id {
                    values.push(("resource id", arm_id.clone()));
                }
                out.nav = Some(Nav::Overlay(Box::new(Overlay::Text(TextPanel::values(
                    format!("{} — ids", identity.name),
                    &values,
                )))));
            }
            Action::NextPane => {}
            _ => return Outcome::ignored(),
        }
        out
    }
}
