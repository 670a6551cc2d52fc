// inventory-sync's token for https://graph.microsoft.com/.default, through its federated identity credential
// that trusts the managed identity id-inventory (Azure public cloud).
//
// Written against azure_identity 1.0.0 and azure_core 1.1.0, as src/main.rs, with in Cargo.toml:
//   [dependencies]
//   azure_core = "1.1.0"
//   azure_identity = "1.0.0"
//   async-trait = "0.1"
//   base64 = "0.22"
//   serde_json = "1"
//   tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
// Run it where id-inventory is attached (App Service, Container Apps, a VM, AKS).

use std::sync::Arc;

use azure_core::cloud::CustomConfiguration;
use azure_core::credentials::{AccessToken, TokenCredential};
use azure_core::http::{ClientMethodOptions, ClientOptions};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use base64::Engine as _;

// The app registration's application (client) id.
const APP_CLIENT_ID: &str = "33d36ea6-dc73-4098-a52c-8a006ae41ea2";
// The tenant the app's token is for (the resource tenant).
const RESOURCE_TENANT_ID: &str = "cfd7dfc3-c394-4621-a6f9-0ab65e30af5e";
// The managed identity's CLIENT id: the SDK selects a user-assigned identity by client id,
// while the FIC's subject is its principal (object) id, cfda500d-3836-444c-b005-efa76bfcba88.
const MANAGED_IDENTITY_CLIENT_ID: &str = "3d229fa1-f9dd-44ad-aaad-d61d3b40ad96";
// This cloud's token exchange audience (the FIC's audience), asked of the managed identity.
const EXCHANGE_SCOPE: &str = "api://AzureADTokenExchange/.default";
// This cloud's authority host; AZURE_AUTHORITY_HOST overrides it, as the Azure SDKs read it.
const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
// What the app's token is for.
const SCOPE: &str = "https://graph.microsoft.com/.default";

/// Hands the managed identity's token for the exchange audience to the app's credential.
#[derive(Debug)]
struct ManagedIdentityAssertion(Arc<ManagedIdentityCredential>);

#[async_trait::async_trait]
impl ClientAssertion for ManagedIdentityAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let token = self.0.get_token(&[EXCHANGE_SCOPE], None).await?;
        Ok(token.token.secret().to_string())
    }
}

/// The app's token for `SCOPE`; `client_options` carries the HTTP settings (transport,
/// retries), and the cloud's authority host is set here.
async fn app_token(mut client_options: ClientOptions) -> azure_core::Result<AccessToken> {
    let managed_identity =
        ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id: Some(UserAssignedId::ClientId(MANAGED_IDENTITY_CLIENT_ID.into())),
            ..Default::default()
        }))?;
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = std::env::var("AZURE_AUTHORITY_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into());
    client_options.cloud = Some(Arc::new(cloud.into()));
    let credential = ClientAssertionCredential::new(
        RESOURCE_TENANT_ID.into(),
        APP_CLIENT_ID.into(),
        ManagedIdentityAssertion(managed_identity),
        Some(ClientAssertionCredentialOptions { client_options }),
    )?;
    credential.get_token(&[SCOPE], None).await
}

/// The token's claims (decoded, not verified: the API that receives it verifies it).
fn claims(jwt: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let payload = jwt.split('.').nth(1).ok_or("not a JWT")?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&json)?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = app_token(ClientOptions::default()).await?;
    let claims = claims(token.token.secret())?;
    let claim = |name: &str| claims.get(name).and_then(|value| value.as_str());
    let app_id = claim("appid").or(claim("azp"));
    println!("appid:   {}", app_id.unwrap_or("(none)"));
    println!("aud:     {}", claim("aud").unwrap_or("(none)"));
    println!("expires: {}", token.expires_on);
    Ok(())
}
