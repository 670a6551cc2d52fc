//! Conformance: Microsoft's Rust SDK (`azure_identity` 1.x) against the in-process sandbox over
//! HTTPS: a managed identity token through the App Service protocol, then the federated exchange
//! through `ClientAssertionCredential`; then the workload programs `ficus code --lang rust`
//! writes, included as they are. Its own file, so its process-wide environment variables
//! (read by `ManagedIdentityCredential`) touch no other test.

use std::sync::Arc;

use azure_core::cloud::CustomConfiguration;
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientMethodOptions, ClientOptions, Transport};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use ficus::sandbox::{SandboxConfig, start};

const EXCHANGE_SCOPE: &str = "api://AzureADTokenExchange/.default";
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const GRAPH_CLI_TOOLS: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Supplies the managed identity token as the client assertion, as a workload would.
#[derive(Debug)]
struct ManagedIdentityAssertion(Arc<ManagedIdentityCredential>);

#[async_trait::async_trait]
impl ClientAssertion for ManagedIdentityAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let token = self.0.get_token(&[EXCHANGE_SCOPE], None).await?;
        Ok(token.token.secret().to_string())
    }
}

fn claims(token: &str) -> serde_json::Map<String, serde_json::Value> {
    ficus::jwt::decode(token)
        .expect("the SDK returned a JWT")
        .claims
}

async fn graph_one(
    http: &reqwest::Client,
    graph: &str,
    bearer: &str,
    path: &str,
) -> serde_json::Value {
    let reply: serde_json::Value = http
        .get(format!("{graph}{path}"))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("Graph answers")
        .error_for_status()
        .expect("Graph says 200")
        .json()
        .await
        .expect("Graph sends JSON");
    let values = reply["value"].as_array().expect("a collection");
    assert_eq!(values.len(), 1, "{path}: {reply}");
    values[0].clone()
}

