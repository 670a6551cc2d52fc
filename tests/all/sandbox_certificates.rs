//! Certificate client credentials: a certificate uploaded to an app's `keyCredentials` through
//! Graph, then client assertions signed with its key as MSAL builds them (RS256 with `x5t`,
//! PS256 with `x5t#S256`), and Entra's refusals (AADSTS700027 unknown / expired key or bad
//! signature, 50012 wrong audience, 5002741 several audiences). The real SDKs' run is in
//! `sdk_python_certificate.rs`.

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RSA_PSS_SHA256, RsaEncoding, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ficus::sandbox::seed::CONTOSO;
use ficus::sandbox::{Sandbox, SandboxConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::sandbox_support::{self, app_id, claims, contoso};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
const ADMIN: &str = "admin@contoso.onmicrosoft.com";

/// A certificate and its private key, as an admin would create one for an app.
pub(crate) struct TestCertificate {
    pub der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
    pub pkcs8: Vec<u8>,
}

impl TestCertificate {
    /// Valid from `from_days` to `to_days` around now.
    pub fn new(from_days: i64, to_days: i64) -> TestCertificate {
        let key =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .expect("RSA key");
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate parameters");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ficus-test-client");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(from_days);
        params.not_after = now + time::Duration::days(to_days);
        let cert = params.self_signed(&key).expect("self-signed");
        TestCertificate {
            der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            pkcs8: key.serialize_der(),
        }
    }

    fn thumbprint(&self, algorithm: &'static aws_lc_rs::digest::Algorithm) -> String {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(algorithm, &self.der))
    }

    /// A client assertion as MSAL builds it: RS256 + `x5t` (SHA-1), or PS256 + `x5t#S256`.
    fn assertion(&self, client_id: &str, claims: Value, pss: bool) -> String {
        let mut header = json!({"typ": "JWT"});
        if pss {
            header["alg"] = json!("PS256");
            header["x5t#S256"] = json!(self.thumbprint(&aws_lc_rs::digest::SHA256));
        } else {
            header["alg"] = json!("RS256");
            header["x5t"] = json!(self.thumbprint(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY));
        }
        let mut body = json!({
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        body["nbf"] = json!(now);
        body["iat"] = json!(now);
        body["exp"] = json!(now + 600);
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, claims) {
            body.extend(extra);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(body.to_string())
        );
        let key = RsaKeyPair::from_pkcs8(&self.pkcs8).expect("the key parses");
        let mut signature = vec![0u8; key.public_modulus_len()];
        let padding: &'static dyn RsaEncoding = if pss {
            &RSA_PSS_SHA256
        } else {
            &RSA_PKCS1_SHA256
        };
        key.sign(
            padding,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .expect("signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

struct Env {
    sandbox: Sandbox,
    http: reqwest::Client,
}

async fn env_with(config: SandboxConfig) -> Env {
    let sandbox = sandbox_support::start(config).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    Env { sandbox, http }
}

impl Env {
    fn token_endpoint(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.sandbox.info.authority,
            contoso()
        )
    }

    /// Uploads `certs` as the app's `keyCredentials` through Graph, as an administrator.
    async fn upload(&self, app: &str, certs: &[&TestCertificate]) -> (StatusCode, Value) {
        let admin = self
            .sandbox
            .sign_in(CONTOSO, ADMIN, AZURE_CLI, &[GRAPH_DEFAULT])
            .expect("sign-in")
            .access_token
            .expose()
            .clone();
        let keys: Vec<Value> = certs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
                    "key": STANDARD.encode(&c.der),
                    "displayName": format!("CN=ficus-test-client {i}"),
                })
            })
            .collect();
        let url = format!(
            "{}/applications(appId='{}')",
            self.sandbox.info.graph,
            app_id(app)
        );
        let response = self
            .http
            .patch(&url)
            .bearer_auth(&admin)
            .json(&json!({"keyCredentials": keys}))
            .send()
            .await
            .expect("graph answers");
        let status = response.status();
        let _ = response.bytes().await;
        let read = self
            .http
            .get(format!("{url}?$select=keyCredentials"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("graph answers");
        (status, read.json().await.expect("json"))
    }

    async fn redeem(&self, client_id: &str, assertion: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.token_endpoint())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion),
                ("scope", GRAPH_DEFAULT),
            ])
            .send()
            .await
            .expect("token endpoint answers");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }
}

