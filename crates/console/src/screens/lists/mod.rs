//! The Apps and Identities lists, a [`Component`] at the bottom of the screen stack: which
//! list is shown, the filter being typed, the row the cursor rests on (its preview) and the
//! details fetched meanwhile. The rows themselves (`Listing`s, with their filter, sort and
//! cursor) are the root's, because every screen reads them through [`Ctx`] (the pickers, the
//! palette); this screen asks for changes to them with a [`ListingChange`] in its `Outcome`
//! and for navigation with a `Nav` (open a row, the wizard, the exchange).

mod rest;

use ratatui::crossterm::event::KeyEvent;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::component::{
    Command, Component, Ctx, Outcome, ToastLevel, filter_typing_commands, keymap_commands,
};
use crate::filter::Row;
use crate::keymap::{Action, Context};
use crate::model::{AppRow, IdentityRow};
use crate::msg::Cmd;
use crate::nav::{AppChoice, ExchangeEntry, Given, ListKind, ListingChange, ListingEdit, Nav};

pub use rest::{
    CachedDetail, DetailCache, PREVIEW_HEIGHT, REST_DELAY, Rest, RestStage, RestTarget,
};

/// Where the Apps list's rows came from when the warm start's cache gave them (#17): the
/// status line says how old they are and whether the refresh behind them landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheMarker {
    /// Shown from the cache last brought up to date at `saved_at`; the refresh runs.
    Refreshing { saved_at: time::OffsetDateTime },
    /// The refresh landed: the rows are current.
    Updated { changed: usize, removed: usize },
    /// The refresh failed (`error`): the rows are as of `saved_at`.
    Stale {
        saved_at: time::OffsetDateTime,
        error: String,
    },
}

/// The lists' own state (the rows are the root's; see the module doc).
pub struct ListsScreen {
    pub list: ListKind,
    /// The filter being typed, per list; `editing_filter` says whether keys go to it.
    pub apps_filter: Input,
    pub identities_filter: Input,
    pub editing_filter: bool,
    /// The list row the cursor rests on (see [`REST_DELAY`]).
    pub rest: Option<Rest>,
    pub details: DetailCache,
    /// The Apps list came from the cache: how old, refreshed or not (`None`: listed live).
    pub apps_cache: Option<CacheMarker>,
}

impl Default for ListsScreen {
    fn default() -> Self {
        ListsScreen {
            list: ListKind::Apps,
            apps_filter: Input::default(),
            identities_filter: Input::default(),
            editing_filter: false,
            rest: None,
            details: DetailCache::default(),
            apps_cache: None,
        }
    }
}

impl ListsScreen {
    /// The filter input of the list shown.
    pub fn filter(&self) -> &Input {
        match self.list {
            ListKind::Apps => &self.apps_filter,
            ListKind::Identities => &self.identities_filter,
        }
    }

    fn filter_mut(&mut self) -> &mut Input {
        match self.list {
            ListKind::Apps => &mut self.apps_filter,
            ListKind::Identities => &mut self.identities_filter,
        }
    }

    /// Shows `list` (a tab, `1`/`2`, the palette's `apps`); the filter input closes.
    pub fn show(&mut self, list: ListKind) {
        self.list = list;
        self.editing_filter = false;
    }

    fn change(&self, edit: ListingEdit) -> ListingChange {
        ListingChange {
            list: self.list,
            edit,
        }
    }

    /// Sets the filter text of the list shown (the input follows when the text came from
    /// elsewhere) and asks the listing to filter by it.
    fn set_filter(&mut self, value: String, out: &mut Outcome) {
        if self.filter().value() != value {
            *self.filter_mut() = Input::new(value.clone());
        }
        out.listing.push(self.change(ListingEdit::Query(value)));
    }

    /// Keys while the filter input has focus (what they mean: the keymap's `[input]`).
    fn on_filter_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Outcome {
        let mut out = Outcome::default();
        match ctx.keymap.input_action(&key) {
            // Esc and Enter close the input and keep the filter; Esc again clears it.
            Some(Action::Back | Action::Open) => self.editing_filter = false,
            Some(Action::Down) => out.listing.push(self.change(ListingEdit::MoveCursor(1))),
            Some(Action::Up) => out.listing.push(self.change(ListingEdit::MoveCursor(-1))),
            _ => {
                let event = ratatui::crossterm::event::Event::Key(key);
                if let Some(request) = to_input_request(&event) {
                    let input = self.filter_mut();
                    input.handle(request);
                    let value = input.value().to_string();
                    self.set_filter(value, &mut out);
                }
            }
        }
        out
    }