#[tokio::test]
async fn azure_identity_rust_gets_a_managed_identity_token_and_exchanges_it() {
    ficus::install_crypto_provider();
    let sandbox = start(SandboxConfig {
        tls: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts");
    let info = sandbox.info.clone();
    let ca_pem = info.ca_pem.clone().expect("--tls has a CA");
    let contoso = info
        .tenants
        .iter()
        .find(|t| t.name == "contoso")
        .expect("the demo seed has contoso")
        .clone();

    let http = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("PEM")])
        .build()
        .expect("client");
    let admin = sandbox
        .sign_in(
            &contoso.id,
            "admin@contoso.onmicrosoft.com",
            GRAPH_CLI_TOOLS,
            &[GRAPH_SCOPE],
        )
        .expect("the demo admin signs in");
    let bearer = admin.access_token.expose().clone();
    let payments = graph_one(
        &http,
        &info.graph,
        &bearer,
        "/applications?$filter=displayName eq 'payments-api'",
    )
    .await;
    let inventory = graph_one(
        &http,
        &info.graph,
        &bearer,
        "/applications?$filter=displayName eq 'inventory-sync'",
    )
    .await;
    let id_payments = graph_one(
        &http,
        &info.graph,
        &bearer,
        "/servicePrincipals?$filter=displayName eq 'id-payments'",
    )
    .await;
    let id_inventory = graph_one(
        &http,
        &info.graph,
        &bearer,
        "/servicePrincipals?$filter=displayName eq 'id-inventory'",
    )
    .await;

    // The App Service protocol is selected from these two variables, as on a real host.
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("IDENTITY_ENDPOINT", &info.app_service.endpoint);
        std::env::set_var("IDENTITY_HEADER", &info.app_service.header);
    }
    let managed_identity = |client_id: &serde_json::Value| {
        ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id: Some(UserAssignedId::ClientId(
                client_id.as_str().expect("appId").to_string(),
            )),
            ..Default::default()
        }))
        .expect("credential")
    };
    let payments_mi = managed_identity(&id_payments["appId"]);
    let mi_token = payments_mi
        .get_token(&[EXCHANGE_SCOPE], None)
        .await
        .expect("the App Service endpoint issues a token");
    let mi_claims = claims(mi_token.token.secret());
    assert_eq!(mi_claims["sub"], id_payments["id"]);
    assert_eq!(mi_claims["azp"], id_payments["appId"]);
    assert_eq!(
        mi_claims["aud"].as_str(),
        Some(ficus::cloud::TOKEN_EXCHANGE_APP_ID)
    );

    let exchange_options = || {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = info.authority.clone();
        ClientAssertionCredentialOptions {
            client_options: ClientOptions {
                transport: Some(Transport::new(Arc::new(http.clone()))),
                cloud: Some(Arc::new(cloud.into())),
                ..Default::default()
            },
        }
    };
    let exchange = ClientAssertionCredential::new(
        contoso.id.clone(),
        payments["appId"].as_str().expect("appId").to_string(),
        ManagedIdentityAssertion(payments_mi),
        Some(exchange_options()),
    )
    .expect("credential");
    let app_token = exchange
        .get_token(&[GRAPH_SCOPE], None)
        .await
        .expect("payments-api's FIC accepts id-payments");
    let app_claims = claims(app_token.token.secret());
    assert_eq!(app_claims["appid"], payments["appId"]);
    assert_eq!(app_claims["tid"].as_str(), Some(contoso.id.as_str()));

    let failing = ClientAssertionCredential::new(
        contoso.id.clone(),
        inventory["appId"].as_str().expect("appId").to_string(),
        ManagedIdentityAssertion(managed_identity(&id_inventory["appId"])),
        Some(exchange_options()),
    )
    .expect("credential");
    let error = failing
        .get_token(&[GRAPH_SCOPE], None)
        .await
        .expect_err("inventory-sync's FIC names the client id, not the principal id");
    assert!(error.to_string().contains("AADSTS700213"), "{error}");

    // The Rust programs `ficus code --lang rust` writes (global cloud), run as they are: only
    // AZURE_AUTHORITY_HOST (which they read) and the transport trusting the sandbox's CA (the
    // `ClientOptions` their `main` passes as default) differ from a real host.
    // SAFETY: as above, the only test of this binary.
    unsafe {
        std::env::set_var("AZURE_AUTHORITY_HOST", &info.authority);
    }
    let transport = || ClientOptions {
        transport: Some(Transport::new(Arc::new(http.clone()))),
        ..Default::default()
    };
    let token = payments_program::token(transport())
        .await
        .expect("payments-api's program gets its token");
    let program_claims = claims(token.token.secret());
    assert_eq!(program_claims["appid"], payments["appId"]);
    assert_eq!(payments_program::APP_ID, payments["appId"]);
    assert_eq!(
        payments_program::IDENTITY_CLIENT_ID,
        id_payments["appId"],
        "the program selects the identity by client id"
    );
    let error = inventory_program::token(transport())
        .await
        .expect_err("inventory-sync's program fails as its workload would");
    assert!(error.to_string().contains("AADSTS700213"), "{error}");

    sandbox.shutdown().await;
}

/// `tests/sdk/workload/*.rs` are `ficus code --lang rust` for the demo seed, byte for byte
/// (`tests/all/workload_code.rs` checks them against the generator), included unchanged; the
/// module adds only a way in for the test to their private items. Their `main` is not run.
macro_rules! workload_program {
    ($module:ident, $file:literal) => {
        #[allow(dead_code)]
        mod $module {
            include!($file);

            pub(super) const APP_ID: &str = APP_CLIENT_ID;
            pub(super) const IDENTITY_CLIENT_ID: &str = MANAGED_IDENTITY_CLIENT_ID;

            pub(super) async fn token(options: ClientOptions) -> azure_core::Result<AccessToken> {
                app_token(options).await
            }
        }
    };
}

workload_program!(payments_program, "sdk/workload/payments_api.rs");
workload_program!(inventory_program, "sdk/workload/inventory_sync.rs");
