//! The Failing workloads view on its own: answers for another read dropped, tenant text made
//! safe, the window switch reading again, `f` carrying the rule's corrected value, `x` the app
//! and identity, and what is disabled and why.
use super::*;
use crate::evidence::FicAtFault;
use crate::keymap::Keymap;
use crate::state::State;
use crate::theme::Themes;
use ficus_core::fic::{Fic, Field};
use time::macros::datetime;

fn state() -> State {
    State::new(
        Keymap::default(),
        Themes::built_in(),
        "mono",
        datetime!(2026-11-30 12:00 UTC),
    )
}

fn row(fix: bool) -> FailingRow {
    FailingRow {
        summary: "inventory-sync has failed 288 times since 09:12 with AADSTS700213\u{202e}".into(),
        app_name: "inventory-sync".into(),
        app_id: "app-1".into(),
        app_object_id: Some("obj-1".into()),
        error_code: 700213,
        count: 288,
        first: None,
        last: None,
        identity: Some(("principal-1".into(), "id-inventory".into())),
        fault: Some(FicAtFault {
            fic: Fic {
                id: Some("fic-1".into()),
                name: "mi-id-inventory".into(),
                issuer: "https://login.microsoftonline.com/t/v2.0".into(),
                subject: "client-1".into(),
                audiences: vec!["api://AzureADTokenExchange".into()],
                description: None,
            },
            message: "The subject is the client id of id-inventory".into(),
            fix: fix.then(|| {
                (
                    Field::Subject,
                    "principal-1".to_string(),
                    "use the principal id of id-inventory".to_string(),
                )
            }),
        }),
        reason: None,
    }
}

#[test]
fn stale_answers_are_dropped_and_tenant_text_is_made_safe() {
    let state = state();
    let ctx = state.ctx();
    let (mut screen, cmds) = open(&ctx, FailingWindow::Day);
    assert_eq!(
        cmds,
        vec![Cmd::LoadFailing {
            request: screen.request,
            hours: 24
        }]
    );
    let stale = screen.request + 100;
    assert!(!screen.loaded(stale, Ok(FailingReport::Rows(vec![row(true)]))));
    assert_eq!(screen.report, None);
    assert!(screen.loaded(screen.request, Ok(FailingReport::Rows(vec![row(true)]))));
    let shown = screen.selected().expect("a row");
    assert!(!shown.summary.contains('\u{202e}'), "{}", shown.summary);
}

#[test]
fn the_window_switch_reads_again_over_seven_days() {
    let state = state();
    let ctx = state.ctx();
    let (mut screen, _) = open(&ctx, FailingWindow::Day);
    let first = screen.request;
    let out = screen.on_action(Action::ToggleWindow, &ctx);
    assert_eq!(screen.window, FailingWindow::Week);
    assert_ne!(screen.request, first, "the old answer is now stale");
    assert_eq!(
        out.cmds,
        vec![Cmd::LoadFailing {
            request: screen.request,
            hours: 168
        }]
    );
}

#[test]
fn f_opens_the_fix_and_x_the_exchange() {
    let state = state();
    let ctx = state.ctx();
    let (mut screen, _) = open(&ctx, FailingWindow::Day);
    screen.loaded(screen.request, Ok(FailingReport::Rows(vec![row(true)])));
    let out = screen.on_action(Action::FixFic, &ctx);
    let Some(Nav::EditFic(fix)) = out.nav else {
        panic!("f asks for the wizard");
    };
    assert_eq!(fix.field, Field::Subject);
    assert_eq!(fix.corrected, "principal-1");
    assert_eq!(fix.fic.name, "mi-id-inventory");
    assert_eq!(fix.app.object_id, "obj-1");

    let out = screen.on_action(Action::TestExchange, &ctx);
    let Some(Nav::OpenExchange(entry)) = out.nav else {
        panic!("x asks for the exchange");
    };
    assert_eq!(entry.app.map(|a| a.name), Some("inventory-sync".into()));

    let out = screen.on_action(Action::Open, &ctx);
    assert!(matches!(out.nav, Some(Nav::OpenApp { ref object_id, .. }) if object_id == "obj-1"));
}

#[test]
fn without_a_known_fix_f_is_disabled_and_says_why() {
    let state = state();
    let ctx = state.ctx();
    let (mut screen, _) = open(&ctx, FailingWindow::Day);
    screen.loaded(screen.request, Ok(FailingReport::Rows(vec![row(false)])));
    let fix = screen
        .commands(&ctx)
        .into_iter()
        .find(|c| c.action == Action::FixFic)
        .expect("listed");
    assert!(
        fix.disabled
            .as_deref()
            .is_some_and(|why| why.contains("Enter opens the app")),
        "{fix:?}"
    );
    let mut gone = row(true);
    gone.app_object_id = None;
    screen.loaded(screen.request, Ok(FailingReport::Rows(vec![gone])));
    let out = screen.on_action(Action::FixFic, &ctx);
    assert!(out.nav.is_none());
    assert!(out.toast.is_some_and(|t| t.text.contains("no longer")));
}
