//! Every export format with awkward names and descriptions: quotes, `$`, `${`, `%{`, backticks,
//! backslashes, newlines, tabs, control characters and unicode must come back unchanged.
//! Shell quoting is checked by a real `sh`; HCL by `terraform` when it is installed and by an
//! independent decoder always; PowerShell and Bicep by decoders written from their grammars.

use std::process::Command;

use ficus::cloud::Cloud;
use ficus::fic::export::{
    az_cli, bicep, bicep_string, graph_body, graph_powershell, graph_request, hcl_string,
    powershell_quote, shell_quote, terraform, terraform_label,
};
use ficus::fic::{AppRecord, ExportFormat, Fic, export};

const AWKWARD: &[&str] = &[
    "plain",
    "it's",
    "two '' quotes",
    r#"double "quoted""#,
    "dollar $HOME and ${env} and $(whoami) and `backtick`",
    "percent %{ if x } and %s",
    r"back\slash \n not a newline \\",
    "line one\nline two\r\n\ttabbed",
    "bell\u{7} escape\u{1b}[31m",
    "unicode: é ü 日本語 😀 ‘curly’ ‚low‛",
    "",
];

fn app() -> AppRecord {
    AppRecord {
        object_id: "00000000-0000-4000-8000-0000000000a1".into(),
        app_id: "00000000-0000-4000-8000-0000000000a2".into(),
        display_name: "Payments 'API'\nsecond line".into(),
        unique_name: Some("payments-api".into()),
    }
}

fn fic(description: &str) -> Fic {
    Fic {
        id: Some("read-only-id".into()),
        name: "mi-id-payments".into(),
        issuer: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
            .into(),
        subject: "5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1".into(),
        audiences: vec!["api://AzureADTokenExchange".into()],
        description: Some(description.into()),
    }
}

// ---- shell ----

fn sh_echo(word: &str) -> String {
    // ANSI-C quoted words (`$'…'`, for control characters) need bash; the rest plain sh.
    let shell = if word.starts_with("$'") { "bash" } else { "sh" };
    let out = Command::new(shell)
        .arg("-c")
        .arg(format!("printf %s {word}"))
        .output()
        .expect("sh runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn shell_quoting_round_trips_through_sh() {
    for text in AWKWARD {
        assert_eq!(sh_echo(&shell_quote(text)), *text, "{text:?}");
    }
}

#[test]
fn az_cli_parameters_are_the_graph_body() {
    for text in AWKWARD {
        let f = fic(text);
        let command = az_cli(&f, &app());
        let prefix = "az ad app federated-credential create --id '00000000-0000-4000-8000-0000000000a2' --parameters ";
        assert!(command.starts_with(prefix), "{command}");
        let word = &command[prefix.len()..];
        let json: serde_json::Value = serde_json::from_str(&sh_echo(word)).expect("json");
        assert_eq!(json, graph_body(&f));
        assert_eq!(json["description"], *text);
        assert!(json.get("id").is_none());
    }
}

// ---- PowerShell ----

/// Reads one PowerShell double-quoted string (backtick escapes, `$([char]0xHHHH)`) at the
/// start of `s`; returns it and the rest.
fn ps_unquote_double(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut i = 1;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().expect("char");
        if c == '"' {
            return (out, &s[i + 1..]);
        }
        if c == '`' {
            let n = rest[1..].chars().next().expect("escaped char");
            out.push(match n {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                other => other,
            });
            i += 1 + n.len_utf8();
        } else if let Some(hex) = rest.strip_prefix("$([char]0x") {
            let end = hex.find(')').expect("closing paren");
            let code = u32::from_str_radix(&hex[..end], 16).expect("hex");
            out.push(char::from_u32(code).expect("char"));
            i += "$([char]0x".len() + end + 1;
        } else {
            assert!(
                c != '$',
                "unescaped $ in a PowerShell double-quoted string: {s:?}"
            );
            out.push(c);
            i += c.len_utf8();
        }
    }
    panic!("unterminated PowerShell string in {s:?}");
}

/// Reads one PowerShell string (single-quoted, or double-quoted for control characters) at the
/// start of `s`; returns it and the rest.
fn ps_unquote(s: &str) -> (String, &str) {
    if s.starts_with('"') {
        return ps_unquote_double(s);
    }
    let is_quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let mut chars = s.char_indices().peekable();
    let (_, first) = chars.next().expect("open quote");
    assert!(is_quote(first));
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if is_quote(c) {
            match chars.peek() {
                Some((_, n)) if is_quote(*n) => {
                    out.push(c);
                    chars.next();
                }
                _ => return (out, &s[i + c.len_utf8()..]),
            }
        } else {
            out.push(c);
        }
    }
    panic!("unterminated PowerShell string in {s:?}");
}

