//! `ficus decode` says what the console's inspector says: tokens minted by the in-process
//! sandbox (a managed identity token from its IMDS, user- and system-assigned; an app token by
//! client credentials; a user token by sign-in) decode to their kind, each claim with its
//! meaning and times as dates, and `--verify` finds the keys from the token's issuer (the
//! sandbox's, trusted through `--ca-file`): verified, failed for a tampered signature (claims
//! still shown), not checked when the keys cannot be fetched.

use ficus::commands::{self, DecodeOptions};
use ficus::entra::msi::{self, IdentitySelector, MsiSource};
use ficus::entra::{Http, HttpConfig, RetryPolicy};
use ficus::sandbox::{self, Sandbox, SandboxConfig, seed};
use ficus::secret::Secret;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ficus");
const EXCHANGE: &str = "api://AzureADTokenExchange";

async fn tls_sandbox() -> Sandbox {
    ficus::install_crypto_provider();
    sandbox::start(SandboxConfig {
        tls: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox")
}

/// An HTTP client trusting the sandbox's CA, that never retries (no test waits for a backoff).
fn http(sb: &Sandbox) -> Http {
    Http::new(&HttpConfig {
        ca_pem: sb.info.ca_pem.clone(),
        no_proxy: true,
        retry: RetryPolicy::none(),
        ..HttpConfig::default()
    })
    .expect("http")
}

fn contoso(sb: &Sandbox) -> String {
    sb.info.tenants[0].id.clone()
}

/// `client_id` of a seeded managed identity, by name.
fn identity_client_id(name: &str) -> String {
    seed::identity_ids(seed::CONTOSO, name).1.to_string()
}

async fn decode_json(token: &str, http: Option<&Http>, verify: bool) -> (Value, bool) {
    let mut out = Vec::new();
    let options = DecodeOptions {
        verify,
        ca_pem: None,
        json: true,
        ..Default::default()
    };
    let ok = commands::decode::decode(Some(token), http, &options, &mut out)
        .await
        .is_ok();
    let v = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("JSON ({e}): {}", String::from_utf8_lossy(&out)));
    (v, ok)
}

async fn decode_text(token: &str) -> String {
    let mut out = Vec::new();
    commands::decode::decode(Some(token), None, &DecodeOptions::default(), &mut out)
        .await
        .expect("decodes");
    String::from_utf8(out).expect("utf8")
}

/// The same token with one character of its signature changed (still valid base64url).
fn tampered(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let mut chars: Vec<char> = signature.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    format!("{signed}.{}", chars.into_iter().collect::<String>())
}

#[tokio::test]
async fn managed_identity_tokens_are_fic_assertions_of_their_assignment() {
    let sb = tls_sandbox().await;
    let http = http(&sb);
    // From the sandbox's IMDS, as a workload would get it.
    let imds = MsiSource::Imds {
        base: sb.info.imds.clone(),
    };
    let minted = msi::acquire(
        &http,
        &imds,
        &IdentitySelector::ClientId(identity_client_id("id-payments")),
        EXCHANGE,
    )
    .await
    .expect("IMDS token");
    let (v, ok) = decode_json(minted.token.expose(), Some(&http), true).await;
    assert!(ok, "{v}");
    assert_eq!(v["kind"]["kind"], "managedIdentity", "{v}");
    assert_eq!(v["kind"]["assignment"], "userAssigned");
    assert_eq!(v["kind"]["ficAssertion"], true);
    assert_eq!(v["kind"]["graph"], false);
    let label = v["kind"]["label"].as_str().expect("label");
    assert!(
        label.starts_with("managed identity (user-assigned)"),
        "{label}"
    );
    assert!(label.contains("FIC assertion"), "{label}");
    assert!(
        v["kind"]["resourceId"]
            .as_str()
            .expect("xms_mirid")
            .contains("userAssignedIdentities/id-payments")
    );
    // Each claim with core's meaning; times as ISO dates.
    assert_eq!(
        v["claims"]["sub"]["meaning"],
        ficus::jwt::claim_meaning("sub").expect("meaning")
    );
    assert!(
        v["claims"]["iss"]["meaning"]
            .as_str()
            .expect("meaning")
            .contains("a FIC's issuer must equal it exactly")
    );
    let exp = v["claims"]["exp"]["at"].as_str().expect("ISO exp");
    assert!(exp.ends_with('Z') && exp.contains('T'), "{exp}");
    // The signature, checked against the keys the issuer publishes.
    assert_eq!(v["signature"]["state"], "verified", "{v}");
    assert!(v["signature"]["keyId"].is_string());
    assert!(v.get("signatureBytes").is_none());

    // A system-assigned identity (the emulated VM's own): its xms_mirid is the host.
    let vm = sb
        .managed_identity_token(&contoso(&sb), &identity_client_id("vm-legacy"), EXCHANGE)
        .expect("system-assigned token");
    let (v, _) = decode_json(vm.expose(), None, false).await;
    assert_eq!(v["kind"]["assignment"], "systemAssigned", "{v}");
    assert_eq!(v["signature"]["state"], "notChecked");

    // Text: the inspector's kind line, meanings, epochs with the date in words.
    let text = decode_text(minted.token.expose()).await;
    assert!(
        text.contains(
            "kind:      managed identity (user-assigned) · FIC assertion for api://AzureADTokenExchange (aud fb60f99c-7a34-4190-8149-302f77469936"
        ),
        "{text}"
    );
    let exp_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("exp "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(exp_line.contains(" = 20"), "{exp_line}");
    assert!(exp_line.contains(" UTC (in "), "{exp_line}");
    assert!(text.contains("expires at (unix seconds)"), "{text}");
    assert!(
        text.contains("signature: - not checked: pass --verify"),
        "{text}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn app_and_user_tokens_for_graph() {
    let sb = tls_sandbox().await;
    let http = http(&sb);
    // Client credentials with the seeded app secret.
    let (_, app_id) = seed::app_ids(seed::CONTOSO, "payments-api");
    let secret = seed::demo_secret(seed::CONTOSO, "payments-api");
    let response = sb
        .http_client()
        .expect("client")
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sb.info.authority,
            contoso(&sb)
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app_id.to_string()),
            ("client_secret", &secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request");
    assert!(response.status().is_success(), "{}", response.status());
    let body: Value = response.json().await.expect("token JSON");
    let app_token = Secret::new(body["access_token"].as_str().expect("token").to_string());
    let (v, ok) = decode_json(app_token.expose(), Some(&http), true).await;
    assert!(ok, "{v}");
    assert_eq!(v["kind"]["kind"], "appOnly", "{v}");
    assert_eq!(v["kind"]["graph"], true);
    assert_eq!(v["kind"]["ficAssertion"], false);
    // Graph tokens carry a nonce: not meant to be verified by anyone but Graph.
    assert_eq!(v["signature"]["state"], "notForYou", "{v}");
    assert!(
        v["signature"]["reason"]
            .as_str()
            .expect("reason")
            .starts_with("Graph tokens are not meant to be verified by you")
    );

    // A signed-in user's token.
    let user = sb
        .sign_in(
            &contoso(&sb),
            seed::DEMO_ADMIN,
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            &["https://graph.microsoft.com/.default"],
        )
        .expect("sign-in");
    let (v, ok) = decode_json(user.access_token.expose(), Some(&http), true).await;
    assert!(ok, "{v}");
    assert_eq!(v["kind"]["kind"], "delegated", "{v}");
    assert_eq!(v["kind"]["graph"], true);
    let label = v["kind"]["label"].as_str().expect("label");
    assert!(label.contains("user (delegated)"), "{label}");
    assert!(label.contains("Microsoft Graph token"), "{label}");
    sb.shutdown().await;
}

#[tokio::test]
async fn verify_finds_the_keys_from_the_issuer_with_ca_file() {
    let sb = tls_sandbox().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sb.info.ca_pem.as_deref().expect("CA")).expect("write CA");
    let ca = ca.display().to_string();
    let token = sb
        .managed_identity_token(&contoso(&sb), &identity_client_id("id-payments"), EXCHANGE)
        .expect("token");
    let ficus = |args: Vec<String>| async move {
        tokio::process::Command::new(BIN)
            .args(args)
            .env_remove("FICUS_TENANT")
            .env_remove("FICUS_CLOUD")
            .output()
            .await
            .expect("ficus runs")
    };
    let args = |token: &str, json: bool| {
        let mut a = vec!["--ca-file".to_string(), ca.clone()];
        if json {
            a.push("--json".into());
        }
        a.extend(["decode".into(), "--verify".into(), token.to_string()]);
        a
    };

    // No --tenant: the issuer in the token says where the keys are.
    let out = ficus(args(token.expose(), false)).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("signature: ✓ verified"), "{text}");
    assert!(!text.contains(token.expose().rsplit('.').next().expect("sig")));

    // A tampered signature: failed, and the claims are still shown.
    let forged = tampered(token.expose());
    let out = ficus(args(&forged, false)).await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("signature: ✗ failed"), "{text}");
    assert!(text.contains("claims:"), "{text}");
    assert!(text.contains("xms_mirid"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("does not verify"), "{err}");
    assert!(!err.contains("no tenant given"), "{err}");

    let out = ficus(args(&forged, true)).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["signature"]["state"], "failed");
    assert!(
        v["signature"]["reason"]
            .as_str()
            .expect("reason")
            .contains("altered or forged")
    );
    assert_eq!(v["kind"]["kind"], "managedIdentity");
    sb.shutdown().await;
}

