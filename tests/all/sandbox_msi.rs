//! The managed identity endpoints of the emulated host: IMDS and App Service, their identity
//! selection, string-typed numbers and errors.

use crate::sandbox_support;

use std::time::{Duration, Instant};

use ficus::sandbox::seed::CONTOSO;
use ficus::sandbox::{Faults, Sandbox, SandboxConfig};
use sandbox_support::*;
use serde_json::Value;

async fn imds(sb: &Sandbox, query: &str, metadata: bool) -> (u16, Value) {
    let client = sb.http_client().expect("client");
    let mut request = client.get(format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&{query}",
        sb.info.imds
    ));
    if metadata {
        request = request.header("Metadata", "true");
    }
    let response = request.send().await.expect("imds");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn app_service(sb: &Sandbox, query: &str, header: Option<&str>) -> (u16, Value) {
    let client = sb.http_client().expect("client");
    let mut request = client.get(format!(
        "{}?api-version=2019-08-01&{query}",
        sb.info.app_service.endpoint
    ));
    if let Some(h) = header {
        request = request.header("X-IDENTITY-HEADER", h);
    }
    let response = request.send().await.expect("app service");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn imds_requires_the_metadata_header() {
    let sb = start_default().await;
    let (status, body) = imds(&sb, "resource=https://management.azure.com/", false).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "bad_request_102");
    assert_eq!(
        body["error_description"],
        "Required metadata header not specified"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn imds_answers_with_string_numbers_and_the_right_identity() {
    let sb = start_default().await;
    let (principal, client_id) = identity("id-payments");

    // Raw and percent-encoded resource both work.
    for resource in [
        "api://AzureADTokenExchange",
        "api%3A%2F%2FAzureADTokenExchange",
    ] {
        let (status, body) = imds(
            &sb,
            &format!("resource={resource}&client_id={client_id}"),
            true,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["resource"], "api://AzureADTokenExchange");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["client_id"], client_id);
        for field in ["expires_in", "expires_on", "ext_expires_in", "not_before"] {
            let text = body[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} is a string"));
            assert!(text.parse::<i64>().is_ok(), "{field}={text}");
        }
        let expires_in: i64 = body["expires_in"].as_str().expect("s").parse().expect("n");
        assert!((86_000..=86_400).contains(&expires_in));
        let c = claims(body["access_token"].as_str().expect("token"));
        assert_eq!(c["oid"], principal);
        assert_eq!(c["aud"], "fb60f99c-7a34-4190-8149-302f77469936");
    }

    // By object id and by ARM resource id.
    let (status, body) = imds(
        &sb,
        &format!("resource=https://management.azure.com/&object_id={principal}"),
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["access_token"].as_str().expect("token"));
    assert_eq!(c["aud"], "https://management.azure.com/");
    assert_eq!(c["appid"], client_id);
    assert_eq!(c["ver"], "1.0");
    let arm_id = c["xms_mirid"].as_str().expect("mirid").to_string();
    let (status, body) = imds(
        &sb,
        &format!("resource=https://vault.azure.net&msi_res_id={arm_id}"),
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], client_id);

    // No identity named: the system-assigned one (vm-legacy).
    let (status, body) = imds(&sb, "resource=https://management.azure.com/", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], identity("vm-legacy").1);
    let c = claims(body["access_token"].as_str().expect("token"));
    assert!(
        c["xms_mirid"]
            .as_str()
            .expect("mirid")
            .ends_with("/virtualMachines/vm-legacy")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn imds_errors_like_azure() {
    let sb = start_default().await;
    let (_, orphan) = identity("id-orphan");
    let (status, body) = imds(
        &sb,
        &format!("resource=https://management.azure.com/&client_id={orphan}"),
        true,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "Identity not found");

    let (status, body) = imds(&sb, "resource=api://nothing-here", true).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_resource");
    assert!(
        body["error_description"]
            .as_str()
            .expect("d")
            .starts_with("AADSTS500011")
    );

    // Without a system-assigned identity and with several user-assigned ones, the caller
    // must say which.
    sb.state().update(|d| d.host.system_assigned = None);
    let (status, body) = imds(&sb, "resource=https://management.azure.com/", true).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .expect("d")
            .starts_with("Multiple user assigned identities exist")
    );
    // With exactly one, it is used.
    let (payments, payments_client) = identity("id-payments");
    let keep = uuid::Uuid::parse_str(&payments).expect("uuid");
    sb.state()
        .update(|d| d.host.user_assigned.retain(|id| *id == keep));
    let (status, body) = imds(&sb, "resource=https://management.azure.com/", true).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], payments_client);
    sb.shutdown().await;
}

#[tokio::test]
async fn app_service_endpoint() {
    let sb = start_default().await;
    let header = sb.info.app_service.header.clone();
    let (principal, client_id) = identity("id-inventory");

    let (status, body) = app_service(&sb, "resource=https://vault.azure.net", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["statusCode"], 401);
    let (status, _) = app_service(&sb, "resource=https://vault.azure.net", Some("wrong")).await;
    assert_eq!(status, 401);

    let (status, body) = app_service(
        &sb,
        &format!("resource=api://AzureADTokenExchange&client_id={client_id}"),
        Some(&header),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], client_id);
    assert_eq!(body["resource"], "api://AzureADTokenExchange");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("expires_in").is_none());
    let expires_on: i64 = body["expires_on"]
        .as_str()
        .expect("string")
        .parse()
        .expect("epoch");
    assert!(expires_on > now() + 80_000);
    assert_eq!(
        claims(body["access_token"].as_str().expect("token"))["sub"],
        principal
    );

    let (status, body) = app_service(
        &sb,
        &format!("resource=https://vault.azure.net&principal_id={principal}"),
        Some(&header),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mirid = claims(body["access_token"].as_str().expect("token"))["xms_mirid"]
        .as_str()
        .expect("mirid")
        .to_string();
    let (status, body) = app_service(
        &sb,
        &format!("resource=https://vault.azure.net&mi_res_id={mirid}"),
        Some(&header),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], client_id);

    let (_, orphan) = identity("id-orphan");
    let (status, body) = app_service(
        &sb,
        &format!("resource=https://vault.azure.net&client_id={orphan}"),
        Some(&header),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["statusCode"], 400);
    assert_eq!(
        body["message"],
        "No Managed Identity found for specified ClientId/ResourceId/PrincipalId."
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn an_imds_token_completes_the_exchange() {
    let sb = start_default().await;
    let (_, client_id) = identity("id-payments");
    let (status, body) = imds(
        &sb,
        &format!("resource=api://AzureADTokenExchange&client_id={client_id}"),
        true,
    )
    .await;
    assert_eq!(status, 200);
    let assertion = body["access_token"].as_str().expect("token");
    let (status, body) = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        assertion,
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    sb.shutdown().await;
}

#[tokio::test]
async fn latency_fault_delays_requests() {
    let sb = start(SandboxConfig {
        faults: Faults::parse("latency=300").expect("faults"),
        ..SandboxConfig::default()
    })
    .await;
    let started = Instant::now();
    let (status, _) = imds(&sb, "resource=https://management.azure.com/", true).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    sb.shutdown().await;
}
