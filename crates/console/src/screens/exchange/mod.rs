//! The live test exchange screen (#7), a [`Component`]: `state.rs` (the form and the run),
//! `open.rs` (how it opens), `run.rs` (a run's start, steps, verdict and retries), `keys.rs`
//! (its keys), `diff.rs` (where a FIC's value and the token's differ).
//!
//! Entry point for other screens (app detail, identity detail, the wizard's last step, the
//! palette): [`open()`](open::open) with an `ExchangeEntry`, or, from a screen, `Nav::OpenExchange(entry)`.
//! The screen pre-fills what the entry names (app, identity, resource tenant, scope), detects
//! where the managed identity token will come from, and, with `entry.run`, starts at once.
//!
//! The flow: `Cmd::Exchange(ExchangeCmd::Run)` → the effects runner calls
//! `Directory::exchange`, which reports each finished
//! step as `Msg::Exchange(ExchangeMsg::Step)` and ends with `ExchangeMsg::Finished`. A refusal
//! with AADSTS70021 while the app's FIC matches the token (or right after the wizard created
//! it) is Entra's replication delay: the screen retries by itself with backoff.

use ratatui::crossterm::event::KeyEvent;

use crate::component::{Command, Component, Ctx, Outcome, keymap_commands};
use crate::keymap::{Action, Context};

pub mod diff;
pub mod keys;
pub mod open;
pub mod remedy;
pub mod run;
pub mod state;

pub use diff::{DiffRuns, char_diff};
pub use open::{entry_from_palette, identity_for_subject, open};
pub use run::is_replication_delay;
pub use state::*;

pub use crate::token_effects::{
    ExchangeCmd, ExchangeMsg, ExchangeResult, ExchangeSpec, Explanation, MsiChoice, PastedToken,
    Refusal, Signature, SourceInfo, StepOutcome, StepView,
};

impl Component for ExchangeScreen {
    fn context(&self) -> Context {
        Context::Exchange
    }

    /// While the picker or the file path input has focus, its keys; else the keymap's.
    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        crate::widgets::picker::focused_commands(&self.file_input, &self.picker)
            .unwrap_or_else(|| keymap_commands(ctx.keymap, Context::Exchange))
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        if !self.captures_keys() {
            return None;
        }
        let mut here = Here::new(self, ctx);
        let cmds = keys::on_raw_key(&mut here, key);
        Some(here.finish(cmds))
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        match keys::perform(&mut here, action) {
            Some(cmds) => here.finish(cmds),
            None => Outcome::ignored(),
        }
    }

    fn on_paste(&mut self, text: &str, ctx: &Ctx) -> Option<Outcome> {
        let mut here = Here::new(self, ctx);
        let cmds = keys::on_paste(&mut here, text);
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
        let cmds = run::on_msg(&mut here, msg);
        here.finish(cmds)
    }
}

#[cfg(test)]
mod tests;
