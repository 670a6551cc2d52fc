//! Recording workload sign-ins: the token endpoint's client credentials answers (secret,
//! certificate or federated assertion, success or AADSTS code) and the managed identity
//! endpoints' tokens, as [`SignIn`]s in the tenant's log (see `sign_in_log.rs`). One call per
//! answer path in `sts.rs` and `msi.rs`.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::model::Application;
use crate::sign_in_log::{MANAGED_IDENTITY, SERVICE_PRINCIPAL, SignIn, credential_type};
use crate::state::AppState;

/// The address a request came from: the first `X-Forwarded-For` hop, else loopback (the
/// sandbox listens on loopback).
fn client_ip(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .unwrap_or("127.0.0.1")
        .to_string()
}

fn form_field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// `client_id:secret` of an `Authorization: Basic` header (form-urlencoded parts); the token
/// endpoint reads it through here too.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Which credential a client credentials request presented, and which of the app's it was.
struct Presented {
    kind: &'static str,
    key_id: Option<Uuid>,
    thumbprint: Option<String>,
    fic_id: Option<Uuid>,
}

fn presented_credential(
    app: &Application,
    client_id: &str,
    form: &HashMap<String, String>,
    basic_secret: Option<&str>,
) -> Presented {
    use base64::Engine;
    let mut p = Presented {
        kind: credential_type::NONE,
        key_id: None,
        thumbprint: None,
        fic_id: None,
    };
    if let Some(assertion) = form_field(form, "client_assertion") {
        let Ok(jwt) = ficus_core::jwt::decode(assertion) else {
            p.kind = credential_type::FEDERATED;
            return p;
        };
        let issuer = jwt.str_claim("iss").unwrap_or("");
        let subject = jwt.str_claim("sub").unwrap_or("");
        // A certificate's assertion is the app speaking for itself: iss = sub = its client id.
        if issuer.eq_ignore_ascii_case(client_id) && subject.eq_ignore_ascii_case(client_id) {
            p.kind = credential_type::CERTIFICATE;
            let x5t = jwt.header.get("x5t").and_then(Value::as_str).and_then(|t| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(t.trim_end_matches('='))
                    .ok()
            });
            if let Some(x5t) = x5t {
                let cert = app.key_credentials.iter().find(|k| {
                    base64::engine::general_purpose::STANDARD
                        .decode(&k.custom_key_identifier)
                        .is_ok_and(|thumb| thumb == x5t)
                });
                p.thumbprint = Some(x5t.iter().map(|b| format!("{b:02X}")).collect());
                p.key_id = cert.map(|k| k.key_id);
            }
        } else {
            p.kind = credential_type::FEDERATED;
            let audiences = jwt.audiences();
            p.fic_id = app
                .federated_identity_credentials
                .iter()
                .find(|f| {
                    f.issuer == issuer
                        && f.subject == subject
                        && f.audiences.iter().any(|a| {
                            audiences.iter().any(|b| {
                                a == b
                                    || (a == crate::tokens::EXCHANGE_AUDIENCE
                                        && b == ficus_core::cloud::TOKEN_EXCHANGE_APP_ID)
                            })
                        })
                })
                .map(|f| f.id);
        }
    } else if let Some(secret) = form_field(form, "client_secret").or(basic_secret) {
        p.kind = credential_type::CLIENT_SECRET;
        p.key_id = app
            .password_credentials
            .iter()
            .find(|c| c.secret_text.expose() == secret)
            .map(|c| c.key_id);
    }
    p
}

