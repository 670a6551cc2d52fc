//! The live test exchange against the in-process sandbox, end to end (target: < 50 ms):
//! - `sts_exchange`: `entra::sts::exchange` — the managed identity token from the sandbox's
//!   IMDS, then the `client_assertion` exchange at its token endpoint, both tokens decoded and
//!   the assertion diagnosed against the app's FICs;
//! - `console_exchange`: what the console's exchange screen runs (`GraphDirectory::exchange`):
//!   the app's FICs read from Graph, the exchange above, then both signatures verified
//!   against the issuer's discovery document and keys.
//!
//! `cargo bench --bench exchange`
//!
//! Measured 2026-11-25 on the project's 2-core machine (release, loaded by other builds):
//! `sts_exchange` median 2.5 ms (max 4.3 ms); `console_exchange` median 14.6 ms (max 31 ms).

use std::sync::Arc;

use divan::Bencher;
use ficus::cloud::Cloud;
use ficus::entra::msi::{IdentitySelector, MsiSource};
use ficus::entra::{self, ExchangeRequest};
use ficus::sandbox::{Sandbox, SandboxConfig};
use ficus::tui::effects::Directory;
use ficus::tui::exchange::ExchangeSpec;
use ficus::tui::{Connector, GraphDirectory};

const ADMIN: &str = "admin@contoso.onmicrosoft.com";

fn main() {
    ficus::install_crypto_provider();
    divan::main();
}

struct Setup {
    runtime: tokio::runtime::Runtime,
    cloud: Cloud,
    session: entra::Session,
    imds: String,
    tenant_id: String,
    sandbox: Option<Sandbox>,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sandbox, session, cloud, tenant_id) = runtime.block_on(async {
        let sandbox = ficus::sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox");
        let session = ficus::commands::Context::new(
            ficus::startup::sandbox::sandbox_signed(&sandbox, ADMIN, false)
                .expect("signed in to the sandbox"),
            false,
        )
        .session;
        let (cloud, tenant_id) = (session.cloud.clone(), session.tenant.clone());
        (sandbox, session, cloud, tenant_id)
    });
    Setup {
        runtime,
        cloud,
        session,
        imds: sandbox.info.imds.clone(),
        tenant_id,
        sandbox: Some(sandbox),
    }
}

#[divan::bench(sample_count = 50)]
fn sts_exchange(bencher: Bencher) {
    let setup = setup();
    let graph = setup.session.graph();
    let (app, fics, identities) = setup.runtime.block_on(async {
        let app = entra::resolve::resolve_app(&graph, "payments-api")
            .await
            .expect("payments-api");
        let fics = graph.list_fics(&app.id).await.expect("fics");
        let identities = graph.list_managed_identities().await.expect("identities");
        (app, fics, identities)
    });
    let identity = identities
        .iter()
        .find(|i| i.name == "id-payments")
        .expect("id-payments")
        .clone();
    let request = ExchangeRequest {
        app_client_id: app.app_id.clone(),
        resource_tenant: setup.tenant_id.clone(),
        scope: "https://graph.microsoft.com/.default".into(),
        source: MsiSource::Imds {
            base: setup.imds.clone(),
        },
        identity: IdentitySelector::ClientId(identity.client_id.clone()),
        app_fics: fics,
        identities,
    };
    let msi_http = entra::msi::msi_http(entra::RetryPolicy::default()).expect("msi http");
    bencher.bench_local(|| {
        let report = setup.runtime.block_on(entra::sts::exchange(
            &setup.session.http,
            &msi_http,
            &setup.cloud,
            &request,
        ));
        assert!(report.succeeded(), "{:?}", report.failure);
        report
    });
    drop(setup.sandbox);
}

#[divan::bench(sample_count = 50)]
fn console_exchange(bencher: Bencher) {
    let mut setup = setup();
    let sandbox = setup.sandbox.take().expect("sandbox");
    // The session `ficus --sandbox` makes: contoso's admin, the emulated host for MSI.
    let connected =
        ficus::startup::sandbox::console_sandbox_session(Arc::new(sandbox), "contoso", false)
            .expect("signed in to the sandbox");
    let directory = Arc::new(GraphDirectory::new(Connector::Session(Box::pin(
        async move { Ok(connected) },
    ))));
    let graph = setup.session.graph();
    let (spec, _signed) = setup.runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        directory.sign_in(tx).await;
        let signed = rx.recv().await;
        let app = entra::resolve::resolve_app(&graph, "payments-api")
            .await
            .expect("payments-api");
        let identities = graph.list_managed_identities().await.expect("identities");
        let identity = identities
            .into_iter()
            .find(|i| i.name == "id-payments")
            .expect("id-payments");
        let spec = ExchangeSpec {
            app_object_id: app.id.clone(),
            app_id: app.app_id.clone(),
            identity_client_id: Some(identity.client_id.clone()),
            identity_principal_id: Some(identity.principal_id.clone()),
            resource_tenant: setup.tenant_id.clone(),
            scope: "https://graph.microsoft.com/.default".into(),
            pasted: None,
            msi: Default::default(),
        };
        (spec, signed)
    });
    bencher.bench_local(|| {
        setup.runtime.block_on(async {
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
            let result = directory
                .exchange(1, spec.clone(), tx)
                .await
                .expect("the exchange runs");
            assert!(result.succeeded(), "{:?}", result.failure);
            result
        })
    });
}
