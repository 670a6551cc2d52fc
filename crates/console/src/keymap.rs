//! The one table of key bindings: dispatch, the footer hints and the `?` help are all read from
//! it, so a binding cannot exist without its description. `keymap.toml` in the config directory
//! can rebind any action by name.

use std::collections::BTreeMap;
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. `Global` bindings apply everywhere unless a screen binds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    /// The Apps and Identities lists.
    List,
    AppDetail,
    IdentityDetail,
    SignIn,
    /// The Managed Identity FIC wizard.
    Wizard,
    /// The live test exchange (#7).
    Exchange,
    /// The token inspector (#7).
    Inspector,
    /// Help and text panels (`whois`, `explain`) over a screen.
    Panel,
    /// The export view of a FIC.
    ExportView,
    /// A question that waits for `y` (the delete confirmation).
    Question,
    /// "Use it in your workload": the code that uses a FIC, a tab per SDK.
    Workload,
    /// Failing workloads: failed sign-ins grouped, with the FIC at fault (#15).
    Failing,
    /// A text input with focus (a list's filter, a wizard field, the palette, the pickers and
    /// the file path input): only keys that type nothing are bound here (Enter, Esc, arrows,
    /// Tab); everything else is typed.
    Input,
    /// The Health tab: the tenant audit's findings (#14).
    Health,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "everywhere",
            Context::List => "lists",
            Context::AppDetail => "app detail",
            Context::IdentityDetail => "identity detail",
            Context::SignIn => "sign-in",
            Context::Wizard => "FIC wizard",
            Context::Exchange => "test exchange",
            Context::Inspector => "token inspector",
            Context::Panel => "help and text panels",
            Context::ExportView => "export view",
            Context::Question => "confirmation",
            Context::Workload => "workload code",
            Context::Input => "typing in a text input",
            Context::Failing => "failing workloads",
            Context::Health => "health",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Up,
    Down,
    Top,
    Bottom,
    HalfPageDown,
    HalfPageUp,
    Open,
    Back,
    Filter,
    Palette,
    Help,
    NextPane,
    Copy,
    CopyId,
    Refresh,
    Sort,
    ShowApps,
    ShowIdentities,
    DeleteFic,
    Export,
    AddFic,
    TestExchange,
    CycleTheme,
    EditFic,
    FixFic,
    EditField,
    ApplyFix,
    AcknowledgeWarnings,
    // The exchange screen and the token inspector (#7).
    RunExchange,
    Reveal,
    PasteToken,
    TokenFromFile,
    FixInWizard,
    Inspect,
    VerifySignature,
    PickApp,
    /// The other way round from `NextPane` (the export view's previous format).
    PreviousPane,
    /// Yes to the question on screen (delete this FIC).
    Confirm,
    /// "Use it in your workload": the code for the FIC at hand.
    WorkloadCode,
    /// Sort a list by one column (its index), ascending; again: descending.
    SortBy(u8),
    /// Reverse the list's sort.
    ReverseSort,
    /// The values on screen, each alone on one unwrapped line (for a mouse selection).
    OneLine,
    /// The exchange's managed identity token source: the session's, this machine's, pasted.
    TokenSource,
    /// Failing workloads: failed sign-ins, grouped, with the FIC at fault (#15).
    ShowFailing,
    /// The failing workloads' window: the last 24 hours or 7 days.
    ToggleWindow,
    /// Remove the selected client secret (asks first; refused while it is still used).
    RemoveSecret,
    /// Undo the newest change of the history journal (asks first).
    Undo,
    /// The Health tab (#14).
    ShowHealth,
}