#[test]
fn powershell_quoting_round_trips() {
    for text in AWKWARD {
        let quoted = powershell_quote(text);
        let (back, rest) = ps_unquote(&quoted);
        assert_eq!(back, *text);
        assert_eq!(rest, "");
    }
}

#[test]
fn graph_powershell_command_shape() {
    let f = fic("it's $x `y`\nz");
    let out = graph_powershell(&f, &app());
    assert!(out.starts_with(
        "New-MgApplicationFederatedIdentityCredential -ApplicationId '00000000-0000-4000-8000-0000000000a1' -BodyParameter @{\n"
    ));
    assert!(out.contains("    audiences   = @('api://AzureADTokenExchange')\n"));
    let at = out.find("description = ").expect("description") + "description = ".len();
    let (back, rest) = ps_unquote(&out[at..]);
    assert_eq!(back, "it's $x `y`\nz");
    assert_eq!(rest, "\n}");
}

// ---- Bicep ----

fn bicep_unquote(s: &str) -> (String, &str) {
    let mut chars = s.char_indices();
    assert_eq!(chars.next().map(|(_, c)| c), Some('\''));
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => return (out, &s[i + 1..]),
            '$' => {
                let next = s[i + 1..].chars().next();
                assert_ne!(next, Some('{'), "unescaped interpolation in {s:?}");
                out.push('$');
            }
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('\\') => out.push('\\'),
                Some('\'') => out.push('\''),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('$') => out.push('$'),
                Some('u') => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('{'));
                    let hex: String = chars
                        .by_ref()
                        .map(|(_, c)| c)
                        .take_while(|c| *c != '}')
                        .collect();
                    out.push(
                        char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("char"),
                    );
                }
                other => panic!("invalid Bicep escape {other:?}"),
            },
            c => {
                assert!(!c.is_control(), "raw control character in a Bicep string");
                out.push(c);
            }
        }
    }
    panic!("unterminated Bicep string");
}

#[test]
fn bicep_quoting_round_trips() {
    for text in AWKWARD {
        let quoted = bicep_string(text);
        let (back, rest) = bicep_unquote(&quoted);
        assert_eq!(back, *text);
        assert_eq!(rest, "");
    }
}

#[test]
fn bicep_uses_the_graph_extension_and_the_unique_name() {
    let f = fic("a ${b} 'c'\nd");
    let out = bicep(&f, &app());
    assert!(out.starts_with("extension microsoftGraphV1\n"));
    assert!(out.contains("param appUniqueName string = 'payments-api'\n"));
    assert!(out.contains(
        "resource federatedCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {\n  name: '${appUniqueName}/mi-id-payments'\n"
    ));
    assert!(out.contains("  audiences: [\n    'api://AzureADTokenExchange'\n  ]\n"));
    let at = out.find("description: ").expect("description") + "description: ".len();
    let (back, rest) = bicep_unquote(&out[at..]);
    assert_eq!(back, "a ${b} 'c'\nd");
    assert_eq!(rest, "\n}\n");
    // The app's display name lands in a comment: one line, nothing that ends it early.
    let comment = out.lines().find(|l| l.starts_with("//")).expect("comment");
    assert!(comment.contains("Payments 'API' second line"));

    let mut no_unique = app();
    no_unique.unique_name = None;
    assert!(bicep(&f, &no_unique).contains("param appUniqueName string\n"));
}

// ---- Terraform ----

fn hcl_unquote(s: &str) -> (String, &str) {
    let mut chars = s.char_indices().peekable();
    assert_eq!(chars.next().map(|(_, c)| c), Some('"'));
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '$' | '%' if chars.peek().map(|(_, n)| *n) == Some('{') => {
                panic!("unescaped template sequence in {s:?}")
            }
            '$' | '%' if chars.peek().map(|(_, n)| *n) == Some(c) => {
                // `$${` / `%%{` are the escapes for `${` / `%{`; `$$` alone is two dollars.
                let rest = &s[i + 2..];
                if rest.starts_with('{') {
                    chars.next();
                }
                out.push(c);
            }
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    out.push(
                        char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("char"),
                    );
                }
                other => panic!("invalid HCL escape {other:?}"),
            },
            c => {
                assert!(!c.is_control(), "raw control character in an HCL string");
                out.push(c);
            }
        }
    }
    panic!("unterminated HCL string");
}

#[test]
fn hcl_quoting_round_trips() {
    let mut cases: Vec<&str> = AWKWARD.to_vec();
    cases.extend(["$${already}", "%%{x}", "$", "%", "a$", "${", "$$"]);
    for text in cases {
        let quoted = hcl_string(text);
        let (back, rest) = hcl_unquote(&quoted);
        assert_eq!(back, text);
        assert_eq!(rest, "");
    }
}

