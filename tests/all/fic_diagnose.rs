//! Diagnosis of each classic mistake, the AADSTS explainer for every catalogued code, the
//! concrete fixes with context, and the GUID resolver.

use ficus::cloud::{Cloud, TOKEN_EXCHANGE_APP_ID};
use ficus::fic::explain::known_codes;
use ficus::fic::{
    AppRecord, Difference, Fic, Field, GuidKind, Identity, IdentityKind, Known,
    ServicePrincipalRecord, TenantRecord, diagnose, explain, explain_code, explain_with_context,
    resolve_guid,
};
use ficus::jwt::{Jwt, b64url, decode};
use serde_json::json;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "a1b2c3d4-0000-4000-8000-00000000c11d";
const PRINCIPAL_ID: &str = "5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1";

/// An MI token for the exchange audience, minted here (unsigned: diagnosis never verifies).
fn mi_token(claims_patch: serde_json::Value) -> Jwt {
    let mut claims = json!({
        "aud": TOKEN_EXCHANGE_APP_ID,
        "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "sub": PRINCIPAL_ID,
        "oid": PRINCIPAL_ID,
        "azp": CLIENT_ID,
        "tid": TENANT,
        "idtyp": "app",
        "ver": "2.0",
        "iat": 1_700_000_000,
        "nbf": 1_700_000_000,
        "exp": 1_700_086_400,
        "xms_mirid": "/subscriptions/s1/resourcegroups/rg-inv/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-inventory",
    });
    if let (Some(base), Some(patch)) = (claims.as_object_mut(), claims_patch.as_object()) {
        for (k, v) in patch {
            base.insert(k.clone(), v.clone());
        }
    }
    let token = format!(
        "{}.{}.{}",
        b64url(br#"{"alg":"RS256","typ":"JWT","kid":"k"}"#),
        b64url(claims.to_string().as_bytes()),
        b64url(b"signature")
    );
    decode(&token).expect("minted token decodes")
}

fn good_fic() -> Fic {
    Fic {
        id: Some("f1".into()),
        name: "mi-id-inventory".into(),
        issuer: format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        subject: PRINCIPAL_ID.into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: None,
    }
}

fn identity() -> Identity {
    Identity {
        name: "id-inventory".into(),
        kind: IdentityKind::UserAssigned,
        client_id: CLIENT_ID.into(),
        principal_id: PRINCIPAL_ID.into(),
        arm_id: None,
        subscription: None,
        resource_group: Some("rg-inv".into()),
        tenant_id: Some(TENANT.into()),
    }
}

fn with(edit: impl FnOnce(&mut Fic)) -> Fic {
    let mut fic = good_fic();
    fic.name = "broken".into();
    edit(&mut fic);
    fic
}

#[test]
fn the_guid_audience_matches_the_uri_in_the_fic() {
    let d = diagnose(&mi_token(json!({})), &[good_fic()], &Cloud::global());
    assert_eq!(d.matched, Some(0));
    assert_eq!(d.expected_error_code(), None);
    assert_eq!(
        d.presented.effective_audiences,
        vec!["api://AzureADTokenExchange"]
    );
    assert!(d.summary().contains("mi-id-inventory"));
}

#[test]
fn a_match_comes_first_among_misses() {
    let fics = vec![with(|f| f.subject = CLIENT_ID.into()), good_fic()];
    let d = diagnose(&mi_token(json!({})), &fics, &Cloud::global());
    assert_eq!(d.matched, Some(1));
    assert_eq!(d.comparisons[0].index, 1);
}

fn single_miss(fic: Fic, token: &Jwt) -> (Difference, String, Option<u32>) {
    let d = diagnose(token, &[fic], &Cloud::global());
    assert_eq!(d.matched, None);
    let miss = d.nearest_miss().expect("a miss");
    let wrong: Vec<_> = miss.mismatches().collect();
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    (
        wrong[0].difference.clone(),
        wrong[0].explanation.clone(),
        d.expected_error_code(),
    )
}

#[test]
fn client_id_as_subject() {
    let (diff, text, code) =
        single_miss(with(|f| f.subject = CLIENT_ID.into()), &mi_token(json!({})));
    assert_eq!(diff, Difference::ClientIdAsSubject);
    assert!(
        text.contains("client id") && text.contains("azp") && text.contains(PRINCIPAL_ID),
        "{text}"
    );
    assert_eq!(code, Some(700213));
}

#[test]
fn trailing_slash_issuer() {
    let (diff, text, code) = single_miss(
        with(|f| f.issuer = format!("https://login.microsoftonline.com/{TENANT}/v2.0/")),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::TrailingSlash { in_fic: true });
    assert!(text.contains("remove the slash"));
    assert_eq!(code, Some(700211));
}

#[test]
fn other_cloud_audience() {
    let (diff, text, code) = single_miss(
        with(|f| f.audiences = vec!["api://AzureADTokenExchangeUSGov".into()]),
        &mi_token(json!({})),
    );
    assert_eq!(
        diff,
        Difference::OtherCloudAudience {
            fic_cloud: ficus::cloud::CloudKind::UsGov
        }
    );
    assert!(text.contains("usgov"), "{text}");
    assert_eq!(code, Some(700212));
}

#[test]
fn guid_audience_in_the_fic() {
    let (diff, _, _) = single_miss(
        with(|f| f.audiences = vec![TOKEN_EXCHANGE_APP_ID.into()]),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::GuidAudience);
}

#[test]
fn case_only_subject() {
    let (diff, text, code) = single_miss(
        with(|f| f.subject = PRINCIPAL_ID.to_uppercase()),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::CaseOnly { position: 2 });
    assert!(
        text.contains("letter case") && text.contains("'F'") && text.contains("'f'"),
        "{text}"
    );
    assert_eq!(code, Some(7002138));
}

#[test]
fn whitespace_in_the_fic() {
    let (diff, text, code) = single_miss(
        with(|f| f.issuer = format!(" https://login.microsoftonline.com/{TENANT}/v2.0\n")),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::Whitespace);
    assert!(text.contains("whitespace"));
    assert_eq!(code, Some(700211));
}

#[test]
fn other_tenant_and_other_cloud_issuers() {
    let other = "0c7bd1a0-3f57-4d4e-9a11-7c1a9a3b6f01";
    let (diff, _, _) = single_miss(
        with(|f| f.issuer = format!("https://login.microsoftonline.com/{other}/v2.0")),
        &mi_token(json!({})),
    );
    assert!(matches!(diff, Difference::OtherTenant { ref fic_tenant, .. } if fic_tenant == other));
    let (diff, _, _) = single_miss(
        with(|f| f.issuer = format!("https://login.microsoftonline.us/{TENANT}/v2.0")),
        &mi_token(json!({})),
    );
    assert!(matches!(diff, Difference::OtherCloud { .. }));
}

#[test]
fn different_guid_and_unrelated_values() {
    let (diff, _, _) = single_miss(
        with(|f| f.subject = "99999999-0000-4000-8000-000000000009".into()),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::DifferentGuid);
    let (diff, text, _) = single_miss(
        with(|f| f.subject = "5f0c-nonsense".into()),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::Different { position: 5 });
    assert!(text.contains("character 5"), "{text}");
}

#[test]
fn misses_are_ordered_nearest_first() {
    let fics = vec![
        with(|f| {
            f.name = "far".into();
            f.issuer = "https://token.actions.githubusercontent.com".into();
            f.subject = "repo:x".into();
        }),
        with(|f| {
            f.name = "near".into();
            f.subject = PRINCIPAL_ID.to_uppercase();
        }),
        with(|f| {
            f.name = "middle".into();
            f.subject = "99999999-0000-4000-8000-000000000009".into();
        }),
    ];
    let d = diagnose(&mi_token(json!({})), &fics, &Cloud::global());
    let names: Vec<&str> = d.comparisons.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["near", "middle", "far"]);
    assert!(d.summary().contains("near"));
}

