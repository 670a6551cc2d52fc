"""Real SDKs against `ficus sandbox --tls`: azure-identity and MSAL (Python).

Run by tests/sdk_python.rs, which starts the sandbox and passes its ready line in
FICUS_SANDBOX_INFO. Every check asserts; the last line printed is a JSON summary the Rust test
checks again. Nothing here may reach Microsoft: MSAL runs with instance_discovery=False.
"""

import base64
import json
import os
import sys

import msal
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, ManagedIdentityCredential

EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
GRAPH_CLI_TOOLS = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

info = json.loads(os.environ["FICUS_SANDBOX_INFO"])
authority = info["authority"]
contoso = next(t for t in info["tenants"] if t["name"] == "contoso")
tenant_id = contoso["id"]
summary = {}


def claims(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


# 1. An administrator signs in with MSAL's device code flow; the sandbox auto-approves.
public = msal.PublicClientApplication(
    GRAPH_CLI_TOOLS, authority=f"{authority}/{tenant_id}", instance_discovery=False
)
flow = public.initiate_device_flow(scopes=[GRAPH_DEFAULT])
assert "user_code" in flow, flow
signed_in = public.acquire_token_by_device_flow(flow)
assert "access_token" in signed_in, signed_in
user_claims = claims(signed_in["access_token"])
assert user_claims["tid"] == tenant_id, user_claims
accounts = public.get_accounts()
assert accounts and accounts[0]["username"].startswith("admin@"), accounts
silent = public.acquire_token_silent([GRAPH_DEFAULT], account=accounts[0])
assert silent and "access_token" in silent, silent
summary["device_code_user"] = accounts[0]["username"]
summary["silent_source"] = silent.get("token_source")

# 2. The user token reads Graph: the demo apps and identities.
graph = requests.Session()
graph.headers["Authorization"] = "Bearer " + signed_in["access_token"]


def one(path):
    reply = graph.get(info["graph"] + path, timeout=10)
    reply.raise_for_status()
    values = reply.json()["value"]
    assert len(values) == 1, (path, values)
    return values[0]


payments_app = one("/applications?$filter=displayName eq 'payments-api'")
inventory_app = one("/applications?$filter=displayName eq 'inventory-sync'")
id_payments = one("/servicePrincipals?$filter=displayName eq 'id-payments'")
assert id_payments["servicePrincipalType"] == "ManagedIdentity", id_payments

# 3. ManagedIdentityCredential over IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST).
os.environ.pop("IDENTITY_ENDPOINT", None)
os.environ.pop("IDENTITY_HEADER", None)
os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = info["imds"]
imds = ManagedIdentityCredential(client_id=id_payments["appId"])
mi_token = imds.get_token("api://AzureADTokenExchange/.default").token
mi_claims = claims(mi_token)
assert mi_claims["aud"] == EXCHANGE_APP_ID, mi_claims
assert mi_claims["sub"] == id_payments["id"] == mi_claims["oid"], mi_claims
assert mi_claims["azp"] == id_payments["appId"], mi_claims
assert mi_claims["iss"] == f"{authority}/{tenant_id}/v2.0", mi_claims
summary["imds_sub"] = mi_claims["sub"]

# 4. The same through the App Service protocol (IDENTITY_ENDPOINT + IDENTITY_HEADER).
os.environ["IDENTITY_ENDPOINT"] = info["app_service"]["endpoint"]
os.environ["IDENTITY_HEADER"] = info["app_service"]["header"]
app_service = ManagedIdentityCredential(client_id=id_payments["appId"])
as_claims = claims(app_service.get_token("api://AzureADTokenExchange/.default").token)
assert as_claims["sub"] == id_payments["id"], as_claims
summary["app_service_sub"] = as_claims["sub"]
del os.environ["IDENTITY_ENDPOINT"], os.environ["IDENTITY_HEADER"]

# 5. The federated exchange with azure-identity's ClientAssertionCredential.
exchange = ClientAssertionCredential(
    tenant_id, payments_app["appId"], lambda: mi_token, authority=authority
)
app_claims = claims(exchange.get_token(GRAPH_DEFAULT).token)
assert app_claims.get("appid", app_claims.get("azp")) == payments_app["appId"], app_claims
assert app_claims["tid"] == tenant_id, app_claims
summary["exchange_appid"] = app_claims.get("appid", app_claims.get("azp"))

# 6. The classic mistake fails the way Entra fails it.
inventory_mi = one("/servicePrincipals?$filter=displayName eq 'id-inventory'")
inventory_token = ManagedIdentityCredential(client_id=inventory_mi["appId"]).get_token(
    "api://AzureADTokenExchange/.default"
).token
failing = ClientAssertionCredential(
    tenant_id, inventory_app["appId"], lambda: inventory_token, authority=authority
)
try:
    failing.get_token(GRAPH_DEFAULT)
    raise AssertionError("inventory-sync's exchange should fail")
except ClientAuthenticationError as error:
    assert "AADSTS700213" in str(error), str(error)
    summary["inventory_error"] = "AADSTS700213"

# 7. MSAL's confidential client does the same exchange, then serves it from its cache.
confidential = msal.ConfidentialClientApplication(
    payments_app["appId"],
    authority=f"{authority}/{tenant_id}",
    client_credential={"client_assertion": lambda: mi_token},
    instance_discovery=False,
)
first = confidential.acquire_token_for_client([GRAPH_DEFAULT])
assert "access_token" in first, first
second = confidential.acquire_token_for_client([GRAPH_DEFAULT])
assert second.get("token_source") == "cache", second
summary["msal_confidential"] = claims(first["access_token"]).get("appid")

# 8. An identity not attached to the emulated host gets IMDS's real error.
orphan = one("/servicePrincipals?$filter=displayName eq 'id-orphan'")
try:
    ManagedIdentityCredential(client_id=orphan["appId"]).get_token(
        "api://AzureADTokenExchange/.default"
    )
    raise AssertionError("id-orphan is not attached to the host")
except Exception as error:  # azure-identity wraps IMDS errors in several types
    assert "Identity not found" in str(error), str(error)
    summary["orphan_error"] = "Identity not found"

print(json.dumps(summary))
sys.stdout.flush()
