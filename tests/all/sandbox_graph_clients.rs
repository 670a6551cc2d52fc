//! Graph as mainstream clients (the Azure CLI, SDKs) use it beyond ficus itself: `any` over
//! string collections as a default query, and the `owners` / `ownedObjects` navigation
//! properties, over HTTP against the in-process sandbox.

use ficus::sandbox::SandboxConfig;
use reqwest::StatusCode;
use serde_json::Value;

use crate::sandbox_support::{self, app_id, identity};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";
const READER: &str = "reader@contoso.onmicrosoft.com";

struct Env {
    sandbox: ficus::sandbox::Sandbox,
    http: reqwest::Client,
}

async fn env() -> Env {
    let sandbox = sandbox_support::start(SandboxConfig::default()).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    Env { sandbox, http }
}

impl Env {
    fn token(&self, upn: &str) -> String {
        self.sandbox
            .sign_in("contoso", upn, AZURE_CLI, &[GRAPH_DEFAULT])
            .expect("sign-in")
            .access_token
            .expose()
            .clone()
    }

    /// GET as `upn` (no ConsistencyLevel header): status and JSON body.
    async fn get_as(&self, upn: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.sandbox.info.graph))
            .bearer_auth(self.token(upn))
            .send()
            .await
            .expect("answered");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_as(ADMIN, path).await
    }

    async fn ids(&self, path: &str) -> Vec<String> {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        values(&body)
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect()
    }

    async fn principal_id_of_app(&self, name: &str) -> String {
        let ids = self
            .ids(&format!(
                "/servicePrincipals?$filter=appId eq '{}'",
                app_id(name)
            ))
            .await;
        assert_eq!(ids.len(), 1, "{name}");
        ids[0].clone()
    }

    async fn app_object_id(&self, name: &str) -> String {
        let ids = self
            .ids(&format!("/applications?$filter=displayName eq '{name}'"))
            .await;
        assert_eq!(ids.len(), 1, "{name}");
        ids[0].clone()
    }
}

fn values(body: &Value) -> &Vec<Value> {
    body["value"].as_array().expect("a collection")
}

fn error_of(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or(""),
        body["error"]["message"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn az_ad_sp_show_filter_finds_principals_by_any_service_principal_name() {
    let env = env().await;
    // `az ad sp show --id <appId>` first sends exactly this, without advanced-query parameters.
    let payments = app_id("payments-api");
    let by_app_id = env
        .ids(&format!(
            "/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq '{payments}')"
        ))
        .await;
    assert_eq!(by_app_id, [env.principal_id_of_app("payments-api").await]);
    // The identifier URI is a service principal name too (any case).
    let by_uri = env
        .ids(&format!(
            "/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq 'API://{}')",
            payments.to_uppercase()
        ))
        .await;
    assert_eq!(by_uri, by_app_id);
    // A managed identity by its client id.
    let (principal, client) = identity("id-payments");
    let mi = env
        .ids(&format!(
            "/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq '{client}')"
        ))
        .await;
    assert_eq!(mi, std::slice::from_ref(&principal));
    // Nothing matches an unknown name: an empty page, not an error.
    let none = env
        .ids("/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq 'https://nothing.example')")
        .await;
    assert!(none.is_empty());
    // alternativeNames: every identity of one resource group, by ARM id prefix.
    let (status, body) = env
        .get("/servicePrincipals?$filter=alternativeNames/any(n:startswith(n,'/subscriptions/'))&$select=displayName")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = values(&body)
        .iter()
        .map(|v| v["displayName"].as_str().unwrap_or(""))
        .collect();
    assert!(names.contains(&"id-payments"), "{names:?}");
    assert!(!names.contains(&"payments-api"), "{names:?}");
    // `not(any(…))` is a default query too: every principal but id-payments.
    let others = env
        .ids(&format!(
            "/servicePrincipals?$filter=not(servicePrincipalNames/any(c:c eq '{client}'))&$top=999"
        ))
        .await;
    assert!(!others.contains(&principal));
    assert!(others.len() > 1);
    // tags: app principals carry WindowsAzureActiveDirectoryIntegratedApp, identities none.
    let tagged = env
        .ids("/servicePrincipals?$filter=tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')&$top=999")
        .await;
    assert!(tagged.contains(&by_app_id[0]));
    assert!(!tagged.contains(&principal));
}

#[tokio::test]
async fn az_ad_app_list_identifier_uri_filter() {
    let env = env().await;
    let payments = app_id("payments-api");
    let (status, body) = env
        .get(&format!(
            "/applications?$filter=identifierUris/any(s:s eq 'api://{payments}')"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(values(&body).len(), 1);
    assert_eq!(values(&body)[0]["displayName"], "payments-api");
    let ranged = env
        .ids(
            "/applications?$filter=identifierUris/any(s:s ge 'api://' and s le 'api://~')&$top=999",
        )
        .await;
    assert!(ranged.contains(&env.app_object_id("payments-api").await));
}

#[tokio::test]
async fn string_collection_queries_graph_refuses() {
    let env = env().await;
    // `ne` inside `any` is advanced only; Graph names the collection.
    let (status, body) = env
        .get("/servicePrincipals?$filter=servicePrincipalNames/any(c:c ne 'x')")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_of(&body),
        (
            "Request_UnsupportedQuery",
            "Unsupported or invalid query filter clause specified for property 'servicePrincipalNames' of resource 'ServicePrincipal'."
        )
    );
    // identifierUris is an application property, not a service principal's.
    let (status, body) = env
        .get("/servicePrincipals?$filter=identifierUris/any(c:c eq 'x')")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_of(&body).0, "BadRequest");
    assert!(error_of(&body).1.contains("'identifierUris'"), "{body}");
    // FICs stay advanced-only.
    let (status, body) = env
        .get("/applications?$filter=federatedIdentityCredentials/any(f:f/subject eq 'x')")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).1.contains("Operator 'any'"), "{body}");
}

