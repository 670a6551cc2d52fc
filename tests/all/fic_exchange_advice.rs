//! The advice of a refused exchange, end to end against the sandbox: the diagnosis built from
//! the app's FICs and the tenant's identities, as the headless `exchange` prints it.

use ficus::commands::{self, Context};
use ficus::commands::{Command, ExchangeArgs};
use ficus::fic::{self, Remedy, TrustContext};
use ficus::sandbox::{self, Sandbox, SandboxConfig};
use serde_json::Value;

async fn demo() -> (Sandbox, Context) {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let ctx = ficus::commands::Context::new(
        ficus::startup::sandbox::sandbox_signed(&sb, sandbox::seed::DEMO_ADMIN, false)
            .expect("signed in to the sandbox"),
        true,
    );
    (sb, ctx)
}

#[tokio::test]
async fn another_identity_is_told_to_get_its_own_fic_not_to_take_over_a_working_one() {
    // `ficus --sandbox exchange --app payments-api --identity id-inventory` advised setting
    // the subject of payments-api's working FIC mi-id-payments to id-inventory's principal id.
    let (sb, ctx) = demo().await;
    let args = ExchangeArgs {
        app: "payments-api".into(),
        identity: "id-inventory".into(),
        scope: None,
        resource_tenant: None,
        token_file: None,
    };
    let mut out = Vec::new();
    let result = commands::execute(&ctx, &Command::Exchange(args), &mut out).await;
    assert!(result.is_err(), "the exchange is refused");
    let report: Value = serde_json::from_slice(&out).expect("report JSON");
    assert_eq!(report["error"]["codes"][0], 700213, "{report}");
    let fix = report["diagnosis"]["fix"].as_str().expect("fix");
    assert!(!fix.contains("set the subject"), "{fix}");
    assert!(fix.contains("Add a credential for id-inventory"), "{fix}");
    assert!(fix.contains("test with id-payments"), "{fix}");
    assert_eq!(report["diagnosis"]["field"], "identity", "{report}");

    // The typed remedies from the same data, as the console's `F` will use them.
    let graph = ctx.session.graph();
    let app = ficus::entra::resolve::resolve_app(&graph, "payments-api")
        .await
        .expect("app");
    let fics = graph.list_fics(&app.id).await.expect("fics");
    let identities = graph.list_managed_identities().await.expect("identities");
    let inventory = identities
        .iter()
        .find(|i| i.name == "id-inventory")
        .expect("id-inventory");
    let assertion = sb
        .managed_identity_token(
            &sb.info.tenants[0].id,
            &inventory.client_id,
            "api://AzureADTokenExchange",
        )
        .expect("token");
    let jwt = ficus::jwt::decode(assertion.expose()).expect("decodes");
    let cloud = &ctx.session.cloud;
    let tenant = sb.info.tenants[0].id.to_string();
    let ctx_trust = TrustContext::new(cloud)
        .with_tenant(&tenant)
        .with_identities(&identities);
    let remedies = fic::diagnose(&jwt, &fics, cloud).remedies(&fics, &ctx_trust);
    assert!(
        matches!(remedies.first(), Some(Remedy::AddFic { draft, .. }) if draft.subject == inventory.principal_id),
        "{remedies:#?}"
    );
    assert!(
        remedies.iter().any(|r| matches!(r,
            Remedy::UseTrustedIdentity { fic_name, identity: Some(i), .. }
                if fic_name == "mi-id-payments" && i.name == "id-payments")),
        "{remedies:#?}"
    );
    assert!(
        !remedies
            .iter()
            .any(|r| matches!(r, Remedy::EditField { .. })),
        "{remedies:#?}"
    );
    sb.shutdown().await;
}
