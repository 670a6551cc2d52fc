// payments-api's token for https://graph.microsoft.us/.default, through its federated identity credential
// that trusts the managed identity id-payments (Azure US Government).
//
// Written against com.azure:azure-identity 1.16.1 (Java 11 or newer), as App.java:
//   <dependency>
//     <groupId>com.azure</groupId>
//     <artifactId>azure-identity</artifactId>
//     <version>1.16.1</version>
//   </dependency>
// Run it where id-payments is attached (App Service, Container Apps, a VM, AKS).

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenRequestContext;
import com.azure.identity.ClientAssertionCredential;
import com.azure.identity.ClientAssertionCredentialBuilder;
import com.azure.identity.ManagedIdentityCredential;
import com.azure.identity.ManagedIdentityCredentialBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class App {
    // The app registration's application (client) id.
    static final String APP_CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000a001";
    // The tenant the app's token is for (the resource tenant).
    static final String RESOURCE_TENANT_ID = "0a1b2c3d-0000-4000-8000-00000000e002";
    // The managed identity's CLIENT id: the SDK selects a user-assigned identity by client id,
    // while the FIC's subject is its principal (object) id, 0a1b2c3d-0000-4000-8000-00000000b004.
    static final String MANAGED_IDENTITY_CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c003";
    // This cloud's token exchange audience (the FIC's audience), asked of the managed identity.
    static final String EXCHANGE_SCOPE = "api://AzureADTokenExchangeUSGov/.default";
    // This cloud's authority host; AZURE_AUTHORITY_HOST overrides it, as the Azure SDKs read it.
    static final String DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.us";
    // What the app's token is for.
    static final String SCOPE = "https://graph.microsoft.us/.default";

    public static void main(String[] args) {
        String authorityHost =
                System.getenv().getOrDefault("AZURE_AUTHORITY_HOST", DEFAULT_AUTHORITY_HOST);
        ManagedIdentityCredential managedIdentity =
                new ManagedIdentityCredentialBuilder().clientId(MANAGED_IDENTITY_CLIENT_ID).build();
        ClientAssertionCredential credential = new ClientAssertionCredentialBuilder()
                .authorityHost(authorityHost)
                .tenantId(RESOURCE_TENANT_ID)
                .clientId(APP_CLIENT_ID)
                .clientAssertion(() -> managedIdentity
                        .getTokenSync(new TokenRequestContext().addScopes(EXCHANGE_SCOPE))
                        .getToken())
                .build();
        AccessToken token = credential.getTokenSync(new TokenRequestContext().addScopes(SCOPE));
        String claims = new String(
                Base64.getUrlDecoder().decode(token.getToken().split("\\.")[1]),
                StandardCharsets.UTF_8);
        String appId = claim(claims, "appid");
        System.out.println("appid:   " + (appId != null ? appId : claim(claims, "azp")));
        System.out.println("aud:     " + claim(claims, "aud"));
        System.out.println("expires: " + token.getExpiresAt());
    }

    // One string claim of the token's JSON payload (decoded, not verified: the API that
    // receives the token verifies it). Enough for appid and aud; use a JSON library for more.
    static String claim(String json, String name) {
        Matcher match = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*\"([^\"]*)\"")
                .matcher(json);
        return match.find() ? match.group(1) : null;
    }
}
