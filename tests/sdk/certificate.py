"""Certificate client credentials with the real SDKs: azure-identity's CertificateCredential
and MSAL Python's ConfidentialClientApplication with a private key and thumbprint, against the
sandbox. Run by tests/all/sdk_python_certificate.rs, which uploads the certificate to the app
first and passes everything in the environment. The last line printed is a JSON summary.
"""

import base64
import json
import os

import msal
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential

GRAPH_DEFAULT = "https://graph.microsoft.com/.default"

authority = os.environ["FICUS_AUTHORITY"]
tenant_id = os.environ["FICUS_TENANT"]
client_id = os.environ["FICUS_CLIENT_ID"]
pem_path = os.environ["FICUS_CERT_PEM"]
stranger_path = os.environ["FICUS_STRANGER_PEM"]
summary = {}


def claims(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


# 1. azure-identity: the certificate (key + cert in one PEM), instance discovery off.
credential = CertificateCredential(
    tenant_id,
    client_id,
    certificate_path=pem_path,
    authority=authority,
    disable_instance_discovery=True,
)
token = credential.get_token(GRAPH_DEFAULT)
got = claims(token.token)
assert got["appid"] == client_id, got
assert got["appidacr"] == "2", got
summary["azure_identity_appid"] = got["appid"]

# 2. MSAL Python with the private key, the certificate and its SHA-1 thumbprint.
with open(pem_path, encoding="ascii") as f:
    pem = f.read()
key_pem = pem[pem.index("-----BEGIN PRIVATE KEY-----"):]
cert_pem = pem[pem.index("-----BEGIN CERTIFICATE-----"):pem.index("-----BEGIN PRIVATE KEY-----")]
thumbprint = os.environ["FICUS_CERT_SHA1_HEX"]
app = msal.ConfidentialClientApplication(
    client_id,
    client_credential={
        "private_key": key_pem,
        "thumbprint": thumbprint,
        "public_certificate": cert_pem,
    },
    authority=f"{authority}/{tenant_id}",
    instance_discovery=False,
)
result = app.acquire_token_for_client(scopes=[GRAPH_DEFAULT])
assert "access_token" in result, result
summary["msal_appid"] = claims(result["access_token"])["appid"]
again = app.acquire_token_for_client(scopes=[GRAPH_DEFAULT])
summary["msal_second_source"] = again.get("token_source")

# 3. A certificate the app does not have: AADSTS700027.
stranger = CertificateCredential(
    tenant_id,
    client_id,
    certificate_path=stranger_path,
    authority=authority,
    disable_instance_discovery=True,
)
try:
    stranger.get_token(GRAPH_DEFAULT)
    raise AssertionError("an unknown certificate must be refused")
except ClientAuthenticationError as e:
    summary["stranger_error"] = "AADSTS700027" if "AADSTS700027" in str(e) else str(e)

print(json.dumps(summary))
