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
    // The v1 issuer is sts.windows.net whatever host serves the document.
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(v1["token_endpoint"], format!("{a}/{tid}/oauth2/token"));

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
async fn jwks_publishes_global_keys_with_the_tenantid_template() {
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
    // Entra's keys are global: the issuer is the `{tenantid}` template, on every endpoint.
    assert_eq!(
        key.issuer.as_deref(),
        Some(format!("{a}/{{tenantid}}/v2.0").as_str())
    );
    assert_eq!(
        key.cloud_instance_name.as_deref(),
        Some("microsoftonline.com")
    );

    let token = mi_assertion(&sb, "id-payments");
    let jwt = ficus::jwt::decode(&token).expect("decodes");
    ficus::jwt::verify(&jwt, &jwks).expect("MI token verifies with the published key");
    assert_eq!(
        key.issuer
            .as_deref()
            .map(|i| i.replace("{tenantid}", &tid.to_string())),
        jwt.str_claim("iss").map(str::to_string),
        "the template with the token's tid is its issuer"
    );

    let common: ficus::jwt::Jwks =
        get_json(&client, format!("{a}/common/discovery/v2.0/keys")).await;
    let fabrikam: ficus::jwt::Jwks =
        get_json(&client, format!("{a}/fabrikam/discovery/v2.0/keys")).await;
    assert_eq!(common, jwks);
    assert_eq!(fabrikam, jwks, "one key set for every tenant");
    // A Fabrikam token verifies with Contoso's keys: only iss/tid tell the tenants apart.
    let fab = sb
        .sign_in(
            FABRIKAM,
            "admin@fabrikam.onmicrosoft.com",
            "14d82eec-204b-4c2f-b7e8-296a70dab67e",
            &["https://graph.microsoft.com/User.Read"],
        )
        .expect("fabrikam sign-in");
    let id = ficus::jwt::decode(fab.id_token.expose()).expect("id token");
    ficus::jwt::verify(&id, &jwks).expect("verifies with the same keys");
    assert_eq!(
        id.str_claim("tid"),
        Some(seed::tenant_id(FABRIKAM).to_string().as_str())
    );
    // The v1 keys endpoint carries no issuer.
    let v1: ficus::jwt::Jwks = get_json(&client, format!("{a}/{tid}/discovery/keys")).await;
    assert_eq!(v1.keys.len(), 1);
    assert_eq!(v1.keys[0].issuer, None);
    assert_eq!(v1.keys[0].kid, key.kid);
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
    // iat/nbf backdated 5 minutes; ~24 h lifetime from now.
    let iat = c["iat"].as_i64().expect("iat");
    assert_eq!(c["nbf"].as_i64(), Some(iat));
    assert!((now() - iat - 300).abs() <= 2, "{iat}");
    let lifetime = c["exp"].as_i64().expect("exp") - now();
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
    assert_eq!(c["iss"], format!("https://sts.windows.net/{}/", contoso()));
    assert_eq!(c["idp"], format!("https://sts.windows.net/{}/", contoso()));
    assert_eq!(c["roles"], json!(["Application.Read.All"]));
    // A Graph token: first-party claims, a nonce in the header, 60-90 minutes.
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["app_displayname"], "payments-api");
    let header = ficus::jwt::decode(token).expect("decodes").header;
    assert!(header["nonce"].is_string(), "{header:?}");
    assert_eq!(header["x5t"], header["kid"]);
    let lifetime = body["expires_in"].as_i64().expect("expires_in");
    assert!((3599..=5399).contains(&lifetime), "{lifetime}");
    assert!((c["exp"].as_i64().expect("exp") - now() - lifetime).abs() <= 2);
    assert!((now() - c["iat"].as_i64().expect("iat") - 300).abs() <= 2);

    // The Graph layer accepts it as an app caller.
    let caller =
        authenticate_graph_token(sb.state(), token, now()).expect("graph accepts the token");
    assert_eq!(caller.kind, CallerKind::App);
    assert!(caller.has_permission("Application.Read.All"));

    // Other resources: ARM (v1, aud as requested) and the app's own identifier URI (v1 while
    // its requestedAccessTokenVersion is null, v2 once it asks for 2).
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
    assert_eq!(
        own_claims["aud"],
        format!("api://{}", app_id("payments-api"))
    );
    assert_eq!(own_claims["ver"], "1.0");
    assert_eq!(
        own_claims["iss"],
        format!("https://sts.windows.net/{}/", contoso())
    );
    assert_eq!(own_claims["appid"], app_id("payments-api"));
    assert_eq!(own_claims["appidacr"], "2");
    // No claims an app registration's tokens get only by optional-claims configuration.
    for absent in ["idtyp", "wids", "app_displayname", "xms_mirid"] {
        assert!(own_claims.get(absent).is_none(), "{absent}: {own_claims:?}");
    }
    let header = ficus::jwt::decode(own.1["access_token"].as_str().expect("token"))
        .expect("decodes")
        .header;
    assert!(
        header.get("nonce").is_none(),
        "only Graph tokens carry a nonce"
    );
    sb.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let app = t
            .application_by_app_id_mut(seed::app_ids(CONTOSO, "payments-api").1)
            .expect("app");
        app.api.requested_access_token_version = Some(2);
    });
    let v2 = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        &assertion,
        &format!("api://{}/.default", app_id("payments-api")),
    )
    .await;
    assert_eq!(v2.0, 200, "{}", v2.1);
    let v2 = access_claims(&v2.1);
    assert_eq!(v2["aud"], app_id("payments-api"));
    assert_eq!(v2["ver"], "2.0");
    assert_eq!(
        v2["iss"],
        format!("{}/{}/v2.0", sb.info.authority, contoso())
    );
    assert_eq!(v2["azp"], app_id("payments-api"));
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

    // Signed by a key the sandbox never published: the key is not found.
    let mut valid = base.clone();
    valid["iat"] = json!(now());
    valid["nbf"] = json!(now());
    valid["exp"] = json!(now() + 600);
    let wrong_key = sign_with_foreign_key(valid.clone());
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &wrong_key).await;
    assert_aadsts(&r, 401, "invalid_client", 700027);
    assert!(description(&r).contains("The key was not found"));
    // The keys are global, so the key verifies any tenant's token: a `tid` that is not the
    // issuer's tenant is what fails.
    let mut other_tid = valid.clone();
    other_tid["tid"] = json!(seed::tenant_id(FABRIKAM).to_string());
    let token = sign_with_tenant_key(&sb, contoso(), other_tid);
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &token).await;
    assert_aadsts(&r, 401, "invalid_client", 700027);

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
async fn only_user_assigned_identity_tokens_are_entra_issued_assertions() {
    let sb = start_default().await;
    // payments-api trusts the system-assigned identity of vm-legacy too, and its own app: still
    // Entra refuses those tokens as assertions.
    let (vm_principal, _) = seed::identity_ids(CONTOSO, "vm-legacy");
    let (payments_sp, _) = (
        sb.state().read(|d| {
            d.tenant(CONTOSO)
                .expect("contoso")
                .service_principal_by_app_id(seed::app_ids(CONTOSO, "payments-api").1)
                .expect("sp")
                .id
        }),
        (),
    );
    let issuer = format!("{}/{}/v2.0", sb.info.authority, contoso());
    sb.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let app = t
            .application_by_app_id_mut(seed::app_ids(CONTOSO, "payments-api").1)
            .expect("app");
        for (name, subject) in [("vm", vm_principal), ("self", payments_sp)] {
            app.federated_identity_credentials.push(
                ficus::sandbox::model::FederatedIdentityCredential {
                    id: uuid::Uuid::new_v4(),
                    name: name.into(),
                    issuer: issuer.clone(),
                    subject: subject.to_string(),
                    audiences: vec!["api://AzureADTokenExchange".into()],
                    description: None,
                    created_at: ficus::sandbox::model::Timestamp::now(),
                },
            );
        }
    });
    // The system-assigned identity's token for the exchange audience.
    let system = sb
        .managed_identity_token(
            CONTOSO,
            &vm_principal.to_string(),
            "api://AzureADTokenExchange",
        )
        .expect("system-assigned token");
    let r = graph_exchange(&sb, CONTOSO, "payments-api", system.expose()).await;
    assert_aadsts(&r, 401, "invalid_client", 700222);
    assert!(
        description(&r).contains("AAD-issued tokens may not be used for federated identity flows.")
    );
    // An app token from client credentials with a secret, for the exchange audience.
    let secret = seed::demo_secret(CONTOSO, "payments-api");
    let payments = app_id("payments-api");
    let (status, body) = post_form(
        &sb,
        CONTOSO,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &payments),
            ("scope", "api://AzureADTokenExchange/.default"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let app_token = body["access_token"].as_str().expect("token").to_string();
    let r = graph_exchange(&sb, CONTOSO, "payments-api", &app_token).await;
    assert_aadsts(&r, 401, "invalid_client", 700222);
    // A user-assigned identity's token for another resource (ARM, v1 sts.windows.net issuer).
    let (principal, _) = identity("id-payments");
    let arm = sb
        .managed_identity_token(CONTOSO, &principal, "https://management.azure.com/")
        .expect("arm token");
    let r = graph_exchange(&sb, CONTOSO, "payments-api", arm.expose()).await;
    assert_aadsts(&r, 401, "invalid_client", 700222);
    // The user-assigned identity's exchange token still works.
    let ok = graph_exchange(
        &sb,
        CONTOSO,
        "payments-api",
        &mi_assertion(&sb, "id-payments"),
    )
    .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
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
    // `scope` is what was granted (Azure CLI's pre-authorized set), then the `.default` asked.
    let granted = body["scope"].as_str().expect("scope");
    assert!(
        granted.starts_with("https://graph.microsoft.com/Application.ReadWrite.All "),
        "{granted}"
    );
    assert!(
        granted.ends_with(" https://graph.microsoft.com/.default"),
        "{granted}"
    );
    assert!(granted.contains(" openid profile "), "{granted}");
    assert!(!granted.contains("offline_access"), "{granted}");
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

    // A new refresh token comes back each time; the old one stays valid (Entra does not revoke
    // a refresh token when it is used).
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
    assert!(
        second["scope"]
            .as_str()
            .expect("scope")
            .ends_with(GRAPH_DEFAULT)
    );
    let rt2 = second["refresh_token"].as_str().expect("rt2").to_string();
    assert_ne!(rt1, rt2);
    let (status, again) = refresh(rt1.clone()).await;
    assert_eq!(
        status, 200,
        "the used refresh token is still valid: {again}"
    );
    assert_eq!(refresh(rt1).await.0, 200);
    assert_eq!(refresh(rt2).await.0, 200);
    // Until it expires.
    {
        let mut sessions = sb.state().sessions.lock().expect("sessions");
        for grant in sessions.refresh_tokens.values_mut() {
            grant.expires_at = std::time::Instant::now() - Duration::from_secs(1);
        }
    }
    let rt3 = again["refresh_token"].as_str().expect("rt3").to_string();
    assert_aadsts(&refresh(rt3).await, 400, "invalid_grant", 70008);
    assert_aadsts(
        &refresh("garbage".into()).await,
        400,
        "invalid_grant",
        9002313,
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn delegated_scopes_are_checked_against_published_and_consented() {
    // Approved at once: this test is about scopes, not about waiting for the admin.
    let sb = start(SandboxConfig {
        faults: ficus::sandbox::Faults::parse("approve-after=1").expect("faults"),
        ..SandboxConfig::default()
    })
    .await;
    const GRAPH_CLI: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
    let grant = |client: &'static str, scopes: Vec<String>| {
        let sb = &sb;
        async move {
            let (device_code, _) = start_device_flow(sb, client, &scopes.join(" ")).await;
            let mut r = poll(sb, client, &device_code).await;
            for _ in 0..10 {
                if r.1["error"] != "authorization_pending" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(600)).await;
                r = poll(sb, client, &device_code).await;
            }
            r
        }
    };
    // A consented Graph scope, in Graph's short form: granted, `scope` lists it.
    let (status, body) = grant(GRAPH_CLI, vec!["user.read".into(), "offline_access".into()]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "User.Read");
    assert_eq!(access_claims(&body)["scp"], "User.Read");
    // A misspelled scope is not published by Graph.
    let r = grant(GRAPH_CLI, vec!["User.Reed".into()]).await;
    assert_aadsts(&r, 401, "invalid_client", 650053);
    assert!(description(&r).contains("'User.Reed'"));
    assert!(description(&r).contains("00000003-0000-0000-c000-000000000000"));
    // Published but not consented for this client.
    assert_aadsts(
        &grant(GRAPH_CLI, vec!["Mail.Read".into()]).await,
        400,
        "invalid_grant",
        65001,
    );
    // `/.default` grants what the client is consented to, not the Azure CLI's set.
    let (status, body) = grant(GRAPH_CLI, vec![GRAPH_DEFAULT.into(), "openid".into()]).await;
    assert_eq!(status, 200, "{body}");
    let scp = access_claims(&body)["scp"]
        .as_str()
        .expect("scp")
        .to_string();
    assert!(scp.contains("Application.ReadWrite.All"), "{scp}");
    assert!(!scp.contains("Directory.AccessAsUser.All"), "{scp}");
    assert!(!scp.contains("Group.ReadWrite.All"), "{scp}");
    assert_eq!(
        body["scope"],
        "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/Directory.Read.All https://graph.microsoft.com/User.Read openid profile offline_access email https://graph.microsoft.com/.default"
    );
    // An app registration's API: its published scope needs consent, others do not exist.
    let payments = app_id("payments-api");
    assert_aadsts(
        &grant(
            GRAPH_CLI,
            vec![format!("api://{payments}/user_impersonation")],
        )
        .await,
        400,
        "invalid_grant",
        65001,
    );
    assert_aadsts(
        &grant(
            GRAPH_CLI,
            vec![format!("api://{payments}/Payments.Everything")],
        )
        .await,
        401,
        "invalid_client",
        650053,
    );
    sb.state().update(|d| {
        d.tenant_mut(CONTOSO)
            .expect("contoso")
            .permission_grants
            .push(ficus::sandbox::model::PermissionGrant {
                client_app_id: uuid::Uuid::parse_str(GRAPH_CLI).expect("guid"),
                resource_app_id: seed::app_ids(CONTOSO, "payments-api").1,
                scope: "user_impersonation".into(),
                principal_id: None,
            });
    });
    let (status, body) = grant(
        GRAPH_CLI,
        vec![format!("api://{payments}/user_impersonation")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"],
        format!("api://{payments}/user_impersonation")
    );
    let c = access_claims(&body);
    // A v1 token for the API (requestedAccessTokenVersion null), with v1's user claims and none
    // of the first-party ones.
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["aud"], format!("api://{payments}"));
    assert_eq!(c["scp"], "user_impersonation");
    assert_eq!(c["upn"], DEMO_ADMIN);
    for absent in ["idtyp", "wids", "acct", "app_displayname"] {
        assert!(c.get(absent).is_none(), "{absent}: {c:?}");
    }
    // As a v2 token: no acr, amr, ipaddr, given_name, family_name.
    sb.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        t.application_by_app_id_mut(seed::app_ids(CONTOSO, "payments-api").1)
            .expect("app")
            .api
            .requested_access_token_version = Some(2);
    });
    let (status, body) = grant(
        GRAPH_CLI,
        vec![format!("api://{payments}/user_impersonation")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = access_claims(&body);
    assert_eq!(c["ver"], "2.0");
    assert_eq!(c["aud"], payments);
    assert_eq!(c["preferred_username"], DEMO_ADMIN);
    for absent in [
        "acr",
        "amr",
        "ipaddr",
        "given_name",
        "family_name",
        "idtyp",
        "wids",
        "upn",
    ] {
        assert!(c.get(absent).is_none(), "{absent}: {c:?}");
    }
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

#[tokio::test]
async fn graph_tokens_carry_a_nonce_only_graph_can_verify() {
    let sb = start_default().await;
    let client = sb.http_client().expect("client");
    let jwks: ficus::jwt::Jwks = get_json(
        &client,
        format!("{}/{}/discovery/v2.0/keys", sb.info.authority, contoso()),
    )
    .await;
    let signed_in = sb
        .sign_in(CONTOSO, DEMO_ADMIN, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign in");
    let token = signed_in.access_token.expose();
    let jwt = ficus::jwt::decode(token).expect("decodes");
    let nonce = jwt.header["nonce"].as_str().expect("nonce").to_string();
    assert!(nonce.len() >= 20, "{nonce}");
    // Third parties checking it against the published keys fail, as with Entra's Graph tokens.
    assert!(matches!(
        ficus::jwt::verify(&jwt, &jwks),
        Err(ficus::jwt::VerifyError::BadSignature(_))
    ));
    // Graph (the sandbox's bearer check) hashes the nonce and accepts it.
    let caller = authenticate_graph_token(sb.state(), token, now()).expect("graph accepts it");
    assert!(caller.is_user());
    let signed = ficus::sandbox::tokens::graph_signed_form(token).expect("has a nonce");
    ficus::jwt::verify(&ficus::jwt::decode(&signed).expect("decodes"), &jwks)
        .expect("the hashed form verifies");
    // Tokens for other resources have no nonce and verify as they are.
    let (principal, _) = identity("id-payments");
    let arm = sb
        .managed_identity_token(CONTOSO, &principal, "https://management.azure.com/")
        .expect("arm");
    let arm = ficus::jwt::decode(arm.expose()).expect("decodes");
    assert!(arm.header.get("nonce").is_none());
    ficus::jwt::verify(&arm, &jwks).expect("verifies");
    sb.shutdown().await;
}

#[tokio::test]
async fn managed_identity_tokens_have_entra_claims_and_are_cached_per_resource() {
    let sb = start_default().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let imds = |resource: &'static str| {
        let client = client.clone();
        let url = format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}&client_id={}",
            sb.info.imds,
            identity("id-payments").1
        );
        async move {
            let v: Value = client
                .get(url)
                .header("Metadata", "true")
                .send()
                .await
                .expect("imds")
                .json()
                .await
                .expect("json");
            v["access_token"].as_str().expect("token").to_string()
        }
    };
    let payments = app_id("payments-api");
    let first = imds("https://management.azure.com/").await;
    let again = imds("https://management.azure.com/").await;
    assert_eq!(first, again, "the same token until it nears expiry");
    let other = imds("https://storage.azure.com/").await;
    assert_ne!(first, other, "cached per resource");
    let c = claims(&first);
    assert_eq!(c["iss"], format!("https://sts.windows.net/{}/", contoso()));
    assert_eq!(c["idtyp"], "app");
    assert!(
        c["xms_mirid"].is_string(),
        "first-party audiences get xms_mirid"
    );
    // For an app registration's API: no xms_mirid, no idtyp.
    let own = sb
        .managed_identity_token(
            CONTOSO,
            &identity("id-payments").0,
            &format!("api://{payments}"),
        )
        .expect("api token");
    let c = claims(own.expose());
    assert_eq!(c["aud"], format!("api://{payments}"));
    assert_eq!(c["ver"], "1.0");
    assert!(c.get("xms_mirid").is_none(), "{c:?}");
    assert!(c.get("idtyp").is_none(), "{c:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn discovery_advertises_only_endpoints_that_answer() {
    let sb = start_default().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let a = &sb.info.authority;
    let tid = contoso();
    for path in [
        format!("{tid}/v2.0/.well-known/openid-configuration"),
        format!("{tid}/.well-known/openid-configuration"),
        "common/v2.0/.well-known/openid-configuration".to_string(),
    ] {
        let doc: Value = get_json(&client, format!("{a}/{path}")).await;
        for (name, value) in doc.as_object().expect("object") {
            let Some(url) = value.as_str().filter(|v| v.starts_with(a.as_str())) else {
                continue;
            };
            if name == "issuer" {
                continue;
            }
            let status = if name.contains("token") || name.starts_with("device") {
                client
                    .post(url)
                    .form(&[("client_id", AZURE_CLI)])
                    .send()
                    .await
                    .expect("post")
                    .status()
            } else {
                client.get(url).send().await.expect("get").status()
            };
            assert_ne!(status, 404, "{path}: {name} = {url}");
        }
        assert!(doc.get("kerberos_endpoint").is_none());
        assert!(doc.get("userinfo_endpoint").is_none());
    }
    // The v1 token endpoint: `resource`, numbers as strings.
    let secret = seed::demo_secret(CONTOSO, "payments-api");
    let payments = app_id("payments-api");
    let v1: Value = client
        .post(format!("{a}/{tid}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", payments.as_str()),
            ("client_secret", secret.as_str()),
            ("resource", "https://management.azure.com/"),
        ])
        .send()
        .await
        .expect("v1 token")
        .json()
        .await
        .expect("json");
    assert!(v1["expires_in"].is_string(), "{v1}");
    assert!(v1["expires_on"].is_string(), "{v1}");
    assert_eq!(v1["resource"], "https://management.azure.com/");
    assert_eq!(
        claims(v1["access_token"].as_str().expect("token"))["aud"],
        "https://management.azure.com/"
    );
    // authorize: Entra's error page (no reply address registered).
    let page = client
        .get(format!(
            "{a}/{tid}/oauth2/v2.0/authorize?client_id={payments}&response_type=code"
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(page.status(), 400);
    assert!(page.text().await.expect("html").contains("AADSTS500113"));
    // MSAL's instance discovery.
    let instance: Value = get_json(
        &client,
        format!("{a}/common/discovery/instance?api-version=1.1&authorization_endpoint={a}/{tid}/oauth2/v2.0/authorize"),
    )
    .await;
    assert_eq!(
        instance["tenant_discovery_endpoint"],
        format!("{a}/{tid}/v2.0/.well-known/openid-configuration")
    );
    assert!(instance["metadata"][0]["aliases"].is_array());
    sb.shutdown().await;
}

/// The demo's lessons are mistakes real admins make through Graph, which validates none of
/// them: each seeded broken FIC, deleted and created again through Graph exactly as stored,
/// is accepted (201) and still fails the exchange with its AADSTS code.
#[tokio::test]
async fn every_seeded_mistake_can_be_created_through_graph_and_still_fails() {
    let sb = start_default().await;
    let signed = ficus::startup::sandbox::sandbox_signed(&sb, DEMO_ADMIN, false)
        .expect("signed in to the sandbox");
    let graph = signed.session.graph();
    let cases = [
        ("reporting-portal", "id-reporting", 700211),
        ("inventory-sync", "id-inventory", 700213),
        ("orders-api", "id-inventory", 7002138),
        ("gov-exporter", "id-payments", 700212),
    ];
    for (app_name, identity_name, code) in cases {
        let app = ficus::entra::resolve::resolve_app(&graph, app_name)
            .await
            .expect("app");
        let fics = graph.list_fics(&app.id).await.expect("fics");
        let seeded = fics.first().expect("a seeded FIC").clone();
        graph
            .delete_fic(&app.id, seeded.id.as_deref().expect("id"))
            .await
            .expect("deleted");
        let again = ficus::fic::Fic {
            id: None,
            ..seeded.clone()
        };
        let created = graph
            .create_fic(&app.id, &again)
            .await
            .unwrap_or_else(|e| panic!("{app_name}: Graph refused the seeded mistake: {e}"));
        assert_eq!(
            (&created.issuer, &created.subject, &created.audiences),
            (&seeded.issuer, &seeded.subject, &seeded.audiences),
            "{app_name}: stored as sent"
        );
        let assertion = mi_assertion(&sb, identity_name);
        let result = graph_exchange(&sb, CONTOSO, app_name, &assertion).await;
        assert_aadsts(&result, 401, "invalid_client", code);
    }
    sb.shutdown().await;
}