#[tokio::test]
async fn owners_of_applications_and_service_principals() {
    let env = env().await;
    let app = env.app_object_id("payments-api").await;
    let admin_id = {
        let (_, me) = env.get("/me").await;
        me["id"].as_str().expect("id").to_string()
    };
    let (status, body) = env.get(&format!("/applications/{app}/owners")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("$metadata#directoryObjects")),
        "{body}"
    );
    let owners = values(&body);
    assert_eq!(owners.len(), 1, "{body}");
    assert_eq!(owners[0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(owners[0]["id"], admin_id.as_str());
    assert_eq!(owners[0]["userPrincipalName"], ADMIN);
    // By appId, and with $select.
    let (status, body) = env
        .get(&format!(
            "/applications(appId='{}')/owners?$select=id",
            app_id("payments-api")
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(values(&body)[0]["id"], admin_id.as_str());
    assert!(
        values(&body)[0].get("userPrincipalName").is_none(),
        "{body}"
    );
    // The enterprise app has the same owner; an app nobody owns has none.
    let sp = env.principal_id_of_app("payments-api").await;
    let sp_owners = env.ids(&format!("/servicePrincipals/{sp}/owners")).await;
    assert_eq!(sp_owners, std::slice::from_ref(&admin_id));
    let keyed = env
        .ids(&format!(
            "/servicePrincipals(appId='{}')/owners",
            app_id("payments-api")
        ))
        .await;
    assert_eq!(keyed, [admin_id]);
    let unowned = env.app_object_id("inventory-sync").await;
    assert!(
        env.ids(&format!("/applications/{unowned}/owners"))
            .await
            .is_empty()
    );
    // Unknown objects are 404, unknown segments name the segment.
    let (status, body) = env
        .get("/applications/00000000-0000-0000-0000-000000000042/owners")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = env.get(&format!("/applications/{app}/ownerz")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_of(&body).1,
        "Resource not found for the segment 'ownerz'."
    );
    let (status, body) = env.get(&format!("/servicePrincipals/{sp}/memberOf")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_of(&body).1,
        "Resource not found for the segment 'memberOf'."
    );
}

#[tokio::test]
async fn me_owned_objects_lists_what_the_user_owns_in_pages() {
    let env = env().await;
    let app = env.app_object_id("payments-api").await;
    let sp = env.principal_id_of_app("payments-api").await;
    let (status, body) = env.get("/me/ownedObjects").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut found: Vec<(String, String)> = values(&body)
        .iter()
        .map(|o| {
            (
                o["@odata.type"].as_str().unwrap_or("").to_string(),
                o["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("#microsoft.graph.application".to_string(), app.clone()),
            ("#microsoft.graph.servicePrincipal".to_string(), sp.clone()),
        ]
    );
    // Paging: one per page, the next link continues, the last page has none.
    let (status, first) = env.get("/me/ownedObjects?$top=1").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(values(&first).len(), 1);
    let next = first["@odata.nextLink"].as_str().expect("a next link");
    let response = env
        .http
        .get(next)
        .bearer_auth(env.token(ADMIN))
        .send()
        .await
        .expect("answered");
    let second: Value = response.json().await.expect("json");
    assert_eq!(values(&second).len(), 1, "{second}");
    assert_ne!(values(&second)[0]["id"], values(&first)[0]["id"]);
    assert!(second.get("@odata.nextLink").is_none(), "{second}");
    // A user who owns nothing gets an empty collection.
    let (status, body) = env.get_as(READER, "/me/ownedObjects").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(values(&body).is_empty(), "{body}");
}
