//! The device code flow through the oauth2 crate against the sandbox's token service: polling
//! while pending, then an approval or a refusal as the admin decides on the sign-in page.

use ficus::cloud::Cloud;
use ficus::entra::signin::{self, Account, default_scopes};
use ficus::entra::{EntraError, Http, HttpConfig};
use ficus::sandbox::{self, SandboxConfig};

async fn decide(sb: &sandbox::Sandbox, user_code: &str, action: &str) {
    let client = sb.http_client().expect("client");
    let resp = client
        .post(format!("{}/devicelogin", sb.info.authority))
        .form(&[
            ("user_code", user_code),
            ("upn", sandbox::seed::DEMO_ADMIN),
            ("action", action),
        ])
        .send()
        .await
        .expect("sign-in page answers");
    assert!(resp.status().is_success(), "{}", resp.status());
}

#[tokio::test]
async fn device_code_polls_until_approved_or_declined() {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig {
        tls: true,
        auto_approve: None,
        // Polled every second instead of Entra's five: the client still waits the interval.
        faults: sandbox::Faults::parse("device-interval=1").expect("faults"),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let cloud = Cloud::custom(&sb.info.authority, &sb.info.graph);
    let http = Http::new(&HttpConfig {
        ca_pem: sb.info.ca_pem.clone(),
        no_proxy: true,
        ..HttpConfig::default()
    })
    .expect("http");
    let client_id = signin::DEFAULT_CLIENT_ID;
    let scopes = default_scopes();

    let approved = signin::start_device_code(&http, &cloud, "contoso", client_id, &scopes)
        .await
        .expect("device code");
    let declined = signin::start_device_code(&http, &cloud, "contoso", client_id, &scopes)
        .await
        .expect("device code");
    let p = approved.prompt().clone();
    assert!(p.verification_uri.ends_with("/devicelogin"), "{p:?}");
    assert!(
        p.message
            .as_deref()
            .expect("message")
            .contains(&p.user_code)
    );
    assert_eq!(p.interval, std::time::Duration::from_secs(1));
    let declined_code = declined.prompt().user_code.clone();

    let (ok, refused, (), ()) = tokio::join!(
        approved.finish(),
        declined.finish(),
        decide(&sb, &p.user_code, "accept"),
        decide(&sb, &declined_code, "decline"),
    );
    let tokens = ok.expect("approved");
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    assert_eq!(
        Account::from_tokens(&tokens).username.as_deref(),
        Some(sandbox::seed::DEMO_ADMIN)
    );
    match refused {
        Err(EntraError::Sts(e)) => {
            assert_eq!(e.error, "authorization_declined", "{e:?}");
            assert!(e.endpoint.ends_with("/oauth2/v2.0/token"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // An unknown tenant is refused at the start with Entra's code.
    let err = signin::start_device_code(&http, &cloud, "nowhere.example", client_id, &scopes)
        .await
        .err()
        .expect("unknown tenant");
    match err {
        EntraError::Sts(e) => assert_eq!(e.aadsts(), Some(90002), "{e:?}"),
        other => panic!("expected AADSTS90002, got {other:?}"),
    }
    sb.shutdown().await;
}