#[test]
fn no_fics_is_70025() {
    let d = diagnose(&mi_token(json!({})), &[], &Cloud::global());
    assert_eq!(d.expected_error_code(), Some(70025));
    assert!(d.summary().contains("no federated credentials"));
}

#[test]
fn a_token_with_an_array_audience_and_a_github_issuer() {
    let token = mi_token(json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:contoso/app:environment:prod",
        "aud": ["api://AzureADTokenExchange", "other"],
    }));
    let fic = with(|f| {
        f.issuer = "https://token.actions.githubusercontent.com".into();
        f.subject = "repo:contoso/app:environment:prod".into();
    });
    assert_eq!(diagnose(&token, &[fic], &Cloud::global()).matched, Some(0));
}

// ---- explain ----

#[test]
fn every_catalogued_code_is_explained() {
    let required = [
        70021, 700211, 700212, 700213, 7002138, 7002137, 700024, 700016, 70025, 700027, 700222,
        700229, 700236, 500011, 90002, 7000215, 7000218, 1002012, 65002, 50027, 900144, 700238,
    ];
    let known = known_codes();
    for code in required {
        assert!(known.contains(&code), "{code} missing");
    }
    for code in known {
        let e = explain(&code.to_string()).expect("bare code");
        assert!(e.known);
        assert_eq!(e.code, code);
        assert!(e.title.ends_with('.'), "{code}: {}", e.title);
        assert!(e.fix.ends_with('.'), "{code}: {}", e.fix);
        assert!(e.title.len() > 20 && e.fix.len() > 20);
        assert_eq!(
            explain(&format!("AADSTS{code}")).expect("prefixed").code,
            code
        );
    }
}

