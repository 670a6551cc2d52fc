//! How the sandbox serves large listings as Graph does (issue 17): `$expand` pages hold at most
//! 100 objects whatever `$top` says and at most 20 expanded items; `displayName ge/le` ranges
//! partition a listing; `applications/delta` and `servicePrincipals/delta` page, remember
//! `$select`, list changes and deletions, and answer an unknown token 410 `syncStateNotFound`.

use std::collections::HashSet;

use ficus::sandbox::seed::Seed;
use ficus::sandbox::{Sandbox, SandboxConfig, start};
use reqwest::StatusCode;
use serde_json::{Value, json};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";

struct Env {
    sandbox: Sandbox,
    http: reqwest::Client,
    token: String,
}

async fn env(seed: Seed) -> Env {
    ficus::install_crypto_provider();
    let sandbox = start(SandboxConfig {
        seed,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let token = sandbox
        .sign_in("contoso", ADMIN, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign-in")
        .access_token
        .expose()
        .clone();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    Env {
        sandbox,
        http,
        token,
    }
}

impl Env {
    /// GET a path under `/v1.0` or an absolute link; (status, body).
    async fn get(&self, path_or_link: &str) -> (StatusCode, Value) {
        let url = if path_or_link.starts_with("http") {
            path_or_link.to_string()
        } else {
            format!("{}{path_or_link}", self.sandbox.info.graph)
        };
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("answered");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn patch(&self, path: &str, body: Value) -> StatusCode {
        self.http
            .patch(format!("{}{path}", self.sandbox.info.graph))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("answered")
            .status()
    }

    /// Follows a delta round to its deltaLink: (every item, the deltaLink, pages).
    async fn delta_round(&self, first: &str) -> (Vec<Value>, String, usize) {
        let mut items = Vec::new();
        let mut next = first.to_string();
        let mut pages = 0;
        loop {
            let (status, body) = self.get(&next).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            items.extend(body["value"].as_array().expect("value").iter().cloned());
            if let Some(link) = body["@odata.nextLink"].as_str() {
                assert!(body.get("@odata.deltaLink").is_none());
                next = link.to_string();
            } else {
                let delta = body["@odata.deltaLink"]
                    .as_str()
                    .expect("a deltaLink ends the round");
                return (items, delta.to_string(), pages);
            }
        }
    }

    /// GET with `ConsistencyLevel: eventual` (advanced queries).
    async fn get_eventual(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.sandbox.info.graph))
            .bearer_auth(&self.token)
            .header("ConsistencyLevel", "eventual")
            .send()
            .await
            .expect("answered");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn app_count(&self) -> usize {
        self.sandbox
            .state()
            .read(|dir| dir.tenants.iter().map(|t| t.applications.len()).max())
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn expand_pages_hold_100_objects_whatever_top_says() {
    let env = env(Seed::Large(450)).await;
    let total = env.app_count();
    let mut next =
        "/applications?$top=999&$select=id&$expand=federatedIdentityCredentials".to_string();
    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    loop {
        let (status, body) = env.get(&next).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let values = body["value"].as_array().expect("value");
        pages.push(values.len());
        for v in values {
            assert!(v["federatedIdentityCredentials"].is_array());
            assert!(seen.insert(v["id"].as_str().expect("id").to_string()));
        }
        match body["@odata.nextLink"].as_str() {
            Some(link) => next = link.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert!(pages.iter().all(|n| *n <= 100), "{pages:?}");
    assert_eq!(pages.len(), total.div_ceil(100), "{pages:?}");
    // Without $expand, $top=999 is honoured.
    let (_, body) = env.get("/applications?$top=999&$select=id").await;
    assert_eq!(body["value"].as_array().map(Vec::len), Some(total.min(999)));
}

#[tokio::test]
async fn an_expanded_relationship_holds_at_most_20_items() {
    let env = env(Seed::Demo).await;
    let app_id = env.sandbox.state().update(|dir| {
        let tenant = dir
            .tenants
            .iter_mut()
            .find(|t| !t.applications.is_empty())
            .expect("tenant");
        let app = tenant.applications.values_mut().next().expect("an app");
        let template = ficus::sandbox::model::FederatedIdentityCredential {
            id: uuid::Uuid::nil(),
            name: String::new(),
            issuer: "https://issuer.example".into(),
            subject: "s".into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            description: None,
            created_at: ficus::sandbox::model::Timestamp::now(),
        };
        app.federated_identity_credentials.clear();
        for i in 0..25 {
            let mut fic = template.clone();
            fic.id = uuid::Uuid::new_v4();
            fic.name = format!("f{i}");
            fic.subject = format!("s{i}");
            app.federated_identity_credentials.push(fic);
        }
        app.id
    });
    let (status, body) = env
        .get(&format!(
            "/applications?$select=id&$expand=federatedIdentityCredentials&$filter=id eq '{app_id}'"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["value"][0]["federatedIdentityCredentials"]
            .as_array()
            .map(Vec::len),
        Some(20)
    );
    assert!(
        body["value"][0]
            .get("federatedIdentityCredentials@odata.nextLink")
            .is_none()
    );
}

#[tokio::test]
async fn display_name_ranges_partition_the_listing_and_lt_is_refused() {
    let env = env(Seed::Large(300)).await;
    let all = env.app_count();
    let list =
        |filter: &str| format!("/applications?$top=999&$select=id,displayName&$filter={filter}");
    let ids = |body: &Value| -> Vec<String> {
        body["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect()
    };
    let (s1, low) = env
        .get(&list("displayName le 'SYNTHETIC-APP-000150'"))
        .await;
    let (s2, high) = env
        .get(&list("displayName ge 'synthetic-app-000150'"))
        .await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{low} {high}");
    let (low, high) = (ids(&low), ids(&high));
    let union: HashSet<&String> = low.iter().chain(high.iter()).collect();
    assert_eq!(union.len(), all, "le and ge of one bound cover everything");
    assert_eq!(
        low.len() + high.len(),
        all + 1,
        "only the bound itself is in both"
    );
    let (status, body) = env
        .get(&list(
            "displayName ge 'synthetic-app-000100' and displayName le 'synthetic-app-000199'",
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body).len(), 100);
    let (status, body) = env.get(&list("displayName lt 'm'")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery", "{body}");
    let (status, _) = env.get(&list("appId ge 'a'")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "appId takes eq only");
}

#[tokio::test]
async fn application_delta_lists_everything_then_changes_and_deletions() {
    let env = env(Seed::Large(450)).await;
    let total = env.app_count();
    let (items, delta_link, pages) = env
        .delta_round("/applications/delta?$select=id,displayName,identifierUris&$top=200")
        .await;
    assert_eq!(items.len(), total);
    assert_eq!(pages, total.div_ceil(200));
    assert!(
        items.iter().all(|v| v.get("appId").is_none()),
        "$select is honoured"
    );
    // Nothing changed: an empty round and a new link.
    let (items, delta_link, _) = env.delta_round(&delta_link).await;
    assert!(items.is_empty(), "{items:?}");
    // Change one app, delete another.
    let (renamed, deleted) = env.sandbox.state().read(|dir| {
        let tenant = dir
            .tenants
            .iter()
            .max_by_key(|t| t.applications.len())
            .expect("tenant");
        let mut ids = tenant.applications.keys();
        (*ids.next().expect("one"), *ids.next().expect("two"))
    });
    assert_eq!(
        env.patch(
            &format!("/applications/{renamed}"),
            json!({"identifierUris": ["api://changed-by-test"]})
        )
        .await,
        StatusCode::NO_CONTENT
    );
    env.sandbox.state().update(|dir| {
        for tenant in &mut dir.tenants {
            tenant.remove_application(deleted);
        }
    });
    let (items, delta_link, _) = env.delta_round(&delta_link).await;
    assert_eq!(items.len(), 2, "{items:?}");
    let changed = items
        .iter()
        .find(|v| v["id"] == renamed.to_string())
        .expect("renamed listed");
    assert_eq!(changed["identifierUris"], json!(["api://changed-by-test"]));
    assert!(
        changed.get("appId").is_none(),
        "the token remembers $select"
    );
    let removed = items
        .iter()
        .find(|v| v["id"] == deleted.to_string())
        .expect("deletion listed");
    assert_eq!(removed["@removed"]["reason"], "deleted");
    let (items, _, _) = env.delta_round(&delta_link).await;
    assert!(items.is_empty(), "changes are reported once: {items:?}");
}

#[tokio::test]
async fn latest_gives_a_link_without_objects_and_unknown_tokens_are_gone() {
    let env = env(Seed::Demo).await;
    let (status, body) = env
        .get("/servicePrincipals/delta?$deltatoken=latest&$select=id,displayName")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(0));
    let link = body["@odata.deltaLink"]
        .as_str()
        .expect("deltaLink")
        .to_string();
    let (status, body) = env.get(&link).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(0));
    for token in ["0.1", "garbage", "ffffffffffffffff.99999"] {
        let (status, body) = env
            .get(&format!("/applications/delta?$deltatoken={token}"))
            .await;
        assert_eq!(status, StatusCode::GONE, "{token}: {body}");
        assert_eq!(body["error"]["code"], "syncStateNotFound");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("full listing")
        );
    }
    // A token of the applications is not one of the service principals.
    let (_, body) = env.get("/applications/delta?$deltatoken=latest").await;
    let app_link = body["@odata.deltaLink"]
        .as_str()
        .expect("deltaLink")
        .to_string();
    let foreign = app_link.replace("/applications/delta", "/servicePrincipals/delta");
    let (status, _) = env.get(&foreign).await;
    assert_eq!(status, StatusCode::GONE);
    let (status, body) = env
        .get("/applications/delta?$filter=displayName eq 'x'")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// `federatedIdentityCredentials/$count ne 0` finds the apps with FICs: an advanced query,
/// refused (400 `Request_UnsupportedQuery`) without `ConsistencyLevel: eventual` and
/// `$count=true`, answered with them (ranges of names combine with it); `eq 0` finds the rest;
/// `$expand` is refused with advanced queries, as Graph does.
#[tokio::test]
async fn counting_fics_is_an_advanced_query() {
    let env = env(Seed::Large(400)).await;
    let with_fics: HashSet<String> = env.sandbox.state().read(|dir| {
        dir.tenants
            .iter()
            .max_by_key(|t| t.applications.len())
            .map(|t| {
                t.applications
                    .values()
                    .filter(|a| !a.federated_identity_credentials.is_empty())
                    .map(|a| a.id.to_string())
                    .collect()
            })
            .unwrap_or_default()
    });
    let all = env.app_count();
    assert!(!with_fics.is_empty() && with_fics.len() < all);
    let filter = |f: &str| {
        format!(
            "/applications?$top=999&$select=id&$filter={}",
            f.replace(' ', "%20")
                .replace('/', "%2F")
                .replace('$', "%24")
        )
    };
    let ne0 = filter("federatedIdentityCredentials/$count ne 0");
    for (status, body) in [
        env.get(&ne0).await,
        env.get(&format!("{ne0}&$count=true")).await,
        env.get_eventual(&ne0).await,
    ] {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "Request_UnsupportedQuery", "{body}");
    }
    let ids = |body: &Value| -> HashSet<String> {
        body["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect()
    };
    let (status, body) = env.get_eventual(&format!("{ne0}&$count=true")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), with_fics);
    assert_eq!(body["@odata.count"], with_fics.len());
    let eq0 = filter("federatedIdentityCredentials/$count eq 0");
    let (status, body) = env.get_eventual(&format!("{eq0}&$count=true")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let without = ids(&body);
    assert_eq!(without.len(), all - with_fics.len());
    assert!(without.is_disjoint(&with_fics));
    // With a range of names, as a partitioned listing asks.
    let ranged = filter(
        "federatedIdentityCredentials/$count ne 0 and displayName ge 'synthetic-app-000100' and displayName le 'synthetic-app-000199'",
    );
    let (status, body) = env.get_eventual(&format!("{ranged}&$count=true")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body).len(), 50, "every other synthetic app has a FIC");
    assert!(ids(&body).is_subset(&with_fics));
    // Advanced queries take no $expand.
    let (status, body) = env
        .get_eventual(&format!(
            "{ne0}&$count=true&$expand=federatedIdentityCredentials"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
}
