//! The command palette (`:`, or a paste outside inputs): an input with suggestions as you type
//! (commands, themes, apps and identities by fuzzy name). Enter asks the root to run the line
//! (`Nav::RunPalette`): the lists, the tenant, the theme and `whois` are the root's.

use ficus_core::text::sanitize;
use ratatui::crossterm::event::KeyEvent;
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use crate::component::{Command, Component, Ctx, Outcome};
use crate::keymap::{Action, Context};
use crate::nav::Nav;
use crate::overlay::{PaletteRun, PaletteScreen, PaletteTarget, Suggestion};

/// How many suggestions the palette shows.
pub const PALETTE_SUGGESTIONS: usize = 8;

/// The palette's commands, with what each does.
pub const PALETTE_COMMANDS: &[(&str, &str)] = &[
    ("apps", "show app registrations"),
    ("identities", "show managed identities"),
    (
        "tenant ",
        "switch tenant: sign in to another tenant (domain or id)",
    ),
    (
        "whois ",
        "what a GUID is: app, identity, tenant, well-known id",
    ),
    ("explain ", "what an AADSTS error means and how to fix it"),
    (
        "decode ",
        "token inspector: decode, verify, match against an app's FICs",
    ),
    ("exchange ", "test the exchange: exchange [app] [identity]"),
    ("theme ", "switch colour theme"),
    ("help", "every key of this screen"),
    (
        "failing",
        "failing workloads: failed sign-ins grouped, with the FIC at fault",
    ),
    ("undo", "undo the last change ficus made in this tenant"),
];

/// The palette with `prefill` typed, and its suggestions.
pub fn open(ctx: &Ctx, prefill: &str) -> PaletteScreen {
    let mut palette = PaletteScreen {
        input: Input::new(prefill.to_string()),
        suggestions: Vec::new(),
        selected: 0,
    };
    palette.refresh(ctx);
    palette
}

impl PaletteScreen {
    fn refresh(&mut self, ctx: &Ctx) {
        self.suggestions = suggestions_for(ctx, self.input.value());
        self.selected = self.selected.min(self.suggestions.len().saturating_sub(1));
    }
}

impl Component for PaletteScreen {
    /// The palette is an input: its keys are typed into it, none is looked up.
    fn context(&self) -> Context {
        Context::Global
    }

    fn commands(&self, _ctx: &Ctx) -> Vec<Command> {
        vec![
            Command::typing(Action::Up, "choose").with(Action::Down),
            Command::typing(Action::Open, "run"),
            Command::typing(Action::Back, "close"),
        ]
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        match ctx.keymap.input_action(&key) {
            Some(Action::Back) => return Some(Outcome::nav(Nav::CloseOverlay)),
            Some(Action::Down | Action::NextPane) => {
                self.selected = (self.selected + 1).min(self.suggestions.len().saturating_sub(1));
            }
            Some(Action::Up | Action::PreviousPane) => {
                self.selected = self.selected.saturating_sub(1)
            }
            Some(Action::Open) => {
                let run = PaletteRun {
                    input: self.input.value().trim().to_string(),
                    chosen: self.suggestions.get(self.selected).cloned(),
                };
                return Some(Outcome::nav(Nav::RunPalette(Box::new(run))));
            }
            _ => {
                let event = ratatui::crossterm::event::Event::Key(key);
                if let Some(request) = to_input_request(&event) {
                    self.input.handle(request);
                    self.selected = 0;
                    self.refresh(ctx);
                }
            }
        }
        Some(Outcome::default())
    }

    fn on_action(&mut self, _action: Action, _ctx: &Ctx) -> Outcome {
        Outcome::default()
    }

    fn on_paste(&mut self, text: &str, ctx: &Ctx) -> Option<Outcome> {
        for c in sanitize(text.trim()).chars() {
            self.input.handle(InputRequest::InsertChar(c));
        }
        self.refresh(ctx);
        Some(Outcome::default())
    }
}

