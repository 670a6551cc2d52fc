//! The sandbox's sign-in log: each kind of workload sign-in recorded with the right fields,
//! `/beta/auditLogs/signIns` filters, ordering, paging and the licence 403, persistence across
//! a restart; and removing secrets and certificates through Graph.

use crate::sandbox_support;

use ficus::sandbox::seed::{self, CONTOSO, FABRIKAM};
use ficus::sandbox::{Sandbox, SandboxConfig};
use sandbox_support::*;
use serde_json::{Value, json};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

fn admin_token(sb: &Sandbox, tenant: &str, upn: &str) -> String {
    sb.sign_in(tenant, upn, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign-in")
        .access_token
        .expose()
        .clone()
}

async fn sign_ins(sb: &Sandbox, token: &str, query: &str) -> (u16, Value) {
    let url = if query.starts_with("http") {
        query.to_string()
    } else {
        format!("{}/beta/auditLogs/signIns?{query}", sb.info.authority)
    };
    let response = sb
        .http_client()
        .expect("client")
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET signIns");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

fn filter(clause: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("$filter", clause)
        .finish()
}

/// The newest sign-in of an app (the log is newest first by default).
async fn newest(sb: &Sandbox, token: &str, app: &str) -> Value {
    let (status, body) = sign_ins(
        sb,
        token,
        &format!("{}&$top=1", filter(&format!("appId eq '{app}'"))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["value"][0].clone()
}

async fn secret_grant(sb: &Sandbox, app: &str, secret: &str) -> (u16, Value) {
    post_form(
        sb,
        CONTOSO,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app_id(app)),
            ("client_secret", secret),
            ("scope", GRAPH_DEFAULT),
        ],
    )
    .await
}

#[tokio::test]
async fn each_kind_of_sign_in_is_recorded_with_its_credential() {
    let sb = start_default().await;
    let token = admin_token(&sb, CONTOSO, seed::DEMO_ADMIN);

    // A client secret: which one, and success.
    let secret = seed::demo_secret(CONTOSO, "payments-api");
    let (status, _) = secret_grant(&sb, "payments-api", &secret).await;
    assert_eq!(status, 200);
    let s = newest(&sb, &token, &app_id("payments-api")).await;
    assert_eq!(s["clientCredentialType"], "clientSecret");
    assert_eq!(
        s["servicePrincipalCredentialKeyId"],
        ficus::sandbox::model::derived_uuid("contoso/secret-id/payments-api").to_string()
    );
    assert_eq!(s["signInEventTypes"], json!(["servicePrincipal"]));
    assert_eq!(s["status"]["errorCode"], 0);
    assert_eq!(s["appDisplayName"], "payments-api");
    assert_eq!(s["resourceDisplayName"], "Microsoft Graph");
    assert_eq!(s["resourceId"], "00000003-0000-0000-c000-000000000000");
    assert_eq!(s["ipAddress"], "127.0.0.1");
    assert!(s["servicePrincipalId"].as_str().is_some(), "{s}");

    // billing-worker's expired secret: refused, with the code.
    let secret = seed::demo_secret(CONTOSO, "billing-worker");
    let (status, _) = secret_grant(&sb, "billing-worker", &secret).await;
    assert_eq!(status, 401);
    let s = newest(&sb, &token, &app_id("billing-worker")).await;
    assert_eq!(s["status"]["errorCode"], 7000222);
    assert!(
        s["status"]["failureReason"]
            .as_str()
            .is_some_and(|r| r.contains("expired")),
        "{s}"
    );

    // A federated assertion: which FIC matched.
    let assertion = mi_assertion(&sb, "id-payments");
    let (status, _) = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        &assertion,
        GRAPH_DEFAULT,
    )
    .await;
    assert_eq!(status, 200);
    let s = newest(&sb, &token, &app_id("payments-api")).await;
    assert_eq!(s["clientCredentialType"], "federatedIdentityCredential");
    assert_eq!(
        s["federatedCredentialId"],
        ficus::sandbox::model::derived_uuid("contoso/app/payments-api/fic/mi-id-payments")
            .to_string()
    );
    assert_eq!(s["servicePrincipalCredentialKeyId"], Value::Null);

    // inventory-sync's wrong subject: 700213 with the reason.
    let assertion = mi_assertion(&sb, "id-inventory");
    let (status, _) = exchange(
        &sb,
        CONTOSO,
        &app_id("inventory-sync"),
        &assertion,
        GRAPH_DEFAULT,
    )
    .await;
    assert_eq!(status, 401);
    let s = newest(&sb, &token, &app_id("inventory-sync")).await;
    assert_eq!(s["status"]["errorCode"], 700213);
    assert_eq!(s["clientCredentialType"], "federatedIdentityCredential");
    assert_eq!(s["federatedCredentialId"], Value::Null);
    assert_eq!(
        s["ipAddress"], "127.0.0.1",
        "a live one, not the seeded ones"
    );

    // A certificate assertion (iss = sub = the client id, x5t = the certificate's thumbprint):
    // recorded as a certificate with its keyId, whatever the answer.
    let legacy = app_id("legacy-crm");
    let thumb = ficus::sandbox::model::derived_uuid("contoso/cert/legacy-crm");
    let x5t = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(thumb.as_bytes())
    };
    let unsigned = {
        use base64::Engine;
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": x5t});
        let claims = json!({"iss": legacy, "sub": legacy, "aud": format!("{}/{}/oauth2/v2.0/token", sb.info.authority, contoso()), "exp": now() + 600, "nbf": now() - 10, "jti": "t1"});
        format!("{}.{}.c2ln", b64(&header), b64(&claims))
    };
    let _ = exchange(&sb, CONTOSO, &legacy, &unsigned, GRAPH_DEFAULT).await;
    let s = newest(&sb, &token, &legacy).await;
    assert_eq!(s["clientCredentialType"], "certificate");
    assert_eq!(
        s["servicePrincipalCredentialKeyId"],
        ficus::sandbox::model::derived_uuid("contoso/cert-id/legacy-crm").to_string()
    );

    // A managed identity token from IMDS.
    let (_, client_id) = identity("id-reporting");
    let response = sb
        .http_client()
        .expect("client")
        .get(format!(
            "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net&client_id={client_id}",
            sb.info.imds
        ))
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds");
    assert_eq!(response.status().as_u16(), 200);
    let (status, body) = sign_ins(
        &sb,
        &token,
        &format!(
            "{}&$top=1",
            filter(&format!(
                "signInEventTypes/any(t: t eq 'managedIdentity') and appId eq '{client_id}'"
            ))
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let s = &body["value"][0];
    assert_eq!(s["clientCredentialType"], "managedIdentity");
    assert_eq!(s["signInEventTypes"], json!(["managedIdentity"]));
    assert_eq!(s["servicePrincipalId"], identity("id-reporting").0);
    assert_eq!(s["resourceDisplayName"], "Azure Key Vault");
    assert_eq!(s["managedServiceIdentity"]["msiType"], "userAssigned");
    sb.shutdown().await;
}

#[tokio::test]
async fn filters_order_and_paging_follow_graph() {
    let sb = start_default().await;
    let token = admin_token(&sb, CONTOSO, seed::DEMO_ADMIN);
    let inventory = app_id("inventory-sync");
    let clause = format!(
        "signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '{inventory}' and status/errorCode eq 700213"
    );
    let mut url = format!("{}&$top=100&$orderby=createdDateTime desc", filter(&clause));
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, body) = sign_ins(&sb, &token, &url).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for s in body["value"].as_array().expect("value") {
            assert_eq!(s["appId"], inventory.as_str());
            assert_eq!(s["status"]["errorCode"], 700213);
            seen.push(s["createdDateTime"].as_str().expect("date").to_string());
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 288, "the seeded day of failures");
    assert_eq!(pages, 3);
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Ascending, and a window by date.
    let since = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let since = since
        .format(&time::format_description::well_known::Rfc3339)
        .expect("date");
    let (status, body) = sign_ins(
        &sb,
        &token,
        &format!(
            "{}&$orderby=createdDateTime asc",
            filter(&format!(
                "appId eq '{inventory}' and createdDateTime ge {since}"
            ))
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let dates: Vec<&str> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|s| s["createdDateTime"].as_str().expect("date"))
        .collect();
    assert!(
        (11..=13).contains(&dates.len()),
        "every five minutes: {}",
        dates.len()
    );
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    // Failures only, across apps; successes only.
    let (_, body) = sign_ins(&sb, &token, &filter("status/errorCode ne 0")).await;
    let failed = body["value"].as_array().expect("value");
    assert!(failed.iter().all(|s| s["status"]["errorCode"] != 0));
    assert!(!failed.is_empty());

    // Bad queries say what is supported.
    let (status, body) = sign_ins(&sb, &token, &filter("userPrincipalName eq 'x'")).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("appId eq")),
        "{body}"
    );
    let (status, _) = sign_ins(&sb, &token, "$top=0").await;
    assert_eq!(status, 400);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_tenant_without_p1_gets_the_licence_403() {
    let sb = start_default().await;
    let token = admin_token(&sb, FABRIKAM, seed::FABRIKAM_ADMIN);
    let (status, body) = sign_ins(&sb, &token, "").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["error"]["code"],
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    );
    let (status, _) = sign_ins(&sb, "not-a-token", "").await;
    assert_eq!(status, 401);
    sb.shutdown().await;
}

