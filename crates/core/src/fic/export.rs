//! The same FIC as an Azure CLI command, a Graph PowerShell command, Bicep (Microsoft Graph
//! extension), Terraform (`azuread`), and the raw Graph request, each quoted for its language
//! so that any name or description (quotes, `$`, backticks, newlines, unicode) survives.
//!
//! The exports create the credential (POST semantics); for an existing FIC they reproduce it,
//! for example in another app or tenant. Its read-only `id` is never exported.

use serde_json::{Map, Value};

use crate::cloud::Cloud;
use crate::fic::model::{AppRecord, Fic};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    AzCli,
    GraphPowerShell,
    Bicep,
    Terraform,
    GraphRequest,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::AzCli,
        ExportFormat::GraphPowerShell,
        ExportFormat::Bicep,
        ExportFormat::Terraform,
        ExportFormat::GraphRequest,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::AzCli => "Azure CLI",
            ExportFormat::GraphPowerShell => "Graph PowerShell",
            ExportFormat::Bicep => "Bicep",
            ExportFormat::Terraform => "Terraform",
            ExportFormat::GraphRequest => "Graph request",
        }
    }
}

/// `fic` in `format`, for the app `app`. `cloud` gives the Graph host of the raw request.
pub fn export(format: ExportFormat, fic: &Fic, app: &AppRecord, cloud: &Cloud) -> String {
    match format {
        ExportFormat::AzCli => az_cli(fic, app),
        ExportFormat::GraphPowerShell => graph_powershell(fic, app),
        ExportFormat::Bicep => bicep(fic, app),
        ExportFormat::Terraform => terraform(fic, app),
        ExportFormat::GraphRequest => graph_request(fic, app).to_http(cloud),
    }
}

/// The Graph JSON body that creates `fic`: name, issuer, subject, audiences and, when set,
/// description. As a `Value` its keys are sorted; [`graph_body_text`] keeps Graph's order.
pub fn graph_body(fic: &Fic) -> Value {
    let mut body = Map::new();
    body.insert("name".into(), Value::String(fic.name.clone()));
    body.insert("issuer".into(), Value::String(fic.issuer.clone()));
    body.insert("subject".into(), Value::String(fic.subject.clone()));
    body.insert(
        "audiences".into(),
        Value::Array(fic.audiences.iter().cloned().map(Value::String).collect()),
    );
    if let Some(description) = &fic.description {
        body.insert("description".into(), Value::String(description.clone()));
    }
    Value::Object(body)
}

fn json_string(text: &str) -> String {
    // Serialising a string cannot fail.
    Value::String(text.to_string()).to_string()
}

/// The body as JSON text in Graph's documented order (name, issuer, subject, audiences,
/// description), compact on one line or pretty with two-space indents.
pub fn graph_body_text(fic: &Fic, pretty: bool) -> String {
    let audiences: Vec<String> = fic.audiences.iter().map(|a| json_string(a)).collect();
    let mut fields = vec![
        ("name", json_string(&fic.name)),
        ("issuer", json_string(&fic.issuer)),
        ("subject", json_string(&fic.subject)),
        (
            "audiences",
            if pretty && !audiences.is_empty() {
                format!("[\n    {}\n  ]", audiences.join(",\n    "))
            } else {
                format!("[{}]", audiences.join(","))
            },
        ),
    ];
    if let Some(description) = &fic.description {
        fields.push(("description", json_string(description)));
    }
    if pretty {
        let lines: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  \"{k}\": {v}"))
            .collect();
        format!("{{\n{}\n}}", lines.join(",\n"))
    } else {
        let parts: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", parts.join(","))
    }
}

/// A POSIX shell word: single quotes, with each `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `az ad app federated-credential create --id <appId> --parameters '<json>'`.
pub fn az_cli(fic: &Fic, app: &AppRecord) -> String {
    format!(
        "az ad app federated-credential create --id {} --parameters {}",
        shell_quote(&app.app_id),
        shell_quote(&graph_body_text(fic, false))
    )
}

/// A PowerShell single-quoted string. PowerShell also treats the typographic single quotes
/// (U+2018..U+201B) as quote characters, so each of them is doubled too.
pub fn powershell_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `New-MgApplicationFederatedIdentityCredential -ApplicationId <objectId> -BodyParameter @{...}`.
pub fn graph_powershell(fic: &Fic, app: &AppRecord) -> String {
    let audiences: Vec<String> = fic.audiences.iter().map(|a| powershell_quote(a)).collect();
    let mut out = format!(
        "New-MgApplicationFederatedIdentityCredential -ApplicationId {} -BodyParameter @{{\n",
        powershell_quote(&app.object_id)
    );
    out.push_str(&format!(
        "    name        = {}\n",
        powershell_quote(&fic.name)
    ));
    out.push_str(&format!(
        "    issuer      = {}\n",
        powershell_quote(&fic.issuer)
    ));
    out.push_str(&format!(
        "    subject     = {}\n",
        powershell_quote(&fic.subject)
    ));
    out.push_str(&format!("    audiences   = @({})\n", audiences.join(", ")));
    if let Some(description) = &fic.description {
        out.push_str(&format!(
            "    description = {}\n",
            powershell_quote(description)
        ));
    }
    out.push('}');
    out
}

