//! The headless commands' one output convention, against the in-process sandbox: camelCase
//! JSON keys in every command, sorted lists, errors on stderr only (nothing on stdout on
//! failure), `identities --filter`, rule findings in `fic list --json`, absolute dates beside
//! relative ones, bidi controls stripped from tenant strings, and `fic rm` confirmation.

use ficus::commands::{self, Command, CommandError, Context, ExchangeArgs, FicCommand};
use ficus::sandbox::{self, Sandbox, SandboxConfig};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ficus");

async fn demo(json_out: bool) -> (Sandbox, Context) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let ctx = Context::new(
        ficus::startup::sandbox::sandbox_signed(&sb, sandbox::seed::DEMO_ADMIN, false)
            .expect("signed in"),
        json_out,
    );
    (sb, ctx)
}

/// Runs a command; its stdout and result.
async fn run(ctx: &Context, command: Command) -> (String, Result<(), CommandError>) {
    let mut out = Vec::new();
    let result = commands::execute(ctx, &command, &mut out).await;
    (String::from_utf8(out).expect("utf8"), result)
}

async fn run_json(ctx: &Context, command: Command) -> Value {
    let (text, result) = run(ctx, command).await;
    result.unwrap_or_else(|e| panic!("{e}: {text}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON ({e}): {text}"))
}

fn fic_list(app: &str) -> Command {
    Command::Fic(FicCommand::List { app: app.into() })
}

/// Every object key outside token claims/headers, Graph request bodies and export texts.
fn keys(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                found.push(format!("{path}.{k}"));
                if !["claims", "header", "body", "exports"].contains(&k.as_str()) {
                    keys(v, &format!("{path}.{k}"), found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, path, found)),
        _ => {}
    }
}

fn assert_camel_case(what: &str, value: &Value) {
    let mut found = Vec::new();
    keys(value, "", &mut found);
    let snake: Vec<&String> = found.iter().filter(|k| k.contains('_')).collect();
    assert!(snake.is_empty(), "{what}: snake_case keys {snake:?}");
}

/// A new app registration in the sandbox's directory (its Graph has no `POST /applications`,
/// so it is written the way the sandbox's own tests write state).
fn create_app(sb: &Sandbox, name: &str) -> String {
    use ficus::sandbox::model::{Application, Timestamp};
    let app_id = uuid::Uuid::new_v4();
    sb.state().update(|d| {
        let t = d.tenant_mut(sandbox::seed::CONTOSO).expect("contoso");
        t.insert_application(Application {
            id: uuid::Uuid::new_v4(),
            app_id,
            display_name: name.to_string(),
            description: None,
            created_date_time: Timestamp::now(),
            sign_in_audience: "AzureADMyOrg".into(),
            identifier_uris: Vec::new(),
            publisher_domain: None,
            password_credentials: Vec::new(),
            key_credentials: Vec::new(),
            federated_identity_credentials: Vec::new(),
            app_roles: Vec::new(),
            is_fallback_public_client: false,
            owners: Vec::new(),
            api: Default::default(),
        });
    });
    app_id.to_string()
}

#[tokio::test]
async fn json_keys_are_camel_case_in_every_command() {
    let (sb, ctx) = demo(true).await;
    let ids = run_json(&ctx, Command::Identities { filter: None }).await;
    let principal = ids[0]["principalId"]
        .as_str()
        .expect("principal")
        .to_string();
    let commands = vec![
        ("apps", Command::Apps { filter: None }),
        ("identities", Command::Identities { filter: None }),
        (
            "whois",
            Command::Whois {
                guid: principal.clone(),
            },
        ),
        ("fic list", fic_list("reporting-portal")),
        (
            "fic add --dry-run",
            Command::Fic(FicCommand::Add {
                app: "billing-worker".into(),
                identity: "id-payments".into(),
                name: None,
                description: None,
                dry_run: true,
                force: false,
            }),
        ),
        ("whoami", Command::Whoami),
        (
            "explain",
            Command::Explain {
                text: vec!["AADSTS700213".into()],
            },
        ),
    ];
    for (what, command) in commands {
        let v = run_json(&ctx, command).await;
        assert_camel_case(what, &v);
    }
    let whoami = run_json(&ctx, Command::Whoami).await;
    assert!(whoami["signedInVia"].is_string(), "{whoami}");
    let who = run_json(
        &ctx,
        Command::Whois {
            guid: principal.clone(),
        },
    )
    .await;
    assert!(who["matches"][0]["displayName"].is_string(), "{who}");

    // An exchange, refused and succeeded: its report (steps, error, diagnosis) too.
    for (app, identity) in [
        ("inventory-sync", "id-inventory"),
        ("payments-api", "id-payments"),
    ] {
        let (text, _) = run(
            &ctx,
            Command::Exchange(ExchangeArgs {
                app: app.into(),
                identity: identity.into(),
                scope: None,
                resource_tenant: None,
                token_file: None,
            }),
        )
        .await;
        let report: Value = serde_json::from_str(&text).expect("report JSON");
        assert_camel_case(app, &report);
        assert!(report["appClientId"].is_string(), "{report}");
    }
    let refused: Value = serde_json::from_str(
        &run(
            &ctx,
            Command::Exchange(ExchangeArgs {
                app: "inventory-sync".into(),
                identity: "id-inventory".into(),
                scope: None,
                resource_tenant: None,
                token_file: None,
            }),
        )
        .await
        .0,
    )
    .expect("report");
    assert!(refused["error"]["traceId"].is_string(), "{refused}");
    assert_eq!(refused["diagnosis"]["ficName"], "mi-id-inventory");

    // JSON errors on stderr, camelCase too.
    let mut err = Vec::new();
    let e = CommandError::Entra(ficus::entra::EntraError::Sts(Box::new(
        ficus::entra::StsError::without_body(400, "invalid_request".into(), "x".into(), "e"),
    )));
    commands::report_error(&e, true, &mut err);
    let v: Value = serde_json::from_slice(&err).expect("JSON error");
    assert_camel_case("error", &v);
    sb.shutdown().await;
}

