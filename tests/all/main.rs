//! The integration tests, as one binary (one link instead of one per file): each module is
//! one area, named as its file. `sdk_rust.rs` stays apart: it sets environment variables.

mod sandbox_support;
mod tmux_support;
mod tui_fixture;

mod cli_binary;
mod cli_decode;
mod cli_output;
mod cli_sandbox_session;
mod core_text;
mod entra_fic_update;
mod entra_graph_real;
mod entra_http;
mod entra_sandbox;
mod entra_signin;
mod fic_aadsts;
mod fic_autofill;
mod fic_diagnose;
mod fic_exchange_advice;
mod fic_export;
mod fic_guid;
mod fic_props;
mod fic_rules;
mod fic_update;
mod harden_client;
mod jwt_claims;
mod jwt_props;
mod sandbox_cli;
mod sandbox_durability;
mod sandbox_graph;
mod sandbox_limits;
mod sandbox_msi;
mod sandbox_state;
mod sandbox_sts;
mod sandbox_sts_clients;
mod sdk_js;
mod sdk_python;
mod tui_e2e;
mod tui_exchange;
mod tui_exchange_e2e;
mod tui_graph_real;
mod tui_inspector;
mod tui_snapshots;
mod tui_tenant_switch;
mod tui_wizard;
mod tui_wizard_e2e;