fn terraform_installed() -> bool {
    Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn hcl_strings_evaluate_to_the_original_in_terraform() {
    if !terraform_installed() {
        eprintln!("terraform not installed: checked by the HCL decoder only");
        return;
    }
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cases: Vec<&str> = AWKWARD.to_vec();
    cases.extend(["$${already}", "%%{x}", "a$", "$$"]);
    // A piped console prints only the last result, so evaluate all cases in one expression.
    let list: Vec<String> = cases.iter().map(|t| hcl_string(t)).collect();
    let input = format!("base64encode(jsonencode([{}]))\n", list.join(", "));
    let mut child = Command::new("terraform")
        .arg("console")
        .current_dir(dir.path())
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("terraform console");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write");
    }
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim().trim_matches('"'))
        .expect("base64");
    let decoded: Vec<String> = serde_json::from_slice(&bytes).expect("json list");
    let expected: Vec<String> = cases.iter().map(|s| s.to_string()).collect();
    assert_eq!(decoded, expected);
}

#[test]
fn terraform_resource_shape_and_syntax() {
    let f = fic("a ${b} %{c} \"d\"\ne");
    let out = terraform(&f, &app());
    assert!(out.contains(
        "resource \"azuread_application_federated_identity_credential\" \"mi-id-payments\" {\n"
    ));
    assert!(
        out.contains("  application_id = \"/applications/00000000-0000-4000-8000-0000000000a1\"\n")
    );
    assert!(out.contains("  display_name   = \"mi-id-payments\"\n"));
    assert!(out.contains("  audiences      = [\"api://AzureADTokenExchange\"]\n"));
    let at = out.find("description    = ").expect("description") + "description    = ".len();
    let (back, _) = hcl_unquote(&out[at..]);
    assert_eq!(back, "a ${b} %{c} \"d\"\ne");
    assert_eq!(terraform_label("9 lives"), "fic_9_lives");

    if terraform_installed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.tf"), &out).expect("write");
        let status = Command::new("terraform")
            .args(["fmt", "-check", "-diff", "main.tf"])
            .current_dir(dir.path())
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .expect("terraform fmt");
        // Exit 0: parses and is already formatted; 3 would be a formatting difference and
        // 2 a syntax error.
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stdout)
        );
    }
}

// ---- Graph request ----

#[test]
fn graph_request_on_each_cloud() {
    let f = fic("x");
    let request = graph_request(&f, &app());
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        "/v1.0/applications/00000000-0000-4000-8000-0000000000a1/federatedIdentityCredentials"
    );
    assert_eq!(
        request.url(&Cloud::us_gov()),
        "https://graph.microsoft.us/v1.0/applications/00000000-0000-4000-8000-0000000000a1/federatedIdentityCredentials"
    );
    let http = request.to_http(&Cloud::global());
    let (head, body) = http.split_once("\n\n").expect("blank line");
    assert_eq!(
        head,
        "POST https://graph.microsoft.com/v1.0/applications/00000000-0000-4000-8000-0000000000a1/federatedIdentityCredentials\nContent-Type: application/json"
    );
    let json: serde_json::Value = serde_json::from_str(body).expect("json body");
    assert_eq!(
        json,
        serde_json::json!({
            "name": "mi-id-payments",
            "issuer": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "subject": "5f0c9e2a-7b1d-4c3e-9f00-00000000b0b1",
            "audiences": ["api://AzureADTokenExchange"],
            "description": "x",
        })
    );
    let mut odd = app();
    odd.object_id = "a/b c".into();
    assert_eq!(
        graph_request(&f, &odd).path,
        "/v1.0/applications/a%2Fb%20c/federatedIdentityCredentials"
    );
    let mut none = fic("x");
    none.description = None;
    assert!(graph_body(&none).get("description").is_none());
}

#[test]
fn every_format_through_one_entry_point() {
    let f = fic("d");
    for format in ExportFormat::ALL {
        let text = export(format, &f, &app(), &Cloud::global());
        assert!(text.contains("mi-id-payments"), "{}", format.label());
        assert!(!text.contains("read-only-id"), "{}", format.label());
    }
}

/// The value following `key` in `text`, decoded with `unquote`.
fn value_after<'a>(text: &'a str, key: &str, unquote: fn(&str) -> (String, &str)) -> String {
    let at = text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len();
    unquote(&text[at..]).0
}

