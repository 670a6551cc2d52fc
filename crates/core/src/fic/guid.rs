//! What a pasted GUID is: an app's object id or app id, a service principal, a managed
//! identity's client id or principal id, a tenant, or a well-known Microsoft app or tenant.
//! The one home of the well-known id table ([`WELL_KNOWN`]) and of recognising a GUID
//! ([`is_guid`], [`normalize_guid`], [`looks_like_guid`]).
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

/// What a GUID is: the one list of kinds, for the offline resolution here, the directory's
/// (`entra::graph::resolve_guid`, which adds users and FICs) and the console's `whois`. The
/// JSON names are those `ficus whois --json` has always printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GuidKind {
    /// An application object's `id` (Graph URLs, Graph PowerShell `-ApplicationId`).
    AppObjectId,
    /// An application's `appId` (client id: token requests, `az ad app --id`).
    #[serde(rename = "app_client_id")]
    AppId,
    /// A service principal's object id.
    ServicePrincipalId,
    /// A service principal's `appId` (the client id of the app it represents).
    ServicePrincipalAppId,
    /// A managed identity's client id (its service principal's `appId`; the token's `azp`).
    #[serde(rename = "managed_identity_client_id")]
    IdentityClientId,
    /// A managed identity's principal id (its service principal's object id; the token's
    /// `sub` and `oid`, and what a FIC's subject must be).
    #[serde(rename = "managed_identity_principal_id")]
    IdentityPrincipalId,
    TenantId,
    /// A federated identity credential's `id`.
    FicId,
    /// A user's object id.
    UserId,
    /// A Microsoft first-party app everyone meets (Azure CLI, Graph, the token exchange app).
    WellKnownApp,
    /// A tenant everyone meets (Microsoft's own, the consumer tenant).
    WellKnownTenant,
}

impl GuidKind {
    /// What a GUID of this kind is, in words ("client id of the managed identity"): `whois`
    /// everywhere says it so.
    pub fn label(self) -> &'static str {
        match self {
            GuidKind::AppObjectId => "object id of the app registration",
            GuidKind::AppId => "application (client) id of the app registration",
            GuidKind::ServicePrincipalId => "object id of the service principal",
            GuidKind::ServicePrincipalAppId => "app id of the service principal",
            GuidKind::IdentityClientId => "client id of the managed identity",
            GuidKind::IdentityPrincipalId => "principal (object) id of the managed identity",
            GuidKind::TenantId => "id of the tenant",
            GuidKind::FicId => "id of a federated identity credential",
            GuidKind::UserId => "object id of the user",
            GuidKind::WellKnownApp => "id of a Microsoft first-party app",
            GuidKind::WellKnownTenant => "id of a Microsoft tenant",
        }
    }

    /// The compact wording inside a FIC finding's sentence ("managed identity client id of
    /// id-inventory").
    pub fn short_label(self) -> &'static str {
        match self {
            GuidKind::AppObjectId => "app object id",
            GuidKind::AppId => "app (client) id",
            GuidKind::ServicePrincipalId => "service principal object id",
            GuidKind::ServicePrincipalAppId => "service principal app id",
            GuidKind::IdentityClientId => "managed identity client id",
            GuidKind::IdentityPrincipalId => "managed identity principal id",
            GuidKind::TenantId => "tenant id",
            GuidKind::FicId => "FIC id",
            GuidKind::UserId => "user object id",
            GuidKind::WellKnownApp => "Microsoft app id",
            GuidKind::WellKnownTenant => "Microsoft tenant id",
        }
    }

    /// For a managed identity's two ids, which one a FIC's subject takes, as `whois` adds it
    /// after the name; empty for the other kinds.
    pub fn subject_hint(self) -> &'static str {
        match self {
            GuidKind::IdentityClientId => " (a FIC's subject must be its principal id, not this)",
            GuidKind::IdentityPrincipalId => ": the value a FIC's subject takes",
            _ => "",
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
        format!("{} of {}{case}", self.kind.short_label(), self.name)
    }
}

