//! The demo's believable past in the sign-in log (see `sign_in_log.rs`), built by `seed.rs`
//! relative to the seed's `now`.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::model::{Application, Directory, Tenant, derived_uuid};
use crate::sign_in_log::{SERVICE_PRINCIPAL, SignIn, credential_type};
use crate::signins::managed_identity_sign_in;

/// The IP address the emulated host's workloads sign in from.
pub const HOST_IP: &str = "10.0.1.4";

/// The demo objects the history is about (ids from `seed.rs`).
pub struct DemoIds {
    pub contoso: Uuid,
    pub fabrikam: Uuid,
    /// App ids.
    pub billing_worker: Uuid,
    pub payments_api: Uuid,
    pub inventory_sync: Uuid,
    /// Principal ids.
    pub id_payments: Uuid,
    pub id_inventory: Uuid,
}

/// The demo's believable past, relative to `now`: billing-worker's secret used daily until it
/// expired 35 days ago; payments-api's secret used daily until yesterday beside its FIC (and
/// id-payments' tokens for the exchange); inventory-sync refused with AADSTS700213 every five
/// minutes over the last 24 hours (its FIC is older, but a day of failures tells the story
/// without bloating the state); fabrikam without P1.
pub fn seed_demo_history(directory: &mut Directory, ids: &DemoIds, now: OffsetDateTime) {
    let contoso_id = ids.contoso;
    let mut records: Vec<SignIn> = Vec::new();
    if let Some(contoso) = directory.tenant_by_id(contoso_id) {
        let graph = crate::tokens::resolve_resource(contoso, "https://graph.microsoft.com");
        let exchange = crate::tokens::resolve_resource(contoso, crate::tokens::EXCHANGE_AUDIENCE);
        let app = |app_id: Uuid| contoso.application_by_app_id(app_id);
        let identity = |principal: Uuid| contoso.service_principals.get(&principal);
        // Workloads run their jobs at a fixed minute past the hour, so times look real.
        let daily =
            |days_ago: i64, minute: i64| now - Duration::days(days_ago) - Duration::minutes(minute);

        if let Some(billing) = app(ids.billing_worker)
            && let Some(secret) = billing.password_credentials.first()
        {
            let expired = secret.end_date_time.0;
            for day in 0..90 {
                let at = expired - Duration::days(day) - Duration::hours(3);
                records.push(app_sign_in(
                    contoso,
                    billing,
                    Seeded::Secret(secret.key_id),
                    graph.as_ref(),
                    at,
                    &format!("billing-worker/secret/{day}"),
                ));
            }
        }
        if let Some(payments) = app(ids.payments_api) {
            let fic = payments.federated_identity_credentials.first();
            for day in 1..=30 {
                if let Some(secret) = payments.password_credentials.first() {
                    records.push(app_sign_in(
                        contoso,
                        payments,
                        Seeded::Secret(secret.key_id),
                        graph.as_ref(),
                        daily(day, 17),
                        &format!("payments-api/secret/{day}"),
                    ));
                }
            }
            for day in 0..30 {
                if let Some(fic) = fic {
                    let at = daily(day, 47);
                    records.push(app_sign_in(
                        contoso,
                        payments,
                        Seeded::Federated(Some(fic.id), None),
                        graph.as_ref(),
                        at,
                        &format!("payments-api/fic/{day}"),
                    ));
                    if let Some(mi) = identity(ids.id_payments) {
                        records.push(managed_identity_sign_in(
                            derived_uuid(&format!("{}/signin/id-payments/{day}", contoso.name)),
                            mi,
                            exchange.as_ref(),
                            at - Duration::seconds(1),
                            HOST_IP,
                        ));
                    }
                }
            }
        }
        if let Some(inventory) = app(ids.inventory_sync)
            && let Some(mi) = identity(ids.id_inventory)
        {
            let reason = format!(
                "No matching federated identity record found for presented assertion subject '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                mi.id
            );
            let created = inventory
                .federated_identity_credentials
                .first()
                .map_or(now, |f| f.created_at.0);
            let since = (now - Duration::hours(24)).max(created);
            let mut at = now - Duration::minutes(2);
            let mut i = 0;
            while at > since {
                records.push(app_sign_in(
                    contoso,
                    inventory,
                    Seeded::Federated(None, Some((700213, reason.clone()))),
                    graph.as_ref(),
                    at,
                    &format!("inventory-sync/fic/{i}"),
                ));
                // Its managed identity token is cached for a day: one MI sign-in a day.
                if i % 288 == 0 {
                    records.push(managed_identity_sign_in(
                        derived_uuid(&format!("{}/signin/id-inventory/{i}", contoso.name)),
                        mi,
                        exchange.as_ref(),
                        at - Duration::seconds(1),
                        HOST_IP,
                    ));
                }
                at -= Duration::minutes(5);
                i += 1;
            }
        }
    }
    records.sort_by_key(|r| (r.created_date_time, r.id));
    for record in records {
        directory.audit.push(contoso_id, record);
    }
    directory.audit.without_premium.insert(ids.fabrikam);
}