impl Action {
    /// The name used in `keymap.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Up => "up",
            Action::Down => "down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::HalfPageDown => "half-page-down",
            Action::HalfPageUp => "half-page-up",
            Action::Open => "open",
            Action::Back => "back",
            Action::Filter => "filter",
            Action::Palette => "palette",
            Action::Help => "help",
            Action::NextPane => "next-pane",
            Action::Copy => "copy",
            Action::CopyId => "copy-id",
            Action::Refresh => "refresh",
            Action::Sort => "sort",
            Action::ShowApps => "show-apps",
            Action::ShowIdentities => "show-identities",
            Action::DeleteFic => "delete-fic",
            Action::Export => "export",
            Action::AddFic => "add-fic",
            Action::TestExchange => "test-exchange",
            Action::CycleTheme => "cycle-theme",
            Action::EditFic => "edit-fic",
            Action::FixFic => "fix-fic",
            Action::EditField => "edit-field",
            Action::ApplyFix => "apply-fix",
            Action::AcknowledgeWarnings => "accept-warnings",
            Action::RunExchange => "run-exchange",
            Action::Reveal => "reveal",
            Action::PasteToken => "paste-token",
            Action::TokenFromFile => "token-file",
            Action::FixInWizard => "fix-in-wizard",
            Action::Inspect => "inspect",
            Action::VerifySignature => "verify-signature",
            Action::PickApp => "pick-app",
            Action::PreviousPane => "previous-pane",
            Action::Confirm => "confirm",
            Action::WorkloadCode => "workload-code",
            Action::SortBy(0) => "sort-by-1",
            Action::SortBy(1) => "sort-by-2",
            Action::SortBy(2) => "sort-by-3",
            Action::SortBy(3) => "sort-by-4",
            Action::SortBy(_) => "sort-by-5",
            Action::ReverseSort => "reverse-sort",
            Action::OneLine => "one-line",
            Action::TokenSource => "token-source",
            Action::ShowFailing => "show-failing",
            Action::ToggleWindow => "toggle-window",
            Action::RemoveSecret => "remove-secret",
            Action::Undo => "undo",
            Action::ShowHealth => "show-health",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        ALL_ACTIONS.iter().copied().find(|a| a.name() == name)
    }
}

const ALL_ACTIONS: &[Action] = &[
    Action::Quit,
    Action::Up,
    Action::Down,
    Action::Top,
    Action::Bottom,
    Action::HalfPageDown,
    Action::HalfPageUp,
    Action::Open,
    Action::Back,
    Action::Filter,
    Action::Palette,
    Action::Help,
    Action::NextPane,
    Action::Copy,
    Action::CopyId,
    Action::Refresh,
    Action::Sort,
    Action::ShowApps,
    Action::ShowIdentities,
    Action::DeleteFic,
    Action::Export,
    Action::AddFic,
    Action::TestExchange,
    Action::CycleTheme,
    Action::EditFic,
    Action::FixFic,
    Action::EditField,
    Action::ApplyFix,
    Action::AcknowledgeWarnings,
    Action::RunExchange,
    Action::Reveal,
    Action::PasteToken,
    Action::TokenFromFile,
    Action::FixInWizard,
    Action::Inspect,
    Action::VerifySignature,
    Action::PickApp,
    Action::PreviousPane,
    Action::Confirm,
    Action::WorkloadCode,
    Action::SortBy(0),
    Action::SortBy(1),
    Action::SortBy(2),
    Action::SortBy(3),
    Action::SortBy(4),
    Action::ReverseSort,
    Action::OneLine,
    Action::TokenSource,
    Action::ShowFailing,
    Action::ToggleWindow,
    Action::RemoveSecret,
    Action::Undo,
    Action::ShowHealth,
];

/// One key press, normalised so that `G` is `G` whether or not the terminal reports Shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Chord {
    pub fn from_event(event: &KeyEvent) -> Chord {
        Chord {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Whether this key types a character into a text input.
    pub fn types_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl && !self.alt
    }

    /// Parses `q`, `G`, `ctrl-d`, `enter`, `esc`, `tab`, `up`, `?`, `space`…
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(stripped) = lower.strip_prefix("ctrl-").or(lower.strip_prefix("c-")) {
                ctrl = true;
                rest = &rest[rest.len() - stripped.len()..];
            } else if let Some(stripped) = lower.strip_prefix("alt-").or(lower.strip_prefix("m-")) {
                alt = true;
                rest = &rest[rest.len() - stripped.len()..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
                    _ => {
                        return Err(format!(
                            "`{text}` is not a key; write e.g. q, G, ctrl-d, enter, esc, tab, up"
                        ));
                    }
                }
            }
        };
        Ok(Chord { code, ctrl, alt })
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A key or a short sequence of keys (`g g`).
pub type Keys = Vec<Chord>;

pub fn keys_label(keys: &[Chord]) -> String {
    keys.iter()
        .map(Chord::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<Keys>,
    pub action: Action,
    pub description: &'static str,
    /// The footer's short label, for the few bindings a newcomer needs.
    pub hint: Option<&'static str>,
}

/// What a key press means, given the keys pressed before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// The start of a sequence (`g` of `g g`): wait for the next key.
    Pending,
    Unbound,
}

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

