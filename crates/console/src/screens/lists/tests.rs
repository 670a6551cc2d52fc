//! The lists screen on its own: what it answers, without the root applying it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::keymap::Keymap;
use crate::model::{Audience, IdentityKind};
use crate::state::State;
use crate::theme::Themes;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

fn app(name: &str) -> AppRow {
    AppRow {
        object_id: format!("obj-{name}"),
        app_id: format!("app-{name}"),
        name: name.into(),
        fic_count: Some(0),
        fic_subjects: Some(Vec::new()),
        credentials: Vec::new(),
        audience: Audience::Single,
    }
}

fn identity(name: &str) -> IdentityRow {
    IdentityRow::new(ficus_core::fic::Identity {
        name: name.into(),
        kind: IdentityKind::UserAssigned,
        client_id: format!("client-{name}"),
        principal_id: format!("principal-{name}"),
        resource_group: None,
        subscription: None,
        arm_id: None,
        tenant_id: None,
    })
}

fn state() -> State {
    let mut state = State::new(Keymap::default(), Themes::built_in(), "default", NOW);
    state
        .apps
        .extend(vec![app("payments-api"), app("billing"), app("crm")], NOW);
    state
        .identities
        .extend(vec![identity("id-payments"), identity("vm-legacy")], NOW);
    state
}

fn action(state: &mut State, action: Action) -> Outcome {
    let (lists, ctx) = state.split_lists();
    lists.on_action(action, &ctx)
}

fn key(state: &mut State, code: KeyCode) -> Option<Outcome> {
    let (lists, ctx) = state.split_lists();
    lists.on_key(KeyEvent::new(code, KeyModifiers::NONE), &ctx)
}

#[test]
fn moving_asks_the_root_and_leaves_the_rows_alone() {
    let mut state = state();
    let out = action(&mut state, Action::Down);
    assert_eq!(
        out.listing,
        vec![ListingChange {
            list: ListKind::Apps,
            edit: ListingEdit::MoveCursor(1)
        }]
    );
    // The listing is the root's: the screen only asked.
    assert_eq!(state.apps.cursor(), 0);
    assert!(!out.ignored);
}

#[test]
fn enter_on_an_identity_asks_to_open_it() {
    let mut state = state();
    action(&mut state, Action::NextPane);
    assert_eq!(state.lists.list, ListKind::Identities);
    let out = action(&mut state, Action::Open);
    match out.nav {
        Some(Nav::OpenIdentity(identity)) => assert_eq!(identity.name, "id-payments"),
        other => panic!("expected OpenIdentity, got {other:?}"),
    }
}

#[test]
fn enter_on_an_app_asks_to_open_it_by_object_id() {
    let mut state = state();
    let out = action(&mut state, Action::Open);
    match out.nav {
        // Sorted by name: billing first.
        Some(Nav::OpenApp { object_id, name }) => {
            assert_eq!(
                (object_id.as_str(), name.as_str()),
                ("obj-billing", "billing")
            )
        }
        other => panic!("expected OpenApp, got {other:?}"),
    }
}

#[test]
fn sort_asks_for_the_reverse_then_the_next_column() {
    let mut state = state();
    // By name ascending at first: `s` reverses it.
    let out = action(&mut state, Action::Sort);
    assert_eq!(
        out.listing[0].edit,
        ListingEdit::Sort {
            column: 0,
            descending: true
        }
    );
    assert_eq!(
        out.toast.map(|t| t.text).as_deref(),
        Some("Sorted by name (descending); s again for the next column")
    );
    state.apps.set_sort(0, true, NOW);
    let out = action(&mut state, Action::Sort);
    assert_eq!(
        out.listing[0].edit,
        ListingEdit::Sort {
            column: 1,
            descending: false
        }
    );
}

#[test]
fn the_filter_input_takes_keys_only_while_open() {
    let mut state = state();
    assert!(key(&mut state, KeyCode::Char('p')).is_none());
    let out = action(&mut state, Action::Filter);
    assert_eq!(out.listing[0].edit, ListingEdit::Query(String::new()));
    assert!(state.lists.editing_filter);
    let out = key(&mut state, KeyCode::Char('p')).expect("the filter takes it");
    assert_eq!(out.listing[0].edit, ListingEdit::Query("p".into()));
    assert_eq!(state.lists.apps_filter.value(), "p");
    key(&mut state, KeyCode::Enter);
    assert!(!state.lists.editing_filter);
    // Esc over the list clears the kept filter.
    let out = action(&mut state, Action::Back);
    assert_eq!(out.listing[0].edit, ListingEdit::Query(String::new()));
    assert_eq!(state.lists.apps_filter.value(), "");
}

#[test]
fn refresh_forgets_details_and_asks_for_a_reload() {
    let mut state = state();
    let out = action(&mut state, Action::Refresh);
    let ListingEdit::Reload { request } = out.listing[0].edit.clone() else {
        panic!("expected a reload, got {:?}", out.listing);
    };
    assert!(matches!(
        out.cmds.as_slice(),
        [crate::msg::Cmd::LoadApps { request: r }] if *r == request
    ));
    // The rows go only when the root applies the change.
    assert_eq!(state.apps.len(), 3);
}

#[test]
fn actions_of_other_screens_are_left_to_the_root() {
    let mut state = state();
    for other in [
        Action::Quit,
        Action::Help,
        Action::DeleteFic,
        Action::RunExchange,
    ] {
        assert!(action(&mut state, other).ignored, "{other:?}");
    }
}
