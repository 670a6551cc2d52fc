//! The token inspector with what people actually paste: malformed text, a truncated token, a
//! 1 MB blob, escape sequences around and inside a token. Each gives a clear message, never a
//! panic, and nothing reaches the terminal that could drive it.

use ficus::fic::Fic;
use ficus::jwt::b64url;
use ficus::tui::exchange::ExchangeMsg;
use ficus::tui::inspector::InspectorScreen;
use ficus::tui::keymap::Keymap;
use ficus::tui::msg::{Cmd, Msg};
use ficus::tui::nav::AppChoice;
use ficus::tui::state::{Screen, State};
use ficus::tui::theme::Themes;
use ficus::tui::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

const ISSUER: &str = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";
const PRINCIPAL: &str = "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";

fn console() -> State {
    let mut state = State::new(
        Keymap::default(),
        Themes::built_in(),
        "mono",
        time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time"),
    );
    state.size = (100, 60);
    state
}

/// A token made here, never a literal: header, claims and a stand-in signature.
fn token(claims: serde_json::Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "test-key"});
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        b64url(b"not a real signature")
    )
}

fn mi_claims() -> serde_json::Value {
    json!({
        "iss": ISSUER,
        "sub": PRINCIPAL,
        "aud": "fb60f99c-7a34-4190-8149-302f77469936",
        "oid": PRINCIPAL,
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "iat": 1_800_000_000 - 60,
        "nbf": 1_800_000_000 - 60,
        "exp": 1_800_000_000 + 3600,
        "xms_mirid": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments",
        "idtyp": "app",
    })
}

fn inspector(state: &State) -> &InspectorScreen {
    match state.stack.last() {
        Some(Screen::Inspector(screen)) => screen,
        _ => panic!("the inspector is on top"),
    }
}

fn open_and_paste(text: &str) -> (State, Vec<Cmd>) {
    let mut state = console();
    state
        .stack
        .push(Screen::Inspector(Box::new(ficus::tui::inspector::open(
            Default::default(),
        ))));
    let cmds = update(&mut state, Msg::paste(text.to_string()));
    (state, cmds)
}

/// The rendered screen; fails the test if any control character reached the buffer.
fn render(state: &State) -> String {
    let (width, height) = state.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| ficus::tui::views::draw(frame, state))
        .expect("draws");
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..height {
        for x in 0..width {
            let symbol = buffer[(x, y)].symbol();
            assert!(
                !symbol.chars().any(char::is_control),
                "a control character reached the terminal at {x},{y}: {symbol:?}"
            );
            text.push_str(symbol);
        }
        text.push('\n');
    }
    text
}

fn error_of(state: &State) -> String {
    match &inspector(state).token {
        Err(message) => message.clone(),
        Ok(_) => panic!("the paste must not decode"),
    }
}

#[test]
fn malformed_text_says_what_a_token_looks_like() {
    let (state, cmds) = open_and_paste("hello, this is not a token");
    assert!(cmds.is_empty());
    let message = error_of(&state);
    assert!(message.contains("3 parts separated by dots"), "{message}");
    let screen = render(&state);
    assert!(screen.contains("Cannot read this as a token"), "{screen}");
    assert!(
        !screen.contains("hello, this is not"),
        "pasted text is never echoed"
    );
}

#[test]
fn truncated_token_is_named_as_truncated() {
    let full = token(mi_claims());
    let cut = &full[..full.len() / 2];
    let (state, _) = open_and_paste(cut);
    let message = error_of(&state);
    assert!(message.contains("truncated"), "{message}");
    // Cut inside the claims: two parts, or a part that is no longer base64url/JSON.
    let cut = &full[..full.find('.').expect("dot") + 10];
    let (state, _) = open_and_paste(cut);
    let message = error_of(&state);
    assert!(
        message.contains("truncated") || message.contains("not JSON"),
        "{message}"
    );
    render(&state);
}

