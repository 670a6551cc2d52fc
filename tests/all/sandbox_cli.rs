//! `ficus sandbox --json` as a process: exactly one JSON line on stdout, endpoints that work,
//! and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn json_mode_prints_one_line_and_serves() {
    ficus::install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--msi-listen",
            "127.0.0.1:0",
            "--tls",
            "--json",
            "--auto-approve",
            "off",
            "--state",
        ])
        .arg(&state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ficus");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_thread = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        rest
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a JSON line within a minute");
    let info: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON object");
    let authority = info["authority"].as_str().expect("authority").to_string();
    assert!(authority.starts_with("https://127.0.0.1:"));
    assert_eq!(info["graph"], format!("{authority}/v1.0"));
    let imds = info["imds"].as_str().expect("imds");
    assert_eq!(info["app_service"]["endpoint"], format!("{imds}/msi/token"));
    assert!(
        !info["app_service"]["header"]
            .as_str()
            .expect("header")
            .is_empty()
    );
    assert_eq!(info["tenants"][0]["name"], "contoso");
    assert!(info.get("ca_pem").is_none());
    let ca_file = info["ca_file"].as_str().expect("ca file");
    let pem = std::fs::read(ca_file).expect("CA written");

    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("cert")])
        .build()
        .expect("client");
    let doc: serde_json::Value = client
        .get(format!(
            "{authority}/contoso/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect("discovery over https")
        .json()
        .await
        .expect("json");
    assert!(
        doc["issuer"]
            .as_str()
            .expect("issuer")
            .starts_with(&authority)
    );

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    assert!(state.exists());
    let rest = reader_thread.join().expect("reader thread");
    assert_eq!(rest, "", "nothing else on stdout");
}
