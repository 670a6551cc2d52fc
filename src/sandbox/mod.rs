//! The sandbox: a local emulator of the Entra token service, the Graph subset and the managed
//! identity endpoints that ficus uses.
//!
//! Map of the module:
//! - `model.rs`  the directory: [`model::Directory`] → [`model::Tenant`] (users with roles,
//!   applications with secrets/certificates/FICs/identifier URIs/app roles, service principals
//!   incl. managed identities) + the emulated host ([`model::EmulatedHost`]) + signing keys.
//!   GUIDs from names: [`model::derived_uuid`].
//! - `state.rs`  [`state::AppState`] (shared by every handler: `read(|dir| ..)`,
//!   `update(|dir| ..)` which also schedules the save; `authority`, `faults`, `keys`) and
//!   persistence (`load`, `save`: atomic JSON file).
//! - `keys.rs`   per-tenant RSA keys, [`keys::KeyRing`], JWKS.
//! - `tokens.rs` minting (MI, app, user, id tokens, client_info), [`tokens::resolve_resource`],
//!   sessions (device codes, refresh tokens), and the Graph bearer check
//!   [`tokens::authenticate_graph`] → [`tokens::Caller`] / [`tokens::GraphAuthError`].
//! - `faults.rs` `--faults` parsing ([`faults::Faults`]) and the throttle counter.
//! - `graph.rs`, `odata.rs`  Graph v1.0 (`graph::router()`, merged under the main listener).

pub mod faults;
pub mod graph;
pub mod keys;
pub mod model;
pub mod state;
pub mod tokens;