/// A Microsoft first-party app id.
pub const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub const AZURE_POWERSHELL_APP_ID: &str = "1950a258-227b-4e31-a9cf-717495945fc2";
pub const GRAPH_CLI_APP_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub const AAD_GRAPH_APP_ID: &str = "00000002-0000-0000-c000-000000000000";
pub const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
pub const STORAGE_APP_ID: &str = "e406a681-f3d4-42a8-90b6-c2b029497af1";
pub const KEY_VAULT_APP_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";

/// Whether a well-known id is an app's or a tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WellKnownKind {
    App,
    Tenant,
}

/// An id that is the same in every tenant and that admins meet in tokens and FICs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WellKnown {
    pub id: &'static str,
    pub kind: WellKnownKind,
    /// Its display name (what Graph and the portal call it).
    pub name: &'static str,
    /// Where an admin meets it, in a few words.
    pub note: &'static str,
}

impl WellKnown {
    /// One sentence: `Microsoft Azure CLI: the app id of its public client (what `az login`
    /// signs in as)`.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.name, self.note)
    }
}

/// The one table of well-known ids (apps, then tenants).
pub const WELL_KNOWN: &[WellKnown] = &[
    WellKnown {
        id: crate::cloud::TOKEN_EXCHANGE_APP_ID,
        kind: WellKnownKind::App,
        name: "AAD Token Exchange Endpoint",
        note: "the token exchange app; a managed identity token for api://AzureADTokenExchange carries its app id as aud",
    },
    WellKnown {
        id: GRAPH_APP_ID,
        kind: WellKnownKind::App,
        name: "Microsoft Graph",
        note: "the app id of Microsoft Graph (resource https://graph.microsoft.com)",
    },
    WellKnown {
        id: AAD_GRAPH_APP_ID,
        kind: WellKnownKind::App,
        name: "Windows Azure Active Directory",
        note: "the app id of Azure AD Graph, retired (resource https://graph.windows.net)",
    },
    WellKnown {
        id: ARM_APP_ID,
        kind: WellKnownKind::App,
        name: "Windows Azure Service Management API",
        note: "the app id of Azure Resource Manager (resource https://management.azure.com)",
    },
    WellKnown {
        id: STORAGE_APP_ID,
        kind: WellKnownKind::App,
        name: "Azure Storage",
        note: "the app id of Azure Storage (resource https://storage.azure.com)",
    },
    WellKnown {
        id: KEY_VAULT_APP_ID,
        kind: WellKnownKind::App,
        name: "Azure Key Vault",
        note: "the app id of Azure Key Vault (resource https://vault.azure.net)",
    },
    WellKnown {
        id: AZURE_CLI_APP_ID,
        kind: WellKnownKind::App,
        name: "Microsoft Azure CLI",
        note: "the app id of the Azure CLI's public client (what az login signs in as)",
    },
    WellKnown {
        id: AZURE_POWERSHELL_APP_ID,
        kind: WellKnownKind::App,
        name: "Microsoft Azure PowerShell",
        note: "the app id of Azure PowerShell's public client (what Connect-AzAccount signs in as)",
    },
    WellKnown {
        id: GRAPH_CLI_APP_ID,
        kind: WellKnownKind::App,
        name: "Microsoft Graph Command Line Tools",
        note: "the app id of the Graph PowerShell / CLI public client (what Connect-MgGraph signs in as)",
    },
    WellKnown {
        id: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        kind: WellKnownKind::Tenant,
        name: "Microsoft Services",
        note: "the tenant id where Microsoft's first-party apps are registered",
    },
    WellKnown {
        id: "72f988bf-86f1-41af-91ab-2d7cd011db47",
        kind: WellKnownKind::Tenant,
        name: "Microsoft",
        note: "the tenant id of Microsoft's corporate tenant",
    },
    WellKnown {
        id: "9188040d-6c67-4c5b-b112-36a304b66dad",
        kind: WellKnownKind::Tenant,
        name: "Microsoft accounts",
        note: "the tenant id of personal Microsoft accounts (consumers)",
    },
];

/// The well-known id `guid` is (braces, quotes, whitespace and letter case ignored).
pub fn well_known(guid: &str) -> Option<&'static WellKnown> {
    let guid = normalize_guid(guid)?;
    WELL_KNOWN.iter().find(|w| w.id.eq_ignore_ascii_case(&guid))
}

