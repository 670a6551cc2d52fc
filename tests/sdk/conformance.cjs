// Real SDKs against `ficus sandbox --tls`: @azure/identity and @azure/msal-node (JavaScript).
//
// Run by tests/all/sdk_js.rs, which starts the sandbox, passes its ready line in
// FICUS_SANDBOX_INFO, points NODE_PATH at the pinned packages (tests/sdk/js/package-lock.json,
// installed under target/tmp/sdk-node) and trusts the sandbox CA with NODE_EXTRA_CA_CERTS.
// Only documented configuration is used: `knownAuthorities` (msal-node) and
// `disableInstanceDiscovery` (@azure/identity) keep MSAL from asking login.microsoftonline.com
// about the sandbox's host, AZURE_POD_IDENTITY_AUTHORITY_HOST points IMDS at the sandbox's
// emulated host (never 169.254.169.254), IDENTITY_ENDPOINT/IDENTITY_HEADER select App Service.
// Every check asserts; the last line printed is a JSON summary the Rust test checks again.
//
// msal-node keeps the managed identity source it detected in a static field, so the App
// Service check runs in a child process of this script (`node conformance.cjs app-service`).

"use strict";

const assert = require("node:assert/strict");
const { execFileSync } = require("node:child_process");

const EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936";
const EXCHANGE_SCOPE = "api://AzureADTokenExchange/.default";
const GRAPH_DEFAULT = "https://graph.microsoft.com/.default";
const GRAPH_CLI_TOOLS = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

const info = JSON.parse(process.env.FICUS_SANDBOX_INFO);
const authority = info.authority;
const host = new URL(authority).host;
const contoso = info.tenants.find((t) => t.name === "contoso");
const tenantId = contoso.id;

function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

async function appServiceChild() {
  const { ManagedIdentityCredential } = require("@azure/identity");
  const credential = new ManagedIdentityCredential({ clientId: process.argv[3] });
  const token = await credential.getToken(EXCHANGE_SCOPE);
  process.stdout.write(JSON.stringify(claims(token.token)) + "\n");
}

