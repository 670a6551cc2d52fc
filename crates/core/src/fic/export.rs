//! The same FIC as an Azure CLI command, a Graph PowerShell command, Bicep (Microsoft Graph
//! extension), Terraform (`azuread`), and the raw Graph request, each quoted for its language
//! so that any name or description (quotes, `$`, backticks, newlines, unicode) survives.
//!
//! The exports create the credential (POST semantics); for an existing FIC they reproduce it,
//! for example in another app or tenant. Its read-only `id` is never exported.
//!
//! A change to an existing FIC is built once, by [`update_request`]: a [`FicUpdate`] that
//! holds exactly the fields that changed, and gives the PATCH body Graph is sent, the request
//! text a review shows, and the equivalent `az` and Graph PowerShell commands
//! ([`update_export`]).
//!
//! Exports carry what is stored, never a cleaned copy: a control or invisible character in a
//! field (ESC, a bidi override…) is written as that language's escape, so the text is safe to
//! show and still recreates the exact value; [`export_warnings`] names such fields.

use serde_json::{Map, Value};

use crate::cloud::Cloud;
use crate::fic::model::{AppRecord, Fic, Field};
use crate::text::is_unsafe_char;

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

/// A JSON string literal in which every control or invisible character (not only the C0
/// controls JSON requires: DEL, C1, bidi controls…) is a `\uXXXX` escape, so the text shows
/// what is stored and survives a terminal sanitizer unchanged.
fn json_string(text: &str) -> String {
    // Serialising a string cannot fail.
    let json = Value::String(text.to_string()).to_string();
    if !json.chars().any(is_unsafe_char) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe_char(c) {
            // Every unsafe character is in the BMP: one \u escape each.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// A warning that a FIC holds control or invisible characters: the exports keep them (escaped
/// for each language), since Entra compares the stored values exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportWarning {
    pub field: Field,
    /// The characters, as `U+001B`, in order of first appearance.
    pub characters: Vec<String>,
}

impl ExportWarning {
    pub fn message(&self) -> String {
        format!(
            "the {} holds control or invisible characters ({}); the exports keep them, escaped, because Entra compares the stored value exactly: check they are meant to be there",
            self.field.label(),
            self.characters.join(", ")
        )
    }
}

/// The fields of `fic` that hold control or invisible characters (what a terminal sanitizer
/// would remove), each with those characters. Empty for an ordinary FIC.
pub fn export_warnings(fic: &Fic) -> Vec<ExportWarning> {
    let mut fields: Vec<(Field, Vec<&str>)> = vec![
        (Field::Name, vec![fic.name.as_str()]),
        (Field::Issuer, vec![fic.issuer.as_str()]),
        (Field::Subject, vec![fic.subject.as_str()]),
        (
            Field::Audiences,
            fic.audiences.iter().map(String::as_str).collect(),
        ),
    ];
    if let Some(description) = &fic.description {
        fields.push((Field::Description, vec![description.as_str()]));
    }
    fields
        .into_iter()
        .filter_map(|(field, values)| {
            let mut characters: Vec<String> = Vec::new();
            for c in values
                .iter()
                .flat_map(|v| v.chars())
                .filter(|c| is_unsafe_char(*c))
            {
                let code = format!("U+{:04X}", u32::from(c));
                if !characters.contains(&code) {
                    characters.push(code);
                }
            }
            (!characters.is_empty()).then_some(ExportWarning { field, characters })
        })
        .collect()
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

/// A POSIX shell word: single quotes, with each `'` written as `'\''`. A text holding control
/// or invisible characters is written as an ANSI-C quoted word instead (`$'…'`, bash, zsh,
/// ksh and POSIX.1-2024 sh), with those characters escaped (`\n`, `\x1b`, `\u202e`), so the
/// command shows, and recreates, exactly what is stored.
pub fn shell_quote(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) {
        return format!("'{}'", text.replace('\'', r"'\''"));
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("$'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if is_unsafe_char(c) && u32::from(c) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
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
///
/// A text holding control or invisible characters is written as a double-quoted string instead,
/// with `` ` ``, `"` (and the typographic double quotes) and `$` escaped by a backtick, line
/// breaks and tabs as `` `n `` `` `r `` `` `t ``, and every other such character as
/// `$([char]0x1B)` (Windows PowerShell 5.1 and PowerShell 7 alike), so the command shows, and
/// recreates, exactly what is stored.
pub fn powershell_quote(text: &str) -> String {
    if text.chars().any(is_unsafe_char) {
        return powershell_double_quote(text);
    }
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

fn powershell_double_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push('"');
    for c in text.chars() {
        match c {
            '`' | '"' | '$' | '\u{201C}' | '\u{201D}' | '\u{201E}' => {
                out.push('`');
                out.push(c);
            }
            '\n' => out.push_str("`n"),
            '\r' => out.push_str("`r"),
            '\t' => out.push_str("`t"),
            c if is_unsafe_char(c) => out.push_str(&format!("$([char]0x{:04X})", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
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
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:X}}}", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Text safe inside a `//` comment: one line, no control characters.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if is_unsafe_char(c) { ' ' } else { c })
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
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{:04X}", u32::from(c))),
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

// ---------------------------------------------------------------------------------------------
// Updating an existing FIC

/// A change to an existing FIC: only the fields that change, as Graph's PATCH takes them
/// ("supply only the values for properties that should be updated"). The name is immutable,
/// so it is never part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FicUpdate {
    /// What the request addresses: the FIC's `id`, or its name when it has no id (Graph
    /// accepts both in the URL).
    pub fic_key: String,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub audiences: Option<Vec<String>>,
    /// The new description; `Some("")` clears it (an absent description and an empty one are
    /// the same to the admin, so clearing is sent as `""`, which Graph stores as given).
    pub description: Option<String>,
}

/// Why no update request can be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error(
        "a federated identity credential's name cannot change ('{from}' to '{to}'); create one with the new name and delete the old one"
    )]
    Rename { from: String, to: String },
    #[error("the federated identity credential has neither an id nor a name to address it by")]
    NoKey,
}

/// The update that turns `before` (as Graph holds it) into `after` (as edited): exactly the
/// fields that differ. A description that is cleared (`None` or `""` after a non-empty one)
/// is sent as `""`; `None` and `""` are otherwise the same. An unchanged FIC gives an empty
/// update ([`FicUpdate::is_empty`]). Refuses a rename, which Graph refuses too.
pub fn update_request(before: &Fic, after: &Fic) -> Result<FicUpdate, UpdateError> {
    if before.name != after.name {
        return Err(UpdateError::Rename {
            from: before.name.clone(),
            to: after.name.clone(),
        });
    }
    let fic_key = before
        .id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .or_else(|| Some(before.name.trim()).filter(|n| !n.is_empty()))
        .ok_or(UpdateError::NoKey)?
        .to_string();
    let changed = |a: &String, b: &String| (a != b).then(|| b.clone());
    let description = |f: &Fic| f.description.clone().unwrap_or_default();
    Ok(FicUpdate {
        fic_key,
        issuer: changed(&before.issuer, &after.issuer),
        subject: changed(&before.subject, &after.subject),
        audiences: (before.audiences != after.audiences).then(|| after.audiences.clone()),
        description: changed(&description(before), &description(after)),
    })
}

impl FicUpdate {
    /// Nothing changes: there is no request to send.
    pub fn is_empty(&self) -> bool {
        self.changed_fields().is_empty()
    }

    /// The fields that change, in Graph's order.
    pub fn changed_fields(&self) -> Vec<Field> {
        let mut fields = Vec::new();
        if self.issuer.is_some() {
            fields.push(Field::Issuer);
        }
        if self.subject.is_some() {
            fields.push(Field::Subject);
        }
        if self.audiences.is_some() {
            fields.push(Field::Audiences);
        }
        if self.description.is_some() {
            fields.push(Field::Description);
        }
        fields
    }

    /// `fic` as Graph holds it after this update: what a read-back must show.
    pub fn apply(&self, fic: &Fic) -> Fic {
        let mut out = fic.clone();
        if let Some(issuer) = &self.issuer {
            out.issuer = issuer.clone();
        }
        if let Some(subject) = &self.subject {
            out.subject = subject.clone();
        }
        if let Some(audiences) = &self.audiences {
            out.audiences = audiences.clone();
        }
        if let Some(description) = &self.description {
            out.description = Some(description.clone());
        }
        out
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields = Vec::new();
        if let Some(issuer) = &self.issuer {
            fields.push(("issuer", Value::String(issuer.clone())));
        }
        if let Some(subject) = &self.subject {
            fields.push(("subject", Value::String(subject.clone())));
        }
        if let Some(audiences) = &self.audiences {
            fields.push((
                "audiences",
                Value::Array(audiences.iter().cloned().map(Value::String).collect()),
            ));
        }
        if let Some(description) = &self.description {
            fields.push(("description", Value::String(description.clone())));
        }
        fields
    }

    /// The PATCH body: exactly the changed fields. This is what is sent.
    pub fn body(&self) -> Value {
        Value::Object(
            self.fields()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// The body as JSON text in Graph's field order, compact or pretty (two-space indents).
    pub fn body_text(&self, pretty: bool) -> String {
        let fields = self.fields();
        if fields.is_empty() {
            return "{}".to_string();
        }
        if pretty {
            let lines: Vec<String> = fields
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        Value::Array(items) if !items.is_empty() => {
                            let items: Vec<String> = items.iter().map(Value::to_string).collect();
                            format!("[\n    {}\n  ]", items.join(",\n    "))
                        }
                        other => other.to_string(),
                    };
                    format!("  \"{k}\": {value}")
                })
                .collect();
            format!("{{\n{}\n}}", lines.join(",\n"))
        } else {
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", parts.join(","))
        }
    }

    /// The Graph request: `PATCH /v1.0/applications/{objectId}/federatedIdentityCredentials/{id}`
    /// with [`FicUpdate::body`].
    pub fn graph_request(&self, app: &AppRecord) -> GraphRequest {
        GraphRequest {
            method: "PATCH",
            path: format!(
                "/v1.0/applications/{}/federatedIdentityCredentials/{}",
                path_segment(app.object_id.trim()),
                path_segment(&self.fic_key)
            ),
            body: self.body(),
            body_text: self.body_text(true),
        }
    }

    /// `az ad app federated-credential update --id <appId> --federated-credential-id <id>
    /// --parameters '<changed fields>'`.
    pub fn az_cli(&self, app: &AppRecord) -> String {
        format!(
            "az ad app federated-credential update --id {} --federated-credential-id {} --parameters {}",
            shell_quote(&app.app_id),
            shell_quote(&self.fic_key),
            shell_quote(&self.body_text(false))
        )
    }

    /// `Update-MgApplicationFederatedIdentityCredential` with the changed fields only.
    pub fn graph_powershell(&self, app: &AppRecord) -> String {
        let mut out = format!(
            "Update-MgApplicationFederatedIdentityCredential -ApplicationId {} -FederatedIdentityCredentialId {} -BodyParameter @{{\n",
            powershell_quote(&app.object_id),
            powershell_quote(&self.fic_key)
        );
        if let Some(issuer) = &self.issuer {
            out.push_str(&format!("    issuer      = {}\n", powershell_quote(issuer)));
        }
        if let Some(subject) = &self.subject {
            out.push_str(&format!(
                "    subject     = {}\n",
                powershell_quote(subject)
            ));
        }
        if let Some(audiences) = &self.audiences {
            let quoted: Vec<String> = audiences.iter().map(|a| powershell_quote(a)).collect();
            out.push_str(&format!("    audiences   = @({})\n", quoted.join(", ")));
        }
        if let Some(description) = &self.description {
            out.push_str(&format!(
                "    description = {}\n",
                powershell_quote(description)
            ));
        }
        out.push('}');
        out
    }
}

/// An update in `format`: the PATCH request, `az` and Graph PowerShell carry the changed fields
/// only; Bicep and Terraform are declarative, so they describe the whole FIC as `after`.
pub fn update_export(
    format: ExportFormat,
    update: &FicUpdate,
    after: &Fic,
    app: &AppRecord,
    cloud: &Cloud,
) -> String {
    match format {
        ExportFormat::GraphRequest => update.graph_request(app).to_http(cloud),
        ExportFormat::AzCli => update.az_cli(app),
        ExportFormat::GraphPowerShell => update.graph_powershell(app),
        ExportFormat::Bicep => bicep(after, app),
        ExportFormat::Terraform => terraform(after, app),
    }
}