    /// The sort of the list shown, and its column titles.
    fn current_sort(&self, ctx: &Ctx) -> (Option<(usize, bool)>, &'static [&'static str]) {
        match self.list {
            ListKind::Apps => (ctx.apps.sort(), AppRow::columns()),
            ListKind::Identities => (ctx.identities.sort(), IdentityRow::columns()),
        }
    }

    /// `s`: the next column ascending; a column already ascending turns descending first.
    fn cycle_sort(&self, ctx: &Ctx) -> Outcome {
        let (sort, columns) = self.current_sort(ctx);
        let (column, descending) = match sort {
            None => (0, false),
            Some((column, false)) => (column, true),
            Some((column, true)) => ((column + 1) % columns.len(), false),
        };
        let again = ctx.key(Context::List, Action::Sort);
        let next = format!("{again} again for the next column");
        self.sort(column, descending, columns, &next)
    }

    /// A column's own key: that column ascending; again, descending.
    fn sort_by(&self, column: usize, ctx: &Ctx) -> Outcome {
        let (sort, columns) = self.current_sort(ctx);
        if column >= columns.len() {
            return Outcome::default();
        }
        let descending = sort == Some((column, false));
        let again = ctx.key(Context::List, Action::SortBy(column as u8));
        self.sort(
            column,
            descending,
            columns,
            &format!("{again} again to reverse"),
        )
    }

    /// The same column the other way round.
    fn reverse_sort(&self, ctx: &Ctx) -> Outcome {
        let (sort, columns) = self.current_sort(ctx);
        let (column, descending) = sort.unwrap_or((0, false));
        let again = ctx.key(Context::List, Action::ReverseSort);
        self.sort(
            column,
            !descending,
            columns,
            &format!("{again} again to reverse"),
        )
    }

    fn sort(&self, column: usize, descending: bool, columns: &[&str], next: &str) -> Outcome {
        let mut out = Outcome::default();
        out.listing
            .push(self.change(ListingEdit::Sort { column, descending }));
        let direction = if descending {
            "descending"
        } else {
            "ascending"
        };
        out.set_toast(
            ToastLevel::Info,
            format!("Sorted by {} ({direction}); {next}", columns[column]),
        );
        out
    }

    fn open(&self, ctx: &Ctx) -> Outcome {
        let nav = match self.list {
            ListKind::Apps => ctx.apps.selected().map(|app| Nav::OpenApp {
                object_id: app.object_id.clone(),
                name: app.name.clone(),
            }),
            ListKind::Identities => ctx
                .identities
                .selected()
                .map(|identity| Nav::OpenIdentity(Box::new(identity.clone()))),
        };
        Outcome {
            nav,
            ..Outcome::default()
        }
    }

    fn refresh(&mut self, ctx: &Ctx) -> Outcome {
        self.forget_details();
        if self.list == ListKind::Apps {
            self.apps_cache = None;
        }
        let request = ctx.new_request();
        let mut out = Outcome::default();
        out.set_toast(ToastLevel::Info, "Reloading from the directory…");
        out.listing
            .push(self.change(ListingEdit::Reload { request }));
        out.cmds.push(match self.list {
            ListKind::Apps => Cmd::LoadApps { request },
            ListKind::Identities => Cmd::LoadIdentities { request },
        });
        out
    }

    fn copy(&self, ctx: &Ctx, id: bool) -> Outcome {
        let picked = match self.list {
            ListKind::Apps => ctx.apps.selected().map(|app| {
                if id {
                    ("the app id", app.app_id.clone())
                } else {
                    ("the name", app.name.clone())
                }
            }),
            ListKind::Identities => ctx.identities.selected().map(|identity| {
                if id {
                    ("the client id", identity.client_id.clone())
                } else {
                    ("the name", identity.name.clone())
                }
            }),
        };
        let mut out = Outcome::default();
        if let Some((what, text)) = picked {
            out.set_toast(ToastLevel::Info, crate::terminal::sent_to_clipboard(what));
            out.cmds.push(Cmd::copy(text));
        }
        out
    }

    fn add_fic(&self, ctx: &Ctx) -> Outcome {
        let given = match self.list {
            ListKind::Apps => ctx.apps.selected().map(|app| Given::App(app.clone(), None)),
            ListKind::Identities => ctx.identities.selected().cloned().map(Given::Identity),
        };
        Outcome {
            nav: given.map(|given| Nav::StartWizard(Box::new(given))),
            ..Outcome::default()
        }
    }

    fn test_exchange(&self, ctx: &Ctx) -> Outcome {
        let mut entry = ExchangeEntry::default();
        match self.list {
            ListKind::Apps => entry.app = ctx.apps.selected().map(AppChoice::from),
            ListKind::Identities => entry.identity = ctx.identities.selected().cloned(),
        }
        Outcome::nav(Nav::OpenExchange(Box::new(entry)))
    }
}

