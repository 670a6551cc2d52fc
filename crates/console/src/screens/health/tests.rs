//! The Health tab through the root `update`: opening, pages streaming in, counts, sorting,
//! the filter, Enter, `f` and the re-audit after a fix. The findings are core's, computed from
//! a small tenant with the audit's own `Auditor`.

use ficus_core::audit::{AppSnapshot, Auditor, Credential, CredentialType};
use ficus_core::cloud::Cloud;
use ficus_core::fic::{AppRecord, Fic, Identity, IdentityKind};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::macros::datetime;

use super::*;
use crate::effects::health::rows_of;
use crate::keymap::Keymap;
use crate::msg::{Msg, Session};
use crate::state::{Screen, State};
use crate::theme::Themes;
use crate::update::update;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const TENANT: &str = "11111111-1111-1111-1111-111111111111";

fn identity(name: &str, n: u8) -> Identity {
    Identity {
        name: name.into(),
        kind: IdentityKind::UserAssigned,
        client_id: format!("{n}{n}{n}{n}{n}{n}{n}{n}-aaaa-4aaa-8aaa-aaaaaaaaaaaa"),
        principal_id: format!("{n}{n}{n}{n}{n}{n}{n}{n}-bbbb-4bbb-8bbb-bbbbbbbbbbbb"),
        arm_id: None,
        subscription: None,
        resource_group: None,
        tenant_id: Some(TENANT.into()),
    }
}

fn identities() -> Vec<Identity> {
    vec![identity("id-inventory", 2), identity("id-orphan", 3)]
}

fn app(name: &str, fics: Vec<Fic>, credentials: Vec<Credential>) -> AppSnapshot {
    AppSnapshot {
        app: AppRecord {
            object_id: format!("obj-{name}"),
            app_id: format!("app-{name}"),
            display_name: name.into(),
            unique_name: None,
        },
        fics,
        credentials,
    }
}

fn fic(name: &str, subject: &str) -> Fic {
    let cloud = Cloud::global();
    Fic {
        id: Some(format!("fic-{name}")),
        name: name.into(),
        issuer: cloud.issuer(TENANT),
        subject: subject.into(),
        audiences: vec![cloud.exchange_audience.clone()],
        description: None,
    }
}

/// inventory-sync: a correct FIC first, then one naming id-inventory's client id;
/// billing-worker: a secret that expired 35 days ago.
fn tenant() -> Vec<AppSnapshot> {
    let inventory = identity("id-inventory", 2);
    vec![
        app(
            "inventory-sync",
            vec![
                fic("mi-ok", &inventory.principal_id),
                fic("mi-id-inventory", &inventory.client_id),
            ],
            Vec::new(),
        ),
        app(
            "billing-worker",
            Vec::new(),
            vec![Credential {
                credential_type: CredentialType::Secret,
                key_id: "key-1".into(),
                display_name: Some("old".into()),
                end: Some(NOW - time::Duration::days(35)),
            }],
        ),
    ]
}