pub fn suggestions_for(ctx: &Ctx, input: &str) -> Vec<Suggestion> {
    let input = input.trim_start();
    let lower = input.to_ascii_lowercase();
    let mut suggestions = Vec::new();
    if let Some(rest) = lower.strip_prefix("tenant ") {
        // The tenants this session knows it can switch to; any other name can still be typed.
        let wanted = rest.trim();
        let current = ctx.session.map(|s| s.tenant.to_ascii_lowercase());
        for name in ctx
            .session
            .map(|s| s.known_tenants.as_slice())
            .unwrap_or_default()
        {
            let folded = name.to_ascii_lowercase();
            if folded.starts_with(wanted) {
                let is_current = current.as_deref().is_some_and(|c| c.starts_with(&folded));
                suggestions.push(Suggestion {
                    label: format!("tenant {name}"),
                    detail: if is_current {
                        "current".into()
                    } else {
                        String::new()
                    },
                    target: PaletteTarget::Command(format!("tenant {name}")),
                });
            }
        }
        if !suggestions.is_empty() {
            return suggestions;
        }
    }
    if let Some(rest) = lower.strip_prefix("theme") {
        let wanted = rest.trim();
        for name in ctx.themes.names() {
            if name.starts_with(wanted) {
                suggestions.push(Suggestion {
                    label: format!("theme {name}"),
                    detail: if name == ctx.theme {
                        "current".into()
                    } else {
                        String::new()
                    },
                    target: PaletteTarget::Command(format!("theme {name}")),
                });
            }
        }
        return suggestions;
    }
    for (command, description) in PALETTE_COMMANDS {
        if !lower.is_empty() && command.trim_end().starts_with(lower.trim_end()) {
            suggestions.push(Suggestion {
                label: command.trim_end().to_string(),
                detail: description.to_string(),
                target: PaletteTarget::Command(command.to_string()),
            });
        }
    }
    let is_command = PALETTE_COMMANDS
        .iter()
        .any(|(command, _)| command.ends_with(' ') && lower.starts_with(command));
    if lower.is_empty() {
        for (command, description) in PALETTE_COMMANDS {
            suggestions.push(Suggestion {
                label: command.trim_end().to_string(),
                detail: description.to_string(),
                target: PaletteTarget::Command(command.to_string()),
            });
        }
        return suggestions;
    }
    if is_command {
        return suggestions;
    }
    let pattern = nucleo_matcher::pattern::Pattern::parse(
        input,
        nucleo_matcher::pattern::CaseMatching::Ignore,
        nucleo_matcher::pattern::Normalization::Smart,
    );
    let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
    // Score everything, but build suggestions only for the few shown.
    let apps = ctx.apps.items();
    let identities = ctx.identities.items();
    let mut scored: Vec<(u32, bool, usize)> = ctx
        .apps
        .fuzzy_scores(&pattern, &mut matcher)
        .into_iter()
        .map(|(score, i)| (score, true, i))
        .chain(
            ctx.identities
                .fuzzy_scores(&pattern, &mut matcher)
                .into_iter()
                .map(|(score, i)| (score, false, i)),
        )
        .collect();
    let name_len = |&(_, is_app, i): &(u32, bool, usize)| {
        if is_app {
            apps[i].name.len()
        } else {
            identities[i].name.len()
        }
    };
    // Best score first; ties by shorter name, which is usually the exact one. Only the first
    // few are ordered: there may be 100 000 matches.
    let order = |a: &(u32, bool, usize), b: &(u32, bool, usize)| {
        b.0.cmp(&a.0).then(name_len(a).cmp(&name_len(b)))
    };
    if scored.len() > PALETTE_SUGGESTIONS {
        scored.select_nth_unstable_by(PALETTE_SUGGESTIONS, order);
        scored.truncate(PALETTE_SUGGESTIONS);
    }
    scored.sort_unstable_by(order);
    suggestions.extend(
        scored
            .into_iter()
            .take(PALETTE_SUGGESTIONS)
            .map(|(_, is_app, i)| {
                if is_app {
                    Suggestion {
                        label: apps[i].name.clone(),
                        detail: "app".into(),
                        target: PaletteTarget::App(apps[i].object_id.clone()),
                    }
                } else {
                    Suggestion {
                        label: identities[i].name.clone(),
                        detail: "identity".into(),
                        target: PaletteTarget::Identity(identities[i].principal_id.clone()),
                    }
                }
            }),
    );
    suggestions
}
