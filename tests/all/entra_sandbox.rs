//! Every headless command and the entra client against the in-process sandbox (demo seed),
//! called as a library: the classic mistakes of the seed, throttling, silent token renewal and
//! a network failure mid-paging.

use std::time::{Duration, Instant};

use ficus::commands::{self, CommandError, Context};
use ficus::commands::{Command, ExchangeArgs, FicCommand};
use ficus::entra::signin::{Credentials, Renewal, TokenSet};
use ficus::entra::{EntraError, GraphClient, NetworkErrorKind, Session};
use ficus::sandbox::{self, Faults, Sandbox, SandboxConfig, Seed};
use ficus::secret::Secret;
use futures_util::StreamExt;
use serde_json::Value;

async fn start(config: SandboxConfig) -> Sandbox {
    ficus::install_crypto_provider();
    sandbox::start(config).await.expect("sandbox starts")
}

/// A sandbox with `config` and a read-write context signed in as the demo admin.
async fn signed_in(config: SandboxConfig) -> (Sandbox, Context) {
    let sb = start(config).await;
    let ctx = ficus::commands::Context::new(
        ficus::startup::sandbox::sandbox_signed(&sb, sandbox::seed::DEMO_ADMIN, false)
            .expect("signed in to the sandbox"),
        true,
    );
    (sb, ctx)
}

fn with_faults(spec: &str) -> SandboxConfig {
    SandboxConfig {
        faults: Faults::parse(spec).expect("faults"),
        ..SandboxConfig::default()
    }
}

async fn demo() -> (Sandbox, Context) {
    signed_in(SandboxConfig::default()).await
}

fn fic_list(app: &str) -> Command {
    Command::Fic(FicCommand::List { app: app.into() })
}

fn whois(guid: impl Into<String>) -> Command {
    Command::Whois { guid: guid.into() }
}

