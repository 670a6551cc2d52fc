//! Passwords typed into URLs never reach an error message or a log.

/// Every `scheme://user:password@host` in `text` with its user info replaced by `***`, so a
/// password typed into a URL never reaches an error message or a log. Works on any text (an
/// error chain quoting a URL), not only on a lone URL.
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| {
                matches!(
                    c,
                    '/' | '?' | '#' | ')' | '(' | '"' | '\'' | '<' | '>' | ',' | ';'
                ) || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("***");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
