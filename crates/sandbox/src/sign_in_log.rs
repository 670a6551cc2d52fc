//! The sign-in log's data: Graph beta's `signIn` as the sandbox stores it ([`SignIn`]), and
//! [`AuditLogs`], kept in the [`Directory`](crate::model::Directory) so it is saved with the
//! snapshot: one chronological queue per tenant, capped at [`MAX_SIGN_INS_PER_TENANT`] (the
//! oldest go first), and the tenants without Entra ID P1/P2.
//!
//! Recording is `signins.rs`, the demo's seeded history `sign_in_history.rs`, the Graph
//! endpoint `signins_graph.rs`. This file imports nothing of the crate (the model holds it).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

/// Most sign-ins kept per tenant; the oldest are dropped beyond it.
pub const MAX_SIGN_INS_PER_TENANT: usize = 20_000;

/// `signInEventTypes` values the sandbox records.
pub const SERVICE_PRINCIPAL: &str = "servicePrincipal";
pub const MANAGED_IDENTITY: &str = "managedIdentity";

/// `clientCredentialType` values.
pub mod credential_type {
    pub const CLIENT_SECRET: &str = "clientSecret";
    pub const CERTIFICATE: &str = "certificate";
    pub const FEDERATED: &str = "federatedIdentityCredential";
    pub const MANAGED_IDENTITY: &str = "managedIdentity";
    pub const NONE: &str = "none";
}

/// The audit logs of every tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogs {
    /// Per tenant id, oldest first.
    #[serde(default)]
    pub sign_ins: BTreeMap<Uuid, VecDeque<SignIn>>,
    /// Tenants without Entra ID P1/P2 (no sign-in logs through Graph).
    #[serde(default)]
    pub without_premium: BTreeSet<Uuid>,
}

impl AuditLogs {
    pub fn is_empty(&self) -> bool {
        self.sign_ins.is_empty() && self.without_premium.is_empty()
    }

    /// Appends a sign-in (stamping its sequence number), dropping the oldest beyond the cap.
    pub fn push(&mut self, tenant: Uuid, mut sign_in: SignIn) {
        let log = self.sign_ins.entry(tenant).or_default();
        sign_in.sequence = log.back().map_or(1, |last| last.sequence + 1);
        log.push_back(sign_in);
        while log.len() > MAX_SIGN_INS_PER_TENANT {
            log.pop_front();
        }
    }

    /// A tenant's sign-ins, oldest first.
    pub fn of(&self, tenant: Uuid) -> impl DoubleEndedIterator<Item = &SignIn> {
        self.sign_ins.get(&tenant).into_iter().flatten()
    }

    pub fn is_premium(&self, tenant: Uuid) -> bool {
        !self.without_premium.contains(&tenant)
    }
}

/// One workload sign-in, as stored. Graph's shape is [`SignIn::to_graph`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub id: Uuid,
    /// Position in its tenant's log (1, 2, …): the order and the paging cursor. Not a Graph
    /// field.
    #[serde(default)]
    pub sequence: u64,
    #[serde(with = "graph_time")]
    pub created_date_time: OffsetDateTime,
    pub app_id: Uuid,
    pub app_display_name: String,
    pub service_principal_id: Option<Uuid>,
    /// `servicePrincipal` or `managedIdentity`.
    pub sign_in_event_type: String,
    pub client_credential_type: String,
    /// The secret's or certificate's `keyId`.
    #[serde(default)]
    pub service_principal_credential_key_id: Option<Uuid>,
    #[serde(default)]
    pub service_principal_credential_thumbprint: Option<String>,
    /// The FIC that matched the assertion.
    #[serde(default)]
    pub federated_credential_id: Option<Uuid>,
    /// 0 on success, else the AADSTS number.
    pub error_code: u32,
    #[serde(default)]
    pub failure_reason: Option<String>,
    pub ip_address: String,
    pub resource_display_name: String,
    pub resource_id: Option<Uuid>,
    /// For managed identity sign-ins: the identity's ARM id.
    #[serde(default)]
    pub managed_identity_resource_id: Option<String>,
}

impl SignIn {
    /// The `signIn` resource as Graph beta serves it.
    pub fn to_graph(&self) -> Value {
        let msi = self.managed_identity_resource_id.as_ref().map(|arm| {
            json!({
                "msiType": if arm.contains("/userAssignedIdentities/") { "userAssigned" } else { "systemAssigned" },
                "associatedResourceId": arm,
            })
        });
        json!({
            "id": self.id,
            "createdDateTime": graph_time::render(self.created_date_time),
            "appId": self.app_id,
            "appDisplayName": self.app_display_name,
            "servicePrincipalId": self.service_principal_id,
            "servicePrincipalName": self.app_display_name,
            "signInEventTypes": [self.sign_in_event_type],
            "isInteractive": false,
            "clientCredentialType": self.client_credential_type,
            "servicePrincipalCredentialKeyId": self.service_principal_credential_key_id,
            "servicePrincipalCredentialThumbprint": self.service_principal_credential_thumbprint,
            "federatedCredentialId": self.federated_credential_id,
            "managedServiceIdentity": msi,
            "status": {
                "errorCode": self.error_code,
                "failureReason": self.failure_reason,
                "additionalDetails": Value::Null,
            },
            "ipAddress": self.ip_address,
            "resourceDisplayName": self.resource_display_name,
            "resourceId": self.resource_id,
            "conditionalAccessStatus": "notApplied",
        })
    }
}

/// Graph's date-time: RFC 3339 in UTC, whole seconds, `Z`.
pub mod graph_time {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn render(at: OffsetDateTime) -> String {
        let at = at.to_offset(time::UtcOffset::UTC);
        let at = at.replace_nanosecond(0).unwrap_or(at);
        at.format(&Rfc3339).unwrap_or_default()
    }

    pub fn serialize<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&render(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|e| serde::de::Error::custom(format!("bad date-time '{text}': {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_its_cap_and_numbers_in_order() {
        let mut logs = AuditLogs::default();
        let tenant = Uuid::new_v4();
        let d = crate::seed::build(crate::seed::Seed::Demo, "http://127.0.0.1:1").expect("seed");
        let template = d
            .audit
            .of(crate::seed::tenant_id("contoso"))
            .next()
            .cloned()
            .expect("seeded");
        for _ in 0..MAX_SIGN_INS_PER_TENANT + 5 {
            logs.push(tenant, template.clone());
        }
        let log: Vec<&SignIn> = logs.of(tenant).collect();
        assert_eq!(log.len(), MAX_SIGN_INS_PER_TENANT);
        assert_eq!(log[0].sequence, 6);
        assert_eq!(
            log.last().map(|s| s.sequence),
            Some(MAX_SIGN_INS_PER_TENANT as u64 + 5)
        );
        let json = serde_json::to_string(&template).expect("serializes");
        let back: SignIn = serde_json::from_str(&json).expect("parses");
        assert_eq!(
            back.created_date_time.unix_timestamp(),
            template.created_date_time.unix_timestamp()
        );
    }
}
