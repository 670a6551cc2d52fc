//! Sign-in evidence and the secretless migration, headless, against the in-process sandbox and
//! its seeded history: `signins`, `secret list|rm` (refused while the secret is in use, allowed
//! once quiet, refused read-only), the migration of billing-worker end to end, the licence
//! message, and a deleted FIC restored from the history journal.

use ficus::commands::evidence::{
    FailingArgs, HistoryAction, HistoryArgs, SecretCommand, SigninsArgs, journal, parse_age,
};
use ficus::commands::{self, Command, CommandError, Context, ExchangeArgs, FicCommand};
use ficus::sandbox::{self, Sandbox, SandboxConfig};
use ficus::startup::history::Change;
use serde_json::Value;

async fn session(tenant: &str, admin: &str, read_only: bool) -> (Sandbox, Context) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let tenant_id = sandbox::seed::tenant_id(tenant).to_string();
    let signed = ficus::startup::sandbox::sandbox_signed_in(&sb, &tenant_id, admin, read_only)
        .expect("signed in");
    (sb, Context::new(signed, true))
}

async fn demo() -> (Sandbox, Context) {
    session("contoso", sandbox::seed::DEMO_ADMIN, false).await
}

async fn run(ctx: &Context, command: Command) -> Result<Value, CommandError> {
    let mut out = Vec::new();
    commands::execute(ctx, &command, &mut out).await?;
    let text = String::from_utf8(out).expect("utf8");
    Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON ({e}): {text}")))
}

fn secret_rm(app: &str, key_id: &str, force: bool) -> Command {
    Command::Secret(SecretCommand::Rm {
        app: app.into(),
        key_id: key_id.into(),
        yes: true,
        force,
        quiet: "7d".into(),
    })
}

fn key_id(app: &str) -> String {
    ficus::sandbox::model::derived_uuid(&format!("contoso/secret-id/{app}")).to_string()
}

#[test]
fn ages_parse_with_their_unit() {
    assert_eq!(parse_age("7d").expect("7d"), time::Duration::days(7));
    assert_eq!(parse_age("36h").expect("36h"), time::Duration::hours(36));
    assert!(parse_age("7").is_err());
    assert!(parse_age("-1d").is_err());
    assert!(parse_age("soon").is_err());
}