fn chords(list: &[&str]) -> Vec<Keys> {
    list.iter()
        .map(|sequence| {
            sequence
                .split(' ')
                .map(|k| Chord::parse(k).unwrap_or_else(|e| panic!("built-in keymap: {e}")))
                .collect()
        })
        .collect()
}

/// context, keys, action, description, footer label
type BindingSpec = (
    Context,
    &'static [&'static str],
    Action,
    &'static str,
    Option<&'static str>,
);

impl Default for Keymap {
    fn default() -> Self {
        use Action::*;
        use Context::*;
        #[rustfmt::skip]
        let table: &[BindingSpec] = &[
            (Global, &["q"], Quit, "quit ficus", Some("quit")),
            (Global, &["ctrl-c"], Quit, "quit ficus", None),
            (Global, &["?"], Help, "show every key of this screen", Some("help")),
            (Global, &[":"], Palette, "command palette: jump, tenant, whois, explain, decode, theme", Some("palette")),
            (Global, &["esc"], Back, "close, clear the filter, or go back", None),
            (Global, &["1"], ShowApps, "show app registrations", None),
            (Global, &["2"], ShowIdentities, "show managed identities", None),
            (Global, &["t"], CycleTheme, "next colour theme", None),
            (List, &["j", "down"], Down, "next row", None),
            (List, &["k", "up"], Up, "previous row", None),
            (List, &["g g", "home"], Top, "first row", None),
            (List, &["G", "end"], Bottom, "last row", None),
            (List, &["ctrl-d", "pagedown"], HalfPageDown, "half a page down", None),
            (List, &["ctrl-u", "pageup"], HalfPageUp, "half a page up", None),
            (List, &["enter"], Open, "open the selected row", Some("open")),
            (List, &["/"], Filter, "new filter, as you type (fuzzy name, fic:0, expired…)", Some("filter")),
            (List, &["tab"], NextPane, "switch between apps and identities", Some("apps/identities")),
            (List, &["s"], Sort, "sort by the next column (again: reverse)", Some("sort")),
            (List, &["o 1"], SortBy(0), "sort by name (again: reverse)", None),
            (List, &["o 2"], SortBy(1), "sort by app id / client id", None),
            (List, &["o 3"], SortBy(2), "sort by FICs / principal id", None),
            (List, &["o 4"], SortBy(3), "sort by expiry / resource group", None),
            (List, &["o 5"], SortBy(4), "sort by audience / subscription", None),
            (List, &["S"], ReverseSort, "reverse the sort", None),
            (List, &["y"], Copy, "copy the name", None),
            (List, &["Y"], CopyId, "copy the app id / client id", None),
            (List, &["r"], Refresh, "reload from the directory", None),
            (AppDetail, &["j", "down"], Down, "next FIC or credential", None),
            (AppDetail, &["k", "up"], Up, "previous FIC or credential", None),
            (AppDetail, &["tab"], NextPane, "switch between FICs and credentials", Some("FICs/secrets")),
            (AppDetail, &["a"], AddFic, "add a Managed Identity FIC (wizard)", Some("add FIC")),
            (AppDetail, &["x"], TestExchange, "test the exchange for this app", Some("test")),
            (AppDetail, &["e"], Export, "export the FIC as CLI / Bicep / Terraform", Some("export")),
            (AppDetail, &["D"], DeleteFic, "delete the selected FIC (asks first)", Some("delete FIC")),
            (AppDetail, &["y"], Copy, "copy the selected value", None),
            (AppDetail, &["Y"], CopyId, "copy the app id", None),
            (AppDetail, &["r"], Refresh, "reload this app", None),
            (IdentityDetail, &["j", "down"], Down, "next trusting app", None),
            (IdentityDetail, &["k", "up"], Up, "previous trusting app", None),
            (IdentityDetail, &["enter"], Open, "open the selected app", Some("open app")),
            (IdentityDetail, &["y"], Copy, "copy the principal id (a FIC's subject)", Some("copy principal id")),
            (IdentityDetail, &["Y"], CopyId, "copy the client id", None),
            (IdentityDetail, &["r"], Refresh, "reload this identity", None),
            (List, &["a"], AddFic, "add a Managed Identity FIC for it (wizard)", None),
            (AppDetail, &["c"], EditFic, "change the selected FIC (wizard; the name stays)", None),
            (AppDetail, &["f"], FixFic, "fix the selected FIC: its finding's corrected value in one key", Some("fix")),
            (IdentityDetail, &["a"], AddFic, "let an app trust this identity (FIC wizard)", None),
            (Wizard, &["enter"], Open, "next step: choose, review, save", Some("next")),
            (Wizard, &["esc"], Back, "back one step (nothing is lost)", Some("back")),
            (Wizard, &["j", "down"], Down, "next row or field; scroll the review", None),
            (Wizard, &["k", "up"], Up, "previous row or field; scroll the review", None),
            (Wizard, &["g g", "home"], Top, "first row", None),
            (Wizard, &["G", "end"], Bottom, "last row", None),
            (Wizard, &["/"], Filter, "filter the list as you type", Some("filter")),
            (Wizard, &["e"], EditField, "edit the selected field (or just type; Ctrl-U clears; the footer then shows the keys that end it)", Some("edit")),
            (Wizard, &["f"], ApplyFix, "apply the suggested fix", Some("fix")),
            (Wizard, &["w"], AcknowledgeWarnings, "accept the warnings shown and go on", Some("accept warnings")),
            (Wizard, &["tab"], NextPane, "next field or export format", None),
            (Wizard, &["y"], Copy, "copy the request or snippet shown (OSC 52)", Some("copy")),
            (Wizard, &["x"], TestExchange, "run the test exchange", Some("test")),
            (Wizard, &["c"], EditFic, "change the existing FIC instead", None),
            (Wizard, &["r"], Refresh, "retry after a failure", None),
            (SignIn, &["y"], Copy, "copy the code", Some("copy code")),
            (SignIn, &["enter"], Open, "ask for a new code after a failure", None),
            (IdentityDetail, &["x"], TestExchange, "test the exchange for this identity and the selected app", Some("test")),
            // The live test exchange (#7).
            (Exchange, &["x"], RunExchange, "run the exchange", Some("run")),
            (Exchange, &["r"], Refresh, "run the exchange again", None),
            (Exchange, &["enter"], Open, "choose the app, identity, tenant or scope", Some("choose")),
            (Exchange, &["tab"], NextPane, "next field", None),
            (Exchange, &["j", "down"], Down, "next field, or scroll the result", None),
            (Exchange, &["k", "up"], Up, "previous field, or scroll the result", None),
            (Exchange, &["ctrl-d", "pagedown"], HalfPageDown, "scroll down", None),
            (Exchange, &["ctrl-u", "pageup"], HalfPageUp, "scroll up", None),
            (Exchange, &["g g", "home"], Top, "back to the top", None),
            (Exchange, &["F"], FixInWizard, "fix the FIC at fault in the wizard (corrected value filled in)", Some("fix")),
            (Exchange, &["v"], Reveal, "show or mask the tokens", Some("reveal")),
            (Exchange, &["y"], Copy, "copy the app token (OSC 52)", None),
            (Exchange, &["Y"], CopyId, "copy the managed identity token (OSC 52)", None),
            (Exchange, &["p"], PasteToken, "paste an assertion instead of the host's (again: drop it)", Some("paste token")),
            (Exchange, &["f"], TokenFromFile, "read the assertion from a file", None),
            (Exchange, &["i"], Inspect, "open the token in the inspector", None),
            // The token inspector (#7).
            (Inspector, &["p"], PasteToken, "paste a token (the terminal's paste)", Some("paste")),
            (Inspector, &["f"], TokenFromFile, "read a token from a file", Some("file")),
            (Inspector, &["s"], VerifySignature, "check the signature with the issuer's published keys", Some("signature")),
            (Inspector, &["a"], PickApp, "choose an app: which of its FICs this token satisfies", Some("match app")),
            (Inspector, &["v"], Reveal, "show or mask the token", None),
            (Inspector, &["y"], Copy, "copy the token (OSC 52)", None),
            (Inspector, &["j", "down"], Down, "scroll down", None),
            (Inspector, &["k", "up"], Up, "scroll up", None),
            (Inspector, &["ctrl-d", "pagedown"], HalfPageDown, "scroll down", None),
            (Inspector, &["ctrl-u", "pageup"], HalfPageUp, "scroll up", None),
            (Inspector, &["g g", "home"], Top, "back to the top", None),
            // Over a screen: help and text panels, the export view, a confirmation.
            (Panel, &["j", "down"], Down, "scroll down", None),
            (Panel, &["k", "up"], Up, "scroll up", None),
            (Panel, &["y"], Copy, "copy the panel's text (OSC 52)", Some("copy")),
            (Panel, &["esc", "q", "?", "enter"], Back, "close", Some("close")),
            (ExportView, &["tab", "right", "l"], NextPane, "next format", Some("next format")),
            (ExportView, &["backtab", "left", "h"], PreviousPane, "previous format", None),
            (ExportView, &["y"], Copy, "copy this format's snippet (OSC 52)", Some("copy")),
            (ExportView, &["esc", "q"], Back, "close", Some("close")),
            (Question, &["y"], Confirm, "yes (any other key keeps it)", Some("yes")),
            // "Use it in your workload" (#16): opened with u, a tab per SDK.
            (AppDetail, &["u"], WorkloadCode, "use the selected FIC in your workload: the code, per SDK", None),
            (Exchange, &["u"], WorkloadCode, "use it in your workload: the code for this exchange, per SDK", None),
            (Wizard, &["u"], WorkloadCode, "use the saved FIC in your workload: the code, per SDK", None),
            (Workload, &["tab", "right", "l"], NextPane, "next SDK", Some("next SDK")),
            (Workload, &["backtab", "left", "h"], PreviousPane, "previous SDK", None),
            (Workload, &["y"], Copy, "copy the whole snippet (OSC 52)", Some("copy")),
            (Workload, &["j", "down"], Down, "scroll down", None),
            (Workload, &["k", "up"], Up, "scroll up", None),
            (Workload, &["ctrl-d", "pagedown"], HalfPageDown, "scroll down", None),
            (Workload, &["ctrl-u", "pageup"], HalfPageUp, "scroll up", None),
            (Workload, &["g g", "home"], Top, "back to the top", None),
            // Long values wrap mid-token on screen; these show each alone on one line.
            (AppDetail, &["V"], OneLine, "the selected FIC's values (or the app's ids), each on one unwrapped line to select with the mouse", None),
            (IdentityDetail, &["V"], OneLine, "the identity's ids, each on one unwrapped line to select with the mouse", None),
            (Inspector, &["V"], OneLine, "the token's claims, each on one unwrapped line to select with the mouse", None),
            (Exchange, &["s"], TokenSource, "switch the managed identity token source: the sandbox's emulated host, this machine, a pasted token or file", None),
            (Panel, &["right", "l"], NextPane, "scroll a one-line value right", None),
            (Panel, &["left", "h"], PreviousPane, "scroll a one-line value left", None),
            // Text inputs: what each key means there is the screen's label (keep the filter,
            // choose, run…); the keys are these.
            (Input, &["enter"], Open, "done: keep, choose or run what was typed", None),
            (Input, &["esc"], Back, "close the input", None),
            (Input, &["down"], Down, "next suggestion or row", None),
            (Input, &["up"], Up, "previous suggestion or row", None),
            (Input, &["tab"], NextPane, "next suggestion or field", None),
            (Input, &["backtab"], PreviousPane, "previous suggestion or field", None),
            // Failing workloads and the migration's end (#15).
            (List, &["F"], ShowFailing, "failing workloads: failed sign-ins grouped, with the FIC at fault", None),
            (AppDetail, &["X"], RemoveSecret, "remove the selected secret (asks first, shows the request; refused while it is still used)", None),
            (AppDetail, &["U"], Undo, "undo the last change ficus made to this app (history journal; asks first)", None),
            (Failing, &["j", "down"], Down, "next failing workload", None),
            (Failing, &["k", "up"], Up, "previous failing workload", None),
            (Failing, &["g g", "home"], Top, "first row", None),
            (Failing, &["G", "end"], Bottom, "last row", None),
            (Failing, &["enter"], Open, "open the app", Some("open app")),
            (Failing, &["f"], FixFic, "fix the FIC at fault in the wizard (corrected value filled in)", Some("fix")),
            (Failing, &["x"], TestExchange, "test the exchange for this app and identity", Some("test")),
            (Failing, &["w"], ToggleWindow, "the last 24 hours or the last 7 days", Some("24h/7d")),
            (Failing, &["r"], Refresh, "read the sign-ins again", None),
            // The Health tab (#14): the tenant audit's findings.
            (Global, &["3"], ShowHealth, "show the tenant's health (the audit)", None),
            (Health, &["j", "down"], Down, "next finding", None),
            (Health, &["k", "up"], Up, "previous finding", None),
            (Health, &["g g", "home"], Top, "first finding", None),
            (Health, &["G", "end"], Bottom, "last finding", None),
            (Health, &["ctrl-d", "pagedown"], HalfPageDown, "half a page down", None),
            (Health, &["ctrl-u", "pageup"], HalfPageUp, "half a page up", None),
            (Health, &["enter"], Open, "open the app (at the FIC) or the identity", Some("open")),
            (Health, &["f"], FixFic, "fix it in the wizard (the corrected value filled in)", Some("fix")),
            (Health, &["/"], Filter, "new filter, as you type (fuzzy name or kind, expired, expires:<30d)", Some("filter")),
            (Health, &["s"], Sort, "sort by severity, age, app (again: reverse)", Some("sort")),
            (Health, &["o 1"], SortBy(0), "sort by severity, worst first (again: reverse)", None),
            (Health, &["o 2"], SortBy(1), "sort by age, oldest date first", None),
            (Health, &["o 3"], SortBy(2), "sort by app or identity name", None),
            (Health, &["S"], ReverseSort, "reverse the sort", None),
            (Health, &["tab"], NextPane, "back to the apps", Some("apps")),
            (Health, &["y"], Copy, "copy the finding as a line of text", None),
            // No footer label: the status line names it beside the findings' age.
            (Health, &["r"], Refresh, "audit the tenant again", None),
            (Health, &["F"], ShowFailing, "failing workloads: the failed sign-ins, at the selected finding's app", Some("failing")),
        ];
        Keymap {
            bindings: table
                .iter()
                .map(|(context, keys, action, description, hint)| Binding {
                    context: *context,
                    keys: chords(keys),
                    action: *action,
                    description,
                    hint: *hint,
                })
                .collect(),
        }
    }
}

