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

pub use escape::{Syntax, literal};

use crate::cloud::{Cloud, CloudKind};

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
}

impl WorkloadValues {
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
}

impl Shape {
    /// Every shape, in the order the console's tabs and `ficus code` show them.
    pub const ALL: [Shape; 10] = [
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
    ];

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
        }
    }

    /// The string-literal syntax of the target language.
    pub fn syntax(self) -> Syntax {
        match self {
            Shape::CsharpAzureIdentity | Shape::MsalDotnet => Syntax::CSharp,
            Shape::AppSettings => Syntax::Json,
            Shape::PythonAzureIdentity | Shape::MsalPython => Syntax::Python,
            Shape::JsAzureIdentity | Shape::MsalNode => Syntax::JavaScript,
            Shape::Java => Syntax::Java,
            Shape::Go => Syntax::Go,
            Shape::Rust => Syntax::Rust,
        }
    }

    fn template(self) -> &'static str {
        match self {
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
    let syntax = shape.syntax();
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
        }
    }

    #[test]
    fn every_placeholder_is_filled_in_every_shape() {
        for cloud in Cloud::national() {
            let v = values(cloud);
            for shape in Shape::ALL {
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
        for shape in Shape::ALL {
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
