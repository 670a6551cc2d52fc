//! What a screen is to the root: a [`Component`] that answers keys, actions and pastes with an
//! [`Outcome`] (commands for the effects runner, a toast, a navigation intent), reading the
//! rest of the console through [`Ctx`]. Screens never touch the screen stack: they ask with a
//! [`Nav`](crate::nav::Nav) and the root `update` applies it.

use std::ops::Deref;

use ratatui::crossterm::event::KeyEvent;
use time::OffsetDateTime;

use crate::filter::Listing;
use crate::keymap::{Action, Context, Keymap};
use crate::model::{AppRow, IdentityRow};
use crate::msg::{Cmd, RequestId, RequestIds, Session};
use crate::nav::Nav;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Success,
    Warning,
    Error,
}

/// A one-line message at the bottom; stays until the next key so it is never missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub level: ToastLevel,
    pub text: String,
}

/// What a screen may read of the console (everything but the screen stack).
pub struct Ctx<'a> {
    pub now: OffsetDateTime,
    pub session: Option<&'a Session>,
    pub keymap: &'a Keymap,
    pub apps: &'a Listing<AppRow>,
    pub identities: &'a Listing<IdentityRow>,
    /// Scopes used lately on the exchange screen, newest first.
    pub recent_scopes: &'a [String],
    /// Rows a list (or a detail's list) shows at once; half of it is a half-page move.
    pub list_height: usize,
    pub requests: &'a RequestIds,
}

impl Ctx<'_> {
    pub fn new_request(&self) -> RequestId {
        self.requests.next()
    }

    pub fn read_only(&self) -> bool {
        self.session.is_some_and(|s| s.read_only)
    }
}

/// What a screen answers: work for the effects runner, a toast, where to go next.
#[derive(Default)]
pub struct Outcome {
    pub cmds: Vec<Cmd>,
    pub toast: Option<Toast>,
    pub nav: Option<Nav>,
    /// A scope to remember as recently used (the exchange screen).
    pub remember_scope: Option<String>,
    /// A FIC was written: this app (object id) now has this many; the lists follow.
    pub fic_count: Option<(String, usize)>,
    /// Not this screen's action: the root handles it (quit, palette, help…).
    pub ignored: bool,
}

impl Outcome {
    pub fn set_toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        self.toast = Some(Toast {
            level,
            text: text.into(),
        });
    }

    pub fn ignored() -> Outcome {
        Outcome {
            ignored: true,
            ..Outcome::default()
        }
    }

    pub fn nav(nav: Nav) -> Outcome {
        Outcome {
            nav: Some(nav),
            ..Outcome::default()
        }
    }
}

/// A screen on the stack.
pub trait Component {
    /// Which keymap context its keys are looked up in.
    fn context(&self) -> Context;
    /// Keys for an input that has focus (or a pending confirmation), before the keymap.
    /// `None`: look the key up in the keymap.
    fn on_key(&mut self, _key: KeyEvent, _ctx: &Ctx) -> Option<Outcome> {
        None
    }
    /// A bound action; `Outcome::ignored()` when it is not this screen's.
    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome;
    /// A key the keymap does not bind (typing into a field, say).
    fn on_unbound(&mut self, _key: KeyEvent, _ctx: &Ctx) -> Outcome {
        Outcome::default()
    }
    /// Pasted text; `None` when the screen does not take pastes.
    fn on_paste(&mut self, _text: &str, _ctx: &Ctx) -> Option<Outcome> {
        None
    }
    /// A countdown is on screen (the loop ticks once a second only then).
    fn needs_tick(&self) -> bool {
        false
    }
}

/// One screen at work on one message: the screen, what it may read, and the outcome being
/// built. The screens' transition functions take `&mut Here<Screen>`.
pub struct Here<'a, 'c, S> {
    pub screen: &'a mut S,
    pub ctx: &'a Ctx<'c>,
    pub out: Outcome,
}

impl<'a, 'c, S> Here<'a, 'c, S> {
    pub fn new(screen: &'a mut S, ctx: &'a Ctx<'c>) -> Self {
        Here {
            screen,
            ctx,
            out: Outcome::default(),
        }
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        self.out.toast = Some(Toast {
            level,
            text: text.into(),
        });
    }

    pub fn nav(&mut self, nav: Nav) {
        self.out.nav = Some(nav);
    }

    pub fn new_request(&self) -> RequestId {
        self.ctx.new_request()
    }

    pub fn read_only(&self) -> bool {
        self.ctx.read_only()
    }

    /// The outcome, with the commands the transition returned.
    pub fn finish(mut self, cmds: Vec<Cmd>) -> Outcome {
        self.out.cmds.extend(cmds);
        self.out
    }
}

impl<'c, S> Deref for Here<'_, 'c, S> {
    type Target = Ctx<'c>;
    fn deref(&self) -> &Ctx<'c> {
        self.ctx
    }
}
