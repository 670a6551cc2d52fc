//! Every rule of `fic::rules`, one test each, with the fix it proposes.

use ficus::cloud::Cloud;
use ficus::fic::rules::{Severity, sanitize_name, unique_name};
use ficus::fic::{Fic, Field, Finding, Identity, IdentityKind, RuleContext, has_errors, validate};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT: &str = "0c7bd1a0-3f57-4d4e-9a11-7c1a9a3b6f01";
const APP_ID: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID: &str = "a1b2c3d4-0000-4000-8000-00000000c11d";
const PRINCIPAL_ID: &str = "5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1";

fn identity() -> Identity {
    Identity {
        name: "id-inventory".into(),
        kind: IdentityKind::UserAssigned,
        client_id: CLIENT_ID.into(),
        principal_id: PRINCIPAL_ID.into(),
        arm_id: Some("/subscriptions/s1/resourceGroups/rg-inv/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-inventory".into()),
        subscription: Some("s1".into()),
        resource_group: Some("rg-inv".into()),
        tenant_id: Some(TENANT.into()),
    }
}

fn good(cloud: &Cloud) -> Fic {
    Fic {
        id: None,
        name: "mi-id-inventory".into(),
        issuer: cloud.issuer(TENANT),
        subject: PRINCIPAL_ID.into(),
        audiences: vec![cloud.exchange_audience.clone()],
        description: Some("inventory".into()),
    }
}

fn check(fic: &Fic) -> Vec<Finding> {
    let cloud = Cloud::global();
    let id = identity();
    let ctx = RuleContext::new(&cloud, TENANT)
        .with_identity(&id)
        .with_app_id(APP_ID);
    validate(fic, &ctx)
}

fn errors_on(findings: &[Finding], field: Field) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.field == field && f.severity == Severity::Error)
        .collect()
}

fn fix_value(findings: &[Finding], field: Field) -> Option<String> {
    findings
        .iter()
        .filter(|f| f.field == field)
        .find_map(|f| f.fix.as_ref().map(|x| x.value.clone()))
}

#[test]
fn a_correct_managed_identity_fic_has_no_findings() {
    for cloud in [Cloud::global(), Cloud::us_gov(), Cloud::china()] {
        let id = identity();
        let ctx = RuleContext::new(&cloud, TENANT)
            .with_identity(&id)
            .with_app_id(APP_ID);
        assert_eq!(validate(&good(&cloud), &ctx), vec![], "{:?}", cloud.kind);
    }
}

#[test]
fn name_too_short_too_long_bad_chars_and_first_char() {
    let mut fic = good(&Cloud::global());
    fic.name = "ab".into();
    let f = check(&fic);
    assert_eq!(errors_on(&f, Field::Name).len(), 1);
    let fixed = fix_value(&f, Field::Name).expect("fix");
    assert!(fixed.len() >= 3);

    fic.name = "a".repeat(121);
    let f = check(&fic);
    assert!(errors_on(&f, Field::Name)[0].message.contains("121"));
    assert_eq!(fix_value(&f, Field::Name).expect("fix").len(), 120);

    fic.name = "my fic/prod".into();
    let f = check(&fic);
    assert!(!errors_on(&f, Field::Name).is_empty());
    assert_eq!(fix_value(&f, Field::Name).as_deref(), Some("my-fic-prod"));

    fic.name = "-leading".into();
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Name)
            .iter()
            .any(|x| x.message.contains("start with a letter"))
    );
    assert_eq!(fix_value(&f, Field::Name).as_deref(), Some("leading"));

    fic.name = "  mi-id-inventory ".into();
    let f = check(&fic);
    assert!(errors_on(&f, Field::Name)[0].message.contains("whitespace"));
    assert_eq!(
        fix_value(&f, Field::Name).as_deref(),
        Some("mi-id-inventory")
    );

    fic.name = String::new();
    let f = check(&fic);
    assert_eq!(
        fix_value(&f, Field::Name).as_deref(),
        Some("mi-id-inventory")
    );
}