/// What `guid` is among the well-known ids, as sentences ([`WellKnown::describe`]); empty when
/// it is none of them. The console's palette lists these under `whois`.
pub fn well_known_guid(guid: &str) -> Vec<String> {
    well_known(guid)
        .map(WellKnown::describe)
        .into_iter()
        .collect()
}

/// True for the canonical 8-4-4-4-12 hex form Entra uses for every object and app id
/// (either case; braces and whitespace are not accepted). FIC matching compares this form.
pub fn is_guid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A GUID as people paste it, in the canonical hyphenated form (letter case kept: FIC matching
/// is case-sensitive): surrounding whitespace, quotes, braces and a `urn:uuid:` prefix go, and
/// the 32-digit form without hyphens gets them. `None` for anything else.
pub fn normalize_guid(text: &str) -> Option<String> {
    let mut t = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if t.len() >= 9 && t[..9].eq_ignore_ascii_case("urn:uuid:") {
        t = &t[9..];
    }
    if let Some(inner) = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        t = inner;
    }
    if is_guid(t) {
        return Some(t.to_string());
    }
    if t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!(
            "{}-{}-{}-{}-{}",
            &t[..8],
            &t[8..12],
            &t[12..16],
            &t[16..20],
            &t[20..]
        ));
    }
    None
}

/// True when `text` is a GUID in any form people paste ([`normalize_guid`]); for deciding
/// whether a query is an id or a name.
pub fn looks_like_guid(text: &str) -> bool {
    normalize_guid(text).is_some()
}

/// Everything `guid` is among what is known, exact-case matches first. Empty when unknown.
pub fn resolve_guid(guid: &str, known: &Known<'_>) -> Vec<GuidMatch> {
    let normalized = normalize_guid(guid);
    let guid = normalized.as_deref().unwrap_or_else(|| guid.trim());
    let mut found = Vec::new();
    let check = |found: &mut Vec<GuidMatch>, candidate: &str, kind: GuidKind, name: &str| {
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
        check(
            &mut found,
            &app.object_id,
            GuidKind::AppObjectId,
            &app.display_name,
        );
        check(&mut found, &app.app_id, GuidKind::AppId, &app.display_name);
    }
    for identity in known.identities {
        check(
            &mut found,
            &identity.client_id,
            GuidKind::IdentityClientId,
            &identity.name,
        );
        check(
            &mut found,
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
                &mut found,
                &sp.object_id,
                GuidKind::ServicePrincipalId,
                &sp.display_name,
            );
            check(&mut found, &sp.app_id, GuidKind::AppId, &sp.display_name);
        }
    }
    for tenant in known.tenants {
        check(
            &mut found,
            &tenant.id,
            GuidKind::TenantId,
            &tenant.display_name,
        );
    }
    // The directory's own names win; a well-known id is what a GUID is when nothing else is.
    if found.is_empty()
        && let Some(w) = well_known(guid)
    {
        let kind = match w.kind {
            WellKnownKind::App => GuidKind::WellKnownApp,
            WellKnownKind::Tenant => GuidKind::WellKnownTenant,
        };
        check(&mut found, w.id, kind, w.name);
    }
    found.sort_by_key(|m| !m.exact_case);
    found
}

#[cfg(test)]
mod tests {
    use super::GuidKind;

    #[test]
    fn json_names_are_those_whois_has_always_printed() {
        let name = |kind: GuidKind| serde_json::to_value(kind).expect("serializes");
        assert_eq!(name(GuidKind::AppId), "app_client_id");
        assert_eq!(
            name(GuidKind::IdentityClientId),
            "managed_identity_client_id"
        );
        assert_eq!(
            name(GuidKind::IdentityPrincipalId),
            "managed_identity_principal_id"
        );
        assert_eq!(
            name(GuidKind::ServicePrincipalAppId),
            "service_principal_app_id"
        );
        assert_eq!(name(GuidKind::UserId), "user_id");
    }

    #[test]
    fn only_a_managed_identitys_ids_say_which_one_a_subject_takes() {
        assert!(
            GuidKind::IdentityClientId
                .subject_hint()
                .contains("not this")
        );
        assert!(
            GuidKind::IdentityPrincipalId
                .subject_hint()
                .contains("subject takes")
        );
        assert_eq!(GuidKind::AppId.subject_hint(), "");
    }
}
