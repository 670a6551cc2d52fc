//! The workload snippets (`ficus_core::workload`, `ficus code`):
//!
//! - golden files per cloud (global, US Gov, China) for the shapes the suite cannot run — C#
//!   Azure.Identity, MSAL.NET, `appsettings.json`, Java, Go — in `tests/all/golden/workload/`,
//!   each also checked for the audience, authority host and ids in their places (the JSON
//!   parsed);
//! - the Rust programs `tests/sdk_rust.rs` compiles and runs (`include!`) are exactly what the
//!   generator writes today (`tests/sdk/workload/`);
//! - `ficus code` headless: JSON and text, the trust note, a wrong `--lang`.
//!
//! `FICUS_UPDATE_GOLDEN=1 cargo test --test all workload_code` rewrites the files after a
//! deliberate change to a template; review the diff before committing it.

use std::path::{Path, PathBuf};

use ficus::cloud::Cloud;
use ficus::commands::code::CodeArgs;
use ficus::commands::{self, Command, CommandError, Context};
use ficus::sandbox::seed::{self, CONTOSO};
use ficus::sandbox::{self, SandboxConfig};
use ficus_core::workload::{self, Shape, WorkloadValues};
use serde_json::Value;

const APP: &str = "0a1b2c3d-0000-4000-8000-00000000a001";
const TENANT: &str = "0a1b2c3d-0000-4000-8000-00000000e002";
const MI_CLIENT: &str = "0a1b2c3d-0000-4000-8000-00000000c003";
const MI_PRINCIPAL: &str = "0a1b2c3d-0000-4000-8000-00000000b004";
const APP_OBJECT: &str = "0a1b2c3d-0000-4000-8000-00000000a005";
const MI_ARM_ID: &str = "/subscriptions/0a1b2c3d-0000-4000-8000-00000000d006/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments";

fn golden_values(cloud: Cloud) -> WorkloadValues {
    let identity = ficus::fic::Identity {
        name: "id-payments".into(),
        kind: ficus::fic::IdentityKind::UserAssigned,
        client_id: MI_CLIENT.into(),
        principal_id: MI_PRINCIPAL.into(),
        arm_id: Some(MI_ARM_ID.into()),
        subscription: None,
        resource_group: None,
        tenant_id: Some(TENANT.into()),
    };
    let app = ficus::fic::AppRecord {
        object_id: APP_OBJECT.into(),
        app_id: APP.into(),
        display_name: "payments-api".into(),
        unique_name: Some("payments-api".into()),
    };
    WorkloadValues::new(&cloud, &app, &identity, TENANT, None, None)
}

/// The values of the demo seed's `app` and `identity` in contoso, for the global cloud (the
/// programs run against the sandbox with `AZURE_AUTHORITY_HOST` pointing at it).
pub(crate) fn demo_values(app: &str, identity: &str) -> WorkloadValues {
    let cloud = Cloud::global();
    let (principal, client) = seed::identity_ids(CONTOSO, identity);
    let (object_id, app_id) = seed::app_ids(CONTOSO, app);
    let identity = ficus::fic::Identity {
        name: identity.into(),
        kind: ficus::fic::IdentityKind::UserAssigned,
        client_id: client.to_string(),
        principal_id: principal.to_string(),
        arm_id: None,
        subscription: None,
        resource_group: None,
        tenant_id: None,
    };
    let app = ficus::fic::AppRecord {
        object_id: object_id.to_string(),
        app_id: app_id.to_string(),
        display_name: app.into(),
        unique_name: None,
    };
    let tenant = seed::tenant_id(CONTOSO).to_string();
    WorkloadValues::new(&cloud, &app, &identity, &tenant, None, None)
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `actual` equals the committed file at `path`, or (with `FICUS_UPDATE_GOLDEN=1`) becomes it.
fn assert_file(path: &Path, actual: &str) {
    if std::env::var_os("FICUS_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("creates the folder");
        std::fs::write(path, actual).expect("writes the golden file");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (FICUS_UPDATE_GOLDEN=1 writes it)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the generator's output from line {} \
             (FICUS_UPDATE_GOLDEN=1 rewrites it):\n--- generated\n{actual}",
            path.display(),
            line + 1
        );
    }
}