fn session(read_only: bool) -> Session {
    Session {
        tenant: "contoso".into(),
        tenant_id: TENANT.into(),
        cloud: "global".into(),
        user: "admin@contoso.onmicrosoft.com".into(),
        read_only,
        graph_base: "https://graph.microsoft.com/v1.0".into(),
        cloud_endpoints: Cloud::global(),
        known_tenants: Vec::new(),
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(state: &mut State, text: &str) -> Vec<Cmd> {
    text.chars()
        .flat_map(|c| update(state, key(KeyCode::Char(c))))
        .collect()
}

fn health(state: &State) -> &HealthScreen {
    match state.stack.first() {
        Some(Screen::Health(screen)) => screen,
        _ => panic!("the Health tab is not open"),
    }
}

/// A console with the Health tab open and the tenant's pages delivered, one app a page.
fn audited(read_only: bool) -> State {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.session = Some(session(read_only));
    let commands = update(&mut state, key(KeyCode::Char('3')));
    let [Cmd::Health(HealthCmd::Audit { request })] = commands.as_slice() else {
        panic!("3 opens Health and audits: {commands:?}");
    };
    let request = *request;
    assert_eq!(health(&state).findings.load, Load::Loading { pages: 0 });
    let cloud = Cloud::global();
    let identities = identities();
    let mut auditor = Auditor::new(&cloud, TENANT, &identities, NOW);
    for snapshot in tenant() {
        let rows = rows_of(&snapshot, auditor.app(&snapshot));
        update(
            &mut state,
            Msg::Health(HealthMsg::Page {
                request,
                rows,
                apps: 1,
                identities: identities.len(),
                done: false,
            }),
        );
    }
    let rows = auditor
        .finish()
        .into_iter()
        .map(|f| FindingRow::new(f, None))
        .collect();
    update(
        &mut state,
        Msg::Health(HealthMsg::Page {
            request,
            rows,
            apps: 0,
            identities: identities.len(),
            done: true,
        }),
    );
    state
}

fn kinds(state: &State) -> Vec<Kind> {
    health(state)
        .findings
        .visible_rows(0, usize::MAX)
        .map(|r| r.finding.kind)
        .collect()
}

#[test]
fn findings_stream_in_counted_by_kind_worst_first() {
    let state = audited(false);
    let screen = health(&state);
    assert_eq!(screen.findings.load, Load::Done);
    assert_eq!(screen.apps_scanned, 2);
    assert_eq!(screen.identities, 2);
    let counts = screen.counts();
    assert_eq!(counts[0], (Kind::ClientIdAsSubject, Severity::Error, 1));
    assert!(counts.contains(&(Kind::SecretExpired, Severity::Error, 1)));
    assert!(counts.contains(&(Kind::UntrustedIdentity, Severity::Info, 1)));
    assert!(counts.contains(&(Kind::IdentityTrustedTwice, Severity::Warning, 1)));
    let (errors, _, infos) = screen.totals();
    assert_eq!((errors, infos), (2, 1));
    // Worst first: the errors on top, the untrusted identity last.
    let kinds = kinds(&state);
    assert_eq!(kinds.first(), Some(&Kind::ClientIdAsSubject));
    assert_eq!(kinds.last(), Some(&Kind::UntrustedIdentity));
    // The header's tab counts them.
    let top = screen.findings.selected().expect("a finding selected");
    assert_eq!(top.finding.object_name(), "inventory-sync");
    assert_eq!(top.fic_index, Some(1), "the second FIC of the app");
}

#[test]
fn tab_goes_apps_identities_health_and_back() {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.session = Some(session(false));
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.lists.list, crate::nav::ListKind::Identities);
    let commands = update(&mut state, key(KeyCode::Tab));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::Health(HealthCmd::Audit { .. })]
    ));
    assert!(matches!(state.stack.as_slice(), [Screen::Health(_)]));
    update(&mut state, key(KeyCode::Tab));
    assert!(state.stack.is_empty());
    assert_eq!(state.lists.list, crate::nav::ListKind::Apps);
}

#[test]
fn sorting_by_age_and_app_then_back_to_severity() {
    let mut state = audited(false);
    typed(&mut state, "o2");
    // Only the expired secret has a date: oldest first, undated after it.
    assert_eq!(kinds(&state)[0], Kind::SecretExpired);
    typed(&mut state, "o3");
    let names: Vec<String> = health(&state)
        .findings
        .visible_rows(0, usize::MAX)
        .map(|r| r.finding.object_name().to_string())
        .collect();
    // inventory-sync twice: its client-id subject, and id-inventory trusted by two FICs.
    assert_eq!(
        names,
        [
            "billing-worker",
            "id-orphan",
            "inventory-sync",
            "inventory-sync"
        ]
    );
    typed(&mut state, "S");
    assert_eq!(health(&state).findings.sort(), Some((2, true)));
    typed(&mut state, "o1");
    assert_eq!(kinds(&state)[0], Kind::ClientIdAsSubject);
}

