//! The real binary's sandbox sessions (issue 13): `--tenant` / `FICUS_TENANT` honoured with
//! `--sandbox` (an unknown tenant names the known ones), and `whoami` never prompting.

use std::process::{Output, Stdio};

use ficus::sandbox::{self, SandboxConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ficus");

async fn ficus(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_remove("FICUS_TENANT")
        .env_remove("FICUS_CLOUD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().await.expect("ficus runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn names(out: &Output) -> Vec<String> {
    let apps: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    apps.as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["displayName"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn sandbox_honours_tenant_and_refuses_unknown_ones() {
    let fabrikam = sandbox::seed::tenant_id(sandbox::seed::FABRIKAM).to_string();
    // By flag (name) and by environment (domain), and an unknown tenant: six runs of the
    // binary, each its own embedded sandbox, at once (each mostly starts up).
    let by_env = [("FICUS_TENANT", "fabrikam.onmicrosoft.com")];
    let (contoso_apps, flag_apps, flag_whoami, env_apps, env_whoami, unknown) = tokio::join!(
        ficus(&["--sandbox", "--json", "apps"], &[]),
        ficus(
            &["--sandbox", "--tenant", "fabrikam", "--json", "apps"],
            &[]
        ),
        ficus(
            &["--sandbox", "--tenant", "fabrikam", "--json", "whoami"],
            &[]
        ),
        ficus(&["--sandbox", "--json", "apps"], &by_env),
        ficus(&["--sandbox", "--json", "whoami"], &by_env),
        ficus(&["--sandbox", "--tenant", "nosuch.example", "apps"], &[]),
    );
    assert!(
        contoso_apps.status.success(),
        "{}",
        text(&contoso_apps.stderr)
    );
    assert!(names(&contoso_apps).iter().any(|n| n == "payments-api"));

    // Fabrikam's directory, Fabrikam's admin.
    for (apps, whoami) in [(flag_apps, flag_whoami), (env_apps, env_whoami)] {
        assert!(apps.status.success(), "{}", text(&apps.stderr));
        let listed = names(&apps);
        assert!(
            !listed.iter().any(|n| n == "payments-api"),
            "Fabrikam does not list Contoso's apps: {listed:?}"
        );
        assert!(whoami.status.success(), "{}", text(&whoami.stderr));
        let me: Value = serde_json::from_slice(&whoami.stdout).expect("json");
        assert_eq!(me["tenant"], fabrikam.as_str(), "{me}");
        assert_eq!(
            me["account"]["username"],
            sandbox::seed::FABRIKAM_ADMIN,
            "{me}"
        );
    }

    // Unknown: an error naming the known tenants, exit 1.
    let out = unknown;
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("nosuch.example"), "{err}");
    assert!(err.contains("contoso, fabrikam"), "{err}");
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn whoami_never_prompts_and_commands_without_a_terminal_do_not_block() {
    ficus::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sb = sandbox::start(SandboxConfig {
        tls: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let ca = tmp.path().join("ca.pem");
    std::fs::write(&ca, sb.info.ca_pem.as_deref().expect("CA")).expect("write CA");
    let ca = ca.display().to_string();
    let cache = tmp.path().join("tokens").display().to_string();
    let envs = [("FICUS_CACHE_DIR", cache.as_str())];
    let base = [
        "--sandbox-url",
        sb.info.authority.as_str(),
        "--ca-file",
        &ca,
    ];
    for command in [vec!["whoami"], vec!["--json", "whoami"], vec!["apps"]] {
        let args: Vec<&str> = base.iter().copied().chain(command.clone()).collect();
        let started = std::time::Instant::now();
        let out = ficus(&args, &envs).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command:?}: {err}");
        assert!(err.contains("not signed in"), "{command:?}: {err}");
        assert!(
            !err.contains("enter the code"),
            "{command:?} prompted: {err}"
        );
        assert!(out.stdout.is_empty(), "{command:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{command:?} did not wait for a sign-in"
        );
    }
    // No device code was started at the sandbox.
    assert!(
        sb.state()
            .sessions
            .lock()
            .expect("sessions")
            .device_flows
            .is_empty()
    );
    sb.shutdown().await;
}

#[test]
fn sandbox_banner_prints_the_attach_command_and_sdk_environment() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(BIN)
        .args(["sandbox", "--tls", "--listen", "127.0.0.1:0"])
        .args(["--msi-listen", "127.0.0.1:0", "--state"])
        .arg(tmp.path().join("state.json"))
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
        let last = line.starts_with("az cloud register");
        lines.push(line);
        if last {
            break;
        }
    }
    let banner = lines.join("\n");
    let ca = tmp.path().join("state-ca.pem").display().to_string();
    let attach = lines
        .iter()
        .find(|l| l.starts_with("ficus --sandbox-url https://127.0.0.1:"))
        .unwrap_or_else(|| panic!("an attach command:\n{banner}"));
    assert!(attach.ends_with(&format!("--ca-file {ca}")), "{attach}");
    for wanted in [
        format!("export REQUESTS_CA_BUNDLE={ca}"),
        format!("export NODE_EXTRA_CA_CERTS={ca}"),
        "export AZURE_AUTHORITY_HOST=https://127.0.0.1:".to_string(),
        "export IDENTITY_ENDPOINT=http://127.0.0.1:".to_string(),
        "export IDENTITY_HEADER=".to_string(),
        "export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:".to_string(),
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&wanted)),
            "{wanted}:\n{banner}"
        );
    }
    let az = lines.last().expect("the az line");
    assert!(
        az.contains("--endpoint-microsoft-graph-resource-id https://127.0.0.1:"),
        "{az}"
    );
}
