//! "Use it in your workload" (#16): the code a workload runs to use the FIC just made or
//! tested, a tab per SDK (C#, `appsettings.json`, MSAL.NET, Python, MSAL Python, JavaScript,
//! msal-node, Java, Go, Rust), every value filled in — the app's client id, the resource
//! tenant, the identity's client id (with its principal id, the FIC's subject, named beside it),
//! the cloud's authority and exchange audience, the scope. The snippets are core's
//! (`ficus_core::workload`), the same `ficus code` prints. `y` copies the whole snippet.
//!
//! Entry point: [`open`] with the values (`Nav::OpenWorkload`), from App detail (the selected
//! FIC), the exchange screen (its app, identity, tenant and scope) and the wizard's last step.

use ficus_core::cloud::Cloud;
use ficus_core::fic::{Fic, Identity};
use ficus_core::workload::{self, Shape, WorkloadValues};

use crate::component::{Component, Ctx, Here, Outcome, ToastLevel};
use crate::keymap::{Action, Context};
use crate::model::AppRow;
use crate::msg::Cmd;

#[derive(Debug, Clone)]
pub struct WorkloadScreen {
    pub values: WorkloadValues,
    /// The tab shown: an index into [`Shape::ALL`].
    pub tab: usize,
    /// Lines scrolled in the snippet.
    pub scroll: u16,
}

/// The view for these values, on its first tab.
pub fn open(values: WorkloadValues) -> WorkloadScreen {
    WorkloadScreen {
        values,
        tab: 0,
        scroll: 0,
    }
}

/// The values for an app and the identity it trusts: the resource tenant and scope as chosen
/// (the exchange screen's), or the session's tenant and the cloud's Graph `.default`; the FIC
/// that trusts the identity (for the infrastructure tabs), or the one ficus would create.
pub fn values_for(
    cloud: &Cloud,
    app: &AppRow,
    identity: &Identity,
    tenant: &str,
    scope: Option<&str>,
    fic: Option<&Fic>,
) -> WorkloadValues {
    let record = ficus_core::fic::AppRecord {
        object_id: app.object_id.clone(),
        app_id: app.app_id.clone(),
        display_name: app.name.clone(),
        unique_name: None,
    };
    WorkloadValues::new(cloud, &record, identity, tenant, scope, fic)
}

/// The identity a FIC trusts: the one whose principal id is its subject, or (the classic
/// mistake) whose client id is, so the code still selects it by client id.
pub fn identity_of<'a>(
    fic: &Fic,
    identities: impl IntoIterator<Item = &'a Identity>,
) -> Option<&'a Identity> {
    let subject = fic.subject.trim();
    let identities: Vec<&Identity> = identities.into_iter().collect();
    identities
        .iter()
        .find(|i| i.principal_id.eq_ignore_ascii_case(subject))
        .or_else(|| {
            identities
                .iter()
                .find(|i| i.client_id.eq_ignore_ascii_case(subject))
        })
        .copied()
}

impl WorkloadScreen {
    pub fn shape(&self) -> Shape {
        Shape::ALL[self.tab % Shape::ALL.len()]
    }

    /// The snippet of the tab shown.
    pub fn snippet(&self) -> String {
        workload::snippet(self.shape(), &self.values)
    }
}

fn perform(here: &mut Here<WorkloadScreen>, action: Action) -> Option<Vec<Cmd>> {
    let page = (here.ctx.list_height / 2).max(1) as u16;
    let screen = &mut *here.screen;
    let count = Shape::ALL.len();
    match action {
        Action::NextPane => {
            screen.tab = (screen.tab + 1) % count;
            screen.scroll = 0;
        }
        Action::PreviousPane => {
            screen.tab = (screen.tab + count - 1) % count;
            screen.scroll = 0;
        }
        Action::Down => screen.scroll = screen.scroll.saturating_add(1),
        Action::Up => screen.scroll = screen.scroll.saturating_sub(1),
        Action::HalfPageDown => screen.scroll = screen.scroll.saturating_add(page),
        Action::HalfPageUp => screen.scroll = screen.scroll.saturating_sub(page),
        Action::Top => screen.scroll = 0,
        Action::Copy => {
            let shape = screen.shape();
            let text = screen.snippet();
            here.toast(
                ToastLevel::Info,
                format!(
                    "{} — save it as {}.",
                    crate::terminal::sent_to_clipboard(format!("the {} snippet", shape.label())),
                    shape.file_name()
                ),
            );
            return Some(vec![Cmd::copy(text)]);
        }
        _ => return None,
    }
    Some(Vec::new())
}

impl Component for WorkloadScreen {
    fn context(&self) -> Context {
        Context::Workload
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        match perform(&mut here, action) {
            Some(cmds) => here.finish(cmds),
            None => Outcome::ignored(),
        }
    }
}

#[cfg(test)]
mod tests;
