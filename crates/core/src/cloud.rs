//! National clouds: where to sign in, what issuer tokens carry, where Graph and ARM live, and
//! which audience a managed identity token must be requested for to be used as a federated
//! identity credential. Facts from `shared/docs/entra-reference.md` §8.

use std::fmt;

/// The first-party "AAD Token Exchange Endpoint" app. A managed identity token requested for
/// `api://AzureADTokenExchange` carries this GUID as `aud`; Entra maps it to the URI form when
/// matching a FIC.
pub const TOKEN_EXCHANGE_APP_ID: &str = "fb60f99c-7a34-4190-8149-302f77469936";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudKind {
    Global,
    UsGov,
    China,
    /// A custom cloud: the ficus sandbox, or any self-hosted authority.
    Custom,
}

impl CloudKind {
    pub fn parse(name: &str) -> Option<CloudKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "global" | "public" | "azurecloud" | "azure" | "commercial" => Some(CloudKind::Global),
            "usgov" | "us-gov" | "usgovernment" | "azureusgovernment" | "gov" => {
                Some(CloudKind::UsGov)
            }
            "china" | "azurechinacloud" | "mooncake" => Some(CloudKind::China),
            "custom" | "sandbox" => Some(CloudKind::Custom),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CloudKind::Global => "global",
            CloudKind::UsGov => "usgov",
            CloudKind::China => "china",
            CloudKind::Custom => "custom",
        }
    }
}

impl fmt::Display for CloudKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Everything ficus needs to know about one cloud. URLs carry a scheme and no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cloud {
    pub kind: CloudKind,
    /// Where tokens are requested: `https://login.microsoftonline.com`.
    pub login: String,
    /// The host part of the v2 issuer. Differs from `login` in China.
    pub issuer_base: String,
    /// Graph root without the version: `https://graph.microsoft.com`.
    pub graph: String,
    pub arm: String,
    /// The FIC audience for a managed identity (or any Entra-issued) assertion.
    pub exchange_audience: String,
    /// The GUID a managed identity token for the exchange audience carries as `aud`, where
    /// known. Public sources name only the global one.
    pub exchange_app_id: Option<String>,
}

impl Cloud {
    pub fn global() -> Cloud {
        Cloud {
            kind: CloudKind::Global,
            login: "https://login.microsoftonline.com".into(),
            issuer_base: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
            arm: "https://management.azure.com".into(),
            exchange_audience: "api://AzureADTokenExchange".into(),
            exchange_app_id: Some(TOKEN_EXCHANGE_APP_ID.into()),
        }
    }

    pub fn us_gov() -> Cloud {
        Cloud {
            kind: CloudKind::UsGov,
            login: "https://login.microsoftonline.us".into(),
            issuer_base: "https://login.microsoftonline.us".into(),
            graph: "https://graph.microsoft.us".into(),
            arm: "https://management.usgovcloudapi.net".into(),
            exchange_audience: "api://AzureADTokenExchangeUSGov".into(),
            exchange_app_id: None,
        }
    }

    pub fn china() -> Cloud {
        Cloud {
            kind: CloudKind::China,
            login: "https://login.chinacloudapi.cn".into(),
            issuer_base: "https://login.partner.microsoftonline.cn".into(),
            graph: "https://microsoftgraph.chinacloudapi.cn".into(),
            arm: "https://management.chinacloudapi.cn".into(),
            exchange_audience: "api://AzureADTokenExchangeChina".into(),
            exchange_app_id: None,
        }
    }

    /// A custom cloud such as the sandbox: one authority that also issues, the global exchange
    /// audience and GUID (the sandbox mimics the public cloud).
    pub fn custom(authority: &str, graph: &str) -> Cloud {
        let authority = authority.trim_end_matches('/').to_string();
        let graph = graph.trim_end_matches('/');
        let graph = graph.strip_suffix("/v1.0").unwrap_or(graph).to_string();
        Cloud {
            kind: CloudKind::Custom,
            login: authority.clone(),
            issuer_base: authority,
            graph,
            arm: "https://management.azure.com".into(),
            exchange_audience: "api://AzureADTokenExchange".into(),
            exchange_app_id: Some(TOKEN_EXCHANGE_APP_ID.into()),
        }
    }

