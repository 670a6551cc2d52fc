//! The token inspector (#7): paste or load any JWT, see it decoded with each claim's meaning,
//! its kind, its signature checked against the issuer's published keys (on request: the
//! issuer URL comes from the token, so ficus asks before fetching it), and, with an app
//! chosen, which of its FICs the token would satisfy and why not.
//!
//! Entry point: [`open`] with an [`InspectorEntry`] (palette `decode TOKEN` / `inspect`, a
//! pasted token, the exchange screen's `i`, all through `Nav::OpenInspector`). Nothing pasted is ever shown raw: a token that does not decode is described
//! (its length and what is wrong), never echoed.

use tui_input::Input;

use ratatui::crossterm::event::KeyEvent;

use crate::component::{Component, Ctx, Outcome, ToastLevel};
use crate::keymap::{Action, Context};
use crate::msg::{Cmd, RequestId};
use crate::nav::{AppChoice, InspectorEntry};
use crate::token_effects::{ExchangeCmd, ExchangeMsg};
use crate::widgets::picker::{FocusedKey, Picker, focused_key, focused_paste, scrolled};
use ficus_core::fic::{self, Fic};
use ficus_core::jwt::{self, Jwt, TokenKind};
use ficus_core::secret::Secret;
use ficus_core::text::sanitize;

type Here<'a, 'c> = crate::component::Here<'a, 'c, InspectorScreen>;

/// The state of the signature check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyState {
    NotAsked,
    Checking(RequestId),
    Verified(String),
    Failed(String),
    /// A Microsoft Graph token: only Graph can verify it (`jwt::GRAPH_TOKEN_NOT_VERIFIABLE`).
    NotForYou,
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
    pub picker: Option<Picker<()>>,
    pub file_input: Option<Input>,
    pub file_request: RequestId,
    pub reveal: bool,
    pub scroll: u16,
}

const EMPTY: &str =
    "No token yet: paste one (the terminal's paste) or read one from a file (the keys are above).";

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

/// The inspector for an entry (the root pushes it): the token decoded, if given.
pub fn open(entry: InspectorEntry) -> InspectorScreen {
    let token = match &entry.token {
        Some(t) if !t.expose().trim().is_empty() => inspect(t.expose()),
        _ => Err(EMPTY.to_string()),
    };
    InspectorScreen {
        token,
        verify: VerifyState::NotAsked,
        app: entry.app,
        fics: entry.fics,
        fics_request: 0,
        fics_error: None,
        picker: None,
        file_input: None,
        file_request: 0,
        reveal: false,
        scroll: 0,
    }
}

fn top<'h>(here: &'h mut Here) -> Option<&'h mut InspectorScreen> {
    Some(&mut *here.screen)
}

impl InspectorScreen {
    /// Typing goes to one of its inputs (the app picker or the file path).
    pub fn captures_keys(&self) -> bool {
        self.picker.is_some() || self.file_input.is_some()
    }

    /// The effects runner's answers (a token file, a signature check, an app's FICs).
    pub fn on_msg(&mut self, msg: ExchangeMsg, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        let cmds = match msg {
            ExchangeMsg::TokenFileRead {
                request,
                label,
                result,
            } => on_file(&mut here, request, label, result),
            msg => on_msg(&mut here, msg),
        };
        here.finish(cmds)
    }
}

impl Component for InspectorScreen {
    fn context(&self) -> Context {
        Context::Inspector
    }

    /// While the picker or the file path input has focus, its keys; else the keymap's.
    fn commands(&self, ctx: &Ctx) -> Vec<crate::component::Command> {
        crate::widgets::picker::focused_commands(&self.file_input, &self.picker)
            .unwrap_or_else(|| crate::component::keymap_commands(ctx.keymap, Context::Inspector))
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        if !self.captures_keys() {
            return None;
        }
        let mut here = Here::new(self, ctx);
        let cmds = on_raw_key(&mut here, key);
        Some(here.finish(cmds))
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let mut here = Here::new(self, ctx);
        match perform(&mut here, action) {
            Some(cmds) => here.finish(cmds),
            None => Outcome::ignored(),
        }
    }

    fn on_paste(&mut self, text: &str, ctx: &Ctx) -> Option<Outcome> {
        let mut here = Here::new(self, ctx);
        let cmds = on_paste(&mut here, text);
        Some(here.finish(cmds))
    }
}

