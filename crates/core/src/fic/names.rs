//! Graph's limits on a FIC's name and values, and the helpers that make any text fit them.
//! The lowest layer of `fic/`: `rules` and `autofill` both use it, it uses neither.

use crate::fic::model::Fic;

/// Graph's limit on name length.
pub const NAME_MIN: usize = 3;
pub const NAME_MAX: usize = 120;
/// Graph's limit on description, issuer, subject and audience (UTF-16 code units, as Graph
/// counts).
pub const VALUE_MAX: usize = 600;
/// Graph's limit on FICs per application.
pub const MAX_FICS_PER_APP: usize = 20;

/// Graph's length unit: .NET strings count UTF-16 code units.
pub fn graph_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The longest prefix of `text` that fits `max` UTF-16 units, cut at a character boundary.
pub fn truncate_graph(text: &str, max: usize) -> String {
    let mut units = 0;
    let mut out = String::new();
    for c in text.chars() {
        units += c.len_utf16();
        if units > max {
            break;
        }
        out.push(c);
    }
    out
}

pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Turns any text into a name Graph accepts: `[A-Za-z0-9_-]`, first character alphanumeric,
/// 3 to 120 characters. Runs of other characters become one `-`.
pub fn sanitize_name(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if is_name_char(c) {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_start_matches(['-', '_']).trim_end_matches('-');
    let mut name: String = trimmed.chars().take(NAME_MAX).collect();
    while name.ends_with('-') {
        name.pop();
    }
    if name.is_empty() {
        name = "fic".to_string();
    }
    while name.len() < NAME_MIN {
        name.push_str("-fic");
    }
    name
}

/// `base` made unique against the names of `existing` (compared without case, as Graph's
/// alternate keys are) by a `-2`, `-3`, ... suffix, staying within 120 characters.
pub fn unique_name(base: &str, existing: &[Fic]) -> String {
    let taken = |candidate: &str| {
        existing
            .iter()
            .any(|f| f.name.trim().eq_ignore_ascii_case(candidate))
    };
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| {
            let suffix = format!("-{n}");
            let stem: String = base.chars().take(NAME_MAX - suffix.len()).collect();
            format!("{stem}{suffix}")
        })
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| base.to_string())
}