#[test]
fn name_must_be_unique_but_an_edit_is_not_compared_with_itself() {
    let cloud = Cloud::global();
    let id = identity();
    let mut saved = good(&cloud);
    saved.id = Some("fic-1".into());
    saved.subject = "00000000-0000-0000-0000-000000000001".into();
    let existing = vec![saved.clone()];
    let ctx = RuleContext::new(&cloud, TENANT)
        .with_identity(&id)
        .with_existing(&existing);
    let draft = good(&cloud);
    let f = validate(&draft, &ctx);
    assert_eq!(errors_on(&f, Field::Name).len(), 1);
    assert_eq!(
        fix_value(&f, Field::Name).as_deref(),
        Some("mi-id-inventory-2")
    );

    let mut upper = draft.clone();
    upper.name = "MI-ID-INVENTORY".into();
    let f = validate(&upper, &ctx);
    assert!(errors_on(&f, Field::Name).is_empty());
    assert!(
        f.iter()
            .any(|x| x.field == Field::Name && x.severity == Severity::Warning)
    );

    let mut edit = saved.clone();
    edit.subject = PRINCIPAL_ID.into();
    assert_eq!(validate(&edit, &ctx), vec![]);
}

#[test]
fn description_over_600_utf16_units_is_cut() {
    let mut fic = good(&Cloud::global());
    fic.description = Some("é".repeat(600));
    assert_eq!(check(&fic), vec![]);
    fic.description = Some("😀".repeat(301));
    let f = check(&fic);
    let fixed = fix_value(&f, Field::Description).expect("fix");
    assert_eq!(fixed.chars().count(), 300);
}

#[test]
fn lengths_over_600_are_errors() {
    let mut fic = good(&Cloud::global());
    fic.subject = "x".repeat(601);
    assert!(
        errors_on(&check(&fic), Field::Subject)
            .iter()
            .any(|f| f.message.contains("601"))
    );
    let mut fic = good(&Cloud::global());
    fic.issuer = format!("https://example.com/{}", "x".repeat(600));
    let cloud = Cloud::global();
    let f = validate(&fic, &RuleContext::new(&cloud, TENANT));
    assert!(
        errors_on(&f, Field::Issuer)
            .iter()
            .any(|f| f.message.contains("at most 600"))
    );
    let mut fic = good(&Cloud::global());
    fic.audiences = vec!["y".repeat(700)];
    let f = validate(&fic, &RuleContext::new(&cloud, TENANT));
    assert!(!errors_on(&f, Field::Audiences).is_empty());
}

#[test]
fn exactly_one_audience() {
    let mut fic = good(&Cloud::global());
    fic.audiences = vec![];
    let f = check(&fic);
    assert_eq!(
        fix_value(&f, Field::Audiences).as_deref(),
        Some("api://AzureADTokenExchange")
    );
    fic.audiences = vec!["api://other".into(), "api://AzureADTokenExchange".into()];
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Audiences)[0]
            .message
            .contains("exactly one")
    );
    assert_eq!(
        fix_value(&f, Field::Audiences).as_deref(),
        Some("api://AzureADTokenExchange")
    );
}

#[test]
fn at_most_twenty_per_app_and_unique_issuer_subject() {
    let cloud = Cloud::global();
    let existing: Vec<Fic> = (0..20)
        .map(|i| Fic {
            id: Some(format!("id-{i}")),
            name: format!("fic-{i}"),
            issuer: "https://token.actions.githubusercontent.com".into(),
            subject: format!("repo:o/r:environment:e{i}"),
            audiences: vec!["api://AzureADTokenExchange".into()],
            description: None,
        })
        .collect();
    let ctx = RuleContext::new(&cloud, TENANT).with_existing(&existing);
    let f = validate(&good(&cloud), &ctx);
    assert!(errors_on(&f, Field::App)[0].message.contains("20"));
    // Editing one of the twenty is fine.
    let edit = existing[3].clone();
    assert!(errors_on(&validate(&edit, &ctx), Field::App).is_empty());
    // A new one with the same issuer + subject as fic-5.
    let few = &existing[..5];
    let ctx = RuleContext::new(&cloud, TENANT).with_existing(few);
    let mut twin = existing[4].clone();
    twin.id = None;
    twin.name = "another".into();
    let f = validate(&twin, &ctx);
    assert!(
        errors_on(&f, Field::Subject)
            .iter()
            .any(|x| x.message.contains("fic-4"))
    );
}

