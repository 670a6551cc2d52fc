//! Seed data: the demo tenants (`contoso`, `fabrikam`), an empty directory, or a large
//! synthetic one. Ids are derived from names ([`derived_uuid`]) so runs are reproducible;
//! times are relative to now.

use base64::Engine;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::keys::{KeyError, SeedKey, seed_material};
use crate::model::{
    AppRole, AppRoleAssignment, Application, Directory, DirectoryRole, EmulatedHost,
    FORMAT_VERSION, FederatedIdentityCredential, GRAPH_APP_ID, GRAPH_CLI_APP_ID, KeyCredential,
    ManagedIdentity, ManagedIdentityKind, PasswordCredential, PermissionGrant, PermissionScope,
    ServicePrincipal, ServicePrincipalType, Tenant, Timestamp, User, derived_uuid,
};
use ficus_core::secret::Secret;

/// Which directory a new sandbox starts with (ignored when the state file exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    #[default]
    Demo,
    Empty,
    /// The demo seed plus this many synthetic app registrations in `contoso` (with one
    /// user-assigned identity per 10 apps and a FIC on every other app).
    Large(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown seed '{0}'; use demo, empty or large:N (e.g. large:100000)")]
pub struct SeedParseError(pub String);

impl std::str::FromStr for Seed {
    type Err = SeedParseError;
    fn from_str(s: &str) -> Result<Seed, SeedParseError> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            _ => t
                .strip_prefix("large:")
                .and_then(|n| n.trim().replace('_', "").parse::<usize>().ok())
                .map(Seed::Large)
                .ok_or_else(|| SeedParseError(s.to_string())),
        }
    }
}

pub const CONTOSO: &str = "contoso";
pub const FABRIKAM: &str = "fabrikam";
pub const DEMO_ADMIN: &str = "admin@contoso.onmicrosoft.com";
pub const DEMO_READER: &str = "reader@contoso.onmicrosoft.com";
pub const FABRIKAM_ADMIN: &str = "admin@fabrikam.onmicrosoft.com";
const LOCATION: &str = "westeurope";
const RESOURCE_GROUP: &str = "rg-workloads";

pub fn tenant_id(name: &str) -> Uuid {
    derived_uuid(&format!("tenant/{name}"))
}

pub fn subscription_id(tenant: &str) -> Uuid {
    derived_uuid(&format!("{tenant}/subscription"))
}

/// The client secret the seed gives `app` in `tenant` (deterministic, Entra-shaped:
/// three characters, `8Q~`, then 34 more).
pub fn demo_secret(tenant: &str, app: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{tenant}/secret/{app}").as_bytes(),
    );
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    let text = text.replace('-', "a").replace('_', "b");
    format!("{}8Q~{}", &text[..3], &text[3..37])
}

/// Principal (object) id and client id of a seeded managed identity.
pub fn identity_ids(tenant: &str, name: &str) -> (Uuid, Uuid) {
    (
        derived_uuid(&format!("{tenant}/mi/{name}/principal")),
        derived_uuid(&format!("{tenant}/mi/{name}/client")),
    )
}

/// Object id and app id of a seeded app registration.
pub fn app_ids(tenant: &str, name: &str) -> (Uuid, Uuid) {
    (
        derived_uuid(&format!("{tenant}/app/{name}")),
        derived_uuid(&format!("{tenant}/app/{name}/appId")),
    )
}

/// Builds the seed, signed with the process's key ([`SeedKey::PerProcess`]). `authority`
/// (`https://127.0.0.1:8443`) goes into FIC issuers.
pub fn build(seed: Seed, authority: &str) -> Result<Directory, KeyError> {
    build_with_key(seed, authority, SeedKey::PerProcess)
}

