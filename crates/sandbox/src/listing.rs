//! How Graph serves large listings, beyond plain OData: the page caps of `$expand` on
//! directory objects (at most [`EXPAND_PAGE_CAP`] objects a page whatever `$top` asks, and at
//! most [`EXPANDED_ITEMS_CAP`] items of the expanded relationship, with no nextLink inside it),
//! and the `ge` / `le` comparisons on `displayName` that let a client partition a listing into
//! ranges it pages in parallel.
//!
//! Graph's property tables document `displayName` on applications and service principals with
//! `$filter (eq, ne, not, ge, le, in, startsWith)`; `ne` and `not` are advanced queries, `ge`
//! and `le` are not. Comparisons are case-insensitive, as every directory string comparison.

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
}
