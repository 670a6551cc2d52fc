//! The Resource Manager minimum on the sandbox's base URL (what `az login` and `az cloud
//! register` need), over HTTP: metadata, tenants, subscriptions, resource groups and
//! user-assigned identities consistent with Graph, tokens for ARM as Entra issues them, and
//! ARM-shaped refusals.

use ficus::sandbox::seed::{self, CONTOSO, FABRIKAM};
use ficus::sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::Value;

use crate::sandbox_support::{self, app_id, claims, contoso, identity};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";
/// What the Azure CLI asks for: `{active_directory_resource_id}/.default` with its trailing slash.
const ARM_SCOPE_AS_AZ_SENDS_IT: &str = "https://management.core.windows.net//.default";

struct Env {
    sandbox: Sandbox,
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
    fn user_token(&self, tenant: &str, upn: &str, scope: &str) -> String {
        self.sandbox
            .sign_in(tenant, upn, AZURE_CLI, &[scope])
            .expect("sign-in")
            .access_token
            .expose()
            .clone()
    }

    /// GET `path` (with its query) on the sandbox's base URL.
    async fn get(
        &self,
        token: Option<&str>,
        path: &str,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self
            .http
            .get(format!("{}{path}", self.sandbox.info.authority));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("answered");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    async fn client_credentials(&self, app: &str, scope: &str) -> (StatusCode, Value) {
        let secret = seed::demo_secret(CONTOSO, app);
        let response = self
            .http
            .post(format!(
                "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
                self.sandbox.info.authority
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app_id(app).as_str()),
                ("client_secret", secret.as_str()),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token endpoint answers");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }
}

fn arm_error(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or(""),
        body["error"]["message"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn metadata_endpoints_point_at_the_sandbox_without_a_token() {
    let env = env().await;
    let base = format!("{}/", env.sandbox.info.authority);
    let (status, body, _) = env
        .get(None, "/metadata/endpoints?api-version=2022-09-01")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resourceManager"], base.as_str());
    assert_eq!(body["microsoftGraphResourceId"], base.as_str());
    assert_eq!(body["authentication"]["loginEndpoint"], base.as_str());
    assert_eq!(
        body["authentication"]["audiences"][0],
        "https://management.core.windows.net/"
    );
    assert_eq!(body["suffixes"]["keyVaultDns"], "vault.azure.net");
}

#[tokio::test]
async fn arm_tokens_are_issued_like_entra_issues_them() {
    let env = env().await;
    // Delegated, as the Azure CLI asks (double slash), v1 token, aud echoed without `/.default`.
    let user = env.user_token(CONTOSO, ADMIN, ARM_SCOPE_AS_AZ_SENDS_IT);
    let c = claims(&user);
    assert_eq!(c["aud"], "https://management.core.windows.net/");
    assert_eq!(c["scp"], "user_impersonation");
    assert_eq!(c["ver"], "1.0");
    // App-only with a secret: no scp, no roles (none assigned on ARM).
    let (status, body) = env
        .client_credentials("payments-api", "https://management.azure.com/.default")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let app = claims(body["access_token"].as_str().expect("token"));
    // The resource as requested (the scope without `/.default`).
    assert_eq!(app["aud"], "https://management.azure.com");
    assert!(app.get("scp").is_none(), "{app:?}");
    assert_eq!(app["appid"], app_id("payments-api").as_str());
    // The sandbox's own URL names it too (it serves ARM), echoed in aud.
    let own = format!("{}/.default", env.sandbox.info.authority);
    let (status, body) = env.client_credentials("payments-api", &own).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(claims(token)["aud"], env.sandbox.info.authority.as_str());
    let (status, body, _) = env
        .get(Some(token), "/subscriptions?api-version=2022-12-01")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn subscriptions_and_tenants_of_the_signed_in_tenant() {
    let env = env().await;
    let token = env.user_token(CONTOSO, ADMIN, ARM_SCOPE_AS_AZ_SENDS_IT);
    let subscription = seed::subscription_id(CONTOSO).to_string();
    let (status, body, headers) = env
        .get(Some(&token), "/subscriptions?api-version=2022-12-01")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.contains_key("x-ms-request-id"));
    let value = body["value"].as_array().expect("value");
    assert_eq!(value.len(), 1, "{body}");
    assert_eq!(value[0]["subscriptionId"], subscription.as_str());
    assert_eq!(value[0]["id"], format!("/subscriptions/{subscription}"));
    assert_eq!(value[0]["tenantId"], contoso().to_string());
    assert_eq!(value[0]["state"], "Enabled");
    assert_eq!(body["count"]["value"], 1);
    let (status, one, _) = env
        .get(
            Some(&token),
            &format!("/subscriptions/{subscription}?api-version=2022-12-01"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["displayName"], value[0]["displayName"]);
    let (status, tenants, _) = env
        .get(Some(&token), "/tenants?api-version=2022-12-01")
        .await;
    assert_eq!(status, StatusCode::OK, "{tenants}");
    assert_eq!(tenants["value"][0]["tenantId"], contoso().to_string());
    assert_eq!(
        tenants["value"][0]["defaultDomain"],
        "contoso.onmicrosoft.com"
    );
    // Fabrikam's admin sees fabrikam's subscription, and contoso's is the wrong tenant.
    let fabrikam = env.user_token(FABRIKAM, seed::FABRIKAM_ADMIN, ARM_SCOPE_AS_AZ_SENDS_IT);
    let (_, theirs, _) = env
        .get(Some(&fabrikam), "/subscriptions?api-version=2022-12-01")
        .await;
    assert_eq!(
        theirs["value"][0]["subscriptionId"],
        seed::subscription_id(FABRIKAM).to_string()
    );
    let (status, body, _) = env
        .get(
            Some(&fabrikam),
            &format!("/subscriptions/{subscription}?api-version=2022-12-01"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(arm_error(&body).0, "InvalidAuthenticationTokenTenant");
    let (status, body, _) = env
        .get(
            Some(&token),
            "/subscriptions/00000000-0000-0000-0000-000000000099?api-version=2022-12-01",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(arm_error(&body).0, "SubscriptionNotFound");
}

#[tokio::test]
async fn user_assigned_identities_match_graph_service_principals() {
    let env = env().await;
    // A managed identity's own token for ARM works too (what `az login --identity` uses).
    let (principal, client) = identity("id-payments");
    let token = env
        .sandbox
        .managed_identity_token(CONTOSO, &principal, "https://management.azure.com/")
        .expect("mi token")
        .into_inner();
    let subscription = seed::subscription_id(CONTOSO);
    let (status, groups, _) = env
        .get(
            Some(&token),
            &format!("/subscriptions/{subscription}/resourcegroups?api-version=2021-04-01"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");
    let rg = groups["value"][0]["name"]
        .as_str()
        .expect("a resource group")
        .to_string();
    let list_path = format!(
        "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31"
    );
    let (status, list, _) = env.get(Some(&token), &list_path).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|i| i["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["id-inventory", "id-orphan", "id-payments", "id-reporting"],
        "user-assigned only (vm-legacy's system identity is not one)"
    );
    let (status, one, _) = env
        .get(
            Some(&token),
            &format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments?api-version=2023-01-31"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["properties"]["principalId"], principal.as_str());
    assert_eq!(one["properties"]["clientId"], client.as_str());
    assert_eq!(one["properties"]["tenantId"], contoso().to_string());
    assert_eq!(
        one["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    // The ARM id is the one Graph shows in alternativeNames.
    let graph = env.user_token(CONTOSO, ADMIN, "https://graph.microsoft.com/.default");
    let response = env
        .http
        .get(format!(
            "{}/servicePrincipals/{principal}?$select=alternativeNames,appId",
            env.sandbox.info.graph
        ))
        .bearer_auth(&graph)
        .send()
        .await
        .expect("graph answers");
    let sp: Value = response.json().await.expect("json");
    assert_eq!(sp["alternativeNames"][1], one["id"]);
    assert_eq!(sp["appId"], client.as_str());
    // Unknown names and groups: ARM's codes.
    let (status, body, _) = env
        .get(
            Some(&token),
            &format!(
                "/subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope?api-version=2023-01-31"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(arm_error(&body).0, "ResourceNotFound");
    let (status, body, _) = env
        .get(
            Some(&token),
            &format!(
                "/subscriptions/{subscription}/resourceGroups/rg-nope/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(arm_error(&body).0, "ResourceGroupNotFound");
}

#[tokio::test]
async fn arm_refuses_what_arm_refuses() {
    let env = env().await;
    let (status, body, headers) = env.get(None, "/subscriptions?api-version=2022-12-01").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(arm_error(&body).0, "AuthenticationFailed");
    assert!(headers.contains_key("www-authenticate"));
    // A Graph token is for the wrong audience; ARM names it.
    let graph = env.user_token(CONTOSO, ADMIN, "https://graph.microsoft.com/.default");
    let (status, body, _) = env
        .get(Some(&graph), "/subscriptions?api-version=2022-12-01")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (code, message) = arm_error(&body);
    assert_eq!(code, "InvalidAuthenticationTokenAudience");
    assert!(
        message.contains("'https://graph.microsoft.com'"),
        "{message}"
    );
    // A tampered token is invalid.
    let token = env.user_token(CONTOSO, ADMIN, ARM_SCOPE_AS_AZ_SENDS_IT);
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let (status, body, _) = env
        .get(Some(&tampered), "/subscriptions?api-version=2022-12-01")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        arm_error(&body),
        ("InvalidAuthenticationToken", "The access token is invalid.")
    );
    // api-version is required.
    let (status, body, _) = env.get(Some(&token), "/subscriptions").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(arm_error(&body).0, "MissingApiVersionParameter");
    // Other providers are not served.
    let subscription = seed::subscription_id(CONTOSO);
    let (status, body, _) = env
        .get(
            Some(&token),
            &format!("/subscriptions/{subscription}/providers/Microsoft.Compute/virtualMachines?api-version=2024-03-01"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(arm_error(&body).0, "NoRegisteredProviderFound");
}

#[tokio::test]
async fn expired_tokens_are_arm_expired_authentication_token() {
    let env = env().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = sandbox_support::sign_with_tenant_key(
        &env.sandbox,
        contoso(),
        serde_json::json!({
            "aud": "https://management.azure.com/",
            "iss": format!("https://sts.windows.net/{}/", contoso()),
            "tid": contoso().to_string(),
            "oid": uuid::Uuid::new_v4().to_string(),
            "appid": app_id("payments-api"),
            "nbf": now - 7200,
            "iat": now - 7200,
            "exp": now - 3600,
        }),
    );
    let (status, body, _) = env
        .get(Some(&expired), "/subscriptions?api-version=2022-12-01")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (code, message) = arm_error(&body);
    assert_eq!(code, "ExpiredAuthenticationToken");
    assert!(
        message.starts_with("The access token expiry UTC time '"),
        "{message}"
    );
}
