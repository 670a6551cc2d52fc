#!/usr/bin/env bash
# The Azure CLI against a plain `ficus sandbox`, configured only as documented: a custom cloud
# (`az cloud register --endpoint-resource-manager`, which reads the sandbox's
# /metadata/endpoints), its CA in REQUESTS_CA_BUNDLE, and instance discovery off. Not in CI: the
# Azure CLI is a large install (into ${CARGO_TARGET_DIR:-target}/tmp/az on first run).
#
#   scripts/az-check.sh            # prints one line per check and a summary; exit 1 on a failure
#
# Every request stays on loopback: the sandbox, its managed identity endpoint (App Service
# style, so nothing asks 169.254.169.254), and PyPI only for the first install.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
venv="$target/tmp/az"
az="$venv/bin/az"
python="python3"

if ! "$az" version >/dev/null 2>&1; then
  echo "== installing azure-cli into $venv (large; a few minutes)"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check azure-cli
fi
echo "== $("$az" version --query '"azure-cli"' -o tsv 2>/dev/null | sed 's/^/azure-cli /')"

echo "== building ficus"
cargo build --quiet --bin ficus
ficus="$target/debug/ficus"

work="$(mktemp -d "${TMPDIR:-/tmp}/ficus-az.XXXXXX")"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$ficus" sandbox --tls --json --listen 127.0.0.1:0 --msi-listen 127.0.0.1:0 \
  --state "$work/state.json" >"$work/ready" 2>"$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1 600); do
  [ -s "$work/ready" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log"; echo "the sandbox exited"; exit 1; }
  sleep 0.1
done
[ -s "$work/ready" ] || { echo "the sandbox did not start in 60 s"; exit 1; }

ready="$(head -n1 "$work/ready")"
field() { "$python" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, {"d": d}))' "$ready" "$1"; }
authority="$(field 'd["authority"]')"
ca_file="$(field 'd["ca_file"]')"
identity_endpoint="$(field 'd["app_service"]["endpoint"]')"
identity_header="$(field 'd["app_service"]["header"]')"
tenant="$(field '[t["id"] for t in d["tenants"] if t["name"] == "contoso"][0]')"
echo "== sandbox at $authority (contoso = $tenant)"

# The Azure CLI's own state, apart from the user's; no proxies, no telemetry.
export AZURE_CONFIG_DIR="$work/azure"
export REQUESTS_CA_BUNDLE="$ca_file"
export AZURE_CORE_COLLECT_TELEMETRY=false
export AZURE_CORE_NO_COLOR=true
export NO_PROXY="127.0.0.1,localhost" no_proxy="127.0.0.1,localhost"
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy IDENTITY_ENDPOINT IDENTITY_HEADER MSI_ENDPOINT MSI_SECRET

passed=0
failed=0
failures=()
# check NAME COMMAND...: runs it, keeps its output in $out, prints ok/FAIL.
check() {
  local name="$1"; shift
  if out="$("$@" 2>"$work/stderr")"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name"
    sed 's/^/     | /' "$work/stderr" | tail -n 15
  fi
}
# expect NAME PYTHON-EXPRESSION: asserts on the JSON in $out (as `o`).
expect() {
  local name="$1" expression="$2"
  if "$python" -c 'import json,sys; o=json.loads(sys.argv[1]); assert eval(sys.argv[2]), o' "$out" "$expression" 2>"$work/stderr"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name"
    tail -n 3 "$work/stderr" | sed 's/^/     | /'
  fi
}

check "az config set core.instance_discovery=false" "$az" config set core.instance_discovery=false --only-show-errors
check "az cloud register (endpoints from /metadata/endpoints)" \
  "$az" cloud register -n ficus-sandbox --endpoint-resource-manager "$authority" --only-show-errors
check "az cloud set" "$az" cloud set -n ficus-sandbox --only-show-errors
check "az cloud show" "$az" cloud show -n ficus-sandbox -o json
expect "the cloud points at the sandbox" "o['endpoints']['resourceManager'].startswith('$authority') and o['endpoints']['activeDirectory'].startswith('$authority') and o['endpoints']['microsoftGraphResourceId'].startswith('$authority')"

# 1. Device code, approved by the sandbox as its demo admin (--auto-approve's default).
check "az login --use-device-code (admin)" \
  "$az" login --use-device-code --tenant "$tenant" --allow-no-subscriptions -o json --only-show-errors
expect "device code: the seeded subscription" "o[0]['tenantId'] == '$tenant' and o[0]['user']['name'] == 'admin@contoso.onmicrosoft.com'"
check "az account show" "$az" account show -o json
expect "the account is contoso's subscription" "o['tenantId'] == '$tenant' and o['state'] == 'Enabled'"

check "az ad app list --all" "$az" ad app list --all -o json --only-show-errors
expect "every seeded app is listed" "{'payments-api', 'inventory-sync', 'billing-worker'} <= {a['displayName'] for a in o}"
payments_app="$("$python" -c 'import json,sys; print([a["appId"] for a in json.loads(sys.argv[1]) if a["displayName"] == "payments-api"][0])' "$out")"
check "az ad app list --identifier-uri" "$az" ad app list --identifier-uri "api://$payments_app" -o json --only-show-errors
expect "found by identifier URI" "[a['displayName'] for a in o] == ['payments-api']"
check "az ad app list --show-mine" "$az" ad app list --show-mine -o json --only-show-errors
expect "the admin owns payments-api" "'payments-api' in [a['displayName'] for a in o]"
check "az ad app owner list" "$az" ad app owner list --id "$payments_app" -o json --only-show-errors
expect "its owner is the admin" "[u['userPrincipalName'] for u in o] == ['admin@contoso.onmicrosoft.com']"
check "az ad sp show --id <appId>" "$az" ad sp show --id "$payments_app" -o json --only-show-errors
expect "the principal of payments-api" "o['appId'] == '$payments_app' and o['servicePrincipalType'] == 'Application'"
check "az ad sp list --spn" "$az" ad sp list --spn "$payments_app" -o json --only-show-errors
expect "one principal by name" "len(o) == 1"