fn aadsts(body: &Value) -> i64 {
    body["error_codes"][0].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn certificate_assertions_as_msal_sends_them() {
    let env = env_with(SandboxConfig::default()).await;
    let cert = TestCertificate::new(-1, 365);
    let (status, read) = env.upload("payments-api", &[&cert]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{read}");
    // Graph shows the thumbprint, never the key.
    let key = &read["keyCredentials"][0];
    assert_eq!(key["type"], "AsymmetricX509Cert");
    assert!(key["key"].is_null(), "{read}");
    assert_eq!(
        key["customKeyIdentifier"],
        STANDARD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &cert.der
        ))
    );

    let client = app_id("payments-api");
    let audience = json!({"aud": env.token_endpoint()});
    for pss in [false, true] {
        let (status, body) = env
            .redeem(&client, &cert.assertion(&client, audience.clone(), pss))
            .await;
        assert_eq!(status, StatusCode::OK, "pss={pss}: {body}");
        let token = claims(body["access_token"].as_str().expect("token"));
        assert_eq!(token["appid"], client.as_str());
        assert_eq!(token["appidacr"], "2", "a certificate is appidacr 2");
        assert_eq!(token["aud"], "https://graph.microsoft.com");
    }
    // The v2 issuer as audience (what Entra's documentation now recommends) and the tenant by
    // its domain.
    let issuer =
        json!({"aud": format!("{}/contoso.onmicrosoft.com/v2.0", env.sandbox.info.authority)});
    let (status, body) = env
        .redeem(&client, &cert.assertion(&client, issuer, false))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn certificate_assertions_refused_as_entra_refuses_them() {
    let env = env_with(SandboxConfig::default()).await;
    let registered = TestCertificate::new(-1, 365);
    let expired = TestCertificate::new(-400, -1);
    let (status, read) = env.upload("payments-api", &[&registered, &expired]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{read}");
    let client = app_id("payments-api");
    let audience = json!({"aud": env.token_endpoint()});

    // A certificate the app does not have: the key is not found, named by its thumbprint.
    let stranger = TestCertificate::new(-1, 365);
    let (status, body) = env
        .redeem(
            &client,
            &stranger.assertion(&client, audience.clone(), false),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(aadsts(&body), 700027, "{body}");
    let description = body["error_description"].as_str().unwrap_or("");
    assert!(
        description.contains("The key was not found"),
        "{description}"
    );
    let sha1_hex: String =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &stranger.der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
    assert!(description.contains(&sha1_hex), "{description}");

    // The expired one is found, and refused as expired.
    let (status, body) = env
        .redeem(
            &client,
            &expired.assertion(&client, audience.clone(), false),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(aadsts(&body), 700027);
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("The key used is expired")),
        "{body}"
    );

    // Signed by another key, but naming the registered certificate: the signature fails.
    let forged = {
        let genuine = registered.assertion(&client, audience.clone(), false);
        let other = stranger.assertion(&client, audience.clone(), false);
        let (input, _) = genuine.rsplit_once('.').expect("three parts");
        let (_, signature) = other.rsplit_once('.').expect("three parts");
        format!("{input}.{signature}")
    };
    let (status, body) = env.redeem(&client, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(aadsts(&body), 700027);
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("invalid signature")),
        "{body}"
    );

    // Audience: another tenant's endpoint, another host, or two values.
    let fabrikam = json!({"aud": format!("{}/fabrikam.onmicrosoft.com/oauth2/v2.0/token", env.sandbox.info.authority)});
    let (status, body) = env
        .redeem(&client, &registered.assertion(&client, fabrikam, false))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(aadsts(&body), 50012, "{body}");
    let elsewhere = json!({"aud": format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", contoso())});
    let (_, body) = env
        .redeem(&client, &registered.assertion(&client, elsewhere, false))
        .await;
    assert_eq!(aadsts(&body), 50012, "{body}");
    let two = json!({"aud": [env.token_endpoint(), format!("{}/{}/v2.0", env.sandbox.info.authority, contoso())]});
    let (_, body) = env
        .redeem(&client, &registered.assertion(&client, two, false))
        .await;
    assert_eq!(aadsts(&body), 5002741, "{body}");

    // An expired assertion.
    let stale = json!({"aud": env.token_endpoint(), "exp": 1_000_000_000, "nbf": 999_999_000});
    let (_, body) = env
        .redeem(&client, &registered.assertion(&client, stale, false))
        .await;
    assert_eq!(aadsts(&body), 700024, "{body}");
}

#[tokio::test]
async fn graph_refuses_keys_that_are_no_certificates() {
    let env = env_with(SandboxConfig::default()).await;
    let admin = env
        .sandbox
        .sign_in(CONTOSO, ADMIN, AZURE_CLI, &[GRAPH_DEFAULT])
        .expect("sign-in")
        .access_token
        .expose()
        .clone();
    let url = format!(
        "{}/applications(appId='{}')",
        env.sandbox.info.graph,
        app_id("payments-api")
    );
    for (body, property) in [
        (
            json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": "bm90IGEgY2VydA=="}]}),
            "'key'",
        ),
        (
            json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify"}]}),
            "'key'",
        ),
        (
            json!({"keyCredentials": [{"type": "Symmetric", "usage": "Verify", "key": STANDARD.encode(TestCertificate::new(-1, 30).der)}]}),
            "'type'",
        ),
        (
            json!({"keyCredentials": [{"keyId": uuid::Uuid::new_v4().to_string()}]}),
            "'keyId'",
        ),
    ] {
        let response = env
            .http
            .patch(&url)
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .expect("graph answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.expect("json");
        let message = answer["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(property), "{body}: {message}");
    }
}

#[tokio::test]
async fn uploaded_certificates_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_file = dir.path().join("state.json");
    let config = || SandboxConfig {
        state_file: Some(state_file.clone()),
        ..SandboxConfig::default()
    };
    let cert = TestCertificate::new(-1, 365);
    let env = env_with(config()).await;
    let (status, read) = env.upload("inventory-sync", &[&cert]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{read}");
    env.sandbox.shutdown().await;
    assert!(Path::new(&state_file).exists());

    let env = env_with(config()).await;
    let client = app_id("inventory-sync");
    let (status, body) = env
        .redeem(
            &client,
            &cert.assertion(&client, json!({"aud": env.token_endpoint()}), true),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