#[tokio::test]
async fn unreachable_keys_are_not_checked_rather_than_failed() {
    let sb = tls_sandbox().await;
    let token = sb
        .managed_identity_token(&contoso(&sb), &identity_client_id("id-payments"), EXCHANGE)
        .expect("token");
    // A client that does not trust the sandbox's CA cannot fetch its keys: that says nothing
    // about the token.
    let untrusting = Http::new(&HttpConfig {
        no_proxy: true,
        retry: RetryPolicy::none(),
        ..HttpConfig::default()
    })
    .expect("http");
    let (v, ok) = decode_json(token.expose(), Some(&untrusting), true).await;
    assert!(
        !ok,
        "--verify that could not check is a failure of the command"
    );
    assert_eq!(v["signature"]["state"], "notChecked", "{v}");
    assert!(
        v["signature"]["reason"]
            .as_str()
            .expect("reason")
            .contains("could not be fetched")
    );
    assert_eq!(v["kind"]["kind"], "managedIdentity");
    sb.shutdown().await;
}

#[tokio::test]
async fn verify_checks_the_tenant_not_only_the_global_key() {
    let sb = tls_sandbox().await;
    let http = http(&sb);
    let tid = contoso(&sb);
    let fabrikam = seed::tenant_id(seed::FABRIKAM).to_string();
    // A v1 ARM token: iss https://sts.windows.net/{tid}/, keys from the session's authority.
    let principal = seed::identity_ids(seed::CONTOSO, "id-payments")
        .0
        .to_string();
    let arm = sb
        .managed_identity_token(&tid, &principal, "https://management.azure.com/")
        .expect("arm token");
    let run = |expected: Option<String>| {
        let http = &http;
        let authority = sb.info.authority.clone();
        let token = arm.expose().clone();
        async move {
            let options = DecodeOptions {
                verify: true,
                json: true,
                authority: Some(authority),
                expected_tenant: expected,
                ..Default::default()
            };
            let mut out = Vec::new();
            let ok = commands::decode::decode(Some(&token), Some(http), &options, &mut out)
                .await
                .is_ok();
            let v: Value = serde_json::from_slice(&out).expect("json");
            (v, ok)
        }
    };
    let (v, ok) = run(Some(tid.clone())).await;
    assert!(ok, "{v}");
    assert_eq!(v["signature"]["state"], "verified", "{v}");
    assert_eq!(v["signature"]["tenant"], tid.as_str());
    assert!(
        v["signature"]["reason"]
            .as_str()
            .expect("reason")
            .contains(&format!("issued by tenant {tid}"))
    );
    // The same good signature, but another session's tenant: it fails on the tenant.
    let (v, ok) = run(Some(fabrikam.clone())).await;
    assert!(!ok);
    assert_eq!(v["signature"]["state"], "failed", "{v}");
    let reason = v["signature"]["reason"].as_str().expect("reason");
    assert!(
        reason.contains(&format!("not by this session's tenant {fabrikam}")),
        "{reason}"
    );
    sb.shutdown().await;
}