#[test]
fn enormous_paste_is_refused_without_keeping_it() {
    let huge = format!("{}.{}.{}", "a".repeat(500_000), "b".repeat(500_000), "c");
    assert!(huge.len() > 1_000_000);
    let (state, _) = open_and_paste(&huge);
    let message = error_of(&state);
    assert!(message.contains("larger than any token"), "{message}");
    assert!(message.contains("1000003 bytes"), "{message}");
    render(&state);

    // Pasted on the apps list, it opens the inspector directly instead of being typed into
    // the palette one character at a time.
    let mut state = console();
    update(&mut state, Msg::paste(huge));
    assert!(error_of(&state).contains("larger than any token"));
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    // Around the token: an OSC 52 clipboard write and a screen clear.
    let laden = format!("\u{1b}]52;c;ZXZpbA==\u{7}{}\u{1b}[2J", token(mi_claims()));
    let (state, _) = open_and_paste(&laden);
    let message = error_of(&state);
    assert!(message.contains("control character"), "{message}");
    render(&state);

    // Inside a claim: the token decodes, and the value is shown cleaned.
    let mut claims = mi_claims();
    claims["name"] = json!("evil\u{1b}[31mred\u{1b}]0;title\u{7}\u{202e}reversed");
    let (state, _) = open_and_paste(&token(claims));
    assert!(inspector(&state).token.is_ok());
    let screen = render(&state);
    assert!(screen.contains("evilred"), "{screen}");
    assert!(!screen.contains("[31m"));
}

#[test]
fn a_good_token_is_decoded_classified_and_matched_against_the_apps_fics() {
    let (mut state, _) = open_and_paste(&token(mi_claims()));
    let decoded = inspector(&state).token.as_ref().expect("decodes");
    assert_eq!(decoded.kind.label(), "managed identity (user-assigned)");
    let screen = render(&state);
    assert!(
        screen.contains("managed identity (user-assigned)"),
        "{screen}"
    );
    assert!(screen.contains("s fetches"), "{screen}");
    assert!(screen.contains(".well-known/openid-con"), "{screen}");
    // Masked by default.
    assert!(screen.contains("v reveals"));

    // `s` asks the runner to check the signature; nothing is fetched without it.
    let cmds = update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE)),
    );
    let request = match cmds.as_slice() {
        [Cmd::Exchange(ficus::tui::exchange::ExchangeCmd::VerifyToken { request, .. })] => *request,
        other => panic!("expected a signature check, got {other:?}"),
    };
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::TokenVerified {
            request,
            result: Err("the signature does not verify".into()),
        }),
    );
    assert!(render(&state).contains("NOT verified"));

    // An app with a right FIC and a wrong one: which would the token satisfy, and why not.
    let good = Fic {
        id: Some("1".into()),
        name: "mi-id-payments".into(),
        issuer: ISSUER.into(),
        subject: PRINCIPAL.into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    };
    let wrong = Fic {
        name: "with-slash".into(),
        issuer: format!("{ISSUER}/"),
        ..good.clone()
    };
    if let Some(Screen::Inspector(screen)) = state.stack.last_mut() {
        screen.app = Some(AppChoice {
            object_id: "obj".into(),
            app_id: "app".into(),
            name: "payments-api".into(),
        });
        screen.fics_request = 99;
    }
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::AppFicsLoaded {
            request: 99,
            result: Ok(vec![wrong.clone(), good]),
        }),
    );
    let screen = render(&state);
    assert!(
        screen.contains("would accept this token through FIC 'mi-id-payments'"),
        "{screen}"
    );
    assert!(screen.contains("✗ with-slash"), "{screen}");

    if let Some(Screen::Inspector(screen)) = state.stack.last_mut() {
        screen.fics_request = 100;
    }
    update(
        &mut state,
        Msg::Exchange(ExchangeMsg::AppFicsLoaded {
            request: 100,
            result: Ok(vec![wrong]),
        }),
    );
    let screen = render(&state);
    assert!(screen.contains("no FIC matches this token"), "{screen}");
}

#[test]
fn palette_decode_opens_the_inspector() {
    let mut state = console();
    update(&mut state, Msg::paste(token(mi_claims())));
    // A pasted token opens the palette with `decode …`; Enter runs it.
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(inspector(&state).token.is_ok());
}