#[tokio::test]
async fn signins_name_the_credential_and_filter_failures() {
    let (sb, ctx) = demo().await;
    let all = run(
        &ctx,
        Command::Signins(SigninsArgs {
            app: "payments-api".into(),
            since: "3d".into(),
            failed: false,
        }),
    )
    .await
    .expect("signins");
    let list = all["signIns"].as_array().expect("signIns");
    assert!(
        list.iter()
            .any(|s| s["credential"] == "secret payments-api secret")
    );
    assert!(list.iter().any(|s| s["credential"] == "FIC mi-id-payments"));
    assert!(
        list.iter()
            .all(|s| s["appDisplayName"] == "payments-api" && s["status"]["errorCode"] == 0)
    );

    let failed = run(
        &ctx,
        Command::Signins(SigninsArgs {
            app: "inventory-sync".into(),
            since: "24h".into(),
            failed: true,
        }),
    )
    .await
    .expect("signins");
    let list = failed["signIns"].as_array().expect("signIns");
    assert!(list.len() >= 280, "a day of failures: {}", list.len());
    assert!(list.iter().all(|s| s["status"]["errorCode"] == 700213));
    assert_eq!(
        list[0]["credential"],
        "federated assertion (no FIC matched)"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_tenant_without_p1_says_so_and_the_rest_works() {
    let (sb, ctx) = session("fabrikam", sandbox::seed::FABRIKAM_ADMIN, false).await;
    let err = run(
        &ctx,
        Command::Signins(SigninsArgs {
            app: "fabrikam-erp".into(),
            since: "7d".into(),
            failed: false,
        }),
    )
    .await
    .expect_err("no licence");
    assert_eq!(
        err.to_string(),
        "this tenant has no Entra ID P1/P2: sign-in evidence is unavailable; everything else works"
    );
    let apps = run(&ctx, Command::Apps { filter: None })
        .await
        .expect("apps still work");
    assert!(apps.as_array().is_some_and(|a| !a.is_empty()));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_secret_in_use_is_kept_unless_forced() {
    let (sb, ctx) = demo().await;
    let listed = run(
        &ctx,
        Command::Secret(SecretCommand::List {
            app: "payments-api".into(),
        }),
    )
    .await
    .expect("list");
    let secret = &listed["secrets"][0];
    assert_eq!(secret["keyId"], key_id("payments-api"));
    assert!(secret["uses"].as_u64().is_some_and(|n| n >= 28), "{secret}");
    assert!(secret["lastUsed"].as_str().is_some());

    let refused = run(
        &ctx,
        secret_rm("payments-api", &key_id("payments-api"), false),
    )
    .await
    .expect_err("used yesterday");
    let message = refused.to_string();
    assert!(
        message.contains("within the quiet period of 7 days"),
        "{message}"
    );
    assert!(message.contains("--force"), "{message}");

    let removed = run(
        &ctx,
        secret_rm("payments-api", &key_id("payments-api"), true),
    )
    .await
    .expect("forced");
    assert_eq!(removed["removed"]["keyId"], key_id("payments-api"));
    assert!(
        removed["request"]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/removePassword"))
    );
    sb.shutdown().await;

    // Read-only: refused before anything is asked.
    let (sb, ctx) = session("contoso", sandbox::seed::DEMO_ADMIN, true).await;
    let err = run(
        &ctx,
        secret_rm("billing-worker", &key_id("billing-worker"), true),
    )
    .await
    .expect_err("read-only");
    assert!(err.to_string().contains("read-only"), "{err}");
    sb.shutdown().await;
}

/// The migration on billing-worker: add the identity's FIC, prove the exchange, watch the
/// evidence (the FIC in use, the secret quiet for 35 days), remove the secret; the journal
/// holds both writes, and the secret's removal cannot be restored.
#[tokio::test]
async fn billing_worker_migrates_to_its_fic_end_to_end() {
    let (sb, ctx) = demo().await;
    let created = run(
        &ctx,
        Command::Fic(FicCommand::Add {
            app: "billing-worker".into(),
            identity: "id-payments".into(),
            name: None,
            description: None,
            dry_run: false,
            force: false,
        }),
    )
    .await
    .expect("FIC added");
    let fic_name = created["created"]["name"]
        .as_str()
        .expect("name")
        .to_string();
    run(
        &ctx,
        Command::Exchange(ExchangeArgs {
            app: "billing-worker".into(),
            identity: "id-payments".into(),
            scope: None,
            resource_tenant: None,
            token_file: None,
        }),
    )
    .await
    .expect("the exchange succeeds");

    let evidence = run(
        &ctx,
        Command::Signins(SigninsArgs {
            app: "billing-worker".into(),
            since: "1h".into(),
            failed: false,
        }),
    )
    .await
    .expect("signins");
    assert_eq!(
        evidence["signIns"][0]["credential"],
        format!("FIC {fic_name}"),
        "the exchange shows as the FIC's use"
    );

    let listed = run(
        &ctx,
        Command::Secret(SecretCommand::List {
            app: "billing-worker".into(),
        }),
    )
    .await
    .expect("list");
    assert_eq!(listed["secrets"][0]["uses"], 0, "quiet for 35 days");

    run(
        &ctx,
        secret_rm("billing-worker", &key_id("billing-worker"), false),
    )
    .await
    .expect("quiet: removed without --force");

    let history = journal(&ctx).expect("a journal");
    let entries = history.entries().expect("entries");
    let mine: Vec<(usize, &ficus::startup::history::Entry)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.app_display_name == "billing-worker")
        .map(|(i, e)| (i + 1, e))
        .collect();
    assert!(
        mine.iter().any(
            |(_, e)| matches!(&e.change, Change::FicCreated { after } if after.name == fic_name)
        )
    );
    let (removal, entry) = mine
        .iter()
        .find(|(_, e)| matches!(e.change, Change::SecretRemoved { .. }))
        .expect("the removal is journaled");
    assert_eq!(
        entry.tenant,
        sandbox::seed::tenant_id("contoso").to_string()
    );
    assert_eq!(entry.who, sandbox::seed::DEMO_ADMIN);
    let err = run(
        &ctx,
        Command::History(HistoryArgs {
            action: Some(HistoryAction::Restore {
                number: *removal,
                yes: true,
            }),
        }),
    )
    .await
    .expect_err("a removed secret cannot come back");
    assert!(err.to_string().contains("cannot come back"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_deleted_fic_is_restored_from_the_journal() {
    let (sb, ctx) = demo().await;
    run(
        &ctx,
        Command::Fic(FicCommand::Rm {
            app: "reporting-portal".into(),
            name: "mi-id-reporting".into(),
            yes: true,
        }),
    )
    .await
    .expect("deleted");
    let listed = run(&ctx, Command::History(HistoryArgs { action: None }))
        .await
        .expect("history");
    let number = listed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .rev()
        .find(|e| e["appDisplayName"] == "reporting-portal" && e["change"]["kind"] == "ficDeleted")
        .and_then(|e| e["number"].as_u64())
        .expect("the deletion is listed");
    run(
        &ctx,
        Command::History(HistoryArgs {
            action: Some(HistoryAction::Restore {
                number: usize::try_from(number).expect("small"),
                yes: true,
            }),
        }),
    )
    .await
    .expect("restored");
    let fics = run(
        &ctx,
        Command::Fic(FicCommand::List {
            app: "reporting-portal".into(),
        }),
    )
    .await
    .expect("fic list");
    let restored = fics["fics"]
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["name"] == "mi-id-reporting")
        .expect("back");
    assert!(
        restored["issuer"]
            .as_str()
            .is_some_and(|i| i.ends_with("/v2.0/")),
        "restored as it was, trailing slash included: {restored}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn failing_workloads_name_the_fic_at_fault() {
    let (sb, ctx) = demo().await;
    let answer = run(
        &ctx,
        Command::Failing(FailingArgs {
            since: "24h".into(),
        }),
    )
    .await
    .expect("failing");
    let list = answer["failingWorkloads"].as_array().expect("list");
    let inventory = list
        .iter()
        .find(|w| w["appDisplayName"] == "inventory-sync")
        .expect("inventory-sync fails");
    assert_eq!(inventory["count"], 288);
    assert_eq!(inventory["errorCode"], 700213);
    assert_eq!(inventory["identity"], "id-inventory");
    assert_eq!(inventory["fic"], "mi-id-inventory");
    let summary = inventory["summary"].as_str().expect("summary");
    assert!(
        summary.starts_with("inventory-sync has failed 288 times since "),
        "{summary}"
    );
    assert!(summary.contains("with AADSTS700213"), "{summary}");
    assert!(summary.contains("client id of id-inventory"), "{summary}");
    sb.shutdown().await;
}