/// The `kind` of every match in a `whois` answer.
fn match_kinds(who: &Value) -> Vec<&str> {
    who["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| m["kind"].as_str().expect("kind"))
        .collect()
}

/// `ficus exchange APP --identity IDENTITY` with the defaults (IMDS, Graph, home tenant).
fn exchange_args(app: &str, identity: &str) -> ExchangeArgs {
    ExchangeArgs {
        app: app.into(),
        identity: identity.into(),
        scope: None,
        resource_tenant: None,
        token_file: None,
    }
}

async fn run(ctx: &Context, command: Command) -> Result<Value, (CommandError, String)> {
    let mut out = Vec::new();
    let result = commands::execute(ctx, &command, &mut out).await;
    let text = String::from_utf8(out).expect("utf8");
    match result {
        Ok(()) => Ok(serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON ({e}): {text}"))),
        Err(e) => Err((e, text)),
    }
}

fn names(apps: &Value) -> Vec<String> {
    apps.as_array()
        .expect("array")
        .iter()
        .map(|a| a["displayName"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn apps_identities_and_whois() {
    let (sb, ctx) = demo().await;

    let apps = run(&ctx, Command::Apps { filter: None })
        .await
        .expect("apps");
    let all = names(&apps);
    for expected in [
        "payments-api",
        "inventory-sync",
        "reporting-portal",
        "billing-worker",
    ] {
        assert!(
            all.iter().any(|n| n == expected),
            "{expected} missing from {all:?}"
        );
    }
    let payments = apps
        .as_array()
        .expect("array")
        .iter()
        .find(|a| a["displayName"] == "payments-api")
        .expect("payments-api");
    assert_eq!(
        payments["ficCount"], 1,
        "FIC count from $expand: {payments}"
    );

    let filtered = run(
        &ctx,
        Command::Apps {
            filter: Some("INVENTORY".into()),
        },
    )
    .await
    .expect("filtered");
    assert_eq!(names(&filtered), vec!["inventory-sync"]);

    let ids = run(&ctx, Command::Identities { filter: None })
        .await
        .expect("identities");
    let ids = ids.as_array().expect("array");
    let find = |n: &str| {
        ids.iter()
            .find(|i| i["name"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(find("id-payments")["kind"], "userAssigned");
    assert_eq!(find("vm-legacy")["kind"], "systemAssigned");
    assert_eq!(find("id-payments")["resourceGroup"], "rg-workloads");
    assert!(
        find("id-orphan")["armId"]
            .as_str()
            .expect("arm")
            .contains("userAssignedIdentities/id-orphan")
    );

    let inventory = find("id-inventory");
    let client_id = inventory["clientId"]
        .as_str()
        .expect("client id")
        .to_string();
    let who = run(&ctx, whois(client_id.clone())).await.expect("whois");
    let kinds = match_kinds(&who);
    assert_eq!(kinds, vec!["managed_identity_client_id"], "{who}");

    let principal = inventory["principalId"].as_str().expect("principal");
    let who = run(&ctx, whois(principal)).await.expect("whois");
    assert_eq!(who["matches"][0]["kind"], "managed_identity_principal_id");
    assert_eq!(who["matches"][0]["displayName"], "id-inventory");

    let app_id = payments["appId"].as_str().expect("app id");
    let who = run(&ctx, whois(app_id)).await.expect("whois");
    let kinds = match_kinds(&who);
    assert!(kinds.contains(&"app_client_id"), "{who}");

    let (err, _) = run(&ctx, whois("not-a-guid")).await.expect_err("invalid");
    assert!(err.to_string().contains("not a GUID"), "{err}");
    let (err, _) = run(&ctx, whois(uuid::Uuid::new_v4().to_string()))
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("names nothing"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn fic_list_add_rm_with_rules_dry_run_and_read_only() {
    let (sb, ctx) = demo().await;
    let listed = run(&ctx, fic_list("inventory-sync")).await.expect("list");
    let fics = listed["fics"].as_array().expect("fics");
    assert_eq!(fics.len(), 1);

    let add = |identity: &str, dry_run: bool, force: bool| {
        Command::Fic(FicCommand::Add {
            app: "billing-worker".into(),
            identity: identity.into(),
            name: None,
            description: None,
            dry_run,
            force,
        })
    };
    let dry = run(&ctx, add("id-payments", true, false))
        .await
        .expect("dry run");
    assert_eq!(dry["request"]["method"], "POST");
    let body = &dry["request"]["body"];
    assert_eq!(body["audiences"][0], "api://AzureADTokenExchange");
    assert!(body["issuer"].as_str().expect("issuer").ends_with("/v2.0"));
    // The body is core's request, as the console's review shows and sends it: no
    // `"description": null` written by hand beside it.
    assert!(
        body.as_object()
            .expect("object")
            .get("description")
            .is_none_or(|d| !d.is_null()),
        "{body}"
    );
    assert!(
        dry["request"]["url"]
            .as_str()
            .expect("url")
            .ends_with("/federatedIdentityCredentials")
    );
    let az = dry["exports"]["Azure CLI"].as_str().expect("az export");
    assert!(az.contains("az ad app federated-credential create"), "{az}");
    assert!(
        dry["exports"]["Terraform"]
            .as_str()
            .expect("tf")
            .contains("azuread_application_federated_identity_credential")
    );
    let empty = run(&ctx, fic_list("billing-worker")).await.expect("list");
    assert_eq!(
        empty["fics"].as_array().expect("fics").len(),
        0,
        "dry run changed nothing"
    );

    let created = run(&ctx, add("id-payments", false, true))
        .await
        .expect("created");
    let ids = run(&ctx, Command::Identities { filter: None })
        .await
        .expect("identities");
    let payments_principal = ids
        .as_array()
        .expect("array")
        .iter()
        .find(|i| i["name"] == "id-payments")
        .expect("id-payments")["principalId"]
        .clone();
    assert_eq!(created["created"]["subject"], payments_principal);
    let name = created["created"]["name"]
        .as_str()
        .expect("name")
        .to_string();

    // The same identity again: refused by the rules (issuer+subject must be unique).
    let (err, _) = run(&ctx, add("id-payments", false, true))
        .await
        .expect_err("duplicate");
    match &err {
        CommandError::Refused { findings, .. } => {
            assert!(
                findings.iter().any(|f| f["severity"] == "error"),
                "{findings:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A system-assigned identity cannot be a FIC subject.
    let (err, _) = run(&ctx, add("vm-legacy", false, true))
        .await
        .expect_err("system-assigned");
    assert!(matches!(err, CommandError::Refused { .. }), "{err:?}");

    run(
        &ctx,
        Command::Fic(FicCommand::Rm {
            app: "billing-worker".into(),
            name: name.clone(),
            yes: true,
        }),
    )
    .await
    .expect("removed");
    let after = run(&ctx, fic_list("billing-worker")).await.expect("list");
    assert_eq!(after["fics"].as_array().expect("fics").len(), 0);
    let (err, _) = run(
        &ctx,
        Command::Fic(FicCommand::Rm {
            app: "billing-worker".into(),
            name,
            yes: true,
        }),
    )
    .await
    .expect_err("gone");
    assert!(err.to_string().contains("none"), "{err}");

    let (err, _) = run(&ctx, fic_list("no-such-app"))
        .await
        .expect_err("unknown app");
    assert!(err.to_string().contains("ficus apps --filter"), "{err}");

    let ro = ficus::commands::Context::new(
        ficus::startup::sandbox::sandbox_signed(&sb, sandbox::seed::DEMO_ADMIN, true)
            .expect("signed in to the sandbox"),
        true,
    );
    let (err, _) = run(&ro, add("id-reporting", false, true))
        .await
        .expect_err("read-only");
    assert!(err.to_string().contains("--read-only"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn exchange_explains_the_client_id_subject_mistake() {
    let (sb, ctx) = demo().await;
    let args = exchange_args("inventory-sync", "id-inventory");
    let (err, out) = run(&ctx, Command::Exchange(args))
        .await
        .expect_err("refused");
    assert!(matches!(err, CommandError::Reported(_)), "{err:?}");
    let report: Value = serde_json::from_str(&out).expect("report JSON");
    assert_eq!(report["error"]["codes"][0], 700213, "{report}");
    assert_eq!(report["error"]["error"], "invalid_client");
    assert!(report["error"]["traceId"].is_string());
    assert_eq!(report["diagnosis"]["field"], "subject");
    let fix = report["diagnosis"]["fix"].as_str().expect("fix");
    assert!(
        fix.contains("principal id") && fix.contains("client id"),
        "{fix}"
    );
    assert_eq!(report["diagnosis"]["ficName"], "mi-id-inventory");
    let steps = report["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    assert_eq!(steps[0]["outcome"]["status"], "ok");
    assert_eq!(steps[2]["outcome"]["status"], "failed");
    assert!(report["assertion"]["claims"]["sub"].is_string());
    assert!(report["app_token"].is_null());
    sb.shutdown().await;
}

#[tokio::test]
async fn exchange_succeeds_for_a_correct_fic() {
    let (sb, ctx) = demo().await;
    let args = exchange_args("payments-api", "id-payments");
    let report = run(&ctx, Command::Exchange(args)).await.expect("exchanged");
    assert_eq!(report["diagnosis"]["ficName"], "mi-id-payments", "{report}");
    assert_eq!(
        report["appToken"]["claims"]["aud"],
        "https://graph.microsoft.com"
    );
    assert!(report["error"].is_null());
    // The raw tokens never reach the JSON.
    let text = report.to_string();
    assert!(!text.contains("access_token"), "{text}");
    sb.shutdown().await;
}

#[tokio::test]
async fn throttled_graph_calls_are_retried_to_completion() {
    let (sb, ctx) = signed_in(with_faults("throttle=2")).await;
    let started = Instant::now();
    let apps = run(&ctx, Command::Apps { filter: None })
        .await
        .expect("apps despite 429s");
    let ids = run(&ctx, Command::Identities { filter: None })
        .await
        .expect("identities despite 429s");
    let fics = run(&ctx, fic_list("payments-api"))
        .await
        .expect("fics despite 429s");
    assert!(names(&apps).len() > 40);
    assert_eq!(ids.as_array().expect("ids").len(), 5);
    assert_eq!(fics["fics"].as_array().expect("fics").len(), 1);
    // Every other request answered 429 with Retry-After: 1, which was honoured.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    sb.shutdown().await;
}

fn session_with(ctx: &Context, tokens: TokenSet) -> (GraphClient, Credentials) {
    let renewal = Renewal::RefreshToken {
        token_endpoint: ctx.session.cloud.token_endpoint(&ctx.session.tenant),
        client_id: ctx.session.config.client_id.clone(),
        scopes: ctx.session.config.scopes.clone(),
        cache: None,
    };
    let creds = Credentials::new(tokens, renewal);
    let session = Session::new(ctx.session.config.clone(), creds.clone()).expect("session");
    (session.graph(), creds)
}

#[tokio::test]
async fn expired_or_rejected_tokens_are_renewed_silently() {
    let (sb, ctx) = demo().await;
    let current = ctx.session.credentials.tokens().await;

    // Expired by the clock: renewed before the call.
    let mut expired = current.clone();
    expired.expires_at = time::OffsetDateTime::now_utc().unix_timestamp() - 60;
    let (graph, creds) = session_with(&ctx, expired);
    let ids = graph
        .list_managed_identities()
        .await
        .expect("renewed silently");
    assert_eq!(ids.len(), 5);
    let renewed = creds.tokens().await;
    assert!(renewed.expires_in() > 60);
    assert_ne!(renewed.access_token, current.access_token);

    // Rejected by Graph (a token it does not accept): renewed after the 401. The refresh
    // token rotated above, so continue from the renewed set.
    let mut rejected = renewed.clone();
    rejected.access_token = Secret::new("not-a-token".into());
    let (graph, _) = session_with(&ctx, rejected);
    let apps = graph.list_all_apps().await.expect("renewed after 401");
    assert!(apps.len() > 40);
    sb.shutdown().await;
}

#[tokio::test]
async fn network_failure_mid_paging_surfaces_as_a_clear_error() {
    let (sb, ctx) = signed_in(SandboxConfig {
        seed: Seed::Large(2500),
        ..SandboxConfig::default()
    })
    .await;
    // The client's retries wait on a virtual clock: recorded, not slept.
    let waiter = ficus::entra::Waiter::virtual_clock();
    let mut config = ctx.session.config.clone();
    config.http.retry.waiter = waiter.clone();
    let session = Session::new(config, ctx.session.credentials.clone()).expect("session");
    let mut graph = session.graph();
    graph.read_back_window = Duration::from_secs(1);
    let mut pages = Box::pin(graph.list_apps());
    let first = pages.next().await.expect("a page").expect("first page");
    // `$expand=federatedIdentityCredentials`: Graph pages it at 100 whatever `$top` says.
    assert_eq!(first.len(), 100);
    sb.shutdown().await;
    let next = pages.next().await.expect("an item");
    match next {
        Err(EntraError::Network(n)) => {
            assert_eq!(n.kind, NetworkErrorKind::Connect, "{n}");
            assert!(n.to_string().contains("reachable"), "{n}");
        }
        other => panic!("expected a network error, got {other:?}"),
    }
    assert!(pages.next().await.is_none());
    // The unreachable page was retried, after backing off, before the error.
    let waits = waiter.waits();
    assert!(!waits.is_empty(), "retried before giving up");
    assert!(
        waits
            .iter()
            .all(|w| w.reason == ficus::entra::WaitReason::Network && !w.duration.is_zero()),
        "{waits:?}"
    );
}

#[tokio::test]
async fn whoami_decode_verify_and_explain() {
    let (sb, ctx) = demo().await;
    let me = run(&ctx, Command::Whoami).await.expect("whoami");
    assert_eq!(me["account"]["username"], sandbox::seed::DEMO_ADMIN);
    let expires = time::OffsetDateTime::parse(
        me["expiresOn"].as_str().expect("ISO 8601 expiry"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("ISO 8601");
    assert!(expires > time::OffsetDateTime::now_utc() + time::Duration::seconds(60));
    assert!(
        me.get("expiresInSeconds").is_none(),
        "nothing relative in JSON"
    );

    let contoso = &sb.info.tenants[0].id;
    let ids = ctx
        .session
        .graph()
        .list_managed_identities()
        .await
        .expect("ids");
    let payments = ids
        .iter()
        .find(|i| i.name == "id-payments")
        .expect("id-payments");
    let token = sb
        .managed_identity_token(contoso, &payments.client_id, "api://AzureADTokenExchange")
        .expect("mi token");
    let verify_json = commands::DecodeOptions {
        verify: true,
        ca_pem: None,
        json: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    commands::decode::decode(
        Some(token.expose()),
        Some(&ctx.session.http),
        &verify_json,
        &mut out,
    )
    .await
    .expect("verifies");
    let decoded: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(decoded["signature"]["state"], "verified");
    assert_eq!(
        decoded["claims"]["sub"]["value"],
        payments.principal_id.as_str()
    );

    // A token with its claims swapped no longer verifies.
    let parts: Vec<&str> = token.expose().split('.').collect();
    let other = sb
        .managed_identity_token(contoso, &ids[0].principal_id, "api://AzureADTokenExchange")
        .expect("other token");
    let other_claims = other
        .expose()
        .split('.')
        .nth(1)
        .expect("claims")
        .to_string();
    let forged = format!("{}.{}.{}", parts[0], other_claims, parts[2]);
    let mut out = Vec::new();
    let err = commands::decode::decode(
        Some(&forged),
        Some(&ctx.session.http),
        &verify_json,
        &mut out,
    )
    .await
    .expect_err("forged");
    assert!(err.to_string().contains("does not verify"), "{err}");
    let decoded: Value = serde_json::from_slice(&out).expect("claims still shown");
    assert_eq!(decoded["signature"]["state"], "failed");

    let mut out = Vec::new();
    let err = commands::decode::decode(
        Some("abc.def"),
        None,
        &commands::DecodeOptions::default(),
        &mut out,
    )
    .await
    .expect_err("malformed");
    assert!(out.is_empty(), "nothing on stdout on failure");
    assert!(err.to_string().contains("3 parts"), "{err}");

    let explained = run(
        &ctx,
        Command::Explain {
            text: vec!["AADSTS700213".into()],
        },
    )
    .await
    .expect("explained");
    assert_eq!(explained["code"], 700213);
    assert_eq!(explained["field"], "subject");
    let (err, _) = run(
        &ctx,
        Command::Explain {
            text: vec!["hello".into()],
        },
    )
    .await
    .expect_err("no code");
    assert!(err.to_string().contains("no AADSTS code"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn managed_identity_sources_of_the_sandbox() {
    use ficus::entra::msi::{self, IdentitySelector, MsiSource};
    let (sb, ctx) = demo().await;
    let ids = ctx
        .session
        .graph()
        .list_managed_identities()
        .await
        .expect("ids");
    let by = |n: &str| ids.iter().find(|i| i.name == n).expect("identity").clone();
    let payments = by("id-payments");
    let orphan = by("id-orphan");

    let imds = MsiSource::Imds {
        base: sb.info.imds.clone(),
    };
    let app_service = MsiSource::AppService {
        endpoint: sb.info.app_service.endpoint.clone(),
        header: Secret::new(sb.info.app_service.header.clone()),
    };
    for source in [&imds, &app_service] {
        let t = msi::acquire(
            &ctx.msi_http,
            source,
            &IdentitySelector::ClientId(payments.client_id.clone()),
            "api://AzureADTokenExchange",
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", source.label()));
        let jwt = ficus::jwt::decode(t.token.expose()).expect("jwt");
        assert_eq!(jwt.str_claim("sub"), Some(payments.principal_id.as_str()));
        assert!(t.expires_on.expect("expiry") > time::OffsetDateTime::now_utc().unix_timestamp());
        // Also by principal id.
        msi::acquire(
            &ctx.msi_http,
            source,
            &IdentitySelector::PrincipalId(payments.principal_id.clone()),
            "api://AzureADTokenExchange",
        )
        .await
        .unwrap_or_else(|e| panic!("{} by principal id: {e}", source.label()));
        // An identity not attached to the host is refused with the endpoint's reason.
        let err = msi::acquire(
            &ctx.msi_http,
            source,
            &IdentitySelector::ClientId(orphan.client_id.clone()),
            "api://AzureADTokenExchange",
        )
        .await
        .expect_err("not attached");
        assert!(matches!(err, EntraError::Msi(_)), "{err:?}");
        assert!(err.to_string().contains("attached"), "{err}");
    }
    // A wrong App Service header is refused.
    let bad = MsiSource::AppService {
        endpoint: sb.info.app_service.endpoint.clone(),
        header: Secret::new("wrong".into()),
    };
    assert!(
        msi::acquire(
            &ctx.msi_http,
            &bad,
            &IdentitySelector::SystemAssigned,
            "api://AzureADTokenExchange"
        )
        .await
        .is_err()
    );
    // Detection finds the sandbox's IMDS through the pod-identity override.
    let env = msi::MsiEnv {
        imds_authority: Some(sb.info.imds.clone()),
        ..msi::MsiEnv::default()
    };
    assert_eq!(msi::detect(&env).await.expect("detected"), imds);
    sb.shutdown().await;
}

#[tokio::test]
async fn reverse_lookup_update_and_a_token_file_exchange() {
    use ficus::fic::FicUpdate;
    let (sb, ctx) = demo().await;
    let graph = ctx.session.graph();
    let ids = graph.list_managed_identities().await.expect("ids");
    let by = |n: &str| ids.iter().find(|i| i.name == n).expect("identity").clone();
    let payments = by("id-payments");
    let inventory = by("id-inventory");

    // payments-api and gov-exporter both trust id-payments (the latter with the wrong cloud).
    let trusting = graph
        .apps_trusting(&payments.principal_id)
        .await
        .expect("advanced query");
    let mut names: Vec<&str> = trusting
        .iter()
        .map(|t| t.app.display_name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, vec!["gov-exporter", "payments-api"]);
    assert!(trusting.iter().all(|t| !t.fics.is_empty()));

    // Fix inventory-sync's subject (client id → principal id); the exchange then succeeds.
    let app = ficus::entra::resolve::resolve_app(&graph, "inventory-sync")
        .await
        .expect("app");
    let fic = graph.list_fics(&app.id).await.expect("fics").remove(0);
    let fixed = graph
        .update_fic(
            &app.id,
            &FicUpdate {
                fic_key: fic.id.clone().expect("id"),
                subject: Some(inventory.principal_id.clone()),
                ..FicUpdate::default()
            },
        )
        .await
        .expect("updated and verified");
    assert_eq!(fixed.subject, inventory.principal_id);

    // The assertion from a token file instead of IMDS.
    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("mi.jwt");
    let token = sb
        .managed_identity_token(
            &sb.info.tenants[0].id,
            &inventory.client_id,
            "api://AzureADTokenExchange",
        )
        .expect("token");
    std::fs::write(&token_path, token.expose()).expect("write");
    let args = ExchangeArgs {
        app: app.app_id.clone(),
        identity: inventory.principal_id.clone(),
        scope: None,
        resource_tenant: None,
        token_file: Some(token_path.display().to_string()),
    };
    let report = run(&ctx, Command::Exchange(args))
        .await
        .expect("exchange succeeds now");
    assert_eq!(report["diagnosis"]["ficName"], "mi-id-inventory");
    assert!(
        report["source"]
            .as_str()
            .expect("source")
            .contains("token file")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_fic_not_yet_replicated_is_explained() {
    let (sb, ctx) = signed_in(with_faults("replication=60")).await;
    run(
        &ctx,
        Command::Fic(FicCommand::Add {
            app: "billing-worker".into(),
            identity: "id-reporting".into(),
            name: None,
            description: None,
            dry_run: false,
            force: true,
        }),
    )
    .await
    .expect("created");
    let args = exchange_args("billing-worker", "id-reporting");
    let (_, out) = run(&ctx, Command::Exchange(args))
        .await
        .expect_err("not replicated");
    let report: Value = serde_json::from_str(&out).expect("report");
    assert_eq!(report["error"]["codes"][0], 70021, "{report}");
    let fix = report["diagnosis"]["fix"]
        .as_str()
        .expect("fix")
        .to_ascii_lowercase();
    assert!(fix.contains("replicat") || fix.contains("wait"), "{fix}");
    sb.shutdown().await;
}

#[tokio::test]
async fn an_ambiguous_app_name_is_refused_with_the_candidates() {
    let (sb, ctx) = demo().await;
    let twin_id = uuid::Uuid::new_v4();
    let twin_app_id = uuid::Uuid::new_v4();
    sb.state().update(|dir| {
        let contoso = dir.tenant_mut(sandbox::seed::CONTOSO).expect("contoso");
        let original = contoso
            .applications
            .values()
            .find(|a| a.display_name == "payments-api")
            .expect("payments-api")
            .clone();
        let mut twin = original;
        twin.id = twin_id;
        twin.app_id = twin_app_id;
        contoso.insert_application(twin);
    });
    let (err, _) = run(&ctx, fic_list("payments-api"))
        .await
        .expect_err("ambiguous");
    match &err {
        CommandError::Entra(EntraError::Ambiguous { candidates, .. }) => {
            assert_eq!(candidates.len(), 2, "{candidates:?}");
            assert!(
                candidates
                    .iter()
                    .any(|c| c.contains(&twin_app_id.to_string()))
            );
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(err.to_string().contains("use one of their ids"), "{err}");
    // By app id or object id it is unambiguous.
    for id in [twin_app_id.to_string(), twin_id.to_string()] {
        let listed = run(&ctx, Command::Fic(FicCommand::List { app: id }))
            .await
            .expect("by id");
        assert_eq!(listed["app"]["id"], twin_id.to_string());
    }
    sb.shutdown().await;
}
