//! The one output convention of the headless commands, in one place:
//!
//! - **JSON** keys are camelCase like Graph's, in every command ([`emit_json`] converts any
//!   snake_case key on the way out; token claims, token headers, request bodies and export
//!   texts are passed through as they are, since their names are not ficus's to change).
//! - **Lists** are sorted: apps by display name (case-insensitive), identities by name, FICs by
//!   name ([`sort_apps`], [`sort_identities`], [`sort_fics`]).
//! - **Errors** go to stderr only: a failing command writes nothing on stdout. The one
//!   exception is a command whose *result* is a failure (an exchange Entra refused, a
//!   signature that does not verify): it prints that result, then fails.
//! - **Dates** are absolute beside relative in text (`2026-12-09 14:00 UTC (in 10 days)`), and
//!   ISO 8601 with nothing relative in JSON ([`when`], [`iso`]).
//! - **Text** is sanitized: every tenant-controlled string goes through [`clean`] before it
//!   reaches the terminal; tables are laid out by [`Table`].

use std::io::Write;

use ficus_core::fic::{Fic, Identity};
use ficus_entra::AppSummary;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Tenant-controlled text made safe for the terminal: core's one sanitizer (escape
/// sequences, controls and the invisible bidirectional controls removed, so U+202E between
/// `evil` and `txt.exe` cannot make it read as `evilexe.txt`).
pub fn clean(text: &str) -> String {
    ficus_core::text::sanitize(text).into_owned()
}

// ---------------------------------------------------------------------------------------------
// JSON

/// Keys whose values are not ficus's to rename: token claims and headers, a Graph request
/// body (already Graph's spelling), export texts keyed by tool name.
const OPAQUE: [&str; 4] = ["claims", "header", "body", "exports"];

