//! The workload programs `ficus code` writes, executed: the Python (azure-identity, MSAL) and
//! JavaScript (@azure/identity, msal-node) snippets for the global cloud run unmodified against
//! `ficus sandbox --tls`, each in its own process, with the sandbox supplied only through the
//! SDKs' documented settings: `AZURE_AUTHORITY_HOST` (the authority), `REQUESTS_CA_BUNDLE` /
//! `NODE_EXTRA_CA_CERTS` (its CA) and `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` (the emulated
//! App Service host's managed identity endpoint). payments-api's program prints its token's
//! `appid`; inventory-sync's (whose FIC names id-inventory's client id) fails with
//! AADSTS700213, as the workload would. The Rust program runs in `tests/sdk_rust.rs`.

use std::path::Path;
use std::process::{Command, Output};

use ficus_core::workload::{self, Shape};
use serde_json::Value;

use crate::sdk_js::node_packages;
use crate::sdk_python::{python_with_sdks, start_sandbox};
use crate::workload_code::demo_values;

/// Variables of the machine that would send the programs elsewhere than the sandbox.
const FOREIGN_ENV: [&str; 18] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NODE_OPTIONS",
    "NODE_TLS_REJECT_UNAUTHORIZED",
    "MSAL_FORCE_REGION",
    "REGION_NAME",
    "AZURE_REGIONAL_AUTHORITY_NAME",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "CURL_CA_BUNDLE",
];

/// Runs `program` (written to `dir/file`) with the sandbox's settings.
fn run(mut command: Command, dir: &Path, file: &str, program: &str, info: &Value) -> Output {
    let path = dir.join(file);
    std::fs::write(&path, program).expect("writes the program");
    let ca_file = info["ca_file"].as_str().expect("--tls writes a CA file");
    command
        .arg(&path)
        .current_dir(dir)
        .env(
            "AZURE_AUTHORITY_HOST",
            info["authority"].as_str().expect("authority"),
        )
        .env("REQUESTS_CA_BUNDLE", ca_file)
        .env("NODE_EXTRA_CA_CERTS", ca_file)
        .env(
            "IDENTITY_ENDPOINT",
            info["app_service"]["endpoint"].as_str().expect("endpoint"),
        )
        .env(
            "IDENTITY_HEADER",
            info["app_service"]["header"].as_str().expect("header"),
        )
        .env("NO_PROXY", "localhost,127.0.0.1")
        .env("no_proxy", "localhost,127.0.0.1");
    for var in FOREIGN_ENV {
        command.env_remove(var);
    }
    command.output().expect("the program runs")
}

/// The `appid:` line a successful program printed, after checking the rest of its report.
fn printed_appid(shape: Shape, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{shape:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{shape:?} prints {name}\n{stdout}"))
    };
    assert_eq!(
        field("aud:"),
        "https://graph.microsoft.com",
        "{shape:?}: the token is for the scope asked"
    );
    let expires = field("expires:");
    assert!(
        expires.starts_with("20"),
        "{shape:?}: an ISO date: {expires}"
    );
    assert!(!stdout.contains("eyJ"), "{shape:?} printed a token");
    field("appid:")
}

fn assert_refused_with_700213(shape: Shape, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "{shape:?}: inventory-sync's program should fail"
    );
    assert!(stderr.contains("AADSTS700213"), "{shape:?}: {stderr}");
}

#[test]
fn python_and_javascript_workload_programs_get_payments_api_s_token() {
    let python = python_with_sdks();
    let packages = node_packages();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sandbox, _ready, info) = start_sandbox(dir.path());
    let payments = demo_values("payments-api", "id-payments");
    let inventory = demo_values("inventory-sync", "id-inventory");

    let python_command = || Command::new(&python);
    let node_command = || {
        let mut command = Command::new("node");
        command.env("NODE_PATH", packages.join("node_modules"));
        command
    };
    let runners: [(Shape, &str, &(dyn Fn() -> Command + Sync)); 4] = [
        (
            Shape::PythonAzureIdentity,
            "azure_identity_main.py",
            &python_command,
        ),
        (Shape::MsalPython, "msal_main.py", &python_command),
        (
            Shape::JsAzureIdentity,
            "azure_identity_main.js",
            &node_command,
        ),
        (Shape::MsalNode, "msal_node_main.js", &node_command),
    ];
    // The four SDKs at once, each in its own directory: the programs mostly wait on their
    // interpreters' start and on the sandbox.
    std::thread::scope(|scope| {
        for (shape, file, command) in runners {
            let (payments, inventory, info) = (&payments, &inventory, &info);
            let dir = dir.path().join(format!("{shape:?}"));
            scope.spawn(move || {
                std::fs::create_dir_all(&dir).expect("a directory per SDK");
                let program = workload::snippet(shape, payments);
                let output = run(command(), &dir, file, &program, info);
                assert_eq!(
                    printed_appid(shape, &output),
                    payments.app_client_id,
                    "{shape:?} got payments-api's token"
                );
                let program = workload::snippet(shape, inventory);
                let output = run(command(), &dir, file, &program, info);
                assert_refused_with_700213(shape, &output);
            });
        }
    });
}
