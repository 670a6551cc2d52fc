// payments-api's token for https://microsoftgraph.chinacloudapi.cn/.default, through its federated identity credential
// that trusts the managed identity id-payments (Azure operated by 21Vianet (China)).
//
// Written against Azure.Identity 1.14.0 (.NET 8 or newer), as Program.cs of a console app:
//   dotnet new console && dotnet add package Azure.Identity --version 1.14.0
// Run it where id-payments is attached (App Service, Container Apps, a VM, AKS).

using System.Text.Json;
using Azure.Core;
using Azure.Identity;

// The app registration's application (client) id.
const string AppClientId = "0a1b2c3d-0000-4000-8000-00000000a001";
// The tenant the app's token is for (the resource tenant).
const string ResourceTenantId = "0a1b2c3d-0000-4000-8000-00000000e002";
// The managed identity's CLIENT id: the SDK selects a user-assigned identity by client id,
// while the FIC's subject is its principal (object) id, 0a1b2c3d-0000-4000-8000-00000000b004.
const string ManagedIdentityClientId = "0a1b2c3d-0000-4000-8000-00000000c003";
// This cloud's token exchange audience (the FIC's audience), asked of the managed identity.
const string ExchangeScope = "api://AzureADTokenExchangeChina/.default";
// What the app's token is for.
const string Scope = "https://microsoftgraph.chinacloudapi.cn/.default";
// This cloud's authority host; AZURE_AUTHORITY_HOST overrides it, as the Azure SDKs read it.
string authorityHost = Environment.GetEnvironmentVariable("AZURE_AUTHORITY_HOST") ?? "https://login.chinacloudapi.cn";

var managedIdentity = new ManagedIdentityCredential(
    ManagedIdentityId.FromUserAssignedClientId(ManagedIdentityClientId));
var credential = new ClientAssertionCredential(
    ResourceTenantId,
    AppClientId,
    async cancellationToken => (await managedIdentity.GetTokenAsync(
        new TokenRequestContext([ExchangeScope]), cancellationToken)).Token,
    new ClientAssertionCredentialOptions { AuthorityHost = new Uri(authorityHost) });

AccessToken token = await credential.GetTokenAsync(
    new TokenRequestContext([Scope]), CancellationToken.None);
JsonElement claims = Claims(token.Token);
string appId = (claims.TryGetProperty("appid", out var appid) ? appid : claims.GetProperty("azp")).GetString();
Console.WriteLine($"appid:   {appId}");
Console.WriteLine($"aud:     {claims.GetProperty("aud").GetString()}");
Console.WriteLine($"expires: {token.ExpiresOn:O}");

// The token's claims (decoded, not verified: the API that receives it verifies it).
static JsonElement Claims(string jwt)
{
    string payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
    payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
    return JsonDocument.Parse(Convert.FromBase64String(payload)).RootElement;
}
