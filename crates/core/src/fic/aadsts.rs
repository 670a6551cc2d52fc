//! Reading what Entra's token service says when it refuses: the AADSTS codes, the OAuth
//! `error`, Entra's own sentence, and the trace id, correlation id and timestamp it appends.
//!
//! One parser for every shape people and SDKs produce: the token endpoint's JSON error body
//! (alone or inside other text), its `error_description`, azure-identity's
//! `ClientAuthenticationError` text, MSAL's result dict printed by Python, or a log line.

/// What an Entra error text says, each part when present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StsMessage {
    /// Every AADSTS code, in order, without repeats: the JSON `error_codes` first, then any
    /// `AADSTS<digits>` in the text.
    pub codes: Vec<u32>,
    /// The OAuth `error` value: `invalid_client`, `invalid_grant`, …
    pub error: Option<String>,
    /// Entra's own message without the `AADSTSnnnn:` prefix and the trace/correlation/timestamp
    /// tail (its first line).
    pub message: Option<String>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub timestamp: Option<String>,
}

impl StsMessage {
    /// The first code: the one that names the problem.
    pub fn code(&self) -> Option<u32> {
        self.codes.first().copied()
    }
}

/// The first `AADSTS<digits>` in `text` (case-insensitive), and the byte offset just after
/// its digits.
pub fn first_aadsts(text: &str) -> Option<(u32, usize)> {
    aadsts_matches(text).next()
}

/// Every `AADSTS<digits>` code in `text` (case-insensitive), in order, without repeats.
pub fn aadsts_codes(text: &str) -> Vec<u32> {
    let mut codes = Vec::new();
    for (code, _) in aadsts_matches(text) {
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

fn aadsts_matches(text: &str) -> impl Iterator<Item = (u32, usize)> + '_ {
    const PREFIX: &str = "AADSTS";
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let rest = text.get(from..)?;
            // ASCII-only search, so byte offsets in `rest` are valid in `text`.
            let at = rest
                .as_bytes()
                .windows(PREFIX.len())
                .position(|w| w.eq_ignore_ascii_case(PREFIX.as_bytes()))?;
            let start = from + at + PREFIX.len();
            let digits = text[start..].bytes().take_while(u8::is_ascii_digit).count();
            from = start + digits;
            // Codes have at most 9 digits; a longer number is not a code.
            if (1..=9).contains(&digits)
                && let Ok(code) = text[start..start + digits].parse::<u32>()
            {
                return Some((code, start + digits));
            }
        }
    })
}

/// Entra's message in `description` without the `AADSTSnnnn:` prefix and the `Trace ID: …`
/// tail; `None` when nothing is left. Text without a code is returned cleaned of the tail.
pub fn entra_message(description: &str) -> Option<String> {
    match first_aadsts(description) {
        Some((_, end)) => message_after(description, end),
        None => message_after(description, 0),
    }
}

/// The message from `end_of_code` on, up to where a trace tail, a line break or the end of a
/// quoted value starts.
fn message_after(text: &str, end_of_code: usize) -> Option<String> {
    let rest = text.get(end_of_code..)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let mut end = rest.len();
    // `', '` and `", '` end a value in a Python dict repr (MSAL's result printed as is).
    for marker in [
        "Trace ID:",
        "', '",
        "\", '",
        "\r\n",
        "\n",
        "\\r\\n",
        "Correlation ID:",
        "Timestamp:",
    ] {
        if let Some(i) = rest.find(marker) {
            end = end.min(i);
        }
    }
    let message = rest[..end]
        .trim()
        .trim_end_matches(['\'', '"', ')', ','])
        .trim();
    (!message.is_empty()).then(|| message.to_string())
}

/// The id after `marker` (`Trace ID:`, `Correlation ID:`), case-insensitively: the next run
/// of characters that ids are made of (GUID characters).
fn id_after(text: &str, marker: &str) -> Option<String> {
    let at = find_ignore_case(text, marker)? + marker.len();
    let value: String = text[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!value.is_empty()).then_some(value)
}

