//! The token inspector (#7): paste or load any JWT, see it decoded with each claim's meaning,
//! its kind, its signature checked against the issuer's published keys (on request: the
//! issuer URL comes from the token, so ficus asks before fetching it), and, with an app
//! chosen, which of its FICs the token would satisfy and why not.
//!
//! Entry points: [`open`] (palette `decode TOKEN` / `inspect`), [`open_with`] (the exchange
//! screen's `i`). Nothing pasted is ever shown raw: a token that does not decode is described
//! (its length and what is wrong), never echoed.

use tui_input::Input;

use super::exchange::{
    AppChoice, ExchangeCmd, ExchangeMsg, FocusedKey, PickItem, Picker, focused_key, focused_paste,
    scrolled,
};
use super::keymap::Action;
use super::model::sanitize;
use super::msg::{Cmd, RequestId};
use super::state::{Screen, State, ToastLevel};
use ficus_core::fic::{self, Fic};
use ficus_core::jwt::{self, Jwt, TokenKind};
use ficus_core::secret::Secret;

/// The state of the signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyState {
    NotAsked,
    Checking(RequestId),
    Verified(String),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Decoded {
    pub jwt: Jwt,
    pub kind: TokenKind,
    pub raw: Secret<String>,
}

#[derive(Debug, Clone)]
pub struct InspectorScreen {
    /// The decoded token, or why the last input is not one.
    pub token: Result<Decoded, String>,
    pub verify: VerifyState,
    pub app: Option<AppChoice>,
    pub fics: Vec<Fic>,
    pub fics_request: RequestId,
    pub fics_error: Option<String>,
    pub picker: Option<Picker>,
    pub file_input: Option<Input>,
    pub file_request: RequestId,
    pub reveal: bool,
    pub scroll: u16,
}

const EMPTY: &str =
    "No token yet: paste one (the terminal's paste) or press f to read one from a file.";

impl InspectorScreen {
    /// Which of the app's FICs the token would satisfy, as Entra matches them.
    pub fn diagnosis(&self, cloud: &ficus_core::cloud::Cloud) -> Option<fic::Diagnosis> {
        let decoded = self.token.as_ref().ok()?;
        self.app.as_ref()?;
        Some(fic::diagnose(&decoded.jwt, &self.fics, cloud))
    }
}

/// Decodes what was pasted. Never keeps or echoes input that is not a token.
pub fn inspect(text: &str) -> Result<Decoded, String> {
    let trimmed = text.trim();
    let described = |error: jwt::JwtError| {
        format!(
            "Cannot read this as a token ({} bytes pasted): {error}.",
            text.len()
        )
    };
    if trimmed.len() > jwt::MAX_TOKEN_LEN {
        return Err(described(jwt::JwtError::TooLarge {
            len: trimmed.len(),
            max: jwt::MAX_TOKEN_LEN,
        }));
    }
    let jwt = jwt::decode(trimmed).map_err(described)?;
    Ok(Decoded {
        kind: jwt::classify(&jwt),
        jwt,
        raw: Secret::new(trimmed.to_string()),
    })
}

/// Opens the inspector, with `text` decoded if given.
pub fn open(state: &mut State, text: &str) -> Vec<Cmd> {
    let token = if text.trim().is_empty() {
        Err(EMPTY.to_string())
    } else {
        inspect(text)
    };
    let app = app_below(state);
    push(state, token, app.0, app.1);
    Vec::new()
}

/// Opens the inspector on a token already known (the exchange's), for an app and its FICs.
pub fn open_with(
    state: &mut State,
    token: Option<Secret<String>>,
    app: Option<AppChoice>,
    fics: Vec<Fic>,
) -> Vec<Cmd> {
    let token = match token {
        Some(t) => inspect(t.expose()),
        None => Err(EMPTY.to_string()),
    };
    push(state, token, app, fics);
    Vec::new()
}

