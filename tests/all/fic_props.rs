//! Rules, diagnosis and the explainer on arbitrary input: no panics, well-formed findings,
//! and name fixes that always satisfy Graph.

use ficus::cloud::Cloud;
use ficus::fic::rules::sanitize_name;
use ficus::fic::{Fic, Field, Identity, IdentityKind, RuleContext, diagnose, explain, validate};
use ficus::jwt::{b64url, decode};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        "\\PC{0,700}",
        "[ \t\n]{0,2}[A-Za-z0-9:/._*-]{0,60}[ \t\n/]{0,2}",
        Just(
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/"
                .to_string()
        ),
        Just("https://login.microsoftonline.us//v2.0".to_string()),
        Just("https://login.microsoftonline.com/".to_string()),
        Just("api://AzureADTokenExchangeChina".to_string()),
    ]
}

prop_compose! {
    fn any_fic()(
        id in proptest::option::of("[a-z]{1,3}"),
        name in text(), issuer in text(), subject in text(),
        audiences in proptest::collection::vec(text(), 0..3),
        description in proptest::option::of(text()),
    ) -> Fic {
        Fic { id, name, issuer, subject, audiences, description }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn validate_never_panics_and_findings_are_well_formed(
        draft in any_fic(),
        existing in proptest::collection::vec(any_fic(), 0..22),
        tenant in text(),
        identity_name in text(), principal in text(), client in text(),
        system in any::<bool>(),
        cloud_pick in 0usize..4,
    ) {
        let cloud = match cloud_pick {
            0 => Cloud::global(),
            1 => Cloud::us_gov(),
            2 => Cloud::china(),
            _ => Cloud::custom("https://localhost:8443", "https://localhost:8443"),
        };
        let identity = Identity {
            name: identity_name,
            kind: if system { IdentityKind::SystemAssigned } else { IdentityKind::UserAssigned },
            client_id: client,
            principal_id: principal,
            arm_id: None, subscription: None, resource_group: None,
            tenant_id: Some(tenant.clone()),
        };
        let all = vec![identity.clone()];
        for ctx in [
            RuleContext::new(&cloud, &tenant),
            RuleContext::new(&cloud, &tenant).with_identity(&identity).with_existing(&existing).with_identities(&all).with_app_id("x"),
        ] {
            for finding in validate(&draft, &ctx) {
                prop_assert!(!finding.message.is_empty());
                prop_assert!(finding.message.ends_with('.'), "{}", finding.message);
                if let Some(fix) = &finding.fix {
                    prop_assert_eq!(fix.field, finding.field);
                    if fix.field == Field::Name {
                        let n = &fix.value;
                        prop_assert!(n.len() >= 3 && n.len() <= 120, "{:?}", n);
                        prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
                        prop_assert!(n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()));
                    }
                }
            }
        }
    }

    #[test]
    fn sanitized_names_are_always_valid(raw in "\\PC{0,300}") {
        let n = sanitize_name(&raw);
        prop_assert!(n.len() >= 3 && n.len() <= 120, "{:?}", n);
        prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        prop_assert!(n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn diagnose_never_panics(fics in proptest::collection::vec(any_fic(), 0..5), iss in text(), sub in text(), aud in text(), azp in text()) {
        let claims = serde_json::json!({"iss": iss, "sub": sub, "aud": aud, "azp": azp});
        let token = format!("{}.{}.{}", b64url(b"{}"), b64url(claims.to_string().as_bytes()), b64url(b"s"));
        let jwt = decode(&token).expect("decodes");
        let d = diagnose(&jwt, &fics, &Cloud::global());
        prop_assert_eq!(d.comparisons.len(), fics.len());
        let _ = d.summary();
        let _ = d.expected_error_code();
    }

    #[test]
    fn explain_never_panics(input in "\\PC{0,300}", code in 0u32..99_999_999) {
        let _ = explain(&input);
        let _ = explain(&format!("{input} AADSTS{code}: {input} Trace ID: x"));
        let e = explain(&code.to_string()).expect("bare code");
        prop_assert_eq!(e.code, code);
    }
}