/// `keymap.toml`: `action-name = "key"` or `["key", "g g"]`, at the top level (every screen
/// where the action is bound) or under a `[context]` table (`[lists]`, `[app-detail]`…).
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap.toml is not valid TOML ({0}); fix it or delete it to use the defaults")]
    Toml(String),
    #[error("keymap.toml: {0}")]
    Entry(String),
}

impl Keymap {
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// Applies the user's remapping on top of the defaults.
    pub fn with_overrides(mut self, text: &str) -> Result<Keymap, KeymapError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| KeymapError::Toml(e.to_string()))?;
        for (key, value) in &table {
            match value {
                toml::Value::Table(inner) => {
                    let context = context_from_name(key).ok_or_else(|| {
                        KeymapError::Entry(format!(
                            "[{key}] is not a screen; use global, lists, app-detail, identity-detail or sign-in"
                        ))
                    })?;
                    for (action, keys) in inner {
                        self.rebind(Some(context), action, keys)?;
                    }
                }
                keys => self.rebind(None, key, keys)?,
            }
        }
        Ok(self)
    }

    fn rebind(
        &mut self,
        context: Option<Context>,
        action_name: &str,
        value: &toml::Value,
    ) -> Result<(), KeymapError> {
        let action = Action::from_name(action_name).ok_or_else(|| {
            KeymapError::Entry(format!(
                "`{action_name}` is not an action; `?` in ficus lists them, e.g. quit, filter, delete-fic"
            ))
        })?;
        let texts: Vec<&str> = match value {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(items) => items.iter().filter_map(toml::Value::as_str).collect(),
            _ => {
                return Err(KeymapError::Entry(format!(
                    "`{action_name}` needs a key like \"q\" or a list like [\"q\", \"ctrl-c\"]"
                )));
            }
        };
        let mut keys = Vec::new();
        for text in texts {
            let sequence: Result<Keys, String> = text.split(' ').map(Chord::parse).collect();
            let sequence = sequence.map_err(KeymapError::Entry)?;
            if context == Some(Context::Input) && sequence.iter().any(Chord::types_text) {
                return Err(KeymapError::Entry(format!(
                    "`{text}` would be typed into the input, not act on it; under [input] use enter, esc, tab, up, down or a ctrl- key"
                )));
            }
            keys.push(sequence);
        }
        let mut found = false;
        for binding in &mut self.bindings {
            // A top-level entry leaves the text inputs alone (`back = ["esc", "q"]` must not
            // make `q` close a filter); `[input]` rebinds them.
            let applies = match context {
                Some(c) => c == binding.context,
                None => binding.context != Context::Input,
            };
            if binding.action == action && applies {
                binding.keys = keys.clone();
                found = true;
            }
        }
        if !found {
            return Err(KeymapError::Entry(format!(
                "`{action_name}` is not bound on that screen"
            )));
        }
        Ok(())
    }

    /// What `pending` followed by `key` means on a screen of `context`.
    pub fn lookup(&self, context: Context, pending: &[Chord], key: Chord) -> Lookup {
        let mut typed: Keys = pending.to_vec();
        typed.push(key);
        let mut is_prefix = false;
        // The screen's own bindings win over global ones.
        for scope in [context, Context::Global] {
            for binding in self.bindings.iter().filter(|b| b.context == scope) {
                for keys in &binding.keys {
                    if *keys == typed {
                        return Lookup::Action(binding.action);
                    }
                    if keys.len() > typed.len() && keys.starts_with(&typed) {
                        is_prefix = true;
                    }
                }
            }
        }
        if is_prefix {
            Lookup::Pending
        } else {
            Lookup::Unbound
        }
    }

    /// What `key` means to a text input with focus: only `[input]` bindings count (no global
    /// key: `q` typed into a filter is a `q`). `None`: type it.
    pub fn input_action(&self, key: &KeyEvent) -> Option<Action> {
        let typed = Chord::from_event(key);
        self.bindings
            .iter()
            .filter(|b| b.context == Context::Input)
            .find(|b| b.keys.iter().any(|k| k.as_slice() == [typed]))
            .map(|b| b.action)
    }

    /// The bindings a screen responds to: its own, then the global ones it does not shadow.
    pub fn for_context(&self, context: Context) -> Vec<&Binding> {
        let own: Vec<&Binding> = self
            .bindings
            .iter()
            .filter(|b| b.context == context)
            .collect();
        let global = self.bindings.iter().filter(|b| {
            b.context == Context::Global
                && context != Context::Global
                && !own
                    .iter()
                    .any(|o| o.keys.iter().any(|k| b.keys.contains(k)))
        });
        own.iter().copied().chain(global).collect()
    }

    /// The footer's hints: `key label` pairs.
    pub fn hints(&self, context: Context) -> Vec<(String, &'static str)> {
        self.hints_where(context, |_| true)
    }

    /// The footer's hints for the actions `offered` accepts (e.g. `fix` only when the selected
    /// FIC has a fix).
    pub fn hints_where(
        &self,
        context: Context,
        offered: impl Fn(Action) -> bool,
    ) -> Vec<(String, &'static str)> {
        let mut seen = BTreeMap::new();
        let mut hints = Vec::new();
        for binding in self.for_context(context) {
            if let Some(label) = binding.hint
                && offered(binding.action)
                && seen.insert(binding.action, ()).is_none()
                && let Some(keys) = binding.keys.first()
            {
                hints.push((keys_label(keys), label));
            }
        }
        hints
    }

    /// Keys bound to two different actions on one screen (a screen's own key hides a global
    /// one there), so a `keymap.toml` that takes a key already in use is told, not silently
    /// half-applied.
    pub fn conflicts(&self) -> Vec<String> {
        use Context::*;
        let mut found = Vec::new();
        for context in [
            Global,
            List,
            AppDetail,
            IdentityDetail,
            SignIn,
            Wizard,
            Exchange,
            Inspector,
            Workload,
            Failing,
        ] {
            let mut seen: Vec<(&Keys, Action, Context)> = Vec::new();
            let relevant = self
                .bindings
                .iter()
                .filter(|b| b.context == context || b.context == Global);
            for binding in relevant {
                for keys in &binding.keys {
                    let clash = seen.iter().find(|(k, action, owner)| {
                        *k == keys
                            && *action != binding.action
                            // Two global bindings clash once, on `Global`, not on every screen.
                            && (context == Global || *owner != Global || binding.context != Global)
                    });
                    match clash {
                        Some((_, other, _)) => found.push(format!(
                            "`{}` is both {} and {} on {}",
                            keys_label(keys),
                            other.name(),
                            binding.action.name(),
                            context.title()
                        )),
                        None => seen.push((keys, binding.action, binding.context)),
                    }
                }
            }
        }
        found
    }
}

