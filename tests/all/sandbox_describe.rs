//! The sandbox describes itself (issue 13): `/.well-known/ficus-sandbox` names its endpoints,
//! tenants, emulated host and CA; a `--sandbox-url` console or `ficus exchange` takes its
//! managed identity tokens from that emulated host (never the real IMDS); `ficus sandbox`
//! prints how to attach, in its banner and in its `--json` line.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ficus::entra::signin::{CachedLogin, TokenCache};
use ficus::entra::{Account, SessionConfig, TokenSet};
use ficus::sandbox::describe::{Description, WELL_KNOWN_PATH, sha256_fingerprint};
use ficus::sandbox::{self, Sandbox, SandboxConfig};
use ficus::tui::msg::{Cmd, Msg, SignInEvent};
use ficus::tui::token_effects::ExchangeSpec;
use ficus::tui::{Connector, Directory, GraphDirectory, effects};
use serde_json::Value;

use crate::sandbox_support::{claims, identity};

const BIN: &str = env!("CARGO_BIN_EXE_ficus");

async fn tls_sandbox() -> Sandbox {
    ficus::install_crypto_provider();
    sandbox::start(SandboxConfig {
        tls: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox")
}

async fn description(sb: &Sandbox) -> (Description, String) {
    let http = sb.http_client().expect("client");
    let response = http
        .get(&sb.info.description)
        .send()
        .await
        .expect("the description answers");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    let parsed: Description = serde_json::from_str(&text).expect("a description");
    (parsed, text)
}

#[tokio::test]
async fn the_description_names_endpoints_tenants_host_identities_and_ca() {
    let sb = tls_sandbox().await;
    assert_eq!(
        sb.info.description,
        format!("{}{WELL_KNOWN_PATH}", sb.info.authority)
    );
    let (d, text) = description(&sb).await;
    assert_eq!(d.kind, "ficus-sandbox");
    assert_eq!(d.version, 1);
    assert_eq!(d.authority, sb.info.authority);
    assert_eq!(d.graph, sb.info.graph);
    assert_eq!(d.managed_identity.imds, sb.info.imds);
    assert_eq!(
        d.managed_identity.app_service_endpoint,
        sb.info.app_service.endpoint
    );
    let tenants: Vec<(String, String, String)> = d
        .tenants
        .iter()
        .map(|t| (t.name.clone(), t.id.clone(), t.domain.clone()))
        .collect();
    let expected: Vec<(String, String, String)> = sb
        .info
        .tenants
        .iter()
        .map(|t| (t.name.clone(), t.id.clone(), t.domain.clone()))
        .collect();
    assert_eq!(tenants, expected);
    assert_eq!(
        d.managed_identity.host_tenant_id,
        crate::sandbox_support::contoso().to_string()
    );
    // The demo host: vm-legacy (system-assigned) and three user-assigned identities; the
    // orphan one is not attached.
    let (principal, client) = identity("id-payments");
    let payments = d
        .managed_identity
        .identities
        .iter()
        .find(|i| i.name == "id-payments")
        .expect("id-payments is on the host");
    assert_eq!(
        (payments.client_id.as_str(), payments.principal_id.as_str()),
        (client.as_str(), principal.as_str())
    );
    assert_eq!(payments.kind, "userAssigned");
    let vm = d
        .managed_identity
        .identities
        .iter()
        .find(|i| i.name == "vm-legacy")
        .expect("the system-assigned identity");
    assert_eq!(vm.kind, "systemAssigned");
    assert!(
        !d.managed_identity
            .identities
            .iter()
            .any(|i| i.name == "id-orphan")
    );
    assert!(
        d.managed_identity
            .host_resource_id
            .starts_with("/subscriptions/")
    );
    // The CA, and its fingerprint as openssl prints it.
    let ca = d.ca.expect("a CA over TLS");
    assert_eq!(Some(ca.pem.as_str()), sb.info.ca_pem.as_deref());
    assert_eq!(
        Some(ca.sha256_fingerprint.clone()),
        sha256_fingerprint(&ca.pem)
    );
    assert_eq!(
        ca.sha256_fingerprint.len(),
        32 * 3 - 1,
        "{}",
        ca.sha256_fingerprint
    );
    // The App Service header guards its endpoint: it is not published.
    assert!(!text.contains(&sb.info.app_service.header));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_plain_http_sandbox_describes_itself_without_a_ca() {
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let (d, _) = description(&sb).await;
    assert!(
        d.authority.starts_with("http://127.0.0.1:"),
        "{}",
        d.authority
    );
    assert_eq!(d.ca, None);
    sb.shutdown().await;
}

/// A server that answers the description path with `body` (a sandbox that lies, or is old).
async fn fake_sandbox(status: u16, body: Value) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route(
        WELL_KNOWN_PATH,
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    axum::Json(body),
                )
            }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

fn described(imds: &str) -> Value {
    serde_json::json!({
        "kind": "ficus-sandbox",
        "version": 1,
        "authority": "http://127.0.0.1:1",
        "graph": "http://127.0.0.1:1/v1.0",
        "tenants": [],
        "managedIdentity": {
            "imds": imds,
            "appServiceEndpoint": "http://127.0.0.1:2/msi/token",
            "hostTenantId": "00000000-0000-0000-0000-000000000000",
            "hostResourceId": "/subscriptions/x",
            "identities": []
        },
        "ca": null
    })
}

#[tokio::test]
async fn the_emulated_host_is_only_taken_from_a_description_on_this_machine() {
    let http = ficus::entra::Http::new(&ficus::entra::HttpConfig {
        no_proxy: true,
        ..ficus::entra::HttpConfig::default()
    })
    .expect("http");
    // A loopback IMDS: taken.
    let (url, task) = fake_sandbox(200, described("http://127.0.0.1:4567/")).await;
    let host = ficus::startup::connection::sandbox_msi_host(&http, &url)
        .await
        .expect("a host");
    assert_eq!(
        host.env.imds_authority.as_deref(),
        Some("http://127.0.0.1:4567")
    );
    assert_eq!(host.label, "the sandbox's emulated host");
    task.abort();
    // The real IMDS, or any other machine: refused, naming what to do instead.
    for imds in [
        "http://169.254.169.254",
        "http://10.1.2.3:80",
        "https://127.0.0.1:1",
    ] {
        let (url, task) = fake_sandbox(200, described(imds)).await;
        let why = ficus::startup::connection::sandbox_msi_host(&http, &url)
            .await
            .expect_err(imds);
        assert!(why.contains("neither on this machine"), "{imds}: {why}");
        assert!(
            why.contains("does not say where its emulated host is"),
            "{why}"
        );
        task.abort();
    }
    // Not a ficus sandbox (404): refused with the reason.
    let (url, task) = fake_sandbox(404, serde_json::json!({"error": "nope"})).await;
    let why = ficus::startup::connection::sandbox_msi_host(&http, &url)
        .await
        .expect_err("404");
    assert!(why.contains("answered 404"), "{why}");
    task.abort();
}

/// A token cache holding the contoso admin's sign-in to `sb`, as `ficus login` leaves it.
fn cached_sign_in(sb: &Sandbox, cache: &std::path::Path) -> SessionConfig {
    let contoso = sb.info.tenants[0].id.clone();
    let cloud = ficus::cloud::Cloud::custom(&sb.info.authority, &sb.info.graph);
    let mut config = SessionConfig::new(cloud, "contoso.onmicrosoft.com");
    config.ca_pem = sb.info.ca_pem.clone();
    config.cache_dir = Some(cache.to_path_buf());
    let scopes: Vec<&str> = config.scopes.iter().map(String::as_str).collect();
    let signed = sb
        .sign_in(
            &contoso,
            sandbox::seed::DEMO_ADMIN,
            &config.client_id,
            &scopes,
        )
        .expect("signed in");
    let tokens = TokenSet {
        access_token: signed.access_token,
        refresh_token: Some(signed.refresh_token),
        id_token: Some(signed.id_token),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp() + signed.expires_in as i64,
        scope: Some(config.scopes.join(" ")),
    };
    let login = CachedLogin {
        key: config.cache_key(),
        scopes: config.scopes.clone(),
        account: Account::from_tokens(&tokens),
        tokens,
    };
    TokenCache::open(cache.to_path_buf())
        .expect("cache")
        .store(&login)
        .expect("stored");
    config
}

/// The assertion's claims say it was minted by this sandbox for `id-payments`.
fn assert_sandbox_assertion(sb: &Sandbox, c: &serde_json::Map<String, Value>) {
    let (principal, client) = identity("id-payments");
    let contoso = sb.info.tenants[0].id.clone();
    // A v2 token names the exchange audience by its app id.
    assert_eq!(c["aud"], ficus::cloud::TOKEN_EXCHANGE_APP_ID, "{c:?}");
    assert_eq!(c["oid"], principal.as_str(), "{c:?}");
    assert_eq!(c["sub"], principal.as_str(), "{c:?}");
    assert_eq!(c["azp"], client.as_str(), "{c:?}");
    assert_eq!(c["tid"], contoso.as_str(), "{c:?}");
    let iss = c["iss"].as_str().expect("iss");
    assert!(iss.starts_with(&sb.info.authority), "{iss}");
}

#[tokio::test]
async fn a_sandbox_url_console_takes_managed_identity_tokens_from_the_sandbox() {
    let sb = tls_sandbox().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = cached_sign_in(&sb, &tmp.path().join("tokens"));
    // The console's own way in for --sandbox-url: the token cache (no msi host handed over).
    let directory = Arc::new(GraphDirectory::new(Connector::DeviceCode(Box::new(config))));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    effects::spawn(&directory, Cmd::StartSignIn, &tx);
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("signed in within 20 s")
            .expect("channel");
        match msg {
            Msg::SignIn(SignInEvent::Done(_)) => break,
            Msg::SignIn(SignInEvent::Failed(f)) => panic!("sign-in failed: {f:?}"),
            _ => {}
        }
    }
    let source = directory.msi_source().await.expect("a source");
    assert!(
        source.label.starts_with("the sandbox's emulated host"),
        "{source:?}"
    );
    assert!(source.endpoint.starts_with(&sb.info.imds), "{source:?}");

    let (principal, client) = identity("id-payments");
    let spec = ExchangeSpec {
        app_object_id: sandbox::seed::app_ids(sandbox::seed::CONTOSO, "payments-api")
            .0
            .to_string(),
        app_id: crate::sandbox_support::app_id("payments-api"),
        identity_client_id: Some(client),
        identity_principal_id: Some(principal),
        resource_tenant: sb.info.tenants[0].id.clone(),
        scope: "https://graph.microsoft.com/.default".into(),
        pasted: None,
        msi: ficus::tui::token_effects::MsiChoice::Session,
    };
    let result = directory.exchange(1, spec, tx.clone()).await.expect("ran");
    assert_eq!(result.failure, None);
    let assertion = result.assertion_raw.as_ref().expect("an assertion");
    assert_sandbox_assertion(&sb, &claims(assertion.expose()));
    assert!(result.succeeded(), "{:?}", result.refusal);
    sb.shutdown().await;
}

async fn ficus_out(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_remove("FICUS_TENANT")
        .env_remove("FICUS_CLOUD")
        // This machine's own sources must not be what answers.
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("IDENTITY_HEADER")
        .env_remove("AZURE_POD_IDENTITY_AUTHORITY_HOST")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().await.expect("ficus runs")
}

#[tokio::test]
async fn a_sandbox_url_exchange_takes_its_managed_identity_token_from_the_sandbox() {
    let sb = tls_sandbox().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("tokens");
    cached_sign_in(&sb, &cache);
    let ca = tmp.path().join("ca.pem");
    std::fs::write(&ca, sb.info.ca_pem.as_deref().expect("CA")).expect("write CA");
    let (ca, cache) = (ca.display().to_string(), cache.display().to_string());
    let out = ficus_out(
        &[
            "--sandbox-url",
            &sb.info.authority,
            "--ca-file",
            &ca,
            "--json",
            "exchange",
            "--app",
            "payments-api",
            "--identity",
            "id-payments",
        ],
        &[("FICUS_CACHE_DIR", cache.as_str())],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let text = report.to_string();
    assert!(
        text.contains(&sb.info.imds),
        "from the sandbox's IMDS: {text}"
    );
    assert!(!text.contains("169.254.169.254"), "{text}");
    // The assertion the report decoded: minted by this sandbox for id-payments.
    let assertion = report["assertion"]["claims"]
        .as_object()
        .unwrap_or_else(|| panic!("the assertion's claims: {text}"));
    assert_sandbox_assertion(&sb, assertion);
    assert_eq!(
        report["source"],
        format!("IMDS ({})", sb.info.imds).as_str()
    );
    assert_eq!(
        report["appToken"]["claims"]["appid"],
        crate::sandbox_support::app_id("payments-api").as_str(),
        "{text}"
    );
    sb.shutdown().await;
}

/// Runs `ficus sandbox` with `args` until `last` says the output is complete; its lines.
fn sandbox_output(args: &[&str], last: impl Fn(&str) -> bool) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(BIN)
        .args(["sandbox", "--tls", "--listen", "127.0.0.1:0"])
        .args(["--msi-listen", "127.0.0.1:0", "--state"])
        .arg(tmp.path().join("state.json"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ficus sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let _guard = crate::sdk_python::KillOnDrop(child);
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        let done = last(&line);
        lines.push(line);
        if done {
            break;
        }
    }
    lines
}

#[test]
fn the_json_line_carries_the_attach_command_and_the_sdk_environment() {
    let lines = sandbox_output(&["--json"], |_| true);
    let line: Value = serde_json::from_str(&lines[0]).expect("one JSON line");
    let authority = line["authority"].as_str().expect("authority");
    let ca = line["ca_file"].as_str().expect("ca_file");
    assert_eq!(
        line["attach"],
        format!("ficus --sandbox-url {authority} --ca-file {ca}").as_str()
    );
    assert_eq!(
        line["description"],
        format!("{authority}/.well-known/ficus-sandbox").as_str()
    );
    let env = &line["environment"];
    assert_eq!(env["AZURE_AUTHORITY_HOST"], authority);
    assert_eq!(env["REQUESTS_CA_BUNDLE"], ca);
    assert_eq!(env["NODE_EXTRA_CA_CERTS"], ca);
    assert_eq!(env["IDENTITY_ENDPOINT"], line["app_service"]["endpoint"]);
    assert_eq!(env["IDENTITY_HEADER"], line["app_service"]["header"]);
    assert_eq!(env["AZURE_POD_IDENTITY_AUTHORITY_HOST"], line["imds"]);
    let az = line["az_cloud_register"].as_str().expect("az line");
    assert!(
        az.starts_with("az cloud register --name ficus-sandbox"),
        "{az}"
    );
    assert!(
        az.contains(&format!(
            "--endpoint-microsoft-graph-resource-id {authority}/"
        )),
        "{az}"
    );
}

#[test]
fn the_banner_names_the_description_and_every_environment_line() {
    let lines = sandbox_output(&[], |l| l.starts_with("az cloud register"));
    let banner = lines.join("\n");
    let description = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("description"))
        .unwrap_or_else(|| panic!("a description line:\n{banner}"))
        .trim();
    assert!(
        description.starts_with("https://127.0.0.1:")
            && description.ends_with("/.well-known/ficus-sandbox"),
        "{description}"
    );
    for name in [
        "AZURE_AUTHORITY_HOST",
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "AZURE_TENANT_ID",
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name}:\n{banner}"));
        assert!(line.len() > format!("export {name}=").len(), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ficus --sandbox-url https://127.0.0.1:")
                && l.contains(" --ca-file ")),
        "{banner}"
    );
}

#[tokio::test]
async fn off_azure_the_real_imds_is_never_asked() {
    use ficus::entra::msi::{self, MsiEnv};
    if msi::on_azure_host() {
        // An Azure VM: asking IMDS is right there (and this check does not apply).
        return;
    }
    // NotAzureHost is answered before any probe: nothing was sent to 169.254.169.254.
    let error = msi::detect(&MsiEnv::default())
        .await
        .expect_err("no source off Azure");
    assert!(
        matches!(
            error,
            ficus::entra::EntraError::Msi(ficus::entra::MsiError::NotAzureHost)
        ),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("not an Azure VM"), "{text}");
    assert!(text.contains("--token-file"), "{text}");
}
