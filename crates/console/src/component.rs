//! What a screen is to the root: a [`Component`] that answers keys, actions and pastes with an
//! [`Outcome`] (commands for the effects runner, a toast, a navigation intent), reading the
//! rest of the console through [`Ctx`]. Screens never touch the screen stack: they ask with a
//! [`crate::nav::Nav`] and the root `update` applies it.

use std::ops::Deref;

use ratatui::crossterm::event::KeyEvent;
use time::OffsetDateTime;

use crate::filter::Listing;
use crate::keymap::{Action, Context, Keymap, keys_label};
use crate::model::{AppRow, IdentityRow};
use crate::msg::{Cmd, RequestId, RequestIds, Session};
use crate::nav::Nav;
use crate::theme::Themes;

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
    /// The themes and the one in use (the palette's `theme` suggestions).
    pub themes: &'a Themes,
    pub theme: &'a str,
}

impl Ctx<'_> {
    pub fn new_request(&self) -> RequestId {
        self.requests.next()
    }

    pub fn read_only(&self) -> bool {
        self.session.is_some_and(|s| s.read_only)
    }

    /// The key bound to `action` on this screen's keys (or globally), as a sentence names it
    /// ("press r to retry"): a remapped key shows as remapped; an unbound one by its name.
    pub fn key(&self, context: Context, action: Action) -> String {
        key_named(self.keymap, context, action)
    }

    /// The signed-in cloud's endpoints (the public cloud before sign-in).
    pub fn cloud(&self) -> ficus_core::cloud::Cloud {
        self.session
            .map(|s| s.cloud_endpoints.clone())
            .unwrap_or_else(ficus_core::cloud::Cloud::global)
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
    /// A FIC was written: this app (object id) now has FICs with these subjects; the lists
    /// (its FIC count, the identities' trust counts) follow.
    pub app_fics: Option<(String, Vec<String>)>,
    /// Not this screen's action: the root handles it (quit, palette, help…).
    pub ignored: bool,
    /// Changes to the listings (the lists screen's cursor, filter, sort, reload), applied by
    /// the root before `nav`.
    pub listing: Vec<crate::nav::ListingChange>,
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

/// One thing a screen offers now: the table that key dispatch (a disabled command says why
/// instead of running), the footer hints (enabled ones with a label) and `?` help all read.
/// Keys come from the keymap, so a remapped key shows as remapped everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub action: Action,
    /// Shown together with this one's keys (`j/k move` is Up with Down).
    pub with: Option<Action>,
    pub label: &'static str,
    /// Why it cannot run now; `None`: it can.
    pub disabled: Option<String>,
    /// What is no key binding at all (`any key` of a question, `…` while waiting).
    pub input_keys: Option<&'static str>,
    /// The keymap context its keys are looked up in, when not the screen's own: a text
    /// input's keys (`Context::Input`), a question's `y` (`Context::Question`).
    pub context: Option<Context>,
}

impl Command {
    pub fn new(action: Action, label: &'static str) -> Command {
        Command {
            action,
            with: None,
            label,
            disabled: None,
            input_keys: None,
            context: None,
        }
    }

    /// What a text input with focus does with `action`'s key (`[input]` in the keymap).
    pub fn typing(action: Action, label: &'static str) -> Command {
        Command {
            context: Some(Context::Input),
            ..Command::new(action, label)
        }
    }

    /// The answer to a question on screen (`y` of `[confirm]`).
    pub fn answer(action: Action, label: &'static str) -> Command {
        Command {
            context: Some(Context::Question),
            ..Command::new(action, label)
        }
    }

    /// Something said beside the keys that is no binding (`any key`, `…`).
    pub fn note(keys: &'static str, label: &'static str) -> Command {
        Command {
            input_keys: Some(keys),
            ..Command::new(Action::Help, label)
        }
    }

    /// The earlier name of [`Command::note`], kept so code written against it still builds;
    /// an input's keys are [`Command::typing`] (the keymap's `[input]`), not text.
    pub fn input(keys: &'static str, label: &'static str) -> Command {
        Command::note(keys, label)
    }

    /// Whether key dispatch on the screen's own context runs it (typing and answers are
    /// the input's and the question's).
    pub fn is_screen_key(&self) -> bool {
        self.input_keys.is_none() && self.context.is_none()
    }

    pub fn with(mut self, other: Action) -> Command {
        self.with = Some(other);
        self
    }

    pub fn disabled_unless(mut self, enabled: bool, why: impl Into<String>) -> Command {
        if !enabled {
            self.disabled = Some(why.into());
        }
        self
    }

    /// The keys to show: the keymap's first binding (and the paired action's), or the input's.
    pub fn keys(&self, keymap: &Keymap, context: Context) -> Option<String> {
        if let Some(keys) = self.input_keys {
            return Some(keys.to_string());
        }
        let context = self.context.unwrap_or(context);
        let first = keys_for(keymap, context, self.action)?;
        match self.with.and_then(|w| keys_for(keymap, context, w)) {
            Some(second) => Some(format!("{first}/{second}")),
            None => Some(first),
        }
    }
}

/// The first keys bound to `action` in `context` (or globally), as shown to people.
pub fn keys_for(keymap: &Keymap, context: Context, action: Action) -> Option<String> {
    keymap
        .for_context(context)
        .into_iter()
        .find(|b| b.action == action)
        .and_then(|b| b.keys.first().map(|k| keys_label(k)))
}

/// [`keys_for`], or the action's name in the keymap file when nothing binds it.
pub fn key_named(keymap: &Keymap, context: Context, action: Action) -> String {
    keys_for(keymap, context, action).unwrap_or_else(|| action.name().to_string())
}

/// A list filter's commands while it is typed into (the Apps/Identities lists, Health): keep it,
/// close it, move the cursor through what it matches.
pub fn filter_typing_commands() -> Vec<Command> {
    vec![
        Command::typing(Action::Open, "keep filter"),
        Command::typing(Action::Back, "close"),
        Command::typing(Action::Up, "move").with(Action::Down),
    ]
}

/// A context's commands as the keymap describes them (the bindings with a footer label).
pub fn keymap_commands(keymap: &Keymap, context: Context) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    for binding in keymap.for_context(context) {
        if let Some(label) = binding.hint
            && !commands.iter().any(|c| c.action == binding.action)
        {
            commands.push(Command::new(binding.action, label));
        }
    }
    commands
}

/// The footer's hints: the enabled commands with their keys (unbound ones are left out).
pub fn footer_hints(
    commands: &[Command],
    keymap: &Keymap,
    context: Context,
) -> Vec<(String, &'static str)> {
    commands
        .iter()
        .filter(|c| c.disabled.is_none())
        .filter_map(|c| Some((c.keys(keymap, context)?, c.label)))
        .collect()
}

/// Commands as one line of words for a popup or a field's note (`Enter choose · Esc close`),
/// keys as the keymap binds them.
pub fn hints_line(commands: &[Command], keymap: &Keymap, context: Context) -> String {
    footer_hints(commands, keymap, context)
        .into_iter()
        .map(|(keys, label)| format!("{keys} {label}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A screen on the stack.
pub trait Component {
    /// Which keymap context its keys are looked up in.
    fn context(&self) -> Context;
    /// What it offers now, with what is disabled and why (see [`Command`]).
    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        keymap_commands(ctx.keymap, self.context())
    }
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
