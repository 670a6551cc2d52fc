//! The filterable picker and the token-file path input shared by the exchange screen and the
//! token inspector: one list for a field, typed text as a value where free text is allowed.

use tui_input::{Input, InputRequest};

use crate::filter::{TextMatch, compare_names};
use crate::keymap::Action;
use crate::model::{AppRow, Identity, IdentityKind, IdentityRow};
use ficus_core::text::sanitize;

/// One choice of the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickItem {
    pub label: String,
    pub detail: String,
    /// Why it cannot be chosen (a system-assigned identity), if so.
    pub disabled: Option<String>,
    pub value: String,
}

/// A filterable list for one field; for the tenant and scope, typed text is a value too.
#[derive(Debug, Clone)]
pub struct Picker<F> {
    /// The field it fills, when the screen has several.
    pub field: Option<F>,
    pub input: Input,
    pub items: Vec<PickItem>,
    pub selected: usize,
    /// Whatever is typed may be used as is (tenant, scope, file path).
    pub free_text: bool,
}

impl<F> Default for Picker<F> {
    fn default() -> Self {
        Picker {
            field: None,
            input: Input::default(),
            items: Vec::new(),
            selected: 0,
            free_text: false,
        }
    }
}

impl<F> Picker<F> {
    /// The items the typed text matches, as the lists' filter matches ([`TextMatch`]).
    pub fn visible(&self) -> Vec<&PickItem> {
        let mut wanted = TextMatch::new(self.input.value());
        self.items
            .iter()
            .filter(|i| wanted.any(&[&i.label, &i.detail]))
            .collect()
    }
}

/// Apps to pick, by name; those that already trust `identity` (a FIC names it) say so.
pub fn app_items(apps: &[AppRow], identity: Option<&Identity>) -> Vec<PickItem> {
    let mut apps: Vec<&AppRow> = apps.iter().collect();
    apps.sort_by(|a, b| compare_names(&a.name, &b.name));
    apps.into_iter()
        .map(|a| PickItem {
            label: a.name.clone(),
            detail: match identity.filter(|i| trusts(a, i)) {
                Some(identity) => format!("{} · ✓ trusts {}", a.app_id, identity.name),
                None => a.app_id.clone(),
            },
            disabled: None,
            value: a.object_id.clone(),
        })
        .collect()
}

/// Identities to pick, by name; those `app` already trusts say so, and system-assigned ones
/// say why they cannot be chosen.
pub fn identity_items(identities: &[IdentityRow], app: Option<&AppRow>) -> Vec<PickItem> {
    let mut identities: Vec<&IdentityRow> = identities.iter().collect();
    identities.sort_by(|a, b| compare_names(&a.name, &b.name));
    identities
        .into_iter()
        .map(|i| PickItem {
            label: i.name.clone(),
            detail: match app.filter(|a| trusts(a, i)) {
                Some(app) => format!("{} · ✓ trusted by {}", i.client_id, app.name),
                None => i.client_id.clone(),
            },
            disabled: (i.kind == IdentityKind::SystemAssigned)
                .then(|| "system-assigned: cannot be a FIC's subject".to_string()),
            value: i.principal_id.clone(),
        })
        .collect()
}

/// Whether one of `app`'s FICs (as the Apps list brought them) names `identity`.
pub fn trusts(app: &AppRow, identity: &Identity) -> bool {
    app.fic_subjects
        .iter()
        .flatten()
        .any(|subject| *subject == identity.principal_id)
}

/// A result's scroll position after a scrolling action (the exchange result, the inspector).
pub fn scrolled(scroll: u16, action: Action) -> u16 {
    match action {
        Action::Up => scroll.saturating_sub(1),
        Action::Down => scroll.saturating_add(1),
        Action::HalfPageUp => scroll.saturating_sub(10),
        Action::HalfPageDown => scroll.saturating_add(10),
        Action::Top => 0,
        _ => scroll,
    }
}

/// What a key did to the token-file path input or the picker, whichever has focus: the
/// keys the exchange screen and the inspector share.
pub enum FocusedKey {
    /// Handled (moved, typed, closed); nothing more to do.
    Done,
    /// Enter on a non-empty file path (the input is closed): read that file.
    ReadFile(String),
    /// Enter in the picker (still open): the screen chooses the selected item.
    Choose,
}