subject="$("$az" ad sp list --display-name id-reporting --query '[0].id' -o tsv --only-show-errors)"
# id-payments' client id, from Graph's managed identity principals (for sections 3 and 4).
id_payments_client="$("$az" ad sp list --display-name id-payments --query '[0].appId' -o tsv --only-show-errors)"
issuer="$authority/$tenant/v2.0"
cat >"$work/fic.json" <<EOF
{"name": "az-check", "issuer": "$issuer", "subject": "$subject", "audiences": ["api://AzureADTokenExchange"], "description": "created by scripts/az-check.sh"}
EOF
check "az ad app federated-credential create" \
  "$az" ad app federated-credential create --id "$payments_app" --parameters "@$work/fic.json" -o json --only-show-errors
expect "the FIC as created" "o['name'] == 'az-check' and o['subject'] == '$subject'"
check "az ad app federated-credential list" \
  "$az" ad app federated-credential list --id "$payments_app" -o json --only-show-errors
expect "listed with the seeded one" "{'az-check', 'mi-id-payments'} <= {f['name'] for f in o}"
check "az ad app federated-credential show" \
  "$az" ad app federated-credential show --id "$payments_app" --federated-credential-id az-check -o json --only-show-errors
check "az ad app federated-credential delete" \
  "$az" ad app federated-credential delete --id "$payments_app" --federated-credential-id az-check --only-show-errors
check "az ad app federated-credential list (after delete)" \
  "$az" ad app federated-credential list --id "$payments_app" -o json --only-show-errors
expect "gone" "'az-check' not in {f['name'] for f in o}"
check "az logout" "$az" logout --only-show-errors

# 2. A service principal with its secret (the seed's deterministic demo secret).
secret="$("$python" - <<'EOF'
import base64, hashlib
text = base64.urlsafe_b64encode(hashlib.sha256(b"contoso/secret/payments-api").digest()).decode().rstrip("=")
text = text.replace("-", "a").replace("_", "b")
print(f"{text[:3]}8Q~{text[3:37]}")
EOF
)"
check "az login --service-principal (secret)" \
  "$az" login --service-principal -u "$payments_app" -p "$secret" --tenant "$tenant" --allow-no-subscriptions -o json --only-show-errors
expect "signed in as the app" "o[0]['user']['type'] == 'servicePrincipal' and o[0]['user']['name'] == '$payments_app'"
check "az ad sp show (as the app)" "$az" ad sp show --id "$payments_app" -o json --only-show-errors
check "az logout" "$az" logout --only-show-errors

# 3. The federated exchange: a managed identity token (id-payments) as the assertion.
check "managed identity token for the exchange (App Service endpoint)" \
  curl -sS --fail -H "X-IDENTITY-HEADER: $identity_header" \
  "$identity_endpoint?api-version=2019-08-01&resource=api://AzureADTokenExchange&client_id=$id_payments_client"
assertion="$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["access_token"])' "$out")"
check "az login --federated-token" \
  "$az" login --service-principal -u "$payments_app" --federated-token "$assertion" --tenant "$tenant" --allow-no-subscriptions -o json --only-show-errors
expect "signed in as the app by federation" "o[0]['user']['name'] == '$payments_app'"
check "az account get-access-token (ARM)" "$az" account get-access-token -o json --only-show-errors
expect "a token for the tenant" "o['tenant'] == '$tenant'"
check "az logout" "$az" logout --only-show-errors

# 4. Managed identity: the emulated App Service endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER).
check "az login --identity (system-assigned)" \
  env IDENTITY_ENDPOINT="$identity_endpoint" IDENTITY_HEADER="$identity_header" \
  "$az" login --identity --allow-no-subscriptions -o json --only-show-errors
expect "signed in as the host's identity" "o[0]['user']['type'] == 'servicePrincipal' and o[0]['tenantId'] == '$tenant'"
check "az login --identity --client-id (user-assigned)" \
  env IDENTITY_ENDPOINT="$identity_endpoint" IDENTITY_HEADER="$identity_header" \
  "$az" login --identity --client-id "$id_payments_client" --allow-no-subscriptions -o json --only-show-errors
expect "signed in as id-payments" "o[0]['tenantId'] == '$tenant'"
check "az rest: user-assigned identities (ARM, as the identity)" \
  env IDENTITY_ENDPOINT="$identity_endpoint" IDENTITY_HEADER="$identity_header" \
  "$az" rest --method get --url "/subscriptions/$(
    "$python" -c 'import json,sys; print(json.loads(sys.argv[1])[0]["id"])' "$out"
  )/resourceGroups/rg-workloads/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31" -o json --only-show-errors
expect "the identity's ids match Graph's" "'$id_payments_client' in [i['properties']['clientId'] for i in o['value']]"

echo
echo "== az-check: $passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  printf '   failed: %s\n' "${failures[@]}"
  exit 1
fi
