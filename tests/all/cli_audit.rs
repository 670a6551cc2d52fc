//! `ficus audit` against the in-process sandbox: on the demo tenant it finds exactly the
//! seeded problems and nothing on the correct apps; every kind of finding is reported once
//! its situation is created (FICs through Graph; identities deleted and recreated, and what
//! Graph refuses to write, through the sandbox's state, as its own tests do); the text,
//! Markdown and JSON reports and `--fail-on`.

use std::collections::BTreeSet;

use ficus::commands::{self, Command, CommandError, Context};
use ficus::fic::{self, Fic};
use ficus::sandbox::model::{Application, ServicePrincipal, Timestamp};
use ficus::sandbox::{self, Sandbox, SandboxConfig, seed};
use serde_json::Value;
use uuid::Uuid;

async fn demo(json_out: bool) -> (Sandbox, Context) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let ctx = Context::new(
        ficus::startup::sandbox::sandbox_signed(&sb, seed::DEMO_ADMIN, false).expect("signed in"),
        json_out,
    );
    (sb, ctx)
}

fn audit(markdown: bool, fail_on: Option<&str>) -> Command {
    Command::Audit {
        markdown,
        fail_on: fail_on.map(str::to_string),
    }
}

async fn run(ctx: &Context, command: Command) -> (String, Result<(), CommandError>) {
    let mut out = Vec::new();
    let result = commands::execute(ctx, &command, &mut out).await;
    (String::from_utf8(out).expect("utf8"), result)
}

async fn audit_json(ctx: &Context) -> Value {
    let (text, result) = run(ctx, audit(false, None)).await;
    result.unwrap_or_else(|e| panic!("{e}: {text}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON ({e}): {text}"))
}

/// `(kind, app or identity name)` of every finding.
fn found(report: &Value) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let object = f["app"]["displayName"]
                .as_str()
                .or_else(|| f["identity"]["name"].as_str())
                .expect("an object");
            (
                f["kind"].as_str().expect("kind").to_string(),
                object.to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(k, o)| (k.to_string(), o.to_string()))
        .collect()
}

/// What the demo seed teaches, as the audit must report it.
const DEMO_FINDINGS: [(&str, &str); 9] = [
    ("clientIdAsSubject", "inventory-sync"),
    ("issuerTrailingSlash", "reporting-portal"),
    ("audienceOtherCloud", "gov-exporter"),
    ("subjectCase", "orders-api"),
    ("secretExpired", "billing-worker"),
    ("certificateExpiresWithin30Days", "legacy-crm"),
    ("secretExpiresWithin30Days", "payments-api"),
    ("leftoverSecret", "payments-api"),
    ("untrustedIdentity", "id-orphan"),
];

