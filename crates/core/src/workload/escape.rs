//! Values as string literals of the target language. Printable ASCII stays as it is; quotes,
//! backslashes and line breaks get the usual escapes; every other character (control,
//! non-ASCII, bidirectional overrides) becomes a numeric escape, so a pasted value can neither
//! end the literal nor hide text in the source (Trojan Source).

use std::fmt::Write as _;

/// The string-literal rules of a target language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    CSharp,
    Java,
    JavaScript,
    Json,
    Python,
    Go,
    Rust,
}

/// `value` as a double-quoted string literal of `syntax`.
pub fn literal(value: &str, syntax: Syntax) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `$`, `{` and `}` are plain in double-quoted literals of all these languages (no
            // interpolation), and `@` only matters before a quote in C#, which is escaped.
            ' '..='~' => out.push(c),
            other => numeric_escape(&mut out, other, syntax),
        }
    }
    out.push('"');
    out
}

fn numeric_escape(out: &mut String, c: char, syntax: Syntax) {
    let code = u32::from(c);
    match syntax {
        Syntax::Rust => {
            let _ = write!(out, "\\u{{{code:x}}}");
        }
        Syntax::Python | Syntax::Go if code > 0xFFFF => {
            let _ = write!(out, "\\U{code:08x}");
        }
        Syntax::Python | Syntax::Go => {
            let _ = write!(out, "\\u{code:04x}");
        }
        // UTF-16 languages (and JSON) spell an astral character as its surrogate pair. In Java
        // a `\u` escape is read before the lexer runs, which is safe here: quotes, backslashes
        // and line breaks never take this path.
        Syntax::CSharp | Syntax::Java | Syntax::JavaScript | Syntax::Json => {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_left_alone() {
        let guid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        for syntax in [Syntax::CSharp, Syntax::Go, Syntax::Rust, Syntax::Python] {
            assert_eq!(literal(guid, syntax), format!("\"{guid}\""));
        }
    }

    #[test]
    fn quotes_breaks_and_hidden_characters_are_escaped() {
        let nasty = "a\"b\\c\nd\u{202e}e😀";
        assert_eq!(
            literal(nasty, Syntax::Rust),
            r#""a\"b\\c\nd\u{202e}e\u{1f600}""#
        );
        assert_eq!(
            literal(nasty, Syntax::Python),
            r#""a\"b\\c\nd\u202ee\U0001f600""#
        );
        assert_eq!(
            literal(nasty, Syntax::JavaScript),
            r#""a\"b\\c\nd\u202ee\ud83d\ude00""#
        );
    }

    proptest::proptest! {
        /// Any text: a JSON (so C#/Java/JavaScript-shaped) literal reads back as the text, and
        /// no literal of any language holds a raw quote, backslash or non-printable character
        /// outside an escape.
        #[test]
        fn every_value_round_trips_and_stays_one_printable_literal(value in ".*") {
            let json = literal(&value, Syntax::Json);
            let parsed: String = serde_json::from_str(&json).expect("valid JSON");
            proptest::prop_assert_eq!(&parsed, &value);
            for syntax in [Syntax::CSharp, Syntax::Java, Syntax::JavaScript, Syntax::Python, Syntax::Go, Syntax::Rust] {
                let text = literal(&value, syntax);
                proptest::prop_assert!(text.chars().all(|c| (' '..='~').contains(&c)), "{}", text);
                let inner = &text[1..text.len() - 1];
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    proptest::prop_assert!(c != '"', "unescaped quote in {}", text);
                    if c == '\\' {
                        proptest::prop_assert!(chars.next().is_some(), "dangling backslash in {}", text);
                    }
                }
            }
        }
    }

    #[test]
    fn json_literals_parse_back_to_the_value() {
        let nasty = "x\"y\\z\u{1}\u{7f}é😀\u{2028}";
        let parsed: String =
            serde_json::from_str(&literal(nasty, Syntax::Json)).expect("valid JSON");
        assert_eq!(parsed, nasty);
    }
}