#[test]
fn whitespace_at_the_ends_is_an_error_with_a_trimmed_fix() {
    let cloud = Cloud::global();
    let mut fic = good(&cloud);
    fic.issuer = format!(" {}\n", cloud.issuer(TENANT));
    fic.subject = format!("{PRINCIPAL_ID} ");
    fic.audiences = vec!["\tapi://AzureADTokenExchange".into()];
    let f = check(&fic);
    assert_eq!(fix_value(&f, Field::Issuer), Some(cloud.issuer(TENANT)));
    assert_eq!(fix_value(&f, Field::Subject).as_deref(), Some(PRINCIPAL_ID));
    assert_eq!(
        fix_value(&f, Field::Audiences).as_deref(),
        Some("api://AzureADTokenExchange")
    );
    for field in [Field::Issuer, Field::Subject, Field::Audiences] {
        assert_eq!(errors_on(&f, field).len(), 1, "{field}: {f:?}");
    }
}

#[test]
fn invisible_characters_are_errors() {
    let mut fic = good(&Cloud::global());
    fic.subject = format!("{PRINCIPAL_ID}\u{200B}");
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Subject)[0]
            .message
            .contains("invisible")
    );
    assert_eq!(fix_value(&f, Field::Subject).as_deref(), Some(PRINCIPAL_ID));
}

#[test]
fn wildcards_are_errors() {
    let cloud = Cloud::global();
    let mut fic = good(&cloud);
    fic.subject = "repo:contoso/*".into();
    fic.issuer = "https://token.actions.githubusercontent.com".into();
    fic.name = "gh".into();
    let f = validate(&fic, &RuleContext::new(&cloud, TENANT));
    assert!(
        errors_on(&f, Field::Subject)
            .iter()
            .any(|x| x.message.contains("wildcard"))
    );
    let mut fic = good(&cloud);
    fic.issuer = "https://login.microsoftonline.com/*/v2.0".into();
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Issuer)
            .iter()
            .any(|x| x.message.contains("wildcard"))
    );
    assert_eq!(fix_value(&f, Field::Issuer), Some(cloud.issuer(TENANT)));
}

#[test]
fn trailing_slash_on_an_entra_issuer() {
    let cloud = Cloud::global();
    let mut fic = good(&cloud);
    fic.issuer = format!("{}/", cloud.issuer(TENANT));
    let f = check(&fic);
    let errors = errors_on(&f, Field::Issuer);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("'/'"));
    assert_eq!(fix_value(&f, Field::Issuer), Some(cloud.issuer(TENANT)));
}

#[test]
fn issuer_of_another_tenant_or_cloud_or_v1_form() {
    let cloud = Cloud::global();
    let mut fic = good(&cloud);
    fic.issuer = cloud.issuer(OTHER_TENANT);
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Issuer)[0]
            .message
            .contains(OTHER_TENANT)
    );
    assert_eq!(fix_value(&f, Field::Issuer), Some(cloud.issuer(TENANT)));

    fic.issuer = Cloud::us_gov().issuer(TENANT);
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Issuer)[0]
            .message
            .contains("usgov cloud")
    );
    assert_eq!(fix_value(&f, Field::Issuer), Some(cloud.issuer(TENANT)));

    fic.issuer = format!("https://sts.windows.net/{TENANT}/");
    let f = check(&fic);
    assert!(errors_on(&f, Field::Issuer)[0].message.contains("v1"));

    fic.issuer = cloud.issuer(&TENANT.to_uppercase());
    let f = check(&fic);
    assert!(errors_on(&f, Field::Issuer)[0].message.contains("case"));

    fic.issuer = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0".into();
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Issuer)[0]
            .message
            .contains("contoso.onmicrosoft.com")
    );

    fic.issuer = "https://token.actions.githubusercontent.com".into();
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Issuer)[0]
            .message
            .contains("managed identity")
    );
}

#[test]
fn audience_of_another_cloud_guid_form_or_case() {
    let cloud = Cloud::global();
    let mut fic = good(&cloud);
    fic.audiences = vec!["api://AzureADTokenExchangeUSGov".into()];
    let f = check(&fic);
    assert!(errors_on(&f, Field::Audiences)[0].message.contains("usgov"));
    assert_eq!(
        fix_value(&f, Field::Audiences).as_deref(),
        Some("api://AzureADTokenExchange")
    );

    fic.audiences = vec![ficus::cloud::TOKEN_EXCHANGE_APP_ID.into()];
    let f = check(&fic);
    assert!(errors_on(&f, Field::Audiences)[0].message.contains("GUID"));

    fic.audiences = vec!["api://azureadtokenexchange".into()];
    let f = check(&fic);
    assert!(errors_on(&f, Field::Audiences)[0].message.contains("case"));

    fic.audiences = vec!["api://my-api".into()];
    let f = check(&fic);
    assert_eq!(errors_on(&f, Field::Audiences).len(), 1);

    // China app, global audience.
    let china = Cloud::china();
    let mut fic = good(&china);
    fic.audiences = vec!["api://AzureADTokenExchange".into()];
    let id = identity();
    let f = validate(&fic, &RuleContext::new(&china, TENANT).with_identity(&id));
    assert_eq!(
        fix_value(&f, Field::Audiences).as_deref(),
        Some("api://AzureADTokenExchangeChina")
    );
}

