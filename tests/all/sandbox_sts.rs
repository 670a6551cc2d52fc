//! The sandbox token service over HTTP: discovery, JWKS, the federated exchange and each of
//! its AADSTS failures, client secrets, device code, refresh tokens, and the Graph bearer check.

use crate::sandbox_support;

use std::time::Duration;

use ficus::sandbox::bearer::{CallerKind, GraphAuthError, authenticate_graph_token};
use ficus::sandbox::seed::{self, CONTOSO, DEMO_ADMIN, FABRIKAM};
use ficus::sandbox::{Faults, SandboxConfig};
use sandbox_support::*;
use serde_json::{Value, json};

const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// The federated exchange for a seeded Contoso app (by name), asking for Microsoft Graph.
async fn graph_exchange(
    sb: &ficus::sandbox::Sandbox,
    tenant: &str,
    app_name: &str,
    assertion: &str,
) -> (u16, Value) {
    exchange(sb, tenant, &app_id(app_name), assertion, GRAPH_DEFAULT).await
}

/// The claims of the access token in a successful token response body.
fn access_claims(body: &Value) -> serde_json::Map<String, Value> {
    claims(body["access_token"].as_str().expect("access token"))
}

/// The `error_description` of an Entra error response.
fn description(result: &(u16, Value)) -> &str {
    result.1["error_description"]
        .as_str()
        .expect("error description")
}

/// The same token with the first character of its signature changed.
fn with_tampered_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("three parts");
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    format!("{head}.{flipped}{}", &sig[1..])
}