#[test]
fn fields_at_fault() {
    assert_eq!(explain_code(700211).field_at_fault, Some(Field::Issuer));
    assert_eq!(explain_code(700212).field_at_fault, Some(Field::Audiences));
    assert_eq!(explain_code(700213).field_at_fault, Some(Field::Subject));
    assert_eq!(explain_code(7002138).field_at_fault, Some(Field::Subject));
    assert_eq!(explain_code(70025).field_at_fault, Some(Field::App));
    assert_eq!(explain_code(700236).field_at_fault, Some(Field::Identity));
    assert_eq!(explain_code(90002).field_at_fault, None);
}

#[test]
fn unknown_codes_point_to_the_lookup_page() {
    let e = explain("AADSTS50058: silent sign-in failed").expect("code");
    assert!(!e.known);
    assert!(e.fix.contains("error?code=50058"));
    assert_eq!(explain("nothing here"), None);
    assert_eq!(explain(""), None);
}

#[test]
fn raw_json_error_body() {
    let body = json!({
        "error": "invalid_client",
        "error_description": format!("AADSTS700213: No matching federated identity record found for presented assertion subject '{CLIENT_ID}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation Trace ID: 0000 Correlation ID: 1111 Timestamp: 2025-10-13 14:54:34Z"),
        "error_codes": [700213],
        "timestamp": "2025-10-13 14:54:34Z",
    })
    .to_string();
    let e = explain(&body).expect("explained");
    assert_eq!(e.code, 700213);
    assert_eq!(e.error.as_deref(), Some("invalid_client"));
    let message = e.entra_message.expect("message");
    assert!(message.starts_with("No matching"));
    assert!(!message.contains("Trace ID"));
    assert_eq!(e.mentioned.subject.as_deref(), Some(CLIENT_ID));
}

#[test]
fn azure_identity_error_text() {
    let text = format!(
        "azure.core.exceptions.ClientAuthenticationError: Microsoft Entra ID error '(invalid_client) AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://login.microsoftonline.com/{TENANT}/v2.0/'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/... Trace ID: a Correlation ID: b Timestamp: 2025-01-01 00:00:00Z'"
    );
    let e = explain(&text).expect("explained");
    assert_eq!(e.code, 700211);
    assert_eq!(e.error.as_deref(), Some("invalid_client"));
    assert_eq!(
        e.mentioned.issuer,
        Some(format!("https://login.microsoftonline.com/{TENANT}/v2.0/"))
    );
}

#[test]
fn older_70021_message_quotes_all_three_values() {
    let text = format!(
        "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://login.microsoftonline.com/{TENANT}/v2.0'. Assertion Subject: '{PRINCIPAL_ID}'. Assertion Audience: '{TOKEN_EXCHANGE_APP_ID}'. https://docs.microsoft.com/x\r\nTrace ID: z"
    );
    let e = explain(&text).expect("explained");
    assert_eq!(e.code, 70021);
    assert_eq!(e.mentioned.subject.as_deref(), Some(PRINCIPAL_ID));
    assert_eq!(e.mentioned.audience.as_deref(), Some(TOKEN_EXCHANGE_APP_ID));
    assert!(
        e.entra_message
            .expect("message")
            .ends_with("https://docs.microsoft.com/x")
    );
}

