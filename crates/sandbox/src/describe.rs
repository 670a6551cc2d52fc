//! The sandbox describes itself: `GET /.well-known/ficus-sandbox` on the main listener answers
//! where everything is (token service, Graph, the emulated host's IMDS and App Service
//! endpoints, the tenants, the CA), so that a client given only the sandbox's URL
//! (`ficus --sandbox-url`) finds the emulated host instead of asking the real IMDS.
//!
//! The App Service `IDENTITY_HEADER` is not in it: that value is the endpoint's guard against
//! request forgery, so it stays where only the person who started the sandbox sees it (its
//! banner and `--json` line). IMDS needs no secret, as on Azure.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::model::ManagedIdentityKind;
use crate::state::AppState;

/// Where the description is served, under the sandbox's base URL.
pub const WELL_KNOWN_PATH: &str = "/.well-known/ficus-sandbox";

/// What `kind` says, so a client can tell a ficus sandbox from any other server's document.
pub const KIND: &str = "ficus-sandbox";

/// The description's format version (additive changes keep it).
pub const VERSION: u32 = 1;

/// The description, as served (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    pub kind: String,
    pub version: u32,
    /// Token service root, e.g. `https://127.0.0.1:8443` (Entra's `login.microsoftonline.com`).
    pub authority: String,
    /// Graph root with its version, e.g. `https://127.0.0.1:8443/v1.0`.
    pub graph: String,
    pub tenants: Vec<DescribedTenant>,
    pub managed_identity: ManagedIdentityEndpoints,
    /// The CA that signs the HTTPS certificate; `None` over plain HTTP.
    pub ca: Option<CaDescription>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribedTenant {
    pub name: String,
    pub id: String,
    pub domain: String,
}

/// The emulated host: where its managed identity tokens come from and which identities it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedIdentityEndpoints {
    /// IMDS root (`AZURE_POD_IDENTITY_AUTHORITY_HOST`), e.g. `http://127.0.0.1:40123`; the
    /// token path is `/metadata/identity/oauth2/token`.
    pub imds: String,
    /// App Service's `IDENTITY_ENDPOINT` (its `IDENTITY_HEADER` is printed by `ficus sandbox`).
    pub app_service_endpoint: String,
    /// The tenant of the host's identities.
    pub host_tenant_id: String,
    /// The host's ARM id.
    pub host_resource_id: String,
    pub identities: Vec<HostIdentity>,
}

/// One identity attached to the emulated host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostIdentity {
    pub name: String,
    pub client_id: String,
    pub principal_id: String,
    /// `systemAssigned` or `userAssigned`.
    pub kind: String,
}

/// The CA in PEM and its SHA-256 fingerprint (of the DER, colon-separated upper-case hex, as
/// `openssl x509 -fingerprint -sha256` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaDescription {
    pub pem: String,
    pub sha256_fingerprint: String,
}

/// The parts fixed when the sandbox starts; tenants and identities are read live.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub imds: String,
    pub app_service_endpoint: String,
    pub ca_pem: Option<String>,
}

/// The route, to merge into the main listener's router.
pub fn router(endpoints: Endpoints) -> Router<AppState> {
    let endpoints = Arc::new(endpoints);
    Router::new().route(
        WELL_KNOWN_PATH,
        get(move |State(state): State<AppState>| {
            let endpoints = Arc::clone(&endpoints);
            async move { Json(describe(&state, &endpoints)) }
        }),
    )
}

/// The description of the running sandbox now.
pub fn describe(state: &AppState, endpoints: &Endpoints) -> Description {
    let (tenants, managed_identity) = state.read(|directory| {
        let tenants = directory
            .tenants
            .iter()
            .map(|t| DescribedTenant {
                name: t.name.clone(),
                id: t.id.to_string(),
                domain: t.domain.clone(),
            })
            .collect();
        let host = &directory.host;
        let identities = directory
            .host_tenant()
            .map(|tenant| {
                host.system_assigned
                    .iter()
                    .chain(host.user_assigned.iter())
                    .filter_map(|id| tenant.service_principals.get(id))
                    .map(|sp| HostIdentity {
                        name: sp.display_name.clone(),
                        client_id: sp.app_id.to_string(),
                        principal_id: sp.id.to_string(),
                        kind: match sp.managed_identity.as_ref().map(|m| &m.kind) {
                            Some(ManagedIdentityKind::SystemAssigned) => "systemAssigned",
                            _ => "userAssigned",
                        }
                        .to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            tenants,
            ManagedIdentityEndpoints {
                imds: endpoints.imds.clone(),
                app_service_endpoint: endpoints.app_service_endpoint.clone(),
                host_tenant_id: host.tenant_id.to_string(),
                host_resource_id: host.resource_id.clone(),
                identities,
            },
        )
    });
    Description {
        kind: KIND.to_string(),
        version: VERSION,
        authority: state.authority.clone(),
        graph: format!("{}/v1.0", state.authority),
        tenants,
        managed_identity,
        ca: endpoints.ca_pem.as_ref().map(|pem| CaDescription {
            pem: pem.clone(),
            sha256_fingerprint: sha256_fingerprint(pem).unwrap_or_default(),
        }),
    }
}

/// SHA-256 of the first certificate's DER in `pem`, as `AB:CD:…`; `None` if there is none.
pub fn sha256_fingerprint(pem: &str) -> Option<String> {
    let body: String = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    Some(
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_of_the_der_and_none_without_a_certificate() {
        // A tiny "certificate" body: the fingerprint is of the decoded bytes.
        let pem = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &[0u8, 1, 2]);
        let hex: Vec<String> = expected
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(sha256_fingerprint(pem), Some(hex.join(":")));
        assert_eq!(sha256_fingerprint("no certificate here"), None);
    }
}
