//! Text shown to a person: the one sanitizer for anything that came from the tenant, times in
//! words, and display widths. Pure: no I/O, no clock (every function takes `now`).
//!
//! - [`sanitize`] / [`sanitize_in_place`]: one line, safe for a terminal or headless output.
//!   [`sanitize_lines`] keeps line breaks for multi-line text (descriptions, messages).
//! - [`duration_words`], [`relative_time`], [`relative_unix`], [`absolute_time`],
//!   [`absolute_and_relative`]: the one wording of times (`59 minutes`, `in 3 days`,
//!   `2026-11-29 14:05 UTC (in 3 days)`).
//! - [`char_width`], [`display_width`], [`fit_width`], [`truncate_chars`]: terminal columns
//!   and cutting text with an ellipsis.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::Chars;

use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------------
// Sanitizing

/// Bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates
/// (U+2066–U+2069), the LRM/RLM marks (U+200E/U+200F) and the Arabic letter mark (U+061C).
/// They make text display in another order than it is stored ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// What [`sanitize`] never lets through: C0 and C1 controls, DEL, bidi controls, the line and
/// paragraph separators (a terminal may break the row on them), the deprecated format
/// characters U+206A–U+206F and the interlinear annotation characters U+FFF9–U+FFFB (both can
/// hide text). Zero-width joiners and variation selectors stay: emoji need them.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || is_bidi_control(c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{206A}'..='\u{206F}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Removes what could drive the terminal or mislead the reader instead of being shown: escape
/// sequences (CSI, OSC, DCS, SOS, PM, APC, and two-character escapes), their C1 forms, every
/// other control character, and bidi controls. Tabs, newlines and the Unicode line separators
/// become spaces, so the result is one line. Everything else (any script, emoji) is kept.
/// Borrows when nothing had to go. Idempotent: `sanitize(sanitize(x)) == sanitize(x)`.
pub fn sanitize(input: &str) -> Cow<'_, str> {
    clean(input, false)
}

/// [`sanitize`] that keeps line breaks: `\n` stays, `\r\n` and a lone `\r` become `\n`, and
/// U+2028/U+2029 become `\n`. For multi-line text printed as such.
pub fn sanitize_lines(input: &str) -> Cow<'_, str> {
    clean(input, true)
}

/// [`sanitize`] in place, allocating only when something had to go.
pub fn sanitize_in_place(value: &mut String) {
    if let Cow::Owned(clean) = sanitize(value) {
        *value = clean;
    }
}

fn clean(input: &str, keep_lines: bool) -> Cow<'_, str> {
    if !input.chars().any(is_unsafe_char) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 introducers start sequences of their own: CSI, then OSC, DCS, SOS, PM, APC.
            '\u{9b}' => skip_control_sequence(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_control_string(&mut chars),
            '\r' if keep_lines => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' | '\u{2028}' | '\u{2029}' if keep_lines => out.push('\n'),
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{0B}' | '\u{0C}' | '\u{85}' => {
                out.push(' ')
            }
            c if is_unsafe_char(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// After ESC: a CSI (`[`), a control string (`]`, `P`, `X`, `^`, `_`), or an nF/Fp/Fe/Fs
/// escape (intermediates 0x20–0x2F, then one final 0x30–0x7E, as in `ESC ( B`, `ESC 7`).
/// Only bytes that belong to the sequence are eaten: a malformed one ends where it stops
/// being a sequence, and the text after it is kept.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_control_sequence(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_control_string(chars);
        }
        _ => {
            while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
            chars.next_if(|c| ('0'..='~').contains(c));
        }
    }
}

/// CSI: parameter and intermediate bytes (0x20–0x3F), then one final byte (0x40–0x7E).
fn skip_control_sequence(chars: &mut Peekable<Chars<'_>>) {
    while chars.next_if(|c| (' '..='?').contains(c)).is_some() {}
    chars.next_if(|c| ('@'..='~').contains(c));
}

