//! The real binary in a real pseudo-terminal (tmux, 80×24): a sandbox runs in this test's
//! process, `ficus --sandbox-url URL` signs in to it with the device code (auto-approved) and
//! creates a FIC for `billing-worker` trusting `id-payments` through the wizard; then this test
//! checks with its own Graph client that the FIC exists with the right issuer, subject and
//! audience, and the console runs the exchange successfully.

use std::time::Duration;

const ADMIN: &str = "admin@contoso.onmicrosoft.com";

use crate::tmux_support;
use tmux_support::Tmux;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_creates_a_fic_that_graph_holds_and_the_exchange_accepts() {
    ficus::install_crypto_provider();
    // The device code approved at once and polled every second (Entra: 5 s).
    let sandbox = ficus::sandbox::start(ficus::sandbox::SandboxConfig {
        faults: ficus::sandbox::Faults::parse("device-interval=1,approve-after=1").expect("faults"),
        ..ficus::sandbox::SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let info = sandbox.info.clone();
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    // The console finds the sandbox's managed identity endpoint the way an SDK would.
    let script = format!(
        "env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache FICUS_CACHE_DIR={d}/tokens AZURE_POD_IDENTITY_AUTHORITY_HOST={imds} {binary} --sandbox-url {url}; echo ficus-exit=$?; sleep 30",
        d = dirs.path().display(),
        imds = info.imds,
        url = info.authority,
    );
    let mut tmux = Tmux::new(format!("ficus-wizard-{}", std::process::id()), "wizard");
    tmux.key_delay = Duration::from_millis(80);
    tmux.timeout = Duration::from_secs(40);
    tmux.start(80, 24, &script);

    // Device code sign-in, approved by the sandbox, then the lists.
    tmux.wait_for("1 Apps");
    tmux.keys(&["/", "billing"]);
    tmux.wait_for("billing-worker");
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("No FICs yet");

    tmux.keys(&["a"]);
    let screen = tmux.wait_for("Which user-assigned managed identity");
    assert!(screen.contains("system-assigned"), "{screen}");
    tmux.keys(&["/", "id-payments", "Enter"]);
    let screen = tmux.wait_for("[2 Fields]");
    assert!(screen.contains("mi-id-payments"), "{screen}");
    assert!(screen.contains("(id-payments)"), "{screen}");
    assert!(screen.contains("The rules find nothing wrong"), "{screen}");

    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("[3 Review]");
    assert!(screen.contains("POST"), "{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Created and read back");
    assert!(
        screen.contains("AADSTS70021"),
        "replication explained:\n{screen}"
    );
    assert!(screen.contains("client secret"), "{screen}");

    // Graph, asked by this test directly, as the same admin.
    let session = ficus::commands::Context::new(
        ficus::startup::sandbox::sandbox_signed(&sandbox, ADMIN, false)
            .expect("signed in to the sandbox"),
        false,
    )
    .session;
    let (cloud, tenant_id) = (session.cloud.clone(), session.tenant.clone());
    let graph = session.graph();
    let apps = graph
        .find_apps_by_name("billing-worker")
        .await
        .expect("apps");
    let app = apps.first().expect("billing-worker exists");
    let fics = graph.list_fics(&app.id).await.expect("FICs");
    let fic = fics
        .iter()
        .find(|f| f.name == "mi-id-payments")
        .expect("the wizard's FIC is in Graph");
    let identities = graph.list_managed_identities().await.expect("identities");
    let payments = identities
        .iter()
        .find(|i| i.name == "id-payments")
        .expect("id-payments");
    assert_eq!(fic.issuer, cloud.issuer(&tenant_id));
    assert_eq!(fic.subject, payments.principal_id);
    assert_eq!(
        fic.audiences,
        vec!["api://AzureADTokenExchange".to_string()]
    );

    // One key: the live exchange (the exchange screen), from the console.
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("WORKS");
    assert!(screen.contains("billing-worker"), "{screen}");
    assert!(screen.contains("id-payments"), "{screen}");

    // Esc: the wizard's last step; Enter: the app, reloaded from Graph; then quit.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Created and read back");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Federated credentials (1 of 20 allowed)");
    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
    sandbox.shutdown().await;
}
