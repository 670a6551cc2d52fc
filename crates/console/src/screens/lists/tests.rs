//! The lists screen on its own: what it answers, without the root applying it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::keymap::Keymap;
use crate::model::{Audience, IdentityKind};
use crate::msg::Msg;
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

fn press(state: &mut State, keys: &str) {
    for c in keys.chars() {
        let modifiers = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        crate::update::update(state, Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers)));
    }
}

fn names(state: &State) -> Vec<String> {
    state
        .apps
        .visible_rows(0, 10)
        .map(|a| a.name.clone())
        .collect()
}

#[test]
fn a_column_key_sorts_by_that_column_and_again_reverses_it() {
    let mut state = state();
    state
        .apps
        .update_where(|a| a.name == "crm", |a| a.fic_count = Some(2), NOW);
    state
        .apps
        .update_where(|a| a.name == "billing", |a| a.fic_count = Some(1), NOW);
    // `o 3`: the third column (FICs), ascending, straight from the name sort.
    press(&mut state, "o3");
    assert_eq!(state.apps.sort(), Some((2, false)));
    assert_eq!(names(&state), ["payments-api", "billing", "crm"]);
    let toast = state.toast.as_ref().map(|t| t.text.clone());
    assert_eq!(
        toast.as_deref(),
        Some("Sorted by FICs (ascending); o 3 again to reverse")
    );
    press(&mut state, "o3");
    assert_eq!(state.apps.sort(), Some((2, true)));
    assert_eq!(names(&state), ["crm", "billing", "payments-api"]);
    // `S` reverses whatever the sort is.
    press(&mut state, "S");
    assert_eq!(state.apps.sort(), Some((2, false)));
    press(&mut state, "o1");
    assert_eq!(names(&state), ["billing", "crm", "payments-api"]);
}

#[test]
fn column_sort_keys_can_be_remapped_and_help_shows_them() {
    let keymap = Keymap::default()
        .with_overrides("[lists]\nsort-by-1 = \"N\"\nreverse-sort = \"R\"\n")
        .expect("a valid keymap");
    let mut state = State::new(keymap, Themes::built_in(), "default", NOW);
    state
        .apps
        .extend(vec![app("payments-api"), app("billing"), app("crm")], NOW);
    state.apps.set_sort(1, false, NOW);
    press(&mut state, "N");
    assert_eq!(state.apps.sort(), Some((0, false)));
    press(&mut state, "R");
    assert_eq!(state.apps.sort(), Some((0, true)));
    assert_eq!(
        state.toast.as_ref().map(|t| t.text.as_str()),
        Some("Sorted by name (descending); R again to reverse")
    );
    // `?` help lists what the table binds, remapped keys as remapped.
    let bound: Vec<(String, &str)> = state
        .keymap
        .for_context(Context::List)
        .into_iter()
        .filter(|b| matches!(b.action, Action::SortBy(_) | Action::ReverseSort))
        .map(|b| (crate::keymap::keys_label(&b.keys[0]), b.description))
        .collect();
    assert!(bound.contains(&("N".to_string(), "sort by name (again: reverse)")));
    assert!(bound.contains(&("R".to_string(), "reverse the sort")));
    assert!(
        bound
            .iter()
            .any(|(k, d)| k == "o 3" && *d == "sort by FICs / principal id")
    );
}

#[test]
fn the_filter_footer_and_keys_come_from_the_keymap_input_table() {
    let mut state = state();
    action(&mut state, Action::Filter);
    let (lists, ctx) = state.split_lists();
    let hints = crate::component::footer_hints(&lists.commands(&ctx), ctx.keymap, Context::List);
    assert_eq!(
        hints,
        vec![
            ("Enter".to_string(), "keep filter"),
            ("Esc".to_string(), "close"),
            ("↑/↓".to_string(), "move"),
        ]
    );
}

#[test]
fn a_remapped_input_key_shows_and_works_remapped() {
    let keymap = Keymap::default()
        .with_overrides("[input]\nopen = \"ctrl-j\"\n")
        .expect("a valid keymap");
    let mut state = State::new(keymap, Themes::built_in(), "default", NOW);
    state
        .apps
        .extend(vec![app("payments-api"), app("billing")], NOW);
    press(&mut state, "/");
    assert!(state.lists.editing_filter);
    let (lists, ctx) = state.split_lists();
    let hints = crate::component::footer_hints(&lists.commands(&ctx), ctx.keymap, Context::List);
    assert_eq!(hints[0], ("Ctrl-j".to_string(), "keep filter"));
    press(&mut state, "pay");
    crate::update::update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
    );
    assert!(!state.lists.editing_filter, "Ctrl-j kept the filter");
    assert_eq!(state.apps.raw_query(), "pay");
}

#[test]
fn a_typing_key_cannot_be_bound_in_an_input() {
    let error = Keymap::default()
        .with_overrides("[input]\nback = \"x\"\n")
        .expect_err("refused");
    assert!(
        error.to_string().contains("would be typed into the input"),
        "{error}"
    );
}

#[test]
fn a_top_level_rebinding_leaves_the_inputs_alone() {
    let keymap = Keymap::default()
        .with_overrides("back = [\"esc\", \"q\"]\n")
        .expect("a valid keymap");
    let mut state = State::new(keymap, Themes::built_in(), "default", NOW);
    state
        .apps
        .extend(vec![app("quota-api"), app("billing")], NOW);
    press(&mut state, "/q");
    assert!(state.lists.editing_filter, "q was typed, not taken as back");
    assert_eq!(state.apps.raw_query(), "q");
}