/// A Bicep single-quoted string: `\\`, `\'`, `\n`, `\r`, `\t`, `\$` (so `${` never
/// interpolates), and `\u{..}` for other control characters.
pub fn bicep_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    push_bicep_escaped(&mut out, text);
    out.push('\'');
    out
}

fn push_bicep_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '$' => out.push_str(r"\$"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Text safe inside a `//` comment: one line, no control characters.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Bicep with the Microsoft Graph extension. The parent app is named by its `uniqueName`
/// (`name: '${appUniqueName}/<fic name>'`); when the app has none, the parameter has no
/// default and the deployment asks for it (set one with a PATCH on the app first).
pub fn bicep(fic: &Fic, app: &AppRecord) -> String {
    let mut out = String::new();
    out.push_str("extension microsoftGraphV1\n\n");
    out.push_str(&format!(
        "// Federated identity credential '{}' on the app registration {} (appId {}).\n",
        comment_text(&fic.name),
        comment_text(&app.display_name),
        comment_text(&app.app_id)
    ));
    out.push_str(
        "@description('uniqueName of the app registration: Graph Bicep addresses apps by it')\n",
    );
    match app.unique_name.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(unique) => out.push_str(&format!(
            "param appUniqueName string = {}\n\n",
            bicep_string(unique)
        )),
        None => out.push_str("param appUniqueName string\n\n"),
    }
    let mut name = String::from("'${appUniqueName}/");
    push_bicep_escaped(&mut name, &fic.name);
    name.push('\'');
    out.push_str(
        "resource federatedCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {\n",
    );
    out.push_str(&format!("  name: {name}\n"));
    out.push_str(&format!("  issuer: {}\n", bicep_string(&fic.issuer)));
    out.push_str(&format!("  subject: {}\n", bicep_string(&fic.subject)));
    out.push_str("  audiences: [\n");
    for audience in &fic.audiences {
        out.push_str(&format!("    {}\n", bicep_string(audience)));
    }
    out.push_str("  ]\n");
    if let Some(description) = &fic.description {
        out.push_str(&format!("  description: {}\n", bicep_string(description)));
    }
    out.push_str("}\n");
    out
}

/// An HCL double-quoted string: `\\`, `\"`, `\n`, `\r`, `\t`, `\uNNNN` for other control
/// characters, and the template sequences `${` → `$${`, `%{` → `%%{`.
pub fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Terraform resource label from a FIC name: letters, digits, `_`, `-`; starts with a
/// letter or `_`.
pub fn terraform_label(name: &str) -> String {
    let mut label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !label
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    {
        label.insert_str(0, "fic_");
    }
    label
}

/// `resource "azuread_application_federated_identity_credential"` (azuread provider v3:
/// `application_id` is the app's resource id `/applications/{objectId}`).
pub fn terraform(fic: &Fic, app: &AppRecord) -> String {
    let audiences: Vec<String> = fic.audiences.iter().map(|a| hcl_string(a)).collect();
    let mut out = format!(
        "# Federated identity credential on the app registration {} (appId {}).\n",
        comment_text(&app.display_name),
        comment_text(&app.app_id)
    );
    out.push_str(&format!(
        "resource \"azuread_application_federated_identity_credential\" \"{}\" {{\n",
        terraform_label(&fic.name)
    ));
    out.push_str(&format!(
        "  application_id = {}\n",
        hcl_string(&format!("/applications/{}", app.object_id))
    ));
    out.push_str(&format!("  display_name   = {}\n", hcl_string(&fic.name)));
    if let Some(description) = &fic.description {
        out.push_str(&format!("  description    = {}\n", hcl_string(description)));
    }
    out.push_str(&format!("  audiences      = [{}]\n", audiences.join(", ")));
    out.push_str(&format!("  issuer         = {}\n", hcl_string(&fic.issuer)));
    out.push_str(&format!(
        "  subject        = {}\n",
        hcl_string(&fic.subject)
    ));
    out.push_str("}\n");
    out
}

/// The Graph request that creates the FIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphRequest {
    pub method: &'static str,
    /// From the version on: `/v1.0/applications/{objectId}/federatedIdentityCredentials`.
    pub path: String,
    pub body: Value,
    /// `body` as pretty JSON text in Graph's field order, as it is sent.
    pub body_text: String,
}

impl GraphRequest {
    /// The full URL on `cloud`'s Graph host.
    pub fn url(&self, cloud: &Cloud) -> String {
        format!("{}{}", cloud.graph, self.path)
    }

    /// As an HTTP request text: request line, content type, blank line, pretty JSON body.
    pub fn to_http(&self, cloud: &Cloud) -> String {
        format!(
            "{} {}\nContent-Type: application/json\n\n{}\n",
            self.method,
            self.url(cloud),
            self.body_text
        )
    }
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters stay as they are).
fn path_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub fn graph_request(fic: &Fic, app: &AppRecord) -> GraphRequest {
    GraphRequest {
        method: "POST",
        path: format!(
            "/v1.0/applications/{}/federatedIdentityCredentials",
            path_segment(app.object_id.trim())
        ),
        body: graph_body(fic),
        body_text: graph_body_text(fic, true),
    }
}