    pub fn for_kind(kind: CloudKind) -> Option<Cloud> {
        match kind {
            CloudKind::Global => Some(Cloud::global()),
            CloudKind::UsGov => Some(Cloud::us_gov()),
            CloudKind::China => Some(Cloud::china()),
            CloudKind::Custom => None,
        }
    }

    /// The three public clouds, for recognising issuers and audiences that belong elsewhere.
    pub fn national() -> [Cloud; 3] {
        [Cloud::global(), Cloud::us_gov(), Cloud::china()]
    }

    /// The v2 issuer of tokens this cloud's Entra issues for a tenant (by tenant **id**).
    pub fn issuer(&self, tenant_id: &str) -> String {
        format!("{}/{}/v2.0", self.issuer_base, tenant_id)
    }

    /// The v1 (`sts`-style) issuer. Only the global cloud's form is public knowledge; the
    /// others reuse their issuer host.
    pub fn v1_issuer(&self, tenant_id: &str) -> String {
        match self.kind {
            CloudKind::Global => format!("https://sts.windows.net/{tenant_id}/"),
            _ => format!("{}/{}/", self.issuer_base, tenant_id),
        }
    }

    pub fn authority(&self, tenant: &str) -> String {
        format!("{}/{}", self.login, tenant)
    }

    pub fn token_endpoint(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.login, tenant)
    }

    pub fn device_code_endpoint(&self, tenant: &str) -> String {
        format!("{}/{}/oauth2/v2.0/devicecode", self.login, tenant)
    }

    pub fn discovery_url(&self, tenant: &str) -> String {
        format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            self.login, tenant
        )
    }

    pub fn graph_v1(&self) -> String {
        format!("{}/v1.0", self.graph)
    }

    /// `https://graph.microsoft.com/.default` for this cloud.
    pub fn graph_default_scope(&self) -> String {
        format!("{}/.default", self.graph)
    }

    /// The scope a test exchange asks for unless told otherwise: this cloud's Graph
    /// `.default`; a custom cloud (the sandbox) serves the public cloud's Graph resource.
    pub fn exchange_default_scope(&self) -> String {
        match self.kind {
            CloudKind::Custom => "https://graph.microsoft.com/.default".into(),
            _ => self.graph_default_scope(),
        }
    }

    /// True when `aud` is this cloud's exchange audience in either spelling (URI or GUID).
    pub fn is_exchange_audience(&self, aud: &str) -> bool {
        aud == self.exchange_audience || self.exchange_app_id.as_deref() == Some(aud)
    }

    /// If `issuer` is an Entra v2 issuer of this cloud, the tenant segment it names.
    pub fn tenant_of_issuer<'a>(&self, issuer: &'a str) -> Option<&'a str> {
        let rest = issuer.strip_prefix(self.issuer_base.as_str())?;
        let rest = rest.strip_prefix('/')?;
        let tenant = rest.strip_suffix("/v2.0")?;
        (!tenant.is_empty() && !tenant.contains('/')).then_some(tenant)
    }
}

/// An issuer recognised as Entra's, however it was spelled (see
/// [`Cloud::recognise_entra_issuer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraIssuer {
    /// The cloud whose Entra issues it: a national cloud, or `Custom` for the cloud asked.
    pub cloud: CloudKind,
    /// The tenant segment as written (an id, or a domain name such as `contoso.onmicrosoft.com`).
    pub tenant: String,
    /// The v1 (`sts.windows.net`-style) form, without `/v2.0`.
    pub v1: bool,
    /// Ends with `/` after `v2.0` (or after the tenant in the v1 form, where it belongs).
    pub trailing_slash: bool,
    /// Exactly the v2 issuer that cloud's tokens carry for this tenant segment.
    pub canonical: bool,
}

