//! How Graph serves large listings, beyond plain OData: the page caps of `$expand` on
//! directory objects (at most [`EXPAND_PAGE_CAP`] objects a page whatever `$top` asks, and at
//! most [`EXPANDED_ITEMS_CAP`] items of the expanded relationship, with no nextLink inside it),
//! and the `ge` / `le` comparisons on `displayName` that let a client partition a listing into
//! ranges it pages in parallel.
//!
//! Graph's property tables document `displayName` on applications and service principals with
//! `$filter (eq, ne, not, ge, le, in, startsWith)`; `ne` and `not` are advanced queries, `ge`
//! and `le` are not. Comparisons are case-insensitive, as every directory string comparison.

use std::cmp::Ordering;

/// Objects per page when a request uses `$expand`, whatever `$top` says (Graph's known issues:
/// "Some limitations apply to query parameters").
pub const EXPAND_PAGE_CAP: usize = 100;
/// Items of an expanded relationship Graph returns inside each object.
pub const EXPANDED_ITEMS_CAP: usize = 20;

/// The page size Graph serves for `top` (asked or default) with or without `$expand`.
pub fn capped_page_size(top: usize, expands: bool) -> usize {
    if expands {
        top.min(EXPAND_PAGE_CAP)
    } else {
        top
    }
}

/// The items of an expanded relationship that go into a response.
pub fn expanded<T>(items: &[T]) -> &[T] {
    &items[..items.len().min(EXPANDED_ITEMS_CAP)]
}

/// Whether `property` of the entity type `type_name` (`microsoft.graph.application`) takes
/// `ge` / `le` without advanced queries.
pub fn takes_range(type_name: &str, property: &str) -> bool {
    property == "displayName"
        && matches!(
            type_name,
            "microsoft.graph.application" | "microsoft.graph.servicePrincipal"
        )
}

/// A `ge` or `le` comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    /// `property ge 'value'`
    Ge,
    /// `property le 'value'`
    Le,
}

impl RangeOp {
    pub fn parse(operator: &str) -> Option<RangeOp> {
        match operator {
            "ge" => Some(RangeOp::Ge),
            "le" => Some(RangeOp::Le),
            _ => None,
        }
    }

    /// Whether `value` stands in this relation to `bound` (already lower-cased), ignoring case.
    pub fn holds(self, value: &str, lower_bound: &str) -> bool {
        let ordering = cmp_ignore_case(value, lower_bound);
        match self {
            RangeOp::Ge => ordering != Ordering::Less,
            RangeOp::Le => ordering != Ordering::Greater,
        }
    }
}

/// Orders `a` against `lower_b` (already lower-cased) as their lower-case forms compare, code
/// point by code point, without allocating. A total order: every name is `le` or `ge` any bound.
pub fn cmp_ignore_case(a: &str, lower_b: &str) -> Ordering {
    a.chars().flat_map(char::to_lowercase).cmp(lower_b.chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_caps_the_page_at_100_and_the_relationship_at_20() {
        assert_eq!(capped_page_size(999, true), 100);
        assert_eq!(capped_page_size(50, true), 50);
        assert_eq!(capped_page_size(999, false), 999);
        let items: Vec<u32> = (0..25).collect();
        assert_eq!(expanded(&items).len(), 20);
        assert_eq!(expanded(&items[..3]).len(), 3);
    }

    #[test]
    fn ranges_compare_ignoring_case_and_include_their_bound() {
        assert!(RangeOp::Ge.holds("Payments", "payments"));
        assert!(RangeOp::Le.holds("Payments", "payments"));
        assert!(RangeOp::Ge.holds("zeta", "alpha"));
        assert!(!RangeOp::Le.holds("zeta", "alpha"));
        assert!(
            RangeOp::Ge.holds("Ärger", "zz"),
            "non-ASCII orders by code point"
        );
        assert_eq!(cmp_ignore_case("ABC", "abd"), Ordering::Less);
        assert_eq!(cmp_ignore_case("", ""), Ordering::Equal);
    }
}
