use super::*;

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const OTHER_TENANT: &str = "99999999-2222-3333-4444-555555555555";

fn identity(name: &str, n: u8) -> Identity {
    Identity {
        name: name.into(),
        kind: IdentityKind::UserAssigned,
        client_id: format!("c{n:07}-0000-4000-8000-000000000000"),
        principal_id: format!("a{n:07}-0000-4000-8000-00000000000a"),
        arm_id: None,
        subscription: None,
        resource_group: None,
        tenant_id: Some(TENANT.into()),
    }
}

fn app(name: &str) -> AppRecord {
    AppRecord {
        object_id: format!("obj-{name}"),
        app_id: format!("app-{name}"),
        display_name: name.into(),
        unique_name: None,
    }
}

fn issuer() -> String {
    Cloud::global().issuer(TENANT)
}

fn mi_fic(name: &str, issuer: &str, subject: &str, audience: &str) -> Fic {
    Fic {
        id: Some(format!("id-{name}")),
        name: name.into(),
        issuer: issuer.into(),
        subject: subject.into(),
        audiences: vec![audience.into()],
        description: None,
    }
}

const EXCHANGE: &str = "api://AzureADTokenExchange";

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("date")
}

fn secret(days: i64) -> Credential {
    Credential {
        credential_type: CredentialType::Secret,
        key_id: format!("secret-{days}"),
        display_name: Some("deploy".into()),
        end: Some(now() + Duration::days(days)),
    }
}

fn certificate(days: i64) -> Credential {
    Credential {
        credential_type: CredentialType::Certificate,
        key_id: format!("cert-{days}"),
        display_name: Some("CN=x".into()),
        end: Some(now() + Duration::days(days)),
    }
}

fn snapshot(identities: Vec<Identity>, apps: Vec<AppSnapshot>) -> Snapshot {
    Snapshot {
        cloud: Cloud::global(),
        tenant_id: TENANT.into(),
        now: now(),
        identities,
        apps,
    }
}

fn one(name: &str, fics: Vec<Fic>, credentials: Vec<Credential>) -> AppSnapshot {
    AppSnapshot {
        app: app(name),
        fics,
        credentials,
    }
}

/// (kind, object name) of every finding.
fn summary(findings: &[AuditFinding]) -> Vec<(Kind, String)> {
    findings
        .iter()
        .map(|f| (f.kind, f.object_name().to_string()))
        .collect()
}