/// The one line of `text` that holds `needle` (panics unless exactly one does).
fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(lines.len(), 1, "one line with {needle:?}: {lines:?}");
    lines[0]
}

const GOLDEN_SHAPES: [(Shape, &str); 8] = [
    (Shape::CsharpAzureIdentity, "csharp.cs"),
    (Shape::MsalDotnet, "msal-dotnet.cs"),
    (Shape::AppSettings, "appsettings.json"),
    (Shape::Java, "App.java"),
    (Shape::Go, "main.go"),
    (Shape::Bicep, "main.bicep"),
    (Shape::Terraform, "main.tf"),
    (Shape::AzCli, "attach.sh"),
];

fn cloud_folder(cloud: &Cloud) -> &'static str {
    match cloud.kind {
        ficus::cloud::CloudKind::Global => "global",
        ficus::cloud::CloudKind::UsGov => "usgov",
        ficus::cloud::CloudKind::China => "china",
        ficus::cloud::CloudKind::Custom => "custom",
    }
}

#[test]
fn snippets_match_their_golden_files_per_cloud() {
    for cloud in Cloud::national() {
        let folder = cloud_folder(&cloud);
        let values = golden_values(cloud.clone());
        for (shape, file) in GOLDEN_SHAPES {
            let text = workload::snippet(shape, &values);
            assert_file(
                &repo(&format!("tests/all/golden/workload/{folder}/{file}")),
                &text,
            );
            // No other cloud's audience or authority host anywhere.
            for other in Cloud::national().iter().filter(|c| c.kind != cloud.kind) {
                assert!(
                    !text.contains(&format!("\"{}\"", other.exchange_audience))
                        && !text.contains(&format!("\"{}/.default\"", other.exchange_audience)),
                    "{folder}/{file} names {}",
                    other.exchange_audience
                );
                assert!(
                    !text.contains(&format!("\"{}", other.login)),
                    "{folder}/{file} names {}",
                    other.login
                );
            }
        }
    }
}

#[test]
fn dotnet_java_and_go_put_each_value_in_its_place() {
    for cloud in Cloud::national() {
        let values = golden_values(cloud.clone());
        let audience = &cloud.exchange_audience;
        let host = format!("\"{}\"", cloud.login);
        let checks: [(Shape, [(&str, String); 5]); 4] = [
            (
                Shape::CsharpAzureIdentity,
                [
                    ("const string AppClientId", format!("\"{APP}\";")),
                    ("const string ResourceTenantId", format!("\"{TENANT}\";")),
                    (
                        "const string ManagedIdentityClientId",
                        format!("\"{MI_CLIENT}\";"),
                    ),
                    (
                        "const string ExchangeScope",
                        format!("\"{audience}/.default\";"),
                    ),
                    ("string authorityHost", format!("?? {host};")),
                ],
            ),
            (
                Shape::MsalDotnet,
                [
                    ("const string AppClientId", format!("\"{APP}\";")),
                    ("const string ResourceTenantId", format!("\"{TENANT}\";")),
                    (
                        "const string ManagedIdentityClientId",
                        format!("\"{MI_CLIENT}\";"),
                    ),
                    // MSAL asks for a resource, not a scope.
                    ("const string ExchangeAudience", format!("\"{audience}\";")),
                    ("string authorityHost", format!("?? {host};")),
                ],
            ),
            (
                Shape::Java,
                [
                    ("String APP_CLIENT_ID =", format!("\"{APP}\";")),
                    ("String RESOURCE_TENANT_ID =", format!("\"{TENANT}\";")),
                    (
                        "String MANAGED_IDENTITY_CLIENT_ID =",
                        format!("\"{MI_CLIENT}\";"),
                    ),
                    (
                        "String EXCHANGE_SCOPE =",
                        format!("\"{audience}/.default\";"),
                    ),
                    ("String DEFAULT_AUTHORITY_HOST =", format!("{host};")),
                ],
            ),
            (
                Shape::Go,
                [
                    ("const appClientID =", format!("\"{APP}\"")),
                    ("const resourceTenantID =", format!("\"{TENANT}\"")),
                    (
                        "const managedIdentityClientID =",
                        format!("\"{MI_CLIENT}\""),
                    ),
                    ("const exchangeScope =", format!("\"{audience}/.default\"")),
                    ("const defaultAuthorityHost =", host.clone()),
                ],
            ),
        ];
        for (shape, expectations) in checks {
            let text = workload::snippet(shape, &values);
            for (declaration, value) in expectations {
                let line = line_with(&text, declaration);
                assert!(
                    line.trim_end().ends_with(&value),
                    "{shape:?} in {:?}: {line:?} should end with {value:?}",
                    cloud.kind
                );
            }
            // The principal id is named (in a comment) beside the client id, never used.
            let principal_line = line_with(&text, MI_PRINCIPAL);
            assert!(
                principal_line.trim_start().starts_with("//"),
                "{principal_line}"
            );
        }
    }
}

