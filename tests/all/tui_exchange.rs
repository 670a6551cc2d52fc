//! The live test exchange screen against the in-process sandbox's demo tenant: the console's
//! real loop pieces (update, the effects runner, the Graph-backed directory) with the screen
//! rendered into a `TestBackend` and snapshotted (GUIDs, ports, opaque values and times
//! redacted).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ficus::cloud::Cloud;
use ficus::entra::{self, Credentials, Renewal, SessionConfig, TokenSet};
use ficus::sandbox::{Faults, SandboxConfig};
use ficus::tui::exchange::{ExchangeCmd, ExchangeMsg, ExchangeScreen, SourceState};
use ficus::tui::keymap::Keymap;
use ficus::tui::msg::{Cmd, Msg, Session};
use ficus::tui::nav::{AppChoice, ExchangeEntry};
use ficus::tui::state::{Screen, State};
use ficus::tui::theme::Themes;
use ficus::tui::{Connected, Connector, GraphDirectory, effects, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

const TENANT: &str = "contoso";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";

struct Console {
    state: State,
    directory: Arc<GraphDirectory>,
    /// The same tenant through the Graph client (for writes the wizard would make).
    graph: entra::GraphClient,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    /// When set, the screen's retries (`RetryAfter`) fall due at this instant instead of after
    /// their backoff, which is recorded in `retries_asked` (seconds).
    retry_at: Option<Instant>,
    retries_asked: Vec<u64>,
}

async fn connect(faults: Faults) -> Result<Connected, String> {
    let sandbox = ficus::sandbox::start(SandboxConfig {
        faults,
        ..SandboxConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let info = sandbox.info.clone();
    let tenant = info
        .tenants
        .iter()
        .find(|t| t.name == TENANT)
        .cloned()
        .ok_or("no contoso")?;
    let cloud = Cloud::custom(&info.authority, &info.graph);
    let mut config = SessionConfig::new(cloud.clone(), tenant.id.clone());
    config.ca_pem = info.ca_pem.clone();
    let scopes: Vec<&str> = config.scopes.iter().map(String::as_str).collect();
    let signed = sandbox
        .sign_in(&tenant.id, ADMIN, &config.client_id, &scopes)
        .map_err(|e| e.to_string())?;
    let tokens = TokenSet {
        access_token: signed.access_token,
        refresh_token: Some(signed.refresh_token),
        id_token: Some(signed.id_token),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + signed.expires_in as i64,
        scope: None,
    };
    let renewal = Renewal::RefreshToken {
        token_endpoint: cloud.token_endpoint(&tenant.id),
        client_id: config.client_id.clone(),
        scopes: config.scopes.clone(),
        cache: None,
    };
    let session = entra::Session::new(config, Credentials::new(tokens, renewal))
        .map_err(|e| e.to_string())?;
    let msi_host = ficus::tui::directory::MsiHost {
        label: "the sandbox's emulated host".into(),
        env: entra::msi::MsiEnv {
            imds_authority: Some(info.imds.clone()),
            ..entra::msi::MsiEnv::default()
        },
    };
    Ok(Connected {
        session,
        info: Session {
            tenant: format!("{} ({})", tenant.name, tenant.domain),
            tenant_id: tenant.id.clone(),
            cloud: "sandbox".into(),
            user: ADMIN.into(),
            read_only: false,
            graph_base: cloud.graph_v1(),
            cloud_endpoints: cloud,
            known_tenants: vec![tenant.name.clone()],
        },
        keep_alive: Box::new(sandbox),
        msi_host: Some(msi_host),
        reconnect: None,
    })
}

impl Console {
    /// A console signed in to a fresh sandbox, with both lists loaded.
    async fn start(faults: Faults) -> Console {
        ficus::install_crypto_provider();
        let connected = connect(faults).await.expect("the sandbox starts");
        Console::start_connected(connected, None).await
    }

    /// The same, with "this machine" an App Service host: the sandbox's App Service endpoint
    /// (loopback), so that no test asks this machine's real endpoints.
    async fn start_on_app_service() -> Console {
        ficus::install_crypto_provider();
        let connected = connect(Faults::default())
            .await
            .expect("the sandbox starts");
        let sandbox = connected
            .keep_alive
            .downcast_ref::<ficus::sandbox::Sandbox>()
            .expect("the sandbox keeps the session alive");
        let machine = entra::msi::MsiEnv {
            identity_endpoint: Some(sandbox.info.app_service.endpoint.clone()),
            identity_header: Some(ficus::secret::Secret::new(
                sandbox.info.app_service.header.clone(),
            )),
            ..entra::msi::MsiEnv::default()
        };
        Console::start_connected(connected, Some(machine)).await
    }

    async fn start_connected(connected: Connected, machine: Option<entra::msi::MsiEnv>) -> Console {
        let graph = connected.session.graph();
        let mut directory =
            GraphDirectory::new(Connector::Session(Box::pin(async move { Ok(connected) })));
        if let Some(machine) = machine {
            directory = directory.with_machine_msi_env(machine);
        }
        let directory = Arc::new(directory);
        let (tx, rx) = unbounded_channel();
        let state = State::new(
            Keymap::default(),
            Themes::built_in(),
            "mono",
            time::OffsetDateTime::now_utc(),
        );
        let mut console = Console {
            state,
            directory,
            graph,
            tx,
            rx,
            retry_at: None,
            retries_asked: Vec::new(),
        };
        console.run(vec![Cmd::StartSignIn]);
        console
            .pump(|s| {
                s.apps.load == ficus::tui::filter::Load::Done
                    && s.identities.load == ficus::tui::filter::Load::Done
            })
            .await;
        console
    }

    fn run(&mut self, cmds: Vec<Cmd>) {
        for cmd in cmds {
            if let (Some(at), Cmd::Exchange(ExchangeCmd::RetryAfter { request, seconds })) =
                (self.retry_at, &cmd)
            {
                self.retries_asked.push(*seconds);
                let (tx, request) = (self.tx.clone(), *request);
                tokio::spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    let _ = tx.send(Msg::Exchange(ExchangeMsg::RetryDue { request }));
                });
                continue;
            }
            if !matches!(cmd, Cmd::Copy(_) | Cmd::Quit) {
                effects::spawn(&self.directory, cmd, &self.tx);
            }
        }
    }

    fn send(&mut self, msg: Msg) {
        let cmds = update(&mut self.state, msg);
        self.run(cmds);
    }

    fn key(&mut self, code: KeyCode) {
        let modifiers = match code {
            KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
            _ => KeyModifiers::NONE,
        };
        self.send(Msg::Key(KeyEvent::new(code, modifiers)));
    }

    /// Feeds answers one at a time until `done` holds (checked after each message).
    async fn pump(&mut self, done: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(&self.state) {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = tokio::time::timeout(left, self.rx.recv())
                .await
                .expect("the console got what it waited for within 30 s")
                .expect("channel open");
            self.send(msg);
        }
    }

    fn app(&self, name: &str) -> AppChoice {
        AppChoice::from(
            self.state
                .apps
                .find(|a| a.name == name)
                .unwrap_or_else(|| panic!("app {name} loaded")),
        )
    }

    fn identity(&self, name: &str) -> ficus::tui::model::IdentityRow {
        self.state
            .identities
            .find(|i| i.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("identity {name} loaded"))
    }

    fn screen(&self) -> &ExchangeScreen {
        match self.state.stack.last() {
            Some(Screen::Exchange(screen)) => screen,
            _ => panic!("the exchange screen is on top"),
        }
    }

    /// Opens the exchange for `app` and `identity` and waits for the verdict.
    async fn exchange(&mut self, app: &str, identity: &str) {
        let entry = ExchangeEntry {
            app: Some(self.app(app)),
            identity: Some(self.identity(identity)),
            run: true,
            ..ExchangeEntry::default()
        };
        self.send(Msg::OpenExchange(Box::new(entry)));
        self.pump(|s| {
            matches!(s.stack.last(), Some(Screen::Exchange(x))
                if x.result().is_some() && x.source != SourceState::Detecting)
        })
        .await;
        // Times in words are measured from the assertion's issue time: stable snapshots.
        let iat = self
            .screen()
            .result()
            .and_then(|r| r.assertion.as_ref())
            .and_then(|a| a.time_claim("iat"));
        if let Some(iat) = iat {
            let now = time::OffsetDateTime::from_unix_timestamp(iat).expect("valid iat");
            self.send(Msg::Tick(now));
        }
    }

    fn render(&self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal
            .draw(|frame| ficus::tui::views::draw(frame, &self.state))
            .expect("draws");
        let buffer = terminal.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..height {
            let mut line = String::new();
            for x in 0..width {
                line.push_str(buffer[(x, y)].symbol());
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        redact(&text, &self.dynamic_values())
    }

    /// Values that change from run to run: key ids, opaque claims, token masks.
    fn dynamic_values(&self) -> Vec<String> {
        let mut values = Vec::new();
        let Some(Screen::Exchange(screen)) = self.state.stack.last() else {
            return values;
        };
        if let Some(result) = screen.result() {
            for jwt in [&result.assertion, &result.app_token].into_iter().flatten() {
                for name in ["kid", "x5t", "nonce"] {
                    if let Some(v) = jwt.header.get(name).and_then(|v| v.as_str()) {
                        values.push(v.to_string());
                        // The screen shortens key ids: `1a2b3c4d…`.
                        values.push(format!("{}…", v.chars().take(8).collect::<String>()));
                    }
                }
                for name in ["aio", "rh", "uti", "jti"] {
                    if let Some(v) = jwt.str_claim(name) {
                        values.push(v.to_string());
                    }
                }
            }
            for raw in [&result.assertion_raw, &result.app_token_raw]
                .into_iter()
                .flatten()
            {
                values.push(ficus::secret::mask(raw.expose()));
            }
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values
    }
}

/// GUIDs, loopback ports, durations, times and the given dynamic values become placeholders.
fn redact(text: &str, dynamic: &[String]) -> String {
    let mut text = text.to_string();
    for value in dynamic.iter().filter(|v| v.len() >= 4) {
        // A value may be cut by the screen's width; its first 12 characters still identify it.
        text = text.replace(value.as_str(), "<dyn>");
        let head: String = value.chars().take(12).collect();
        if head.len() >= 12 {
            text = text.replace(&head, "<dyn>");
        }
    }
    // Loopback ports.
    let mut ported = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        ported.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        ported.push_str(if digits > 0 { "<port>" } else { "" });
        rest = &after[digits..];
    }
    ported.push_str(rest);
    let text = ported;
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let is_hex = |c: char| c.is_ascii_hexdigit();
    while i < chars.len() {
        // GUID: 8-4-4-4-12 hex.
        let guid_shape = [8, 4, 4, 4, 12];
        let mut j = i;
        let mut is_guid = i == 0 || !is_hex(chars[i - 1]);
        for (n, len) in guid_shape.iter().enumerate() {
            if !is_guid {
                break;
            }
            for k in 0..*len {
                if j < chars.len() && is_hex(chars[j]) {
                    j += 1;
                } else {
                    // The last group may be cut where the screen wraps.
                    is_guid = n == 4 && k > 0;
                    break;
                }
            }
            if is_guid && n < 4 {
                if j < chars.len() && chars[j] == '-' {
                    j += 1;
                } else {
                    is_guid = false;
                }
            }
        }
        if is_guid {
            out.push_str("<guid>");
            i = j;
            continue;
        }
        // Numbers: ports after `127.0.0.1:`, then durations and times by their unit.
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == ':') {
                j += 1;
            }
            while j > i + 1 && chars[j - 1] == ':' {
                j -= 1;
            }
            let number: String = chars[i..j].iter().collect();
            let rest: String = chars[j..chars.len().min(j + 6)].iter().collect();
            let timed = [
                " ms", " s ", " s)", " s,", " min", " h", " d ", " d)", " left",
            ]
            .iter()
            .any(|u| rest.starts_with(u))
                || rest == " s"
                || number.contains(':')
                || number.len() == 10;
            if timed {
                if rest.starts_with(" ms") {
                    // Right-aligned durations: the padding depends on the digits.
                    let trimmed = out.trim_end_matches(' ').len();
                    out.truncate(trimmed);
                    out.push(' ');
                }
                out.push('N');
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_for_payments_api() {
    let mut console = Console::start(Faults::default()).await;
    console.exchange("payments-api", "id-payments").await;
    let result = console.screen().result().expect("a result");
    assert!(result.succeeded(), "{:?}", result.failure);
    assert_eq!(
        result
            .comparison
            .as_ref()
            .and_then(|c| c.matched_fic(&result.fics))
            .map(|f| f.name.as_str()),
        Some("mi-id-payments")
    );
    assert!(
        matches!(
            result.assertion_signature,
            ficus::tui::exchange::Signature::Verified(_)
        ),
        "{:?}",
        result.assertion_signature
    );
    // The app token is a Graph token: it carries a nonce and is not meant to be verified by
    // anyone but Graph (issue 18, 6): its own state, neither verified nor forged.
    assert!(
        matches!(
            &result.app_token_signature,
            ficus::tui::exchange::Signature::NotForYou(why)
                if why.contains("Graph tokens are not meant to be verified by you")
        ),
        "{:?}",
        result.app_token_signature
    );
    let screen = console.render(120, 40);
    assert!(screen.contains("✓ WORKS"), "{screen}");
    assert!(screen.contains("verified with the issuer's published key"));
    assert!(!screen.contains("✗ verify signatures"), "{screen}");
    assert!(screen.contains("✓ verify signatures"), "{screen}");
    assert!(screen.contains("not for you: Graph tokens"), "{screen}");
    // Entra's keys are global: the screen says which tenant issued the assertion.
    assert!(screen.contains("issued by tenant"), "{screen}");
    let session_tenant = console
        .state
        .session
        .as_ref()
        .map(|s| s.tenant_id.clone())
        .expect("a session");
    assert_eq!(
        result
            .assertion
            .as_ref()
            .and_then(|a| a.str_claim("iss"))
            .and_then(ficus::jwt::issuer_tenant),
        Some(session_tenant.as_str())
    );
    // Masked by default: the token's middle is never on screen.
    let raw = result.app_token_raw.as_ref().expect("raw").expose().clone();
    let unmasked = console.render(120, 40);
    assert!(!unmasked.contains(&raw[10..40]));
    insta::assert_snapshot!("exchange_success_120x40", screen);
    insta::assert_snapshot!("exchange_success_80x24", console.render(80, 24));
    // 1 Hz tick only while the countdown is visible.
    assert!(console.state.needs_tick());
    console.key(KeyCode::Esc);
    assert!(!console.state.needs_tick());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_fills_step_by_step() {
    let mut console = Console::start(Faults::default()).await;
    let entry = ExchangeEntry {
        app: Some(console.app("payments-api")),
        identity: Some(console.identity("id-payments")),
        ..ExchangeEntry::default()
    };
    console.send(Msg::OpenExchange(Box::new(entry)));
    console
        .pump(|s| matches!(s.stack.last(), Some(Screen::Exchange(x)) if x.source != SourceState::Detecting))
        .await;
    console.key(KeyCode::Char('x'));
    // Before any answer: every step waits, the first one runs.
    let before = console.render(100, 30);
    assert!(before.contains("… managed identity token"), "{before}");
    console
        .pump(|s| {
            matches!(s.stack.last(), Some(Screen::Exchange(x))
                if x.run.as_ref().is_some_and(|r| r.steps.len() == 1))
        })
        .await;
    let screen = console.render(100, 30);
    assert!(screen.contains("✓ managed identity token"), "{screen}");
    assert!(screen.contains("… exchanging"), "{screen}");
    insta::assert_snapshot!("exchange_in_progress", screen);
}

async fn failure(app: &str, identity: &str) -> (String, Console) {
    let mut console = Console::start(Faults::default()).await;
    console.exchange(app, identity).await;
    assert!(
        !console.screen().result().expect("result").succeeded(),
        "{app} must fail"
    );
    let screen = console.render(120, 40);
    (screen, console)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_sync_subject_is_the_client_id() {
    let (screen, console) = failure("inventory-sync", "id-inventory").await;
    let result = console.screen().result().expect("result");
    assert_eq!(result.refusal.as_ref().and_then(|r| r.code), Some(700213));
    assert!(screen.contains("At fault    ✗ the subject"), "{screen}");
    let (field, value) = result.correction().expect("a correction");
    assert_eq!(field, ficus::fic::Field::Subject);
    assert_eq!(value, console.identity("id-inventory").principal_id);
    assert!(screen.contains("F opens FIC 'mi-id-inventory' in the wizard"));
    insta::assert_snapshot!("exchange_failure_inventory_sync", screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_portal_issuer_trailing_slash() {
    let (screen, console) = failure("reporting-portal", "id-reporting").await;
    let (field, _) = console
        .screen()
        .result()
        .and_then(|r| r.correction())
        .expect("a correction");
    assert_eq!(field, ficus::fic::Field::Issuer);
    assert!(screen.contains("issuer"), "{screen}");
    insta::assert_snapshot!("exchange_failure_reporting_portal", screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gov_exporter_wrong_cloud_audience() {
    let (screen, console) = failure("gov-exporter", "id-payments").await;
    let (field, value) = console
        .screen()
        .result()
        .and_then(|r| r.correction())
        .expect("a correction");
    assert_eq!(field, ficus::fic::Field::Audiences);
    assert_eq!(value, "api://AzureADTokenExchange");
    insta::assert_snapshot!("exchange_failure_gov_exporter", screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_not_attached_to_the_host() {
    let (screen, console) = failure("payments-api", "id-orphan").await;
    let result = console.screen().result().expect("result");
    assert!(result.refusal.is_none());
    assert!(result.failure.is_some());
    assert!(
        screen.contains("Is id-orphan attached to this host?"),
        "{screen}"
    );
    insta::assert_snapshot!("exchange_failure_id_orphan", screen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_key_sends_the_corrected_value_to_the_wizard() {
    let (_, mut console) = failure("inventory-sync", "id-inventory").await;
    console.key(KeyCode::Char('F'));
    let toast = console.state.toast.clone().expect("a toast");
    assert!(toast.text.contains("mi-id-inventory"), "{}", toast.text);
    assert!(
        toast
            .text
            .contains(&console.identity("id-inventory").principal_id)
    );
}

/// Issue 11: payments-api trusts id-payments, not id-inventory. `F` must not "correct" the
/// working FIC `mi-id-payments` to id-inventory's principal id: it offers adding a FIC for
/// id-inventory (the wizard, pre-filled) and testing with id-payments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_key_on_another_workloads_token_adds_a_fic_instead_of_breaking_the_trust() {
    let (screen, mut console) = failure("payments-api", "id-inventory").await;
    let inventory = console.identity("id-inventory");
    let remedies = match console.state.stack.last() {
        Some(Screen::Exchange(x)) => x.run.as_ref().expect("a run").remedies.clone(),
        _ => panic!("the exchange screen"),
    };
    assert!(
        matches!(remedies.first(), Some(ficus::fic::Remedy::AddFic { draft, identity: Some(i) })
            if i.name == "id-inventory" && draft.subject == inventory.principal_id),
        "{remedies:?}"
    );
    assert!(
        remedies.iter().any(|r| matches!(r, ficus::fic::Remedy::UseTrustedIdentity { identity: Some(i), .. } if i.name == "id-payments")),
        "{remedies:?}"
    );
    assert!(
        !remedies
            .iter()
            .any(|r| matches!(r, ficus::fic::Remedy::EditField { .. })),
        "{remedies:?}"
    );
    assert!(
        screen.contains("F opens the wizard to add a FIC for id-inventory"),
        "{screen}"
    );
    assert!(screen.contains("test with id-payments"), "{screen}");
    assert!(!screen.contains("opens FIC 'mi-id-payments'"), "{screen}");
    console.key(KeyCode::Char('F'));
    match console.state.stack.last() {
        Some(Screen::Wizard(wizard)) => {
            assert!(
                !wizard.is_edit(),
                "a new FIC, not an edit of mi-id-payments"
            );
            assert_eq!(
                wizard.identity.as_ref().map(|i| i.name.as_str()),
                Some("id-inventory")
            );
            assert_eq!(
                wizard.prefill.as_ref().map(|d| d.subject.as_str()),
                Some(inventory.principal_id.as_str())
            );
        }
        _ => panic!(
            "the wizard, got {:?}",
            console.state.stack.last().map(|_| "another screen")
        ),
    }
    let toast = console
        .state
        .toast
        .clone()
        .map(|t| t.text)
        .unwrap_or_default();
    assert!(!toast.contains("mi-id-payments' in the wizard"), "{toast}");
}

/// Right after the wizard creates a FIC, Entra's token service may not see it yet: the sandbox
/// with `replication=3` answers AADSTS70021 for 3 s. The screen says so and retries by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_delay_after_creating_a_fic_is_retried_until_it_works() {
    let faults = Faults::parse("replication=3").expect("faults");
    let mut console = Console::start(faults).await;
    let app = console.app("billing-worker");
    let identity = console.identity("id-payments");
    let tenant_id = console
        .state
        .session
        .as_ref()
        .expect("session")
        .tenant_id
        .clone();
    let cloud = console
        .state
        .session
        .as_ref()
        .expect("session")
        .cloud_endpoints
        .clone();
    let fic = ficus::fic::Fic {
        id: None,
        name: "mi-id-payments".into(),
        issuer: cloud.issuer(&tenant_id),
        subject: identity.principal_id.clone(),
        audiences: vec![cloud.exchange_audience.clone()],
        description: None,
    };
    // The wizard's write, through the same Graph the console uses.
    let created = tokio::time::timeout(
        Duration::from_secs(20),
        console.graph.create_fic(&app.object_id, &fic),
    )
    .await
    .expect("created in time");
    assert!(created.is_ok(), "{created:?}");
    // The FIC is at most this old: three seconds on, `replication=3` has surely passed (the
    // sandbox counts whole seconds). The retry falls due then rather than after its 5 s.
    console.retry_at = Some(Instant::now() + Duration::from_secs(3));

    let entry = ExchangeEntry {
        app: Some(app),
        identity: Some(identity),
        just_created: true,
        run: true,
        ..ExchangeEntry::default()
    };
    console.send(Msg::OpenExchange(Box::new(entry)));
    console
        .pump(|s| {
            matches!(s.stack.last(), Some(Screen::Exchange(x))
                if x.run.as_ref().is_some_and(|r| r.retry.is_some()))
        })
        .await;
    let result = console.screen().result().expect("first verdict");
    assert_eq!(result.refusal.as_ref().and_then(|r| r.code), Some(70021));
    let screen = console.render(120, 40);
    assert!(screen.contains("Replication delay"), "{screen}");
    assert!(screen.contains("Retrying by itself in"), "{screen}");
    // The retry fires after its backoff and works.
    console
        .pump(|s| {
            matches!(s.stack.last(), Some(Screen::Exchange(x))
                if x.result().is_some_and(|r| r.succeeded()))
        })
        .await;
    assert_eq!(console.screen().run.as_ref().map(|r| r.attempt), Some(2));
    // The screen asked for its first backoff: 5 s.
    assert_eq!(console.retries_asked, [5]);
}

/// After a success, `u` opens "Use it in your workload" with what worked: the app, the
/// identity (by client id), the tenant and the scope of the exchange. After a failure it
/// does not: the code would fail the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn u_after_a_success_opens_the_workload_code_with_the_exchange_s_values() {
    let mut console = Console::start(Faults::default()).await;
    console.exchange("inventory-sync", "id-inventory").await;
    console.key(KeyCode::Char('u'));
    assert!(
        matches!(console.state.stack.last(), Some(Screen::Exchange(_))),
        "a failed exchange offers no code"
    );
    console.key(KeyCode::Esc);

    console.exchange("payments-api", "id-payments").await;
    let scope = console.screen().scope.clone();
    let app_id = console.app("payments-api").app_id;
    let identity = console.identity("id-payments");
    console.key(KeyCode::Char('u'));
    let Some(Screen::Workload(view)) = console.state.stack.last() else {
        panic!("the workload view opened");
    };
    assert_eq!(view.values.app_client_id, app_id);
    assert_eq!(view.values.identity_client_id, identity.client_id);
    assert_eq!(view.values.identity_principal_id, identity.principal_id);
    assert_eq!(view.values.scope, scope);
    assert_eq!(
        view.values.resource_tenant,
        ficus::sandbox::seed::tenant_id(ficus::sandbox::seed::CONTOSO).to_string()
    );
}

/// `s` on the exchange screen switches where the assertion comes from, and the screen says
/// which and why: the sandbox's emulated host (IMDS), this machine (here an App Service host
/// on the sandbox's loopback endpoint), a pasted token. Each host source really runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s_switches_the_token_source_and_each_one_runs() {
    let mut console = Console::start_on_app_service().await;
    console.exchange("payments-api", "id-payments").await;
    let first = console.screen().result().expect("a result");
    assert!(first.succeeded(), "{:?}", first.failure);
    // The sandbox's emulated host is an IMDS on loopback.
    assert!(
        first.source.starts_with("IMDS (http://127.0.0.1:"),
        "{}",
        first.source
    );

    // s: this machine's own endpoint, detected afresh; the old verdict is cleared.
    console.key(KeyCode::Char('s'));
    assert!(console.screen().result().is_none());
    console
        .pump(|s| matches!(s.stack.last(), Some(Screen::Exchange(x)) if x.source != SourceState::Detecting))
        .await;
    let label = match &console.screen().source {
        SourceState::Found(info) => info.label.clone(),
        other => panic!("this machine's App Service endpoint is found: {other:?}"),
    };
    assert!(label.starts_with("App Service"), "{label}");
    assert!(!label.contains("sandbox's emulated host"), "{label}");
    let form = console.render(120, 40);
    assert!(form.contains("Token source    App Service"), "{form}");
    assert!(form.contains("chosen: this machine's own"), "{form}");
    insta::assert_snapshot!("exchange_source_this_machine_120x40", form);
    insta::assert_snapshot!("exchange_source_this_machine_80x24", console.render(80, 24));
    console.key(KeyCode::Char('x'));
    console
        .pump(|s| matches!(s.stack.last(), Some(Screen::Exchange(x)) if x.result().is_some()))
        .await;
    let second = console.screen().result().expect("a result");
    assert!(
        second.succeeded(),
        "{:?} {:?}",
        second.failure,
        second.refusal
    );
    assert!(
        second.source.starts_with("App Service"),
        "{}",
        second.source
    );

    // s: a pasted token or file. None yet: x asks for one and sends nothing.
    console.key(KeyCode::Char('s'));
    assert_eq!(
        console.screen().source_choice,
        ficus::tui::exchange::SourceChoice::PasteOrFile
    );
    console.key(KeyCode::Char('x'));
    assert!(console.screen().run.is_none());
    let form = console.render(120, 40);
    assert!(form.contains("a pasted token or file: none yet"), "{form}");
    assert!(form.contains("s: the sandbox's host"), "{form}");

    // s: back to the sandbox's emulated host.
    console.key(KeyCode::Char('s'));
    console
        .pump(|s| matches!(s.stack.last(), Some(Screen::Exchange(x)) if x.source != SourceState::Detecting))
        .await;
    assert!(
        matches!(&console.screen().source, SourceState::Found(info) if info.label.starts_with("the sandbox's emulated host")),
        "{:?}",
        console.screen().source
    );
}
