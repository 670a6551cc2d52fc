//! The Health tab (#14) while the audit fills it: drawing one 120×40 frame with 50 000+
//! findings loaded and more pages to come (the goal: ≤ 5 ms a frame), and one page of findings
//! arriving (counted and sorted into place once, never per frame).
//!
//! `cargo bench --bench tui_health`

use std::hint::black_box;

use divan::Bencher;
use ficus::audit::{AppSnapshot, Auditor, Credential, CredentialType};
use ficus::cloud::Cloud;
use ficus::fic::{AppRecord, Fic, Identity, IdentityKind};
use ficus::tui::keymap::Keymap;
use ficus::tui::msg::{Msg, Session};
use ficus::tui::screens::health::{FindingRow, HealthCmd, HealthMsg};
use ficus::tui::theme::Themes;
use ficus::tui::{Cmd, State, update, views};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::{Duration, OffsetDateTime};

const APPS: usize = 100_000;
const PAGE: usize = 999;
const TENANT: &str = "00000000-0000-0000-0000-000000000001";

fn identities() -> Vec<Identity> {
    (0..50)
        .map(|i| Identity {
            name: format!("id-{i}"),
            kind: IdentityKind::UserAssigned,
            client_id: format!("{i:08x}-aaaa-4aaa-8aaa-aaaaaaaaaaaa"),
            principal_id: format!("{i:08x}-bbbb-4bbb-8bbb-bbbbbbbbbbbb"),
            arm_id: None,
            subscription: None,
            resource_group: None,
            tenant_id: Some(TENANT.into()),
        })
        .collect()
}

/// Every fourth app trusts an identity by its client id, every third holds a secret that
/// expired or expires within 90 days: about 60 000 findings.
fn pages(now: OffsetDateTime) -> Vec<Vec<FindingRow>> {
    let cloud = Cloud::global();
    let identities = identities();
    let mut auditor = Auditor::new(&cloud, TENANT, &identities, now);
    let apps: Vec<AppSnapshot> = (0..APPS)
        .map(|i| {
            let identity = &identities[i % identities.len()];
            let subject = if i % 4 == 0 {
                identity.client_id.clone()
            } else {
                identity.principal_id.clone()
            };
            AppSnapshot {
                app: AppRecord {
                    object_id: format!("{i:08x}-0000-4000-8000-000000000000"),
                    app_id: format!("{i:08x}-1111-4000-8000-000000000000"),
                    display_name: format!("app-{i}"),
                    unique_name: None,
                },
                fics: vec![Fic {
                    id: Some(format!("fic-{i}")),
                    name: format!("mi-{}", identity.name),
                    issuer: cloud.issuer(TENANT),
                    subject,
                    audiences: vec![cloud.exchange_audience.clone()],
                    description: None,
                }],
                credentials: if i % 3 == 0 {
                    vec![Credential {
                        credential_type: CredentialType::Secret,
                        key_id: format!("key-{i}"),
                        display_name: Some("ci".into()),
                        end: Some(now + Duration::days((i % 120) as i64 - 30)),
                    }]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    apps.chunks(PAGE)
        .map(|page| {
            page.iter()
                .flat_map(|app| ficus::tui::effects::health::rows_of(app, auditor.app(app)))
                .collect()
        })
        .collect()
}

/// The Health tab open and all but the last page delivered: still filling.
fn filling(now: OffsetDateTime, pages: &[Vec<FindingRow>]) -> (State, u64) {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", now);
    state.session = Some(Session {
        tenant: "contoso (contoso.onmicrosoft.com)".into(),
        tenant_id: TENANT.into(),
        cloud: "global".into(),
        user: "admin@contoso.onmicrosoft.com".into(),
        read_only: false,
        graph_base: "https://graph.microsoft.com/v1.0".into(),
        cloud_endpoints: Cloud::global(),
        known_tenants: Vec::new(),
    });
    let commands = update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE)),
    );
    let Some(Cmd::Health(HealthCmd::Audit { request })) = commands.into_iter().next() else {
        panic!("3 opens the Health tab");
    };
    for rows in &pages[..pages.len() - 1] {
        update(&mut state, page(request, rows.clone()));
    }
    (state, request)
}

fn page(request: u64, rows: Vec<FindingRow>) -> Msg {
    Msg::Health(HealthMsg::Page {
        request,
        rows,
        apps: PAGE,
        identities: 50,
        done: false,
    })
}

fn main() {
    divan::main();
}

/// One frame of the Health tab with 50 000+ findings loaded, as the terminal loop draws it.
#[divan::bench(sample_count = 30)]
fn frame_while_filling(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let pages = pages(now);
    let (mut state, _) = filling(now, &pages);
    state.size = (120, 40);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let findings = match state.stack.first() {
        Some(ficus::tui::state::Screen::Health(screen)) => screen.findings.len(),
        _ => 0,
    };
    assert!(findings > 50_000, "{findings} findings");
    bencher.bench_local(|| {
        terminal
            .draw(|frame| views::draw(frame, &state))
            .expect("draws");
        black_box(terminal.backend().buffer().area.width)
    });
}

/// The last page arriving: its findings counted and sorted into the 50 000 already there.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn one_page_arrives(bencher: Bencher) {
    let now = OffsetDateTime::now_utc();
    let pages = pages(now);
    let last = pages.last().cloned().unwrap_or_default();
    bencher
        .with_inputs(|| filling(now, &pages))
        // By reference: dropping 60 000 findings is not what is measured.
        .bench_local_refs(|(state, request)| {
            black_box(update(state, page(*request, last.clone())));
        });
}
