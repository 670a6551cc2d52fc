//! The token service endpoints discovery advertises besides the v2 token and device code ones:
//! the v1 token and device code endpoints (`resource` instead of `scope`, numbers as strings),
//! `authorize` and `logout` (the sandbox has no browser flows: an Entra-style error page and a
//! signed-out page), and MSAL's instance discovery (`/common/discovery/instance`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use crate::state::AppState;
use crate::sts::{self, StsError};

/// The v1 form's `resource` as the v2 logic's `scope`.
fn with_scope_from_resource(mut form: HashMap<String, String>) -> HashMap<String, String> {
    if let Some(resource) = form
        .get("resource")
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        && !form.contains_key("scope")
    {
        form.insert("scope".into(), format!("{resource}/.default"));
    }
    form
}

fn numbers_as_strings(body: &mut Value, names: &[&str]) {
    for name in names {
        if let Some(n) = body.get(*name).and_then(Value::as_i64) {
            body[*name] = Value::String(n.to_string());
        }
    }
}

/// `POST /{tenant}/oauth2/token`: the v1 token endpoint. Grants as on v2, `resource` names the
/// resource; the answer carries `resource`, `expires_on` and `not_before`, numbers as strings.
pub async fn token(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = with_scope_from_resource(sts::parse_form(&body));
    let resource = form.get("resource").cloned();
    match sts::token_inner(&state, &segment, &headers, &form) {
        Ok(mut v) => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let expires_in = v["expires_in"].as_i64().unwrap_or(0);
            v["expires_on"] = json!(now + expires_in);
            v["not_before"] = json!(now - crate::tokens::BACKDATE_SECONDS);
            if let Some(r) = resource {
                v["resource"] = json!(r);
            }
            numbers_as_strings(
                &mut v,
                &["expires_in", "ext_expires_in", "expires_on", "not_before"],
            );
            sts::json_ok(v)
        }
        Err(e) => e.into_response_with(&headers),
    }
}

/// `POST /{tenant}/oauth2/devicecode`: v1 device authorization (`resource`; the answer says
/// `verification_url`, numbers as strings).
pub async fn device_code(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = with_scope_from_resource(sts::parse_form(&body));
    match sts::device_code_from_form(&state, &segment, &form) {
        Ok(mut v) => {
            if let Some(uri) = v.as_object_mut().and_then(|o| o.remove("verification_uri")) {
                v["verification_url"] = uri;
            }
            numbers_as_strings(&mut v, &["expires_in", "interval"]);
            sts::json_ok(v)
        }
        Err(e) => e.into_response_with(&headers),
    }
}

fn error_page(error: &StsError) -> Response {
    let body = error.body(None);
    let text = body["error_description"]
        .as_str()
        .unwrap_or_default()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace("\r\n", "<br>");
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p>{text}</p></body></html>"
        )),
    )
        .into_response()
}

/// `GET /{tenant}/oauth2[/v2.0]/authorize`: browser sign-in. The sandbox's apps register no
/// reply addresses (only device code sign-in is emulated), so Entra's answer is its error page:
/// AADSTS900144 without `client_id`, 90002/700016 for an unknown tenant or app, else
/// AADSTS500113 (no reply address registered).
pub async fn authorize(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let client_id = query.get("client_id").map(|c| c.trim()).unwrap_or_default();
    let error = match sts::client_known(&state, &segment, client_id) {
        Err(e) => e,
        Ok(()) => StsError::new(
            "invalid_request",
            500113,
            "No reply address is registered for the application.",
        ),
    };
    error_page(&error)
}

/// `GET /{tenant}/oauth2[/v2.0]/logout`: the sandbox keeps no browser session; the signed-out
/// page (and the redirect back when `post_logout_redirect_uri` is given, as Entra does).
pub async fn logout(Query(query): Query<HashMap<String, String>>) -> Response {
    if let Some(uri) = query
        .get("post_logout_redirect_uri")
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    {
        return (
            StatusCode::FOUND,
            [(axum::http::header::LOCATION, uri.clone())],
        )
            .into_response();
    }
    Html(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign out</title></head><body><p>You signed out of your account. It's a good idea to close all browser windows.</p></body></html>",
    )
    .into_response()
}

/// `GET /common/discovery/instance`: MSAL's instance discovery. The sandbox's host is its own
/// only alias.
pub async fn instance_discovery(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let host = state
        .authority
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_string();
    let tenant = query
        .get("authorization_endpoint")
        .and_then(|e| url::Url::parse(e).ok())
        .and_then(|u| u.path_segments()?.next().map(str::to_string))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "common".into());
    sts::json_ok(json!({
        "tenant_discovery_endpoint": format!(
            "{}/{tenant}/v2.0/.well-known/openid-configuration",
            state.authority
        ),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": host,
            "preferred_cache": host,
            "aliases": [host],
        }],
    }))
}
