//! Graph v1.0 of the in-process sandbox, driven over HTTP with reqwest: every route, each
//! Graph error, the advanced-query rules, paging, FIC writes and their validation, and the
//! throttling and latency faults.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ficus::sandbox::faults::Faults;
use ficus::sandbox::seed::Seed;
use ficus::sandbox::{Sandbox, SandboxConfig, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";
const READER: &str = "reader@contoso.onmicrosoft.com";
const EXCHANGE: &str = "api://AzureADTokenExchange";

struct Env {
    sandbox: Sandbox,
    http: reqwest::Client,
    admin: String,
}

async fn env_with(config: SandboxConfig) -> Env {
    ficus::install_crypto_provider();
    let sandbox = start(config).await.expect("sandbox starts");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    let admin = token(&sandbox, ADMIN);
    Env {
        sandbox,
        http,
        admin,
    }
}

async fn env() -> Env {
    env_with(SandboxConfig::default()).await
}

fn token(sandbox: &Sandbox, upn: &str) -> String {
    sandbox
        .sign_in("contoso", upn, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign-in")
        .access_token
        .expose()
        .clone()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Answer {
    fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
    fn values(&self) -> &Vec<Value> {
        self.body["value"].as_array().expect("a collection")
    }
    fn names(&self) -> Vec<String> {
        self.values()
            .iter()
            .map(|v| v["displayName"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.info.graph)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.get_as(&self.admin, path, false).await
    }

    async fn get_eventual(&self, path: &str) -> Answer {
        self.get_as(&self.admin, path, true).await
    }

    async fn get_as(&self, token: &str, path: &str, eventual: bool) -> Answer {
        let mut request = self.http.get(self.url(path)).bearer_auth(token);
        if eventual {
            request = request.header("ConsistencyLevel", "eventual");
        }
        self.send(request).await
    }

    async fn write_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Answer {
        self.send(
            self.http
                .request(method, self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.write_as(&self.admin, reqwest::Method::POST, path, body)
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.write_as(&self.admin, reqwest::Method::PATCH, path, body)
            .await
    }

    /// PATCH with `Prefer: create-if-missing` (the upsert).
    async fn patch_creating(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.http
                .patch(self.url(path))
                .bearer_auth(&self.admin)
                .header("Prefer", "create-if-missing")
                .json(&body),
        )
        .await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(self.http.delete(self.url(path)).bearer_auth(&self.admin))
            .await
    }

    /// The object id of the app with this display name.
    async fn app_id_of(&self, name: &str) -> (String, String) {
        let a = self
            .get(&format!(
                "/applications?$filter=displayName eq '{name}'&$select=id,appId"
            ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
        let app = a
            .values()
            .first()
            .unwrap_or_else(|| panic!("{name} exists"));
        (
            app["id"].as_str().expect("id").to_string(),
            app["appId"].as_str().expect("appId").to_string(),
        )
    }

    /// Principal id of a managed identity by display name.
    async fn principal_of(&self, name: &str) -> String {
        let a = self
            .get(&format!(
                "/servicePrincipals?$filter=servicePrincipalType eq 'ManagedIdentity' and displayName eq '{name}'"
            ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
        a.values()[0]["id"].as_str().expect("id").to_string()
    }
}

/// The first 400 characters of a body, for assertion messages.
fn short(text: &str) -> String {
    text.chars().take(400).collect()
}

fn assert_graph_error(a: &Answer, status: StatusCode, code: &str) {
    let text = short(&a.text);
    assert_eq!(a.status, status, "{text}");
    assert_eq!(a.error_code(), code, "{text}");
    assert!(!a.error_message().is_empty(), "{text}");
    let inner = &a.body["error"]["innerError"];
    assert!(inner["date"].is_string(), "{text}");
    assert!(inner["request-id"].is_string(), "{text}");
    assert!(inner["client-request-id"].is_string(), "{text}");
}

fn fic_body(name: &str, subject: &str) -> Value {
    json!({
        "name": name,
        "issuer": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0",
        "subject": subject,
        "audiences": [EXCHANGE],
    })
}

// --- /me, /organization, authentication ---------------------------------------------------

#[tokio::test]
async fn me_and_organization() {
    let env = env().await;
    let me = env.get("/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", short(&me.text));
    assert_eq!(me.body["userPrincipalName"], ADMIN);
    assert!(me.body["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(
        me.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("/v1.0/$metadata#users/$entity")),
        "{}",
        me.text
    );
    assert!(me.body["businessPhones"].is_array());
    assert!(
        me.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
    );

    let org = env.get("/organization").await;
    assert_eq!(org.status, StatusCode::OK, "{}", short(&org.text));
    let tenant = &org.values()[0];
    assert_eq!(tenant["displayName"], "Contoso");
    assert_eq!(
        tenant["verifiedDomains"][0]["name"],
        "contoso.onmicrosoft.com"
    );
    assert_eq!(
        tenant["id"].as_str(),
        Some(
            env.sandbox
                .info
                .tenants
                .iter()
                .find(|t| t.name == "contoso")
                .expect("contoso")
                .id
                .as_str()
        )
    );
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_with_the_client_request_id_echoed() {
    let env = env().await;
    let a = env
        .send(
            env.http
                .get(env.url("/applications"))
                .header("client-request-id", "my-correlation-1"),
        )
        .await;
    assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    assert_eq!(
        a.body["error"]["innerError"]["client-request-id"],
        "my-correlation-1"
    );
    assert_eq!(
        a.headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("my-correlation-1")
    );
    assert!(a.headers.get("www-authenticate").is_some());

    // A managed identity token for ARM: valid signature, wrong audience.
    let principal = ficus::sandbox::seed::identity_ids("contoso", "id-payments").0;
    let arm = env
        .sandbox
        .managed_identity_token(
            "contoso",
            &principal.to_string(),
            "https://management.azure.com/",
        )
        .expect("MI token");
    let a = env.get_as(arm.expose(), "/applications", false).await;
    assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    assert!(a.error_message().contains("audience"), "{}", short(&a.text));

    // A tampered token: signature no longer matches.
    let mut tampered = env.admin.clone();
    let flip = tampered.len() - 5;
    let c = if &tampered[flip..flip + 1] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(flip..flip + 1, c);
    let a = env.get_as(&tampered, "/me", false).await;
    assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");

    let a = env.get_as("not-a-token", "/me", false).await;
    assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn expired_tokens_are_401() {
    let env = env().await;
    let state = env.sandbox.state();
    let tenant_id = ficus::sandbox::seed::tenant_id("contoso");
    let key = state.keys.get(tenant_id).expect("contoso key");
    let signer = ficus::sandbox::tokens::Signer {
        authority: &state.authority,
        tenant_id,
        key: &key,
    };
    let admin_claims = ficus::jwt::decode(&env.admin)
        .expect("admin token decodes")
        .claims;
    let mut claims = admin_claims.clone();
    let long_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 7200;
    claims.insert("iat".into(), json!(long_ago - 3600));
    claims.insert("nbf".into(), json!(long_ago - 3600));
    claims.insert("exp".into(), json!(long_ago));
    let expired = signer.sign(&claims, true);
    let a = env.get_as(&expired, "/me", false).await;
    assert_graph_error(&a, StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    assert!(a.error_message().contains("expired"), "{}", short(&a.text));
    // The same claims, still valid, pass: it is the expiry that was refused.
    let fresh = signer.sign(&admin_claims, true);
    assert_eq!(
        env.get_as(&fresh, "/me", false).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_tenant_sees_its_own_directory() {
    let env = env().await;
    let fabrikam = env
        .sandbox
        .sign_in(
            "fabrikam",
            "admin@fabrikam.onmicrosoft.com",
            AZURE_CLI,
            &[GRAPH_DEFAULT],
        )
        .expect("fabrikam sign-in")
        .access_token
        .expose()
        .clone();
    let org = env.get_as(&fabrikam, "/organization", false).await;
    assert_eq!(
        org.values()[0]["displayName"],
        "Fabrikam",
        "{}",
        short(&org.text)
    );
    let sps = env
        .get_as(
            &fabrikam,
            "/servicePrincipals?$filter=displayName eq 'partner-sync'",
            false,
        )
        .await;
    assert_eq!(sps.names(), ["partner-sync"], "{}", short(&sps.text));
    let apps = env
        .get_as(
            &fabrikam,
            "/applications?$filter=displayName eq 'payments-api'",
            false,
        )
        .await;
    assert_eq!(apps.status, StatusCode::OK);
    assert!(
        apps.values().is_empty(),
        "contoso's apps are not fabrikam's"
    );
    let (payments, _) = env.app_id_of("payments-api").await;
    let a = env
        .get_as(&fabrikam, &format!("/applications/{payments}"), false)
        .await;
    assert_graph_error(&a, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

// --- /applications: listing, OData -------------------------------------------------------

#[tokio::test]
async fn applications_list_select_and_single_gets() {
    let env = env().await;
    let a = env.get("/applications").await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    assert!(
        a.values().len() >= 45 && a.values().len() <= 100,
        "{}",
        a.values().len()
    );
    assert!(
        a.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("$metadata#applications"))
    );
    let names = a.names();
    for expected in [
        "payments-api",
        "inventory-sync",
        "reporting-portal",
        "gov-exporter",
        "billing-worker",
        "legacy-crm",
        "partner-sync",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} listed");
    }
    let first = &a.values()[0];
    for field in [
        "id",
        "appId",
        "displayName",
        "signInAudience",
        "passwordCredentials",
        "keyCredentials",
        "createdDateTime",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert!(
        first.get("federatedIdentityCredentials").is_none(),
        "only with $expand"
    );
    // Secrets never come back.
    assert!(
        !a.text.contains("secretText\":\""),
        "secretText must be null"
    );

    let a = env.get("/applications?$select=id,displayName").await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    for app in a.values() {
        let mut keys: Vec<&String> = app.as_object().expect("object").keys().collect();
        keys.sort();
        assert_eq!(keys, ["displayName", "id"], "{app}");
    }
    assert!(
        a.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("applications(id,displayName)"))
    );

    let (id, app_id) = env.app_id_of("payments-api").await;
    let by_id = env.get(&format!("/applications/{id}")).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", short(&by_id.text));
    assert_eq!(by_id.body["displayName"], "payments-api");
    assert!(
        by_id.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("$metadata#applications/$entity"))
    );
    let by_app_id = env.get(&format!("/applications(appId='{app_id}')")).await;
    assert_eq!(
        by_app_id.status,
        StatusCode::OK,
        "{}",
        short(&by_app_id.text)
    );
    assert_eq!(by_app_id.body["id"], id.as_str());
    let encoded = env
        .get(&format!(
            "/applications(appId=%27{app_id}%27)?$select=displayName"
        ))
        .await;
    assert_eq!(
        encoded.body["displayName"],
        "payments-api",
        "{}",
        short(&encoded.text)
    );

    let missing = env
        .get("/applications/00000000-0000-0000-0000-000000000042")
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let missing = env
        .get("/applications(appId='00000000-0000-0000-0000-000000000042')")
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let bad = env.get("/applications/not-a-guid").await;
    assert_graph_error(&bad, StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert!(bad.error_message().contains("Invalid object identifier"));
    let bad = env.get("/applications(appId='x'").await;
    assert_graph_error(&bad, StatusCode::BAD_REQUEST, "BadRequest");
    let bad = env.get("/applications?$select=nope").await;
    assert_graph_error(&bad, StatusCode::BAD_REQUEST, "BadRequest");
}

#[tokio::test]
async fn paging_follows_next_links_to_every_app_exactly_once() {
    let env = env().await;
    let total = env.get_eventual("/applications/$count").await;
    assert_eq!(total.status, StatusCode::OK, "{}", short(&total.text));
    let total: usize = total.text.trim().parse().expect("a number");
    assert!(total >= 45);

    let mut seen = HashSet::new();
    let mut url = env.url("/applications?$top=7&$select=id,displayName");
    let mut pages = 0;
    loop {
        let a = env.send(env.http.get(&url).bearer_auth(&env.admin)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
        assert!(a.values().len() <= 7);
        for app in a.values() {
            assert!(
                seen.insert(app["id"].as_str().expect("id").to_string()),
                "no duplicates"
            );
        }
        pages += 1;
        match a.body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&env.sandbox.info.graph),
                    "absolute: {next}"
                );
                assert!(next.contains("$skiptoken="), "{next}");
                assert!(next.contains("$top=7"), "keeps the query: {next}");
                url = next.to_string();
            }
            None => break,
        }
        assert!(pages < 100, "paging terminates");
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(7));

    let a = env.get("/applications?$top=1000").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    assert!(
        a.error_message().contains("Must be between 1 and 999"),
        "{}",
        short(&a.text)
    );
    let a = env.get("/applications?$top=999").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.get("@odata.nextLink").is_none());
    let a = env.get("/applications?$skiptoken=garbage").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_BadRequest");
    // Without the header, /$count is refused.
    let a = env.get("/applications/$count").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_BadRequest");
    assert_eq!(a.error_message(), "$count is not currently supported.");
}

#[tokio::test]
async fn filters_eq_startswith_and_escaping() {
    let env = env().await;
    let a = env
        .get("/applications?$filter=displayName eq 'PAYMENTS-API'")
        .await;
    assert_eq!(a.names(), ["payments-api"], "{}", short(&a.text));
    let a = env
        .get("/applications?$filter=startswith(displayName,'pay')")
        .await;
    assert!(
        a.names()
            .iter()
            .all(|n| n.to_lowercase().starts_with("pay")),
        "{}",
        short(&a.text)
    );
    assert!(a.names().contains(&"payments-api".to_string()));
    let (id, app_id) = env.app_id_of("inventory-sync").await;
    let a = env
        .get(&format!("/applications?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(a.names(), ["inventory-sync"]);
    let a = env
        .get(&format!(
            "/applications?$filter=id eq '{id}' and startswith(displayName,'inv')"
        ))
        .await;
    assert_eq!(a.names(), ["inventory-sync"]);
    let a = env
        .get("/applications?$filter=displayName eq 'it''s not there'")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    assert!(a.values().is_empty());

    let a = env
        .get("/applications?$filter=displayName eq 'unterminated")
        .await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
    let a = env.get("/applications?$filter=colour eq 'red'").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
    let a = env.get("/applications?$filter=displayName ne 'x'").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    let a = env.get("/applications?$skip=3").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_BadRequest");
}

#[tokio::test]
async fn advanced_queries_need_consistency_level_and_count() {
    let env = env().await;
    let principal = env.principal_of("id-payments").await;
    let lambda = format!(
        "/applications?$filter=federatedIdentityCredentials/any(f:f/subject eq '{principal}')&$count=true&$select=displayName"
    );
    let a = env.get(&lambda).await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    let without_count = lambda.replace("&$count=true", "");
    let a = env.get_eventual(&without_count).await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    let a = env.get_eventual(&lambda).await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    let mut names = a.names();
    names.sort();
    assert_eq!(
        names,
        ["gov-exporter", "payments-api"],
        "both trust id-payments"
    );
    assert_eq!(a.body["@odata.count"], 2);

    let issuer = env
        .get_eventual("/applications?$filter=federatedIdentityCredentials/any(f:startswith(f/issuer,'https://'))&$count=true")
        .await;
    assert_eq!(issuer.status, StatusCode::OK, "{}", short(&issuer.text));
    assert!(issuer.values().len() >= 4);

    let a = env
        .get("/applications?$search=\"displayName:payments\"")
        .await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    assert!(a.error_message().contains("ConsistencyLevel: eventual"));
    let a = env
        .get_eventual("/applications?$search=\"displayName:payments\"")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    assert!(a.names().contains(&"payments-api".to_string()));
    let a = env
        .get_eventual("/applications?$search=displayName:payments")
        .await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");

    // $count=true is silently ignored without the header, honoured with it.
    let a = env.get("/applications?$count=true").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.get("@odata.count").is_none());
    let a = env.get_eventual("/applications?$count=true&$top=3").await;
    let count = a.body["@odata.count"].as_u64().expect("count");
    assert!(count >= 45);
    assert_eq!(a.values().len(), 3);

    let a = env.get("/applications?$orderby=displayName").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    assert_eq!(
        a.error_message(),
        "Sorting not supported for current query."
    );
    // Ordered paging: pages concatenate to the full sorted list.
    let mut ordered = Vec::new();
    let mut url = env.url("/applications?$orderby=displayName&$top=10&$select=displayName");
    loop {
        let a = env
            .send(
                env.http
                    .get(&url)
                    .bearer_auth(&env.admin)
                    .header("ConsistencyLevel", "eventual"),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
        ordered.extend(a.names());
        match a.body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    let mut sorted = ordered.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(ordered, sorted);
    assert_eq!(ordered.len() as u64, count);
}

#[tokio::test]
async fn expand_federated_identity_credentials() {
    let env = env().await;
    let a = env
        .get("/applications?$filter=displayName eq 'payments-api'&$expand=federatedIdentityCredentials&$select=id,displayName")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    let fics = a.values()[0]["federatedIdentityCredentials"]
        .as_array()
        .expect("expanded");
    assert_eq!(fics.len(), 1);
    assert_eq!(fics[0]["name"], "mi-id-payments");
    assert_eq!(fics[0]["audiences"], json!([EXCHANGE]));
    let principal = env.principal_of("id-payments").await;
    assert_eq!(fics[0]["subject"], principal.as_str());
}

// --- federated identity credentials -------------------------------------------------------

#[tokio::test]
async fn fic_lifecycle_create_get_list_update_delete() {
    let env = env().await;
    let (app, app_id) = env.app_id_of("billing-worker").await;
    let base = format!("/applications/{app}/federatedIdentityCredentials");

    let created = env.post(&base, fic_body("deploy-1", "subject-one")).await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{}",
        short(&created.text)
    );
    let fic_id = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(created.body["name"], "deploy-1");
    assert_eq!(created.body["subject"], "subject-one");
    assert_eq!(created.body["audiences"], json!([EXCHANGE]));
    assert!(created.body["description"].is_null());
    assert!(
        created.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with(&format!(
                "$metadata#applications('{app}')/federatedIdentityCredentials/$entity"
            )))
    );
    assert!(
        created
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.ends_with(&fic_id))
    );

    for path in [
        format!("{base}/{fic_id}"),
        format!("{base}/deploy-1"),
        format!("/applications/{app}/federatedIdentityCredentials(name='deploy-1')"),
        format!("/applications(appId='{app_id}')/federatedIdentityCredentials/{fic_id}"),
    ] {
        let got = env.get(&path).await;
        assert_eq!(got.status, StatusCode::OK, "{path}: {}", short(&got.text));
        assert_eq!(got.body["id"], fic_id.as_str());
    }

    env.post(&base, fic_body("deploy-2", "subject-two")).await;
    let list = env.get(&base).await;
    assert_eq!(list.status, StatusCode::OK, "{}", short(&list.text));
    assert_eq!(list.values().len(), 2);
    let filtered = env
        .get(&format!("{base}?$filter=subject eq 'subject-two'"))
        .await;
    assert_eq!(filtered.values().len(), 1, "{}", short(&filtered.text));
    assert_eq!(filtered.values()[0]["name"], "deploy-2");
    let filtered = env
        .get(&format!("{base}?$filter=name eq 'deploy-1'&$select=name"))
        .await;
    assert_eq!(filtered.values(), &vec![json!({"name": "deploy-1"})]);

    let updated = env
        .patch(
            &format!("{base}/{fic_id}"),
            json!({"subject": "subject-one-fixed", "description": "fixed"}),
        )
        .await;
    assert_eq!(
        updated.status,
        StatusCode::NO_CONTENT,
        "{}",
        short(&updated.text)
    );
    let got = env.get(&format!("{base}/{fic_id}")).await;
    assert_eq!(got.body["subject"], "subject-one-fixed");
    assert_eq!(got.body["description"], "fixed");

    let rename = env
        .patch(&format!("{base}/{fic_id}"), json!({"name": "renamed"}))
        .await;
    assert_graph_error(&rename, StatusCode::BAD_REQUEST, "Request_BadRequest");
    let same_name = env
        .patch(&format!("{base}/{fic_id}"), json!({"name": "deploy-1"}))
        .await;
    assert_eq!(
        same_name.status,
        StatusCode::NO_CONTENT,
        "{}",
        short(&same_name.text)
    );

    let deleted = env.delete(&format!("{base}/{fic_id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = env.get(&format!("{base}/{fic_id}")).await;
    assert_graph_error(&gone, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let gone = env
        .get(&format!(
            "/applications/{app}/federatedIdentityCredentials(name='deploy-1')"
        ))
        .await;
    assert_graph_error(&gone, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    assert_eq!(
        gone.error_message(),
        "FederatedIdentityCredential with name deploy-1 not found."
    );
    let gone = env.get(&format!("{base}/deploy-1")).await;
    assert_graph_error(&gone, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    assert_eq!(
        gone.error_message(),
        "FederatedIdentityCredential with name deploy-1 not found."
    );
    let again = env.delete(&format!("{base}/{fic_id}")).await;
    assert_graph_error(&again, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn fic_upsert_by_name() {
    let env = env().await;
    let (app, _) = env.app_id_of("legacy-crm").await;
    let path = format!("/applications/{app}/federatedIdentityCredentials(name='upserted')");
    let body = json!({
        "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:contoso/crm:ref:refs/heads/main",
        "audiences": [EXCHANGE],
    });
    // Without `Prefer: create-if-missing` a PATCH by a missing name is 404, not an upsert.
    let plain = env.patch(&path, body.clone()).await;
    assert_graph_error(&plain, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let first = env.patch_creating(&path, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", short(&first.text));
    assert_eq!(first.body["name"], "upserted");
    let second = env
        .patch(
            &path,
            json!({"subject": "repo:contoso/crm:environment:prod"}),
        )
        .await;
    assert_eq!(
        second.status,
        StatusCode::NO_CONTENT,
        "{}",
        short(&second.text)
    );
    let got = env.get(&path).await;
    assert_eq!(got.body["subject"], "repo:contoso/crm:environment:prod");
    let mismatch = env
        .patch_creating(
            &format!("/applications/{app}/federatedIdentityCredentials(name='other')"),
            json!({"name": "different", "issuer": "i", "subject": "s", "audiences": ["a"]}),
        )
        .await;
    assert_graph_error(&mismatch, StatusCode::BAD_REQUEST, "Request_BadRequest");
    // Plain PATCH by an unknown id is not an upsert.
    let missing = env
        .patch(
            &format!("/applications/{app}/federatedIdentityCredentials/00000000-0000-0000-0000-000000000009"),
            json!({"subject": "x"}),
        )
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn fic_validation_is_only_what_graph_validates() {
    let env = env().await;
    let (app, _) = env.app_id_of("legacy-crm").await;
    let base = format!("/applications/{app}/federatedIdentityCredentials");

    // Semantically wrong but well-formed: accepted, as in real life.
    let wrong = env
        .post(&base, json!({"name": "wrong-but-fine", "issuer": "not a url", "subject": "id-payments", "audiences": ["api://AzureADTokenExchangeUSGov"]}))
        .await;
    assert_eq!(wrong.status, StatusCode::CREATED, "{}", short(&wrong.text));

    let cases = [
        json!({"name": "ab", "issuer": "i", "subject": "s", "audiences": ["a"]}),
        json!({"name": "has space", "issuer": "i", "subject": "s", "audiences": ["a"]}),
        json!({"name": "-leading", "issuer": "i", "subject": "s", "audiences": ["a"]}),
        json!({"name": "x".repeat(121), "issuer": "i", "subject": "s", "audiences": ["a"]}),
        json!({"name": "two-audiences", "issuer": "i", "subject": "s", "audiences": ["a", "b"]}),
        json!({"name": "no-audience", "issuer": "i", "subject": "s", "audiences": []}),
        json!({"name": "no-issuer", "subject": "s", "audiences": ["a"]}),
        json!({"name": "no-subject", "issuer": "i", "audiences": ["a"]}),
        json!({"name": "long-subject", "issuer": "i", "subject": "s".repeat(601), "audiences": ["a"]}),
        json!({"issuer": "i", "subject": "s", "audiences": ["a"]}),
    ];
    for body in cases {
        let a = env.post(&base, body.clone()).await;
        assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_BadRequest");
        assert!(a.error_message().len() > 10, "{body}: {}", short(&a.text));
    }
    let a = env.post(&base, json!({"name": "typo", "isuer": "i"})).await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
    let a = env
        .send(
            env.http
                .post(env.url(&base))
                .bearer_auth(&env.admin)
                .body("{not json"),
        )
        .await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");

    let dup = env
        .post(
            &base,
            json!({"name": "WRONG-BUT-FINE", "issuer": "i", "subject": "s", "audiences": ["a"]}),
        )
        .await;
    assert_graph_error(
        &dup,
        StatusCode::CONFLICT,
        "Request_MultipleObjectsWithSameKeyValue",
    );
    assert_eq!(
        dup.error_message(),
        "FederatedIdentityCredential with name WRONG-BUT-FINE already exists."
    );
    let same_pair = env
        .post(&base, json!({"name": "same-pair", "issuer": "not a url", "subject": "id-payments", "audiences": ["a"]}))
        .await;
    assert_graph_error(&same_pair, StatusCode::BAD_REQUEST, "Request_BadRequest");

    // Up to 20 per app.
    let existing = env.get(&base).await.values().len();
    for i in existing..20 {
        let a = env
            .post(
                &base,
                fic_body(&format!("fill-{i}"), &format!("subject-{i}")),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", short(&a.text));
    }
    let over = env
        .post(&base, fic_body("one-too-many", "subject-21"))
        .await;
    assert_eq!(over.status, StatusCode::FORBIDDEN, "{}", short(&over.text));
    assert!(
        over.error_message()
            .contains("Size of object exceeded limit")
    );
    assert_eq!(env.get(&base).await.values().len(), 20);
}

#[tokio::test]
async fn writes_need_write_rights() {
    let env = env().await;
    let reader = token(&env.sandbox, READER);
    let (app, _) = env.app_id_of("billing-worker").await;
    let base = format!("/applications/{app}/federatedIdentityCredentials");

    let list = env.get_as(&reader, &base, false).await;
    assert_eq!(
        list.status,
        StatusCode::OK,
        "the reader can read: {}",
        short(&list.text)
    );
    let a = env
        .write_as(
            &reader,
            reqwest::Method::POST,
            &base,
            fic_body("sneaky", "s"),
        )
        .await;
    assert_graph_error(&a, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    assert_eq!(
        a.error_message(),
        "Insufficient privileges to complete the operation."
    );
    let a = env
        .write_as(
            &reader,
            reqwest::Method::PATCH,
            &format!("/applications/{app}/federatedIdentityCredentials(name='sneaky')"),
            fic_body("sneaky", "s"),
        )
        .await;
    assert_graph_error(&a, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    assert!(
        env.get(&base).await.values().is_empty(),
        "nothing was written"
    );

    // App-only tokens: payments-api holds Application.Read.All (reads, cannot write);
    // partner-portal holds no Graph permission at all (cannot even read).
    let payments = app_token(&env, "payments-api").await;
    let a = env.get_as(&payments, "/applications?$top=1", false).await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    let a = env
        .write_as(
            &payments,
            reqwest::Method::POST,
            &base,
            fic_body("by-app", "s"),
        )
        .await;
    assert_graph_error(&a, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    let a = env.get_as(&payments, "/me", false).await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
    let nothing = app_token(&env, "partner-portal").await;
    let a = env.get_as(&nothing, "/applications", false).await;
    assert_graph_error(&a, StatusCode::FORBIDDEN, "Authorization_RequestDenied");
    assert!(
        env.get(&base).await.values().is_empty(),
        "nothing was written"
    );
}

/// A client-credentials token for Graph with the app's seeded secret.
async fn app_token(env: &Env, app: &str) -> String {
    let (_, app_id) = env.app_id_of(app).await;
    let secret = ficus::sandbox::seed::demo_secret("contoso", app);
    let response = env
        .http
        .post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            env.sandbox.info.authority
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app_id.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", GRAPH_DEFAULT),
        ])
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{app}: {body}");
    body["access_token"].as_str().expect("token").to_string()
}

// --- service principals, directory objects -------------------------------------------------

#[tokio::test]
async fn managed_identities_as_service_principals() {
    let env = env().await;
    let a = env
        .get("/servicePrincipals?$filter=servicePrincipalType eq 'ManagedIdentity'")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    assert!(
        a.values()
            .iter()
            .all(|sp| sp["servicePrincipalType"] == "ManagedIdentity")
    );
    let names = a.names();
    for expected in ["id-payments", "id-inventory", "id-reporting", "id-orphan"] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected}: {names:?}"
        );
    }
    let payments = a
        .values()
        .iter()
        .find(|sp| sp["displayName"] == "id-payments")
        .expect("id-payments");
    let alternative = payments["alternativeNames"]
        .as_array()
        .expect("alternativeNames");
    assert_eq!(alternative[0], "isExplicit=True");
    assert!(
        alternative[1].as_str().is_some_and(|id| id
            .contains("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments")),
        "{payments}"
    );
    let app_id = payments["appId"].as_str().expect("client id");
    assert!(
        payments["servicePrincipalNames"]
            .as_array()
            .is_some_and(|n| n.iter().any(|v| v == app_id))
    );
    let system = a
        .values()
        .iter()
        .find(|sp| sp["alternativeNames"][0] == "isExplicit=False")
        .expect("a system-assigned identity");
    assert!(
        system["alternativeNames"][1]
            .as_str()
            .is_some_and(|id| id.contains("virtualMachines/vm-legacy"))
    );

    let by_app_id = env
        .get(&format!("/servicePrincipals?$filter=appId eq '{app_id}'"))
        .await;
    assert_eq!(by_app_id.names(), ["id-payments"]);
    let id = payments["id"].as_str().expect("id");
    let one = env.get(&format!("/servicePrincipals/{id}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", short(&one.text));
    assert_eq!(one.body["displayName"], "id-payments");
    let keyed = env
        .get(&format!("/servicePrincipals(appId='{app_id}')?$select=id"))
        .await;
    assert_eq!(keyed.body["id"], id);
    let paged = env.get("/servicePrincipals?$top=2&$select=id,displayName&$filter=startswith(displayName,'id-')").await;
    assert_eq!(paged.values().len(), 2);
    assert!(paged.body["@odata.nextLink"].is_string());
    let missing = env
        .get("/servicePrincipals/00000000-0000-0000-0000-000000000077")
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn directory_objects_by_id_and_get_by_ids() {
    let env = env().await;
    let (app, _) = env.app_id_of("payments-api").await;
    let principal = env.principal_of("id-payments").await;
    let one = env.get(&format!("/directoryObjects/{principal}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", short(&one.text));
    assert_eq!(one.body["@odata.type"], "#microsoft.graph.servicePrincipal");
    assert_eq!(one.body["displayName"], "id-payments");
    let missing = env
        .get("/directoryObjects/00000000-0000-0000-0000-000000000066")
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");

    let many = env
        .post(
            "/directoryObjects/getByIds",
            json!({"ids": [app, principal, "00000000-0000-0000-0000-000000000066"]}),
        )
        .await;
    assert_eq!(many.status, StatusCode::OK, "{}", short(&many.text));
    let types: Vec<&str> = many
        .values()
        .iter()
        .map(|o| o["@odata.type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        types,
        [
            "#microsoft.graph.application",
            "#microsoft.graph.servicePrincipal"
        ]
    );
    let only_sp = env
        .post(
            "/directoryObjects/getByIds",
            json!({"ids": [app, principal], "types": ["servicePrincipal"]}),
        )
        .await;
    assert_eq!(only_sp.values().len(), 1);
    let bad = env
        .post("/directoryObjects/getByIds", json!({"ids": ["nope"]}))
        .await;
    assert_graph_error(&bad, StatusCode::BAD_REQUEST, "Request_BadRequest");
    let bad = env
        .post("/directoryObjects/getByIds", json!({"nothing": 1}))
        .await;
    assert_graph_error(&bad, StatusCode::BAD_REQUEST, "Request_BadRequest");
}

#[tokio::test]
async fn unknown_segments_and_methods() {
    let env = env().await;
    let a = env.get("/groups").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "BadRequest");
    assert!(a.error_message().contains("'groups'"));
    let a = env.delete("/applications").await;
    assert_graph_error(&a, StatusCode::METHOD_NOT_ALLOWED, "Request_BadRequest");
}

// --- faults --------------------------------------------------------------------------------

#[tokio::test]
async fn throttling_fault_answers_429_with_retry_after() {
    let env = env_with(SandboxConfig {
        faults: Faults::parse("throttle=2").expect("spec"),
        ..SandboxConfig::default()
    })
    .await;
    let first = env.get("/me").await;
    assert_eq!(first.status, StatusCode::OK);
    let second = env.get("/me").await;
    assert_graph_error(&second, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    assert_eq!(
        second
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(env.get("/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn latency_fault_delays_graph_requests() {
    let env = env_with(SandboxConfig {
        faults: Faults::parse("latency=300").expect("spec"),
        ..SandboxConfig::default()
    })
    .await;
    let started = Instant::now();
    let a = env.get("/organization").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

// --- a larger tenant ----------------------------------------------------------------------

#[tokio::test]
async fn large_tenant_pages_at_999() {
    let env = env_with(SandboxConfig {
        seed: Seed::Large(2_500),
        ..SandboxConfig::default()
    })
    .await;
    let mut url = env.url("/applications?$top=999&$select=id,appId,displayName");
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let a = env.send(env.http.get(&url).bearer_auth(&env.admin)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
        seen += a.values().len();
        pages += 1;
        match a.body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    let count = env.get_eventual("/applications/$count").await;
    assert_eq!(count.text.trim().parse::<usize>().expect("number"), seen);
    assert!(seen >= 2_500);
    assert_eq!(pages, seen.div_ceil(999));
}

// --- Graph as it really behaves (issue 18, items 9-14) -------------------------------------

fn faulty(spec: &str) -> SandboxConfig {
    SandboxConfig {
        faults: Faults::parse(spec).expect("spec"),
        ..SandboxConfig::default()
    }
}

fn retry_after(a: &Answer) -> u64 {
    a.headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After in seconds: {:?}", a.headers))
}

#[tokio::test]
async fn graph_lag_reads_show_the_old_state_until_the_replicas_catch_up() {
    let env = env_with(faulty("graph-lag=30")).await;
    let (app, _) = env.app_id_of("legacy-crm").await;
    let base = format!("/applications/{app}/federatedIdentityCredentials");
    let created = env
        .post(&base, fic_body("lagging", "subject-lagging"))
        .await;
    // The write's answer is the truth.
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "{}",
        short(&created.text)
    );
    assert_eq!(created.body["name"], "lagging");
    let id = created.body["id"].as_str().expect("id").to_string();
    // A read right after it does not see it yet: 404, and lists without it.
    let got = env.get(&format!("{base}/{id}")).await;
    assert_graph_error(&got, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let by_name = env.get(&format!("{base}/lagging")).await;
    assert_eq!(by_name.status, StatusCode::NOT_FOUND);
    let list = env.get(&base).await;
    assert!(list.values().iter().all(|f| f["name"] != "lagging"));
    // The advanced-query index behind the reverse lookup lags too.
    let filter = "federatedIdentityCredentials/any(f:f/subject eq 'subject-lagging')";
    let reverse = env
        .get_eventual(&format!("/applications?$filter={filter}&$count=true"))
        .await;
    assert_eq!(reverse.status, StatusCode::OK, "{}", short(&reverse.text));
    assert_eq!(reverse.body["@odata.count"], 0);
    // Writes land on the primary: a second create of the same name is refused even now.
    let again = env.post(&base, fic_body("lagging", "subject-other")).await;
    assert_graph_error(
        &again,
        StatusCode::CONFLICT,
        "Request_MultipleObjectsWithSameKeyValue",
    );
    // Past half the lag one replica has caught up, the other not: reads flip.
    env.sandbox
        .state()
        .throttle
        .advance(Duration::from_secs(20));
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(env.get(&format!("{base}/{id}")).await.status.as_u16());
    }
    assert!(seen.contains(&200) && seen.contains(&404), "{seen:?}");
    // Past the lag everything agrees.
    env.sandbox
        .state()
        .throttle
        .advance(Duration::from_secs(11));
    let got = env.get(&format!("{base}/{id}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", short(&got.text));
    let reverse = env
        .get_eventual(&format!("/applications?$filter={filter}&$count=true"))
        .await;
    assert_eq!(reverse.body["@odata.count"], 1);
    // An update lags the same way: the old value is read back first.
    let patched = env
        .patch(&format!("{base}/{id}"), json!({"subject": "subject-new"}))
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    let old = env.get(&format!("{base}/{id}")).await;
    assert_eq!(old.body["subject"], "subject-lagging");
}

#[tokio::test]
async fn key_credentials_select_is_limited_to_150_a_minute_per_tenant() {
    let env = env().await;
    let (app, _) = env.app_id_of("payments-api").await;
    let path = format!("/applications/{app}?$select=id,keyCredentials");
    for i in 0..150 {
        let a = env.get(&path).await;
        assert_eq!(a.status, StatusCode::OK, "request {i}: {}", short(&a.text));
    }
    let refused = env.get(&path).await;
    assert_graph_error(&refused, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    let wait = retry_after(&refused);
    assert!((1..=60).contains(&wait), "{wait}");
    // The list with keyCredentials shares the quota; other columns do not.
    let list = env
        .get("/applications?$select=id,displayName,keyCredentials")
        .await;
    assert_eq!(list.status, StatusCode::TOO_MANY_REQUESTS);
    let other = env
        .get(&format!(
            "/applications/{app}?$select=id,passwordCredentials"
        ))
        .await;
    assert_eq!(other.status, StatusCode::OK);
    env.sandbox
        .state()
        .throttle
        .advance(Duration::from_secs(wait));
    assert_eq!(env.get(&path).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_token_bucket_throttles_per_app_with_realistic_retry_after() {
    // 20 resource units per 10 s; a GET of one application costs 2.
    let env = env_with(faulty("graph-budget=20")).await;
    let (app, _) = env.app_id_of("payments-api").await; // 1 unit ($select)
    let path = format!("/applications/{app}");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(env.get(&path).await.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        9,
        "{statuses:?}"
    );
    let refused = env.get(&path).await;
    assert_graph_error(&refused, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
    assert!(
        refused.error_message().contains("Too many requests"),
        "{}",
        refused.error_message()
    );
    let wait = retry_after(&refused);
    assert!((1..=10).contains(&wait), "{wait}");
    // Another client app has its own bucket.
    let other = env
        .sandbox
        .sign_in(
            "contoso",
            ADMIN,
            "14d82eec-204b-4c2f-b7e8-296a70dab67e",
            &["https://graph.microsoft.com/Application.Read.All"],
        )
        .map(|t| t.access_token.expose().clone());
    if let Ok(other) = other {
        assert_eq!(
            env.get_as(&other, &path, false).await.status,
            StatusCode::OK
        );
    }
    env.sandbox
        .state()
        .throttle
        .advance(Duration::from_secs(wait));
    assert_eq!(env.get(&path).await.status, StatusCode::OK);
    assert!(env.sandbox.state().throttle.throttled() >= 1);
}

#[tokio::test]
async fn transient_faults_503_504_and_dropped_connections() {
    let env = env_with(faulty("graph-503=2")).await;
    assert_eq!(env.get("/organization").await.status, StatusCode::OK);
    let unavailable = env.get("/organization").await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&unavailable), 3);
    assert_eq!(env.get("/organization").await.status, StatusCode::OK);

    // 504 on a write: the gateway gave up, the FIC exists.
    let env = env_with(faulty("graph-504=1")).await;
    let (app, _) = env.app_id_of("legacy-crm").await;
    let base = format!("/applications/{app}/federatedIdentityCredentials");
    let timed_out = env.post(&base, fic_body("after-504", "s-504")).await;
    assert_eq!(timed_out.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        env.get(&format!("{base}/after-504")).await.status,
        StatusCode::OK
    );

    // A dropped connection on a write: no answer at all, and the FIC exists.
    let env = env_with(faulty("graph-drop=1")).await;
    let (app, _) = env.app_id_of("legacy-crm").await;
    let base = format!("/applications/{app}/federatedIdentityCredentials");
    let lost = async {
        let response = env
            .http
            .post(env.url(&base))
            .bearer_auth(&env.admin)
            .json(&fic_body("after-drop", "s-drop"))
            .send()
            .await?;
        response.bytes().await
    }
    .await;
    assert!(lost.is_err(), "the answer is lost: {lost:?}");
    let back = env.get(&format!("{base}/after-drop")).await;
    assert_eq!(back.status, StatusCode::OK, "{}", short(&back.text));
    // Reads are not dropped.
    assert_eq!(env.get(&base).await.status, StatusCode::OK);
}

#[tokio::test]
async fn managed_identities_have_no_app_owner_organization_id() {
    let env = env().await;
    let a = env
        .get("/servicePrincipals?$filter=servicePrincipalType eq 'ManagedIdentity'&$select=id,displayName,appOwnerOrganizationId,alternativeNames")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    assert!(!a.values().is_empty());
    for mi in a.values() {
        assert!(mi["appOwnerOrganizationId"].is_null(), "{mi}");
    }
    let (_, app_id) = env.app_id_of("payments-api").await;
    let sp = env
        .get(&format!(
            "/servicePrincipals(appId='{app_id}')?$select=appOwnerOrganizationId"
        ))
        .await;
    assert_eq!(sp.status, StatusCode::OK, "{}", short(&sp.text));
    assert!(sp.body["appOwnerOrganizationId"].is_string(), "{}", sp.text);
}

#[tokio::test]
async fn odata_rules_in_ne_not_long_names_expand_count_and_app_id() {
    let env = env().await;
    // `in` works without advanced queries.
    let a = env
        .get("/applications?$filter=displayName in ('payments-api','inventory-sync')&$select=displayName")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    let mut names = a.names();
    names.sort();
    assert_eq!(names, ["inventory-sync", "payments-api"]);
    // `ne` and `not` need the advanced-query parameters.
    let ne = env
        .get("/applications?$filter=displayName ne 'payments-api'")
        .await;
    assert_graph_error(&ne, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    let ne = env
        .get_eventual(
            "/applications?$filter=displayName ne 'payments-api'&$count=true&$select=displayName",
        )
        .await;
    assert_eq!(ne.status, StatusCode::OK, "{}", short(&ne.text));
    assert!(!ne.names().contains(&"payments-api".to_string()));
    assert!(!ne.names().is_empty());
    let not = env
        .get("/applications?$filter=not startswith(displayName,'pay')")
        .await;
    assert_graph_error(&not, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    let not = env
        .get_eventual("/applications?$filter=not startswith(displayName,'pay')&$count=true&$select=displayName")
        .await;
    assert_eq!(not.status, StatusCode::OK, "{}", short(&not.text));
    assert!(not.names().iter().all(|n| !n.starts_with("pay")));
    // displayName eq over 120 characters needs advanced queries.
    let long = "x".repeat(121);
    let a = env
        .get(&format!("/applications?$filter=displayName eq '{long}'"))
        .await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    let a = env
        .get_eventual(&format!(
            "/applications?$filter=displayName eq '{long}'&$count=true"
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    let a = env
        .get(&format!(
            "/applications?$filter=displayName eq '{}'",
            "x".repeat(120)
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", short(&a.text));
    // $expand is not supported with advanced queries.
    let a = env
        .get_eventual("/applications?$expand=federatedIdentityCredentials&$count=true")
        .await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    // startswith(appId, …) is not a documented filter.
    let a = env.get("/applications?$filter=startswith(appId,'0')").await;
    assert_graph_error(&a, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    // @odata.count on the first page only.
    let first = env
        .get_eventual("/applications?$count=true&$top=2&$select=id")
        .await;
    assert!(first.body["@odata.count"].as_u64().is_some_and(|n| n > 2));
    let next = first.body["@odata.nextLink"].as_str().expect("more pages");
    let second = env
        .send(
            env.http
                .get(next)
                .bearer_auth(&env.admin)
                .header("ConsistencyLevel", "eventual"),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", short(&second.text));
    assert!(second.body.get("@odata.count").is_none(), "{}", second.text);
}

#[tokio::test]
async fn the_api_section_is_served_from_the_model_and_patched() {
    use crate::sandbox_support::{exchange, mi_assertion};
    let env = env().await;
    let (app, app_id) = env.app_id_of("payments-api").await;
    let got = env.get(&format!("/applications/{app}?$select=api")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", short(&got.text));
    let api = &got.body["api"];
    assert!(api["requestedAccessTokenVersion"].is_null(), "{api}");
    let scopes = api["oauth2PermissionScopes"].as_array().expect("scopes");
    assert_eq!(scopes.len(), 1, "{api}");
    assert_eq!(scopes[0]["value"], "user_impersonation");
    assert_eq!(scopes[0]["type"], "User");
    assert_eq!(scopes[0]["isEnabled"], true);
    let scope_id = scopes[0]["id"].as_str().expect("id").to_string();

    let token = |sb: &ficus::sandbox::Sandbox| mi_assertion(sb, "id-payments");
    let scope = format!("api://{app_id}/.default");
    let v1 = exchange(
        &env.sandbox,
        "contoso",
        &app_id,
        &token(&env.sandbox),
        &scope,
    )
    .await;
    assert_eq!(v1.0, 200, "{}", v1.1);
    let claims = |body: &Value| {
        ficus::jwt::decode(body["access_token"].as_str().expect("token"))
            .expect("decodes")
            .claims
    };
    assert_eq!(claims(&v1.1)["ver"], "1.0");

    // PATCH api.requestedAccessTokenVersion: the token service follows.
    let patched = env
        .patch(
            &format!("/applications/{app}"),
            json!({"api": {"requestedAccessTokenVersion": 2}}),
        )
        .await;
    assert_eq!(
        patched.status,
        StatusCode::NO_CONTENT,
        "{}",
        short(&patched.text)
    );
    let got = env.get(&format!("/applications/{app}?$select=api")).await;
    assert_eq!(got.body["api"]["requestedAccessTokenVersion"], 2);
    assert_eq!(
        got.body["api"]["oauth2PermissionScopes"][0]["value"], "user_impersonation",
        "scopes kept"
    );
    let v2 = exchange(
        &env.sandbox,
        "contoso",
        &app_id,
        &token(&env.sandbox),
        &scope,
    )
    .await;
    assert_eq!(v2.0, 200, "{}", v2.1);
    assert_eq!(claims(&v2.1)["ver"], "2.0");
    let bad = env
        .patch(
            &format!("/applications/{app}"),
            json!({"api": {"requestedAccessTokenVersion": 3}}),
        )
        .await;
    assert_graph_error(&bad, StatusCode::BAD_REQUEST, "Request_BadRequest");

    // An enabled scope cannot be removed; disabled first, it can.
    let removed = env
        .patch(
            &format!("/applications/{app}"),
            json!({"api": {"oauth2PermissionScopes": []}}),
        )
        .await;
    assert_graph_error(
        &removed,
        StatusCode::BAD_REQUEST,
        "CannotDeleteOrUpdateEnabledEntitlement",
    );
    let new_id = "6a1c3c5e-3f0b-4f5e-9c59-7b1c2d3e4f50";
    let disabled = env
        .patch(
            &format!("/applications/{app}"),
            json!({"api": {"oauth2PermissionScopes": [
                {"id": scope_id, "value": "user_impersonation", "type": "User", "isEnabled": false,
                 "adminConsentDisplayName": "Access payments-api"},
                {"id": new_id, "value": "Payments.Read", "type": "Admin", "isEnabled": true,
                 "adminConsentDisplayName": "Read payments"}
            ]}}),
        )
        .await;
    assert_eq!(
        disabled.status,
        StatusCode::NO_CONTENT,
        "{}",
        short(&disabled.text)
    );
    let got = env.get(&format!("/applications/{app}?$select=api")).await;
    let scopes = got.body["api"]["oauth2PermissionScopes"]
        .as_array()
        .expect("scopes");
    assert_eq!(scopes.len(), 2);
    assert_eq!(scopes[1]["value"], "Payments.Read");
    let the_model = env.sandbox.state().read(|d| {
        d.tenant("contoso")
            .and_then(|t| t.application(app.parse().expect("guid")))
            .map(|a| a.api.oauth2_permission_scopes.len())
    });
    assert_eq!(the_model, Some(2), "written to the model");
    let unknown = env
        .patch(&format!("/applications/{app}"), json!({"api": {"nope": 1}}))
        .await;
    assert_graph_error(&unknown, StatusCode::BAD_REQUEST, "BadRequest");
}