#[tokio::test]
async fn discovery_documents_follow_entra() {
    let sb = start_default().await;
    let client = sb.http_client().expect("client");
    let a = &sb.info.authority;
    let tid = contoso();
    let response = client
        .get(format!(
            "{a}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("discovery");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "max-age=86400, private"
    );
    let doc: Value = response.json().await.expect("json");
    assert_eq!(doc["issuer"], format!("{a}/{tid}/v2.0"));
    assert_eq!(
        doc["token_endpoint"],
        format!("{a}/{tid}/oauth2/v2.0/token")
    );
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{a}/{tid}/oauth2/v2.0/devicecode")
    );
    assert_eq!(doc["jwks_uri"], format!("{a}/{tid}/discovery/v2.0/keys"));
    assert!(doc["authorization_endpoint"].is_string());
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["cloud_instance_name"], "microsoftonline.com");
    assert_eq!(doc["msgraph_host"], "graph.microsoft.com");

    let common: Value = get_json(
        &client,
        format!("{a}/organizations/v2.0/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(common["issuer"], format!("{a}/{{tenantid}}/v2.0"));
    assert_eq!(
        common["token_endpoint"],
        format!("{a}/organizations/oauth2/v2.0/token")
    );

    let v1: Value = get_json(
        &client,
        format!("{a}/{tid}/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(v1["issuer"], format!("{a}/{tid}/"));

    let missing = client
        .get(format!(
            "{a}/nowhere.example/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("discovery");
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"], "invalid_tenant");
    assert_eq!(body["error_codes"][0], 90002);
    sb.shutdown().await;
}

#[tokio::test]
async fn jwks_publishes_tenant_keys_and_verifies_tokens() {
    let sb = start_default().await;
    let client = sb.http_client().expect("client");
    let a = &sb.info.authority;
    let tid = contoso();
    let jwks: ficus::jwt::Jwks =
        get_json(&client, format!("{a}/contoso/discovery/v2.0/keys")).await;
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!(key.kty, "RSA");
    assert_eq!(key.key_use.as_deref(), Some("sig"));
    assert_eq!(key.kid, key.x5t);
    assert_eq!(key.e.as_deref(), Some("AQAB"));
    assert_eq!(key.x5c.len(), 1);
    assert_eq!(
        key.issuer.as_deref(),
        Some(format!("{a}/{tid}/v2.0").as_str())
    );
    assert_eq!(
        key.cloud_instance_name.as_deref(),
        Some("microsoftonline.com")
    );

    let token = mi_assertion(&sb, "id-payments");
    let jwt = ficus::jwt::decode(&token).expect("decodes");
    ficus::jwt::verify(&jwt, &jwks).expect("MI token verifies with the published key");

    let common: ficus::jwt::Jwks =
        get_json(&client, format!("{a}/common/discovery/v2.0/keys")).await;
    assert_eq!(common.keys.len(), 2);
    assert_eq!(
        common.keys[0].issuer.as_deref(),
        Some(format!("{a}/{{tenantid}}/v2.0").as_str())
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn managed_identity_token_has_entra_exchange_shape() {
    let sb = start_default().await;
    let (principal, client_id) = identity("id-payments");
    let c = claims(&mi_assertion(&sb, "id-payments"));
    assert_eq!(c["aud"], "fb60f99c-7a34-4190-8149-302f77469936");
    assert_eq!(
        c["iss"],
        format!("{}/{}/v2.0", sb.info.authority, contoso())
    );
    assert_eq!(c["sub"], principal);
    assert_eq!(c["oid"], principal);
    assert_eq!(c["azp"], client_id);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["ver"], "2.0");
    assert_eq!(c["tid"], contoso().to_string());
    assert!(
        c["xms_mirid"]
            .as_str()
            .expect("mirid")
            .ends_with("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments")
    );
    let lifetime = c["exp"].as_i64().expect("exp") - c["iat"].as_i64().expect("iat");
    assert!((86_000..=86_400).contains(&lifetime), "{lifetime}");
    sb.shutdown().await;
}

#[tokio::test]
async fn federated_exchange_succeeds_for_the_correct_fic() {
    let sb = start_default().await;
    let assertion = mi_assertion(&sb, "id-payments");
    let result = graph_exchange(&sb, CONTOSO, "payments-api", &assertion).await;
    assert_eq!(result.0, 200, "{}", result.1);
    let body = &result.1;
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].is_i64());
    assert!(body["ext_expires_in"].is_i64());
    assert!(
        body.get("scope").is_none(),
        "client credentials carry no scope"
    );
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().expect("token");
    let c = claims(token);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["appid"], app_id("payments-api"));
    assert_eq!(c["appidacr"], "2");
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["iss"], format!("{}/{}/", sb.info.authority, contoso()));
    assert_eq!(c["roles"], json!(["Application.Read.All"]));

    // The Graph layer accepts it as an app caller.
    let caller =
        authenticate_graph_token(sb.state(), token, now()).expect("graph accepts the token");
    assert_eq!(caller.kind, CallerKind::App);
    assert!(caller.has_permission("Application.Read.All"));

    // Other resources: ARM (v1, aud as requested) and the app's own identifier URI (v2).
    let arm = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        &assertion,
        "https://management.azure.com//.default",
    )
    .await;
    assert_eq!(arm.0, 200, "{}", arm.1);
    assert_eq!(
        access_claims(&arm.1)["aud"],
        "https://management.azure.com/"
    );
    let own = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        &assertion,
        &format!("api://{}/.default", app_id("payments-api")),
    )
    .await;
    assert_eq!(own.0, 200, "{}", own.1);
    let own_claims = access_claims(&own.1);
    assert_eq!(own_claims["aud"], app_id("payments-api"));
    assert_eq!(own_claims["ver"], "2.0");
    sb.shutdown().await;
}

#[tokio::test]
async fn cross_tenant_exchange_for_a_multitenant_app() {
    let sb = start_default().await;
    let assertion = mi_assertion(&sb, "id-inventory");
    let result = graph_exchange(&sb, FABRIKAM, "partner-sync", &assertion).await;
    assert_eq!(result.0, 200, "{}", result.1);
    let c = access_claims(&result.1);
    assert_eq!(c["tid"], seed::tenant_id(FABRIKAM).to_string());
    assert_eq!(c["roles"], json!(["Application.Read.All"]));
    // A single-tenant app is not found in another tenant.
    let result = exchange(
        &sb,
        "fabrikam.onmicrosoft.com",
        &app_id("payments-api"),
        &mi_assertion(&sb, "id-payments"),
        GRAPH_DEFAULT,
    )
    .await;
    assert_aadsts(&result, 400, "unauthorized_client", 700016);
    sb.shutdown().await;
}

