//! The lists and the detail screens: moving the cursor, opening a row, reloading, copying,
//! sorting and the filter typed over a list.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::navigate::{open_app, open_identity};
use super::rest::forget_details;
use crate::filter::{Listing, Load, Row};
use crate::msg::Cmd;
use crate::state::{ListKind, Phase, SignInScreen, State, ToastLevel};

pub(super) fn cycle_sort<T: Row>(listing: &mut Listing<T>, now: time::OffsetDateTime) {
    // s: next column ascending; on the last column's second press, back to the first.
    let columns = T::columns().len();
    let column = match listing.sort() {
        None => 0,
        Some((column, false)) => column,
        Some((column, true)) => (column + 1) % columns,
    };
    listing.sort_by(column, now);
}

pub(super) fn move_cursor(state: &mut State, delta: isize) -> Vec<Cmd> {
    // The screens above the lists move their own cursors (their components).
    if state.stack.is_empty() {
        match state.list {
            ListKind::Apps => state.apps.move_cursor(delta),
            ListKind::Identities => state.identities.move_cursor(delta),
        }
    }
    Vec::new()
}

pub(super) fn open_selected(state: &mut State) -> Vec<Cmd> {
    if let Phase::SigningIn(screen) = &mut state.phase {
        if screen.failure.is_some() {
            *screen = SignInScreen {
                status: Some("Signing in again…".into()),
                ..SignInScreen::default()
            };
            return vec![Cmd::StartSignIn];
        }
        return Vec::new();
    }
    if !state.stack.is_empty() {
        return Vec::new();
    }
    match state.list {
        ListKind::Apps => match state.apps.selected().cloned() {
            Some(app) => open_app(state, &app.object_id, &app.name),
            None => Vec::new(),
        },
        ListKind::Identities => match state.identities.selected().cloned() {
            Some(identity) => open_identity(state, identity),
            None => Vec::new(),
        },
    }
}

pub(super) fn refresh(state: &mut State) -> Vec<Cmd> {
    if !state.stack.is_empty() {
        return Vec::new();
    }
    forget_details(state);
    let request = state.new_request();
    let listing_load = Load::Loading { pages: 0 };
    state.toast(ToastLevel::Info, "Reloading from the directory…");
    match state.list {
        ListKind::Apps => {
            state.apps.request = request;
            state.apps.clear();
            state.apps.load = listing_load;
            vec![Cmd::LoadApps { request }]
        }
        ListKind::Identities => {
            state.identities.request = request;
            state.identities.clear();
            state.identities.load = listing_load;
            vec![Cmd::LoadIdentities { request }]
        }
    }
}

pub(super) fn copy(state: &mut State, id: bool) -> Vec<Cmd> {
    let picked: Option<(&'static str, String)> = match (&state.phase, state.stack.last()) {
        (Phase::SigningIn(screen), _) => screen.user_code.clone().map(|code| ("the code", code)),
        (_, None) => match state.list {
            ListKind::Apps => state.apps.selected().map(|app| {
                if id {
                    ("the app id", app.app_id.clone())
                } else {
                    ("the name", app.name.clone())
                }
            }),
            ListKind::Identities => state.identities.selected().map(|identity| {
                if id {
                    ("the client id", identity.client_id.clone())
                } else {
                    ("the name", identity.name.clone())
                }
            }),
        },
        // The screens above copy their own values.
        (_, Some(_)) => None,
    };
    match picked {
        Some((what, text)) => {
            state.toast(ToastLevel::Info, crate::terminal::sent_to_clipboard(what));
            vec![Cmd::copy(text)]
        }
        None => Vec::new(),
    }
}

pub(super) fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Cmd> {
    match key.code {
        // Esc and Enter close the input and keep the filter; Esc again clears it.
        KeyCode::Esc | KeyCode::Enter => {
            state.editing_filter = false;
            Vec::new()
        }
        KeyCode::Down => move_cursor(state, 1),
        KeyCode::Up => move_cursor(state, -1),
        _ => {
            let event = ratatui::crossterm::event::Event::Key(key);
            if let Some(request) = to_input_request(&event) {
                let input = filter_input(state);
                input.handle(request);
                let value = input.value().to_string();
                set_filter(state, value);
            }
            Vec::new()
        }
    }
}

pub(super) fn filter_input(state: &mut State) -> &mut Input {
    match state.list {
        ListKind::Apps => &mut state.apps_filter,
        ListKind::Identities => &mut state.identities_filter,
    }
}

pub(super) fn set_filter(state: &mut State, value: String) {
    let now = state.now;
    match state.list {
        ListKind::Apps => {
            if state.apps_filter.value() != value {
                state.apps_filter = Input::new(value.clone());
            }
            state.apps.set_query(&value, now);
        }
        ListKind::Identities => {
            if state.identities_filter.value() != value {
                state.identities_filter = Input::new(value.clone());
            }
            state.identities.set_query(&value, now);
        }
    }
}

pub(super) fn go_back(state: &mut State) -> Vec<Cmd> {
    if state.stack.pop().is_some() {
        return Vec::new();
    }
    let has_filter = match state.list {
        ListKind::Apps => !state.apps_filter.value().is_empty(),
        ListKind::Identities => !state.identities_filter.value().is_empty(),
    };
    if has_filter {
        set_filter(state, String::new());
    }
    Vec::new()
}
