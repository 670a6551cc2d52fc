//! Persistence (round trip, corrupt files refused, authority rebase) and TLS.

use crate::sandbox_support;

use ficus::sandbox::model::{FederatedIdentityCredential, Timestamp};
use ficus::sandbox::seed::{self, CONTOSO};
use ficus::sandbox::state::StateError;
use ficus::sandbox::{SandboxConfig, SandboxError};
use sandbox_support::*;
use serde_json::Value;

fn config(path: &std::path::Path) -> SandboxConfig {
    SandboxConfig {
        state_file: Some(path.to_path_buf()),
        // A key of its own, so a restart that kept the stored key is told from a new seed.
        seed_key: ficus::sandbox::keys::SeedKey::Fresh,
        ..SandboxConfig::default()
    }
}

async fn kid(sb: &ficus::sandbox::Sandbox) -> String {
    let jwks: Value = get_json(
        &sb.http_client().expect("client"),
        format!("{}/contoso/discovery/v2.0/keys", sb.info.authority),
    )
    .await;
    jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
}

#[tokio::test]
async fn state_round_trips_through_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested").join("sandbox.json");
    let sb = start(config(&path)).await;
    assert!(path.exists(), "the seeded state is written at start");
    let first_kid = kid(&sb).await;
    let fic_id = uuid::Uuid::new_v4();
    sb.state().update(|d| {
        let t = d.tenant_mut(CONTOSO).expect("contoso");
        let app = t
            .application_by_app_id_mut(seed::app_ids(CONTOSO, "billing-worker").1)
            .expect("app");
        app.federated_identity_credentials
            .push(FederatedIdentityCredential {
                id: fic_id,
                name: "added-by-test".into(),
                issuer: "https://example.test".into(),
                subject: "s".into(),
                audiences: vec!["api://AzureADTokenExchange".into()],
                description: Some("persist me".into()),
                created_at: Timestamp::now(),
            });
    });
    sb.shutdown().await;

    let on_disk = ficus::sandbox::state::load(&path)
        .expect("loads")
        .expect("exists");
    let app = on_disk
        .tenant(CONTOSO)
        .and_then(|t| t.application_by_app_id(seed::app_ids(CONTOSO, "billing-worker").1))
        .expect("indexes rebuilt after load");
    assert_eq!(
        app.fic("added-by-test").map(|f| f.id),
        Some(fic_id),
        "the FIC was saved"
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "state file is private: {mode:o}");
    }

    // Restart: same keys, same data, the secret still works.
    let sb = start(config(&path)).await;
    assert_eq!(kid(&sb).await, first_kid);
    let secret = seed::demo_secret(CONTOSO, "payments-api");
    let payments = app_id("payments-api");
    let (status, body) = post_form(
        &sb,
        CONTOSO,
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &payments),
            ("scope", "https://graph.microsoft.com/.default"),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_state_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.json");
    std::fs::write(&path, b"{\"formatVersion\": 1, \"tenants\": [").expect("write");
    ficus::install_crypto_provider();
    let err = ficus::sandbox::start(config(&path))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, SandboxError::State(StateError::Corrupt { .. })),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("broken.json"), "{message}");
    assert!(message.contains("move it away"), "{message}");
    assert_eq!(
        std::fs::read(&path).expect("still there"),
        b"{\"formatVersion\": 1, \"tenants\": ["
    );
}

#[tokio::test]
async fn fic_issuers_follow_the_sandbox_to_a_new_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sandbox.json");
    let sb = start(config(&path)).await;
    sb.shutdown().await;
    // Pretend the file was last served elsewhere.
    let mut directory = ficus::sandbox::state::load(&path)
        .expect("loads")
        .expect("exists");
    directory.rebase_authority("http://127.0.0.1:1");
    ficus::sandbox::state::save(&path, &directory).expect("saves");
    let sb = start(config(&path)).await;
    let (status, body) = exchange(
        &sb,
        CONTOSO,
        &app_id("payments-api"),
        &mi_assertion(&sb, "id-payments"),
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // An issuer that never named the sandbox is untouched.
    let github = sb.state().read(|d| {
        d.tenant(CONTOSO)
            .and_then(|t| t.application_by_app_id(seed::app_ids(CONTOSO, "intranet-search").1))
            .and_then(|a| a.fic("github-main"))
            .map(|f| f.issuer.clone())
    });
    assert_eq!(
        github.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn tls_serves_with_the_generated_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sandbox.json");
    let sb = start(SandboxConfig {
        tls: true,
        ..config(&path)
    })
    .await;
    assert!(sb.info.authority.starts_with("https://127.0.0.1:"));
    let ca_file = sb.info.ca_file.clone().expect("ca file");
    assert_eq!(ca_file, dir.path().join("sandbox-ca.pem"));
    let pem = std::fs::read_to_string(&ca_file).expect("ca pem");
    assert_eq!(Some(&pem), sb.info.ca_pem.as_ref());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // Trusting only the CA file works, for 127.0.0.1 and localhost.
    let trusted = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("cert")])
        .build()
        .expect("client");
    let port = sb
        .info
        .authority
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    for host in ["127.0.0.1", "localhost"] {
        let response = trusted
            .get(format!(
                "https://{host}:{port}/contoso/v2.0/.well-known/openid-configuration"
            ))
            .send()
            .await
            .expect("https works with the CA");
        assert_eq!(response.status(), 200);
    }
    // Without the CA the handshake fails.
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only(Vec::<reqwest::Certificate>::new())
        .build()
        .expect("client");
    assert!(
        untrusting
            .get(format!(
                "{}/contoso/v2.0/.well-known/openid-configuration",
                sb.info.authority
            ))
            .send()
            .await
            .is_err()
    );
    // The MSI endpoints stay plain HTTP.
    assert!(sb.info.imds.starts_with("http://"));
    sb.shutdown().await;

    // A restart on the same state keeps the CA, so clients that trust it keep working.
    let sb = start(SandboxConfig {
        tls: true,
        ..config(&path)
    })
    .await;
    assert_eq!(sb.info.ca_pem.as_deref(), Some(pem.as_str()));
    let response = trusted
        .get(format!(
            "{}/contoso/v2.0/.well-known/openid-configuration",
            sb.info.authority
        ))
        .send()
        .await
        .expect("the old CA still verifies the new leaf");
    assert_eq!(response.status(), 200);
    sb.shutdown().await;
}
