//! A FIC update is built once (`fic::export::update_request`) and sent as built: only the
//! changed fields, and a cleared description really clears it (it used to be dropped from
//! the request, so clearing reported success and changed nothing).

use ficus::fic::{self, Fic};
use ficus::sandbox::{self, SandboxConfig};

#[tokio::test]
async fn clearing_a_description_clears_it_and_changes_nothing_else() {
    ficus::install_crypto_provider();
    let sb = sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    let signed = ficus::startup::sandbox::sandbox_signed(&sb, sandbox::seed::DEMO_ADMIN, false)
        .expect("signed in to the sandbox");
    let graph = signed.session.graph();
    let app = ficus::entra::resolve::resolve_app(&graph, "payments-api")
        .await
        .expect("app");

    // Give the working FIC a description, through the same request builder.
    let before: Fic = graph.list_fics(&app.id).await.expect("fics").remove(0);
    let described = Fic {
        description: Some("trusted by the payments workers".into()),
        ..before.clone()
    };
    let update = fic::export::update_request(&before, &described).expect("update");
    assert_eq!(
        update.body(),
        serde_json::json!({ "description": "trusted by the payments workers" }),
        "only the changed field is sent"
    );
    let back = graph.update_fic(&app.id, &update).await.expect("updated");
    assert_eq!(
        back.description.as_deref(),
        Some("trusted by the payments workers")
    );

    // Clear it: the request carries `"description": ""` and nothing else.
    let cleared = Fic {
        description: None,
        ..back.clone()
    };
    let update = fic::export::update_request(&back, &cleared).expect("update");
    assert_eq!(update.body(), serde_json::json!({ "description": "" }));
    let back = graph.update_fic(&app.id, &update).await.expect("cleared");
    assert_eq!(
        back.description.as_deref().unwrap_or(""),
        "",
        "the description is gone"
    );
    assert_eq!(
        (back.issuer.as_str(), back.subject.as_str(), &back.audiences),
        (
            before.issuer.as_str(),
            before.subject.as_str(),
            &before.audiences
        ),
        "issuer, subject and audiences are untouched"
    );

    // Read again from Graph, not from the update's own read-back.
    let again: Vec<Fic> = graph.list_fics(&app.id).await.expect("fics");
    let again = again
        .iter()
        .find(|f| f.name == before.name)
        .expect("still there");
    assert_eq!(again.description.as_deref().unwrap_or(""), "");
    sb.shutdown().await;
}