enum Seeded {
    Secret(Uuid),
    /// The FIC that matched, or the refusal.
    Federated(Option<Uuid>, Option<(u32, String)>),
}

fn app_sign_in(
    tenant: &Tenant,
    app: &Application,
    credential: Seeded,
    resource: Option<&crate::tokens::Resource>,
    at: OffsetDateTime,
    name: &str,
) -> SignIn {
    let (kind, key_id, fic_id, failure) = match credential {
        Seeded::Secret(key) => (credential_type::CLIENT_SECRET, Some(key), None, None),
        Seeded::Federated(fic, failure) => (credential_type::FEDERATED, None, fic, failure),
    };
    SignIn {
        id: derived_uuid(&format!("{}/signin/{name}", tenant.name)),
        sequence: 0,
        created_date_time: at,
        app_id: app.app_id,
        app_display_name: app.display_name.clone(),
        service_principal_id: tenant.service_principal_by_app_id(app.app_id).map(|s| s.id),
        sign_in_event_type: SERVICE_PRINCIPAL.into(),
        client_credential_type: kind.into(),
        service_principal_credential_key_id: key_id,
        service_principal_credential_thumbprint: None,
        federated_credential_id: fic_id,
        error_code: failure.as_ref().map_or(0, |f| f.0),
        failure_reason: failure.map(|f| f.1),
        ip_address: HOST_IP.into(),
        resource_display_name: resource.map(|r| r.display_name.clone()).unwrap_or_default(),
        resource_id: resource.map(|r| r.app_id),
        managed_identity_resource_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_history_tells_each_story() {
        use crate::seed::{CONTOSO, FABRIKAM, app_ids, tenant_id};
        let d = crate::seed::build(crate::seed::Seed::Demo, "http://127.0.0.1:1").expect("seed");
        let now = OffsetDateTime::now_utc();
        let log: Vec<&SignIn> = d.audit.of(tenant_id(CONTOSO)).collect();
        let of = |app: &str| {
            let id = app_ids(CONTOSO, app).1;
            log.iter().filter(move |s| s.app_id == id)
        };
        let billing_last = of("billing-worker")
            .map(|s| s.created_date_time)
            .max()
            .expect("billing-worker used its secret");
        assert!(now - billing_last > Duration::days(35));
        assert!(now - billing_last < Duration::days(36));
        let payments_secret_last = of("payments-api")
            .filter(|s| s.client_credential_type == credential_type::CLIENT_SECRET)
            .map(|s| s.created_date_time)
            .max()
            .expect("payments-api used its secret");
        assert!(now - payments_secret_last < Duration::days(2));
        assert!(of("payments-api").any(|s| s.federated_credential_id.is_some()));
        let failures: Vec<_> = of("inventory-sync")
            .filter(|s| s.error_code == 700213)
            .collect();
        assert_eq!(failures.len(), 288);
        assert!(
            log.windows(2).all(|w| w[0].sequence < w[1].sequence
                && w[0].created_date_time <= w[1].created_date_time)
        );
        assert!(!d.audit.is_premium(tenant_id(FABRIKAM)));
        assert!(d.audit.is_premium(tenant_id(CONTOSO)));
    }
}