#[test]
fn external_issuer_may_use_a_custom_audience() {
    let cloud = Cloud::global();
    let fic = Fic {
        id: None,
        name: "github-prod".into(),
        issuer: "https://token.actions.githubusercontent.com".into(),
        subject: "repo:contoso/app:environment:prod".into(),
        audiences: vec!["api://my-custom".into()],
        description: None,
    };
    assert_eq!(validate(&fic, &RuleContext::new(&cloud, TENANT)), vec![]);
}

#[test]
fn subject_is_the_client_id() {
    let mut fic = good(&Cloud::global());
    fic.subject = CLIENT_ID.into();
    let f = check(&fic);
    let e = errors_on(&f, Field::Subject);
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("client id of id-inventory"));
    assert_eq!(fix_value(&f, Field::Subject).as_deref(), Some(PRINCIPAL_ID));
}

#[test]
fn subject_is_another_known_identitys_client_id() {
    let cloud = Cloud::global();
    let other = Identity {
        name: "id-payments".into(),
        client_id: "cccccccc-0000-4000-8000-000000000002".into(),
        principal_id: "pppppppp-0000-4000-8000-000000000002".replace('p', "b"),
        ..identity()
    };
    let all = vec![identity(), other.clone()];
    let mut fic = good(&cloud);
    fic.subject = other.client_id.clone();
    let f = validate(
        &fic,
        &RuleContext::new(&cloud, TENANT).with_identities(&all),
    );
    assert!(
        errors_on(&f, Field::Subject)[0]
            .message
            .contains("id-payments")
    );
    assert_eq!(
        fix_value(&f, Field::Subject),
        Some(other.principal_id.clone())
    );

    // Chosen id-inventory but the subject is id-payments' principal id.
    fic.subject = other.principal_id.clone();
    let id = identity();
    let f = validate(
        &fic,
        &RuleContext::new(&cloud, TENANT)
            .with_identity(&id)
            .with_identities(&all),
    );
    assert!(
        errors_on(&f, Field::Subject)[0]
            .message
            .contains("not of the chosen identity")
    );
}

#[test]
fn subject_is_the_apps_own_id() {
    let mut fic = good(&Cloud::global());
    fic.subject = APP_ID.into();
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Subject)[0]
            .message
            .contains("app's own id")
    );
    assert_eq!(fix_value(&f, Field::Subject).as_deref(), Some(PRINCIPAL_ID));
}

#[test]
fn subject_not_a_guid_under_an_entra_issuer() {
    let cloud = Cloud::global();
    let mut fic = good(&cloud);
    fic.subject = "id-inventory".into();
    let f = validate(&fic, &RuleContext::new(&cloud, TENANT));
    assert!(errors_on(&f, Field::Subject)[0].message.contains("GUID"));
    let f = check(&fic);
    assert_eq!(fix_value(&f, Field::Subject).as_deref(), Some(PRINCIPAL_ID));
}

#[test]
fn case_only_difference_from_the_principal_id() {
    let mut fic = good(&Cloud::global());
    fic.subject = PRINCIPAL_ID.to_uppercase();
    let f = check(&fic);
    assert!(errors_on(&f, Field::Subject)[0].message.contains("7002138"));
    assert_eq!(fix_value(&f, Field::Subject).as_deref(), Some(PRINCIPAL_ID));
}

#[test]
fn another_guid_than_the_chosen_principal() {
    let mut fic = good(&Cloud::global());
    fic.subject = "99999999-0000-4000-8000-000000000009".into();
    let f = check(&fic);
    assert!(
        errors_on(&f, Field::Subject)[0]
            .message
            .contains("not the principal id")
    );
}

