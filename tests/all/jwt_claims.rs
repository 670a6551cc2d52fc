//! The claim catalogue, relative time rendering and token classification.

use ficus::jwt::{
    Jwt, TokenKind, b64url, claim_meaning, classify, decode, describe_time, human_duration,
};
use serde_json::json;

fn token(claims: serde_json::Value) -> Jwt {
    let text = format!(
        "{}.{}.{}",
        b64url(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes()),
        b64url(b"sig")
    );
    decode(&text).expect("minted token decodes")
}

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[test]
fn catalogue_covers_the_entra_claims() {
    for claim in [
        "aud",
        "iss",
        "sub",
        "oid",
        "tid",
        "azp",
        "appid",
        "appidacr",
        "azpacr",
        "idtyp",
        "roles",
        "scp",
        "xms_mirid",
        "ver",
        "iat",
        "nbf",
        "exp",
        "uti",
        "rh",
        "aio",
        "name",
        "preferred_username",
        "upn",
        "idp",
        "amr",
        "nonce",
        "kubernetes.io",
        "repository",
    ] {
        let meaning = claim_meaning(claim).unwrap_or_else(|| panic!("{claim} missing"));
        assert!(meaning.len() > 10, "{claim}");
        assert!(!meaning.contains('\n'), "{claim}: one line");
    }
    assert!(claim_meaning("sub").expect("sub").contains("subject"));
    assert_eq!(claim_meaning("no_such_claim"), None);
}

#[test]
fn durations_read_like_a_person_would_say_them() {
    // One wording with `text::duration_words` (the console said "59 minutes" while token
    // claims said "59 min").
    assert_eq!(human_duration(0), "less than a minute");
    assert_eq!(human_duration(45), "less than a minute");
    assert_eq!(human_duration(-90), "1 minute");
    assert_eq!(human_duration(59 * 60 + 59), "59 minutes");
    assert_eq!(human_duration(3_600 + 30 * 60), "1 hour 30 minutes");
    assert_eq!(human_duration(3 * 3_600 + 59), "3 hours");
    assert_eq!(human_duration(86_400 * 2 + 5), "2 days");
    assert_eq!(
        human_duration(i64::MIN),
        ficus::text::duration_words(i64::MIN)
    );
    for seconds in [0, 59, 61, 3_599, 5_400, 86_400, 86_400 * 400] {
        assert_eq!(
            human_duration(seconds),
            ficus::text::duration_words(seconds)
        );
    }
}

#[test]
fn times_relative_to_now() {
    let now = 1_700_000_000;
    assert_eq!(
        describe_time("exp", now + 59 * 60 + 30, now),
        "expires in 59 minutes"
    );
    assert_eq!(
        describe_time("exp", now - 3 * 3_600, now),
        "expired 3 hours ago"
    );
    assert_eq!(describe_time("exp", now, now), "expires now");
    assert_eq!(describe_time("iat", now - 120, now), "issued 2 minutes ago");
    assert_eq!(
        describe_time("iat", now + 120, now),
        "issued in 2 minutes (clock skew?)"
    );
    assert_eq!(
        describe_time("nbf", now + 300, now),
        "becomes valid in 5 minutes"
    );
    assert_eq!(
        describe_time("nbf", now - 3_600, now),
        "valid since 1 hour ago"
    );
    assert_eq!(
        describe_time("xms_tcdt", now - 86_400 * 400, now),
        "13 months ago"
    );
    // Extremes do not overflow.
    assert!(describe_time("exp", i64::MAX, i64::MIN).starts_with("expires in"));
    assert!(describe_time("exp", i64::MIN, i64::MAX).starts_with("expired"));

    let jwt = token(json!({"exp": now + 600, "iat": now - 60}));
    assert_eq!(
        jwt.describe_time("exp", now).as_deref(),
        Some("expires in 10 minutes")
    );
    assert_eq!(
        jwt.describe_time("iat", now).as_deref(),
        Some("issued 1 minute ago")
    );
    assert_eq!(jwt.describe_time("nbf", now), None);
    assert!(!jwt.is_expired(now));
    assert!(jwt.is_expired(now + 600));
}

