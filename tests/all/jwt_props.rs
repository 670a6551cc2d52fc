//! `decode` never panics, whatever it is given: arbitrary strings and bytes, huge input,
//! control characters, almost-tokens with mangled parts. And what it accepts it reads back.

use ficus::jwt::{JwtError, MAX_TOKEN_LEN, b64url, classify, decode};
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        ".{0,40}",
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| b64url(&b)),
        "\\PC{0,20}".prop_map(|s| b64url(s.as_bytes())),
        Just(b64url(b"{}")),
        Just(b64url(
            br#"{"iss":"x","aud":[1,"a"],"exp":"soon","xms_mirid":5}"#
        )),
        Just(b64url(b"[]")),
        Just(b64url(b"null")),
        Just(b64url(b"{\"a\":")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_strings(input in ".*") {
        let _ = decode(&input);
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn almost_tokens(parts in proptest::collection::vec(segment(), 0..7), sep in prop_oneof![Just("."), Just(".."), Just(". ")]) {
        let input = parts.join(sep);
        if let Ok(jwt) = decode(&input) {
            // Whatever decodes can be classified and queried without panicking.
            let _ = classify(&jwt);
            let _ = jwt.audiences();
            let _ = jwt.time_claim("exp");
            let _ = jwt.describe_time("exp", 0);
            let _ = format!("{jwt:?}");
        }
    }

    #[test]
    fn control_characters_anywhere(prefix in "[A-Za-z0-9.]{0,30}", control in proptest::char::range('\u{0}', '\u{1f}'), suffix in "[A-Za-z0-9.]{1,30}") {
        let input = format!("{prefix}{control}{suffix}");
        let result = decode(&input);
        // Leading/trailing whitespace is trimmed; any other control character is refused.
        if !control.is_whitespace() {
            let refused = matches!(result, Err(JwtError::ControlCharacter { .. }));
            prop_assert!(refused, "{:?}", result);
        }
    }

    #[test]
    fn valid_tokens_round_trip(sub in "\\PC{0,50}", exp in any::<i64>()) {
        let claims = serde_json::json!({"sub": sub, "exp": exp});
        let token = format!("{}.{}.{}", b64url(br#"{"alg":"RS256"}"#), b64url(claims.to_string().as_bytes()), b64url(b"s"));
        let jwt = decode(&format!("  Bearer {token}\n")).expect("decodes");
        prop_assert_eq!(jwt.str_claim("sub"), Some(sub.as_str()));
        prop_assert_eq!(jwt.time_claim("exp"), Some(exp));
    }
}

#[test]
fn huge_inputs_are_refused_quickly() {
    for len in [MAX_TOKEN_LEN + 1, 10 * 1024 * 1024] {
        let huge = "e".repeat(len);
        assert_eq!(
            decode(&huge),
            Err(JwtError::TooLarge {
                len,
                max: MAX_TOKEN_LEN
            })
        );
    }
    // Just under the limit but a single part.
    let big = "e".repeat(MAX_TOKEN_LEN - 1);
    assert_eq!(decode(&big), Err(JwtError::SegmentCount { found: 1 }));
    // Deeply nested JSON inside a valid-looking token: serde_json's recursion limit refuses it.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let claims = format!("{{\"a\":{nested}}}");
    let token = format!(
        "{}.{}.{}",
        b64url(b"{}"),
        b64url(claims.as_bytes()),
        b64url(b"s")
    );
    assert!(token.len() < MAX_TOKEN_LEN);
    assert!(matches!(decode(&token), Err(JwtError::NotJson { .. })));
}