impl Component for ListsScreen {
    fn context(&self) -> Context {
        Context::List
    }

    /// While the filter is typed into, its keys; else the list's (the keymap's table).
    fn commands(&self, ctx: &Ctx) -> Vec<Command> {
        if self.editing_filter {
            return filter_typing_commands();
        }
        keymap_commands(ctx.keymap, Context::List)
    }

    fn on_key(&mut self, key: KeyEvent, ctx: &Ctx) -> Option<Outcome> {
        self.editing_filter.then(|| self.on_filter_key(key, ctx))
    }

    fn on_action(&mut self, action: Action, ctx: &Ctx) -> Outcome {
        let half_page = (ctx.list_height / 2).max(1) as isize;
        let move_by = |delta: isize| {
            let mut out = Outcome::default();
            out.listing
                .push(self.change(ListingEdit::MoveCursor(delta)));
            out
        };
        match action {
            Action::Up => move_by(-1),
            Action::Down => move_by(1),
            Action::HalfPageUp => move_by(-half_page),
            Action::HalfPageDown => move_by(half_page),
            Action::Top => move_by(isize::MIN / 2),
            Action::Bottom => move_by(isize::MAX / 2),
            Action::Filter => {
                // `/` starts a new filter, as a new search in less or vim.
                let mut out = Outcome::default();
                self.set_filter(String::new(), &mut out);
                self.editing_filter = true;
                out
            }
            Action::Back => {
                // Esc clears a kept filter.
                let mut out = Outcome::default();
                if !self.filter().value().is_empty() {
                    self.set_filter(String::new(), &mut out);
                }
                out
            }
            Action::NextPane => match self.list {
                ListKind::Apps => {
                    self.show(ListKind::Identities);
                    Outcome::default()
                }
                // The third tab is the Health view (#14), its own screen; from it, Tab
                // comes back to the apps.
                ListKind::Identities => {
                    self.show(ListKind::Apps);
                    Outcome::nav(Nav::OpenHealth)
                }
            },
            Action::Sort => self.cycle_sort(ctx),
            Action::SortBy(column) => self.sort_by(column as usize, ctx),
            Action::ReverseSort => self.reverse_sort(ctx),
            Action::Open => self.open(ctx),
            Action::Refresh => self.refresh(ctx),
            Action::Copy => self.copy(ctx, false),
            Action::CopyId => self.copy(ctx, true),
            Action::AddFic => self.add_fic(ctx),
            Action::TestExchange => self.test_exchange(ctx),
            _ => Outcome::ignored(),
        }
    }

    /// Pastes go into the filter while it has focus.
    fn on_paste(&mut self, text: &str, _ctx: &Ctx) -> Option<Outcome> {
        if !self.editing_filter {
            return None;
        }
        let input = self.filter_mut();
        for c in text.chars() {
            input.handle(tui_input::InputRequest::InsertChar(c));
        }
        let value = input.value().to_string();
        let mut out = Outcome::default();
        self.set_filter(value, &mut out);
        Some(out)
    }
}

#[cfg(test)]
mod tests;
