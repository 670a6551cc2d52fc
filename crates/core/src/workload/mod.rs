//! The workload side of a FIC: the program (or configuration) that asks its managed identity
//! for a token for the cloud's exchange audience and hands it to its SDK as the client
//! assertion, filled in with the values an admin otherwise gets wrong by hand (client id vs
//! principal id, the wrong cloud's audience, the home tenant instead of the resource tenant).
//!
//! [`snippet`] renders one [`Shape`] (C#, MSAL.NET, `appsettings.json`, Python, MSAL Python,
//! JavaScript, msal-node, Java, Go, Rust) from [`WorkloadValues`]. Each program is complete: a
//! `main` that acquires the app's token for the scope and prints its `appid`/`aud` and expiry.
//! The templates live in `templates/`; every value goes in as a literal escaped for the target
//! language ([`escape`]), every tenant-controlled name in a comment made single-line and safe.

mod escape;
pub mod infra;

pub use escape::{Syntax, literal};

use crate::cloud::{Cloud, CloudKind};
use crate::fic::{AppRecord, AppRef, Fic, Identity};

/// What a workload snippet is filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadValues {
    /// The cloud: its authority host ([`Cloud::login`]) and exchange audience.
    pub cloud: Cloud,
    /// The app registration's display name (comments only).
    pub app_name: String,
    /// The app registration's application (client) id.
    pub app_client_id: String,
    /// The tenant the app's token is for: the resource tenant, which for a multitenant app can
    /// differ from the tenant the identity lives in.
    pub resource_tenant: String,
    /// The managed identity's display name (comments only).
    pub identity_name: String,
    /// The managed identity's **client** id (its service principal's `appId`): what the SDKs
    /// select a user-assigned identity by.
    pub identity_client_id: String,
    /// The managed identity's **principal** (object) id: what the FIC's subject names. Shown
    /// beside the client id in a comment, never used to select the identity.
    pub identity_principal_id: String,
    /// The scope the app's token is asked for (the one tested).
    pub scope: String,
    /// The app registration's object id: what Terraform's `azuread` provider addresses it by.
    pub app_object_id: String,
    /// Graph's `uniqueName` of the app, what Graph Bicep addresses it by (`None`: a parameter
    /// the deployment asks for).
    pub app_unique_name: Option<String>,
    /// The identity's ARM resource id: what compute is assigned the identity by (`None`: a
    /// parameter the deployment asks for).
    pub identity_resource_id: Option<String>,
    /// The FIC that trusts the identity: as stored, or the one ficus would create
    /// ([`crate::fic::managed_identity_fic`]). The infrastructure shapes write it.
    pub fic: Fic,
}

impl WorkloadValues {
    /// The values for `app` and the `identity` it trusts: the token for `resource_tenant`, the
    /// scope as given (default: the cloud's Graph `.default`), the FIC `trusting` the identity
    /// or, without one, the FIC ficus would create (issued by the identity's tenant, else
    /// `resource_tenant`).
    pub fn new(
        cloud: &Cloud,
        app: &AppRecord,
        identity: &Identity,
        resource_tenant: &str,
        scope: Option<&str>,
        trusting: Option<&Fic>,
    ) -> WorkloadValues {
        let fic = trusting.cloned().unwrap_or_else(|| {
            let issuer_tenant = identity
                .tenant_id
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or(resource_tenant);
            let app_ref = AppRef {
                app_id: app.app_id.clone(),
                display_name: app.display_name.clone(),
            };
            crate::fic::managed_identity_fic(cloud, issuer_tenant, &app_ref, identity, &[])
        });
        WorkloadValues {
            scope: scope
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map_or_else(|| cloud.exchange_default_scope(), str::to_string),
            cloud: cloud.clone(),
            app_name: app.display_name.clone(),
            app_client_id: app.app_id.clone(),
            app_object_id: app.object_id.clone(),
            app_unique_name: app.unique_name.clone(),
            resource_tenant: resource_tenant.to_string(),
            identity_name: identity.name.clone(),
            identity_client_id: identity.client_id.clone(),
            identity_principal_id: identity.principal_id.clone(),
            identity_resource_id: identity.arm_id.clone(),
            fic,
        }
    }

    /// The app as the FIC exports (`fic::export`) take it.
    pub fn app_record(&self) -> AppRecord {
        AppRecord {
            object_id: self.app_object_id.clone(),
            app_id: self.app_client_id.clone(),
            display_name: self.app_name.clone(),
            unique_name: self.app_unique_name.clone(),
        }
    }

