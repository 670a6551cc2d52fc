//! What a pasted GUID is: an app's object id or app id, a service principal, a managed
//! identity's client id or principal id, a tenant, or a well-known Microsoft app.
//!
//! The mix-ups this resolves are the classic FIC mistakes: a client id where the principal id
//! belongs, an object id where the app id belongs.

use crate::fic::model::{AppRecord, Identity, ServicePrincipalRecord, TenantRecord};

/// What ficus knows about the directory, borrowed from wherever the caller keeps it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    pub apps: &'a [AppRecord],
    pub service_principals: &'a [ServicePrincipalRecord],
    pub identities: &'a [Identity],
    pub tenants: &'a [TenantRecord],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GuidKind {
    /// An application object's `id` (Graph URLs, Graph PowerShell `-ApplicationId`).
    AppObjectId,
    /// An application's `appId` (client id: token requests, `az ad app --id`).
    AppId,
    /// A service principal's object id.
    ServicePrincipalId,
    /// A managed identity's client id (its service principal's `appId`; the token's `azp`).
    IdentityClientId,
    /// A managed identity's principal id (its service principal's object id; the token's
    /// `sub` and `oid`, and what a FIC's subject must be).
    IdentityPrincipalId,
    TenantId,
    /// A Microsoft first-party app everyone meets (Azure CLI, Graph, the token exchange app).
    WellKnownApp,
}

impl GuidKind {
    pub fn label(self) -> &'static str {
        match self {
            GuidKind::AppObjectId => "app object id",
            GuidKind::AppId => "app (client) id",
            GuidKind::ServicePrincipalId => "service principal object id",
            GuidKind::IdentityClientId => "managed identity client id",
            GuidKind::IdentityPrincipalId => "managed identity principal id",
            GuidKind::TenantId => "tenant id",
            GuidKind::WellKnownApp => "Microsoft app id",
        }
    }
}

/// One thing a GUID turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidMatch {
    pub kind: GuidKind,
    /// The display name of the app, identity, tenant, ...
    pub name: String,
    /// False when it matched only ignoring letter case (which FIC matching does not do).
    pub exact_case: bool,
}

impl GuidMatch {
    /// `managed identity client id of id-inventory`.
    pub fn describe(&self) -> String {
        let case = if self.exact_case {
            ""
        } else {
            " (letter case differs)"
        };
        format!("{} of {}{case}", self.kind.label(), self.name)
    }
}

const WELL_KNOWN: &[(&str, &str)] = &[
    (
        crate::cloud::TOKEN_EXCHANGE_APP_ID,
        "AAD Token Exchange Endpoint (the MI token's aud)",
    ),
    (
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "Microsoft Azure CLI",
    ),
    (
        "14d82eec-204b-4c2f-b7e8-296a70dab67e",
        "Microsoft Graph Command Line Tools",
    ),
    ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
    (
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "Azure Resource Manager",
    ),
    (
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "Microsoft Azure PowerShell",
    ),
];

/// Everything `guid` is among what is known, exact-case matches first. Empty when unknown.
pub fn resolve_guid(guid: &str, known: &Known<'_>) -> Vec<GuidMatch> {
    let guid = guid
        .trim()
        .trim_matches(|c| c == '{' || c == '}' || c == '"' || c == '\'');
    let mut found = Vec::new();
    let mut check = |candidate: &str, kind: GuidKind, name: &str| {
        let candidate = candidate.trim();
        if candidate.is_empty() || !candidate.eq_ignore_ascii_case(guid) {
            return;
        }
        let m = GuidMatch {
            kind,
            name: name.to_string(),
            exact_case: candidate == guid,
        };
        if !found.contains(&m) {
            found.push(m);
        }
    };
    for app in known.apps {
        check(&app.object_id, GuidKind::AppObjectId, &app.display_name);
        check(&app.app_id, GuidKind::AppId, &app.display_name);
    }
    for identity in known.identities {
        check(
            &identity.client_id,
            GuidKind::IdentityClientId,
            &identity.name,
        );
        check(
            &identity.principal_id,
            GuidKind::IdentityPrincipalId,
            &identity.name,
        );
    }
    for sp in known.service_principals {
        // A managed identity's service principal is already named above.
        let is_identity = known.identities.iter().any(|i| {
            i.principal_id
                .trim()
                .eq_ignore_ascii_case(sp.object_id.trim())
        });
        if !is_identity {
            check(
                &sp.object_id,
                GuidKind::ServicePrincipalId,
                &sp.display_name,
            );
            check(&sp.app_id, GuidKind::AppId, &sp.display_name);
        }
    }
    for tenant in known.tenants {
        check(&tenant.id, GuidKind::TenantId, &tenant.display_name);
    }
    for (id, name) in WELL_KNOWN {
        check(id, GuidKind::WellKnownApp, name);
    }
    found.sort_by_key(|m| !m.exact_case);
    found
}
