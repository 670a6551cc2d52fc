//! The lists and the detail screens: moving the cursor, opening a row, reloading, copying,
//! sorting and the filter typed over a list.

use super::prelude::*;

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
    match state.stack.last_mut() {
        None => match state.list {
            ListKind::Apps => state.apps.move_cursor(delta),
            ListKind::Identities => state.identities.move_cursor(delta),
        },
        Some(Screen::AppDetail(screen)) => {
            let Some(detail) = &screen.detail else {
                return Vec::new();
            };
            let (cursor, len) = match screen.pane {
                DetailPane::Fics => (&mut screen.fic_cursor, detail.fics.len()),
                DetailPane::Credentials => {
                    (&mut screen.credential_cursor, detail.app.credentials.len())
                }
            };
            *cursor = cursor
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
        Some(Screen::IdentityDetail(screen)) => {
            let len = screen.detail.as_ref().map_or(0, |d| d.trusted_by.len());
            screen.cursor = screen
                .cursor
                .saturating_add_signed(delta)
                .min(len.saturating_sub(1));
        }
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => {}
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
    match state.stack.last() {
        None => match state.list {
            ListKind::Apps => match state.apps.selected().cloned() {
                Some(app) => open_app(state, &app.object_id, &app.name),
                None => Vec::new(),
            },
            ListKind::Identities => match state.identities.selected().cloned() {
                Some(identity) => open_identity(state, identity),
                None => Vec::new(),
            },
        },
        Some(Screen::IdentityDetail(screen)) => {
            let trust = screen
                .detail
                .as_ref()
                .and_then(|d| d.trusted_by.get(screen.cursor))
                .map(|t| (t.app_object_id.clone(), t.app_name.clone()));
            match trust {
                Some((object_id, name)) => open_app(state, &object_id, &name),
                None => Vec::new(),
            }
        }
        Some(
            Screen::AppDetail(_) | Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_),
        ) => Vec::new(),
    }
}

pub(super) fn refresh(state: &mut State) -> Vec<Cmd> {
    match state.stack.last() {
        None => {
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
        Some(Screen::AppDetail(_)) => {
            let request = state.new_request();
            let Some(Screen::AppDetail(screen)) = state.stack.last_mut() else {
                return Vec::new();
            };
            screen.request = request;
            screen.error = None;
            vec![Cmd::LoadAppDetail {
                request,
                object_id: screen.object_id.clone(),
            }]
        }
        Some(Screen::IdentityDetail(_)) => {
            let request = state.new_request();
            let Some(Screen::IdentityDetail(screen)) = state.stack.last_mut() else {
                return Vec::new();
            };
            screen.request = request;
            screen.error = None;
            vec![Cmd::LoadIdentityDetail {
                request,
                identity: Box::new(screen.identity.clone()),
            }]
        }
        Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_)) => Vec::new(),
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
        (_, Some(Screen::AppDetail(screen))) => match (&screen.detail, id) {
            (Some(detail), true) => Some(("the app id", detail.app.app_id.clone())),
            (Some(detail), false) => match screen.pane {
                DetailPane::Fics => detail
                    .fics
                    .get(screen.fic_cursor)
                    .map(|f| ("the FIC's subject", f.fic.subject.clone())),
                DetailPane::Credentials => detail
                    .app
                    .credentials
                    .get(screen.credential_cursor)
                    .map(|c| ("the credential's key id", c.key_id.clone())),
            },
            (None, _) => None,
        },
        (_, Some(Screen::IdentityDetail(screen))) => Some(if id {
            ("the client id", screen.identity.client_id.clone())
        } else {
            ("the principal id", screen.identity.principal_id.clone())
        }),
        (_, Some(Screen::Wizard(_) | Screen::Exchange(_) | Screen::Inspector(_))) => None,
    };
    match picked {
        Some((what, text)) => {
            state.toast(
                ToastLevel::Success,
                format!("Copied {what} (OSC 52: if nothing arrives, enable clipboard access in your terminal)"),
            );
            vec![Cmd::Copy(text)]
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