#[tokio::test]
async fn each_fic_mistake_gets_its_aadsts_code() {
    let sb = start_default().await;
    let t = CONTOSO;
    let payments = mi_assertion(&sb, "id-payments");
    let inventory = mi_assertion(&sb, "id-inventory");
    let reporting = mi_assertion(&sb, "id-reporting");

    assert_aadsts(
        &graph_exchange(&sb, "nowhere.example", "payments-api", &payments).await,
        400,
        "invalid_request",
        90002,
    );
    assert_aadsts(
        &exchange(
            &sb,
            t,
            "6f3b1f8e-0000-4000-8000-000000000001",
            &payments,
            GRAPH_DEFAULT,
        )
        .await,
        400,
        "unauthorized_client",
        700016,
    );
    assert_aadsts(
        &graph_exchange(&sb, t, "payments-api", "not-a-jwt").await,
        400,
        "invalid_request",
        50027,
    );
    assert_aadsts(
        &graph_exchange(&sb, t, "billing-worker", &payments).await,
        401,
        "invalid_client",
        70025,
    );
    // Issuer with a trailing slash.
    let r = graph_exchange(&sb, t, "reporting-portal", &reporting).await;
    assert_aadsts(&r, 401, "invalid_client", 700211);
    assert!(description(&r).contains(&format!("'{}/{}/v2.0'", sb.info.authority, contoso())));
    // Subject = client id.
    let r = graph_exchange(&sb, t, "inventory-sync", &inventory).await;
    assert_aadsts(&r, 401, "invalid_client", 700213);
    assert!(description(&r).contains(&identity("id-inventory").0));
    // Subject differing only in case.
    assert_aadsts(
        &graph_exchange(&sb, t, "orders-api", &inventory).await,
        401,
        "invalid_client",
        7002138,
    );
    // US Gov audience in the global cloud.
    let r = graph_exchange(&sb, t, "gov-exporter", &payments).await;
    assert_aadsts(&r, 401, "invalid_client", 700212);
    assert!(description(&r).contains("'fb60f99c-7a34-4190-8149-302f77469936'"));
    // Scope rules come after a good assertion.
    assert_aadsts(
        &exchange(&sb, t, &app_id("payments-api"), &payments, "User.Read").await,
        400,
        "invalid_scope",
        1002012,
    );
    assert_aadsts(
        &exchange(
            &sb,
            t,
            &app_id("payments-api"),
            &payments,
            "api://unknown-api/.default",
        )
        .await,
        400,
        "invalid_resource",
        500011,
    );
    assert_aadsts(
        &exchange(
            &sb,
            t,
            &app_id("payments-api"),
            &payments,
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
        )
        .await,
        400,
        "invalid_scope",
        700022,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn assertion_lifetime_and_signature_are_checked() {
    let sb = start_default().await;
    let (principal, client_id) = identity("id-payments");
    let issuer = format!("{}/{}/v2.0", sb.info.authority, contoso());
    let base = json!({
        "aud": "fb60f99c-7a34-4190-8149-302f77469936", "iss": issuer,
        "sub": principal, "oid": principal, "azp": client_id, "idtyp": "app",
        "tid": contoso().to_string(), "ver": "2.0",
    });
    let mut expired = base.clone();
    expired["iat"] = json!(now() - 7200);
    expired["nbf"] = json!(now() - 7200);
    expired["exp"] = json!(now() - 3600);
    let token = sign_with_tenant_key(&sb, contoso(), expired);
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &token).await;
    assert_aadsts(&r, 401, "invalid_client", 700024);
    assert!(
        description(&r)
            .contains("Client assertion is not within its valid time range. Current time: ")
    );

    // Tampered signature.
    let good = mi_assertion(&sb, "id-payments");
    let forged = with_tampered_signature(&good);
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &forged).await;
    assert_aadsts(&r, 401, "invalid_client", 700027);

    // Signed by the other tenant's key: the key is not found.
    let mut valid = base.clone();
    valid["iat"] = json!(now());
    valid["nbf"] = json!(now());
    valid["exp"] = json!(now() + 600);
    let wrong_key = sign_with_tenant_key(&sb, seed::tenant_id(FABRIKAM), valid.clone());
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &wrong_key).await;
    assert_aadsts(&r, 401, "invalid_client", 700027);
    assert!(description(&r).contains("The key was not found"));

    // An external issuer (GitHub Actions) matches a FIC but cannot be verified offline.
    let mut github = valid;
    github["iss"] = json!("https://token.actions.githubusercontent.com");
    github["sub"] = json!("repo:contoso/intranet-search:ref:refs/heads/main");
    github["aud"] = json!("api://AzureADTokenExchange");
    let token = sign_with_tenant_key(&sb, contoso(), github);
    let r = graph_exchange(&sb, CONTOSO, "intranet-search", &token).await;
    assert_aadsts(&r, 401, "invalid_client", 700027);
    assert!(description(&r).contains("cannot fetch the signing keys"));
    sb.shutdown().await;
}