#[test]
fn the_list_filter_syntax_narrows_the_findings() {
    let mut state = audited(false);
    typed(&mut state, "/expired");
    assert_eq!(kinds(&state), [Kind::SecretExpired]);
    update(&mut state, key(KeyCode::Esc));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(kinds(&state).len(), 4, "Esc twice clears the filter");
    typed(&mut state, "/severity:info");
    assert_eq!(kinds(&state), [Kind::UntrustedIdentity]);
    update(&mut state, key(KeyCode::Esc));
    typed(&mut state, "/sev:warning");
    assert_eq!(kinds(&state), [Kind::IdentityTrustedTwice]);
    update(&mut state, key(KeyCode::Esc));
    typed(&mut state, "/orphan");
    assert_eq!(kinds(&state), [Kind::UntrustedIdentity]);
    update(&mut state, key(KeyCode::Esc));
    typed(&mut state, "/fic:0");
    assert!(
        health(&state).findings.query().problems[0].contains("does not apply to findings"),
        "{:?}",
        health(&state).findings.query().problems
    );
}

#[test]
fn enter_opens_the_app_at_the_fic_and_the_identity() {
    let mut state = audited(false);
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::LoadAppDetail { object_id, .. }] if object_id == "obj-inventory-sync"
    ));
    match state.stack.last() {
        Some(Screen::AppDetail(screen)) => assert_eq!(screen.fic_cursor, 1),
        _ => panic!("App detail expected on top"),
    }
    update(&mut state, key(KeyCode::Esc));
    typed(&mut state, "G");
    let commands = update(&mut state, key(KeyCode::Enter));
    assert!(matches!(
        commands.as_slice(),
        [Cmd::LoadIdentityDetail { identity, .. }] if identity.name == "id-orphan"
    ));
}

#[test]
fn f_opens_the_fix_and_the_finding_disappears_after_the_app_is_audited_again() {
    let mut state = audited(false);
    update(&mut state, key(KeyCode::Char('f')));
    let Some(Screen::Wizard(_)) = state.stack.last() else {
        panic!("f opens the wizard");
    };
    assert_eq!(health(&state).fixing.as_deref(), Some("obj-inventory-sync"));
    // The wizard saved and closed (`Nav::PopAndReload`): the app is audited again.
    state.stack.pop();
    let request = state.new_request();
    let Some(Screen::Health(screen)) = state.stack.last_mut() else {
        panic!("Health under the wizard");
    };
    let cmd = screen.after_fix(request);
    assert_eq!(
        cmd,
        Some(Cmd::Health(HealthCmd::AuditApp {
            request,
            object_id: "obj-inventory-sync".into()
        }))
    );
    // Its FIC now names the principal id: no finding left for the app.
    update(
        &mut state,
        Msg::Health(HealthMsg::AppAudited {
            request,
            object_id: "obj-inventory-sync".into(),
            result: Ok(Vec::new()),
        }),
    );
    assert_eq!(
        kinds(&state),
        [Kind::SecretExpired, Kind::UntrustedIdentity]
    );
    assert!(!health(&state).counts.contains_key(&Kind::ClientIdAsSubject));
    let toast = state.toast.as_ref().expect("a toast");
    assert!(toast.text.contains("nothing left to fix"), "{}", toast.text);
}

#[test]
fn f_says_why_when_there_is_no_fix_or_the_session_is_read_only() {
    let mut state = audited(true);
    update(&mut state, key(KeyCode::Char('f')));
    assert!(matches!(state.stack.as_slice(), [Screen::Health(_)]));
    let toast = state.toast.as_ref().expect("a refusal");
    assert!(toast.text.contains("read-only"), "{}", toast.text);

    let mut state = audited(false);
    typed(&mut state, "G");
    update(&mut state, key(KeyCode::Char('f')));
    assert!(matches!(state.stack.as_slice(), [Screen::Health(_)]));
    let toast = state.toast.as_ref().expect("a refusal");
    assert!(toast.text.contains("no one-key fix"), "{}", toast.text);
}

