//! Help (`?`): every key of the screen below, scrolled with the panel's keys.

use crate::component::{Component, Ctx, Outcome};
use crate::keymap::{Action, Context};
use crate::nav::Nav;
use crate::overlay::HelpScreen;

impl Component for HelpScreen {
    fn context(&self) -> Context {
        Context::Panel
    }

    fn on_action(&mut self, action: Action, _ctx: &Ctx) -> Outcome {
        match action {
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Back => return Outcome::nav(Nav::CloseOverlay),
            // The console's global keys do nothing under an overlay.
            _ => {}
        }
        Outcome::default()
    }
}
