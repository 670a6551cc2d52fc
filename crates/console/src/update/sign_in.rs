//! Signing in: the device code screen's events, and the keys typed meanwhile, applied once the
//! list arrives.

use ficus_core::text::sanitize;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::lists::forget_details;
use crate::filter::Load;
use crate::keymap::{Chord, Lookup};
use crate::msg::{Cmd, Msg, SignInEvent};
use crate::state::{Phase, SignInScreen, State, ToastLevel};

/// The first commands of a signed-in console: load both lists.
pub fn start_console(state: &mut State) -> Vec<Cmd> {
    state.phase = Phase::Console;
    forget_details(state);
    let apps = state.new_request();
    state.apps.request = apps;
    state.apps.clear();
    state.apps.load = Load::Loading { pages: 0 };
    state.lists.apps_cache = None;
    let identities = state.new_request();
    state.identities.request = identities;
    state.identities.clear();
    state.identities.load = Load::Loading { pages: 0 };
    vec![
        Cmd::LoadApps { request: apps },
        Cmd::LoadIdentities {
            request: identities,
        },
    ]
}

pub(super) fn on_sign_in(state: &mut State, event: SignInEvent) -> Vec<Cmd> {
    match event {
        SignInEvent::Code {
            verification_uri,
            user_code,
            expires_at,
        } => {
            if let Phase::SigningIn(screen) = &mut state.phase {
                screen.verification_uri = Some(sanitize(&verification_uri).into_owned());
                screen.user_code = Some(sanitize(&user_code).into_owned());
                screen.expires_at = Some(expires_at);
                screen.failure = None;
            }
            Vec::new()
        }
        SignInEvent::Done(mut session) => {
            for field in [
                &mut session.tenant,
                &mut session.tenant_id,
                &mut session.user,
                &mut session.cloud,
            ] {
                *field = sanitize(field).into_owned();
            }
            // The header names the user; the footer keeps its hints for a first look.
            state.session = Some(*session);
            start_console(state)
        }
        SignInEvent::Failed(failure) => {
            if let Phase::SigningIn(screen) = &mut state.phase {
                screen.failure = Some(failure);
            }
            // The failure needs reading first; keys typed before it would act on nothing.
            state.typed_ahead.clear();
            Vec::new()
        }
    }
}

/// How many keys typed while signing in are kept for when the list arrives.
pub(super) const TYPE_AHEAD_LIMIT: usize = 64;

/// While signing in, keys the sign-in screen does not use (and everything after the first of
/// them, so `/pay` stays text) are kept for the list; so is every key after them until they
/// are applied, so the order holds. True when the key was kept.
pub(super) fn type_ahead(state: &mut State, key: &KeyEvent) -> bool {
    if state.typed_ahead.is_empty() {
        if !matches!(state.phase, Phase::SigningIn(_)) {
            return false;
        }
        let chord = Chord::from_event(key);
        let unbound = state.pending.is_empty()
            && matches!(
                state.keymap.lookup(state.context(), &[], chord),
                Lookup::Unbound
            );
        if !unbound {
            return false;
        }
    }
    if state.typed_ahead.len() < TYPE_AHEAD_LIMIT {
        state.typed_ahead.push(Msg::Key(*key));
    }
    toast_typed_ahead(state);
    true
}

pub(super) fn toast_typed_ahead(state: &mut State) {
    let mut shown = String::new();
    for msg in &state.typed_ahead {
        match msg {
            Msg::Key(key) => match key.code {
                KeyCode::Char(c) => shown.push(c),
                KeyCode::Enter => shown.push('⏎'),
                KeyCode::Backspace => shown.push('⌫'),
                KeyCode::Esc => shown.push('⎋'),
                KeyCode::Tab => shown.push('⇥'),
                _ => shown.push('·'),
            },
            Msg::Paste(text) => shown.push_str(&sanitize(text.expose())),
            _ => {}
        }
    }
    let tail: String = {
        let chars: Vec<char> = shown.chars().collect();
        let start = chars.len().saturating_sub(32);
        chars[start..].iter().collect()
    };
    state.toast(
        ToastLevel::Info,
        format!("Typed ahead: {tail} (applied when the list arrives)"),
    );
}

/// `Enter` on the sign-in screen after a failure: a new code.
pub(super) fn retry_sign_in(state: &mut State) -> Vec<Cmd> {
    if let Phase::SigningIn(screen) = &mut state.phase
        && screen.failure.is_some()
    {
        *screen = SignInScreen {
            status: Some("Signing in again…".into()),
            ..SignInScreen::default()
        };
        return vec![Cmd::StartSignIn];
    }
    Vec::new()
}

/// `y` on the sign-in screen: the code, when one is shown.
pub(super) fn copy_code(state: &mut State) -> Vec<Cmd> {
    let Phase::SigningIn(screen) = &state.phase else {
        return Vec::new();
    };
    match screen.user_code.clone() {
        Some(code) => {
            state.toast(
                ToastLevel::Info,
                crate::terminal::sent_to_clipboard("the code"),
            );
            vec![Cmd::copy(code)]
        }
        None => Vec::new(),
    }
}
