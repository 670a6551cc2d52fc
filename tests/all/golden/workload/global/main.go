// payments-api's token for https://graph.microsoft.com/.default, through its federated identity credential
// that trusts the managed identity id-payments (Azure public cloud).
//
// Written against github.com/Azure/azure-sdk-for-go/sdk/azidentity v1.10.1 (Go 1.23 or newer):
//   go mod init workload && go get github.com/Azure/azure-sdk-for-go/sdk/azidentity@v1.10.1
// Run it where id-payments is attached (App Service, Container Apps, a VM, AKS).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// The app registration's application (client) id.
const appClientID = "0a1b2c3d-0000-4000-8000-00000000a001"

// The tenant the app's token is for (the resource tenant).
const resourceTenantID = "0a1b2c3d-0000-4000-8000-00000000e002"

// The managed identity's CLIENT id: the SDK selects a user-assigned identity by client id,
// while the FIC's subject is its principal (object) id, 0a1b2c3d-0000-4000-8000-00000000b004.
const managedIdentityClientID = "0a1b2c3d-0000-4000-8000-00000000c003"

// This cloud's token exchange audience (the FIC's audience), asked of the managed identity.
const exchangeScope = "api://AzureADTokenExchange/.default"

// This cloud's authority host; AZURE_AUTHORITY_HOST overrides it, as the Azure SDKs read it.
const defaultAuthorityHost = "https://login.microsoftonline.com"

// What the app's token is for.
const scope = "https://graph.microsoft.com/.default"

func main() {
	authorityHost := defaultAuthorityHost
	if host := os.Getenv("AZURE_AUTHORITY_HOST"); host != "" {
		authorityHost = host
	}
	managedIdentity, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: azidentity.ClientID(managedIdentityClientID),
	})
	if err != nil {
		log.Fatal(err)
	}
	getAssertion := func(ctx context.Context) (string, error) {
		token, err := managedIdentity.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{exchangeScope}})
		return token.Token, err
	}
	credential, err := azidentity.NewClientAssertionCredential(resourceTenantID, appClientID, getAssertion,
		&azidentity.ClientAssertionCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authorityHost},
			},
		})
	if err != nil {
		log.Fatal(err)
	}
	token, err := credential.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		log.Fatalf("no token: %v", err)
	}
	claims, err := decodeClaims(token.Token)
	if err != nil {
		log.Fatal(err)
	}
	appID, ok := claims["appid"]
	if !ok {
		appID = claims["azp"]
	}
	fmt.Printf("appid:   %v\n", appID)
	fmt.Printf("aud:     %v\n", claims["aud"])
	fmt.Printf("expires: %s\n", token.ExpiresOn.UTC().Format(time.RFC3339))
}

// decodeClaims returns the token's claims (decoded, not verified: the API that receives it
// verifies it).
func decodeClaims(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	err = json.Unmarshal(payload, &claims)
	return claims, err
}