/// `snake_case` → `camelCase`; anything else unchanged.
pub fn camel(key: &str) -> String {
    if !key.contains('_') || key.starts_with('@') {
        return key.to_string();
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every object key of `value` in camelCase, except inside the [`OPAQUE`] keys.
pub fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if OPAQUE.contains(&k.as_str()) {
                        v
                    } else {
                        camel_keys(v)
                    };
                    (camel(&k), v)
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// Writes `value` as pretty JSON (keys camelCased) and a newline.
pub fn emit_json(out: &mut dyn Write, value: &Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &camel_keys(value.clone()))
        .map_err(std::io::Error::from)?;
    writeln!(out)
}

/// Any serializable value as JSON (`null` if it cannot be: none of ficus's types fail).
pub fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// sorting

/// Case-insensitive, then exact (so the order is total and stable across runs).
fn by_name(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

/// Apps by display name (case-insensitive), then object id.
pub fn sort_apps(apps: &mut [AppSummary]) {
    apps.sort_by(|a, b| by_name(&a.display_name, &b.display_name).then_with(|| a.id.cmp(&b.id)));
}

/// Identities by name, then principal id.
pub fn sort_identities(identities: &mut [Identity]) {
    identities.sort_by(|a, b| {
        by_name(&a.name, &b.name).then_with(|| a.principal_id.cmp(&b.principal_id))
    });
}

/// FICs by name.
pub fn sort_fics(fics: &mut [Fic]) {
    fics.sort_by(|a, b| by_name(&a.name, &b.name).then_with(|| a.id.cmp(&b.id)));
}

// ---------------------------------------------------------------------------------------------
// dates

/// `2025-11-30T00:00:00Z`: the JSON form of a date.
pub fn iso(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Unix seconds as a date, `None` when out of range.
pub fn from_unix(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

/// An ISO 8601 / RFC 3339 date as Graph sends it (`2026-12-09T14:00:00Z`, with or without
/// fractional seconds).
pub fn parse_iso(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()
}

/// The text form of a date, core's one wording: `2025-11-30 00:00 UTC (in 59 minutes)`.
pub fn when(at: OffsetDateTime, now: OffsetDateTime) -> String {
    ficus_core::text::absolute_and_relative(at, now)
}

// ---------------------------------------------------------------------------------------------
// tables

/// A text table: a header row and rows of cells, columns padded to their widest cell in
/// terminal columns (CJK and emoji take two), two spaces apart, the last column unpadded.
/// Cells are [`clean`]ed.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| clean(c)).collect());
    }

    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let columns = self.header.len();
        let width = ficus_core::text::display_width;
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate().take(columns) {
                text.push_str(cell);
                if i + 1 < columns {
                    let pad = widths[i].saturating_sub(width(cell)) + 2;
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", text.trim_end())
        };
        line(out, &self.header)?;
        for row in &self.rows {
            line(out, row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_removes_control_and_bidi_characters() {
        assert_eq!(clean("app\u{1b}[31mred\u{7}"), "appred");
        assert_eq!(clean("plain-name ü"), "plain-name ü");
        assert_eq!(
            clean("evil\u{202E}txt.exe"),
            "eviltxt.exe",
            "RIGHT-TO-LEFT OVERRIDE"
        );
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            assert_eq!(clean(&format!("a{c}b")), "ab", "U+{:04X}", c as u32);
        }
        // Right-to-left text itself is not a control: Hebrew and Arabic names stay.
        assert_eq!(clean("שלום مرحبا"), "שלום مرحبا");
    }

    #[test]
    fn keys_become_camel_case_except_in_opaque_values() {
        let v = camel_keys(json!({
            "signed_in_via": "sandbox",
            "fic_name": "x",
            "error": { "trace_id": "t", "correlation_id": "c" },
            "matches": [{ "display_name": "n" }],
            "claims": { "preferred_username": "u", "xms_mirid": "m" },
            "header": { "x5t#S256": "h" },
            "@odata.context": "c",
        }));
        assert_eq!(v["signedInVia"], "sandbox");
        assert_eq!(v["ficName"], "x");
        assert_eq!(v["error"]["traceId"], "t");
        assert_eq!(v["error"]["correlationId"], "c");
        assert_eq!(v["matches"][0]["displayName"], "n");
        assert_eq!(v["claims"]["preferred_username"], "u");
        assert_eq!(v["claims"]["xms_mirid"], "m");
        assert_eq!(v["header"]["x5t#S256"], "h");
        assert_eq!(v["@odata.context"], "c");
        assert!(v.get("signed_in_via").is_none());
    }

    #[test]
    fn dates_are_absolute_beside_relative() {
        let now = from_unix(1_764_457_260).expect("date"); // 2025-11-29 23:01 UTC
        let exp = from_unix(1_764_460_800).expect("date"); // 2025-11-30 00:00 UTC
        assert_eq!(when(exp, now), "2025-11-30 00:00 UTC (in 59 minutes)");
        assert_eq!(iso(exp), "2025-11-30T00:00:00Z");
        let expiry = parse_iso("2026-12-09T14:00:00Z").expect("iso");
        let ten_days_before = expiry - time::Duration::days(10);
        assert_eq!(
            when(expiry, ten_days_before),
            "2026-12-09 14:00 UTC (in 10 days)"
        );
        assert_eq!(
            when(now, exp),
            "2025-11-29 23:01 UTC (59 minutes ago)",
            "core's one wording"
        );
        assert!(parse_iso("2026-12-09T14:00:00.1234567Z").is_some());
    }

    #[test]
    fn tables_pad_columns_and_clean_cells() {
        let mut t = Table::new(&["NAME", "ID"]);
        t.row(vec!["a\u{202E}b".into(), "1".into()]);
        t.row(vec!["longer-name".into(), "2".into()]);
        let mut out = Vec::new();
        t.write(&mut out).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(text, "NAME         ID\nab           1\nlonger-name  2\n");
    }

    #[test]
    fn tables_align_wide_characters_by_display_width() {
        let mut t = Table::new(&["NAME", "ID"]);
        t.row(vec!["支払い".into(), "1".into()]); // 3 chars, 6 columns
        t.row(vec!["app🚀".into(), "2".into()]); // 4 chars, 5 columns
        t.row(vec!["plain".into(), "3".into()]);
        let mut out = Vec::new();
        t.write(&mut out).expect("write");
        let text = String::from_utf8(out).expect("utf8");
        let id_columns: Vec<usize> = text
            .lines()
            .map(|l| {
                let (before_last, _) = l.rsplit_once(' ').expect("two columns");
                ficus_core::text::display_width(before_last)
            })
            .collect();
        assert!(
            id_columns.windows(2).all(|w| w[0] == w[1]),
            "the ID column starts at one terminal column on every row: {id_columns:?}\n{text}"
        );
    }
}
