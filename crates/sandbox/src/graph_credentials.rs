//! Removing an application's secrets and certificates, as Graph v1.0 does it:
//! `POST /applications/{id}/removePassword {"keyId"}` → 204; `POST …/removeKey {"keyId",
//! "proof"}` → 204; `PATCH /applications/{id}` with the whole new `keyCredentials` collection.
//!
//! A child of `graph.rs` (so it reaches its private request context); it is compiled as
//! `graph::credentials`.
//!
//! Fidelity notes: the sandbox stores certificate thumbprints, not keys, so `removeKey`'s
//! proof is checked for its claims (`aud` `00000002-0000-0000-c000-000000000000`, `iss` = the
//! application's object id, unexpired, `x5t` naming one of the app's certificates) but its
//! signature is not verified; and a `keyCredentials` PATCH may only keep or drop existing
//! certificates (adding one needs the certificate itself, which the sandbox does not model).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use uuid::Uuid;

use super::{AppKey, GraphError, Request};
use crate::model::Application;

/// The audience of a `removeKey`/`addKey` proof: the Azure AD Graph app id, as documented.
const PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

fn key_id_of(body: &serde_json::Map<String, Value>) -> Result<Uuid, GraphError> {
    let raw = body.get("keyId").and_then(Value::as_str).ok_or_else(|| {
        GraphError::bad_request(
            "Property 'keyId' is required: give the keyId of the credential to remove.",
        )
    })?;
    Uuid::parse_str(raw.trim())
        .map_err(|_| GraphError::bad_request(format!("Invalid keyId '{raw}': expected a GUID.")))
}

fn no_such_key(kind: &str, key_id: Uuid, app: &Application) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        format!(
            "No {kind} with keyId '{key_id}' exists on application '{}' ({}).",
            app.display_name, app.id
        ),
    )
}

impl Request<'_> {
    /// `POST /applications/{id}/removePassword`.
    pub(super) fn remove_password(&self, key: AppKey) -> Result<Response, GraphError> {
        self.require_write(key)?;
        let key_id = key_id_of(&self.body_object()?)?;
        self.write(key, |app| {
            let before = app.password_credentials.len();
            app.password_credentials.retain(|p| p.key_id != key_id);
            if app.password_credentials.len() == before {
                return Err(no_such_key("password credential", key_id, app));
            }
            Ok(())
        })?;
        Ok(self.ctx.no_content())
    }

    /// `POST /applications/{id}/removeKey`.
    pub(super) fn remove_key(&self, key: AppKey) -> Result<Response, GraphError> {
        self.require_write(key)?;
        let body = self.body_object()?;
        let key_id = key_id_of(&body)?;
        let proof = body.get("proof").and_then(Value::as_str).ok_or_else(|| {
            GraphError::bad_request(
                "Property 'proof' is required: a JWT signed with one of the application's existing certificates (aud 00000002-0000-0000-c000-000000000000, iss the application's object id).",
            )
        })?;
        let proof = proof.to_string();
        self.write(key, |app| {
            check_proof(app, &proof)?;
            let before = app.key_credentials.len();
            app.key_credentials.retain(|k| k.key_id != key_id);
            if app.key_credentials.len() == before {
                return Err(no_such_key("key credential", key_id, app));
            }
            Ok(())
        })?;
        Ok(self.ctx.no_content())
    }
}

fn invalid_proof(detail: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        format!("Proof of possession is invalid: {detail}"),
    )
}

fn check_proof(app: &Application, proof: &str) -> Result<(), GraphError> {
    use base64::Engine;
    let jwt =
        ficus_core::jwt::decode(proof).map_err(|e| invalid_proof(&format!("not a JWT ({e})")))?;
    if !jwt.audiences().iter().any(|a| a == PROOF_AUDIENCE) {
        return Err(invalid_proof(&format!("its aud must be {PROOF_AUDIENCE}")));
    }
    if jwt.str_claim("iss") != Some(app.id.to_string().as_str()) {
        return Err(invalid_proof("its iss must be the application's object id"));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if jwt.time_claim("exp").is_none_or(|exp| exp < now) {
        return Err(invalid_proof("it has expired (or has no exp)"));
    }
    let x5t = jwt
        .header
        .get("x5t")
        .and_then(Value::as_str)
        .and_then(|t| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t.trim_end_matches('='))
                .ok()
        })
        .ok_or_else(|| invalid_proof("its header names no certificate (x5t)"))?;
    let known = app.key_credentials.iter().any(|k| {
        base64::engine::general_purpose::STANDARD
            .decode(&k.custom_key_identifier)
            .is_ok_and(|thumb| thumb == x5t)
    });
    if !known {
        return Err(invalid_proof(
            "it is not signed with one of the application's certificates",
        ));
    }
    Ok(())
}