/// A new token replaces the old one (and its signature verdict).
fn set_token(here: &mut Here, text: &str) {
    let verify = here.key(Context::Inspector, Action::VerifySignature);
    let Some(screen) = top(here) else {
        return;
    };
    screen.token = inspect(text);
    screen.verify = VerifyState::NotAsked;
    screen.scroll = 0;
    let message = match &screen.token {
        Ok(decoded) => (
            ToastLevel::Success,
            format!(
                "Decoded: {}. {verify} checks its signature against the issuer's keys.",
                decoded.kind.label()
            ),
        ),
        Err(_) => (
            ToastLevel::Error,
            "Not a token; nothing was kept. The screen says what is wrong with it.".into(),
        ),
    };
    here.toast(message.0, message.1);
}

fn on_paste(here: &mut Here, text: &str) -> Vec<Cmd> {
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    if focused_paste(&mut screen.file_input, &mut screen.picker, text) {
        return Vec::new();
    }
    set_token(here, text);
    Vec::new()
}

fn perform(here: &mut Here, action: Action) -> Option<Vec<Cmd>> {
    let request = here.new_request();
    let now = here.ctx.now.unix_timestamp();
    let screen = top(here)?;
    let cmds = match action {
        // Each claim alone on one unwrapped line; the token itself is never shown here.
        Action::OneLine => {
            let Ok(decoded) = &screen.token else {
                return Some(Vec::new());
            };
            let claims: Vec<(String, String)> = jwt::claim_lines(&decoded.jwt, now)
                .into_iter()
                .map(|c| {
                    (
                        sanitize(&c.name).into_owned(),
                        sanitize(&c.value).into_owned(),
                    )
                })
                .collect();
            let values: Vec<(&str, String)> = claims
                .iter()
                .map(|(name, value)| (name.as_str(), value.clone()))
                .collect();
            let panel = crate::overlay::TextPanel::values("the token's claims", &values);
            here.nav(crate::nav::Nav::Overlay(Box::new(
                crate::overlay::Overlay::Text(panel),
            )));
            Vec::new()
        }
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
            here.toast(
                ToastLevel::Info,
                "Paste the token now (the terminal's paste); it replaces the one shown.",
            );
            Vec::new()
        }
        Action::VerifySignature => match &screen.token {
            Ok(decoded) if decoded.jwt.has_graph_nonce() => {
                screen.verify = VerifyState::NotForYou;
                here.toast(
                    ToastLevel::Info,
                    ficus_core::jwt::GRAPH_TOKEN_NOT_VERIFIABLE,
                );
                Vec::new()
            }
            Ok(decoded) => {
                let token = decoded.raw.clone();
                let issuer = decoded
                    .jwt
                    .str_claim("iss")
                    .map(|s| sanitize(s).into_owned());
                match issuer {
                    Some(issuer) => {
                        screen.verify = VerifyState::Checking(request);
                        here.toast(
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
                here.toast(ToastLevel::Info, "Paste a token first.");
                Vec::new()
            }
        },
        Action::Copy => match &screen.token {
            Ok(decoded) => {
                let raw = decoded.raw.clone();
                here.toast(
                    ToastLevel::Info,
                    format!(
                        "{}. Treat it as a password.",
                        crate::terminal::sent_to_clipboard("the token")
                    ),
                );
                vec![Cmd::Copy(raw)]
            }
            Err(_) => Vec::new(),
        },
        Action::PickApp => {
            let items = crate::widgets::picker::app_items(here.apps.items(), None);
            if let Some(screen) = top(here) {
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

fn on_raw_key(here: &mut Here, key: KeyEvent) -> Vec<Cmd> {
    let request = here.new_request();
    let keymap = here.ctx.keymap;
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    match focused_key(keymap, &mut screen.file_input, &mut screen.picker, key) {
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
            let app = here
                .apps
                .find(|a| a.object_id == object_id)
                .map(AppChoice::from);
            if let Some(screen) = top(here) {
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
fn on_file(
    here: &mut Here,
    request: RequestId,
    label: String,
    result: Result<Secret<String>, String>,
) -> Vec<Cmd> {
    let file = here.key(Context::Inspector, Action::TokenFromFile);
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    if screen.file_request != request {
        return Vec::new();
    }
    match result {
        Ok(token) => set_token(here, token.expose()),
        Err(error) => here.toast(
            ToastLevel::Error,
            format!(
                "{} ({}) — press {file} to try another path",
                sanitize(&error),
                sanitize(&label)
            ),
        ),
    }
    Vec::new()
}

fn on_msg(here: &mut Here, msg: ExchangeMsg) -> Vec<Cmd> {
    let Some(screen) = top(here) else {
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
                Err(error) => screen.fics_error = Some(sanitize(&error.message).into_owned()),
            }
        }
        _ => {}
    }
    Vec::new()
}