fn context_from_name(name: &str) -> Option<Context> {
    match name {
        "global" => Some(Context::Global),
        "lists" | "list" => Some(Context::List),
        "app-detail" => Some(Context::AppDetail),
        "identity-detail" => Some(Context::IdentityDetail),
        "sign-in" | "signin" => Some(Context::SignIn),
        "wizard" => Some(Context::Wizard),
        "exchange" => Some(Context::Exchange),
        "inspector" => Some(Context::Inspector),
        "panel" | "help" => Some(Context::Panel),
        "export" => Some(Context::ExportView),
        "confirm" => Some(Context::Question),
        "workload" => Some(Context::Workload),
        "input" => Some(Context::Input),
        "failing" => Some(Context::Failing),
        "health" => Some(Context::Health),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Chord {
        Chord::parse(text).expect("valid key")
    }

    #[test]
    fn dispatches_single_keys_and_sequences() {
        let keymap = Keymap::default();
        assert_eq!(
            keymap.lookup(Context::List, &[], key("j")),
            Lookup::Action(Action::Down)
        );
        assert_eq!(keymap.lookup(Context::List, &[], key("g")), Lookup::Pending);
        assert_eq!(
            keymap.lookup(Context::List, &[key("g")], key("g")),
            Lookup::Action(Action::Top)
        );
        assert_eq!(
            keymap.lookup(Context::List, &[], key("G")),
            Lookup::Action(Action::Bottom)
        );
        assert_eq!(
            keymap.lookup(Context::AppDetail, &[], key("q")),
            Lookup::Action(Action::Quit)
        );
        assert_eq!(keymap.lookup(Context::List, &[], key("D")), Lookup::Unbound);
        assert_eq!(
            keymap.lookup(Context::AppDetail, &[], key("D")),
            Lookup::Action(Action::DeleteFic)
        );
    }

    #[test]
    fn every_action_has_a_description_and_a_name_that_round_trips() {
        let keymap = Keymap::default();
        for binding in keymap.bindings() {
            assert!(!binding.description.is_empty());
            assert_eq!(
                Action::from_name(binding.action.name()),
                Some(binding.action)
            );
        }
    }

    #[test]
    fn keymap_toml_rebinds_actions() {
        let keymap = Keymap::default()
            .with_overrides("quit = [\"x\", \"ctrl-q\"]\n[lists]\nfilter = \"f\"\n")
            .expect("valid overrides");
        assert_eq!(
            keymap.lookup(Context::List, &[], key("x")),
            Lookup::Action(Action::Quit)
        );
        assert_eq!(keymap.lookup(Context::List, &[], key("q")), Lookup::Unbound);
        assert_eq!(
            keymap.lookup(Context::List, &[], key("f")),
            Lookup::Action(Action::Filter)
        );
        assert_eq!(
            keymap.lookup(Context::List, &[], key("ctrl-q")),
            Lookup::Action(Action::Quit)
        );
        // `x` already tests the exchange on the detail screens: said, not silently shadowed.
        let conflicts = keymap.conflicts();
        assert!(
            conflicts
                .iter()
                .any(|c| c == "`x` is both quit and test-exchange on app detail"),
            "{conflicts:?}"
        );
    }

    #[test]
    fn the_default_keymap_has_no_conflicts() {
        assert_eq!(Keymap::default().conflicts(), Vec::<String>::new());
    }

    /// The README's `keymap.toml` example is valid and takes no key that is already in use.
    #[test]
    fn readme_keymap_example_is_valid_and_collides_with_nothing() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("```toml\n# ~/.config/ficus/keymap.toml")
            .expect("the README shows a keymap.toml example");
        let body = &readme[start + "```toml\n".len()..];
        let example = &body[..body.find("```").expect("the example block ends")];
        let keymap = Keymap::default()
            .with_overrides(example)
            .expect("the README's example parses");
        assert_eq!(keymap.conflicts(), Vec::<String>::new());
        // And it changes something: every binding it names is in effect.
        assert_ne!(
            keymap.lookup(Context::List, &[], key("ctrl-q")),
            Lookup::Unbound
        );
    }

    #[test]
    fn bad_keymap_toml_says_what_to_write() {
        let error = Keymap::default()
            .with_overrides("fly = \"z\"")
            .expect_err("unknown action");
        assert!(error.to_string().contains("not an action"));
        let error = Keymap::default()
            .with_overrides("quit = \"ctrl-\"")
            .expect_err("bad key");
        assert!(error.to_string().contains("not a key"));
        assert!(Keymap::default().with_overrides("quit = ").is_err());
    }

    #[test]
    fn hints_come_from_the_table() {
        let hints = Keymap::default().hints(Context::AppDetail);
        assert!(
            hints
                .iter()
                .any(|(k, d)| k == "D" && d.starts_with("delete"))
        );
        assert!(hints.iter().any(|(k, _)| k == "q"));
    }
}