#[test]
fn appsettings_is_json_with_microsoft_identity_web_s_fields() {
    for cloud in Cloud::national() {
        let values = golden_values(cloud.clone());
        let text = workload::snippet(Shape::AppSettings, &values);
        let json: Value = serde_json::from_str(&text).expect("appsettings.json is JSON");
        let azure_ad = &json["AzureAd"];
        assert_eq!(azure_ad["Instance"], format!("{}/", cloud.login));
        assert_eq!(azure_ad["TenantId"], TENANT);
        assert_eq!(azure_ad["ClientId"], APP);
        let credentials = azure_ad["ClientCredentials"].as_array().expect("a list");
        assert_eq!(credentials.len(), 1);
        let credential = &credentials[0];
        assert_eq!(
            credential["SourceType"],
            "SignedAssertionFromManagedIdentity"
        );
        assert_eq!(credential["ManagedIdentityClientId"], MI_CLIENT);
        assert_eq!(
            credential["TokenExchangeUrl"],
            cloud.exchange_audience.as_str()
        );
    }
}

#[test]
fn a_pasted_value_cannot_break_the_json_or_the_code() {
    let mut values = golden_values(Cloud::global());
    values.resource_tenant = "contoso\"}, \"Evil\": {\"x\": \"\u{202e}".into();
    values.scope = "api://x/.default\");\nSystem.exit(1);//".into();
    let json: Value =
        serde_json::from_str(&workload::snippet(Shape::AppSettings, &values)).expect("JSON");
    assert_eq!(json["AzureAd"]["TenantId"], values.resource_tenant.as_str());
    assert!(json.get("Evil").is_none());
    let java = workload::snippet(Shape::Java, &values);
    assert!(!java.contains("\nSystem.exit(1);"), "{java}");
    assert!(
        java.contains(r#"static final String SCOPE = "api://x/.default\");\nSystem.exit(1);//";"#),
        "{java}"
    );
}

/// The Rust programs `tests/sdk_rust.rs` includes and runs against the sandbox.
#[test]
fn the_rust_programs_the_sdk_test_runs_are_the_generator_s() {
    for (app, identity, file) in [
        ("payments-api", "id-payments", "payments_api.rs"),
        ("inventory-sync", "id-inventory", "inventory_sync.rs"),
    ] {
        let text = workload::snippet(Shape::Rust, &demo_values(app, identity));
        assert_file(&repo(&format!("tests/sdk/workload/{file}")), &text);
    }
}

async fn demo_context(json_out: bool) -> (sandbox::Sandbox, Context) {
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

fn code_args(app: &str, identity: &str, lang: Option<&str>) -> Command {
    Command::Code(CodeArgs {
        app: app.into(),
        identity: identity.into(),
        lang: lang.map(str::to_string),
        scope: None,
        resource_tenant: None,
    })
}

async fn run(ctx: &Context, command: Command) -> (String, Result<(), CommandError>) {
    let mut out = Vec::new();
    let result = commands::execute(ctx, &command, &mut out).await;
    (String::from_utf8(out).expect("utf8"), result)
}

#[tokio::test]
async fn ficus_code_json_names_the_values_and_every_snippet() {
    let (sb, ctx) = demo_context(true).await;
    let (text, result) = run(&ctx, code_args("payments-api", "id-payments", None)).await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let (principal, client) = seed::identity_ids(CONTOSO, "id-payments");
    assert_eq!(
        json["app"]["appId"],
        seed::app_ids(CONTOSO, "payments-api").1.to_string()
    );
    assert_eq!(json["identity"]["clientId"], client.to_string());
    assert_eq!(json["identity"]["principalId"], principal.to_string());
    assert_eq!(json["exchangeAudience"], "api://AzureADTokenExchange");
    assert_eq!(
        json["authorityHost"],
        sb.info.authority.trim_end_matches('/')
    );
    assert_eq!(json["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(json["trustedBy"], "mi-id-payments");
    assert!(json["note"].is_null());
    let langs: Vec<&str> = json["snippets"]
        .as_array()
        .expect("snippets")
        .iter()
        .map(|s| s["lang"].as_str().expect("lang"))
        .collect();
    assert_eq!(langs, Shape::flags());
    let python = &json["snippets"][3];
    assert_eq!(python["fileName"], "main.py");
    assert!(
        python["code"]
            .as_str()
            .is_some_and(|c| c.contains(&format!("MANAGED_IDENTITY_CLIENT_ID = \"{client}\""))),
        "{python}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn ficus_code_text_is_the_file_and_notes_a_fic_that_names_the_client_id() {
    let (sb, ctx) = demo_context(true).await;
    let (text, result) = run(
        &ctx,
        Command::Code(CodeArgs {
            app: "inventory-sync".into(),
            identity: "id-inventory".into(),
            lang: Some("appsettings".into()),
            scope: Some("api://inventory/.default".into()),
            resource_tenant: Some("fabrikam.onmicrosoft.com".into()),
        }),
    )
    .await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let json: Value = serde_json::from_str(&text).expect("JSON");
    assert!(json["trustedBy"].is_null());
    let note = json["note"].as_str().expect("a note");
    assert!(
        note.contains("client id") && note.contains("AADSTS700213"),
        "{note}"
    );
    assert_eq!(json["resourceTenant"], "fabrikam.onmicrosoft.com");
    assert_eq!(json["scope"], "api://inventory/.default");
    let code = json["snippets"][0]["code"].as_str().expect("code");
    let settings: Value = serde_json::from_str(code).expect("appsettings.json");
    assert_eq!(settings["AzureAd"]["TenantId"], "fabrikam.onmicrosoft.com");
    sb.shutdown().await;

    // In text, one --lang is the file alone, ready to redirect.
    let (sb, ctx) = demo_context(false).await;
    let (text, result) = run(&ctx, code_args("payments-api", "id-payments", Some("go"))).await;
    result.unwrap_or_else(|e| panic!("{e}"));
    assert!(text.starts_with("// payments-api's token"), "{text}");
    assert!(text.contains("package main"), "{text}");
    sb.shutdown().await;
}

#[tokio::test]
async fn ficus_code_refuses_an_unknown_lang_and_a_system_assigned_identity() {
    let (sb, ctx) = demo_context(false).await;
    let (text, result) = run(
        &ctx,
        code_args("payments-api", "id-payments", Some("cobol")),
    )
    .await;
    let error = result.expect_err("cobol is not a shape");
    assert!(text.is_empty(), "nothing on stdout: {text}");
    let message = error.to_string();
    assert!(
        message.contains("cobol") && message.contains("msal-python"),
        "{message}"
    );
    let system = ctx
        .session
        .graph()
        .list_managed_identities()
        .await
        .expect("identities")
        .into_iter()
        .find(|i| i.kind == ficus::fic::IdentityKind::SystemAssigned)
        .expect("the demo seed has a system-assigned identity");
    let (text, result) = run(&ctx, code_args("payments-api", &system.client_id, None)).await;
    let message = result.expect_err("system-assigned").to_string();
    assert!(text.is_empty());
    assert!(message.contains("system-assigned"), "{message}");
    sb.shutdown().await;
}

/// `text` with comments (from `comment` to the end of the line) and string literals (`quote`,
/// with backslash escapes) blanked out, so only the structure is left.
fn structure(text: &str, comment: &str, quote: char) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut kept = String::new();
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            if !in_string && rest.starts_with(comment) {
                break;
            }
            rest = &rest[c.len_utf8()..];
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == quote {
                    in_string = false;
                    kept.push(quote);
                }
                continue;
            }
            if c == quote {
                in_string = true;
            }
            kept.push(c);
        }
        assert!(!in_string, "a string left open on {line:?}");
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// Every `{`, `[`, `(` closed in order.
fn assert_balanced(code: &str, what: &str) {
    let mut open = Vec::new();
    for (number, line) in code.lines().enumerate() {
        for c in line.chars() {
            match c {
                '{' | '[' | '(' => open.push(c),
                '}' | ']' | ')' => {
                    let expected = match c {
                        '}' => '{',
                        ']' => '[',
                        _ => '(',
                    };
                    assert_eq!(
                        open.pop(),
                        Some(expected),
                        "{what}: unbalanced {c} on line {}",
                        number + 1
                    );
                }
                _ => {}
            }
        }
    }
    assert!(open.is_empty(), "{what}: left open: {open:?}");
}

/// `Type@yyyy-mm-dd` (or Graph's `@v1.0`): a resource type with its API version.
fn is_typed_with_api_version(text: &str) -> bool {
    let Some((kind, version)) = text.split_once('@') else {
        return false;
    };
    let dated = version.len() == 10
        && version.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    kind.starts_with("Microsoft.") && kind.contains('/') && (dated || version == "v1.0")
}

#[test]
fn bicep_and_terraform_hold_together_with_the_ids_in_place() {
    for cloud in Cloud::national() {
        let values = golden_values(cloud.clone());
        let audience = &cloud.exchange_audience;
        let issuer = cloud.issuer(TENANT);
        let global = cloud.kind == ficus::cloud::CloudKind::Global;

        let bicep = workload::snippet(Shape::Bicep, &values);
        let code = structure(&bicep, "//", '\'');
        assert_balanced(&code, "main.bicep");
        let resources: Vec<&str> = bicep
            .lines()
            .map(|l| l.trim_start_matches("//").trim())
            .filter(|l| l.starts_with("resource federatedCredential "))
            .collect();
        assert_eq!(resources.len(), 1, "{bicep}");
        let fic_type = resources[0].split('\'').nth(1).expect("a quoted type");
        assert!(is_typed_with_api_version(fic_type), "{fic_type}");
        // Graph Bicep deploys in the public cloud only: elsewhere the FIC is a comment.
        assert_eq!(
            bicep.lines().any(|l| l == "extension microsoftGraphV1"),
            global,
            "{bicep}"
        );
        let prefix = if global { "" } else { "//   " };
        for expected in [
            format!("{prefix}  issuer: '{issuer}'"),
            format!("{prefix}  subject: '{MI_PRINCIPAL}'"),
            format!("{prefix}    '{audience}'"),
            format!("{prefix}param appUniqueName string = 'payments-api'"),
            format!("param identityResourceId string = '{MI_ARM_ID}'"),
            "    '${identityResourceId}': {}".to_string(),
            "  resourceId: identityResourceId".to_string(),
            format!("  clientId: '{MI_CLIENT}'"),
            format!("  objectId: '{MI_PRINCIPAL}'"),
            format!("output managedIdentityClientId string = '{MI_CLIENT}'"),
        ] {
            assert!(
                bicep.lines().any(|l| l == expected),
                "{:?}: no line {expected:?} in\n{bicep}",
                cloud.kind
            );
        }
        for api in [
            ficus_core::workload::infra::WEB_SITES,
            ficus_core::workload::infra::CONTAINER_APPS,
            ficus_core::workload::infra::VIRTUAL_MACHINES,
            ficus_core::workload::infra::MANAGED_CLUSTERS,
        ] {
            assert!(is_typed_with_api_version(api), "{api}");
            assert!(bicep.contains(api), "main.bicep names {api}");
        }

        let terraform = workload::snippet(Shape::Terraform, &values);
        let code = structure(&terraform, "#", '"');
        assert_balanced(&code, "main.tf");
        let types: Vec<&str> = terraform
            .lines()
            .filter_map(|l| l.trim().strip_prefix("type        = \""))
            .map(|t| t.trim_end_matches('"'))
            .collect();
        assert_eq!(types.len(), 4, "{terraform}");
        assert!(
            types.iter().all(|t| is_typed_with_api_version(t)),
            "{types:?}"
        );
        let (azuread, azapi) = match cloud.kind {
            ficus::cloud::CloudKind::UsGov => ("usgovernment", "usgovernment"),
            ficus::cloud::CloudKind::China => ("china", "china"),
            _ => ("global", "public"),
        };
        for expected in [
            "resource \"azuread_application_federated_identity_credential\" \"mi-id-payments\" {"
                .to_string(),
            format!("  application_id = \"/applications/{APP_OBJECT}\""),
            format!("  issuer         = \"{issuer}\""),
            format!("  subject        = \"{MI_PRINCIPAL}\""),
            format!("  audiences      = [\"{audience}\"]"),
            format!("  default     = \"{MI_ARM_ID}\""),
            format!("  tenant_id   = \"{TENANT}\""),
            format!("  environment = \"{azuread}\""),
            format!("  environment = \"{azapi}\""),
            format!("          clientId   = \"{MI_CLIENT}\""),
            format!("          objectId   = \"{MI_PRINCIPAL}\""),
            "      userAssignedIdentities = { (var.identity_id) = {} }".to_string(),
        ] {
            assert!(
                terraform.lines().any(|l| l == expected),
                "{:?}: no line {expected:?} in\n{terraform}",
                cloud.kind
            );
        }
    }
}

/// The az script runs (with a recording `az` first on PATH): it creates the FIC with the
/// values in place and attaches the identity to the compute named, and refuses without the
/// compute's resource group.
#[test]
fn the_az_script_creates_the_fic_and_attaches_the_identity_it_names() {
    use std::os::unix::fs::PermissionsExt;
    let cloud = Cloud::us_gov();
    let script = workload::snippet(Shape::AzCli, &golden_values(cloud.clone()));
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("az.log");
    let fake = dir.path().join("az");
    std::fs::write(
        &fake,
        // Records each call; `show` answers "not found" as az does for a missing FIC.
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> \"$AZ_LOG\"; done\necho --- >> \"$AZ_LOG\"\n[ \"$4\" = show ] && exit 3\nexit 0\n",
    )
    .expect("writes the fake az");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let attach = dir.path().join("attach.sh");
    std::fs::write(&attach, &script).expect("writes the script");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |vars: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&log);
        let mut command = std::process::Command::new("bash");
        command.arg(&attach).env("PATH", &path).env("AZ_LOG", &log);
        for var in [
            "RESOURCE_GROUP",
            "WEB_APP",
            "FUNCTION_APP",
            "CONTAINER_APP",
            "VM",
            "AKS_CLUSTER",
            "IDENTITY_ID",
        ] {
            command.env_remove(var);
        }
        for (k, v) in vars {
            command.env(k, v);
        }
        let output = command.output().expect("bash runs");
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        (output, calls)
    };

    let (output, calls) = run(&[("RESOURCE_GROUP", "rg-app"), ("CONTAINER_APP", "orders")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls: Vec<Vec<&str>> = calls
        .split("---\n")
        .filter(|c| !c.is_empty())
        .map(|c| c.lines().collect())
        .collect();
    assert_eq!(
        calls.len(),
        4,
        "cloud set, show, create, one attach: {calls:?}"
    );
    assert_eq!(calls[0], ["cloud", "set", "--name", "AzureUSGovernment"]);
    assert_eq!(
        calls[1],
        [
            "ad",
            "app",
            "federated-credential",
            "show",
            "--id",
            APP,
            "--federated-credential-id",
            "mi-id-payments"
        ]
    );
    assert_eq!(
        calls[2][..5],
        ["ad", "app", "federated-credential", "create", "--id"]
    );
    assert_eq!(calls[2][5], APP);
    assert_eq!(calls[2][6], "--parameters");
    let body: Value = serde_json::from_str(calls[2][7]).expect("--parameters is JSON");
    assert_eq!(body["subject"], MI_PRINCIPAL);
    assert_eq!(body["issuer"], cloud.issuer(TENANT));
    assert_eq!(body["audiences"][0], cloud.exchange_audience.as_str());
    assert_eq!(
        calls[3],
        [
            "containerapp",
            "identity",
            "assign",
            "--resource-group",
            "rg-app",
            "--name",
            "orders",
            "--user-assigned",
            MI_ARM_ID
        ]
    );

    let (output, calls) = run(&[("VM", "vm-1")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("set RESOURCE_GROUP"),
        "{output:?}"
    );
    assert!(
        calls.is_empty(),
        "nothing changed before the check: {calls}"
    );
}

/// `ficus code --lang terraform|bicep|az` on the sandbox: the app's stored FIC (not a new one),
/// the identity's ARM id from the tenant, and with no trusting FIC, the FIC ficus would create.
#[tokio::test]
async fn ficus_code_writes_the_infrastructure_from_the_tenant() {
    let (sb, ctx) = demo_context(false).await;
    let (text, result) = run(
        &ctx,
        code_args("payments-api", "id-payments", Some("terraform")),
    )
    .await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let (principal, _) = seed::identity_ids(CONTOSO, "id-payments");
    let (object_id, _) = seed::app_ids(CONTOSO, "payments-api");
    let identities = ctx
        .session
        .graph()
        .list_managed_identities()
        .await
        .expect("identities");
    let arm_id = identities
        .iter()
        .find(|i| i.name == "id-payments")
        .and_then(|i| i.arm_id.clone())
        .expect("id-payments has an ARM id");
    assert!(
        text.contains(&format!("application_id = \"/applications/{object_id}\"")),
        "{text}"
    );
    assert!(
        text.contains(
            "resource \"azuread_application_federated_identity_credential\" \"mi-id-payments\""
        ),
        "the stored FIC: {text}"
    );
    assert!(
        text.contains(&format!("subject        = \"{principal}\"")),
        "{text}"
    );
    assert!(
        text.contains(&format!("default     = \"{arm_id}\"")),
        "{text}"
    );

    // billing-worker has no FIC for id-payments: the one ficus would create, issued by contoso.
    let (text, result) = run(&ctx, code_args("billing-worker", "id-payments", Some("az"))).await;
    result.unwrap_or_else(|e| panic!("{e}"));
    let tenant = seed::tenant_id(CONTOSO);
    assert!(
        text.contains(&format!(
            "\"issuer\":\"{}/{tenant}/v2.0\",\"subject\":\"{principal}\"",
            sb.info.authority.trim_end_matches('/')
        )),
        "{text}"
    );
    assert!(text.contains(&format!("IDENTITY_ID='{arm_id}'")), "{text}");
    sb.shutdown().await;
}
