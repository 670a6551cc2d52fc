//! The Managed Identity FIC wizard (#6): from an app (or an identity) to a FIC that lets a
//! user-assigned managed identity sign in as the app, validated live by `fic::rules`, shown as
//! the exact Graph request and as az / Graph PowerShell / Bicep / Terraform, created (POST, read
//! back), then tested with one key. The same field screen edits an existing FIC (name
//! immutable) and applies a finding's fix in one key.
//!
//! A [`Component`]: its keys and actions ([`keys`]), pastes and the effects' answers
//! (`Wizard::on_msg`) change the [`Wizard`] and return an [`Outcome`]; the root pushes it when
//! a screen asks (`a`, `c`, `f`, the exchange's `F`: [`open`]) and pops it on `Nav::Pop`. The
//! files: `state.rs` (steps, fields, answers), `open.rs` (how it starts), `keys.rs` (every key
//! and action), `picker.rs` (the app / identity picker's rows), `review.rs` (the request and
//! snippets shown before saving), `effect.rs` (its commands and answers). Escape goes back one
//! step and keeps every input; leaving ficus mid-wizard asks first.

use ratatui::crossterm::event::KeyEvent;

use crate::component::{Command, Component, Ctx, Outcome};
use crate::keymap::{Action, Context};

pub mod commands;
pub mod effect;
pub mod keys;
pub mod open;
pub mod picker;
pub mod review;
pub mod state;

pub use effect::{WizardCmd, WizardMsg};
pub use open::{Given, edit, open_correction, start};
pub use picker::{PickerRows, already_trusted, picker_rows};
pub use review::{REVIEW_TABS, remaining_secrets, review_snippets, update_of};
pub use state::*;

impl Wizard {
    /// The effects runner's answers (the app read, the FIC saved).
    pub fn on_msg(&mut self, msg: WizardMsg, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        let cmds = state::on_msg(&mut here, msg);
        here.finish(cmds)
    }
}

impl Component for Wizard {
    fn context(&self) -> Context {
        Context::Wizard
    }

    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        commands::commands(self, ctx)
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        let mut here = Here::new(self, ctx);
        let cmds = keys::on_focused_key(&mut here, key)?;
        Some(here.finish(cmds))
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        let cmds = keys::perform(&mut here, action);
        if here.out.ignored {
            return Outcome::ignored();
        }
        here.finish(cmds)
    }

    fn on_unbound(&mut self, key: KeyEvent, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        let cmds = keys::on_unbound(&mut here, key);
        here.finish(cmds)
    }

    fn on_paste(&mut self, text: &str, ctx: &Ctx) -> Option<Outcome> {
        let mut here = Here::new(self, ctx);
        let cmds = keys::on_paste(&mut here, text)?;
        Some(here.finish(cmds))
    }
}

#[cfg(test)]
mod tests;
