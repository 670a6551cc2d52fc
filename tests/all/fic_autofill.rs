//! Managed Identity auto-fill on every cloud, and the property that its output never has an
//! error finding, whatever the identity and app are called.

use ficus::cloud::Cloud;
use ficus::fic::autofill::{description_for, fic_name_for};
use ficus::fic::{
    AppRef, Fic, Identity, IdentityKind, RuleContext, has_errors, managed_identity_fic, validate,
};
use proptest::prelude::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

fn app() -> AppRef {
    AppRef {
        app_id: "11111111-2222-3333-4444-555555555555".into(),
        display_name: "Payments API".into(),
    }
}

fn identity(name: &str) -> Identity {
    Identity {
        name: name.into(),
        kind: IdentityKind::UserAssigned,
        client_id: "a1b2c3d4-0000-4000-8000-00000000c11d".into(),
        principal_id: "5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1".into(),
        arm_id: Some(format!(
            "/subscriptions/s1/resourcegroups/rg-pay/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        )),
        subscription: Some("s1".into()),
        resource_group: None,
        tenant_id: Some(TENANT.into()),
    }
}

fn assert_autofill(cloud: &Cloud, issuer: &str, audience: &str) {
    let id = identity("id-payments");
    let fic = managed_identity_fic(cloud, TENANT, &app(), &id, &[]);
    assert_eq!(fic.issuer, issuer);
    assert_eq!(fic.subject, id.principal_id);
    assert_eq!(fic.audiences, vec![audience.to_string()]);
    assert_eq!(fic.name, "mi-id-payments");
    assert_eq!(fic.id, None);
    let description = fic.description.clone().expect("description");
    assert!(description.contains("id-payments"), "{description}");
    assert!(description.contains("rg-pay"), "{description}");
    assert!(description.contains("Payments API"), "{description}");
    let ctx = RuleContext::new(cloud, TENANT)
        .with_identity(&id)
        .with_app_id("11111111-2222-3333-4444-555555555555");
    assert_eq!(validate(&fic, &ctx), vec![]);
}

#[test]
fn global_cloud() {
    assert_autofill(
        &Cloud::global(),
        &format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "api://AzureADTokenExchange",
    );
}

#[test]
fn us_gov_cloud() {
    assert_autofill(
        &Cloud::us_gov(),
        &format!("https://login.microsoftonline.us/{TENANT}/v2.0"),
        "api://AzureADTokenExchangeUSGov",
    );
}

#[test]
fn china_cloud_uses_the_partner_issuer_host() {
    assert_autofill(
        &Cloud::china(),
        &format!("https://login.partner.microsoftonline.cn/{TENANT}/v2.0"),
        "api://AzureADTokenExchangeChina",
    );
}

#[test]
fn sandbox_cloud() {
    let sandbox = Cloud::custom("https://localhost:8443/", "https://localhost:8443/v1.0");
    assert_autofill(
        &sandbox,
        &format!("https://localhost:8443/{TENANT}/v2.0"),
        "api://AzureADTokenExchange",
    );
}

#[test]
fn name_is_made_unique_against_existing_names() {
    let existing = vec![
        Fic {
            name: "mi-id-payments".into(),
            ..Fic::default()
        },
        Fic {
            name: "mi-id-payments-2".into(),
            ..Fic::default()
        },
    ];
    assert_eq!(
        fic_name_for(&identity("id-payments"), &existing),
        "mi-id-payments-3"
    );
}

#[test]
fn awkward_names_are_sanitised() {
    assert_eq!(
        fic_name_for(&identity("id payments (prod)"), &[]),
        "mi-id-payments-prod"
    );
    // Nothing usable: the principal id stands in.
    assert_eq!(
        fic_name_for(&identity("日本語"), &[]),
        "mi-5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1"
    );
    assert_eq!(fic_name_for(&identity(&"x".repeat(500)), &[]).len(), 120);
}

#[test]
fn description_uses_the_resource_group_field_first_and_strips_control_characters() {
    let mut id = identity("id\x1b[31m-red");
    id.resource_group = Some("rg-field".into());
    let d = description_for(&app(), &id);
    assert!(d.contains("rg-field"));
    assert!(!d.contains('\x1b'));
}

prop_compose! {
    fn any_identity_name()(name in prop_oneof![
        ".*",
        "[a-zA-Z0-9 _.()-]{0,200}",
        proptest::collection::vec(any::<char>(), 0..300).prop_map(|v| v.into_iter().collect::<String>()),
    ]) -> String { name }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn autofill_never_produces_an_error_finding(
        name in any_identity_name(),
        app_name in ".*",
        rg in proptest::option::of(".*"),
        taken in proptest::collection::vec("[a-z0-9-]{3,12}", 0..5),
        cloud_pick in 0usize..4,
    ) {
        let cloud = match cloud_pick {
            0 => Cloud::global(),
            1 => Cloud::us_gov(),
            2 => Cloud::china(),
            _ => Cloud::custom("https://localhost:8443", "https://localhost:8443"),
        };
        let mut id = identity("x");
        id.name = name.clone();
        id.resource_group = rg;
        id.arm_id = None;
        let app = AppRef { app_id: "11111111-2222-3333-4444-555555555555".into(), display_name: app_name };
        let mut existing: Vec<Fic> = taken.iter().map(|n| Fic { name: n.clone(), ..Fic::default() }).collect();
        // Also make the natural name already taken.
        existing.push(Fic { name: fic_name_for(&id, &[]), ..Fic::default() });
        let fic = managed_identity_fic(&cloud, TENANT, &app, &id, &existing);
        let ctx = RuleContext::new(&cloud, TENANT).with_identity(&id).with_app_id(&app.app_id).with_existing(&existing);
        let findings = validate(&fic, &ctx);
        prop_assert!(!has_errors(&findings), "{:?} -> {:?}: {:?}", name, fic.name, findings);
    }
}