#[test]
fn answers_of_an_older_audit_are_dropped() {
    let mut state = audited(false);
    let before = health(&state).findings.len();
    let stale = health(&state).request - 1;
    let row = health(&state).findings.items()[0].clone();
    update(
        &mut state,
        Msg::Health(HealthMsg::Page {
            request: stale,
            rows: vec![row],
            apps: 1,
            identities: 2,
            done: true,
        }),
    );
    assert_eq!(health(&state).findings.len(), before);
}

#[test]
fn a_save_in_the_wizard_audits_that_app_again_wherever_it_was_opened() {
    let mut state = audited(false);
    update(&mut state, key(KeyCode::Char('f')));
    let saving = 4242;
    let fic = match state.stack.last_mut() {
        Some(Screen::Wizard(wizard)) => {
            wizard.step = crate::screens::wizard::Step::Saving { request: saving };
            health_fic()
        }
        _ => panic!("f opens the wizard"),
    };
    // An answer to another save is not this one.
    let commands = update(
        &mut state,
        Msg::Wizard(crate::screens::wizard::WizardMsg::Saved {
            request: saving + 1,
            result: Ok(fic.clone()),
        }),
    );
    assert!(!commands.iter().any(|c| matches!(c, Cmd::Health(_))));
    let commands = update(
        &mut state,
        Msg::Wizard(crate::screens::wizard::WizardMsg::Saved {
            request: saving,
            result: Ok(fic),
        }),
    );
    assert!(
        commands.iter().any(|c| matches!(
            c,
            Cmd::Health(HealthCmd::AuditApp { object_id, .. }) if object_id == "obj-inventory-sync"
        )),
        "{commands:?}"
    );
    assert_eq!(health(&state).fixing, None, "audited at the save already");
}

fn health_fic() -> Fic {
    fic("mi-id-inventory", &identity("id-inventory", 2).principal_id)
}

/// Leaving the tab keeps its findings: coming back shows them (with their age) without a
/// second audit, which on a large tenant would take seconds and wait for Graph's quota.
#[test]
fn leaving_and_coming_back_keeps_the_findings_and_r_audits_again() {
    let mut state = audited(false);
    let findings = health(&state).findings.len();
    assert!(findings > 0);
    typed(&mut state, "j");
    let cursor = health(&state).findings.cursor();
    assert_eq!(health(&state).audited_at, Some(NOW));
    // To the apps and back, by number and by Tab.
    assert!(typed(&mut state, "1").is_empty());
    assert!(state.stack.is_empty(), "the Apps list is shown");
    state.now = NOW + time::Duration::minutes(5);
    let commands = typed(&mut state, "3");
    assert!(commands.is_empty(), "no second audit: {commands:?}");
    assert_eq!(health(&state).findings.len(), findings);
    assert_eq!(health(&state).findings.cursor(), cursor, "the cursor stays");
    update(&mut state, key(KeyCode::Tab));
    update(&mut state, key(KeyCode::Tab));
    let commands = update(&mut state, key(KeyCode::Tab));
    assert!(commands.is_empty(), "no second audit: {commands:?}");
    assert_eq!(health(&state).findings.len(), findings);
    // Its age is on screen, with the key that renews it.
    let screen = render(&state);
    assert!(
        screen.contains("audited 5 minutes ago (r audits again)"),
        "{screen}"
    );
    // r audits again.
    let commands = typed(&mut state, "r");
    assert!(
        matches!(commands.as_slice(), [Cmd::Health(HealthCmd::Audit { .. })]),
        "{commands:?}"
    );
    assert_eq!(health(&state).audited_at, None);
}

