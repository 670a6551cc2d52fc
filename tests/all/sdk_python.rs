//! Conformance: the real Python SDKs (azure-identity 1.27, msal 1.39) against
//! `ficus sandbox --tls`. The SDKs are independent implementations of the protocols, so a
//! green run says the sandbox speaks Entra's wire format, not just our own client's idea of it.
//!
//! The SDKs live in a virtualenv under the target dir; the test creates it on first run
//! (`.ci/run` creates it up front), so `cargo test` needs no manual set-up.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SDKS: [&str; 2] = ["azure-identity==1.27.0", "msal==1.39.0"];

pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Python interpreter that can import azure.identity and msal.
pub(crate) fn python_with_sdks() -> PathBuf {
    // Several tests ask at once; on a fresh clone only one may create the virtualenv.
    static SETTING_UP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SETTING_UP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-venv");
    let python = venv.join("bin/python");
    let importable = |python: &Path| {
        Command::new(python)
            .args(["-c", "import azure.identity, msal"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if importable(&python) {
        return python;
    }
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 is needed for the SDK conformance tests");
    assert!(
        created.success(),
        "python3 -m venv {} failed",
        venv.display()
    );
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(SDKS)
        .status()
        .expect("pip runs");
    assert!(installed.success(), "pip install {SDKS:?} failed");
    assert!(
        importable(&python),
        "the SDKs are installed but do not import"
    );
    python
}

pub(crate) fn start_sandbox(state_dir: &Path) -> (KillOnDrop, String, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["sandbox", "--tls", "--json", "--listen", "127.0.0.1:0"])
        // The SDKs' device code sign-ins approved at once and polled every second (Entra: 5 s).
        .args(["--faults", "device-interval=1,approve-after=1"])
        .args(["--msi-listen", "127.0.0.1:0", "--state"])
        .arg(state_dir.join("state.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ficus sandbox starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let guard = KillOnDrop(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reads the ready line");
    let info: serde_json::Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("the ready line is JSON ({e}): {line}"));
    (guard, line.trim().to_string(), info)
}

#[test]
fn azure_identity_and_msal_python_accept_the_sandbox() {
    let python = python_with_sdks();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sandbox, ready_line, info) = start_sandbox(dir.path());
    let ca_file = info["ca_file"].as_str().expect("--tls writes a CA file");
    assert!(Path::new(ca_file).exists(), "CA file {ca_file} exists");
    assert!(info["graph"].as_str().is_some_and(|g| g.ends_with("/v1.0")));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/conformance.py");
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .env("FICUS_SANDBOX_INFO", &ready_line)
        .env("REQUESTS_CA_BUNDLE", ca_file)
        .env("CURL_CA_BUNDLE", ca_file)
        .env("NO_PROXY", "localhost,127.0.0.1")
        .env("no_proxy", "localhost,127.0.0.1");
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "MSAL_FORCE_REGION",
        "REGION_NAME",
        "AZURE_REGIONAL_AUTHORITY_NAME",
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ] {
        command.env_remove(var);
    }
    let output = command.output().expect("the conformance script runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "conformance.py failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("the script prints a summary"))
            .expect("the summary is JSON");
    assert_eq!(summary["device_code_user"], "admin@contoso.onmicrosoft.com");
    assert_eq!(summary["silent_source"], "cache");
    assert_eq!(summary["imds_sub"], summary["app_service_sub"]);
    assert_eq!(summary["inventory_error"], "AADSTS700213");
    assert_eq!(summary["orphan_error"], "Identity not found");
    assert_eq!(summary["exchange_appid"], summary["msal_confidential"]);
}