#[tokio::test]
async fn user_token_as_assertion_is_forbidden() {
    let sb = start_default().await;
    let user = sb
        .sign_in(CONTOSO, DEMO_ADMIN, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign in");
    let r = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        user.access_token.expose(),
        GRAPH_DEFAULT,
    )
    .await;
    assert_aadsts(&r, 401, "invalid_client", 700229);
    sb.shutdown().await;
}

#[tokio::test]
async fn replication_delay_fault_gives_70021() {
    let sb = start(SandboxConfig {
        faults: Faults::parse("replication=30").expect("faults"),
        ..SandboxConfig::default()
    })
    .await;
    // A FIC created just now on billing-worker, trusting id-payments correctly.
    let (principal, _) = identity("id-payments");
    let issuer = format!("{}/{}/v2.0", sb.info.authority, contoso());
    sb.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let app = t
            .application_by_app_id_mut(seed::app_ids(CONTOSO, "billing-worker").1)
            .expect("app");
        app.federated_identity_credentials.push(
            ficus::sandbox::model::FederatedIdentityCredential {
                id: uuid::Uuid::new_v4(),
                name: "fresh".into(),
                issuer,
                subject: principal,
                audiences: vec!["api://AzureADTokenExchange".into()],
                description: None,
                created_at: ficus::sandbox::model::Timestamp::now(),
            },
        );
    });
    let assertion = mi_assertion(&sb, "id-payments");
    let r = graph_exchange(&sb, CONTOSO, "billing-worker", &assertion).await;
    assert_aadsts(&r, 401, "invalid_client", 70021);
    // Old FICs are replicated.
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &assertion).await;
    assert_eq!(r.0, 200, "{}", r.1);
    sb.shutdown().await;
}

#[tokio::test]
async fn client_secrets_and_missing_credentials() {
    let sb = start_default().await;
    let secret = seed::demo_secret(CONTOSO, "payments-api");
    let form = |secret: &str| {
        vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", app_id("payments-api")),
            ("scope", GRAPH_DEFAULT.to_string()),
            ("client_secret", secret.to_string()),
        ]
    };
    let good = form(&secret);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_form(&sb, CONTOSO, "token", &good).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(access_claims(&r.1)["appidacr"], "1");

    let bad = form("wrong-secret");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_aadsts(
        &post_form(&sb, CONTOSO, "token", &bad).await,
        401,
        "invalid_client",
        7000215,
    );

    let billing = app_id("billing-worker");
    let expired = seed::demo_secret(CONTOSO, "billing-worker");
    assert_aadsts(
        &post_form(
            &sb,
            CONTOSO,
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &billing),
                ("scope", GRAPH_DEFAULT),
                ("client_secret", &expired),
            ],
        )
        .await,
        401,
        "invalid_client",
        7000222,
    );

    let payments = app_id("payments-api");
    assert_aadsts(
        &post_form(
            &sb,
            CONTOSO,
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &payments),
                ("scope", GRAPH_DEFAULT),
            ],
        )
        .await,
        401,
        "invalid_client",
        7000218,
    );
    assert_aadsts(
        &post_form(&sb, CONTOSO, "token", &[("client_id", &payments)]).await,
        400,
        "invalid_request",
        900144,
    );
    assert_aadsts(
        &post_form(
            &sb,
            CONTOSO,
            "token",
            &[("grant_type", "password"), ("client_id", &payments)],
        )
        .await,
        400,
        "unsupported_grant_type",
        70003,
    );
    assert_aadsts(
        &post_form(
            &sb,
            "common",
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &payments),
                ("scope", GRAPH_DEFAULT),
                ("client_secret", &secret),
            ],
        )
        .await,
        400,
        "invalid_request",
        50059,
    );
    sb.shutdown().await;
}