#[tokio::test]
async fn lists_are_sorted_by_name() {
    let (sb, ctx) = demo(true).await;
    for name in ["zeta-sorted", "Alpha-sorted", "beta-sorted"] {
        create_app(&sb, name);
    }
    let apps = run_json(&ctx, Command::Apps { filter: None }).await;
    let names: Vec<String> = apps
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["displayName"].as_str().expect("name").to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "apps by displayName, case-insensitive");
    let tools: Vec<&String> = names.iter().filter(|n| n.ends_with("-sorted")).collect();
    assert_eq!(tools, ["Alpha-sorted", "beta-sorted", "zeta-sorted"]);

    let ids = run_json(&ctx, Command::Identities { filter: None }).await;
    let names: Vec<&str> = ids
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted);

    // FICs by name, whatever order Graph keeps them in.
    for (identity, name) in [
        ("id-payments", "zz-payments"),
        ("id-reporting", "aa-reporting"),
    ] {
        run_json(
            &ctx,
            Command::Fic(FicCommand::Add {
                app: "billing-worker".into(),
                identity: identity.into(),
                name: Some(name.into()),
                description: None,
                dry_run: false,
                force: true,
            }),
        )
        .await;
    }
    let listed = run_json(&ctx, fic_list("billing-worker")).await;
    let names: Vec<&str> = listed["fics"]
        .as_array()
        .expect("fics")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["aa-reporting", "zz-payments"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn identities_filter_like_apps_filter() {
    let (sb, ctx) = demo(true).await;
    let all = run_json(&ctx, Command::Identities { filter: None }).await;
    let inventory = all
        .as_array()
        .expect("array")
        .iter()
        .find(|i| i["name"] == "id-inventory")
        .expect("id-inventory")
        .clone();
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|i| i["name"].as_str().expect("name").to_string())
            .collect()
    };
    let by_name = run_json(
        &ctx,
        Command::Identities {
            filter: Some("INVENTORY".into()),
        },
    )
    .await;
    assert_eq!(names(&by_name), ["id-inventory"]);
    let client_id = inventory["clientId"].as_str().expect("client id");
    let by_client = run_json(
        &ctx,
        Command::Identities {
            filter: Some(client_id.to_uppercase()),
        },
    )
    .await;
    assert_eq!(names(&by_client), ["id-inventory"]);
    let none = run_json(
        &ctx,
        Command::Identities {
            filter: Some("no-such-identity".into()),
        },
    )
    .await;
    assert_eq!(none, json!([]));
    sb.shutdown().await;
}

#[tokio::test]
async fn fic_list_json_carries_each_fics_rule_findings() {
    let (sb, ctx) = demo(true).await;
    // The trailing slash on the issuer: an error finding with a fix.
    let reporting = run_json(&ctx, fic_list("reporting-portal")).await;
    let fic = &reporting["fics"][0];
    assert_eq!(fic["name"], "mi-id-reporting");
    let findings = fic["findings"].as_array().expect("findings");
    let issuer = findings
        .iter()
        .find(|f| f["field"] == "issuer")
        .unwrap_or_else(|| panic!("an issuer finding: {findings:?}"));
    assert_eq!(issuer["severity"], "error");
    assert!(issuer["message"].as_str().expect("message").contains('/'));
    assert_eq!(issuer["fix"]["field"], "issuer");
    assert!(
        !issuer["fix"]["value"]
            .as_str()
            .expect("fixed issuer")
            .ends_with('/'),
        "{issuer}"
    );
    // The client id as subject: an error on the subject.
    let inventory = run_json(&ctx, fic_list("inventory-sync")).await;
    let subject = inventory["fics"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["field"] == "subject")
        .cloned()
        .expect("a subject finding");
    assert_eq!(subject["severity"], "error");
    // A correct FIC: no findings, but the key is there.
    let payments = run_json(&ctx, fic_list("payments-api")).await;
    assert_eq!(payments["fics"][0]["findings"], json!([]));
    sb.shutdown().await;
}

