//! Character runs that differ between a FIC's value and the token's (the comparison's
//! highlighting).

/// Runs of text, each marked whether it differs from the other side.
pub type DiffRuns = Vec<(String, bool)>;

/// A character-level diff of two values: each side as runs of (text, differs).
pub fn char_diff(left: &str, right: &str) -> (DiffRuns, DiffRuns) {
    let a: Vec<char> = left.chars().collect();
    let b: Vec<char> = right.chars().collect();
    // Values compared here are short (issuers, GUIDs, URIs); past this, mark everything.
    if a.len() * b.len() > 250_000 {
        return (
            vec![(left.to_string(), true)],
            vec![(right.to_string(), true)],
        );
    }
    let mut lcs = vec![vec![0u16; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut keep_a = vec![false; a.len()];
    let mut keep_b = vec![false; b.len()];
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            keep_a[i] = true;
            keep_b[j] = true;
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (runs(&a, &keep_a), runs(&b, &keep_b))
}

fn runs(chars: &[char], keep: &[bool]) -> DiffRuns {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (c, kept) in chars.iter().zip(keep) {
        let differs = !kept;
        match out.last_mut() {
            Some((text, d)) if *d == differs => text.push(*c),
            _ => out.push((c.to_string(), differs)),
        }
    }
    out
}
