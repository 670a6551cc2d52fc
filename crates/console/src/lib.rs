//! The full-screen console.
//!
//! The loop (design.md, "How data flows"): one task owns [`State`]; terminal events and effect
//! results arrive as [`Msg`] on one channel; [`update`] is pure and returns [`Cmd`]s; the
//! effects runner ([`effects`]) executes them on tokio through the [`Directory`] trait and
//! answers with a `Msg` tagged with its request id. Views ([`views::draw`]) are a function of
//! the state.
//!
//! For the wizard (#6) and the exchange screen (#7): add a `Screen` variant in `state.rs`, its
//! keys as a `Context` in `keymap.rs` (with descriptions: they become hints and help), its
//! transitions in `update.rs`, and its drawing in `views/`.
//!
//! The live test exchange and the token inspector (#7) live in [`exchange`] and
//! [`inspector`] (drawn by `views/exchange.rs` and `views/inspector.rs`). Entry points:
//! - from any screen, e.g. the wizard's last step: `update(state, Msg::OpenExchange(
//!   Box::new(ExchangeEntry { app, identity, just_created: true, run: true, .. })))`, or call
//!   [`exchange::open`] directly; `just_created` turns an AADSTS70021 into an explained
//!   replication delay with automatic retries (5, 10, 20, 40 s);
//! - `x` on an app's detail (with the selected FIC's identity) or an identity's detail (with
//!   the selected trusting app); the palette's `exchange [app] [identity]`;
//! - the inspector: palette `decode TOKEN` / `inspect`, a pasted token on the lists, `i` on the
//!   exchange screen ([`inspector::open`], [`inspector::open_with`]).
//! - `F` on a failed exchange sends `Msg::EditFic(FicFix { app, fic, field, corrected })`: the
//!   wizard (#6) opens that FIC with `corrected` in `field` ([`wizard::open_correction`]).
//!
//! The Managed Identity FIC wizard (#6) lives in [`wizard`] (drawn by `views/wizard.rs`); its
//! state machine is `Screen::Wizard`, its keys `Context::Wizard`, its effects
//! `Cmd::Wizard`/`Msg::Wizard` (create and update through [`Directory::create_fic`] and
//! [`Directory::update_fic`]). Entry points: `a` on an app or identity (list or detail) →
//! [`wizard::start`]; `c` / `f` on a FIC in App detail → [`wizard::start_edit`] /
//! [`wizard::start_fix`]; `Msg::EditFic` → [`wizard::open_correction`]. Its last step's `x`
//! opens the exchange screen with `just_created`.
//!
//! The exchange runs through [`Directory::exchange`] (Graph-backed in `directory.rs`, which
//! calls `entra::sts::exchange_observed` and reports each step as it ends); the managed
//! identity token comes from `Connected::msi_host` (the sandbox's emulated host with
//! `--sandbox`), else from this machine's environment (App Service, workload identity file,
//! IMDS after a sub-second probe).

pub mod component;
pub mod directory;
pub mod domain;
pub mod effects;
pub mod error;
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
pub use screens::{exchange, inspector, wizard};

pub use directory::{Connected, Connector, GraphDirectory};
pub use effects::{Directory, MemoryDirectory, Page};
pub use msg::{Cmd, Msg, Session};
pub use run::{ConsoleError, ConsoleOptions, run};
pub use state::State;
pub use update::update;
