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

pub mod directory;
pub mod domain;
pub mod effects;
pub mod filter;
pub mod keymap;
pub mod model;
pub mod msg;
pub mod run;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod update;
pub mod views;
pub mod wizard;

pub use directory::{Connected, Connector, GraphDirectory};
pub use effects::{Directory, MemoryDirectory, Page};
pub use msg::{Cmd, Msg, Session};
pub use run::{ConsoleError, ConsoleOptions, run};
pub use state::State;
pub use update::update;
