// payments-api's token for https://microsoftgraph.chinacloudapi.cn/.default, through its federated identity credential
// that trusts the managed identity id-payments (Azure operated by 21Vianet (China)).
//
// Written against Microsoft.Identity.Client (MSAL.NET) 4.72.1 (.NET 8 or newer), as Program.cs:
//   dotnet new console && dotnet add package Microsoft.Identity.Client --version 4.72.1
// Run it where id-payments is attached (App Service, Container Apps, a VM, AKS).

using System.Text.Json;
using Microsoft.Identity.Client;
using Microsoft.Identity.Client.AppConfig;

// The app registration's application (client) id.
const string AppClientId = "0a1b2c3d-0000-4000-8000-00000000a001";
// The tenant the app's token is for (the resource tenant).
const string ResourceTenantId = "0a1b2c3d-0000-4000-8000-00000000e002";
// The managed identity's CLIENT id: MSAL selects a user-assigned identity by client id,
// while the FIC's subject is its principal (object) id, 0a1b2c3d-0000-4000-8000-00000000b004.
const string ManagedIdentityClientId = "0a1b2c3d-0000-4000-8000-00000000c003";
// This cloud's token exchange audience (the FIC's audience), the managed identity's resource.
const string ExchangeAudience = "api://AzureADTokenExchangeChina";
// What the app's token is for.
const string Scope = "https://microsoftgraph.chinacloudapi.cn/.default";
// This cloud's authority host; AZURE_AUTHORITY_HOST overrides it, as the Azure SDKs read it.
string authorityHost = Environment.GetEnvironmentVariable("AZURE_AUTHORITY_HOST") ?? "https://login.chinacloudapi.cn";

IManagedIdentityApplication managedIdentity = ManagedIdentityApplicationBuilder
    .Create(ManagedIdentityId.WithUserAssignedClientId(ManagedIdentityClientId))
    .Build();
IConfidentialClientApplication app = ConfidentialClientApplicationBuilder
    .Create(AppClientId)
    .WithAuthority($"{authorityHost.TrimEnd('/')}/{ResourceTenantId}")
    .WithClientAssertion(async (AssertionRequestOptions options) =>
    {
        AuthenticationResult assertion = await managedIdentity
            .AcquireTokenForManagedIdentity(ExchangeAudience)
            .ExecuteAsync(options.CancellationToken)
            .ConfigureAwait(false);
        return assertion.AccessToken;
    })
    .Build();

AuthenticationResult result = await app.AcquireTokenForClient([Scope]).ExecuteAsync();
JsonElement claims = Claims(result.AccessToken);
string appId = (claims.TryGetProperty("appid", out var appid) ? appid : claims.GetProperty("azp")).GetString();
Console.WriteLine($"appid:   {appId}");
Console.WriteLine($"aud:     {claims.GetProperty("aud").GetString()}");
Console.WriteLine($"expires: {result.ExpiresOn:O}");

// The token's claims (decoded, not verified: the API that receives it verifies it).
static JsonElement Claims(string jwt)
{
    string payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
    payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
    return JsonDocument.Parse(Convert.FromBase64String(payload)).RootElement;
}
