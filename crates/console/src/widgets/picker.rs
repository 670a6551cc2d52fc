//! The filterable picker and the token-file path input shared by the exchange screen and the
//! token inspector: one list for a field, typed text as a value where free text is allowed.

use tui_input::{Input, InputRequest};

use crate::keymap::Action;
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
    pub fn visible(&self) -> Vec<&PickItem> {
        let wanted = self.input.value().to_lowercase();
        self.items
            .iter()
            .filter(|i| {
                wanted.is_empty()
                    || i.label.to_lowercase().contains(&wanted)
                    || i.detail.to_lowercase().contains(&wanted)
            })
            .collect()
    }
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
    file_input: &mut Option<Input>,
    picker: &mut Option<Picker<F>>,
    key: ratatui::crossterm::event::KeyEvent,
) -> FocusedKey {
    use ratatui::crossterm::event::{Event, KeyCode};
    let feed = |input: &mut Input| {
        tui_input::backend::crossterm::to_input_request(&Event::Key(key))
            .map(|request| input.handle(request))
            .is_some()
    };
    if let Some(input) = file_input {
        match key.code {
            KeyCode::Esc => *file_input = None,
            KeyCode::Enter => {
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
    match key.code {
        KeyCode::Esc => *picker = None,
        KeyCode::Down | KeyCode::Tab => {
            let len = open.visible().len();
            open.selected = (open.selected + 1).min(len.saturating_sub(1));
        }
        KeyCode::Up | KeyCode::BackTab => open.selected = open.selected.saturating_sub(1),
        KeyCode::Enter => return FocusedKey::Choose,
        _ => {
            if feed(&mut open.input) {
                open.selected = 0;
            }
        }
    }
    FocusedKey::Done
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