#[test]
fn system_assigned_and_cross_tenant_identities() {
    let cloud = Cloud::global();
    let mut id = identity();
    id.kind = IdentityKind::SystemAssigned;
    let f = validate(
        &good(&cloud),
        &RuleContext::new(&cloud, TENANT).with_identity(&id),
    );
    assert!(
        errors_on(&f, Field::Identity)[0]
            .message
            .contains("system-assigned")
    );

    let mut id = identity();
    id.tenant_id = Some(OTHER_TENANT.into());
    let f = validate(
        &good(&cloud),
        &RuleContext::new(&cloud, TENANT).with_identity(&id),
    );
    assert!(errors_on(&f, Field::Identity)[0].message.contains("700236"));
}

#[test]
fn non_https_external_issuer_is_only_a_warning() {
    let cloud = Cloud::global();
    let fic = Fic {
        id: None,
        name: "k8s".into(),
        issuer: "http://cluster.local".into(),
        subject: "system:serviceaccount:ns:sa".into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    };
    let f = validate(&fic, &RuleContext::new(&cloud, TENANT));
    assert!(!has_errors(&f));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Warning);
}

#[test]
fn sandbox_cloud_issuer_and_global_audience_are_right() {
    let sandbox = Cloud::custom("https://localhost:8443", "https://localhost:8443");
    let id = identity();
    let ctx = RuleContext::new(&sandbox, TENANT).with_identity(&id);
    assert_eq!(validate(&good(&sandbox), &ctx), vec![]);
    let mut fic = good(&sandbox);
    fic.issuer = Cloud::global().issuer(TENANT);
    let f = validate(&fic, &ctx);
    assert_eq!(fix_value(&f, Field::Issuer), Some(sandbox.issuer(TENANT)));
}

#[test]
fn applying_every_fix_clears_the_classic_mistakes() {
    let cloud = Cloud::global();
    let mut fic = Fic {
        id: None,
        name: " my credential ".into(),
        issuer: format!("{}/", cloud.issuer(TENANT)),
        subject: CLIENT_ID.into(),
        audiences: vec!["api://AzureADTokenExchangeUSGov".into()],
        description: None,
    };
    let findings = check(&fic);
    fic = ficus::fic::rules::apply_fixes(&fic, &findings);
    assert_eq!(check(&fic), vec![], "{fic:?}");
    assert_eq!(fic.name, "my-credential");
}

#[test]
fn every_message_says_what_to_do() {
    // A crude but useful check: each message has at least two sentences or an imperative
    // ("Use", "Remove", ...) after the diagnosis.
    let mut fic = good(&Cloud::global());
    fic.name = "-".into();
    fic.issuer = " x* ".into();
    fic.subject = format!("{CLIENT_ID}\u{FEFF}");
    fic.audiences = vec![];
    fic.description = Some("d".repeat(700));
    for f in check(&fic) {
        assert!(f.message.ends_with('.'), "{}", f.message);
        assert!(
            f.message.matches(['.', ';', ':']).count() >= 2,
            "{}",
            f.message
        );
    }
}

#[test]
fn name_helpers() {
    assert_eq!(sanitize_name("id payments (prod)"), "id-payments-prod");
    assert_eq!(sanitize_name("__x"), "x-fic");
    assert_eq!(sanitize_name("日本"), "fic");
    let existing = vec![
        Fic {
            name: "abc".into(),
            ..Fic::default()
        },
        Fic {
            name: "ABC-2".into(),
            ..Fic::default()
        },
    ];
    assert_eq!(unique_name("abc", &existing), "abc-3");
    assert_eq!(
        unique_name(
            &"a".repeat(120),
            &[Fic {
                name: "a".repeat(120),
                ..Fic::default()
            }]
        )
        .len(),
        120
    );
}

#[test]
fn unknown_tenant_still_checks_form_but_offers_no_made_up_issuer() {
    let cloud = Cloud::global();
    let id = identity();
    let ctx = RuleContext::new(&cloud, "").with_identity(&id);
    let mut fic = good(&cloud);
    assert_eq!(validate(&fic, &ctx), vec![]);
    fic.issuer = format!("{}/", cloud.issuer(TENANT));
    let f = validate(&fic, &ctx);
    assert_eq!(fix_value(&f, Field::Issuer), Some(cloud.issuer(TENANT)));
    fic.issuer = "https://token.actions.githubusercontent.com".into();
    let f = validate(&fic, &ctx);
    assert_eq!(errors_on(&f, Field::Issuer).len(), 1);
    assert_eq!(fix_value(&f, Field::Issuer), None);
    fic.issuer = String::new();
    let f = validate(&fic, &ctx);
    assert_eq!(fix_value(&f, Field::Issuer), None);
}