/// Hosts (without scheme) whose tokens name an Entra issuer, per national cloud. The first is
/// the v2 issuer host; the rest are aliases people paste (v1, old login hosts).
fn entra_issuer_hosts(kind: CloudKind) -> &'static [&'static str] {
    match kind {
        CloudKind::Global => &[
            "login.microsoftonline.com",
            "sts.windows.net",
            "login.windows.net",
            "login.microsoft.com",
        ],
        CloudKind::UsGov => &[
            "login.microsoftonline.us",
            "login.usgovcloudapi.net",
            "login-us.microsoftonline.com",
        ],
        CloudKind::China => &["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
        CloudKind::Custom => &[],
    }
}

fn strip_scheme(text: &str) -> &str {
    for scheme in ["https://", "http://"] {
        if let Some(head) = text.get(..scheme.len())
            && head.eq_ignore_ascii_case(scheme)
        {
            return &text[scheme.len()..];
        }
    }
    text
}

/// The national cloud whose token-exchange audience `aud` is, compared leniently (surrounding
/// whitespace, case, a trailing slash), so a near miss is still attributed to its cloud.
pub fn exchange_audience_cloud(aud: &str) -> Option<CloudKind> {
    let aud = aud.trim().trim_end_matches('/');
    Cloud::national()
        .into_iter()
        .find(|c| c.exchange_audience.eq_ignore_ascii_case(aud))
        .map(|c| c.kind)
}

impl Cloud {
    /// Recognises an Entra-issued issuer of this cloud or of any national cloud, tolerating
    /// what Entra would not: surrounding whitespace, host case, `http://`, a trailing slash,
    /// the v1 form, login-host aliases. `None` for anything else (GitHub, Kubernetes, ...).
    pub fn recognise_entra_issuer(&self, issuer: &str) -> Option<EntraIssuer> {
        let trimmed = issuer.trim();
        let rest = strip_scheme(trimmed);
        let own_base = strip_scheme(&self.issuer_base).to_ascii_lowercase();
        let own_login = strip_scheme(&self.login).to_ascii_lowercase();
        let mut candidates: Vec<(CloudKind, String)> = Vec::new();
        if self.kind == CloudKind::Custom {
            candidates.push((CloudKind::Custom, own_base));
            candidates.push((CloudKind::Custom, own_login));
        }
        for kind in [CloudKind::Global, CloudKind::UsGov, CloudKind::China] {
            for host in entra_issuer_hosts(kind) {
                candidates.push((kind, (*host).to_string()));
            }
        }
        let lower = rest.to_ascii_lowercase();
        let (kind, base_len) = candidates.iter().find_map(|(kind, base)| {
            let after = lower.strip_prefix(base.as_str())?;
            after.starts_with('/').then_some((*kind, base.len()))
        })?;
        let path = &rest[base_len + 1..];
        let trailing_slash = path.ends_with('/');
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let (tenant, v1) = match segments.as_slice() {
            [tenant] => (*tenant, true),
            [tenant, version] if version.eq_ignore_ascii_case("v2.0") => (*tenant, false),
            _ => return None,
        };
        if tenant.is_empty() || tenant.contains(char::is_whitespace) {
            return None;
        }
        let expected = match kind {
            CloudKind::Custom => self.issuer(tenant),
            other => Cloud::for_kind(other)
                .map(|c| c.issuer(tenant))
                .unwrap_or_default(),
        };
        Some(EntraIssuer {
            cloud: kind,
            tenant: tenant.to_string(),
            v1,
            trailing_slash,
            canonical: issuer == expected,
        })
    }

    /// A cloud by kind, with `self` standing in for the custom one.
    pub fn resolve_kind(&self, kind: CloudKind) -> Cloud {
        Cloud::for_kind(kind).unwrap_or_else(|| self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_each_cloud() {
        let t = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(
            Cloud::global().issuer(t),
            format!("https://login.microsoftonline.com/{t}/v2.0")
        );
        assert_eq!(
            Cloud::us_gov().issuer(t),
            format!("https://login.microsoftonline.us/{t}/v2.0")
        );
        // China issues from a different host than it signs in on.
        assert_eq!(
            Cloud::china().issuer(t),
            format!("https://login.partner.microsoftonline.cn/{t}/v2.0")
        );
        assert_eq!(
            Cloud::china().token_endpoint(t),
            format!("https://login.chinacloudapi.cn/{t}/oauth2/v2.0/token")
        );
    }

    #[test]
    fn exchange_audience_in_both_spellings() {
        let g = Cloud::global();
        assert!(g.is_exchange_audience("api://AzureADTokenExchange"));
        assert!(g.is_exchange_audience(TOKEN_EXCHANGE_APP_ID));
        assert!(!g.is_exchange_audience("api://AzureADTokenExchangeUSGov"));
        assert!(Cloud::us_gov().is_exchange_audience("api://AzureADTokenExchangeUSGov"));
        assert!(Cloud::china().is_exchange_audience("api://AzureADTokenExchangeChina"));
    }

    #[test]
    fn custom_cloud_strips_slashes_and_version() {
        let c = Cloud::custom("https://localhost:8443/", "https://localhost:8443/v1.0");
        assert_eq!(c.graph_v1(), "https://localhost:8443/v1.0");
        assert_eq!(c.issuer("t1"), "https://localhost:8443/t1/v2.0".to_string());
        assert_eq!(
            c.tenant_of_issuer("https://localhost:8443/t1/v2.0"),
            Some("t1")
        );
        assert_eq!(c.tenant_of_issuer("https://localhost:8443/t1/v2.0/"), None);
    }

    #[test]
    fn recognises_entra_issuers_however_spelled() {
        let t = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        let g = Cloud::global();
        let exact = g.recognise_entra_issuer(&g.issuer(t)).expect("global");
        assert_eq!(exact.cloud, CloudKind::Global);
        assert_eq!(exact.tenant, t);
        assert!(exact.canonical && !exact.v1 && !exact.trailing_slash);

        let slash = g
            .recognise_entra_issuer(&format!("https://login.microsoftonline.com/{t}/v2.0/"))
            .expect("slash");
        assert!(slash.trailing_slash && !slash.canonical);

        let v1 = g
            .recognise_entra_issuer(&format!("https://sts.windows.net/{t}/"))
            .expect("v1");
        assert!(v1.v1 && v1.cloud == CloudKind::Global);

        let gov = g
            .recognise_entra_issuer(&format!("HTTPS://Login.MicrosoftOnline.us/{t}/v2.0"))
            .expect("gov");
        assert_eq!(gov.cloud, CloudKind::UsGov);
        assert!(!gov.canonical);

        let china = g
            .recognise_entra_issuer(&Cloud::china().issuer(t))
            .expect("china");
        assert_eq!(china.cloud, CloudKind::China);
        assert!(china.canonical);

        let sandbox = Cloud::custom("https://localhost:8443", "https://localhost:8443");
        let own = sandbox
            .recognise_entra_issuer(&sandbox.issuer("t1"))
            .expect("sandbox");
        assert_eq!(own.cloud, CloudKind::Custom);
        assert!(own.canonical);

        assert_eq!(
            g.recognise_entra_issuer("https://token.actions.githubusercontent.com"),
            None
        );
        // Found by the property test: a multi-byte character where the scheme would end.
        assert_eq!(g.recognise_entra_issuer("gÇ~/W🤸x"), None);
        assert_eq!(
            g.recognise_entra_issuer("https://login.microsoftonline.com/t/oauth2/v2.0/token"),
            None
        );
    }

    #[test]
    fn attributes_exchange_audiences_to_clouds() {
        assert_eq!(
            exchange_audience_cloud("api://AzureADTokenExchangeUSGov"),
            Some(CloudKind::UsGov)
        );
        assert_eq!(
            exchange_audience_cloud(" api://azureadtokenexchange/ "),
            Some(CloudKind::Global)
        );
        assert_eq!(exchange_audience_cloud("api://something-else"), None);
    }

    #[test]
    fn parse_names() {
        assert_eq!(CloudKind::parse("USGov"), Some(CloudKind::UsGov));
        assert_eq!(CloudKind::parse("AzureChinaCloud"), Some(CloudKind::China));
        assert_eq!(CloudKind::parse("mars"), None);
    }

    #[test]
    fn exchange_default_scope_follows_the_cloud() {
        assert_eq!(
            Cloud::china().exchange_default_scope(),
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
        assert_eq!(
            Cloud::custom("https://127.0.0.1:1", "https://127.0.0.1:1/v1.0")
                .exchange_default_scope(),
            "https://graph.microsoft.com/.default",
            "the sandbox serves the public cloud's Graph resource"
        );
    }
}