pub fn focused_key<F>(
    keymap: &crate::keymap::Keymap,
    file_input: &mut Option<Input>,
    picker: &mut Option<Picker<F>>,
    key: ratatui::crossterm::event::KeyEvent,
) -> FocusedKey {
    use crate::keymap::Action;
    use ratatui::crossterm::event::Event;
    // What the key means to an input with focus: the keymap's `[input]`.
    let action = keymap.input_action(&key);
    let feed = |input: &mut Input| {
        tui_input::backend::crossterm::to_input_request(&Event::Key(key))
            .map(|request| input.handle(request))
            .is_some()
    };
    if let Some(input) = file_input {
        match action {
            Some(Action::Back) => *file_input = None,
            Some(Action::Open) => {
                let path = input.value().trim().to_string();
                *file_input = None;
                if !path.is_empty() {
                    return FocusedKey::ReadFile(path);
                }
            }
            _ => {
                feed(input);
            }
        }
        return FocusedKey::Done;
    }
    let Some(open) = picker else {
        return FocusedKey::Done;
    };
    match action {
        Some(Action::Back) => *picker = None,
        Some(Action::Down | Action::NextPane) => {
            let len = open.visible().len();
            open.selected = (open.selected + 1).min(len.saturating_sub(1));
        }
        Some(Action::Up | Action::PreviousPane) => open.selected = open.selected.saturating_sub(1),
        Some(Action::Open) => return FocusedKey::Choose,
        _ => {
            if feed(&mut open.input) {
                open.selected = 0;
            }
        }
    }
    FocusedKey::Done
}

/// The footer's and help's commands while the picker or the file path input has focus (the
/// exchange screen and the inspector); `None` when neither is open.
pub fn focused_commands<F>(
    file_input: &Option<Input>,
    picker: &Option<Picker<F>>,
) -> Option<Vec<crate::component::Command>> {
    if file_input.is_some() {
        return Some(path_input_commands());
    }
    picker.as_ref().map(|_| picker_commands())
}

/// The token file path input's keys.
pub fn path_input_commands() -> Vec<crate::component::Command> {
    use crate::component::Command;
    use crate::keymap::Action;
    vec![
        Command::typing(Action::Open, "read"),
        Command::typing(Action::Back, "cancel"),
    ]
}

/// An open picker's keys.
pub fn picker_commands() -> Vec<crate::component::Command> {
    use crate::component::Command;
    use crate::keymap::Action;
    vec![
        Command::typing(Action::Up, "move").with(Action::Down),
        Command::typing(Action::Open, "choose"),
        Command::typing(Action::Back, "cancel"),
    ]
}

/// Pasted text into the picker's filter or the file path input, whichever is open (sanitized,
/// trimmed, capped); false when neither is.
pub fn focused_paste<F>(
    file_input: &mut Option<Input>,
    picker: &mut Option<Picker<F>>,
    text: &str,
) -> bool {
    let (input, cap) = match (picker.as_mut(), file_input.as_mut()) {
        (Some(picker), _) => {
            picker.selected = 0;
            (&mut picker.input, 2048)
        }
        (None, Some(input)) => (input, 4096),
        (None, None) => return false,
    };
    for c in sanitize(text.trim()).chars().take(cap) {
        input.handle(InputRequest::InsertChar(c));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Audience;

    fn app(name: &str, subjects: &[&str]) -> AppRow {
        AppRow {
            object_id: format!("obj-{name}"),
            app_id: format!("app-{name}"),
            name: name.into(),
            fic_count: Some(subjects.len()),
            fic_subjects: Some(subjects.iter().map(|s| s.to_string()).collect()),
            credentials: Vec::new(),
            audience: Audience::Single,
        }
    }

    fn identity(name: &str) -> IdentityRow {
        IdentityRow::new(Identity {
            name: name.into(),
            kind: IdentityKind::UserAssigned,
            client_id: format!("client-{name}"),
            principal_id: format!("principal-{name}"),
            arm_id: None,
            subscription: None,
            resource_group: None,
            tenant_id: None,
        })
    }

    #[test]
    fn pickers_are_by_name_and_say_what_already_trusts_what() {
        let apps = [
            app("payments-api", &["principal-id-payments"]),
            app("Billing-worker", &[]),
            app("inventory-sync", &["principal-id-inventory"]),
        ];
        let payments = identity("id-payments");
        let items = app_items(&apps, Some(&payments));
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["Billing-worker", "inventory-sync", "payments-api"]);
        assert!(
            items[2].detail.contains("✓ trusts id-payments"),
            "{items:?}"
        );
        assert!(!items[1].detail.contains('✓'), "{items:?}");

        let identities = [identity("id-payments"), identity("id-inventory")];
        let items = identity_items(&identities, Some(&apps[0]));
        assert_eq!(items[0].label, "id-inventory");
        assert!(!items[0].detail.contains('✓'));
        assert!(items[1].detail.contains("✓ trusted by payments-api"));
    }

    #[test]
    fn the_picker_matches_as_the_lists_do() {
        let picker: Picker<()> = Picker {
            input: Input::from("pay api"),
            items: app_items(&[app("payments-api", &[]), app("inventory", &[])], None),
            ..Picker::default()
        };
        // Words in any order, as the list filter takes them (a substring test did not).
        let labels: Vec<&str> = picker.visible().iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["payments-api"]);
    }
}
