//! The token service as real clients other than ficus call it (issue 13): the device code grant
//! in MSAL for JavaScript's form, the sandbox's own base URL as Graph's resource (the Azure
//! CLI's custom cloud), and a refresh token redeemed at another tenant.

use crate::sandbox_support;

use std::time::Duration;

use ficus::sandbox::seed::{self, CONTOSO, DEMO_ADMIN, FABRIKAM};
use sandbox_support::*;
use serde_json::Value;
use uuid::Uuid;

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

async fn device_code(sb: &ficus::sandbox::Sandbox, client_id: &str, scope: &str) -> String {
    let (status, body) = post_form(
        sb,
        "organizations",
        "devicecode",
        &[("client_id", client_id), ("scope", scope)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["device_code"]
        .as_str()
        .expect("device code")
        .to_string()
}

/// A demo sandbox whose auto-approver approves device codes after `ms` milliseconds instead
/// of about a second: these tests are about the grant's forms, not the wait for the admin.
async fn start_approving_after(ms: u64) -> ficus::sandbox::Sandbox {
    start(ficus::sandbox::SandboxConfig {
        faults: ficus::sandbox::Faults::parse(&format!("approve-after={ms}")).expect("faults"),
        ..ficus::sandbox::SandboxConfig::default()
    })
    .await
}

/// Polls with `grant_type` as given, until the sandbox's auto-approval.
async fn poll_until_done(
    sb: &ficus::sandbox::Sandbox,
    grant_type: &str,
    client_id: &str,
    code: &str,
) -> (u16, Value) {
    for _ in 0..20 {
        let result = post_form(
            sb,
            "organizations",
            "token",
            &[
                ("grant_type", grant_type),
                ("client_id", client_id),
                ("device_code", code),
                ("client_info", "1"),
            ],
        )
        .await;
        if result.1["error"] != "authorization_pending" && result.1["error"] != "slow_down" {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    panic!("the device code was never approved");
}

#[tokio::test]
async fn device_code_grant_accepted_in_both_forms() {
    // Pending at the first poll, approved before the next one (600 ms later).
    let sb = start_approving_after(500).await;
    let scope = "https://graph.microsoft.com/.default offline_access openid profile";
    // msal-common's GrantType.DEVICE_CODE_GRANT is the bare "device_code".
    for grant_type in [
        "device_code",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        let code = device_code(&sb, AZURE_CLI, scope).await;
        let pending = post_form(
            &sb,
            "organizations",
            "token",
            &[
                ("grant_type", grant_type),
                ("client_id", AZURE_CLI),
                ("device_code", &code),
            ],
        )
        .await;
        assert_aadsts(&pending, 400, "authorization_pending", 70016);
        let (status, body) = poll_until_done(&sb, grant_type, AZURE_CLI, &code).await;
        assert_eq!(status, 200, "{grant_type}: {body}");
        assert_eq!(
            claims(body["access_token"].as_str().expect("at"))["upn"],
            DEMO_ADMIN
        );
        assert!(body["refresh_token"].is_string());
        assert!(body["client_info"].is_string());
    }
    // Other grants stay refused with Entra's code.
    assert_aadsts(
        &post_form(
            &sb,
            CONTOSO,
            "token",
            &[("grant_type", "devicecode"), ("client_id", AZURE_CLI)],
        )
        .await,
        400,
        "unsupported_grant_type",
        70003,
    );
}

#[tokio::test]
async fn sandbox_base_url_is_graphs_resource_and_aud_echoes_it() {
    let sb = start_approving_after(1).await;
    let base = sb.info.authority.clone();
    let client = sb.http_client().expect("client");
    let payments = app_id("payments-api");
    let secret = seed::demo_secret(CONTOSO, "payments-api");
    // The Azure CLI asks for `{microsoft_graph_resource_id}/.default`: with and without the
    // trailing slash, and `localhost` for the loopback address.
    let localhost = base.replace("127.0.0.1", "localhost");
    for resource in [
        base.clone(),
        format!("{base}/"),
        localhost.clone(),
        format!("{localhost}/"),
    ] {
        let scope = format!("{resource}/.default");
        let (status, body) = post_form(
            &sb,
            CONTOSO,
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &payments),
                ("client_secret", &secret),
                ("scope", &scope),
            ],
        )
        .await;
        assert_eq!(status, 200, "{scope}: {body}");
        let token = body["access_token"].as_str().expect("token");
        let c = claims(token);
        assert_eq!(c["aud"], resource.as_str(), "aud echoes the requested name");
        assert_eq!(c["iss"], format!("https://sts.windows.net/{}/", contoso()));
        assert!(c["roles"].is_array() || c.get("roles").is_none());
        // Graph accepts the token.
        let reply = client
            .get(format!("{base}/v1.0/applications?$top=1&$select=id"))
            .bearer_auth(token)
            .send()
            .await
            .expect("graph");
        assert_ne!(reply.status(), 401, "{scope}: Graph accepts the token");
    }

    // Delegated: a device code sign-in for `https://host//.default` (the CLI's spelling).
    let scope = format!("{base}//.default offline_access openid profile");
    let code = device_code(&sb, AZURE_CLI, &scope).await;
    let (status, body) = poll_until_done(
        &sb,
        "urn:ietf:params:oauth:grant-type:device_code",
        AZURE_CLI,
        &code,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(claims(token)["aud"], format!("{base}/"));
    assert!(
        body["scope"]
            .as_str()
            .expect("scope")
            .ends_with(&format!("{base}//.default")),
        "{body}"
    );
    let me: Value = client
        .get(format!("{base}/v1.0/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["userPrincipalName"], DEMO_ADMIN);

    // Other paths or ports under the sandbox host are not Graph.
    for other in [format!("{base}/v1.0"), "https://127.0.0.1:1".to_string()] {
        let result = post_form(
            &sb,
            CONTOSO,
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &payments),
                ("client_secret", &secret),
                ("scope", &format!("{other}/.default")),
            ],
        )
        .await;
        assert_aadsts(&result, 400, "invalid_resource", 500011);
    }
}

#[tokio::test]
async fn refresh_token_at_another_tenant_needs_membership() {
    let sb = start_default().await;
    let signed_in = sb
        .sign_in(
            CONTOSO,
            DEMO_ADMIN,
            AZURE_CLI,
            &["https://graph.microsoft.com/.default"],
        )
        .expect("sign in");
    let rt = signed_in.refresh_token.expose().clone();
    let refresh_at = |tenant: String| {
        let sb = &sb;
        let rt = rt.clone();
        async move {
            post_form(
                sb,
                &tenant,
                "token",
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", AZURE_CLI),
                    ("refresh_token", &rt),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("client_info", "1"),
                ],
            )
            .await
        }
    };
    // At the home tenant and at `organizations`: fine.
    assert_eq!(refresh_at(CONTOSO.into()).await.0, 200);
    assert_eq!(refresh_at("organizations".into()).await.0, 200);
    // Fabrikam does not know Contoso's admin: Entra's user-not-in-tenant error.
    let fabrikam = seed::tenant_id(FABRIKAM).to_string();
    let refused = refresh_at(fabrikam.clone()).await;
    assert_aadsts(&refused, 400, "invalid_grant", 50020);
    let text = refused.1["error_description"]
        .as_str()
        .expect("description");
    assert!(text.contains(DEMO_ADMIN), "{text}");
    assert!(text.contains("does not exist in tenant"), "{text}");

    // Invited as a guest (Entra's external UPN), the same refresh token works there, and the
    // token is Fabrikam's, for the guest object.
    let guest_id = Uuid::new_v4();
    sb.state().update(|d| {
        let tenant = d
            .tenants
            .iter_mut()
            .find(|t| t.name == FABRIKAM)
            .expect("fabrikam");
        let mut guest = tenant
            .users
            .values()
            .next()
            .cloned()
            .expect("a fabrikam user");
        guest.id = guest_id;
        guest.user_principal_name =
            "admin_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com".into();
        guest.roles = Vec::new();
        tenant.users.insert(guest_id, guest);
    });
    let (status, body) = refresh_at(fabrikam.clone()).await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["access_token"].as_str().expect("token"));
    assert_eq!(c["tid"], fabrikam);
    assert_eq!(c["oid"], guest_id.to_string());
}

#[tokio::test]
async fn managed_identity_paths_with_msal_nodes_trailing_slash() {
    // msal-node asks `{AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token/` and
    // `{IDENTITY_ENDPOINT}/`; real IMDS and App Service answer both spellings.
    let sb = start_default().await;
    let client = reqwest::Client::new();
    let (_, client_id) = identity("id-payments");
    let query = format!("resource=api%3A%2F%2FAzureADTokenExchange&client_id={client_id}");
    let imds = client
        .get(format!(
            "{}/metadata/identity/oauth2/token/?api-version=2018-02-01&{query}",
            sb.info.imds
        ))
        .header("Metadata", "true")
        .send()
        .await
        .expect("imds");
    assert_eq!(imds.status(), 200);
    let body: Value = imds.json().await.expect("json");
    assert!(body["expires_in"].is_string(), "{body}");
    let app_service = client
        .get(format!(
            "{}/?api-version=2019-08-01&{query}",
            sb.info.app_service.endpoint
        ))
        .header("X-IDENTITY-HEADER", &sb.info.app_service.header)
        .send()
        .await
        .expect("app service");
    assert_eq!(app_service.status(), 200);
    let body: Value = app_service.json().await.expect("json");
    assert!(body["expires_on"].is_string(), "{body}");
}