/// The app of the screen below, if it is an app's detail: its FICs are already loaded.
fn app_below(state: &State) -> (Option<AppChoice>, Vec<Fic>) {
    match state.stack.last() {
        Some(Screen::AppDetail(screen)) => match &screen.detail {
            Some(detail) => (
                Some(AppChoice::from(&detail.app)),
                detail.fics.iter().map(|f| f.fic.clone()).collect(),
            ),
            None => (None, Vec::new()),
        },
        _ => (None, Vec::new()),
    }
}

fn push(state: &mut State, token: Result<Decoded, String>, app: Option<AppChoice>, fics: Vec<Fic>) {
    state.overlay = None;
    state.editing_filter = false;
    state
        .stack
        .push(Screen::Inspector(Box::new(InspectorScreen {
            token,
            verify: VerifyState::NotAsked,
            app,
            fics,
            fics_request: 0,
            fics_error: None,
            picker: None,
            file_input: None,
            file_request: 0,
            reveal: false,
            scroll: 0,
        })));
}

fn top(state: &mut State) -> Option<&mut InspectorScreen> {
    match state.stack.last_mut() {
        Some(Screen::Inspector(screen)) => Some(screen),
        _ => None,
    }
}

pub fn captures_keys(state: &State) -> bool {
    matches!(state.stack.last(), Some(Screen::Inspector(s)) if s.picker.is_some() || s.file_input.is_some())
}

/// A new token replaces the old one (and its signature verdict).
fn set_token(state: &mut State, text: &str) {
    let Some(screen) = top(state) else {
        return;
    };
    screen.token = inspect(text);
    screen.verify = VerifyState::NotAsked;
    screen.scroll = 0;
    let message = match &screen.token {
        Ok(decoded) => (
            ToastLevel::Success,
            format!(
                "Decoded: {}. s checks its signature against the issuer's keys.",
                decoded.kind.label()
            ),
        ),
        Err(_) => (
            ToastLevel::Error,
            "Not a token; nothing was kept. The screen says what is wrong with it.".into(),
        ),
    };
    state.toast(message.0, message.1);
}

pub fn on_paste(state: &mut State, text: &str) -> Vec<Cmd> {
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    if focused_paste(&mut screen.file_input, &mut screen.picker, text) {
        return Vec::new();
    }
    set_token(state, text);
    Vec::new()
}

pub fn perform(state: &mut State, action: Action) -> Option<Vec<Cmd>> {
    let request = state.new_request();
    let screen = top(state)?;
    let cmds = match action {
        Action::Up | Action::Down | Action::HalfPageUp | Action::HalfPageDown | Action::Top => {
            screen.scroll = scrolled(screen.scroll, action);
            Vec::new()
        }
        Action::Reveal => {
            screen.reveal = !screen.reveal;
            Vec::new()
        }
        Action::TokenFromFile => {
            screen.file_input = Some(Input::default());
            Vec::new()
        }
        Action::PasteToken => {
            state.toast(
                ToastLevel::Info,
                "Paste the token now (the terminal's paste); it replaces the one shown.",
            );
            Vec::new()
        }
        Action::VerifySignature => match &screen.token {
            Ok(decoded) => {
                let token = decoded.raw.clone();
                let issuer = decoded
                    .jwt
                    .str_claim("iss")
                    .map(|s| sanitize(s).into_owned());
                match issuer {
                    Some(issuer) => {
                        screen.verify = VerifyState::Checking(request);
                        state.toast(
                            ToastLevel::Info,
                            format!(
                                "Fetching {}/.well-known/openid-configuration and its keys…",
                                issuer.trim_end_matches('/')
                            ),
                        );
                        vec![Cmd::Exchange(ExchangeCmd::VerifyToken { request, token })]
                    }
                    None => {
                        screen.verify = VerifyState::Failed(
                            "the token names no issuer (iss), so there are no keys to check it against"
                                .into(),
                        );
                        Vec::new()
                    }
                }
            }
            Err(_) => {
                state.toast(ToastLevel::Info, "Paste a token first.");
                Vec::new()
            }
        },
        Action::Copy => match &screen.token {
            Ok(decoded) => {
                let raw = decoded.raw.expose().clone();
                state.toast(
                    ToastLevel::Success,
                    "Copied the token (OSC 52). Treat it as a password.",
                );
                vec![Cmd::Copy(raw)]
            }
            Err(_) => Vec::new(),
        },
        Action::PickApp => {
            let items = state
                .apps
                .items()
                .iter()
                .map(|a| PickItem {
                    label: a.name.clone(),
                    detail: a.app_id.clone(),
                    disabled: None,
                    value: a.object_id.clone(),
                })
                .collect();
            if let Some(screen) = top(state) {
                screen.picker = Some(Picker {
                    field: None,
                    input: Input::default(),
                    items,
                    selected: 0,
                    free_text: false,
                });
            }
            Vec::new()
        }
        _ => return None,
    };
    Some(cmds)
}