#[test]
fn the_classic_mistakes_are_named_by_kind_with_their_fix() {
    let pay = identity("id-payments", 1);
    let inv = identity("id-inventory", 2);
    let report = identity("id-reporting", 3);
    let apps = vec![
        one(
            "payments-api",
            vec![mi_fic(
                "mi-id-payments",
                &issuer(),
                &pay.principal_id,
                EXCHANGE,
            )],
            vec![],
        ),
        one(
            "inventory-sync",
            vec![mi_fic(
                "mi-id-inventory",
                &issuer(),
                &inv.client_id,
                EXCHANGE,
            )],
            vec![],
        ),
        one(
            "reporting-portal",
            vec![mi_fic(
                "mi-id-reporting",
                &format!("{}/", issuer()),
                &report.principal_id,
                EXCHANGE,
            )],
            vec![],
        ),
        one(
            "gov-exporter",
            vec![mi_fic(
                "mi-gov",
                &issuer(),
                &pay.principal_id,
                "api://AzureADTokenExchangeUSGov",
            )],
            vec![],
        ),
        one(
            "orders-api",
            vec![mi_fic(
                "mi-id-inventory",
                &issuer(),
                &inv.principal_id.to_uppercase(),
                EXCHANGE,
            )],
            vec![],
        ),
        one(
            "other-tenant",
            vec![mi_fic(
                "mi-x",
                &Cloud::global().issuer(OTHER_TENANT),
                &pay.principal_id,
                EXCHANGE,
            )],
            vec![],
        ),
        one(
            "other-cloud",
            vec![mi_fic(
                "mi-x",
                &Cloud::us_gov().issuer(TENANT),
                &pay.principal_id,
                EXCHANGE,
            )],
            vec![],
        ),
        one(
            "padded",
            vec![mi_fic(
                "mi-x",
                &issuer(),
                &format!(" {}", pay.principal_id),
                EXCHANGE,
            )],
            vec![],
        ),
    ];
    let findings = audit(&snapshot(vec![pay.clone(), inv.clone(), report], apps));
    let mut got = summary(&findings);
    got.sort();
    let mut expected = vec![
        (Kind::ClientIdAsSubject, "inventory-sync".to_string()),
        (Kind::SubjectCase, "orders-api".into()),
        (Kind::IssuerTrailingSlash, "reporting-portal".into()),
        (Kind::IssuerOtherTenant, "other-tenant".into()),
        (Kind::IssuerOtherCloud, "other-cloud".into()),
        (Kind::AudienceOtherCloud, "gov-exporter".into()),
        (Kind::Whitespace, "padded".into()),
    ];
    expected.sort();
    assert_eq!(got, expected, "{findings:#?}");
    let client = findings
        .iter()
        .find(|f| f.kind == Kind::ClientIdAsSubject)
        .expect("client id finding");
    assert_eq!(client.severity, Severity::Error);
    assert_eq!(
        client.identity.as_ref().map(|i| i.name.as_str()),
        Some("id-inventory")
    );
    assert_eq!(
        client.fix.as_ref().map(|f| f.value.as_str()),
        Some(inv.principal_id.as_str())
    );
    assert_eq!(client.field, Some(Field::Subject));
    assert!(client.action.contains("principal id"), "{}", client.action);
}

#[test]
fn an_orphaned_trust_says_deleted_or_recreated() {
    let recreated = identity("id-payments", 7);
    let deleted_principal = "d0000000-0000-4000-8000-0000000000dd";
    let old_payments = "e0000000-0000-4000-8000-0000000000ee";
    let apps = vec![
        one(
            "payments-api",
            vec![mi_fic("mi-id-payments", &issuer(), old_payments, EXCHANGE)],
            vec![],
        ),
        one(
            "gone",
            vec![mi_fic("mi-id-gone", &issuer(), deleted_principal, EXCHANGE)],
            vec![],
        ),
    ];
    let findings = audit(&snapshot(vec![recreated.clone()], apps));
    let orphans: Vec<&AuditFinding> = findings
        .iter()
        .filter(|f| f.kind == Kind::OrphanedTrust)
        .collect();
    assert_eq!(orphans.len(), 2, "{findings:#?}");
    let gone = orphans
        .iter()
        .find(|f| f.object_name() == "gone")
        .expect("gone");
    assert!(gone.message.contains("deleted"), "{}", gone.message);
    assert_eq!(gone.fix, None);
    let pay = orphans
        .iter()
        .find(|f| f.object_name() == "payments-api")
        .expect("payments-api");
    assert!(pay.message.contains("recreated"), "{}", pay.message);
    assert_eq!(
        pay.fix.as_ref().map(|f| f.value.as_str()),
        Some(recreated.principal_id.as_str())
    );
    // No FIC names the recreated identity's new principal id: it is untrusted too.
    assert!(
        findings
            .iter()
            .any(|f| f.kind == Kind::UntrustedIdentity && f.object_name() == "id-payments")
    );
}

