//! Layers over the current screen: help, the palette, the delete confirmation, the export view
//! and text panels (`whois`, `explain`). Screens ask for one with `Nav::Overlay`.

use tui_input::Input;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteTarget {
    App(String),
    Identity(String),
    Command(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub label: String,
    pub detail: String,
    pub target: PaletteTarget,
}

/// The command palette; its keys, pastes and suggestions are the component in
/// `screens/palette.rs`.
#[derive(Debug, Clone, Default)]
pub struct PaletteScreen {
    pub input: Input,
    pub suggestions: Vec<Suggestion>,
    pub selected: usize,
}

/// Every key of the screen below (`?`); its keys are the component in `screens/help.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HelpScreen {
    pub scroll: u16,
}

/// What Enter on the palette asks the root to run: the typed line and the suggestion chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaletteRun {
    pub input: String,
    pub chosen: Option<Suggestion>,
}

/// A delete that waits for `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmDelete {
    pub app_object_id: String,
    pub app_name: String,
    pub fic_id: String,
    pub fic_name: String,
    /// The exact request that will be sent.
    pub request_line: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportScreen {
    pub fic_name: String,
    /// (label, text) per format.
    pub snippets: Vec<(String, String)>,
    pub tab: usize,
    /// The FIC's error findings: exported as is, it would not work.
    pub warnings: Vec<String>,
}

/// A read-only text panel: palette results such as `whois`, `explain` and `decode`, and the
/// one-line view of long values (`V`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextPanel {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: u16,
    /// Lines are never wrapped (the width of the screen, `scroll_x` columns in): a value
    /// wider than the terminal stays one line, so a mouse selection copies it whole.
    pub unwrapped: bool,
    pub scroll_x: u16,
}

impl TextPanel {
    /// Each value alone on its line under its label, unwrapped.
    pub fn values(title: impl Into<String>, values: &[(&str, String)]) -> TextPanel {
        let mut lines = Vec::new();
        for (label, value) in values {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push(format!("{label}:"));
            lines.push(value.clone());
        }
        TextPanel {
            title: title.into(),
            lines,
            unwrapped: true,
            ..TextPanel::default()
        }
    }
}

/// Layers over the current screen; `Esc` closes the top one first.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help(HelpScreen),
    Palette(PaletteScreen),
    ConfirmDelete(ConfirmDelete),
    Export(ExportScreen),
    Text(TextPanel),
}
