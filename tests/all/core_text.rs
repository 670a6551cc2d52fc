//! `ficus::text`: the one sanitizer, times in words and display widths.

use ficus::text::{
    absolute_and_relative, absolute_and_relative_unix, absolute_time, char_width, display_width,
    duration_words, fit_width, is_bidi_control, is_unsafe_char, relative_time, relative_unix,
    sanitize, sanitize_in_place, sanitize_lines, truncate_chars,
};
use proptest::prelude::*;
use time::Duration;
use time::macros::datetime;

const BIDI: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

#[test]
fn bidi_controls_are_removed() {
    // Headless output kept U+202E: "evil\u{202E}gpj.exe" printed as "evilexe.jpg".
    assert_eq!(sanitize("evil\u{202E}gpj.exe"), "evilgpj.exe");
    for c in BIDI {
        assert!(is_bidi_control(c), "{c:?}");
        assert_eq!(sanitize(&format!("a{c}b")), "ab", "{c:?}");
    }
    assert_eq!(sanitize("\u{2067}admin\u{2069} app"), "admin app");
}

#[test]
fn escape_sequences_and_controls_are_removed() {
    assert_eq!(sanitize("red\u{1b}[31mtext\u{1b}[0m"), "redtext");
    // OSC 52 (clipboard write) ended by BEL, OSC 0 (title) ended by ST.
    assert_eq!(sanitize("a\u{1b}]52;c;ZXZpbA==\u{7}b"), "ab");
    assert_eq!(sanitize("a\u{1b}]0;title\u{1b}\\b"), "ab");
    // DCS, APC, and their C1 forms.
    assert_eq!(sanitize("a\u{1b}Pq#0\u{1b}\\b"), "ab");
    assert_eq!(sanitize("a\u{1b}_apc\u{7}b"), "ab");
    assert_eq!(sanitize("x\u{9b}2Jy"), "xy");
    assert_eq!(sanitize("x\u{9d}0;t\u{9c}y"), "xy");
    // Two-character and nF escapes.
    assert_eq!(sanitize("a\u{1b}cb"), "ab");
    assert_eq!(sanitize("a\u{1b}(Bb"), "ab");
    assert_eq!(sanitize("bell\u{7}\u{7f}\u{0}"), "bell");
    assert_eq!(sanitize("trailing\u{1b}"), "trailing");
    assert_eq!(sanitize("tab\there\nnew\r\nline"), "tab here new  line");
    assert_eq!(sanitize("para\u{2029}sep"), "para sep");
}

#[test]
fn ordinary_text_is_kept_as_is() {
    for text in [
        "payments-api",
        "Zahlungs-API für Ä/Ö/Ü",
        "支付服务 决済サービス 결제",
        "خدمة الدفع",
        "שירות תשלומים",
        "emoji 👩‍💻 🇫🇷 ✔️",
        "",
    ] {
        assert_eq!(sanitize(text), text);
        assert!(matches!(sanitize(text), std::borrow::Cow::Borrowed(_)));
    }
}

#[test]
fn sanitize_lines_keeps_line_breaks_only() {
    assert_eq!(
        sanitize_lines("one\r\ntwo\rthree\nfour"),
        "one\ntwo\nthree\nfour"
    );
    assert_eq!(sanitize_lines("a\u{1b}[2Jb\u{202E}c\td"), "abc d");
    assert_eq!(sanitize_lines("x\u{2028}y"), "x\ny");
}

#[test]
fn sanitize_in_place_rewrites_only_when_needed() {
    let mut value = String::from("ok");
    sanitize_in_place(&mut value);
    assert_eq!(value, "ok");
    let mut value = String::from("bad\u{1b}[1m\u{202E}");
    sanitize_in_place(&mut value);
    assert_eq!(value, "bad");
}

#[test]
fn durations_have_one_wording() {
    assert_eq!(duration_words(0), "less than a minute");
    assert_eq!(duration_words(60), "1 minute");
    assert_eq!(duration_words(59 * 60 + 59), "59 minutes");
    assert_eq!(duration_words(90 * 60), "1 hour 30 minutes");
    assert_eq!(duration_words(2 * 3_600 + 60), "2 hours 1 minute");
    assert_eq!(duration_words(3 * 3_600 + 59 * 60), "3 hours");
    assert_eq!(duration_words(86_400), "1 day");
    assert_eq!(duration_words(86_400 * 59), "59 days");
    assert_eq!(duration_words(86_400 * 400), "13 months");
    assert_eq!(duration_words(86_400 * 1_000), "2 years");
    assert_eq!(duration_words(-3_600), "1 hour");
    // No overflow at the extremes.
    assert!(duration_words(i64::MIN).ends_with("years"));
}

