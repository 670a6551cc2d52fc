//! The FIC update request, built once by `fic::export::update_request`: exactly the changed
//! fields, for the review, the headless dry run and the request actually sent.

use ficus::cloud::Cloud;
use ficus::fic::{AppRecord, ExportFormat, Fic, Field, UpdateError, update_export, update_request};
use serde_json::json;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const PRINCIPAL: &str = "5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1";

fn saved() -> Fic {
    Fic {
        id: Some("0d3c1e2f-0000-4000-8000-000000000f1c".into()),
        name: "mi-id-payments".into(),
        issuer: format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        subject: PRINCIPAL.into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: Some("Lets id-payments sign in as payments-api.".into()),
    }
}

fn app() -> AppRecord {
    AppRecord {
        object_id: "0b0b0b0b-0000-4000-8000-0000000000a1".into(),
        app_id: "a1a1a1a1-0000-4000-8000-0000000000a2".into(),
        display_name: "payments-api".into(),
        unique_name: None,
    }
}

#[test]
fn clearing_the_description_sends_only_an_empty_description() {
    // The request sent carried issuer, subject and audiences and dropped the cleared
    // description, so clearing it did nothing.
    let mut after = saved();
    after.description = None;
    let update = update_request(&saved(), &after).expect("update");
    assert_eq!(update.body(), json!({ "description": "" }));
    assert_eq!(update.changed_fields(), vec![Field::Description]);
    assert_eq!(update.apply(&saved()).description.as_deref(), Some(""));

    // An emptied text field clears it the same way.
    after.description = Some(String::new());
    assert_eq!(
        update_request(&saved(), &after).expect("update").body(),
        json!({ "description": "" })
    );
}

#[test]
fn only_changed_fields_are_in_the_body() {
    let mut after = saved();
    after.subject = "9e9e9e9e-0000-4000-8000-00000000b0b2".into();
    let update = update_request(&saved(), &after).expect("update");
    assert_eq!(
        update.body(),
        json!({ "subject": "9e9e9e9e-0000-4000-8000-00000000b0b2" })
    );
    assert_eq!(update.apply(&saved()), after);

    let mut after = saved();
    after.issuer.push('/');
    after.audiences = vec!["api://AzureADTokenExchangeUSGov".into()];
    let update = update_request(&saved(), &after).expect("update");
    assert_eq!(
        update.body(),
        json!({
            "issuer": format!("https://login.microsoftonline.com/{TENANT}/v2.0/"),
            "audiences": ["api://AzureADTokenExchangeUSGov"],
        })
    );
    assert_eq!(
        update.changed_fields(),
        vec![Field::Issuer, Field::Audiences]
    );
    // Graph's order in the text: issuer before audiences.
    assert_eq!(
        update.body_text(false),
        format!(
            r#"{{"issuer":"https://login.microsoftonline.com/{TENANT}/v2.0/","audiences":["api://AzureADTokenExchangeUSGov"]}}"#
        )
    );
}

#[test]
fn nothing_changed_is_an_empty_update() {
    let update = update_request(&saved(), &saved()).expect("update");
    assert!(update.is_empty());
    assert_eq!(update.body(), json!({}));
    assert_eq!(update.body_text(true), "{}");
    // No description before and an empty one after is no change.
    let mut before = saved();
    before.description = None;
    let mut after = before.clone();
    after.description = Some(String::new());
    assert!(update_request(&before, &after).expect("update").is_empty());
}

#[test]
fn a_rename_is_refused_and_a_fic_without_id_is_addressed_by_name() {
    let mut after = saved();
    after.name = "other".into();
    assert_eq!(
        update_request(&saved(), &after),
        Err(UpdateError::Rename {
            from: "mi-id-payments".into(),
            to: "other".into()
        })
    );
    let mut before = saved();
    before.id = None;
    let mut after = before.clone();
    after.description = None;
    let update = update_request(&before, &after).expect("update");
    assert_eq!(update.fic_key, "mi-id-payments");
    before.name = " ".into();
    assert_eq!(
        update_request(&before, &before.clone()),
        Err(UpdateError::NoKey)
    );
}

#[test]
fn the_request_line_and_its_equivalents() {
    let mut after = saved();
    after.description = None;
    after.subject = "it's-a-subject".into();
    let update = update_request(&saved(), &after).expect("update");
    let cloud = Cloud::global();
    let request = update.graph_request(&app());
    assert_eq!(request.method, "PATCH");
    assert_eq!(
        request.path,
        "/v1.0/applications/0b0b0b0b-0000-4000-8000-0000000000a1/federatedIdentityCredentials/0d3c1e2f-0000-4000-8000-000000000f1c"
    );
    assert_eq!(request.body, update.body());
    assert_eq!(
        request.to_http(&cloud),
        "PATCH https://graph.microsoft.com/v1.0/applications/0b0b0b0b-0000-4000-8000-0000000000a1/federatedIdentityCredentials/0d3c1e2f-0000-4000-8000-000000000f1c\nContent-Type: application/json\n\n{\n  \"subject\": \"it's-a-subject\",\n  \"description\": \"\"\n}\n"
    );
    assert_eq!(
        update_export(ExportFormat::AzCli, &update, &after, &app(), &cloud),
        r#"az ad app federated-credential update --id 'a1a1a1a1-0000-4000-8000-0000000000a2' --federated-credential-id '0d3c1e2f-0000-4000-8000-000000000f1c' --parameters '{"subject":"it'\''s-a-subject","description":""}'"#
    );
    assert_eq!(
        update_export(
            ExportFormat::GraphPowerShell,
            &update,
            &after,
            &app(),
            &cloud
        ),
        "Update-MgApplicationFederatedIdentityCredential -ApplicationId '0b0b0b0b-0000-4000-8000-0000000000a1' -FederatedIdentityCredentialId '0d3c1e2f-0000-4000-8000-000000000f1c' -BodyParameter @{\n    subject     = 'it''s-a-subject'\n    description = ''\n}"
    );
    // Declarative formats describe the whole credential as it will be.
    let bicep = update_export(ExportFormat::Bicep, &update, &after, &app(), &cloud);
    assert!(bicep.contains("subject: 'it\\'s-a-subject'"), "{bicep}");
    assert!(!bicep.contains("description:"), "{bicep}");
    let terraform = update_export(ExportFormat::Terraform, &update, &after, &app(), &cloud);
    assert!(terraform.contains("issuer         = \"https://login.microsoftonline.com/"));
    // The audiences array is pretty-printed like the create request's.
    let mut after = saved();
    after.audiences = vec!["a".into()];
    let text = update_request(&saved(), &after)
        .expect("update")
        .body_text(true);
    assert_eq!(text, "{\n  \"audiences\": [\n    \"a\"\n  ]\n}");
}