/// OSC/DCS/SOS/PM/APC: everything up to BEL, ST (`ESC \`) or the C1 ST. An unterminated
/// string eats the rest: the terminal would have too.
fn skip_control_string(chars: &mut Peekable<Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Times in words

const MINUTE: u64 = 60;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

fn unit(n: u64, singular: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {singular}s")
    }
}

/// A span of time in words, rounded down as a countdown is: `less than a minute`,
/// `1 minute`, `59 minutes`, `1 hour 30 minutes` (minutes are kept below 3 hours, where they
/// still matter), `5 hours`, `10 days`, `13 months` (from 60 days), `2 years` (from 730 days).
/// The sign is ignored.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    match s {
        0..MINUTE => "less than a minute".to_string(),
        MINUTE..HOUR => unit(s / MINUTE, "minute"),
        HOUR..DAY => {
            let hours = s / HOUR;
            let minutes = (s % HOUR) / MINUTE;
            if hours < 3 && minutes > 0 {
                format!("{} {}", unit(hours, "hour"), unit(minutes, "minute"))
            } else {
                unit(hours, "hour")
            }
        }
        _ if s < 60 * DAY => unit(s / DAY, "day"),
        _ if s < 730 * DAY => unit(s / (30 * DAY), "month"),
        _ => unit(s / (365 * DAY), "year"),
    }
}

/// `at` relative to `now`, both unix seconds: `in 3 days`, `2 hours ago`, `just now` (less
/// than a minute ago), `in less than a minute`.
pub fn relative_unix(at: i64, now: i64) -> String {
    relative_seconds(at.saturating_sub(now))
}

/// `delta` seconds from now in words (negative: in the past).
fn relative_seconds(delta: i64) -> String {
    if delta < 0 {
        if delta > -(MINUTE as i64) {
            "just now".to_string()
        } else {
            format!("{} ago", duration_words(delta))
        }
    } else {
        format!("in {}", duration_words(delta))
    }
}

/// [`relative_unix`] for `OffsetDateTime`s.
/// The exact difference counts, not the two whole-second timestamps: something due in ten
/// days less a moment is `in 9 days` whichever second the clock is in.
pub fn relative_time(at: OffsetDateTime, now: OffsetDateTime) -> String {
    relative_seconds((at - now).whole_seconds())
}

/// `2026-11-29 14:05 UTC`: the moment in UTC to the minute, whatever offset `at` carries.
pub fn absolute_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute()
    )
}

/// `2026-11-29 14:05 UTC (in 3 days)`: the date to act on and how far it is.
pub fn absolute_and_relative(at: OffsetDateTime, now: OffsetDateTime) -> String {
    format!("{} ({})", absolute_time(at), relative_time(at, now))
}

/// [`absolute_and_relative`] for unix seconds (token claims). A time outside what a calendar
/// can show is written as its number of seconds.
pub fn absolute_and_relative_unix(at: i64, now: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(at) {
        Ok(moment) => format!("{} ({})", absolute_time(moment), relative_unix(at, now)),
        Err(_) => format!("{at} ({})", relative_unix(at, now)),
    }
}

// ---------------------------------------------------------------------------------------------
// Display width

/// Columns `c` takes in a terminal: 0 for combining marks, zero-width characters, variation
/// selectors and controls; 2 for East Asian wide and fullwidth characters and emoji; 1 else.
/// Follows Unicode's East Asian Width for the blocks admins meet (CJK, Hangul, kana,
/// fullwidth forms, emoji); rare scripts count as 1.
pub fn char_width(c: char) -> usize {
    let u = u32::from(c);
    if c.is_control() || is_zero_width(u) {
        return 0;
    }
    if is_wide(u) { 2 } else { 1 }
}

fn is_zero_width(u: u32) -> bool {
    matches!(u,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x2064 | 0x2066..=0x206F | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F
        | 0xFEFF | 0xE0100..=0xE01EF)
}