#[test]
fn relative_times_read_as_words() {
    let now = datetime!(2026-01-01 00:00 UTC);
    assert_eq!(relative_time(now + Duration::days(10), now), "in 10 days");
    assert_eq!(relative_time(now - Duration::days(1), now), "1 day ago");
    assert_eq!(relative_time(now + Duration::hours(5), now), "in 5 hours");
    assert_eq!(
        relative_time(now - Duration::minutes(59), now),
        "59 minutes ago"
    );
    assert_eq!(
        relative_time(now + Duration::days(400), now),
        "in 13 months"
    );
    assert_eq!(relative_time(now + Duration::days(1000), now), "in 2 years");
    assert_eq!(relative_time(now - Duration::seconds(5), now), "just now");
    assert_eq!(
        relative_time(now + Duration::seconds(5), now),
        "in less than a minute"
    );
    assert_eq!(
        relative_unix(0, i64::MAX),
        format!("{} ago", duration_words(i64::MAX))
    );
}

#[test]
fn absolute_times_are_utc_to_the_minute() {
    let at = datetime!(2026-11-29 14:05:59 UTC);
    assert_eq!(absolute_time(at), "2026-11-29 14:05 UTC");
    // Another offset is shown in UTC.
    assert_eq!(
        absolute_time(datetime!(2026-11-29 16:05 +02:00)),
        "2026-11-29 14:05 UTC"
    );
    assert_eq!(
        absolute_and_relative(at, at - Duration::days(3)),
        "2026-11-29 14:05 UTC (in 3 days)"
    );
    let unix = at.unix_timestamp();
    assert_eq!(
        absolute_and_relative_unix(unix, unix + 7_200),
        "2026-11-29 14:05 UTC (2 hours ago)"
    );
    assert_eq!(
        absolute_and_relative_unix(i64::MAX, 0),
        format!("{} (in {})", i64::MAX, duration_words(i64::MAX))
    );
}

#[test]
fn widths_count_terminal_columns() {
    assert_eq!(display_width("abc"), 3);
    assert_eq!(display_width("名前"), 4);
    assert_eq!(display_width("e\u{301}"), 1);
    assert_eq!(display_width("🚀"), 2);
    assert_eq!(char_width('\u{200D}'), 0);
    assert_eq!(fit_width("payments-api", 20), "payments-api");
    assert_eq!(fit_width("payments-api", 8), "payment…");
    // A wide character never straddles the edge.
    assert_eq!(fit_width("名前名前", 4), "名…");
    assert_eq!(display_width(&fit_width("名前名前", 4)), 3);
    assert_eq!(fit_width("abc", 0), "");
    assert_eq!(truncate_chars("short", 10), "short");
    assert_eq!(truncate_chars("a long value ", 8), "a long…");
    assert_eq!(truncate_chars("名前名前", 3), "名前…");
}

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '\u{1b}', '[', ']', '\\', 'P', '_', '^', 'X', '\u{7}', '\u{9b}', '\u{9c}', '\u{9d}',
            '\u{90}', '\u{85}', '\r', '\n', '\t', '\u{2028}', '\u{202E}', '\u{2066}', '\u{061C}',
            '\u{200E}', '\u{200D}', 'm', '0', ';', '(', 'a', '名', '👩',
        ]),
    ]
}

proptest! {
    #[test]
    fn sanitize_never_leaves_a_control_or_bidi_char(chars in prop::collection::vec(hostile_char(), 0..64)) {
        let input: String = chars.into_iter().collect();
        let once = sanitize(&input).into_owned();
        prop_assert!(!once.chars().any(is_unsafe_char), "{once:?}");
        prop_assert!(!once.chars().any(|c| c.is_control() || is_bidi_control(c)), "{once:?}");
        let lines = sanitize_lines(&input).into_owned();
        prop_assert!(!lines.chars().any(|c| c != '\n' && is_unsafe_char(c)), "{lines:?}");
    }

    #[test]
    fn sanitize_is_idempotent(chars in prop::collection::vec(hostile_char(), 0..64)) {
        let input: String = chars.into_iter().collect();
        let once = sanitize(&input).into_owned();
        prop_assert_eq!(sanitize(&once).into_owned(), once.clone());
        let lines = sanitize_lines(&input).into_owned();
        prop_assert_eq!(sanitize_lines(&lines).into_owned(), lines);
    }

    #[test]
    fn sanitize_keeps_text_without_unsafe_chars(text in "\\PC*") {
        let clean: String = text.chars().filter(|c| !is_unsafe_char(*c)).collect();
        prop_assert_eq!(sanitize(&clean).into_owned(), clean);
    }

    #[test]
    fn fit_width_never_exceeds_the_width(text in "\\PC{0,40}", width in 0usize..30) {
        prop_assert!(display_width(&fit_width(&text, width)) <= width);
    }
}

#[test]
fn relative_time_counts_the_exact_difference_not_whole_second_stamps() {
    // Half a second into a second, something due in ten days less a moment: its whole-second
    // timestamp falls in the next second, yet it is still less than ten days away.
    let now = datetime!(2026-01-01 00:00:00.5 UTC);
    let at = now + Duration::days(10) - Duration::milliseconds(300);
    assert_eq!(relative_time(at, now), "in 9 days");
}