#[test]
fn context_makes_the_subject_fix_concrete() {
    let fics = vec![with(|f| f.subject = CLIENT_ID.into())];
    let token = mi_token(json!({}));
    let e = explain_with_context(
        &explain_code(700213),
        Some(&token),
        &fics,
        &[identity()],
        &Cloud::global(),
    );
    assert!(
        e.fix.contains(&format!(
            "set the subject to {PRINCIPAL_ID} (principal id of id-inventory)"
        )),
        "{}",
        e.fix
    );
    assert!(
        e.fix.contains("it is now the client id of id-inventory"),
        "{}",
        e.fix
    );
    assert!(e.fix.contains("'broken'"));
}

#[test]
fn context_from_the_message_alone() {
    let fics = vec![with(|f| f.subject = PRINCIPAL_ID.to_uppercase())];
    let text = format!(
        "AADSTS7002138: No matching federated identity record found for presented assertion subject '{PRINCIPAL_ID}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison."
    );
    let e = explain(&text).expect("explained");
    let e = explain_with_context(&e, None, &fics, &[identity()], &Cloud::global());
    assert!(e.fix.contains("differs only in letter case"), "{}", e.fix);
    assert!(e.fix.contains(PRINCIPAL_ID));
}

#[test]
fn context_for_7002137_uses_the_expected_subject() {
    let text = format!(
        "AADSTS7002137: No matching federated identity record found for presented assertion subject 'x'. Please make sure the federated identity credential Subject is '{PRINCIPAL_ID}'."
    );
    let e = explain(&text).expect("explained");
    assert_eq!(e.mentioned.expected_subject.as_deref(), Some(PRINCIPAL_ID));
    let e = explain_with_context(&e, None, &[good_fic()], &[identity()], &Cloud::global());
    assert_eq!(
        e.fix,
        format!("Set the credential's subject to {PRINCIPAL_ID} (principal id of id-inventory).")
    );
}

#[test]
fn context_for_issuer_and_audience() {
    let token = mi_token(json!({}));
    let slash = vec![with(|f| f.issuer = format!("{}/", f.issuer))];
    let e = explain_with_context(
        &explain_code(700211),
        Some(&token),
        &slash,
        &[],
        &Cloud::global(),
    );
    assert!(e.fix.contains("remove the slash"), "{}", e.fix);
    let gov = vec![with(|f| {
        f.audiences = vec!["api://AzureADTokenExchangeUSGov".into()]
    })];
    let e = explain_with_context(
        &explain_code(700212),
        Some(&token),
        &gov,
        &[],
        &Cloud::global(),
    );
    assert!(
        e.fix
            .contains("set the audience to api://AzureADTokenExchange"),
        "{}",
        e.fix
    );
    assert!(e.fix.contains("exchange app's id"), "{}", e.fix);
}

#[test]
fn context_for_no_fics_time_and_token_kind() {
    let token = mi_token(json!({}));
    let e = explain_with_context(
        &explain_code(70025),
        Some(&token),
        &[],
        &[identity()],
        &Cloud::global(),
    );
    assert!(
        e.fix.contains("for id-inventory") && e.fix.contains(PRINCIPAL_ID),
        "{}",
        e.fix
    );

    let e = explain_with_context(
        &explain_code(700024),
        Some(&token),
        &[],
        &[],
        &Cloud::global(),
    );
    assert!(e.fix.contains("2023-11-15T22:13:20Z"), "{}", e.fix);

    let user = mi_token(json!({"xms_mirid": null, "idtyp": "user", "scp": "User.Read"}));
    let e = explain_with_context(
        &explain_code(700229),
        Some(&user),
        &[],
        &[],
        &Cloud::global(),
    );
    assert!(e.fix.contains("user (delegated)"), "{}", e.fix);

    let other_tenant = mi_token(json!({"tid": "0c7bd1a0-3f57-4d4e-9a11-7c1a9a3b6f01"}));
    let e = explain_with_context(
        &explain_code(700236),
        Some(&other_tenant),
        &[],
        &[identity()],
        &Cloud::global(),
    );
    assert!(
        e.fix.contains("0c7bd1a0-3f57-4d4e-9a11-7c1a9a3b6f01") && e.fix.contains("id-inventory"),
        "{}",
        e.fix
    );
}