#[tokio::test]
async fn live_sign_ins_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || SandboxConfig {
        state_file: Some(dir.path().join("state.json")),
        ..SandboxConfig::default()
    };
    let sb = start(config()).await;
    let (status, _) = secret_grant(&sb, "payments-api", "wrong-secret-value").await;
    assert_eq!(status, 401);
    let token = admin_token(&sb, CONTOSO, seed::DEMO_ADMIN);
    let before = newest(&sb, &token, &app_id("payments-api")).await;
    assert_eq!(before["status"]["errorCode"], 7000215);
    sb.shutdown().await;

    let sb = start(config()).await;
    let token = admin_token(&sb, CONTOSO, seed::DEMO_ADMIN);
    let after = newest(&sb, &token, &app_id("payments-api")).await;
    assert_eq!(after, before);
    sb.shutdown().await;
}

async fn graph(
    sb: &Sandbox,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let response = sb
        .http_client()
        .expect("client")
        .request(method, format!("{}/v1.0/{path}", sb.info.authority))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("graph");
    let status = response.status().as_u16();
    let text = response.text().await.expect("text");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn secrets_and_certificates_are_removed_as_graph_does() {
    let sb = start_default().await;
    let token = admin_token(&sb, CONTOSO, seed::DEMO_ADMIN);
    let payments = seed::app_ids(CONTOSO, "payments-api").0;
    let key_id = ficus::sandbox::model::derived_uuid("contoso/secret-id/payments-api");

    let (status, body) = graph(
        &sb,
        &token,
        reqwest::Method::POST,
        &format!("applications/{payments}/removePassword"),
        json!({}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = graph(
        &sb,
        &token,
        reqwest::Method::POST,
        &format!("applications/{payments}/removePassword"),
        json!({"keyId": key_id}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, app) = graph(
        &sb,
        &token,
        reqwest::Method::GET,
        &format!("applications/{payments}?$select=passwordCredentials"),
        Value::Null,
    )
    .await;
    assert_eq!(app["passwordCredentials"], json!([]));
    // The removed secret no longer signs in; removing it again is refused.
    let (status, _) = secret_grant(
        &sb,
        "payments-api",
        &seed::demo_secret(CONTOSO, "payments-api"),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = graph(
        &sb,
        &token,
        reqwest::Method::POST,
        &format!("applications/{payments}/removePassword"),
        json!({"keyId": key_id}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains(&key_id.to_string()), "{body}");

    // A certificate, by PATCHing keyCredentials without it.
    let legacy = seed::app_ids(CONTOSO, "legacy-crm").0;
    let (status, body) = graph(
        &sb,
        &token,
        reqwest::Method::PATCH,
        &format!("applications/{legacy}"),
        json!({"keyCredentials": [{"keyId": uuid::Uuid::new_v4()}]}),
    )
    .await;
    assert_eq!(status, 400, "adding is not modeled: {body}");
    let (status, _) = graph(
        &sb,
        &token,
        reqwest::Method::PATCH,
        &format!("applications/{legacy}"),
        json!({"keyCredentials": []}),
    )
    .await;
    assert_eq!(status, 204);
    let (_, app) = graph(
        &sb,
        &token,
        reqwest::Method::GET,
        &format!("applications/{legacy}?$select=keyCredentials"),
        Value::Null,
    )
    .await;
    assert_eq!(app["keyCredentials"], json!([]));

    // The reader may not remove anything.
    let reader = admin_token(&sb, CONTOSO, seed::DEMO_READER);
    let billing = seed::app_ids(CONTOSO, "billing-worker").0;
    let (status, _) = graph(
        &sb,
        &reader,
        reqwest::Method::POST,
        &format!("applications/{billing}/removePassword"),
        json!({"keyId": ficus::sandbox::model::derived_uuid("contoso/secret-id/billing-worker")}),
    )
    .await;
    assert_eq!(status, 403);
    sb.shutdown().await;
}
