//! Helpers shared by the sandbox integration tests.
#![allow(dead_code)]

use ficus::sandbox::seed::{self, CONTOSO};
use ficus::sandbox::tokens::Signer;
use ficus::sandbox::{Sandbox, SandboxConfig};
use serde_json::{Map, Value};
use uuid::Uuid;

pub async fn start(config: SandboxConfig) -> Sandbox {
    ficus::install_crypto_provider();
    ficus::sandbox::start(config).await.expect("sandbox starts")
}

pub async fn start_default() -> Sandbox {
    start(SandboxConfig::default()).await
}

pub fn contoso() -> Uuid {
    seed::tenant_id(CONTOSO)
}

pub fn app_id(name: &str) -> String {
    seed::app_ids(CONTOSO, name).1.to_string()
}

/// (principal id, client id) of a seeded identity.
pub fn identity(name: &str) -> (String, String) {
    let (p, c) = seed::identity_ids(CONTOSO, name);
    (p.to_string(), c.to_string())
}

pub fn claims(token: &str) -> Map<String, Value> {
    ficus::jwt::decode(token).expect("token decodes").claims
}

/// The MI token for the exchange audience, straight from the sandbox.
pub fn mi_assertion(sb: &Sandbox, identity_name: &str) -> String {
    let (principal, _) = identity(identity_name);
    sb.managed_identity_token(CONTOSO, &principal, "api://AzureADTokenExchange")
        .expect("mi token")
        .into_inner()
}

/// Signs arbitrary claims with a tenant's real key (to build expired or odd assertions).
pub fn sign_with_tenant_key(sb: &Sandbox, tenant: Uuid, claims: Value) -> String {
    let key = sb.state().keys.get(tenant).expect("tenant key");
    let signer = Signer {
        authority: &sb.info.authority,
        tenant_id: tenant,
        key: &key,
    };
    let Value::Object(map) = claims else {
        panic!("claims must be an object")
    };
    signer.sign(&map, false)
}

/// Signs arbitrary claims with a key the sandbox never published (another issuer's).
pub fn sign_with_foreign_key(claims: Value) -> String {
    let material = ficus::sandbox::keys::generate_material().expect("keygen");
    let key = ficus::sandbox::keys::TenantKey::from_material(Uuid::nil(), &material).expect("key");
    let signer = Signer {
        authority: "https://elsewhere.example",
        tenant_id: Uuid::nil(),
        key: &key,
    };
    let Value::Object(map) = claims else {
        panic!("claims must be an object")
    };
    signer.sign(&map, false)
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// POSTs a form to `{authority}/{tenant}/oauth2/v2.0/{endpoint}`; returns status and JSON.
pub async fn post_form(
    sb: &Sandbox,
    tenant: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let client = sb.http_client().expect("client");
    let response = client
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/{endpoint}",
            sb.info.authority
        ))
        .header("client-request-id", "11111111-2222-3333-4444-555555555555")
        .form(form)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.expect("json body");
    (status, body)
}

pub async fn exchange(
    sb: &Sandbox,
    tenant: &str,
    client_id: &str,
    assertion: &str,
    scope: &str,
) -> (u16, Value) {
    post_form(
        sb,
        tenant,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
            ("client_info", "1"),
        ],
    )
    .await
}

/// Asserts an Entra error body: status, `error`, AADSTS code and the body fields.
pub fn assert_aadsts(result: &(u16, Value), status: u16, error: &str, code: u64) {
    let (got_status, body) = result;
    assert_eq!(*got_status, status, "status for {body}");
    assert_eq!(body["error"], error, "error for {body}");
    assert_eq!(
        body["error_codes"][0].as_u64(),
        Some(code),
        "code for {body}"
    );
    let description = body["error_description"].as_str().expect("description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    // Lines separated by CRLF, as Entra's are.
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    assert!(
        description
            .contains("\r\nCorrelation ID: 11111111-2222-3333-4444-555555555555\r\nTimestamp: "),
        "{description}"
    );
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert_eq!(timestamp.len(), 20, "{timestamp}");
    assert_eq!(&timestamp[10..11], " ");
    assert!(timestamp.ends_with('Z'));
    assert!(Uuid::parse_str(body["trace_id"].as_str().expect("trace")).is_ok());
    assert_eq!(
        body["correlation_id"],
        "11111111-2222-3333-4444-555555555555"
    );
    assert_eq!(
        body["error_uri"],
        format!("https://login.microsoftonline.com/error?code={code}")
    );
}

/// GETs `url` and parses the JSON body (any status).
pub async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: String) -> T {
    client
        .get(url)
        .send()
        .await
        .expect("GET request")
        .json()
        .await
        .expect("json body")
}
