//! Conformance: the real JavaScript SDKs (@azure/identity 4.13.1, @azure/msal-node 5.6.0,
//! pinned with their dependencies by `tests/sdk/js/package-lock.json`) against
//! `ficus sandbox --tls`, driven by `tests/sdk/conformance.cjs`: msal-node device code and
//! silent sign-in, ManagedIdentityCredential over App Service and IMDS (the sandbox's emulated
//! host), ClientAssertionCredential's exchange and its AADSTS700213, and msal-node's
//! `clientAssertion` callback with its cache.
//!
//! The packages live under the target dir (`target/tmp/sdk-node`); the test installs them with
//! `npm ci` when they are missing or the lock file changed (`.ci/run` does it up front), using
//! the machine's `node` and `npm`. Only documented configuration points the SDKs at the
//! sandbox: `NODE_EXTRA_CA_CERTS`, msal-node's `knownAuthorities`, @azure/identity's
//! `disableInstanceDiscovery` and `authorityHost`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`,
//! `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sdk_python::start_sandbox;

/// The folder that holds `node_modules` with the pinned packages, installed if needed.
pub(crate) fn node_packages() -> PathBuf {
    // Several tests ask at once; on a fresh clone only one may run `npm ci`.
    static SETTING_UP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SETTING_UP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pins = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/js");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-node");
    let lock = std::fs::read(pins.join("package-lock.json")).expect("the lock file is readable");
    let installed_lock = std::fs::read(dir.join("package-lock.json")).ok();
    let complete = dir
        .join("node_modules/@azure/identity/package.json")
        .exists()
        && dir
            .join("node_modules/@azure/msal-node/package.json")
            .exists();
    if complete && installed_lock.as_deref() == Some(lock.as_slice()) {
        return dir;
    }
    std::fs::create_dir_all(&dir).expect("creates target/tmp/sdk-node");
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(pins.join(file), dir.join(file)).expect("copies the pins");
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .expect("npm is needed for the JavaScript SDK conformance test");
    assert!(status.success(), "npm ci in {} failed", dir.display());
    dir
}

#[test]
fn azure_identity_and_msal_node_accept_the_sandbox() {
    let packages = node_packages();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sandbox, ready_line, info) = start_sandbox(dir.path());
    let ca_file = info["ca_file"].as_str().expect("--tls writes a CA file");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/conformance.cjs");
    let mut command = Command::new("node");
    command
        .arg(&script)
        .current_dir(dir.path())
        .env("FICUS_SANDBOX_INFO", &ready_line)
        .env("NODE_PATH", packages.join("node_modules"))
        .env("NODE_EXTRA_CA_CERTS", ca_file)
        .env("NO_PROXY", "localhost,127.0.0.1")
        .env("no_proxy", "localhost,127.0.0.1");
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NODE_OPTIONS",
        "NODE_TLS_REJECT_UNAUTHORIZED",
        "MSAL_FORCE_REGION",
        "REGION_NAME",
        "AZURE_REGIONAL_AUTHORITY_NAME",
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "IDENTITY_SERVER_THUMBPRINT",
        "IMDS_ENDPOINT",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ] {
        command.env_remove(var);
    }
    let output = command.output().expect("node runs the conformance script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "conformance.cjs failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("the script prints a summary"))
            .expect("the summary is JSON");
    assert_eq!(summary["device_code_user"], "admin@contoso.onmicrosoft.com");
    assert_eq!(summary["silent_from_cache"], true);
    assert!(summary["imds_sub"].is_string());
    assert_eq!(summary["imds_sub"], summary["app_service_sub"]);
    assert_eq!(summary["inventory_error"], "AADSTS700213");
    assert_eq!(summary["orphan_error"], "Identity not found");
    assert_eq!(summary["exchange_appid"], summary["msal_confidential"]);
    assert_eq!(summary["msal_cache_hit"], true);
}
