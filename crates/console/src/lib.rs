//! The full-screen console.
//!
//! The loop: one task owns [`State`]; terminal events and effect results arrive as [`Msg`] on
//! one channel; [`update()`](update::update) changes the state without I/O and returns [`Cmd`]s; the effects
//! runner ([`effects`]) executes them on tokio through the [`Directory`] trait and answers with
//! a `Msg` tagged with its request id ([`request`]). Views ([`views::draw`]) are a function of
//! the state.
//!
//! Where things are, from the bottom up (a module uses only those above it in this list, so
//! there is no import circle):
//!
//! - [`model`], [`domain`], [`filter`], [`keymap`], [`theme`]: rows and details (an
//!   `IdentityRow` is core's `Identity` plus its trust count), export snippets, filtered lists
//!   (and `TextMatch`, the same matcher for the pickers), key bindings, colours. Sanitizing,
//!   times in words, well-known GUIDs and AADSTS parsing are core's (`ficus_core::text`,
//!   `fic::guid`, `fic::aadsts`); the console keeps no copy.
//! - [`evidence`]: what the sign-in logs say about each of an app's credentials (and whether
//!   a secret may go after the quiet period), and the failing workloads' rows.
//! - [`request`] (request ids), [`error`] (`DirectoryError`: an effect's failure by kind),
//!   [`token_effects`] (the exchange's and inspector's commands, answers and run data),
//!   [`overlay`] (help, palette, confirmations, export and text panels: their state; the
//!   palette's `PaletteRun`).
//! - [`msg`]: `Msg` in, `Cmd` out.
//! - [`nav`]: `Nav`, where a screen asks to go (open the exchange, edit a FIC in the wizard,
//!   pop…), and the intents' payloads (`ExchangeEntry`, `FicFix`, `Given`…).
//! - [`component`]: what a screen is to the root. `Ctx` is what a screen may read (the session,
//!   the lists, the keymap, request ids, the themes); `Outcome` is its answer (commands, a toast, a `Nav`,
//!   a FIC count that changed); the `Component` trait (`on_key` for a focused input,
//!   `on_action`, `on_unbound`, `on_paste`, `commands()`, `needs_tick`); `Command`, the one
//!   table of what a screen offers that key dispatch, the footer and `?` help read.
//! - [`widgets`]: pieces several screens share (the picker, its app and identity items by
//!   name with what already trusts what, and the token-file input).
//! - [`screens`]: one component per file or folder: `lists/` (the Apps and Identities lists:
//!   which list, the filter input, sorting, the resting row's preview and the details cache;
//!   it asks the root for listing changes, `ListingChange`, since the rows are read by every
//!   screen), `app_detail`, `identity_detail`, `wizard/`
//!   (state, open, keys, commands, picker, review, effect), `exchange/` (state, open, run, keys,
//!   diff, remedy: what `F` offers, from core's remedies), `inspector/`, `workload/` ("use it in
//!   your workload": core's snippets, a tab per SDK), `failing/` (failed workload sign-ins
//!   grouped, joined with the FICs by entra's `failing_workloads`: `f` fix, `x` test),
//!   `health/` (the Health tab, #14: the
//!   tenant audit's findings streamed into a `Listing`, at the bottom of the stack; its
//!   effects in `effects/health.rs`), and the overlays
//!   `help` (scrolling, closing) and `palette` (its input, suggestions, commands table; Enter
//!   answers `Nav::RunPalette`). Each owns its state and answers with an `Outcome`; none
//!   imports the root or another screen. Their effects' answers arrive through `on_msg`.
//! - [`effects`]: the `Directory` trait (every failure a `DirectoryError`), the one runner (`spawn`, with the screens' effects in
//!   `effects/wizard.rs` and `effects/exchange.rs`), panics contained (`guard`), a directory in
//!   memory for tests (`memory`); [`directory`]: the Graph-backed directory, holding one
//!   connection swapped whole on a tenant switch. The warm start (#17): `effects/apps.rs`
//!   sends the cached rows first (`Directory::cached_apps`, `Msg::AppsCached`: no network),
//!   then the delta behind them (`refresh_cached_apps`, `Msg::AppsRefreshed` or
//!   `AppsRefreshFailed`); `update/lists.rs` applies them (`Listing::apply_changes`) and the
//!   status line shows the lists screen's `CacheMarker`.
//! - [`state`]: `State`, the screen stack (`Screen`), the sign-in phase, the row previews.
//! - [`update()`](update::update): the root. It routes keys (one dispatch: overlay, type-ahead, filter, the top
//!   screen's focused input, then the keymap's action to the top screen, then the console's
//!   own), routes effect answers to their screen, and is the only place that applies a `Nav`
//!   (`update/navigate.rs`; `Nav::RunPalette` in `update/overlays.rs`) and the only place
//!   that writes the listings (`update/lists.rs` applies the lists screen's `ListingChange`s
//!   and starts the resting row's delay around every message). Its files import one way, each
//!   only files before it: `lists.rs`; `navigate.rs`; `details.rs` (an app's or identity's
//!   detail arriving, one path for both), `fic_actions.rs`, `sign_in.rs`, `palette.rs`
//!   (running the palette's commands, `whois`); `overlays.rs`; `mod.rs` over all (no shared
//!   prelude).
//! - [`views`] draw it all; [`run()`](run::run) is the terminal loop.
//!
//! Adding a screen: a file or folder in `screens/` with its state and a `Component` impl, a
//! `Screen` variant in `state.rs`, its keys as a `Context` in `keymap.rs` (with descriptions:
//! they become hints and help), a `Nav` variant if other screens open it, its drawing in
//! `views/`. A text input's keys are the keymap's `Context::Input` (`Command::typing` in its
//! `commands()`, `Keymap::input_action` in its `on_key`), so they show and work remapped.
//!
//! The exchange runs through `Directory::exchange` (Graph-backed in `directory.rs`, which
//! calls `entra::sts::exchange_observed` and reports each step as it ends); the managed
//! identity token comes from the connection's `msi_host` (the sandbox's emulated host with
//! `--sandbox`), else from this machine's environment (App Service, workload identity file,
//! IMDS after a sub-second probe).

pub mod component;
pub mod directory;
pub mod domain;
pub mod effects;
pub mod error;
pub mod evidence;
pub mod filter;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod nav;
pub mod overlay;
pub mod request;
pub mod run;
pub mod screens;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod token_effects;
pub mod update;
pub mod views;
pub mod widgets;

/// The screens under their earlier names (the integration tests use them).
pub use screens::{exchange, inspector, wizard, workload};

pub use directory::{Connected, Connector, GraphDirectory};
pub use effects::{Directory, MemoryDirectory, Page};
pub use msg::{Cmd, Msg, Session};
pub use run::{ConsoleError, ConsoleOptions, Ended, run, run_graph};
pub use state::State;
pub use update::update;