#[tokio::test]
async fn the_demo_tenant_has_exactly_its_seeded_problems() {
    let (sb, ctx) = demo(true).await;
    let report = audit_json(&ctx).await;
    assert_eq!(found(&report), pairs(&DEMO_FINDINGS), "{report:#}");
    assert_eq!(report["summary"]["total"], 9);
    assert_eq!(report["summary"]["error"], 5);
    assert_eq!(report["scanned"]["identities"], 5);
    assert!(report["scanned"]["apps"].as_u64().expect("apps") >= 45);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings[0]["severity"], "error", "worst first");
    let inventory = findings
        .iter()
        .find(|f| f["kind"] == "clientIdAsSubject")
        .expect("inventory-sync");
    let (inventory_principal, inventory_client) = seed::identity_ids(seed::CONTOSO, "id-inventory");
    assert_eq!(inventory["fic"]["name"], "mi-id-inventory");
    assert_eq!(inventory["fic"]["subject"], inventory_client.to_string());
    assert_eq!(inventory["field"], "subject");
    assert_eq!(inventory["identity"]["name"], "id-inventory");
    assert_eq!(inventory["fix"]["field"], "subject");
    assert_eq!(inventory["fix"]["value"], inventory_principal.to_string());
    let legacy = findings
        .iter()
        .find(|f| f["kind"] == "certificateExpiresWithin30Days")
        .expect("legacy-crm");
    assert_eq!(legacy["credential"]["type"], "certificate");
    assert!(
        legacy["credential"]["endDateTime"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z'))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn text_and_markdown_reports_group_by_kind_and_fail_on_sets_the_status() {
    let (sb, ctx) = demo(false).await;
    let (text, result) = run(&ctx, audit(false, None)).await;
    result.expect("a report is not a failure without --fail-on");
    assert!(
        text.contains("9 finding(s), 5 error(s), 3 warning(s), 1 info"),
        "{text}"
    );
    let client = text
        .find("✗ Subject is the identity's client id (1) [clientIdAsSubject]")
        .expect("the group heading");
    let untrusted = text
        .find("· Managed identities no app trusts (1) [untrustedIdentity]")
        .expect("the info group");
    assert!(client < untrusted, "worst first:\n{text}");
    assert!(
        text.contains("inventory-sync · FIC 'mi-id-inventory' · subject"),
        "{text}"
    );
    assert!(
        text.contains("fix: use the principal id of id-inventory"),
        "{text}"
    );

    let (markdown, result) = run(&ctx, audit(true, None)).await;
    result.expect("markdown");
    assert!(markdown.starts_with("# Tenant health: "), "{markdown}");
    assert!(
        markdown.contains("| ✗ error | Expired secrets (`secretExpired`) | 1 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("## Secrets beside a working Managed Identity FIC (1)"),
        "{markdown}"
    );

    let (_, result) = run(&ctx, audit(false, Some("error"))).await;
    match result {
        Err(CommandError::Reported(message)) => {
            assert_eq!(message, "5 finding(s) at or above error (--fail-on error)")
        }
        other => panic!("--fail-on error fails on the demo's errors: {other:?}"),
    }
    let (_, result) = run(&ctx, audit(false, Some("warning"))).await;
    assert!(
        matches!(&result, Err(CommandError::Reported(m)) if m.starts_with("8 finding(s)")),
        "{result:?}"
    );
    sb.shutdown().await;
}

/// An app registration written into the sandbox's state (its Graph has no POST
/// /applications); its object id.
fn create_app(sb: &Sandbox, name: &str) -> String {
    let id = Uuid::new_v4();
    sb.state().update(|d| {
        let t = d.tenant_mut(seed::CONTOSO).expect("contoso");
        t.insert_application(Application {
            id,
            app_id: Uuid::new_v4(),
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
    id.to_string()
}

/// A new user-assigned identity named `name` (ARM's side: written into the state); its
/// principal id.
fn create_identity(sb: &Sandbox, name: &str) -> Uuid {
    let template = seed::identity_ids(seed::CONTOSO, "id-orphan").0;
    let principal = Uuid::new_v4();
    sb.state().update(|d| {
        let t = d.tenant_mut(seed::CONTOSO).expect("contoso");
        let mut sp: ServicePrincipal = t
            .service_principals
            .get(&template)
            .expect("id-orphan")
            .clone();
        sp.id = principal;
        sp.app_id = Uuid::new_v4();
        sp.display_name = name.to_string();
        for alternative in &mut sp.alternative_names {
            if alternative.starts_with("/subscriptions/") {
                *alternative = alternative.replace("id-orphan", name);
            }
        }
        if let Some(mi) = sp.managed_identity.as_mut() {
            mi.name = name.to_string();
            mi.resource_id = mi.resource_id.replace("id-orphan", name);
        }
        t.insert_service_principal(sp);
    });
    principal
}

fn delete_identity(sb: &Sandbox, principal: Uuid) {
    sb.state().update(|d| {
        let t = d.tenant_mut(seed::CONTOSO).expect("contoso");
        t.remove_service_principal(principal).expect("identity");
    });
}

fn value_fic(name: &str, issuer: &str, subject: &str, audience: &str) -> Fic {
    Fic {
        id: None,
        name: name.into(),
        issuer: issuer.into(),
        subject: subject.into(),
        audiences: vec![audience.into()],
        description: None,
    }
}

/// The findings of one kind: `(object name, FIC name)`.
fn of_kind(report: &Value, kind: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| {
            (
                f["app"]["displayName"]
                    .as_str()
                    .or_else(|| f["identity"]["name"].as_str())
                    .unwrap_or("")
                    .to_string(),
                f["fic"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn one(app: &str, fic: &str) -> Vec<(String, String)> {
    vec![(app.to_string(), fic.to_string())]
}

#[tokio::test]
async fn deleting_or_recreating_a_trusted_identity_orphans_its_trust() {
    let (sb, ctx) = demo(true).await;
    let graph = ctx.session.graph();
    let tenant = seed::tenant_id(seed::CONTOSO).to_string();
    let cloud = ctx.session.cloud.clone();
    let app = create_app(&sb, "orphan-lab");
    let app_ref = fic::AppRef {
        app_id: "x".into(),
        display_name: "orphan-lab".into(),
    };
    let before = create_identity(&sb, "id-lab-recreated");
    let gone = create_identity(&sb, "id-lab-deleted");
    for identity in graph
        .list_managed_identities()
        .await
        .expect("identities")
        .iter()
        .filter(|i| i.name.starts_with("id-lab-"))
    {
        let draft = fic::managed_identity_fic(&cloud, &tenant, &app_ref, identity, &[]);
        graph.create_fic(&app, &draft).await.expect("created");
    }
    let report = audit_json(&ctx).await;
    assert_eq!(
        of_kind(&report, "orphanedTrust"),
        vec![],
        "both trusts work"
    );

    delete_identity(&sb, gone);
    delete_identity(&sb, before);
    let after = create_identity(&sb, "id-lab-recreated");
    let report = audit_json(&ctx).await;
    let orphans: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "orphanedTrust")
        .collect();
    assert_eq!(orphans.len(), 2, "{report:#}");
    let recreated = orphans
        .iter()
        .find(|f| f["fic"]["name"] == "mi-id-lab-recreated")
        .expect("recreated");
    assert_eq!(recreated["severity"], "error");
    assert_eq!(recreated["fic"]["subject"], before.to_string());
    assert_eq!(recreated["fix"]["value"], after.to_string());
    assert!(
        recreated["message"]
            .as_str()
            .is_some_and(|m| m.contains("recreated")),
        "{recreated:#}"
    );
    let deleted = orphans
        .iter()
        .find(|f| f["fic"]["name"] == "mi-id-lab-deleted")
        .expect("deleted");
    assert!(deleted["fix"].is_null());
    assert!(
        deleted["message"]
            .as_str()
            .is_some_and(|m| m.contains("deleted")),
        "{deleted:#}"
    );
    // The recreated identity is named by no FIC now.
    assert!(
        of_kind(&report, "untrustedIdentity").contains(&("id-lab-recreated".into(), "".into()))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn each_kind_of_fic_finding_is_reported_once_created_through_graph() {
    let (sb, ctx) = demo(true).await;
    let graph = ctx.session.graph();
    let cloud = ctx.session.cloud.clone();
    let tenant = seed::tenant_id(seed::CONTOSO).to_string();
    let issuer = cloud.issuer(&tenant);
    let exchange = cloud.exchange_audience.clone();
    let github = "https://token.actions.githubusercontent.com";
    let twice = create_identity(&sb, "id-lab-twice").to_string();
    let app = create_app(&sb, "fic-lab");
    let other_tenant = Uuid::new_v4().to_string();
    let writes = [
        value_fic(
            "pr-trap",
            github,
            "repo:contoso/api:pull-request",
            &exchange,
        ),
        value_fic(
            "env-trap",
            github,
            "repo:contoso/api:environment:refs/heads/prod",
            &exchange,
        ),
        value_fic("ref-trap", github, "repo:contoso/api:ref:main", &exchange),
        value_fic(
            "slash-trap",
            &format!("{github}/"),
            "repo:contoso/api:ref:refs/heads/main",
            &exchange,
        ),
        value_fic(
            "k8s-trap",
            "https://westeurope.oic.prod-aks.azure.com/t/c/",
            "system:serviceaccount:payments",
            &exchange,
        ),
        value_fic("twice-a", &issuer, &twice, &exchange),
        value_fic("twice-b", &format!("{issuer}/"), &twice, &exchange),
        value_fic(
            "other-tenant",
            &cloud.issuer(&other_tenant),
            &Uuid::new_v4().to_string(),
            &exchange,
        ),
        value_fic(
            "guid-audience",
            &issuer,
            &seed::identity_ids(seed::CONTOSO, "id-payments")
                .0
                .to_string(),
            ficus::cloud::TOKEN_EXCHANGE_APP_ID,
        ),
        value_fic("padded", &issuer, &format!("{twice} "), &exchange),
    ];
    for fic in &writes {
        graph
            .create_fic(&app, fic)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", fic.name));
    }
    // An app filled to Graph's limit, and one near it.
    let full = create_app(&sb, "full-lab");
    let near = create_app(&sb, "near-lab");
    for i in 0..20 {
        let fic = value_fic(
            &format!("gh-{i}"),
            github,
            &format!("repo:contoso/r{i}:ref:refs/heads/main"),
            &exchange,
        );
        graph.create_fic(&full, &fic).await.expect("full");
        if i < 16 {
            graph.create_fic(&near, &fic).await.expect("near");
        }
    }
    let report = audit_json(&ctx).await;
    assert_eq!(
        of_kind(&report, "githubPullRequest"),
        one("fic-lab", "pr-trap")
    );
    assert_eq!(
        of_kind(&report, "githubEnvironmentAsBranch"),
        one("fic-lab", "env-trap")
    );
    assert_eq!(
        of_kind(&report, "githubSubjectForm"),
        one("fic-lab", "ref-trap")
    );
    assert_eq!(
        of_kind(&report, "kubernetesSubject"),
        one("fic-lab", "k8s-trap")
    );
    assert_eq!(
        of_kind(&report, "issuerTrailingSlash"),
        vec![
            ("fic-lab".to_string(), "slash-trap".to_string()),
            ("fic-lab".into(), "twice-b".into()),
            ("reporting-portal".into(), "mi-id-reporting".into()),
        ]
    );
    let twice: Vec<String> = of_kind(&report, "identityTrustedTwice")
        .into_iter()
        .map(|(app, _)| app)
        .collect();
    assert_eq!(
        twice,
        vec!["fic-lab".to_string()],
        "twice-a, twice-b and padded all name id-lab-twice: one finding"
    );
    assert_eq!(
        of_kind(&report, "issuerOtherTenant"),
        one("fic-lab", "other-tenant")
    );
    assert_eq!(
        of_kind(&report, "audienceForm"),
        one("fic-lab", "guid-audience")
    );
    assert_eq!(of_kind(&report, "whitespace"), one("fic-lab", "padded"));
    let limits: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "ficLimit")
        .map(|f| {
            (
                f["app"]["displayName"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        limits,
        vec![
            ("full-lab".to_string(), "warning".to_string()),
            ("near-lab".into(), "info".into())
        ]
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn what_graph_refuses_to_write_and_credentials_are_reported_too() {
    use ficus::sandbox::model::{FederatedIdentityCredential, KeyCredential, PasswordCredential};
    let (sb, ctx) = demo(true).await;
    let app = create_app(&sb, "cred-lab");
    let (payments, _) = seed::identity_ids(seed::CONTOSO, "id-payments");
    let issuer = ctx
        .session
        .cloud
        .issuer(&seed::tenant_id(seed::CONTOSO).to_string());
    let now = time::OffsetDateTime::now_utc();
    let days = |n: i64| Timestamp(now + time::Duration::days(n));
    sb.state().update(|d| {
        let t = d.tenant_mut(seed::CONTOSO).expect("contoso");
        let id: Uuid = app.parse().expect("uuid");
        let mut a = t.application(id).expect("app").clone();
        // Graph refuses a second FIC with the same issuer and subject; older data may hold one.
        for name in ["copy-one", "copy-two"] {
            a.federated_identity_credentials
                .push(FederatedIdentityCredential {
                    id: Uuid::new_v4(),
                    name: name.into(),
                    issuer: issuer.clone(),
                    subject: payments.to_string(),
                    audiences: vec!["api://AzureADTokenExchange".into()],
                    description: None,
                    created_at: Timestamp::now(),
                });
        }
        a.password_credentials.push(PasswordCredential {
            key_id: Uuid::new_v4(),
            display_name: Some("rotate-me".into()),
            hint: "abc".into(),
            start_date_time: days(-300),
            end_date_time: days(60),
            secret_text: ficus::secret::Secret::new("not-a-real-secret".to_string()),
        });
        for (name, end) in [("CN=old", -2), ("CN=later", 80)] {
            a.key_credentials.push(KeyCredential {
                key_id: Uuid::new_v4(),
                display_name: Some(name.into()),
                key_type: "AsymmetricX509Cert".into(),
                usage: "Verify".into(),
                custom_key_identifier: "AAAA".into(),
                start_date_time: days(-400),
                end_date_time: days(end),
                key: None,
            });
        }
        t.insert_application(a);
    });
    let report = audit_json(&ctx).await;
    assert_eq!(
        of_kind(&report, "duplicateTrust"),
        one("cred-lab", "copy-two")
    );
    assert_eq!(of_kind(&report, "identityTrustedTwice"), vec![]);
    assert_eq!(
        of_kind(&report, "secretExpiresWithin90Days"),
        one("cred-lab", "")
    );
    assert_eq!(of_kind(&report, "certificateExpired"), one("cred-lab", ""));
    assert_eq!(
        of_kind(&report, "certificateExpiresWithin90Days"),
        one("cred-lab", "")
    );
    assert!(
        of_kind(&report, "leftoverSecret").contains(&("cred-lab".into(), "".into())),
        "a secret beside working FICs"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_binary_prints_the_report_then_exits_by_fail_on() {
    const BIN: &str = env!("CARGO_BIN_EXE_ficus");
    let run = |args: &'static [&'static str]| async move {
        tokio::process::Command::new(BIN)
            .args(args)
            .env_remove("FICUS_TENANT")
            .env_remove("FICUS_CLOUD")
            .env("NO_COLOR", "1")
            .output()
            .await
            .expect("ficus runs")
    };
    let out = run(&[
        "--sandbox",
        "--read-only",
        "--json",
        "audit",
        "--fail-on",
        "warning",
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "warnings fail --fail-on warning"
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("the report on stdout");
    assert_eq!(found(&report), pairs(&DEMO_FINDINGS));
    let error: Value = serde_json::from_slice(&out.stderr).expect("JSON error on stderr");
    assert_eq!(error["error"]["kind"], "failed");
    assert_eq!(
        error["error"]["message"],
        "8 finding(s) at or above warning (--fail-on warning)"
    );

    let out = run(&["--sandbox", "audit", "--markdown"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "no --fail-on: a report is a success"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("## Subject is the identity's client id (1)"),
        "{text}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