#[test]
fn duplicates_and_the_fic_limit_are_app_level_findings() {
    let pay = identity("id-payments", 1);
    let exact = vec![
        mi_fic("a-one", &issuer(), &pay.principal_id, EXCHANGE),
        mi_fic("a-two", &issuer(), &pay.principal_id, EXCHANGE),
    ];
    let spelled = vec![
        mi_fic("b-one", &issuer(), &pay.principal_id, EXCHANGE),
        mi_fic(
            "b-two",
            &format!("{}/", issuer()),
            &pay.principal_id,
            EXCHANGE,
        ),
    ];
    let many: Vec<Fic> = (0..20)
        .map(|i| {
            mi_fic(
                &format!("gh-{i}"),
                traps::GITHUB_ISSUER,
                &format!("repo:contoso/r{i}:ref:refs/heads/main"),
                EXCHANGE,
            )
        })
        .collect();
    let near: Vec<Fic> = many[..17].to_vec();
    let findings = audit(&snapshot(
        vec![pay],
        vec![
            one("exact", exact, vec![]),
            one("spelled", spelled, vec![]),
            one("full", many, vec![]),
            one("near", near, vec![]),
        ],
    ));
    let got = summary(&findings);
    assert!(
        got.contains(&(Kind::DuplicateTrust, "exact".into())),
        "{got:?}"
    );
    assert!(
        !got.contains(&(Kind::IdentityTrustedTwice, "exact".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&(Kind::IdentityTrustedTwice, "spelled".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&(Kind::IssuerTrailingSlash, "spelled".into())),
        "{got:?}"
    );
    let limit: Vec<(&str, Severity)> = findings
        .iter()
        .filter(|f| f.kind == Kind::FicLimit)
        .map(|f| (f.object_name(), f.severity))
        .collect();
    assert_eq!(
        limit,
        vec![("full", Severity::Warning), ("near", Severity::Info)]
    );
}

#[test]
fn credentials_by_expiry_and_the_leftover_secret() {
    let pay = identity("id-payments", 1);
    let working = mi_fic("mi-id-payments", &issuer(), &pay.principal_id, EXCHANGE);
    let apps = vec![
        one("migrated", vec![working], vec![secret(200)]),
        one("expired", vec![], vec![secret(-35), certificate(-1)]),
        one("soon", vec![], vec![secret(10), certificate(30)]),
        one("later", vec![], vec![secret(68), certificate(89)]),
        one("fine", vec![], vec![secret(91), certificate(400)]),
    ];
    let findings = audit(&snapshot(vec![pay], apps));
    let got = summary(&findings);
    assert_eq!(
        got,
        vec![
            (Kind::SecretExpired, "expired".to_string()),
            (Kind::CertificateExpired, "expired".into()),
            (Kind::SecretExpiresWithin30Days, "soon".into()),
            (Kind::CertificateExpiresWithin30Days, "soon".into()),
            (Kind::LeftoverSecret, "migrated".into()),
            (Kind::SecretExpiresWithin90Days, "later".into()),
            (Kind::CertificateExpiresWithin90Days, "later".into()),
        ],
        "worst first, nothing on 'fine'"
    );
    let expired = &findings[0];
    assert_eq!(expired.severity, Severity::Error);
    assert!(
        expired.message.contains("expired 35 days ago"),
        "{}",
        expired.message
    );
    assert_eq!(expired.date, Some(now() - Duration::days(35)));
}

#[test]
fn a_broken_fic_is_not_a_working_one_and_identities_no_app_names_are_listed() {
    let pay = identity("id-payments", 1);
    let lonely = identity("id-lonely", 2);
    let mut system = identity("vm-legacy", 3);
    system.kind = IdentityKind::SystemAssigned;
    let broken = mi_fic(
        "mi-id-payments",
        &format!("{}/", issuer()),
        &pay.principal_id,
        EXCHANGE,
    );
    let findings = audit(&snapshot(
        vec![pay, lonely, system],
        vec![one("half-migrated", vec![broken], vec![secret(200)])],
    ));
    let got = summary(&findings);
    assert_eq!(
        got,
        vec![
            (Kind::IssuerTrailingSlash, "half-migrated".to_string()),
            (Kind::UntrustedIdentity, "id-lonely".into()),
        ],
        "no leftover secret beside a FIC that does not work; system-assigned identities are not listed"
    );
}

#[test]
fn other_issuers_traps_come_from_their_values() {
    let fics = vec![
        mi_fic(
            "pull",
            traps::GITHUB_ISSUER,
            "repo:o/r:pull-request",
            EXCHANGE,
        ),
        mi_fic(
            "env",
            traps::GITHUB_ISSUER,
            "repo:o/r:environment:prod",
            EXCHANGE,
        ),
        mi_fic(
            "k8s",
            "https://westeurope.oic.prod-aks.azure.com/t/c/",
            "system:serviceaccount:ns",
            EXCHANGE,
        ),
    ];
    let findings = audit(&snapshot(vec![], vec![one("ci", fics, vec![])]));
    let kinds: Vec<(Kind, Option<String>)> = findings
        .iter()
        .map(|f| (f.kind, f.fic.as_ref().map(|x| x.name.clone())))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Kind::GithubPullRequest, Some("pull".to_string())),
            (Kind::KubernetesSubject, Some("k8s".into())),
        ]
    );
}