/// The timestamp after `Timestamp:`: digits and the separators of `2025-10-13 14:54:34Z`.
fn timestamp_after(text: &str) -> Option<String> {
    let marker = "Timestamp:";
    let at = find_ignore_case(text, marker)? + marker.len();
    let value: String = text[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | ' ' | '.' | 'T' | 'Z' | '+'))
        .collect();
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn find_ignore_case(text: &str, marker: &str) -> Option<usize> {
    text.as_bytes()
        .windows(marker.len())
        .position(|w| w.eq_ignore_ascii_case(marker.as_bytes()))
}

/// The trace id Entra appended to a message (`Trace ID: …`).
pub fn trace_id_in(text: &str) -> Option<String> {
    id_after(text, "Trace ID:")
}

/// The correlation id Entra appended to a message (`Correlation ID: …`).
pub fn correlation_id_in(text: &str) -> Option<String> {
    id_after(text, "Correlation ID:")
}

/// The text inside the quotes (or `<...>`) following `marker`, case-insensitively.
pub(crate) fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let at = find_ignore_case(message, marker)? + marker.len();
    let rest = message.get(at..)?.trim_start();
    let (open, close) = match rest.chars().next()? {
        '\'' => ('\'', '\''),
        '<' => ('<', '>'),
        '"' => ('"', '"'),
        _ => return None,
    };
    let inner = &rest[open.len_utf8()..];
    let end = inner.find(close)?;
    Some(inner[..end].to_string())
}

fn is_error_value(e: &str) -> bool {
    !e.is_empty() && e.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// Reads an Entra error from whatever was pasted or received: a JSON error body (possibly
/// inside other text) or free text. Missing parts are `None` / empty.
pub fn parse_sts_message(input: &str) -> StsMessage {
    let text = input.trim();
    let mut out = StsMessage::default();
    let mut description = None;
    if let (Some(open), Some(close)) = (text.find('{'), text.rfind('}'))
        && open < close
        && let Ok(serde_json::Value::Object(body)) =
            serde_json::from_str::<serde_json::Value>(&text[open..=close])
    {
        let field = |name: &str| {
            body.get(name)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        out.codes = body
            .get("error_codes")
            .and_then(|v| v.as_array())
            .map(|codes| {
                codes
                    .iter()
                    .filter_map(|c| c.as_u64().and_then(|c| u32::try_from(c).ok()))
                    .collect()
            })
            .unwrap_or_default();
        out.error = field("error");
        out.trace_id = field("trace_id");
        out.correlation_id = field("correlation_id");
        out.timestamp = field("timestamp");
        description = body
            .get("error_description")
            .and_then(|v| v.as_str())
            .map(str::to_string);
    }
    let source = description.as_deref().unwrap_or(text);
    for code in aadsts_codes(source).into_iter().chain(aadsts_codes(text)) {
        if !out.codes.contains(&code) {
            out.codes.push(code);
        }
    }
    out.message = match first_aadsts(source) {
        Some((_, end)) => message_after(source, end),
        None => description.as_deref().and_then(|d| message_after(d, 0)),
    };
    if out.error.is_none() {
        // azure-identity: "Microsoft Entra ID error '(invalid_client) AADSTS...";
        // MSAL's dict printed by Python: "{'error': 'invalid_client', ...}".
        out.error = text
            .find('(')
            .and_then(|i| text[i + 1..].find(')').map(|j| &text[i + 1..i + 1 + j]))
            .filter(|e| is_error_value(e))
            .map(str::to_string)
            .or_else(|| quoted_after(text, "'error':").filter(|e| is_error_value(e)));
    }
    out.trace_id = out
        .trace_id
        .or_else(|| trace_id_in(source).or_else(|| trace_id_in(text)));
    out.correlation_id = out
        .correlation_id
        .or_else(|| correlation_id_in(source).or_else(|| correlation_id_in(text)));
    out.timestamp = out
        .timestamp
        .or_else(|| timestamp_after(source).or_else(|| timestamp_after(text)));
    out
}