/// An audit still streaming when the tab is left goes on filling it.
#[test]
fn pages_that_arrive_while_another_tab_is_shown_fill_the_kept_tab() {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state.session = Some(session(false));
    let commands = typed(&mut state, "3");
    let [Cmd::Health(HealthCmd::Audit { request })] = commands.as_slice() else {
        panic!("3 audits: {commands:?}");
    };
    let request = *request;
    typed(&mut state, "2");
    let cloud = Cloud::global();
    let identities = identities();
    let mut auditor = Auditor::new(&cloud, TENANT, &identities, NOW);
    let snapshot = &tenant()[0];
    let rows = rows_of(snapshot, auditor.app(snapshot));
    let sent = rows.len();
    update(
        &mut state,
        Msg::Health(HealthMsg::Page {
            request,
            rows,
            apps: 1,
            identities: 2,
            done: true,
        }),
    );
    assert!(
        state.stack.is_empty(),
        "the Identities list stays on screen"
    );
    assert!(state.toast.is_none());
    assert!(typed(&mut state, "3").is_empty());
    assert_eq!(health(&state).findings.len(), sent);
    assert_eq!(health(&state).findings.load, Load::Done);
}

/// Another tenant's findings are not kept across a tenant switch.
#[test]
fn a_tenant_switch_forgets_the_kept_findings() {
    let mut state = audited(false);
    typed(&mut state, "1");
    assert!(state.parked_health.is_some());
    typed(&mut state, ":");
    typed(&mut state, "tenant fabrikam");
    update(&mut state, key(KeyCode::Enter));
    assert!(state.parked_health.is_none());
}

/// `F` goes from a finding to the failing workloads, the cursor on the finding's app once the
/// sign-ins arrive; Esc comes back to the finding.
#[test]
fn f_opens_the_failing_workloads_at_the_findings_app() {
    use crate::evidence::{FailingReport, FailingRow};
    let mut state = audited(false);
    let selected = health(&state)
        .findings
        .selected()
        .and_then(|r| r.app_object_id().map(str::to_string));
    assert_eq!(selected.as_deref(), Some("obj-inventory-sync"));
    let commands = typed(&mut state, "F");
    let [Cmd::LoadFailing { request, .. }] = commands.as_slice() else {
        panic!("F reads the failing sign-ins: {commands:?}");
    };
    let request = *request;
    let failing = |name: &str| FailingRow {
        summary: format!("{name} has failed 3 times"),
        app_name: name.into(),
        app_id: format!("app-{name}"),
        app_object_id: Some(format!("obj-{name}")),
        error_code: 700213,
        count: 3,
        first: None,
        last: None,
        identity: None,
        fault: None,
        reason: None,
    };
    update(
        &mut state,
        Msg::FailingLoaded {
            request,
            result: Ok(FailingReport::Rows(vec![
                failing("billing-worker"),
                failing("inventory-sync"),
            ])),
        },
    );
    let Some(Screen::Failing(view)) = state.stack.last() else {
        panic!("failing workloads on top");
    };
    assert_eq!(
        view.selected().map(|r| r.app_name.as_str()),
        Some("inventory-sync")
    );
    assert!(state.toast.is_none());
    update(&mut state, key(KeyCode::Esc));
    assert!(matches!(state.stack.as_slice(), [Screen::Health(_)]));
    // A finding's app whose workloads do not fail: said so.
    let commands = typed(&mut state, "F");
    let [Cmd::LoadFailing { request, .. }] = commands.as_slice() else {
        panic!("F reads the failing sign-ins: {commands:?}");
    };
    let request = *request;
    update(
        &mut state,
        Msg::FailingLoaded {
            request,
            result: Ok(FailingReport::Rows(vec![failing("billing-worker")])),
        },
    );
    let toast = state.toast.as_ref().map(|t| t.text.as_str());
    assert_eq!(
        toast,
        Some("No workload of inventory-sync failed to sign in in the last 24 h.")
    );
}

fn render(state: &State) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).expect("terminal");
    terminal
        .draw(|frame| crate::views::draw(frame, state))
        .expect("draws");
    terminal.backend().to_string()
}