    /// The tenant the FIC lives in: its issuer's tenant, else the resource tenant.
    pub fn fic_tenant(&self) -> String {
        self.cloud
            .tenant_of_issuer(self.fic.issuer.trim())
            .unwrap_or(&self.resource_tenant)
            .to_string()
    }

    /// The authority host programs default to (no trailing slash).
    pub fn authority_host(&self) -> &str {
        self.cloud.login.trim_end_matches('/')
    }

    /// The scope a managed identity is asked for: `{exchange audience}/.default`.
    pub fn exchange_scope(&self) -> String {
        format!("{}/.default", self.cloud.exchange_audience)
    }
}

/// One way of writing the workload: an SDK in a language, or a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    CsharpAzureIdentity,
    AppSettings,
    MsalDotnet,
    PythonAzureIdentity,
    MsalPython,
    JsAzureIdentity,
    MsalNode,
    Java,
    Go,
    Rust,
    /// The FIC and the identity attached to the compute, as Bicep.
    Bicep,
    /// The same as Terraform (`azuread` and `azapi`).
    Terraform,
    /// The same as an Azure CLI script.
    AzCli,
}

impl Shape {
    /// Every shape, in the order the console's tabs and `ficus code` show them.
    pub const ALL: [Shape; 13] = [
        Shape::CsharpAzureIdentity,
        Shape::AppSettings,
        Shape::MsalDotnet,
        Shape::PythonAzureIdentity,
        Shape::MsalPython,
        Shape::JsAzureIdentity,
        Shape::MsalNode,
        Shape::Java,
        Shape::Go,
        Shape::Rust,
        Shape::Bicep,
        Shape::Terraform,
        Shape::AzCli,
    ];

    /// The shapes that are the workload's code (the rest are its infrastructure).
    pub fn is_code(self) -> bool {
        !matches!(self, Shape::Bicep | Shape::Terraform | Shape::AzCli)
    }

    /// The name `ficus code --lang` takes.
    pub fn flag(self) -> &'static str {
        match self {
            Shape::CsharpAzureIdentity => "csharp",
            Shape::AppSettings => "appsettings",
            Shape::MsalDotnet => "msal-dotnet",
            Shape::PythonAzureIdentity => "python",
            Shape::MsalPython => "msal-python",
            Shape::JsAzureIdentity => "js",
            Shape::MsalNode => "msal-node",
            Shape::Java => "java",
            Shape::Go => "go",
            Shape::Rust => "rust",
            Shape::Bicep => "bicep",
            Shape::Terraform => "terraform",
            Shape::AzCli => "az",
        }
    }

    /// A shape by its `--lang` name (case-insensitive; a few usual spellings accepted).
    pub fn parse(name: &str) -> Option<Shape> {
        let name = name.trim().to_ascii_lowercase();
        let alias = match name.as_str() {
            "c#" | "cs" | "dotnet" | "azure-identity-dotnet" => "csharp",
            "appsettings.json" | "microsoft-identity-web" | "identity-web" => "appsettings",
            "msal.net" | "msal-net" => "msal-dotnet",
            "py" | "azure-identity-python" => "python",
            "javascript" | "node" | "ts" | "typescript" => "js",
            "golang" => "go",
            "rs" => "rust",
            "tf" | "hcl" => "terraform",
            "azure-cli" | "az-cli" | "azcli" | "cli" => "az",
            other => other,
        };
        Shape::ALL.into_iter().find(|s| s.flag() == alias)
    }

    /// The names `--lang` takes, for an error message.
    pub fn flags() -> Vec<&'static str> {
        Shape::ALL.iter().map(|s| s.flag()).collect()
    }

    /// A short label: language and library.
    pub fn label(self) -> &'static str {
        match self {
            Shape::CsharpAzureIdentity => "C# Azure.Identity",
            Shape::AppSettings => "appsettings.json",
            Shape::MsalDotnet => "C# MSAL.NET",
            Shape::PythonAzureIdentity => "Python azure-identity",
            Shape::MsalPython => "Python MSAL",
            Shape::JsAzureIdentity => "JS @azure/identity",
            Shape::MsalNode => "JS msal-node",
            Shape::Java => "Java",
            Shape::Go => "Go",
            Shape::Rust => "Rust",
            Shape::Bicep => "Bicep",
            Shape::Terraform => "Terraform",
            Shape::AzCli => "az CLI",
        }
    }

    /// The file the snippet is meant to be saved as.
    pub fn file_name(self) -> &'static str {
        match self {
            Shape::CsharpAzureIdentity | Shape::MsalDotnet => "Program.cs",
            Shape::AppSettings => "appsettings.json",
            Shape::PythonAzureIdentity | Shape::MsalPython => "main.py",
            Shape::JsAzureIdentity | Shape::MsalNode => "main.js",
            Shape::Java => "App.java",
            Shape::Go => "main.go",
            Shape::Rust => "src/main.rs",
            Shape::Bicep => "main.bicep",
            Shape::Terraform => "main.tf",
            Shape::AzCli => "attach.sh",
        }
    }

    /// The string-literal syntax of the target language (`None` for the infrastructure
    /// shapes, which quote through `fic::export`).
    pub fn syntax(self) -> Option<Syntax> {
        Some(match self {
            Shape::CsharpAzureIdentity | Shape::MsalDotnet => Syntax::CSharp,
            Shape::AppSettings => Syntax::Json,
            Shape::PythonAzureIdentity | Shape::MsalPython => Syntax::Python,
            Shape::JsAzureIdentity | Shape::MsalNode => Syntax::JavaScript,
            Shape::Java => Syntax::Java,
            Shape::Go => Syntax::Go,
            Shape::Rust => Syntax::Rust,
            Shape::Bicep | Shape::Terraform | Shape::AzCli => return None,
        })
    }

    fn template(self) -> &'static str {
        match self {
            Shape::Bicep | Shape::Terraform | Shape::AzCli => "",
            Shape::CsharpAzureIdentity => include_str!("templates/csharp_azure_identity.cs.tmpl"),
            Shape::AppSettings => include_str!("templates/appsettings.json.tmpl"),
            Shape::MsalDotnet => include_str!("templates/csharp_msal.cs.tmpl"),
            Shape::PythonAzureIdentity => include_str!("templates/python_azure_identity.py.tmpl"),
            Shape::MsalPython => include_str!("templates/python_msal.py.tmpl"),
            Shape::JsAzureIdentity => include_str!("templates/js_azure_identity.js.tmpl"),
            Shape::MsalNode => include_str!("templates/js_msal_node.js.tmpl"),
            Shape::Java => include_str!("templates/java_azure_identity.java.tmpl"),
            Shape::Go => include_str!("templates/go_azidentity.go.tmpl"),
            Shape::Rust => include_str!("templates/rust_azure_identity.rs.tmpl"),
        }
    }
}

