//! The sandbox: a local emulator of the Entra token service, the Graph subset and the managed
//! identity endpoints that ficus uses. It stands apart from the client: it uses only
//! `ficus-core`'s jwt, cloud and secret, never `entra` or the console.
//!
//! Map of the module:
//! - `model.rs`  the directory: [`model::Directory`] → [`model::Tenant`] (users with roles,
//!   applications with secrets/certificates/FICs/identifier URIs/app roles, service principals
//!   incl. managed identities) + the emulated host ([`model::EmulatedHost`]) + signing keys.
//!   GUIDs from names: [`model::derived_uuid`].
//! - `state.rs`  [`state::AppState`] (shared by every handler: `read(|dir| ..)`,
//!   `update_application(..)` which is durable before it returns, `update(|dir| ..)` which
//!   saves a snapshot; `record_sign_in(..)`, which queues a sign-in without waiting on the
//!   directory, `flush_sign_ins()`; `authority`, `faults`, `keys`) and persistence (`open`,
//!   `load`, `save`: snapshot + journal + lock).
//! - `state_error.rs` [`state_error::StateError`], shared by the state, its journal and lock.
//! - `journal.rs` the fsync'd append-only journal of acknowledged writes, replayed at start.
//! - `lock.rs`   one state file, one sandbox: the advisory lock with the holder's pid.
//! - `limits.rs` header and idle timeouts and the connection cap of both listeners.
//! - `keys.rs`   the global RSA signing key, [`keys::KeyRing`], JWKS.
//! - `certs.rs`  certificates as app credentials: parsing (key, validity, thumbprints) and the
//!   signature check of certificate client assertions.
//! - `tokens.rs` minting (MI, app, user, id tokens, client_info) and
//!   [`tokens::resolve_resource`].
//! - `mi_cache.rs` managed identity tokens cached per identity and resource, as Entra does.
//! - `sessions.rs` live sign-in sessions (device codes, refresh tokens).
//! - `bearer.rs` the Graph bearer check [`bearer::authenticate_graph`] → [`bearer::Caller`] /
//!   [`bearer::GraphAuthError`].
//! - `faults.rs` `--faults` parsing ([`faults::Faults`]) and the throttle counter.
//! - `seed.rs`   demo / empty / `large:N` seeds; deterministic ids (`seed::app_ids`,
//!   `seed::identity_ids`, `seed::tenant_id`) and secrets (`seed::demo_secret`).
//! - `sts.rs`    token service handlers: discovery (v2 and v1), JWKS, devicecode, token (device
//!   code, refresh, client credentials with secret or federated assertion), `/devicelogin`;
//!   [`sts::StsError`] renders Entra's error body.
//! - `sts_v1.rs` the other endpoints discovery advertises: v1 token and devicecode,
//!   authorize (error page), logout, `/common/discovery/instance`.
//! - `sts_routes.rs` all of them on one router.
//! - `msi.rs`    IMDS and App Service managed identity endpoints (separate listener).
//! - `sign_in_log.rs` the sign-in log's data ([`sign_in_log::AuditLogs`] in the directory,
//!   [`sign_in_log::SignIn`]); `signins.rs` records workload token requests into it (hooks in
//!   `sts.rs`, `msi.rs`); `sign_in_history.rs` the demo's seeded history; `signins_graph.rs`
//!   `GET /beta/auditLogs/signIns` (filters, order, paging, the P1 licence 403).
//! - `tls.rs`    generated CA + leaf for HTTPS.
//! - `server.rs` [`start`] → [`Sandbox`] (`info`, `sign_in`, `managed_identity_token`,
//!   `http_client`, `state`, `shutdown`).
//! - `serve.rs`  the `ficus sandbox` command.
//! - `arm.rs`    the Resource Manager minimum on the main listener: `/metadata/endpoints`,
//!   `/tenants`, `/subscriptions`, resource groups and user-assigned identities (read only).
//! - `describe.rs` the sandbox's description at `/.well-known/ficus-sandbox` (endpoints,
//!   tenants, the emulated host's identities, CA), which `--sandbox-url` clients read.
//! - `delta.rs` `/applications/delta`, `/servicePrincipals/delta` (snapshot tokens, 410 when
//!   expired); compiled as a child of `graph`.
//! - `listing.rs` Graph's `$expand` page caps and the `ge`/`le` ranges that partition a listing.
//! - `graph.rs`, `odata.rs`  Graph v1.0 (`graph::router()`, merged under the main listener;
//!   it applies the throttle and latency faults to `/v1.0` itself).
//!
//! Public API:
//! ```text
//! pub fn start(config: SandboxConfig) -> Pin<Box<dyn Future<Output = Result<Sandbox, SandboxError>> + Send>>;
//! SandboxConfig { listen, msi_listen, tls, state_file, seed: Seed, auto_approve, faults: Faults,
//!                 limits, seed_key: keys::SeedKey (default: one key per process) }
//! Sandbox { pub info: SandboxInfo }
//!   .shutdown().await
//!   .sign_in(tenant, upn, client_id, scopes) -> Result<SignedIn, SandboxError>
//!   .managed_identity_token(tenant, client_or_principal_id, resource) -> Result<Secret<String>, _>
//!   .http_client() -> Result<reqwest::Client, _>   (trusts the CA, no proxy)
//!   .state() -> &AppState
//! SandboxInfo { authority, graph, imds, app_service: { endpoint, header }, ca_file, ca_pem, tenants,
//!               description }
//! SignedIn { access_token, refresh_token, expires_in, id_token }
//! ```

pub mod arm;
pub mod bearer;
pub mod certs;
pub mod describe;
pub mod faults;
pub mod graph;
pub mod journal;
pub mod keys;
pub mod limits;
pub mod listing;
pub mod lock;
pub mod mi_cache;
pub mod model;
pub mod msi;
pub mod seed;
pub mod serve;
mod server;
pub mod sessions;
pub mod sign_in_history;
pub mod sign_in_log;
pub mod signins;
pub mod signins_graph;
pub mod state;
pub mod state_error;
pub mod sts;
pub mod sts_routes;
pub mod sts_v1;
pub mod tls;
pub mod tokens;

pub use faults::Faults;
pub use seed::Seed;
pub use server::{
    AppServiceInfo, Sandbox, SandboxConfig, SandboxError, SandboxInfo, SignedIn, TenantInfo, start,
};

/// Installs aws-lc-rs as the process-wide rustls provider (the sandbox's listeners and every
/// client of the process share it), so no second provider can make rustls refuse to pick one.
/// Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