#[test]
fn context_without_anything_keeps_the_generic_fix() {
    let generic = explain_code(700213);
    let e = explain_with_context(&generic, None, &[good_fic()], &[], &Cloud::global());
    assert_eq!(e.fix, generic.fix);
}

// ---- GUID resolver ----

#[test]
fn resolves_every_kind_of_guid() {
    let apps = vec![AppRecord {
        object_id: "00000000-0000-4000-8000-0000000000a1".into(),
        app_id: "00000000-0000-4000-8000-0000000000a2".into(),
        display_name: "Payments API".into(),
        unique_name: None,
    }];
    let sps = vec![
        ServicePrincipalRecord {
            object_id: "00000000-0000-4000-8000-0000000000a3".into(),
            app_id: "00000000-0000-4000-8000-0000000000a2".into(),
            display_name: "Payments API".into(),
        },
        ServicePrincipalRecord {
            object_id: PRINCIPAL_ID.into(),
            app_id: CLIENT_ID.into(),
            display_name: "id-inventory".into(),
        },
    ];
    let tenants = vec![TenantRecord {
        id: TENANT.into(),
        display_name: "Contoso".into(),
    }];
    let ids = vec![identity()];
    let known = Known {
        apps: &apps,
        service_principals: &sps,
        identities: &ids,
        tenants: &tenants,
    };
    let kind = |g: &str| {
        resolve_guid(g, &known)
            .iter()
            .map(|m| m.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kind("00000000-0000-4000-8000-0000000000a1"),
        vec![GuidKind::AppObjectId]
    );
    assert_eq!(
        kind("00000000-0000-4000-8000-0000000000a2"),
        vec![GuidKind::AppId]
    );
    assert_eq!(
        kind("00000000-0000-4000-8000-0000000000a3"),
        vec![GuidKind::ServicePrincipalId]
    );
    assert_eq!(kind(CLIENT_ID), vec![GuidKind::IdentityClientId]);
    assert_eq!(kind(PRINCIPAL_ID), vec![GuidKind::IdentityPrincipalId]);
    assert_eq!(kind(TENANT), vec![GuidKind::TenantId]);
    assert_eq!(kind(TOKEN_EXCHANGE_APP_ID), vec![GuidKind::WellKnownApp]);
    assert_eq!(kind("12345678-0000-4000-8000-000000000000"), vec![]);

    let upper = resolve_guid(&format!(" {} ", PRINCIPAL_ID.to_uppercase()), &known);
    assert_eq!(upper.len(), 1);
    assert!(!upper[0].exact_case);
    assert_eq!(
        upper[0].describe(),
        "managed identity principal id of id-inventory (letter case differs)"
    );
}

#[test]
fn msal_result_printed_as_a_python_dict() {
    let text = "{'error': 'invalid_client', 'error_description': \"AADSTS70025: The client 'Payments API' has no configured federated identity credentials.\", 'error_codes': [70025]}";
    let e = explain(text).expect("explained");
    assert_eq!(e.code, 70025);
    assert_eq!(e.error.as_deref(), Some("invalid_client"));
    let message = e.entra_message.expect("message");
    assert_eq!(
        message,
        "The client 'Payments API' has no configured federated identity credentials."
    );

    let text = "{'error': 'invalid_client', 'error_description': 'AADSTS700027: Client assertion failed signature validation.', 'error_codes': [700027]}";
    let e = explain(text).expect("explained");
    assert_eq!(
        e.entra_message.as_deref(),
        Some("Client assertion failed signature validation.")
    );
}

#[test]
fn v1_issuer_form_in_the_fic() {
    let (diff, text, code) = single_miss(
        with(|f| f.issuer = format!("https://sts.windows.net/{TENANT}/")),
        &mi_token(json!({})),
    );
    assert_eq!(diff, Difference::IssuerForm);
    assert!(text.contains("v1 form"), "{text}");
    assert_eq!(code, Some(700211));
}

#[test]
fn context_for_70021() {
    let token = mi_token(json!({}));
    // All three fields match a credential: the advice is to wait for replication.
    let e = explain_with_context(
        &explain_code(70021),
        Some(&token),
        &[good_fic()],
        &[],
        &Cloud::global(),
    );
    assert!(e.fix.contains("replication"), "{}", e.fix);
    // Nothing known about the assertion: the generic advice stays.
    let e = explain_with_context(
        &explain_code(70021),
        None,
        &[good_fic()],
        &[],
        &Cloud::global(),
    );
    assert_eq!(e.fix, explain_code(70021).fix);
    // Two faults at once are both named.
    let fics = vec![with(|f| {
        f.subject = CLIENT_ID.into();
        f.audiences = vec!["api://AzureADTokenExchangeChina".into()];
    })];
    let e = explain_with_context(
        &explain_code(70021),
        Some(&token),
        &fics,
        &[identity()],
        &Cloud::global(),
    );
    assert!(
        e.fix.contains("set the subject to") && e.fix.contains("set the audience to"),
        "{}",
        e.fix
    );
}

// --- Remedies: fix a FIC meant for this token, or trust the token's workload -----------------

mod remedies {
    use super::*;
    use ficus::fic::{AppRef, Remedy, TrustContext};

    const PAYMENTS_PRINCIPAL: &str = "7a7a7a7a-0000-4000-8000-00000000b0b7";
    const PAYMENTS_CLIENT: &str = "7c7c7c7c-0000-4000-8000-00000000c11c";
    const OTHER_TENANT: &str = "0f0f0f0f-0000-4000-8000-0000000000f0";

    fn id_payments() -> Identity {
        Identity {
            name: "id-payments".into(),
            client_id: PAYMENTS_CLIENT.into(),
            principal_id: PAYMENTS_PRINCIPAL.into(),
            resource_group: Some("rg-pay".into()),
            ..identity()
        }
    }

    fn identities() -> Vec<Identity> {
        vec![id_payments(), identity()]
    }

    /// payments-api's working FIC: it trusts id-payments.
    fn mi_id_payments() -> Fic {
        Fic {
            id: Some("f-pay".into()),
            name: "mi-id-payments".into(),
            subject: PAYMENTS_PRINCIPAL.into(),
            ..good_fic()
        }
    }

    fn payments_api() -> AppRef {
        AppRef {
            app_id: "a9a9a9a9-0000-4000-8000-0000000000a9".into(),
            display_name: "payments-api".into(),
        }
    }

    #[test]
    fn another_identitys_working_fic_is_never_proposed_for_editing() {
        // `exchange --app payments-api --identity id-inventory` advised setting the subject
        // of mi-id-payments to id-inventory's principal id: that breaks id-payments.
        let fics = vec![mi_id_payments()];
        let token = mi_token(json!({})); // id-inventory's token
        let cloud = Cloud::global();
        let all = identities();
        let app = payments_api();
        let ctx = TrustContext::new(&cloud)
            .with_tenant(TENANT)
            .with_app(&app)
            .with_identities(&all);
        let d = diagnose(&token, &fics, &cloud);
        assert_eq!(d.expected_error_code(), Some(700213));
        let remedies = d.remedies(&fics, &ctx);
        assert_eq!(remedies.len(), 2, "{remedies:#?}");
        let Remedy::AddFic { draft, identity } = &remedies[0] else {
            panic!("first: add a FIC for id-inventory, got {remedies:#?}");
        };
        assert_eq!(
            identity.as_ref().map(|i| i.name.as_str()),
            Some("id-inventory")
        );
        assert_eq!(draft.name, "mi-id-inventory");
        assert_eq!(
            draft.issuer,
            format!("https://login.microsoftonline.com/{TENANT}/v2.0")
        );
        assert_eq!(draft.subject, PRINCIPAL_ID);
        assert_eq!(draft.audiences, vec!["api://AzureADTokenExchange"]);
        assert!(
            draft
                .description
                .as_deref()
                .is_some_and(|d| d.contains("id-inventory") && d.contains("payments-api")),
            "{draft:?}"
        );
        assert_eq!(draft.id, None);
        let Remedy::UseTrustedIdentity {
            fic_index,
            fic_name,
            identity,
            subject,
            ..
        } = &remedies[1]
        else {
            panic!("second: test with id-payments, got {remedies:#?}");
        };
        assert_eq!((*fic_index, fic_name.as_str()), (0, "mi-id-payments"));
        assert_eq!(
            identity.as_ref().map(|i| i.name.as_str()),
            Some("id-payments")
        );
        assert_eq!(subject, PAYMENTS_PRINCIPAL);
        assert!(
            !remedies
                .iter()
                .any(|r| matches!(r, Remedy::EditField { .. })),
            "{remedies:#?}"
        );
        assert_eq!(d.trusts_for_others(&fics, &ctx), vec![0]);

        // The explanation the headless exchange prints says the same.
        let e = explain_with_context(&explain_code(700213), Some(&token), &fics, &all, &cloud);
        assert!(!e.fix.contains("set the subject"), "{}", e.fix);
        assert!(
            e.fix.contains("Add a credential for id-inventory"),
            "{}",
            e.fix
        );
        assert!(e.fix.contains("test with id-payments"), "{}", e.fix);
        assert_eq!(e.field_at_fault, Some(Field::Identity));
    }

    #[test]
    fn a_misspelled_fic_for_this_token_is_still_the_one_to_edit() {
        let cloud = Cloud::global();
        let all = identities();
        let ctx = TrustContext::new(&cloud)
            .with_tenant(TENANT)
            .with_identities(&all);
        let token = mi_token(json!({}));
        // Client id as subject, next to another identity's working FIC.
        let fics = vec![mi_id_payments(), with(|f| f.subject = CLIENT_ID.into())];
        let remedies = diagnose(&token, &fics, &cloud).remedies(&fics, &ctx);
        let [
            Remedy::EditField {
                fic_index,
                fic_name,
                changes,
            },
        ] = remedies.as_slice()
        else {
            panic!("{remedies:#?}");
        };
        assert_eq!((*fic_index, fic_name.as_str()), (1, "broken"));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, Field::Subject);
        assert_eq!(changes[0].from, CLIENT_ID);
        assert_eq!(changes[0].to, PRINCIPAL_ID);
        // A trailing slash, letter case, another cloud's audience: edits too.
        for fic in [
            with(|f| f.issuer.push('/')),
            with(|f| f.subject = PRINCIPAL_ID.to_uppercase()),
            with(|f| f.audiences = vec!["api://AzureADTokenExchangeUSGov".into()]),
        ] {
            let fics = vec![fic];
            let remedies = diagnose(&token, &fics, &cloud).remedies(&fics, &ctx);
            assert!(
                matches!(remedies.as_slice(), [Remedy::EditField { .. }]),
                "{remedies:#?}"
            );
        }
        // A match needs no remedy.
        let fics = vec![good_fic()];
        assert!(
            diagnose(&token, &fics, &cloud)
                .remedies(&fics, &ctx)
                .is_empty()
        );
    }

    #[test]
    fn a_token_from_another_tenant_is_not_made_the_apps_issuer() {
        let cloud = Cloud::global();
        let all = identities();
        let fics = vec![mi_id_payments()];
        let foreign = mi_token(json!({
            "iss": format!("https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"),
            "tid": OTHER_TENANT,
            "sub": "3b3b3b3b-0000-4000-8000-00000000b0b3",
        }));
        // With the app's tenant known: Entra refuses a FIC for another tenant's identity
        // (AADSTS700236), so the one remedy is the identity the app trusts.
        let ctx = TrustContext::new(&cloud)
            .with_tenant(TENANT)
            .with_identities(&all);
        let d = diagnose(&foreign, &fics, &cloud);
        assert_eq!(d.expected_error_code(), Some(700211));
        let remedies = d.remedies(&fics, &ctx);
        assert!(
            matches!(remedies.as_slice(), [Remedy::UseTrustedIdentity { fic_name, .. }] if fic_name == "mi-id-payments"),
            "{remedies:#?}"
        );
        // The explanation no longer says to set mi-id-payments' issuer to the other tenant.
        let e = explain_with_context(&explain_code(700211), Some(&foreign), &fics, &all, &cloud);
        assert!(!e.fix.contains("set the issuer"), "{}", e.fix);
        assert!(e.fix.contains("test with id-payments"), "{}", e.fix);
    }

    #[test]
    fn a_token_from_another_identity_provider_gets_a_fic_of_its_own() {
        let cloud = Cloud::global();
        let all = identities();
        let ctx = TrustContext::new(&cloud)
            .with_tenant(TENANT)
            .with_identities(&all);
        let github = mi_token(json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:contoso/payments:ref:refs/heads/main",
            "aud": "api://AzureADTokenExchange",
            "tid": null,
            "azp": null,
        }));
        let fics = vec![mi_id_payments()];
        let remedies = diagnose(&github, &fics, &cloud).remedies(&fics, &ctx);
        let [
            Remedy::AddFic { draft, identity },
            Remedy::UseTrustedIdentity { .. },
        ] = remedies.as_slice()
        else {
            panic!("{remedies:#?}");
        };
        assert_eq!(identity, &None);
        assert_eq!(draft.issuer, "https://token.actions.githubusercontent.com");
        assert_eq!(draft.subject, "repo:contoso/payments:ref:refs/heads/main");
        assert_eq!(draft.audiences, vec!["api://AzureADTokenExchange"]);
        assert_eq!(draft.name, "fic-repo-contoso-payments-ref-refs-heads-main");

        // And the other way round: a GitHub FIC is a working trust, not an MI FIC to fix.
        let github_fic = Fic {
            name: "github-main".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            subject: "repo:contoso/payments:ref:refs/heads/main".into(),
            ..good_fic()
        };
        let fics = vec![github_fic];
        let token = mi_token(json!({}));
        let remedies = diagnose(&token, &fics, &cloud).remedies(&fics, &ctx);
        assert!(
            matches!(
                remedies.as_slice(),
                [
                    Remedy::AddFic { .. },
                    Remedy::UseTrustedIdentity { identity: None, .. }
                ]
            ),
            "{remedies:#?}"
        );
    }

    #[test]
    fn no_fics_at_all_means_add_one() {
        // AADSTS70025: the console opens the wizard pre-filled with this draft.
        let cloud = Cloud::global();
        let all = identities();
        let app = payments_api();
        let ctx = TrustContext::new(&cloud)
            .with_tenant(TENANT)
            .with_app(&app)
            .with_identities(&all);
        let d = diagnose(&mi_token(json!({})), &[], &cloud);
        assert_eq!(d.expected_error_code(), Some(70025));
        let remedies = d.remedies(&[], &ctx);
        let [
            Remedy::AddFic {
                draft,
                identity: who,
            },
        ] = remedies.as_slice()
        else {
            panic!("{remedies:#?}");
        };
        assert_eq!(who.as_ref().map(|i| i.name.as_str()), Some("id-inventory"));
        assert_eq!(
            draft,
            &ficus::fic::managed_identity_fic(&cloud, TENANT, &app, &identity(), &[])
        );
        assert!(
            remedies[0]
                .sentence()
                .starts_with("Add a credential for id-inventory")
        );
    }

    #[test]
    fn an_unknown_subject_is_an_edit_offered_after_adding() {
        // Without identities to say whose it is, the subject may be a stale id: adding is the
        // safe first choice, editing the alternative.
        let cloud = Cloud::global();
        let ctx = TrustContext::new(&cloud);
        let fics = vec![with(|f| {
            f.subject = "4d4d4d4d-0000-4000-8000-00000000b0b4".into()
        })];
        let remedies = diagnose(&mi_token(json!({})), &fics, &cloud).remedies(&fics, &ctx);
        assert!(
            matches!(
                remedies.as_slice(),
                [Remedy::AddFic { .. }, Remedy::EditField { .. }]
            ),
            "{remedies:#?}"
        );
        // Remedies serialize for headless JSON, tagged by kind.
        let json = serde_json::to_value(&remedies).expect("json");
        assert_eq!(json[0]["kind"], "addFic");
        assert_eq!(json[1]["kind"], "editField");
        assert_eq!(json[1]["changes"][0]["field"], "subject");
    }
}
