//! ficus: a terminal console for Microsoft Entra ID administrators, built around federated
//! identity credentials (FICs) that let an app registration trust a user-assigned managed
//! identity, and a local sandbox that emulates the Entra token service, Graph and the managed
//! identity endpoints.
//!
//! The parts and which way the arrows go are in `shared/docs/design.md`:
//! `cli` → `tui` → `entra` → `fic`, `jwt`, `cloud`, `secret`; `sandbox` uses only the pure parts.

pub mod cli;
pub mod cloud;
pub mod commands;
pub mod entra;
pub mod fic;
pub mod jwt;
pub mod sandbox;
pub mod secret;
pub mod text;
pub mod tui;

/// Installs aws-lc-rs as the process-wide rustls provider, so no second provider can make
/// rustls refuse to pick one. Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