/// [`build`] with the signing key `key` asks for.
pub fn build_with_key(seed: Seed, authority: &str, key: SeedKey) -> Result<Directory, KeyError> {
    let now = OffsetDateTime::now_utc();
    let authority = authority.trim_end_matches('/');
    // Entra's signing keys are global: one key signs for every tenant.
    let key = seed_material(key)?;
    let mut contoso = Tenant::new(
        tenant_id(CONTOSO),
        CONTOSO,
        "contoso.onmicrosoft.com",
        "Contoso",
        now - Duration::days(900),
        key.clone(),
    );
    let mut fabrikam = Tenant::new(
        tenant_id(FABRIKAM),
        FABRIKAM,
        "fabrikam.onmicrosoft.com",
        "Fabrikam",
        now - Duration::days(700),
        key,
    );
    let vm_id = format!(
        "/subscriptions/{}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute/virtualMachines/vm-legacy",
        subscription_id(CONTOSO)
    );
    let mut host = EmulatedHost {
        tenant_id: contoso.id,
        resource_id: vm_id,
        system_assigned: None,
        user_assigned: Vec::new(),
    };
    if seed != Seed::Empty {
        demo(&mut contoso, &mut fabrikam, &mut host, authority, now);
    }
    if let Seed::Large(n) = seed {
        large(&mut contoso, n, authority, now);
    }
    let mut directory = Directory {
        format_version: FORMAT_VERSION,
        authority: Some(authority.to_string()),
        tenants: vec![contoso, fabrikam],
        host,
        audit: Default::default(),
    };
    directory.reindex();
    if seed != Seed::Empty {
        let ids = crate::sign_in_history::DemoIds {
            contoso: tenant_id(CONTOSO),
            fabrikam: tenant_id(FABRIKAM),
            billing_worker: app_ids(CONTOSO, "billing-worker").1,
            payments_api: app_ids(CONTOSO, "payments-api").1,
            inventory_sync: app_ids(CONTOSO, "inventory-sync").1,
            id_payments: identity_ids(CONTOSO, "id-payments").0,
            id_inventory: identity_ids(CONTOSO, "id-inventory").0,
        };
        crate::sign_in_history::seed_demo_history(&mut directory, &ids, now);
    }
    Ok(directory)
}

fn user(
    tenant: &str,
    upn: &str,
    given: &str,
    surname: &str,
    title: &str,
    roles: Vec<DirectoryRole>,
) -> User {
    User {
        id: derived_uuid(&format!("{tenant}/user/{upn}")),
        user_principal_name: upn.to_string(),
        display_name: format!("{given} {surname}"),
        given_name: Some(given.to_string()),
        surname: Some(surname.to_string()),
        mail: Some(upn.to_string()),
        job_title: Some(title.to_string()),
        roles,
    }
}

