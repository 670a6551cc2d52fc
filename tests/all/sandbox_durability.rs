//! The sandbox as a store people build on: an acknowledged write survives `kill -9`; a write
//! that cannot be saved is refused (503) and a failed final save fails the process; one state
//! file has one sandbox; SIGHUP saves and exits; an inconsistent state is refused at load;
//! stderr carries no colour codes when it is not a terminal.
//!
//! These run `ficus sandbox` as a child process on loopback, with its state in a tempdir.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

/// A running `ficus sandbox --json` child (the soak, `sandbox_soak.rs`, uses it too).
pub(crate) struct Sandbox {
    child: Child,
    pub(crate) authority: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

pub(crate) fn sandbox_args(state: &Path) -> Vec<String> {
    vec![
        "sandbox".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--msi-listen".into(),
        "127.0.0.1:0".into(),
        "--json".into(),
        "--state".into(),
        state.display().to_string(),
        // `admin_token`'s device code approved at once, not after a second.
        "--faults".into(),
        "approve-after=1".into(),
    ]
}

pub(crate) fn ficus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ficus"))
}

impl Sandbox {
    fn start(state: &Path) -> Sandbox {
        let mut command = ficus();
        command.args(sandbox_args(state));
        Sandbox::spawn(command)
    }

    /// Spawns `command` (a `ficus sandbox --json`, maybe wrapped) and waits for its line.
    pub(crate) fn spawn(mut command: Command) -> Sandbox {
        let mut child = command
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn ficus sandbox");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the sandbox says where it is");
        let info: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("one JSON line, got {line:?}: {e}"));
        Sandbox {
            child,
            authority: info["authority"].as_str().expect("authority").to_string(),
            stderr: Some(stderr),
        }
    }

    pub(crate) fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the exit; returns the status and everything on stderr.
    pub(crate) fn wait(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().expect("exits");
        let stderr = self
            .stderr
            .take()
            .map(|t| t.join().expect("stderr reader"))
            .unwrap_or_default();
        (status, stderr)
    }

    /// A Graph token for the demo admin, through the device code flow (auto-approved).
    pub(crate) async fn admin_token(&self, http: &reqwest::Client) -> String {
        let started: Value = http
            .post(format!("{}/contoso/oauth2/v2.0/devicecode", self.authority))
            .form(&[("client_id", AZURE_CLI), ("scope", GRAPH_DEFAULT)])
            .send()
            .await
            .expect("devicecode")
            .json()
            .await
            .expect("json");
        let code = started["device_code"].as_str().expect("device code");
        for _ in 0..100 {
            let answer: Value = http
                .post(format!("{}/contoso/oauth2/v2.0/token", self.authority))
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", AZURE_CLI),
                    ("device_code", code),
                ])
                .send()
                .await
                .expect("token")
                .json()
                .await
                .expect("json");
            if let Some(token) = answer["access_token"].as_str() {
                return token.to_string();
            }
            tokio::time::sleep(Duration::from_millis(550)).await;
        }
        panic!("the device code was never approved");
    }

    /// Object ids of the first `n` contoso apps.
    pub(crate) async fn apps(&self, http: &reqwest::Client, token: &str, n: usize) -> Vec<String> {
        let page: Value = http
            .get(format!(
                "{}/v1.0/applications?$select=id&$top={n}",
                self.authority
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        page["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_string())
            .collect()
    }

    /// Names of the FICs of an app.
    pub(crate) async fn fic_names(
        &self,
        http: &reqwest::Client,
        token: &str,
        app: &str,
    ) -> Vec<String> {
        let page: Value = http
            .get(format!(
                "{}/v1.0/applications/{app}/federatedIdentityCredentials",
                self.authority
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("list fics")
            .json()
            .await
            .expect("json");
        page["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|f| f["name"].as_str().expect("name").to_string())
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs one FIC; the status and body.
pub(crate) async fn create_fic(
    http: &reqwest::Client,
    authority: &str,
    token: &str,
    app: &str,
    name: &str,
) -> Result<(u16, Value), reqwest::Error> {
    let response = http
        .post(format!(
            "{authority}/v1.0/applications/{app}/federatedIdentityCredentials"
        ))
        .bearer_auth(token)
        .json(&json!({
            "name": name,
            "issuer": "https://token.actions.githubusercontent.com",
            "subject": format!("repo:contoso/{name}:ref:refs/heads/main"),
            "audiences": ["api://AzureADTokenExchange"],
        }))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Runs a sandbox that is expected to refuse to start: its output, or a failure (after
/// killing it) if it is still running after `limit`.
fn run_expecting_refusal(args: Vec<String>, limit: Duration) -> std::process::Output {
    let mut child = ficus()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "it started instead of refusing: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn state_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_stream_loses_no_acknowledged_fic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_in(&dir);
    let http = client();
    let sb = Sandbox::start(&state);
    let token = sb.admin_token(&http).await;
    let apps = sb.apps(&http, &token, 4).await;
    assert_eq!(apps.len(), 4);

    // Four writers, one app each, creating as fast as they are answered.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let mut writers = Vec::new();
    for (w, app) in apps.iter().enumerate() {
        let (http, token, app, authority, acknowledged) = (
            http.clone(),
            token.clone(),
            app.clone(),
            sb.authority.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0..15 {
                let name = format!("kill9-{w}-{i}");
                match create_fic(&http, &authority, &token, &app, &name).await {
                    Ok((201, _)) => acknowledged.lock().expect("lock").push((app.clone(), name)),
                    Ok((status, body)) => panic!("{name}: {status} {body}"),
                    Err(_) => return, // the sandbox is gone
                }
            }
        }));
    }
    // Kill while the stream runs: once a good share of the creates were acknowledged.
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while acknowledged.lock().expect("lock").len() < 20 {
        assert!(std::time::Instant::now() < deadline, "creates too slow");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sb.signal("KILL");
    let (status, _) = sb.wait();
    assert!(!status.success(), "killed");
    for w in writers {
        w.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() < 60,
        "the kill came mid-stream ({} acknowledged)",
        acknowledged.len()
    );

    let sb = Sandbox::start(&state);
    let token = sb.admin_token(&http).await;
    for app in &apps {
        let present = sb.fic_names(&http, &token, app).await;
        for (_, name) in acknowledged.iter().filter(|(a, _)| a == app) {
            assert!(
                present.contains(name),
                "{name} was acknowledged (201) before kill -9 and is gone after the restart"
            );
        }
    }
    sb.signal("TERM");
    let (status, _) = sb.wait();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_cannot_be_saved_is_503_and_a_failed_final_save_exits_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_in(&dir);
    // Seed the state with no limit.
    let sb = Sandbox::start(&state);
    sb.signal("TERM");
    assert!(sb.wait().0.success());
    let snapshot = std::fs::metadata(&state).expect("snapshot").len();
    // Then run under a file size limit (a full disk, as far as the sandbox can tell) smaller
    // than the snapshot: the journal takes a few records, then refuses.
    let limit_bytes: u64 = 12 * 1024;
    assert!(snapshot > 2 * limit_bytes, "snapshot of {snapshot} bytes");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        // `ulimit -f` counts 512-byte blocks in dash and 1024-byte ones in bash: either is
        // below the snapshot's size.
        .arg(format!(
            "ulimit -f {} && exec \"$0\" \"$@\"",
            limit_bytes / 512
        ))
        .arg(env!("CARGO_BIN_EXE_ficus"))
        .args(sandbox_args(&state));
    let sb = Sandbox::spawn(command);
    let http = client();
    let token = sb.admin_token(&http).await;
    let apps = sb.apps(&http, &token, 4).await;
    let mut acknowledged = Vec::new();
    let mut refused = None;
    'outer: for app in &apps {
        for i in 0..15 {
            let name = format!("full-{i}");
            let (status, body) = create_fic(&http, &sb.authority, &token, app, &name)
                .await
                .expect("the sandbox answers");
            match status {
                201 => acknowledged.push((app.clone(), name)),
                503 => {
                    refused = Some((app.clone(), name, body));
                    break 'outer;
                }
                other => panic!("{other}: {body}"),
            }
        }
    }
    let (refused_app, refused_name, body) = refused.expect("a write was refused once full");
    assert_eq!(body["error"]["code"], "serviceNotAvailable", "{body}");
    assert!(!acknowledged.is_empty());
    // What was refused was not made either.
    let present = sb.fic_names(&http, &token, &refused_app).await;
    assert!(!present.contains(&refused_name));

    sb.signal("TERM");
    let (status, stderr) = sb.wait();
    assert!(
        !status.success(),
        "the final save could not be written: exit non-zero ({status:?}); stderr: {stderr}"
    );
    assert!(stderr.contains("could not save"), "{stderr}");

    // Every acknowledged write is still there (the journal kept them).
    let sb = Sandbox::start(&state);
    let token = sb.admin_token(&http).await;
    for app in &apps {
        let present = sb.fic_names(&http, &token, app).await;
        for (_, name) in acknowledged.iter().filter(|(a, _)| a == app) {
            assert!(present.contains(name), "{name} lost");
        }
    }
    sb.signal("TERM");
    assert!(sb.wait().0.success());
}

#[tokio::test]
async fn a_second_sandbox_on_the_same_state_refuses_naming_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_in(&dir);
    let first = Sandbox::start(&state);
    let second = run_expecting_refusal(sandbox_args(&state), Duration::from_secs(10));
    assert!(!second.status.success(), "the second one refuses to start");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("pid {}", first.pid())),
        "names the holder: {stderr}"
    );
    assert!(second.stdout.is_empty(), "no JSON line: it never served");
    first.signal("TERM");
    assert!(first.wait().0.success());
    // Free again once the first one is gone.
    let third = Sandbox::start(&state);
    third.signal("TERM");
    assert!(third.wait().0.success());
}

#[tokio::test]
async fn sighup_saves_and_exits_like_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_in(&dir);
    let http = client();
    let sb = Sandbox::start(&state);
    let token = sb.admin_token(&http).await;
    let app = sb.apps(&http, &token, 1).await.remove(0);
    let (status, body) = create_fic(&http, &sb.authority, &token, &app, "before-hangup")
        .await
        .expect("create");
    assert_eq!(status, 201, "{body}");
    sb.signal("HUP");
    let (status, stderr) = sb.wait();
    assert!(status.success(), "SIGHUP: clean exit, {status:?}: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    // Saved into the snapshot (the journal was folded in on the way out).
    let journal = ficus::sandbox::journal::journal_path(&state);
    assert_eq!(std::fs::metadata(&journal).map(|m| m.len()).unwrap_or(0), 0);
    let directory = ficus::sandbox::state::load(&state)
        .expect("loads")
        .expect("exists");
    let found = directory
        .tenants
        .iter()
        .flat_map(|t| t.applications.values())
        .any(|a| a.fic("before-hangup").is_some());
    assert!(found, "the FIC is in the snapshot");
}

#[tokio::test]
async fn stderr_has_no_colour_codes_when_redirected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = Sandbox::start(&state_in(&dir));
    sb.signal("TERM");
    let (status, stderr) = sb.wait();
    assert!(status.success());
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no escape sequences in redirected stderr: {stderr:?}"
    );
}

#[tokio::test]
async fn an_inconsistent_state_is_refused_naming_the_first_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_in(&dir);
    let sb = Sandbox::start(&state);
    sb.signal("TERM");
    assert!(sb.wait().0.success());
    let good = std::fs::read(&state).expect("state");

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let original: Value = serde_json::from_slice(&good).expect("json");
    // Two tenants with one id.
    let mut v = original.clone();
    let twin = v["tenants"][0].clone();
    v["tenants"].as_array_mut().expect("tenants").push(twin);
    cases.push(("appears twice", v));
    // 500 FICs on one app.
    let mut v = original.clone();
    let apps = v["tenants"][0]["applications"]
        .as_object_mut()
        .expect("apps");
    let app = apps.values_mut().next().expect("an app");
    let fic = json!({
        "issuer": "https://example.test", "subject": "s",
        "audiences": ["api://AzureADTokenExchange"], "createdAt": "2026-01-01T00:00:00Z"
    });
    app["federatedIdentityCredentials"] = Value::Array(
        (0..500)
            .map(|i| {
                let mut f = fic.clone();
                f["id"] = json!(uuid::Uuid::new_v4());
                f["name"] = json!(format!("fic-{i}"));
                f
            })
            .collect(),
    );
    cases.push(("500 federated identity credentials", v));
    // The emulated host names an identity that does not exist.
    let mut v = original;
    v["host"]["userAssigned"]
        .as_array_mut()
        .expect("userAssigned")
        .push(json!("00000000-0000-4000-8000-000000000001"));
    cases.push(("00000000-0000-4000-8000-000000000001", v));

    for (expected, value) in cases {
        let bytes = serde_json::to_vec(&value).expect("json");
        std::fs::write(&state, &bytes).expect("write");
        let out = run_expecting_refusal(sandbox_args(&state), Duration::from_secs(10));
        assert!(!out.status.success(), "refused: {expected}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("inconsistent"), "{stderr}");
        assert!(stderr.contains(expected), "names '{expected}': {stderr}");
        assert_eq!(
            std::fs::read(&state).expect("state"),
            bytes,
            "left untouched"
        );
    }
}