async function main() {
  const msal = require("@azure/msal-node");
  const {
    ClientAssertionCredential,
    ManagedIdentityCredential,
  } = require("@azure/identity");
  const summary = {};

  // 1. An administrator signs in with msal-node's device code flow (grant_type=device_code,
  //    msal-common's GrantType.DEVICE_CODE_GRANT); the sandbox auto-approves. Then silently,
  //    from msal-node's cache.
  const publicApp = new msal.PublicClientApplication({
    auth: {
      clientId: GRAPH_CLI_TOOLS,
      authority: `${authority}/${tenantId}`,
      knownAuthorities: [host],
    },
  });
  let userCode = null;
  const signedIn = await publicApp.acquireTokenByDeviceCode({
    scopes: [GRAPH_DEFAULT],
    deviceCodeCallback: (response) => {
      userCode = response.userCode;
    },
  });
  assert.ok(userCode, "the device code callback ran");
  assert.ok(signedIn && signedIn.accessToken, "device code sign-in returns a token");
  const userClaims = claims(signedIn.accessToken);
  assert.equal(userClaims.tid, tenantId);
  const accounts = await publicApp.getTokenCache().getAllAccounts();
  assert.equal(accounts.length, 1, JSON.stringify(accounts));
  assert.ok(accounts[0].username.startsWith("admin@"), accounts[0].username);
  const silent = await publicApp.acquireTokenSilent({
    account: accounts[0],
    scopes: [GRAPH_DEFAULT],
  });
  assert.equal(silent.fromCache, true, "the silent call is served from the cache");
  assert.equal(silent.accessToken, signedIn.accessToken);
  summary.device_code_user = accounts[0].username;
  summary.silent_from_cache = silent.fromCache;

  // 2. The user token reads Graph.
  async function one(path) {
    const reply = await fetch(info.graph + path, {
      headers: { Authorization: `Bearer ${signedIn.accessToken}` },
    });
    assert.equal(reply.status, 200, `${path}: ${await reply.clone().text()}`);
    const values = (await reply.json()).value;
    assert.equal(values.length, 1, `${path}: ${JSON.stringify(values)}`);
    return values[0];
  }
  const payments = await one("/applications?$filter=displayName eq 'payments-api'");
  const inventory = await one("/applications?$filter=displayName eq 'inventory-sync'");
  const idPayments = await one("/servicePrincipals?$filter=displayName eq 'id-payments'");
  const idInventory = await one("/servicePrincipals?$filter=displayName eq 'id-inventory'");
  const idOrphan = await one("/servicePrincipals?$filter=displayName eq 'id-orphan'");
  assert.equal(idPayments.servicePrincipalType, "ManagedIdentity");

  // 3. ManagedIdentityCredential over IMDS, redirected to the sandbox's emulated host.
  delete process.env.IDENTITY_ENDPOINT;
  delete process.env.IDENTITY_HEADER;
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = info.imds;
  const imds = new ManagedIdentityCredential({ clientId: idPayments.appId });
  const miToken = (await imds.getToken(EXCHANGE_SCOPE)).token;
  const miClaims = claims(miToken);
  assert.equal(miClaims.aud, EXCHANGE_APP_ID);
  assert.equal(miClaims.sub, idPayments.id);
  assert.equal(miClaims.oid, idPayments.id);
  assert.equal(miClaims.azp, idPayments.appId);
  assert.equal(miClaims.iss, `${authority}/${tenantId}/v2.0`);
  summary.imds_sub = miClaims.sub;

  // 4. The same through the App Service protocol, in a fresh process (see the header).
  const childEnv = { ...process.env };
  delete childEnv.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  childEnv.IDENTITY_ENDPOINT = info.app_service.endpoint;
  childEnv.IDENTITY_HEADER = info.app_service.header;
  const childOut = execFileSync(
    process.execPath,
    [__filename, "app-service", idPayments.appId],
    { env: childEnv, encoding: "utf8", timeout: 30000 },
  );
  const asClaims = JSON.parse(childOut.trim().split("\n").pop());
  assert.equal(asClaims.sub, idPayments.id);
  assert.equal(asClaims.aud, EXCHANGE_APP_ID);
  summary.app_service_sub = asClaims.sub;

  // 5. The federated exchange with @azure/identity's ClientAssertionCredential.
  const exchange = new ClientAssertionCredential(tenantId, payments.appId, async () => miToken, {
    authorityHost: authority,
    disableInstanceDiscovery: true,
  });
  const appClaims = claims((await exchange.getToken(GRAPH_DEFAULT)).token);
  assert.equal(appClaims.appid ?? appClaims.azp, payments.appId);
  assert.equal(appClaims.tid, tenantId);
  summary.exchange_appid = appClaims.appid ?? appClaims.azp;

  // 6. The classic mistake (client id as the FIC subject) fails the way Entra fails it.
  const inventoryToken = (
    await new ManagedIdentityCredential({ clientId: idInventory.appId }).getToken(EXCHANGE_SCOPE)
  ).token;
  const failing = new ClientAssertionCredential(
    tenantId,
    inventory.appId,
    async () => inventoryToken,
    { authorityHost: authority, disableInstanceDiscovery: true },
  );
  try {
    await failing.getToken(GRAPH_DEFAULT);
    assert.fail("inventory-sync's exchange should fail");
  } catch (error) {
    assert.match(String(error && error.message), /AADSTS700213/, String(error));
    summary.inventory_error = "AADSTS700213";
  }

  // 7. msal-node's confidential client with a clientAssertion callback, then its cache.
  // msal-node resolves the callback when it builds each request's configuration (cache hits
  // included), and passes the token endpoint when it is about to call it.
  const assertionEndpoints = [];
  const confidential = new msal.ConfidentialClientApplication({
    auth: {
      clientId: payments.appId,
      authority: `${authority}/${tenantId}`,
      knownAuthorities: [host],
      clientAssertion: async (config) => {
        assert.equal(config.clientId, payments.appId);
        assertionEndpoints.push(config.tokenEndpoint);
        return miToken;
      },
    },
  });
  const first = await confidential.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
  assert.ok(first && first.accessToken, "the confidential client gets a token");
  assert.equal(first.fromCache, false);
  const second = await confidential.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
  assert.equal(second.fromCache, true, "the second call is served from the cache");
  assert.equal(second.accessToken, first.accessToken);
  assert.ok(
    assertionEndpoints.includes(`${authority}/${tenantId}/oauth2/v2.0/token`),
    `the callback saw the sandbox's token endpoint: ${JSON.stringify(assertionEndpoints)}`,
  );
  summary.msal_confidential = claims(first.accessToken).appid;
  summary.msal_cache_hit = second.fromCache;

  // 8. An identity not attached to the emulated host gets IMDS's real error.
  try {
    await new ManagedIdentityCredential({ clientId: idOrphan.appId }).getToken(EXCHANGE_SCOPE);
    assert.fail("id-orphan is not attached to the host");
  } catch (error) {
    assert.match(String(error && error.message), /Identity not found/, String(error));
    summary.orphan_error = "Identity not found";
  }

  process.stdout.write(JSON.stringify(summary) + "\n");
}

const run = process.argv[2] === "app-service" ? appServiceChild : main;
run().catch((error) => {
  process.stderr.write(`${(error && error.stack) || error}\n`);
  process.exit(1);
});
