//! Partitions of an app listing by `displayName`, so independent `@odata.nextLink` chains can
//! page in parallel (Graph serves one chain strictly in sequence). Pure: no I/O.
//!
//! Graph documents `displayName` on applications with `$filter (eq, ne, not, ge, le, in,
//! startsWith)`; `ge` and `le` are default queries (`appId` takes `eq` only, so ids cannot
//! partition). The ranges are closed and share their bounds:
//! `le b1`, `ge b1 and le b2`, …, `ge bn`. Whatever order the directory compares names in, as
//! long as it is a total order every name is `le` or `ge` each bound, so every object with a
//! name falls in at least one range; an object whose name equals a bound falls in two, and the
//! listing de-duplicates by id. Objects without a name match no comparison: the listing checks
//! its total against `$count` and pages the rest without a filter.

/// One range of names: `None` bounds are open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRange {
    pub low: Option<String>,
    pub high: Option<String>,
}

impl NameRange {
    /// Everything: no filter at all.
    pub fn all() -> NameRange {
        NameRange {
            low: None,
            high: None,
        }
    }

    /// The `$filter` expression of this range (`None`: the whole collection).
    pub fn filter(&self) -> Option<String> {
        let ge = self
            .low
            .as_ref()
            .map(|b| format!("displayName ge '{}'", quote(b)));
        let le = self
            .high
            .as_ref()
            .map(|b| format!("displayName le '{}'", quote(b)));
        match (ge, le) {
            (Some(ge), Some(le)) => Some(format!("{ge} and {le}")),
            (one, other) => one.or(other),
        }
    }

    /// Whether `name` is in the range when names compare as `cmp` orders them (what the
    /// directory does with `ge` / `le`).
    pub fn contains_by(&self, name: &str, cmp: impl Fn(&str, &str) -> std::cmp::Ordering) -> bool {
        self.low
            .as_deref()
            .is_none_or(|b| cmp(name, b) != std::cmp::Ordering::Less)
            && self
                .high
                .as_deref()
                .is_none_or(|b| cmp(name, b) != std::cmp::Ordering::Greater)
    }
}

/// An OData string literal's content: a quote is written twice.
fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// Names compared as the sandbox (and, as far as documented, the directory) does: ignoring
/// case, code point by code point.
pub fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// At most `partitions` ranges whose bounds are quantiles of `sample` (names seen on a first
/// page), so each range holds about as many objects. Fewer when the sample has fewer distinct
/// names; one range (no filter) for `partitions <= 1` or an empty sample.
pub fn plan(sample: &[String], partitions: usize) -> Vec<NameRange> {
    let mut names: Vec<String> = sample.iter().map(|n| n.to_lowercase()).collect();
    names.sort_unstable_by(|a, b| cmp_ignore_case(a, b));
    names.dedup();
    if partitions <= 1 || names.is_empty() {
        return vec![NameRange::all()];
    }
    let mut bounds: Vec<String> = (1..partitions)
        .map(|i| names[(i * names.len() / partitions).min(names.len() - 1)].clone())
        .collect();
    bounds.dedup();
    let mut ranges = Vec::with_capacity(bounds.len() + 1);
    let mut low = None;
    for bound in bounds {
        ranges.push(NameRange {
            low: low.take(),
            high: Some(bound.clone()),
        });
        low = Some(bound);
    }
    ranges.push(NameRange { low, high: None });
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn covered(ranges: &[NameRange], name: &str) -> usize {
        ranges
            .iter()
            .filter(|r| r.contains_by(name, cmp_ignore_case))
            .count()
    }

    #[test]
    fn filters_quote_and_combine() {
        let r = NameRange {
            low: Some("o'neil".into()),
            high: Some("zeta".into()),
        };
        assert_eq!(
            r.filter().as_deref(),
            Some("displayName ge 'o''neil' and displayName le 'zeta'")
        );
        assert_eq!(NameRange::all().filter(), None);
        let first = NameRange {
            low: None,
            high: Some("m".into()),
        };
        assert_eq!(first.filter().as_deref(), Some("displayName le 'm'"));
    }

    #[test]
    fn a_plan_has_open_ends_and_shared_bounds() {
        let sample: Vec<String> = (0..100).map(|i| format!("app-{i:03}")).collect();
        let ranges = plan(&sample, 4);
        assert_eq!(ranges.len(), 4);
        assert_eq!(ranges[0].low, None);
        assert_eq!(ranges[3].high, None);
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].high, pair[1].low);
        }
        assert_eq!(plan(&sample, 1), vec![NameRange::all()]);
        assert_eq!(plan(&[], 8), vec![NameRange::all()]);
        // Duplicates collapse: one distinct name cannot make two bounds.
        let same = vec!["dup".to_string(); 50];
        assert_eq!(plan(&same, 8).len(), 2);
    }

    /// Names from a small alphabet, so duplicates, prefixes and bound-equal names are common;
    /// with letters outside ASCII and case variants.
    fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('B'),
                Just('b'),
                Just('é'),
                Just('É'),
                Just('ß'),
                Just('Ω'),
                Just('中'),
                Just('-'),
                Just(' '),
                Just('0'),
                Just('\''),
                Just('😀'),
            ],
            0..6,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        /// Every name falls in at least one range and at most two (equal to a bound), whatever
        /// the sample the bounds came from, with names outside ASCII, duplicates, the empty
        /// name and names equal to a bound.
        #[test]
        fn partitions_cover_every_name(
            sample in proptest::collection::vec(name(), 0..40),
            names in proptest::collection::vec(name(), 0..80),
            partitions in 1usize..12,
        ) {
            let ranges = plan(&sample, partitions);
            prop_assert!(!ranges.is_empty() && ranges.len() <= partitions.max(1));
            let bounds: Vec<&String> = ranges.iter().filter_map(|r| r.high.as_ref()).collect();
            for name in names.iter().chain(sample.iter()).chain(bounds.iter().copied()) {
                let n = covered(&ranges, name);
                prop_assert!(n >= 1, "{name:?} is in no range of {ranges:?}");
                prop_assert!(n <= 2, "{name:?} is in {n} ranges of {ranges:?}");
            }
        }

        /// Coverage does not depend on the order the directory uses: any total order works
        /// (here: byte order, which differs from the case-insensitive one).
        #[test]
        fn partitions_cover_under_another_total_order(
            sample in proptest::collection::vec(name(), 0..40),
            names in proptest::collection::vec(name(), 0..80),
            partitions in 1usize..12,
        ) {
            let ranges = plan(&sample, partitions);
            for name in &names {
                let n = ranges.iter().filter(|r| r.contains_by(name, |a, b| a.cmp(b))).count();
                // A foreign order may put a name in more ranges, never in none... unless bounds
                // are not ordered under it; then the listing's $count check catches the gap.
                let ordered = ranges.windows(2).all(|w| match (&w[0].high, &w[1].high) {
                    (Some(a), Some(b)) => a.as_str() <= b.as_str(),
                    _ => true,
                });
                if ordered {
                    prop_assert!(n >= 1, "{name:?} is in no range of {ranges:?}");
                }
            }
        }
    }
}