/// The cloud in words, for a comment.
fn cloud_words(cloud: &Cloud) -> String {
    match cloud.kind {
        CloudKind::Global => "Azure public cloud".into(),
        CloudKind::UsGov => "Azure US Government".into(),
        CloudKind::China => "Azure operated by 21Vianet (China)".into(),
        CloudKind::Custom => format!("custom cloud at {}", cloud.login),
    }
}

/// Tenant-controlled (or typed) text made fit for a one-line comment in any of the languages:
/// no control or bidirectional characters (a newline would end the comment and start code),
/// nothing that closes a block comment, bounded length.
fn comment_text(text: &str) -> String {
    let cleaned: String = crate::text::sanitize(text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.replace("*/", "* /");
    let cleaned = crate::text::truncate_chars(cleaned.trim(), 120).into_owned();
    if cleaned.is_empty() {
        "(unnamed)".into()
    } else {
        cleaned
    }
}

/// The snippet for one shape, filled with `values`.
pub fn snippet(shape: Shape, values: &WorkloadValues) -> String {
    let Some(syntax) = shape.syntax() else {
        return match shape {
            Shape::Bicep => infra::bicep(values),
            Shape::Terraform => infra::terraform(values),
            _ => infra::az(values),
        };
    };
    let lit = |value: &str| literal(value, syntax);
    fill(shape.template(), |name| {
        Some(match name {
            "APP_CLIENT_ID" => lit(&values.app_client_id),
            "RESOURCE_TENANT" => lit(&values.resource_tenant),
            "MI_CLIENT_ID" => lit(&values.identity_client_id),
            "EXCHANGE_AUDIENCE" => lit(&values.cloud.exchange_audience),
            "EXCHANGE_SCOPE" => lit(&values.exchange_scope()),
            "AUTHORITY_HOST" => lit(values.authority_host()),
            // Microsoft.Identity.Web's Instance is the authority host with its trailing slash.
            "INSTANCE" => lit(&format!("{}/", values.authority_host())),
            "SCOPE" => lit(&values.scope),
            "APP_NAME" => comment_text(&values.app_name),
            "IDENTITY_NAME" => comment_text(&values.identity_name),
            "PRINCIPAL_ID" => comment_text(&values.identity_principal_id),
            "SCOPE_NOTE" => comment_text(&values.scope),
            "CLOUD" => comment_text(&cloud_words(&values.cloud)),
            _ => return None,
        })
    })
}

/// Replaces each `@NAME@` of `template` in one pass (so a value that itself reads `@SCOPE@`
/// stays as typed); an unknown name is left as it is.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find('@') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(after.len());
        let replaced = (name_len > 0 && after[name_len..].starts_with('@'))
            .then(|| value(&after[..name_len]))
            .flatten();
        match replaced {
            Some(text) => {
                out.push_str(&text);
                rest = &after[name_len + 1..];
            }
            None => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(cloud: Cloud) -> WorkloadValues {
        WorkloadValues {
            cloud,
            app_name: "payments-api".into(),
            app_client_id: "11111111-1111-1111-1111-111111111111".into(),
            resource_tenant: "22222222-2222-2222-2222-222222222222".into(),
            identity_name: "id-payments".into(),
            identity_client_id: "33333333-3333-3333-3333-333333333333".into(),
            identity_principal_id: "44444444-4444-4444-4444-444444444444".into(),
            scope: "https://graph.microsoft.com/.default".into(),
            app_object_id: "55555555-5555-5555-5555-555555555555".into(),
            app_unique_name: None,
            identity_resource_id: None,
            fic: Fic::default(),
        }
    }

    #[test]
    fn every_placeholder_is_filled_in_every_shape() {
        for cloud in Cloud::national() {
            let v = values(cloud);
            for shape in Shape::ALL.into_iter().filter(|s| s.is_code()) {
                let text = snippet(shape, &v);
                let unfilled = fill(&text, |name| Some(format!("<{name} left unfilled>")));
                assert_eq!(unfilled, text, "{shape:?} has a placeholder left");
                assert!(
                    text.contains("11111111-1111-1111-1111-111111111111"),
                    "{shape:?}"
                );
                assert!(
                    text.contains("22222222-2222-2222-2222-222222222222"),
                    "{shape:?}"
                );
                assert!(
                    text.contains("33333333-3333-3333-3333-333333333333"),
                    "{shape:?}"
                );
                assert!(text.contains(&v.cloud.exchange_audience), "{shape:?}");
                assert!(text.contains(v.authority_host()), "{shape:?}");
            }
        }
    }

    #[test]
    fn the_principal_id_is_only_ever_named_in_a_comment() {
        let v = values(Cloud::us_gov());
        for shape in Shape::ALL.into_iter().filter(|s| s.is_code()) {
            let text = snippet(shape, &v);
            for line in text.lines().filter(|l| l.contains("44444444-")) {
                let code = line.trim_start();
                assert!(
                    code.starts_with("//") || code.starts_with('#'),
                    "{shape:?} uses the principal id outside a comment: {line}"
                );
            }
            if shape != Shape::AppSettings {
                assert!(
                    text.contains("44444444-4444-4444-4444-444444444444"),
                    "{shape:?}"
                );
                assert!(
                    text.contains("CLIENT id"),
                    "{shape:?} says why the client id"
                );
            }
        }
    }

    #[test]
    fn a_newline_in_a_name_cannot_start_code() {
        let mut v = values(Cloud::global());
        v.app_name = "evil\nimport os; os.system('x')\u{202e}".into();
        for shape in [Shape::PythonAzureIdentity, Shape::Go, Shape::Rust] {
            let text = snippet(shape, &v);
            assert!(!text.contains("\nimport os;"), "{shape:?}");
            assert!(!text.contains('\u{202e}'), "{shape:?}");
        }
    }

    #[test]
    fn a_value_that_reads_like_a_placeholder_stays_as_typed() {
        let mut v = values(Cloud::global());
        v.scope = "@APP_CLIENT_ID@".into();
        let text = snippet(Shape::PythonAzureIdentity, &v);
        assert!(text.contains("SCOPE = \"@APP_CLIENT_ID@\""), "{text}");
    }

    #[test]
    fn lang_names_parse_back() {
        for shape in Shape::ALL {
            assert_eq!(Shape::parse(shape.flag()), Some(shape));
        }
        assert_eq!(Shape::parse("C#"), Some(Shape::CsharpAzureIdentity));
        assert_eq!(Shape::parse("cobol"), None);
    }
}
