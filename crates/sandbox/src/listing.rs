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

/// A name as the directory compares it: every character lower-cased one by one (what
/// `odata::compare_ignore_case` compares; not `str::to_lowercase`, whose final sigma differs).
pub fn comparable_name(name: &str) -> String {
    name.chars().flat_map(char::to_lowercase).collect()
}

/// Objects by comparable `displayName` (Graph indexes `displayName` too): a `ge` / `le` range
/// finds its objects without scanning the collection. It only narrows the candidates; the
/// caller still applies the whole filter, and pages in id order as before.
#[derive(Clone, Default)]
pub struct NameIndex {
    /// Sorted by (comparable name, id).
    entries: Vec<(String, uuid::Uuid)>,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NameIndex({} names)", self.entries.len())
    }
}

impl NameIndex {
    pub fn build<'a>(names: impl Iterator<Item = (&'a str, uuid::Uuid)>) -> NameIndex {
        let mut entries: Vec<(String, uuid::Uuid)> = names
            .map(|(name, id)| (comparable_name(name), id))
            .collect();
        entries.sort_unstable();
        NameIndex { entries }
    }

    pub fn insert(&mut self, name: &str, id: uuid::Uuid) {
        let entry = (comparable_name(name), id);
        if let Err(at) = self.entries.binary_search(&entry) {
            self.entries.insert(at, entry);
        }
    }

    pub fn remove(&mut self, name: &str, id: uuid::Uuid) {
        let entry = (comparable_name(name), id);
        if let Ok(at) = self.entries.binary_search(&entry) {
            self.entries.remove(at);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ids whose comparable name `n` has `low <= n <= high` (bounds already lower-cased,
    /// `None` open), in name order.
    pub fn ids_in(&self, low: Option<&str>, high: Option<&str>) -> Vec<uuid::Uuid> {
        let start = low.map_or(0, |low| {
            self.entries
                .partition_point(|(name, _)| name.as_str() < low)
        });
        let end = high.map_or(self.entries.len(), |high| {
            self.entries
                .partition_point(|(name, _)| name.as_str() <= high)
        });
        self.entries
            .get(start..end.max(start))
            .unwrap_or_default()
            .iter()
            .map(|(_, id)| *id)
            .collect()
    }
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
    fn the_name_index_finds_closed_ranges_in_the_directorys_order() {
        let ids: Vec<uuid::Uuid> = (0..4).map(|_| uuid::Uuid::new_v4()).collect();
        let names = ["b", "A", "Ä", "c"];
        let mut index = NameIndex::build(names.iter().copied().zip(ids.iter().copied()));
        assert_eq!(index.ids_in(Some("a"), Some("b")), vec![ids[1], ids[0]]);
        // Code point order, as `compare_ignore_case`: 'ä' sorts after 'c'.
        assert_eq!(index.ids_in(Some("b"), None), vec![ids[0], ids[3], ids[2]]);
        assert!(index.ids_in(Some("c"), Some("b")).is_empty());
        index.remove("B", ids[0]);
        index.insert("Zed", ids[0]);
        assert_eq!(index.ids_in(Some("d"), None), vec![ids[0], ids[2]]);
        assert_eq!(index.len(), 4);
        assert_eq!(comparable_name("ΣΑΣ"), "σασ", "no final sigma");
    }
}