fn is_wide(u: u32) -> bool {
    matches!(u,
        0x1100..=0x115F | 0x231A..=0x231B | 0x2329..=0x232A | 0x23E9..=0x23EC | 0x23F0 | 0x23F3
        | 0x25FD..=0x25FE | 0x2614..=0x2615 | 0x2648..=0x2653 | 0x267F | 0x2693 | 0x26A1
        | 0x26AA..=0x26AB | 0x26BD..=0x26BE | 0x26C4..=0x26C5 | 0x26CE | 0x26D4 | 0x26EA
        | 0x26F2..=0x26F3 | 0x26F5 | 0x26FA | 0x26FD | 0x2705 | 0x270A..=0x270B | 0x2728 | 0x274C
        | 0x274E | 0x2753..=0x2755 | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF | 0x2B1B..=0x2B1C
        | 0x2B50 | 0x2B55
        | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA000..=0xA4CF
        | 0xA960..=0xA97F | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE10..=0xFE19 | 0xFE30..=0xFE6F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6
        | 0x1F004 | 0x1F0CF | 0x1F18E | 0x1F191..=0x1F19A | 0x1F200..=0x1F251
        | 0x1F300..=0x1F320 | 0x1F32D..=0x1F335 | 0x1F337..=0x1F37C | 0x1F37E..=0x1F393
        | 0x1F3A0..=0x1F3CA | 0x1F3CF..=0x1F3D3 | 0x1F3E0..=0x1F3F0 | 0x1F3F4 | 0x1F3F8..=0x1F43E
        | 0x1F440 | 0x1F442..=0x1F4FC | 0x1F4FF..=0x1F53D | 0x1F54B..=0x1F54E | 0x1F550..=0x1F567
        | 0x1F57A | 0x1F595..=0x1F596 | 0x1F5A4 | 0x1F5FB..=0x1F64F | 0x1F680..=0x1F6C5
        | 0x1F6CC | 0x1F6D0..=0x1F6D2 | 0x1F6D5..=0x1F6D7 | 0x1F6EB..=0x1F6EC | 0x1F6F4..=0x1F6FC
        | 0x1F7E0..=0x1F7EB | 0x1F90C..=0x1F93A | 0x1F93C..=0x1F945 | 0x1F947..=0x1F9FF
        | 0x1FA70..=0x1FAFF | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD)
}

/// The columns `text` takes: the sum of [`char_width`].
pub fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` cut to at most `width` columns, ending with `…` when something was left out (a wide
/// character that would straddle the edge goes too). Borrows when it already fits.
pub fn fit_width(text: &str, width: usize) -> Cow<'_, str> {
    if display_width(text) <= width {
        return Cow::Borrowed(text);
    }
    let mut left = width.saturating_sub(1);
    let mut out = String::new();
    for c in text.chars() {
        let w = char_width(c);
        if w > left {
            break;
        }
        left -= w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    Cow::Owned(out)
}

/// `text` cut to at most `max_chars` characters (the `…` included), trailing whitespace
/// before the `…` dropped. For messages that quote a value: a count of characters, not
/// columns, so the result does not depend on the terminal.
pub fn truncate_chars(text: &str, max_chars: usize) -> Cow<'_, str> {
    if text.chars().count() <= max_chars {
        return Cow::Borrowed(text);
    }
    if max_chars == 0 {
        return Cow::Owned(String::new());
    }
    let head: String = text.chars().take(max_chars - 1).collect();
    Cow::Owned(format!("{}…", head.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_plain_text_borrowed() {
        assert!(matches!(sanitize("plain-name"), Cow::Borrowed(_)));
        assert_eq!(
            sanitize("ünïcødé ✓ 名前 مرحبا 👩‍💻"),
            "ünïcødé ✓ 名前 مرحبا 👩‍💻"
        );
    }

    #[test]
    fn a_malformed_escape_keeps_the_text_after_it() {
        // The old console sanitizer ate `é` here along with the broken CSI.
        assert_eq!(sanitize("a\u{1b}[é"), "aé");
        assert_eq!(sanitize("a\u{1b}é"), "aé");
        assert_eq!(sanitize("a\u{1b}(Bb"), "ab");
    }
}