#[test]
fn streaming_app_by_app_equals_the_whole_snapshot() {
    let pay = identity("id-payments", 1);
    let identities = vec![pay.clone(), identity("id-idle", 2)];
    let apps = vec![
        one(
            "a",
            vec![mi_fic(
                "mi-id-payments",
                &issuer(),
                &pay.client_id,
                EXCHANGE,
            )],
            vec![secret(5)],
        ),
        one("b", vec![], vec![certificate(-3)]),
    ];
    let whole = audit(&snapshot(identities.clone(), apps.clone()));
    let cloud = Cloud::global();
    let mut auditor = Auditor::new(&cloud, TENANT, &identities, now());
    let mut streamed: Vec<AuditFinding> = apps.iter().flat_map(|a| auditor.app(a)).collect();
    streamed.extend(auditor.finish());
    sort(&mut streamed);
    assert_eq!(whole, streamed);
    assert_eq!(
        counts(&whole),
        vec![
            (Kind::ClientIdAsSubject, Severity::Error, 1),
            (Kind::CertificateExpired, Severity::Error, 1),
            (Kind::SecretExpiresWithin30Days, Severity::Warning, 1),
            (Kind::UntrustedIdentity, Severity::Info, 1),
        ]
    );
}

#[test]
fn kind_codes_are_unique_and_parse_back() {
    let codes: HashSet<&str> = Kind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes.len(), Kind::ALL.len());
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.code()), Some(kind));
        assert!(!kind.rule().is_empty() && !kind.title().is_empty());
    }
    assert_eq!(Severity::parse("Warning"), Some(Severity::Warning));
    assert_eq!(Severity::parse("nope"), None);
}

#[test]
fn a_recreated_identity_is_recognised_by_the_description_ficus_wrote() {
    let recreated = identity("id-payments", 7);
    let old_principal = "e0000000-0000-4000-8000-0000000000ee";
    let mut renamed = mi_fic("payments-trust", &issuer(), old_principal, EXCHANGE);
    renamed.description = Some(crate::fic::autofill::description_for(
        &crate::fic::AppRef {
            app_id: "app-payments-api".into(),
            display_name: "payments-api".into(),
        },
        &recreated,
    ));
    let unrelated = mi_fic("payments-trust", &issuer(), old_principal, EXCHANGE);
    let findings = audit(&snapshot(
        vec![recreated.clone()],
        vec![
            one("described", vec![renamed], vec![]),
            one("bare", vec![unrelated], vec![]),
        ],
    ));
    let fix_of = |app: &str| {
        findings
            .iter()
            .find(|f| f.kind == Kind::OrphanedTrust && f.object_name() == app)
            .map(|f| f.fix.as_ref().map(|x| x.value.clone()))
    };
    assert_eq!(
        fix_of("described"),
        Some(Some(recreated.principal_id.clone())),
        "the description names id-payments: recreated"
    );
    assert_eq!(fix_of("bare"), Some(None), "nothing names it: deleted");
}