#[tokio::test]
async fn failures_write_nothing_on_stdout() {
    let (sb, ctx) = demo(false).await;
    let (out, result) = run(
        &ctx,
        Command::Whois {
            guid: "5f0c1c52-0000-4000-8000-000000000000".into(),
        },
    )
    .await;
    assert!(result.is_err());
    assert_eq!(out, "", "unknown GUID");
    let (out, result) = run(&ctx, fic_list("no-such-app")).await;
    assert!(result.is_err());
    assert_eq!(out, "", "unknown app");
    // A refused FIC (system-assigned identity): the findings go with the error, on stderr.
    let (out, result) = run(
        &ctx,
        Command::Fic(FicCommand::Add {
            app: "billing-worker".into(),
            identity: "vm-legacy".into(),
            name: None,
            description: None,
            dry_run: false,
            force: true,
        }),
    )
    .await;
    let e = result.expect_err("refused");
    assert_eq!(out, "", "refused FIC");
    let mut err = Vec::new();
    commands::report_error(&e, false, &mut err);
    let err = String::from_utf8(err).expect("utf8");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("[identity]") || err.contains("[subject]"),
        "{err}"
    );

    // The binary: a JSON error on stderr, stdout empty.
    let out = tokio::process::Command::new(BIN)
        .args([
            "--sandbox",
            "--json",
            "whois",
            "5f0c1c52-0000-4000-8000-000000000000",
        ])
        .env_remove("FICUS_TENANT")
        .output()
        .await
        .expect("ficus runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err: Value = serde_json::from_slice(&out.stderr).expect("JSON error");
    assert!(
        err["error"]["message"]
            .as_str()
            .expect("message")
            .contains("names nothing")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn dates_are_absolute_beside_relative() {
    let (sb, ctx) = demo(false).await;
    let (text, result) = run(
        &ctx,
        Command::Apps {
            filter: Some("payments".into()),
        },
    )
    .await;
    result.expect("apps");
    // The seed created payments-api a while ago: `2026-…-… hh:mm UTC (N days ago)`, in the
    // words of core's one relative-time function.
    let row = text
        .lines()
        .find(|l| l.starts_with("payments-api"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(" UTC ("), "{row}");
    assert!(row.trim_end().ends_with(" ago)"), "{row}");
    let (text, result) = run(&ctx, Command::Whoami).await;
    result.expect("whoami");
    let line = text
        .lines()
        .find(|l| l.starts_with("token:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(" UTC (in "), "{line}");
    sb.shutdown().await;
}

#[tokio::test]
async fn bidi_controls_in_display_names_are_stripped_from_text() {
    let (sb, ctx) = demo(false).await;
    // Reads as `payroll-exe.txt` in a bidi-aware terminal if the override reaches it.
    let name = "payroll-\u{202E}txt.exe";
    let app_id = create_app(&sb, name);
    let (apps, result) = run(
        &ctx,
        Command::Apps {
            filter: Some("payroll".into()),
        },
    )
    .await;
    result.expect("apps");
    let (fics, result) = run(&ctx, fic_list(&app_id)).await;
    result.expect("fic list");
    for (what, text) in [("apps", &apps), ("fic list", &fics)] {
        assert!(!text.contains('\u{202E}'), "{what} leaks U+202E: {text:?}");
        assert!(
            text.contains("payroll-txt.exe"),
            "{what} shows the name without the override: {text:?}"
        );
    }
    // JSON is data, not terminal text: the name is kept exactly (escaped by the encoder).
    let json_ctx = Context::new(
        ficus::startup::sandbox::sandbox_signed(&sb, sandbox::seed::DEMO_ADMIN, false)
            .expect("signed in"),
        true,
    );
    let apps = run_json(
        &json_ctx,
        Command::Apps {
            filter: Some("payroll".into()),
        },
    )
    .await;
    assert_eq!(apps[0]["displayName"], name);
    sb.shutdown().await;
}

async fn ficus_bin(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("FICUS_TENANT")
        .env_remove("FICUS_CLOUD")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("ficus runs")
}

#[tokio::test]
async fn fic_rm_without_a_terminal_needs_yes() {
    // stdin is not a terminal: refused before anything is deleted, with the flag to pass.
    let out = ficus_bin(&["--sandbox", "fic", "rm", "payments-api", "mi-id-payments"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pass --yes"), "{err}");

    let out = ficus_bin(&[
        "--sandbox",
        "--json",
        "fic",
        "rm",
        "payments-api",
        "mi-id-payments",
        "--yes",
    ])
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["deleted"]["name"], "mi-id-payments");
}