pub fn on_raw_key(state: &mut State, key: ratatui::crossterm::event::KeyEvent) -> Vec<Cmd> {
    let request = state.new_request();
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    match focused_key(&mut screen.file_input, &mut screen.picker, key) {
        FocusedKey::Done => Vec::new(),
        FocusedKey::ReadFile(path) => {
            screen.file_request = request;
            vec![Cmd::Exchange(ExchangeCmd::ReadTokenFile { request, path })]
        }
        FocusedKey::Choose => {
            let chosen = screen.picker.take().and_then(|picker| {
                picker
                    .visible()
                    .get(picker.selected)
                    .map(|i| i.value.clone())
            });
            let Some(object_id) = chosen else {
                return Vec::new();
            };
            let app = state
                .apps
                .find(|a| a.object_id == object_id)
                .map(AppChoice::from);
            if let Some(screen) = top(state) {
                screen.app = app;
                screen.fics = Vec::new();
                screen.fics_error = None;
                screen.fics_request = request;
            }
            vec![Cmd::Exchange(ExchangeCmd::LoadAppFics {
                request,
                app_object_id: object_id,
            })]
        }
    }
}

/// A token file read for the inspector.
pub fn on_file(
    state: &mut State,
    request: RequestId,
    label: String,
    result: Result<Secret<String>, String>,
) -> Vec<Cmd> {
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    if screen.file_request != request {
        return Vec::new();
    }
    match result {
        Ok(token) => set_token(state, token.expose()),
        Err(error) => state.toast(
            ToastLevel::Error,
            format!(
                "{} ({}) — press f to try another path",
                sanitize(&error),
                sanitize(&label)
            ),
        ),
    }
    Vec::new()
}

pub fn on_msg(state: &mut State, msg: ExchangeMsg) -> Vec<Cmd> {
    let Some(screen) = top(state) else {
        return Vec::new();
    };
    match msg {
        ExchangeMsg::TokenVerified { request, result }
            if screen.verify == VerifyState::Checking(request) =>
        {
            screen.verify = match result {
                Ok(kid) => VerifyState::Verified(sanitize(&kid).into_owned()),
                Err(why) => VerifyState::Failed(sanitize(&why).into_owned()),
            };
        }
        ExchangeMsg::AppFicsLoaded { request, result } if screen.fics_request == request => {
            match result {
                Ok(mut fics) => {
                    for f in &mut fics {
                        for value in [&mut f.name, &mut f.issuer, &mut f.subject] {
                            *value = sanitize(value).into_owned();
                        }
                        for a in &mut f.audiences {
                            *a = sanitize(a).into_owned();
                        }
                    }
                    screen.fics = fics;
                    screen.fics_error = None;
                }
                Err(error) => screen.fics_error = Some(sanitize(&error).into_owned()),
            }
        }
        _ => {}
    }
    Vec::new()
}
