//! Conformance: certificate client credentials with the real Python SDKs (azure-identity's
//! `CertificateCredential`, MSAL Python with a private key and thumbprint) against the
//! in-process sandbox over TLS, after the certificate is uploaded through Graph.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use ficus::sandbox::SandboxConfig;
use ficus::sandbox::seed::CONTOSO;
use serde_json::{Value, json};

use crate::sandbox_certificates::TestCertificate;
use crate::sandbox_support::{self, app_id, contoso};
use crate::sdk_python::python_with_sdks;

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_identity_and_msal_python_sign_in_with_a_certificate() {
    let python = tokio::task::spawn_blocking(python_with_sdks)
        .await
        .expect("venv");
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox_support::start(SandboxConfig {
        tls: true,
        state_file: Some(dir.path().join("state.json")),
        ..SandboxConfig::default()
    })
    .await;
    let ca_file = sandbox.info.ca_file.clone().expect("a CA file");
    let http = sandbox.http_client().expect("client");
    let cert = TestCertificate::new(-1, 365);
    let stranger = TestCertificate::new(-1, 365);
    let admin = sandbox
        .sign_in(
            CONTOSO,
            "admin@contoso.onmicrosoft.com",
            AZURE_CLI,
            &[GRAPH_DEFAULT],
        )
        .expect("sign-in")
        .access_token
        .expose()
        .clone();
    let client = app_id("payments-api");
    let response = http
        .patch(format!(
            "{}/applications(appId='{client}')",
            sandbox.info.graph
        ))
        .bearer_auth(&admin)
        .json(&json!({"keyCredentials": [{
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": base64::engine::general_purpose::STANDARD.encode(&cert.der),
        }]}))
        .send()
        .await
        .expect("graph answers");
    assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);

    let pem = dir.path().join("client.pem");
    std::fs::write(&pem, format!("{}{}", cert.cert_pem, cert.key_pem)).expect("pem");
    let stranger_pem = dir.path().join("stranger.pem");
    std::fs::write(
        &stranger_pem,
        format!("{}{}", stranger.cert_pem, stranger.key_pem),
    )
    .expect("pem");
    let sha1_hex: String =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/certificate.py");
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .env("FICUS_AUTHORITY", &sandbox.info.authority)
        .env("FICUS_TENANT", contoso().to_string())
        .env("FICUS_CLIENT_ID", &client)
        .env("FICUS_CERT_PEM", &pem)
        .env("FICUS_STRANGER_PEM", &stranger_pem)
        .env("FICUS_CERT_SHA1_HEX", &sha1_hex)
        .env("REQUESTS_CA_BUNDLE", &ca_file)
        .env("CURL_CA_BUNDLE", &ca_file)
        .env("NO_PROXY", "localhost,127.0.0.1")
        .env("no_proxy", "localhost,127.0.0.1");
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "MSAL_FORCE_REGION",
        "REGION_NAME",
        "AZURE_REGIONAL_AUTHORITY_NAME",
    ] {
        command.env_remove(var);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joins")
        .expect("the script runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "certificate.py failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().expect("a summary"))
        .expect("the summary is JSON");
    assert_eq!(summary["azure_identity_appid"], client.as_str());
    assert_eq!(summary["msal_appid"], client.as_str());
    assert_eq!(summary["msal_second_source"], "cache");
    assert_eq!(summary["stranger_error"], "AADSTS700027");
    sandbox.shutdown().await;
}
