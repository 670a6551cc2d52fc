//! The real `ficus` binary: `--sandbox`, `--sandbox-url` with `--ca-file`, `--json` output and
//! JSON errors on stderr, exit codes, login / whoami / logout with the on-disk token cache, and
//! `--use-az-cli` with a stand-in `az`.

use std::path::Path;
use std::process::Output;

use ficus::sandbox::{self, Sandbox, SandboxConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ficus");

async fn ficus<S: AsRef<std::ffi::OsStr>>(args: &[S], envs: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_remove("FICUS_TENANT")
        .env_remove("FICUS_CLOUD")
        .env("NO_COLOR", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().await.expect("ficus runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[tokio::test]
async fn sandbox_json_commands_and_exit_codes() {
    let out = ficus(
        &["--sandbox", "--json", "apps", "--filter", "payments"],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let apps: Value = serde_json::from_str(&stdout(&out)).expect("JSON array");
    assert!(
        apps.as_array()
            .expect("array")
            .iter()
            .any(|a| a["displayName"] == "payments-api")
    );

    // The classic mistake: non-zero exit, the report on stdout, the refusal on stderr.
    let out = ficus(
        &[
            "--sandbox",
            "exchange",
            "--app",
            "inventory-sync",
            "--identity",
            "id-inventory",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("AADSTS700213"), "{text}");
    assert!(text.contains("principal id of id-inventory"), "{text}");
    assert!(stderr(&out).contains("error:"), "{}", stderr(&out));

    // --json errors are JSON on stderr.
    let out = ficus(&["--sandbox", "--json", "fic", "list", "no-such-app"], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    let err: Value = serde_json::from_str(stderr(&out).trim()).expect("JSON error");
    assert_eq!(err["error"]["kind"], "not_found");

    // Commands that need no tenant.
    let out = ficus(&["explain", "AADSTS700213"], &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("subject"));
    let out = ficus(&["--json", "decode", "not.a-token"], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let err: Value = serde_json::from_str(stderr(&out).trim()).expect("JSON error");
    assert_eq!(err["error"]["kind"], "token");

    // No tenant outside the sandbox: a usage error that says what to pass.
    let out = ficus(&["apps"], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--tenant"), "{}", stderr(&out));
}

async fn tls_sandbox(dir: &Path) -> (Sandbox, String) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig {
        tls: true,
        // The device code sign-in approved at once and polled every second (Entra: 5 s).
        faults: sandbox::Faults::parse("device-interval=1,approve-after=1").expect("faults"),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sb.info.ca_pem.as_deref().expect("CA")).expect("write CA");
    (sb, ca.display().to_string())
}

#[tokio::test]
async fn login_whoami_logout_against_a_running_sandbox() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (sb, ca) = tls_sandbox(tmp.path()).await;
    let cache = tmp.path().join("tokens");
    let cache_s = cache.display().to_string();
    let envs = [("FICUS_CACHE_DIR", cache_s.as_str())];
    let base = [
        "--sandbox-url",
        sb.info.authority.as_str(),
        "--ca-file",
        ca.as_str(),
    ];
    let with = |more: &[&'static str]| -> Vec<String> {
        base.iter()
            .map(|s| s.to_string())
            .chain(more.iter().map(|s| s.to_string()))
            .collect()
    };

    // Device code flow, approved by the sandbox as its demo admin.
    let v = with(&["login"]);
    let out = ficus(&v, &envs).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("enter the code"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(sandbox::seed::DEMO_ADMIN),
        "{}",
        stdout(&out)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir_mode = std::fs::metadata(&cache).expect("dir").permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let file = std::fs::read_dir(&cache)
            .expect("ls")
            .next()
            .expect("a file")
            .expect("entry");
        let mode = file.metadata().expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(file.path()).expect("read");
        assert!(text.contains("refresh_token"));
    }

    let v = with(&["--json", "whoami"]);
    let out = ficus(&v, &envs).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let me: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(me["account"]["username"], sandbox::seed::DEMO_ADMIN);
    assert_eq!(me["signedInVia"], "token cache");

    let v = with(&["fic", "list", "payments-api"]);
    let out = ficus(&v, &envs).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("mi-id-payments"));

    // A cache others can read is refused, with the fix.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let v = with(&["whoami"]);
        let out = ficus(&v, &envs).await;
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("chmod 700"), "{}", stderr(&out));
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }

    let v = with(&["logout"]);
    let out = ficus(&v, &envs).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Signed out"));
    assert_eq!(std::fs::read_dir(&cache).expect("ls").count(), 0);

    // Without a CA the sandbox's certificate is not trusted: a TLS error that names the fix.
    let out = ficus(
        &[
            "--sandbox-url",
            sb.info.authority.as_str(),
            "--tenant",
            "contoso",
            "login",
        ],
        &envs,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--ca-file"), "{}", stderr(&out));
    sb.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn use_az_cli_reuses_the_azure_cli_token() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (sb, ca) = tls_sandbox(tmp.path()).await;
    let contoso = sb.info.tenants[0].id.clone();
    let signed = sb
        .sign_in(
            &contoso,
            sandbox::seed::DEMO_ADMIN,
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            &["https://graph.microsoft.com/.default"],
        )
        .expect("token");
    // A stand-in `az` that prints what `az account get-access-token` prints.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let json_path = tmp.path().join("az.json");
    let body = serde_json::json!({
        "accessToken": signed.access_token.expose(),
        "expiresOn": "2099-01-01 00:00:00.000000",
        "expires_on": time::OffsetDateTime::now_utc().unix_timestamp() + 3000,
        "tenant": contoso,
        "tokenType": "Bearer",
    });
    std::fs::write(&json_path, body.to_string()).expect("write");
    let az = bin.join("az");
    std::fs::write(&az, format!("#!/bin/sh\ncat '{}'\n", json_path.display())).expect("write az");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let out = ficus(
        &[
            "--sandbox-url",
            sb.info.authority.as_str(),
            "--ca-file",
            ca.as_str(),
            "--tenant",
            contoso.as_str(),
            "--use-az-cli",
            "--json",
            "identities",
        ],
        &[("PATH", path.as_str())],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(ids.as_array().expect("array").len(), 5);
    sb.shutdown().await;
}

#[tokio::test]
async fn decode_reads_a_token_from_stdin() {
    use base64::Engine;
    use tokio::io::AsyncWriteExt;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.{}",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k1"})),
        b64(&serde_json::json!({"sub": "s-123", "iss": "https://example.invalid/t/v2.0"})),
        "c2ln"
    );
    let mut child = tokio::process::Command::new(BIN)
        .args(["--json", "decode", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{token}\n").as_bytes())
        .await
        .expect("write");
    drop(stdin);
    let out = child.wait_with_output().await.expect("output");
    assert!(out.status.success(), "{}", stderr(&out));
    let decoded: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(decoded["claims"]["sub"]["value"], "s-123");
    assert_eq!(decoded["header"]["kid"], "k1");
    assert_eq!(decoded["signature"]["state"], "notChecked");
    assert!(
        decoded["signature"]["reason"]
            .as_str()
            .expect("reason")
            .contains("--verify")
    );
}