fn uami(tenant: &Tenant, name: &str) -> ServicePrincipal {
    let (principal, client) = identity_ids(&tenant.name, name);
    let subscription = subscription_id(&tenant.name);
    let arm_id = format!(
        "/subscriptions/{subscription}/resourcegroups/{RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    );
    managed_identity_sp(
        tenant,
        principal,
        client,
        name,
        ManagedIdentityKind::UserAssigned,
        arm_id,
        subscription,
    )
}

#[allow(clippy::too_many_arguments)]
fn managed_identity_sp(
    tenant: &Tenant,
    principal: Uuid,
    client: Uuid,
    name: &str,
    kind: ManagedIdentityKind,
    arm_id: String,
    subscription: Uuid,
) -> ServicePrincipal {
    let explicit = if kind == ManagedIdentityKind::UserAssigned {
        "isExplicit=True"
    } else {
        "isExplicit=False"
    };
    let spn_suffix = base64::engine::general_purpose::STANDARD
        .encode(derived_uuid(&format!("{}/spn/{name}", tenant.name)).as_bytes());
    ServicePrincipal {
        id: principal,
        app_id: client,
        display_name: name.to_string(),
        service_principal_type: ServicePrincipalType::ManagedIdentity,
        alternative_names: vec![explicit.to_string(), arm_id.clone()],
        service_principal_names: vec![
            client.to_string(),
            format!("https://identity.azure.net/{spn_suffix}"),
        ],
        app_owner_organization_id: None,
        account_enabled: true,
        sign_in_audience: None,
        app_role_assignments: Vec::new(),
        owners: Vec::new(),
        managed_identity: Some(ManagedIdentity {
            kind,
            resource_id: arm_id,
            subscription_id: subscription,
            resource_group: RESOURCE_GROUP.to_string(),
            name: name.to_string(),
            location: LOCATION.to_string(),
        }),
    }
}

fn app(tenant: &Tenant, name: &str, created: OffsetDateTime) -> Application {
    let (id, app_id) = app_ids(&tenant.name, name);
    Application {
        id,
        app_id,
        display_name: name.to_string(),
        description: None,
        created_date_time: Timestamp(created),
        sign_in_audience: "AzureADMyOrg".into(),
        identifier_uris: Vec::new(),
        publisher_domain: Some(tenant.domain.clone()),
        password_credentials: Vec::new(),
        key_credentials: Vec::new(),
        federated_identity_credentials: Vec::new(),
        app_roles: Vec::new(),
        is_fallback_public_client: false,
        owners: Vec::new(),
        api: Default::default(),
    }
}

fn secret(
    tenant: &str,
    app: &str,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> PasswordCredential {
    let value = demo_secret(tenant, app);
    PasswordCredential {
        key_id: derived_uuid(&format!("{tenant}/secret-id/{app}")),
        display_name: Some(format!("{app} secret")),
        hint: value[..3].to_string(),
        start_date_time: Timestamp(start),
        end_date_time: Timestamp(end),
        secret_text: Secret::new(value),
    }
}

fn fic(
    tenant: &str,
    app: &str,
    name: &str,
    issuer: String,
    subject: String,
    audience: &str,
    created: OffsetDateTime,
) -> FederatedIdentityCredential {
    FederatedIdentityCredential {
        id: derived_uuid(&format!("{tenant}/app/{app}/fic/{name}")),
        name: name.to_string(),
        issuer,
        subject,
        audiences: vec![audience.to_string()],
        description: None,
        created_at: Timestamp(created),
    }
}

fn sp_for(tenant: &Tenant, app: &Application, home: Uuid) -> ServicePrincipal {
    ServicePrincipal {
        id: derived_uuid(&format!("{}/sp/{}", tenant.name, app.app_id)),
        app_id: app.app_id,
        display_name: app.display_name.clone(),
        service_principal_type: ServicePrincipalType::Application,
        alternative_names: Vec::new(),
        service_principal_names: std::iter::once(app.app_id.to_string())
            .chain(app.identifier_uris.iter().cloned())
            .collect(),
        app_owner_organization_id: Some(home),
        account_enabled: true,
        sign_in_audience: Some(app.sign_in_audience.clone()),
        app_role_assignments: Vec::new(),
        managed_identity: None,
        // The portal makes whoever registers an app the owner of its enterprise app too; a
        // principal in another tenant has none of the home tenant's users.
        owners: if home == tenant.id {
            app.owners.clone()
        } else {
            Vec::new()
        },
    }
}

fn graph_role(tenant: &str, app: &str, value: &str, created: OffsetDateTime) -> AppRoleAssignment {
    AppRoleAssignment {
        id: derived_uuid(&format!("{tenant}/assignment/{app}/{value}")),
        resource_app_id: GRAPH_APP_ID,
        resource_display_name: "Microsoft Graph".into(),
        app_role_id: derived_uuid(&format!("graph/role/{value}")),
        app_role_value: value.to_string(),
        created_date_time: Timestamp(created),
    }
}

/// Adds an app registration and its service principal in its home tenant.
fn register(tenant: &mut Tenant, app: Application, graph_roles: &[&str], now: OffsetDateTime) {
    let mut sp = sp_for(tenant, &app, tenant.id);
    for role in graph_roles {
        sp.app_role_assignments.push(graph_role(
            &tenant.name,
            &app.display_name,
            role,
            now - Duration::days(30),
        ));
    }
    tenant.insert_service_principal(sp);
    tenant.insert_application(app);
}

const ORDINARY_APPS: [&str; 40] = [
    "hr-portal",
    "expense-tracker",
    "intranet-search",
    "crm-connector",
    "marketing-site",
    "data-lake-loader",
    "invoice-parser",
    "support-bot",
    "build-agent",
    "release-pipeline",
    "nightly-backup",
    "ledger-sync",
    "shipping-tracker",
    "warehouse-scanner",
    "pricing-engine",
    "catalog-api",
    "loyalty-service",
    "fraud-detector",
    "email-relay",
    "sms-gateway",
    "feature-flags",
    "audit-collector",
    "metrics-exporter",
    "log-shipper",
    "cost-reporter",
    "identity-sync",
    "timesheet-app",
    "room-booking",
    "visitor-kiosk",
    "contract-vault",
    "recruiting-portal",
    "learning-hub",
    "survey-tool",
    "translation-api",
    "map-tiles",
    "quote-generator",
    "partner-portal",
    "dev-sandbox",
    "qa-automation",
    "legacy-fax-bridge",
];

fn demo(
    contoso: &mut Tenant,
    fabrikam: &mut Tenant,
    host: &mut EmulatedHost,
    authority: &str,
    now: OffsetDateTime,
) {
    let c = CONTOSO;
    let issuer = format!("{authority}/{}/v2.0", contoso.id);
    let exchange = "api://AzureADTokenExchange";

    for u in [
        user(
            c,
            DEMO_ADMIN,
            "Ada",
            "Admin",
            "Cloud Platform Lead",
            vec![DirectoryRole::ApplicationAdministrator],
        ),
        user(c, DEMO_READER, "Rui", "Reader", "Auditor", Vec::new()),
    ] {
        contoso.users.insert(u.id, u);
    }
    let fab_admin = user(
        FABRIKAM,
        FABRIKAM_ADMIN,
        "Fay",
        "Brik",
        "IT Director",
        vec![DirectoryRole::GlobalAdministrator],
    );
    fabrikam.users.insert(fab_admin.id, fab_admin);

    // Managed identities.
    for name in ["id-payments", "id-inventory", "id-reporting", "id-orphan"] {
        let sp = uami(contoso, name);
        if name != "id-orphan" {
            host.user_assigned.push(sp.id);
        }
        contoso.insert_service_principal(sp);
    }
    let (vm_principal, vm_client) = identity_ids(c, "vm-legacy");
    let vm = managed_identity_sp(
        contoso,
        vm_principal,
        vm_client,
        "vm-legacy",
        ManagedIdentityKind::SystemAssigned,
        host.resource_id.clone(),
        subscription_id(c),
    );
    host.system_assigned = Some(vm.id);
    contoso.insert_service_principal(vm);

    let (payments_mi, _) = identity_ids(c, "id-payments");
    let (inventory_mi, inventory_client) = identity_ids(c, "id-inventory");
    let (reporting_mi, _) = identity_ids(c, "id-reporting");
    let admin_id = derived_uuid(&format!("{c}/user/{DEMO_ADMIN}"));

    // payments-api: a correct FIC; secret expiring in 10 days.
    let mut a = app(contoso, "payments-api", now - Duration::days(200));
    a.description = Some("Payments backend; runs on vm-legacy as id-payments".into());
    a.identifier_uris = vec![format!("api://{}", a.app_id)];
    a.app_roles = vec![AppRole {
        id: derived_uuid("contoso/app/payments-api/role/Payments.Process"),
        value: "Payments.Process".into(),
        display_name: "Process payments".into(),
        description: "Lets a daemon submit payments.".into(),
        allowed_member_types: vec!["Application".into()],
        is_enabled: true,
    }];
    // An API with the default access token version (v1) that publishes one delegated scope.
    a.api.oauth2_permission_scopes = vec![PermissionScope {
        id: derived_uuid("contoso/app/payments-api/scope/user_impersonation"),
        value: "user_impersonation".into(),
        consent_type: "User".into(),
        admin_consent_display_name: "Access payments-api".into(),
        is_enabled: true,
    }];
    a.password_credentials.push(secret(
        c,
        "payments-api",
        now - Duration::days(355),
        now + Duration::days(10),
    ));
    a.federated_identity_credentials.push(fic(
        c,
        "payments-api",
        "mi-id-payments",
        issuer.clone(),
        payments_mi.to_string(),
        exchange,
        now - Duration::days(60),
    ));
    a.owners.push(admin_id);
    register(contoso, a, &["Application.Read.All"], now);

    // inventory-sync: subject is the identity's CLIENT id (the classic mistake).
    let mut a = app(contoso, "inventory-sync", now - Duration::days(150));
    a.federated_identity_credentials.push(fic(
        c,
        "inventory-sync",
        "mi-id-inventory",
        issuer.clone(),
        inventory_client.to_string(),
        exchange,
        now - Duration::days(20),
    ));
    register(contoso, a, &[], now);

    // reporting-portal: issuer with a trailing slash.
    let mut a = app(contoso, "reporting-portal", now - Duration::days(120));
    a.federated_identity_credentials.push(fic(
        c,
        "reporting-portal",
        "mi-id-reporting",
        format!("{issuer}/"),
        reporting_mi.to_string(),
        exchange,
        now - Duration::days(15),
    ));
    register(contoso, a, &[], now);

    // gov-exporter: the US Gov audience in this global tenant.
    let mut a = app(contoso, "gov-exporter", now - Duration::days(90));
    a.federated_identity_credentials.push(fic(
        c,
        "gov-exporter",
        "mi-id-payments-gov",
        issuer.clone(),
        payments_mi.to_string(),
        "api://AzureADTokenExchangeUSGov",
        now - Duration::days(9),
    ));
    register(contoso, a, &[], now);

    // orders-api: subject differs from the principal id only in letter case.
    let mut a = app(contoso, "orders-api", now - Duration::days(80));
    a.federated_identity_credentials.push(fic(
        c,
        "orders-api",
        "mi-id-inventory",
        issuer.clone(),
        inventory_mi.to_string().to_uppercase(),
        exchange,
        now - Duration::days(8),
    ));
    register(contoso, a, &[], now);

    // billing-worker: no FIC, an expired secret.
    let mut a = app(contoso, "billing-worker", now - Duration::days(800));
    a.password_credentials.push(secret(
        c,
        "billing-worker",
        now - Duration::days(730),
        now - Duration::days(35),
    ));
    register(contoso, a, &[], now);

    // legacy-crm: certificate near expiry.
    let mut a = app(contoso, "legacy-crm", now - Duration::days(1000));
    let thumb = derived_uuid("contoso/cert/legacy-crm");
    a.key_credentials.push(KeyCredential {
        key_id: derived_uuid("contoso/cert-id/legacy-crm"),
        display_name: Some("CN=legacy-crm.contoso.com".into()),
        key_type: "AsymmetricX509Cert".into(),
        usage: "Verify".into(),
        custom_key_identifier: base64::engine::general_purpose::STANDARD
            .encode(&thumb.as_bytes()[..]),
        start_date_time: Timestamp(now - Duration::days(716)),
        end_date_time: Timestamp(now + Duration::days(14)),
        key: None,
    });
    register(contoso, a, &[], now);

    // partner-sync: multitenant, provisioned in fabrikam too; trusts id-inventory correctly.
    let mut a = app(contoso, "partner-sync", now - Duration::days(300));
    a.sign_in_audience = "AzureADMultipleOrgs".into();
    a.identifier_uris = vec![format!("api://{}", a.app_id)];
    a.federated_identity_credentials.push(fic(
        c,
        "partner-sync",
        "mi-id-inventory",
        issuer.clone(),
        inventory_mi.to_string(),
        exchange,
        now - Duration::days(100),
    ));
    let mut foreign = sp_for(fabrikam, &a, contoso.id);
    foreign.app_role_assignments.push(graph_role(
        FABRIKAM,
        "partner-sync",
        "Application.Read.All",
        now - Duration::days(50),
    ));
    fabrikam.insert_service_principal(foreign);
    register(contoso, a, &[], now);

    // A public client registered in the tenant (device code without a secret).
    let mut a = app(contoso, "ficus-console", now - Duration::days(10));
    a.is_fallback_public_client = true;
    a.description = Some("Public client for sign-in from a terminal".into());
    register(contoso, a, &[], now);

    // Ordinary apps, some with secrets or a GitHub Actions FIC so lists look real. They are
    // correct: their secrets end more than 90 days out, so `ficus audit` finds nothing on them.
    for (i, name) in ORDINARY_APPS.iter().enumerate() {
        let age = 30 + (i as i64 * 17) % 900;
        let mut a = app(contoso, name, now - Duration::days(age));
        if i % 3 == 0 {
            a.password_credentials.push(secret(
                c,
                name,
                now - Duration::days(age),
                now + Duration::days((365 - (i as i64 * 11) % 300).max(120)),
            ));
        }
        if i % 7 == 2 {
            a.federated_identity_credentials.push(fic(
                c,
                name,
                "github-main",
                "https://token.actions.githubusercontent.com".into(),
                format!("repo:contoso/{name}:ref:refs/heads/main"),
                exchange,
                now - Duration::days(age / 2),
            ));
        }
        register(contoso, a, &[], now);
    }

    // Fabrikam's own app.
    let a = app(fabrikam, "fabrikam-erp", now - Duration::days(400));
    register(fabrikam, a, &[], now);

    // Consent: an administrator granted the Graph command line tools and ficus-console what
    // ficus asks for, for every user (admin consent).
    let console = app_ids(c, "ficus-console").1;
    let grant = |client_app_id| PermissionGrant {
        client_app_id,
        resource_app_id: GRAPH_APP_ID,
        scope: CONSENTED_GRAPH_SCOPES.into(),
        principal_id: None,
    };
    contoso.permission_grants.push(grant(GRAPH_CLI_APP_ID));
    contoso.permission_grants.push(grant(console));
    fabrikam.permission_grants.push(grant(GRAPH_CLI_APP_ID));
}

/// The Graph scopes the demo tenants consented to for the Graph command line tools and
/// ficus-console.
pub const CONSENTED_GRAPH_SCOPES: &str =
    "Application.ReadWrite.All Directory.Read.All User.Read openid profile offline_access email";

fn large(contoso: &mut Tenant, n: usize, authority: &str, now: OffsetDateTime) {
    let c = CONTOSO;
    let issuer = format!("{authority}/{}/v2.0", contoso.id);
    let identities = n.div_ceil(10);
    let mut principals = Vec::with_capacity(identities);
    for i in 0..identities {
        let sp = uami(contoso, &format!("id-synth-{i:06}"));
        principals.push(sp.id);
        contoso.insert_service_principal(sp);
    }
    for i in 0..n {
        let name = format!("synthetic-app-{i:06}");
        let mut a = app(contoso, &name, now - Duration::days((i % 1000) as i64));
        if i % 2 == 0 && !principals.is_empty() {
            let subject = principals[(i / 10) % principals.len()];
            a.federated_identity_credentials
                .push(FederatedIdentityCredential {
                    id: derived_uuid(&format!("{c}/app/{name}/fic/0")),
                    name: format!("mi-{}", (i / 10) % principals.len()),
                    issuer: issuer.clone(),
                    subject: subject.to_string(),
                    audiences: vec!["api://AzureADTokenExchange".into()],
                    description: None,
                    created_at: Timestamp(now - Duration::days(1)),
                });
        }
        contoso.insert_application(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seeds() {
        assert_eq!("demo".parse::<Seed>(), Ok(Seed::Demo));
        assert_eq!("Empty".parse::<Seed>(), Ok(Seed::Empty));
        assert_eq!("large:100_000".parse::<Seed>(), Ok(Seed::Large(100_000)));
        assert!("large:x".parse::<Seed>().is_err());
        assert!("huge".parse::<Seed>().is_err());
    }

    #[test]
    fn demo_seed_has_the_named_lessons_and_is_reproducible() {
        let d = build(Seed::Demo, "https://127.0.0.1:8443").expect("seed");
        let contoso = d.tenant("contoso.onmicrosoft.com").expect("contoso");
        assert_eq!(contoso.id, tenant_id(CONTOSO));
        assert!(d.tenant("fabrikam").is_some());
        let admin = contoso.user(DEMO_ADMIN).expect("admin");
        assert!(admin.can_manage_all_applications());
        assert!(
            !contoso
                .user(DEMO_READER)
                .expect("reader")
                .can_manage_all_applications()
        );
        let (payments_mi, payments_client) = identity_ids(CONTOSO, "id-payments");
        let payments = contoso
            .application_by_app_id(app_ids(CONTOSO, "payments-api").1)
            .expect("payments-api");
        let f = &payments.federated_identity_credentials[0];
        assert_eq!(f.subject, payments_mi.to_string());
        assert_eq!(
            f.issuer,
            format!("https://127.0.0.1:8443/{}/v2.0", contoso.id)
        );
        let inventory = contoso
            .applications
            .values()
            .find(|a| a.display_name == "inventory-sync")
            .expect("inventory-sync");
        assert_eq!(
            inventory.federated_identity_credentials[0].subject,
            identity_ids(CONTOSO, "id-inventory").1.to_string()
        );
        assert!(contoso.applications.len() >= 45);
        assert!(d.host.user_assigned.contains(&payments_mi));
        assert!(
            !d.host
                .user_assigned
                .contains(&identity_ids(CONTOSO, "id-orphan").0)
        );
        assert!(d.host.system_assigned.is_some());
        let mi = contoso.service_principals.get(&payments_mi).expect("mi sp");
        assert_eq!(mi.app_id, payments_client);
        assert_eq!(mi.alternative_names[0], "isExplicit=True");
        let partner = app_ids(CONTOSO, "partner-sync").1;
        assert!(
            d.tenant("fabrikam")
                .expect("fabrikam")
                .service_principal_by_app_id(partner)
                .is_some()
        );
        let secret = demo_secret(CONTOSO, "payments-api");
        assert_eq!(secret.len(), 40);
        assert_eq!(&secret[3..6], "8Q~");
    }

    #[test]
    fn large_seed_scales() {
        let d = build(Seed::Large(2_000), "https://127.0.0.1:8443").expect("seed");
        let contoso = d.tenant(CONTOSO).expect("contoso");
        assert!(contoso.applications.len() >= 2_000);
        assert!(contoso.managed_identities().count() >= 200);
    }
}