#[test]
fn classifies_a_user_assigned_managed_identity() {
    let mirid = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x";
    let jwt = token(json!({
        "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"),
        "tid": TID, "idtyp": "app", "azp": "c", "xms_mirid": mirid,
    }));
    assert_eq!(
        classify(&jwt),
        TokenKind::ManagedIdentity {
            user_assigned: true,
            resource_id: Some(mirid.into())
        }
    );
    assert_eq!(classify(&jwt).label(), "managed identity (user-assigned)");
    assert_eq!(jwt.client_id(), Some("c"));
    // Case-insensitive resource type.
    let lower = token(
        json!({"iss": format!("https://sts.windows.net/{TID}/"), "xms_mirid": mirid.to_lowercase()}),
    );
    assert!(matches!(
        classify(&lower),
        TokenKind::ManagedIdentity {
            user_assigned: true,
            ..
        }
    ));
}

#[test]
fn classifies_a_system_assigned_managed_identity() {
    let jwt = token(json!({
        "iss": format!("https://login.microsoftonline.us/{TID}/v2.0"),
        "xms_mirid": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
    }));
    assert!(matches!(
        classify(&jwt),
        TokenKind::ManagedIdentity {
            user_assigned: false,
            ..
        }
    ));
    assert!(classify(&jwt).is_entra());
}

#[test]
fn classifies_app_and_user_tokens() {
    let iss = format!("https://sts.windows.net/{TID}/");
    assert_eq!(
        classify(&token(json!({"iss": iss, "idtyp": "app", "roles": ["a"]}))),
        TokenKind::App
    );
    assert_eq!(
        classify(&token(json!({"iss": iss, "roles": ["a"], "appid": "x"}))),
        TokenKind::App
    );
    assert_eq!(
        classify(&token(json!({"iss": iss, "idtyp": "user"}))),
        TokenKind::User
    );
    assert_eq!(
        classify(&token(
            json!({"iss": iss, "scp": "User.Read", "upn": "a@b"})
        )),
        TokenKind::User
    );
}

#[test]
fn classifies_sandbox_tokens_as_entra() {
    let jwt = token(
        json!({"iss": format!("https://localhost:8443/{TID}/v2.0"), "tid": TID, "idtyp": "app"}),
    );
    assert_eq!(classify(&jwt), TokenKind::App);
}

#[test]
fn classifies_external_issuers() {
    let gh = token(
        json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main"}),
    );
    assert_eq!(classify(&gh), TokenKind::GitHubActions);
    let aks = token(
        json!({"iss": "https://eastus.oic.prod-aks.azure.com/tid/cluster-guid/", "sub": "system:serviceaccount:ns:sa"}),
    );
    assert_eq!(classify(&aks), TokenKind::Kubernetes);
    let k8s = token(
        json!({"iss": "https://kubernetes.default.svc", "kubernetes.io": {"namespace": "ns"}}),
    );
    assert_eq!(classify(&k8s), TokenKind::Kubernetes);
    let eks = token(json!({"iss": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"}));
    assert_eq!(classify(&eks), TokenKind::Kubernetes);
    let other = token(json!({"iss": "https://accounts.google.com", "sub": "1"}));
    assert_eq!(
        classify(&other),
        TokenKind::OtherExternal {
            issuer: "https://accounts.google.com".into()
        }
    );
    assert!(!classify(&other).is_entra());
    let none = token(json!({"sub": "1"}));
    assert_eq!(classify(&none).label(), "token without an issuer");
}

#[test]
fn scopes_and_roles_as_lists() {
    let jwt = token(json!({"scp": "User.Read  Mail.Send", "roles": ["A", "B"]}));
    assert_eq!(jwt.scopes(), vec!["User.Read", "Mail.Send"]);
    assert_eq!(jwt.roles(), vec!["A", "B"]);
}

#[test]
fn claim_lines_in_reading_order_with_meanings_and_times() {
    let now = 1_700_000_000;
    let jwt = token(
        json!({"zzz": [1, 2], "exp": now + 3_600, "sub": "s", "iss": "i", "aud": "a", "custom": "c"}),
    );
    let lines = ficus::jwt::claim_lines(&jwt, now);
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, vec!["iss", "aud", "sub", "exp", "custom", "zzz"]);
    assert_eq!(lines[3].when.as_deref(), Some("expires in 1 hour"));
    assert_eq!(lines[3].value, (now + 3_600).to_string());
    assert!(lines[0].meaning.is_some());
    assert_eq!(lines[4].meaning, None);
    assert_eq!(lines[5].value, "[1,2]");
}