async fn start_device_flow(
    sb: &ficus::sandbox::Sandbox,
    client_id: &str,
    scope: &str,
) -> (String, String) {
    let (status, body) = post_form(
        sb,
        "organizations",
        "devicecode",
        &[("client_id", client_id), ("scope", scope)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["interval"], 5);
    assert_eq!(
        body["verification_uri"],
        format!("{}/devicelogin", sb.info.authority)
    );
    let user_code = body["user_code"].as_str().expect("user code").to_string();
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains(&user_code)
    );
    (
        body["device_code"]
            .as_str()
            .expect("device code")
            .to_string(),
        user_code,
    )
}

async fn poll(sb: &ficus::sandbox::Sandbox, client_id: &str, device_code: &str) -> (u16, Value) {
    post_form(
        sb,
        "organizations",
        "token",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("code", device_code),
            ("client_info", "1"),
        ],
    )
    .await
}

#[tokio::test]
async fn device_code_with_auto_approve_and_rotating_refresh_tokens() {
    let sb = start_default().await;
    let scope = "https://graph.microsoft.com/.default offline_access openid profile";
    let (device_code, _) = start_device_flow(&sb, AZURE_CLI, scope).await;
    assert_aadsts(
        &poll(&sb, AZURE_CLI, &device_code).await,
        400,
        "authorization_pending",
        70016,
    );
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let (status, body) = poll(&sb, AZURE_CLI, &device_code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], scope);
    assert!(body["expires_in"].is_i64());
    let access = access_claims(&body);
    assert_eq!(access["upn"], DEMO_ADMIN);
    assert_eq!(access["aud"], "https://graph.microsoft.com");
    assert!(
        access["scp"]
            .as_str()
            .expect("scp")
            .contains("Application.ReadWrite.All")
    );
    let id = claims(body["id_token"].as_str().expect("id token"));
    assert_eq!(id["preferred_username"], DEMO_ADMIN);
    assert_eq!(id["aud"], AZURE_CLI);
    let info = ficus::jwt::decode(&format!(
        "e30.{}.c2ln",
        body["client_info"].as_str().expect("client_info")
    ))
    .expect("client_info is base64url JSON")
    .claims;
    assert_eq!(info["uid"], access["oid"]);
    assert_eq!(info["utid"], contoso().to_string());

    // The device code cannot be redeemed twice.
    assert_aadsts(
        &poll(&sb, AZURE_CLI, &device_code).await,
        400,
        "invalid_grant",
        54005,
    );

    // Refresh tokens rotate.
    let rt1 = body["refresh_token"].as_str().expect("rt").to_string();
    let refresh = |rt: String| {
        let sb = &sb;
        async move {
            post_form(
                sb,
                CONTOSO,
                "token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", AZURE_CLI),
                    ("refresh_token", &rt),
                    ("scope", GRAPH_DEFAULT),
                ],
            )
            .await
        }
    };
    let (status, second) = refresh(rt1.clone()).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["scope"], GRAPH_DEFAULT);
    let rt2 = second["refresh_token"].as_str().expect("rt2").to_string();
    assert_ne!(rt1, rt2);
    assert_aadsts(&refresh(rt1).await, 400, "invalid_grant", 70008);
    assert_eq!(refresh(rt2).await.0, 200);
    assert_aadsts(
        &refresh("garbage".into()).await,
        400,
        "invalid_grant",
        9002313,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn device_code_by_hand_decline_expiry_and_bad_codes() {
    let sb = start(SandboxConfig {
        auto_approve: None,
        ..SandboxConfig::default()
    })
    .await;
    let client = sb.http_client().expect("client");
    let scope = "https://graph.microsoft.com/.default offline_access openid profile";

    // Approve on the /devicelogin page.
    let (device_code, user_code) = start_device_flow(&sb, AZURE_CLI, scope).await;
    let page = client
        .get(format!("{}/devicelogin", sb.info.authority))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("<form"));
    let approved = client
        .post(format!("{}/devicelogin", sb.info.authority))
        .form(&[
            ("user_code", user_code.to_lowercase().as_str()),
            ("upn", "reader@contoso.onmicrosoft.com"),
            ("action", "approve"),
        ])
        .send()
        .await
        .expect("approve");
    assert_eq!(approved.status(), 200);
    let (status, body) = poll(&sb, AZURE_CLI, &device_code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        access_claims(&body)["upn"],
        "reader@contoso.onmicrosoft.com"
    );

    // Decline.
    let (device_code, user_code) = start_device_flow(&sb, AZURE_CLI, scope).await;
    let declined = client
        .post(format!("{}/devicelogin", sb.info.authority))
        .form(&[
            ("user_code", user_code.as_str()),
            ("upn", DEMO_ADMIN),
            ("action", "decline"),
        ])
        .send()
        .await
        .expect("decline");
    assert_eq!(declined.status(), 200);
    assert_aadsts(
        &poll(&sb, AZURE_CLI, &device_code).await,
        400,
        "authorization_declined",
        65004,
    );

    // Unknown code on the page.
    let unknown = client
        .post(format!("{}/devicelogin", sb.info.authority))
        .form(&[("user_code", "NOPE"), ("upn", DEMO_ADMIN)])
        .send()
        .await
        .expect("unknown");
    assert_eq!(unknown.status(), 400);

    // Polling too fast, then expiry.
    let (device_code, _) = start_device_flow(&sb, AZURE_CLI, scope).await;
    assert_aadsts(
        &poll(&sb, AZURE_CLI, &device_code).await,
        400,
        "authorization_pending",
        70016,
    );
    let (_, fast) = poll(&sb, AZURE_CLI, &device_code).await;
    assert_eq!(fast["error"], "slow_down");
    {
        let mut sessions = sb.state().sessions.lock().expect("sessions");
        let flow = sessions.device_flows.get_mut(&device_code).expect("flow");
        flow.expires_at = std::time::Instant::now() - Duration::from_secs(1);
    }
    assert_aadsts(
        &poll(&sb, AZURE_CLI, &device_code).await,
        400,
        "expired_token",
        70019,
    );
    assert_aadsts(
        &poll(&sb, AZURE_CLI, "made-up-code").await,
        400,
        "bad_verification_code",
        70000,
    );

    // Azure CLI cannot ask for individual Graph scopes; unknown clients are refused.
    let contoso_tenant = contoso().to_string();
    assert_aadsts(
        &post_form(
            &sb,
            &contoso_tenant,
            "devicecode",
            &[
                ("client_id", AZURE_CLI),
                ("scope", "User.Read offline_access"),
            ],
        )
        .await,
        401,
        "invalid_client",
        65002,
    );
    assert_aadsts(
        &post_form(
            &sb,
            &contoso_tenant,
            "devicecode",
            &[
                ("client_id", "00000000-1111-4222-8333-444444444444"),
                ("scope", GRAPH_DEFAULT),
            ],
        )
        .await,
        400,
        "unauthorized_client",
        700016,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn graph_bearer_check_refuses_bad_tokens() {
    let sb = start_default().await;
    let signed_in = sb
        .sign_in(CONTOSO, DEMO_ADMIN, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign in");
    assert!(signed_in.expires_in > 3000);
    assert!(!signed_in.refresh_token.expose().is_empty());
    assert_eq!(
        claims(signed_in.id_token.expose())["preferred_username"],
        DEMO_ADMIN
    );
    let caller = authenticate_graph_token(sb.state(), signed_in.access_token.expose(), now())
        .expect("accepted");
    assert_eq!(
        caller.kind,
        CallerKind::User {
            upn: DEMO_ADMIN.into()
        }
    );
    assert!(caller.has_permission("Application.ReadWrite.All"));
    assert!(
        caller
            .directory_roles
            .contains(&uuid::uuid!("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"))
    );
    // Expired (checked two hours later).
    assert_eq!(
        authenticate_graph_token(sb.state(), signed_in.access_token.expose(), now() + 7200),
        Err(GraphAuthError::Expired)
    );
    // Wrong audience: an ARM token.
    let (principal, _) = identity("id-payments");
    let arm = sb
        .managed_identity_token(CONTOSO, &principal, "https://management.azure.com/")
        .expect("arm token");
    assert_eq!(
        authenticate_graph_token(sb.state(), arm.expose(), now()),
        Err(GraphAuthError::WrongAudience)
    );
    // Tampered.
    let forged = with_tampered_signature(signed_in.access_token.expose());
    assert_eq!(
        authenticate_graph_token(sb.state(), &forged, now()),
        Err(GraphAuthError::BadSignature)
    );
    assert_eq!(
        authenticate_graph_token(sb.state(), "garbage", now()),
        Err(GraphAuthError::Malformed)
    );
    sb.shutdown().await;
}