#[test]
fn awkward_names_survive_every_format() {
    for text in AWKWARD {
        let mut f = fic(text);
        f.name = text.to_string();
        f.subject = format!("sub {text}");
        let az = az_cli(&f, &app());
        let word = az.rsplit_once("--parameters ").expect("parameters").1;
        if !text.contains('\u{7}') {
            let json: serde_json::Value = serde_json::from_str(&sh_echo(word)).expect("json");
            assert_eq!(json["name"], *text);
        }
        let ps = graph_powershell(&f, &app());
        assert_eq!(value_after(&ps, "name        = ", ps_unquote), *text);
        assert_eq!(
            value_after(&ps, "subject     = ", ps_unquote),
            format!("sub {text}")
        );
        let bi = bicep(&f, &app());
        // The one intended interpolation is the parent's unique name; the rest is literal.
        let prefix = "  name: '${appUniqueName}/";
        let at = bi.find(prefix).expect("name line") + prefix.len();
        let literal = format!("'{}", &bi[at..]);
        assert_eq!(bicep_unquote(&literal).0, *text);
        assert_eq!(
            value_after(&bi, "  subject: ", bicep_unquote),
            format!("sub {text}")
        );
        let tf = terraform(&f, &app());
        assert_eq!(value_after(&tf, "display_name   = ", hcl_unquote), *text);
        let label = tf.lines().nth(1).expect("resource line");
        assert!(label.ends_with("\" {"), "{label}");
        if terraform_installed() {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join("main.tf"), &tf).expect("write");
            let out = Command::new("terraform")
                .args(["fmt", "-check", "main.tf"])
                .current_dir(dir.path())
                .env("TF_CLI_CONFIG_FILE", "/dev/null")
                .output()
                .expect("terraform fmt");
            assert!(out.status.success(), "{text:?}: {tf}");
        }
    }
}

#[test]
fn body_text_keeps_graphs_field_order_and_is_the_same_json() {
    use ficus::fic::export::graph_body_text;
    for text in AWKWARD {
        let mut f = fic(text);
        f.audiences.push(format!("second {text}"));
        for pretty in [false, true] {
            let body = graph_body_text(&f, pretty);
            let parsed: serde_json::Value = serde_json::from_str(&body).expect("valid json");
            assert_eq!(parsed, graph_body(&f));
            let order: Vec<usize> = [
                "\"name\"",
                "\"issuer\"",
                "\"subject\"",
                "\"audiences\"",
                "\"description\"",
            ]
            .iter()
            .map(|k| body.find(k).expect("key"))
            .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{body}");
            assert_eq!(body.contains('\n'), pretty);
        }
    }
    let mut empty = fic("x");
    empty.audiences.clear();
    empty.description = None;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&graph_body_text(&empty, true)).expect("json"),
        graph_body(&empty)
    );
}

/// A FIC holding control and invisible characters (ESC, BEL, DEL, a C1 control, a
/// right-to-left override) exports what is stored: every format's text has no such raw
/// character (so a terminal sanitizer leaves it unchanged, instead of exporting a cleaned
/// value), decodes back to the exact stored value, and the fields are named in warnings.
#[test]
fn control_characters_are_exported_as_stored_escaped_and_warned() {
    use ficus::fic::Field;
    use ficus::fic::export::export_warnings;
    let stored = "sub\u{1b}[31m\u{7}x\u{7f}\u{9b}y\u{202E}gpj.exe";
    let mut f = fic("desc\u{1b}]0;title\u{7}");
    f.subject = stored.to_string();
    let is_raw = |c: char| c != '\n' && ficus::text::is_unsafe_char(c);
    for format in ExportFormat::ALL {
        let text = export(format, &f, &app(), &Cloud::global());
        assert!(
            !text.chars().any(is_raw),
            "{format:?} holds a raw control character: {text:?}"
        );
        assert_eq!(
            ficus::text::sanitize_lines(&text),
            text,
            "{format:?} is unchanged by the sanitizer"
        );
    }
    // And each decodes to the stored value.
    let ps = graph_powershell(&f, &app());
    assert_eq!(value_after(&ps, "subject     = ", ps_unquote), stored);
    let bi = bicep(&f, &app());
    assert_eq!(value_after(&bi, "  subject: ", bicep_unquote), stored);
    let tf = terraform(&f, &app());
    assert_eq!(value_after(&tf, "subject        = ", hcl_unquote), stored);
    let az = az_cli(&f, &app());
    let word = az.rsplit_once("--parameters ").expect("parameters").1;
    let json: serde_json::Value = serde_json::from_str(&sh_echo(word)).expect("json");
    assert_eq!(json["subject"], stored);
    let request = graph_request(&f, &app());
    let body: serde_json::Value = serde_json::from_str(&request.body_text).expect("json");
    assert_eq!(body["subject"], stored);
    assert_eq!(
        sh_echo(&shell_quote(stored)),
        stored,
        "bash $'…' round trip"
    );

    let warnings = export_warnings(&f);
    let fields: Vec<Field> = warnings.iter().map(|w| w.field).collect();
    assert_eq!(fields, [Field::Subject, Field::Description]);
    let message = warnings[0].message();
    assert!(
        message.contains("U+001B") && message.contains("U+202E"),
        "{message}"
    );
    assert!(message.contains("subject"), "{message}");
    assert!(export_warnings(&fic("plain")).is_empty());
}