/// Records a client credentials request the token endpoint answered (`answer` is what it
/// answered). Requests that name no known tenant or app are not recorded, as in Entra.
/// `refused` is the AADSTS code and message of a refusal, `None` for a token.
pub fn record_client_credentials(
    state: &AppState,
    segment: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    refused: Option<(u32, &str)>,
) {
    let basic = basic_credentials(headers);
    let Some(client_id) = form_field(form, "client_id")
        .map(str::to_string)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
    else {
        return;
    };
    let Ok(app_id) = Uuid::parse_str(&client_id) else {
        return;
    };
    let now = OffsetDateTime::now_utc();
    let recorded = state.read(|d| {
        let tenant = d.tenant(segment)?;
        // A multitenant app's registration lives in its home tenant.
        let app = tenant.application_by_app_id(app_id).or_else(|| {
            d.tenants
                .iter()
                .find_map(|t| t.application_by_app_id(app_id))
        })?;
        let presented = presented_credential(
            app,
            &client_id,
            form,
            basic.as_ref().map(|(_, s)| s.as_str()),
        );
        let resource = form_field(form, "scope")
            .and_then(|s| s.split_whitespace().next())
            .map(|s| s.strip_suffix("/.default").unwrap_or(s))
            .and_then(|r| crate::tokens::resolve_resource(tenant, r));
        let (error_code, failure_reason) = match refused {
            None => (0, None),
            Some((code, message)) => (code, Some(message.to_string())),
        };
        Some((
            tenant.id,
            SignIn {
                id: Uuid::new_v4(),
                sequence: 0,
                created_date_time: now,
                app_id,
                app_display_name: app.display_name.clone(),
                service_principal_id: tenant.service_principal_by_app_id(app_id).map(|s| s.id),
                sign_in_event_type: SERVICE_PRINCIPAL.into(),
                client_credential_type: presented.kind.into(),
                service_principal_credential_key_id: presented.key_id,
                service_principal_credential_thumbprint: presented.thumbprint,
                federated_credential_id: presented.fic_id,
                error_code,
                failure_reason,
                ip_address: client_ip(headers),
                resource_display_name: resource
                    .as_ref()
                    .map(|r| r.display_name.clone())
                    .unwrap_or_default(),
                resource_id: resource.map(|r| r.app_id),
                managed_identity_resource_id: None,
            },
        ))
    });
    if let Some((tenant, sign_in)) = recorded {
        state.record_sign_in(tenant, sign_in);
    }
}

/// Records a managed identity token the MSI endpoints handed out for the emulated host's
/// identity `client_id` (in the host's tenant).
pub fn record_managed_identity(state: &AppState, client_id: Uuid, resource: &str) {
    let now = OffsetDateTime::now_utc();
    let recorded = state.read(|d| {
        let tenant = d.host_tenant()?;
        let identity = tenant.service_principal_by_app_id(client_id)?;
        let res = crate::tokens::resolve_resource(tenant, resource);
        Some((
            tenant.id,
            managed_identity_sign_in(Uuid::new_v4(), identity, res.as_ref(), now, "127.0.0.1"),
        ))
    });
    if let Some((tenant, sign_in)) = recorded {
        state.record_sign_in(tenant, sign_in);
    }
}

pub(crate) fn managed_identity_sign_in(
    id: Uuid,
    identity: &crate::model::ServicePrincipal,
    resource: Option<&crate::tokens::Resource>,
    at: OffsetDateTime,
    ip: &str,
) -> SignIn {
    SignIn {
        id,
        sequence: 0,
        created_date_time: at,
        app_id: identity.app_id,
        app_display_name: identity.display_name.clone(),
        service_principal_id: Some(identity.id),
        sign_in_event_type: MANAGED_IDENTITY.into(),
        client_credential_type: credential_type::MANAGED_IDENTITY.into(),
        service_principal_credential_key_id: None,
        service_principal_credential_thumbprint: None,
        federated_credential_id: None,
        error_code: 0,
        failure_reason: None,
        ip_address: ip.into(),
        resource_display_name: resource.map(|r| r.display_name.clone()).unwrap_or_default(),
        resource_id: resource.map(|r| r.app_id),
        managed_identity_resource_id: identity
            .managed_identity
            .as_ref()
            .map(|m| m.resource_id.clone()),
    }
}
