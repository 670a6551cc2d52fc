//! Lists that can be filtered as you type: a fuzzy match on the name (nucleo-matcher, names
//! converted to `Utf32String` once when they arrive) plus `key:value` facets, sorting by any
//! column, and streaming page by page. One keystroke that extends the previous text only
//! re-checks the rows that matched before.

use std::cell::Cell;
use std::cmp::Ordering;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use time::{Duration, OffsetDateTime};

use super::model::{AppRow, IdentityKind, IdentityRow};

/// A row type that can live in a [`Listing`].
pub trait Row {
    /// What the fuzzy text matches against.
    fn name(&self) -> &str;
    /// The fields facets look at, copied once on arrival into compact per-row arrays; the
    /// row's credential expiry times are appended to `expiries`.
    fn facet_fields(&self, expiries: &mut Vec<OffsetDateTime>) -> FacetFields;
    /// `Some(true/false)` when the facet applies to this kind of row, `None` when it does not.
    fn matches_facet(&self, facet: &Facet, now: OffsetDateTime) -> Option<bool> {
        let mut expiries = Vec::new();
        let fields = self.facet_fields(&mut expiries);
        expiries.sort_unstable();
        fields.matches(facet, &expiries, now)
    }
    /// The list's name in messages ("apps").
    const NOUN: &'static str;
    /// The facets this list understands, as the filter's error line and `?` help show them.
    const FACETS: &'static str;
    /// Whether `facet` means anything for this kind of row (`fic:0` does not on identities).
    fn accepts(facet: &Facet) -> bool;
    /// Column titles, in order; sorting refers to them by index.
    fn columns() -> &'static [&'static str];
    fn compare(&self, other: &Self, column: usize, now: OffsetDateTime) -> Ordering;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal(usize),
    Greater(usize),
    Less(usize),
}

impl Comparison {
    fn holds(self, value: usize) -> bool {
        match self {
            Comparison::Equal(n) => value == n,
            Comparison::Greater(n) => value > n,
            Comparison::Less(n) => value < n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facet {
    /// `fic:0`, `fic:>0`, `fic:<3`
    FicCount(Comparison),
    /// `expires:<30d`: a credential not yet expired ends within this long.
    ExpiresWithin(Duration),
    /// `expired`: at least one credential has expired.
    Expired,
    /// `audience:multi` / `audience:single`
    Multitenant(bool),
    /// `kind:user` / `kind:system` (identities)
    Kind(IdentityKind),
    /// `trusted:0`, `trusted:>0` (identities): how many apps have a FIC naming it.
    Trusted(Comparison),
    /// `severity:error|warning|info` (the Health tab's findings): 0 error, 1 warning, 2 info.
    Severity(u8),
}

/// What facets need of one row, small and `Copy` so a filter pass reads one contiguous array
/// instead of chasing each row's heap data. `None` means the facet does not apply to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FacetFields {
    /// `None` when unknown (apps) or not applicable (identities).
    pub fic_count: Option<usize>,
    pub multitenant: Option<bool>,
    pub kind: Option<IdentityKind>,
    /// Identities: how many apps trust it, `None` until the Apps list has loaded.
    pub trusted: Option<usize>,
    /// Whether `fic`/`expires`/`expired` apply (apps) at all.
    pub has_credentials_facets: bool,
    /// A finding's severity (0 error, 1 warning, 2 info); `None` on other rows.
    pub severity: Option<u8>,
}

impl FacetFields {
    /// `expiries`: this row's credential expiry times, ascending.
    fn matches(
        &self,
        facet: &Facet,
        expiries: &[OffsetDateTime],
        now: OffsetDateTime,
    ) -> Option<bool> {
        let credentials_facet = |held: bool| self.has_credentials_facets.then_some(held);
        match facet {
            Facet::FicCount(comparison) => {
                credentials_facet(self.fic_count.is_some_and(|n| comparison.holds(n)))
            }
            // The soonest expiry still ahead decides: if it is not within, none later is.
            Facet::ExpiresWithin(within) => credentials_facet(
                expiries
                    .iter()
                    .find(|&&at| at > now)
                    .is_some_and(|&at| at - now <= *within),
            ),
            Facet::Expired => credentials_facet(expiries.first().is_some_and(|&at| at <= now)),
            Facet::Multitenant(multi) => self.multitenant.map(|m| m == *multi),
            Facet::Kind(kind) => self.kind.map(|k| k == *kind),
            // An identity whose count is not known yet matches no count.
            Facet::Trusted(comparison) => self
                .kind
                .map(|_| self.trusted.is_some_and(|n| comparison.holds(n))),
            Facet::Severity(level) => self.severity.map(|s| s == *level),
        }
    }
}

/// What the admin typed, split into fuzzy text and facets; `problems` say what was not
/// understood and how to write it instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub facets: Vec<Facet>,
    pub problems: Vec<String>,
}

const APP_FACETS: &str = "fic:0 fic:>0 fic:<2 expires:<30d expired audience:multi|single";
const IDENTITY_FACETS: &str = "kind:user kind:system trusted:0 trusted:>0";

pub const FACET_HELP: &str = concat!(
    "filters on apps: fic:0 fic:>0 fic:<2 expires:<30d expired audience:multi|single",
    "; on identities: kind:user kind:system trusted:0 trusted:>0"
);

/// Every facet key, whichever list it belongs to.
const FACET_KEYS: &str = "fic: expires: expired audience: kind: trusted: severity:";

/// Parses `raw` without knowing the list: facets of either list are accepted.
pub fn parse_query(raw: &str) -> Query {
    parse_query_with(raw, "any list", FACET_KEYS, |_| true)
}

/// Parses `raw` for a list of `T`: a facet of the other list, or a `key:value` word whose key
/// is no facet at all, is said on the filter's error line instead of silently matching
/// nothing (or everything).
pub fn parse_query_for<T: Row>(raw: &str) -> Query {
    parse_query_with(raw, T::NOUN, T::FACETS, T::accepts)
}

fn parse_query_with(raw: &str, noun: &str, known: &str, accepts: impl Fn(&Facet) -> bool) -> Query {
    let mut query = Query::default();
    let mut words = Vec::new();
    for word in raw.split_whitespace() {
        match parse_facet(word) {
            Some(Ok(facet)) if accepts(&facet) => query.facets.push(facet),
            Some(Ok(_)) => query.problems.push(format!(
                "`{word}` does not apply to {noun}; filters here: {known}"
            )),
            Some(Err(problem)) => query.problems.push(problem),
            None => {
                if looks_like_facet(word) {
                    query.problems.push(format!(
                        "`{word}` is not a filter (matched as text); filters here: {known}"
                    ));
                }
                words.push(word);
            }
        }
    }
    query.text = words.join(" ");
    query
}

/// `foo:bar`: a word, a colon and a value, as a facet is written; not `api://x` or a time.
fn looks_like_facet(word: &str) -> bool {
    word.split_once(':').is_some_and(|(key, value)| {
        key.len() >= 2
            && key.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
            && !value.is_empty()
            && !value.starts_with('/')
    })
}

fn parse_facet(word: &str) -> Option<Result<Facet, String>> {
    let lower = word.to_ascii_lowercase();
    if lower == "expired" || lower == "is:expired" {
        return Some(Ok(Facet::Expired));
    }
    let (key, value) = lower.split_once(':')?;
    let facet = match key {
        "fic" | "fics" => parse_comparison(value)
            .map(Facet::FicCount)
            .ok_or_else(|| format!("`{word}`: write fic:0, fic:>0 or fic:<2")),
        "expires" | "exp" => parse_within(value)
            .map(Facet::ExpiresWithin)
            .ok_or_else(|| format!("`{word}`: write expires:<30d (days) or expires:<12h (hours)")),
        "audience" | "aud" => match value {
            "multi" | "multitenant" => Ok(Facet::Multitenant(true)),
            "single" | "singletenant" => Ok(Facet::Multitenant(false)),
            _ => Err(format!("`{word}`: write audience:multi or audience:single")),
        },
        "trusted" => parse_comparison(value)
            .map(Facet::Trusted)
            .ok_or_else(|| format!("`{word}`: write trusted:0, trusted:>0 or trusted:<2")),
        "severity" | "sev" => match value {
            "error" | "errors" => Ok(Facet::Severity(0)),
            "warning" | "warnings" | "warn" => Ok(Facet::Severity(1)),
            "info" => Ok(Facet::Severity(2)),
            _ => Err(format!(
                "`{word}`: write severity:error, severity:warning or severity:info"
            )),
        },
        "kind" => match value {
            "user" | "user-assigned" | "uami" => Ok(Facet::Kind(IdentityKind::UserAssigned)),
            "system" | "system-assigned" => Ok(Facet::Kind(IdentityKind::SystemAssigned)),
            _ => Err(format!("`{word}`: write kind:user or kind:system")),
        },
        // Not a facet key: treat it as text (names may hold a colon).
        _ => return None,
    };
    Some(facet)
}

fn parse_comparison(value: &str) -> Option<Comparison> {
    let (make, digits): (fn(usize) -> Comparison, &str) =
        if let Some(rest) = value.strip_prefix('>') {
            (Comparison::Greater, rest)
        } else if let Some(rest) = value.strip_prefix('<') {
            (Comparison::Less, rest)
        } else {
            (Comparison::Equal, value.strip_prefix('=').unwrap_or(value))
        };
    digits.parse().ok().map(make)
}

fn parse_within(value: &str) -> Option<Duration> {
    let value = value.strip_prefix('<').unwrap_or(value);
    let (number, unit) = value.split_at(value.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok()?;
    match unit {
        "d" | "day" | "days" => Some(Duration::days(n)),
        "h" | "hour" | "hours" => Some(Duration::hours(n)),
        "w" | "week" | "weeks" => Some(Duration::weeks(n)),
        _ => None,
    }
}

/// Above this many matches, rows are not ranked by nucleo's score (scoring costs about a
/// microsecond a name, and a keystroke must stay within a few milliseconds): names that hold
/// the typed words as written come first, then the rest, each in the list's order.
pub const RANK_LIMIT: usize = 2_000;

/// What order candidates arrive in at [`Listing::rank_matches`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The list's sort order.
    List,
    /// A previous result: best first, or two groups each in the list's order.
    Groups,
}

/// How an item fares against the query before any scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Out,
    /// In, or (a non-ASCII name) for nucleo to decide.
    In,
    /// In, and every typed word occurs in the name as written (not only as a subsequence).
    InAsWritten,
}

/// One whitespace-separated word of plain fuzzy text (no `!`, `^`, `$`, `'`, `\\`), matched as
/// a subsequence: case-insensitive, or case-sensitive when it holds a capital (smart case).
#[derive(Debug, Clone)]
struct PlainAtom {
    bytes: Vec<u8>,
    case_sensitive: bool,
    /// [`letter_mask`] of the atom: a name lacking any of these bytes cannot match.
    mask: u64,
    /// Finds the word as written, for ordering matches above [`RANK_LIMIT`].
    finder: memchr::memmem::Finder<'static>,
}

impl PlainAtom {
    fn parse_all(text: &str) -> Option<Vec<PlainAtom>> {
        if text.is_empty() || !text.is_ascii() || text.contains(['!', '^', '$', '\'', '\\']) {
            return None;
        }
        Some(
            text.split_whitespace()
                .map(|word| PlainAtom {
                    case_sensitive: word.bytes().any(|b| b.is_ascii_uppercase()),
                    bytes: word.bytes().collect(),
                    mask: letter_mask(word.as_bytes()),
                    finder: memchr::memmem::Finder::new(word.as_bytes()).into_owned(),
                })
                .collect(),
        )
    }

    /// [`Self::matches_folded`] on a name alone, folding and masking it first.
    #[cfg(test)]
    fn is_subsequence_of(&self, name: &[u8]) -> bool {
        let folded = name.to_ascii_lowercase();
        self.judge(name, &folded, letter_mask(name)) != Verdict::Out
    }

    /// Whether the word is a subsequence of the name (and whether it occurs as written), from
    /// the name's letter mask and its ASCII-lowercased bytes, which a filter pass reads
    /// without folding each byte again.
    fn judge(&self, name: &[u8], folded: &[u8], name_mask: u64) -> Verdict {
        if name_mask & self.mask != self.mask {
            return Verdict::Out;
        }
        // A case-insensitive word holds no capitals, so only the name needs folding.
        let haystack = if self.case_sensitive { name } else { folded };
        // The subsequence test first: most names a keystroke looks at do not match at all.
        if !subsequence_in(&self.bytes, haystack) {
            Verdict::Out
        } else if self.bytes.len() == 1 || self.finder.find(haystack).is_some() {
            Verdict::InAsWritten
        } else {
            Verdict::In
        }
    }
}

/// Set in a [`letter_mask`] when the bytes are not all ASCII.
const NON_ASCII: u64 = 1 << 63;

/// One bit per ASCII letter (case folded), digit and a few separators, one for any other ASCII
/// byte and [`NON_ASCII`]: a cheap "does the name hold every byte the query needs" test
/// before the scan.
fn letter_mask(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |mask, &b| {
        let bit = match b.to_ascii_lowercase() {
            b if !b.is_ascii() => 63,
            l @ b'a'..=b'z' => l - b'a',
            d @ b'0'..=b'9' => 26 + d - b'0',
            b'-' => 36,
            b'_' => 37,
            b'.' => 38,
            b' ' => 39,
            _ => 40,
        };
        mask | 1 << bit
    })
}

/// Whether `wanted` is a subsequence of `haystack`, jumping between occurrences with memchr.
fn subsequence_in(wanted: &[u8], mut haystack: &[u8]) -> bool {
    for &b in wanted {
        match memchr::memchr(b, haystack) {
            Some(at) => haystack = &haystack[at + 1..],
            None => return false,
        }
    }
    true
}

/// The lists' fuzzy text match for short lists that are not a [`Listing`] (the pickers): the
/// same pattern syntax and case rules as the list filter, so typing in a picker finds what
/// typing in a list finds.
pub struct TextMatch {
    pattern: Option<Pattern>,
    matcher: Matcher,
    buffer: Vec<char>,
}

impl TextMatch {
    pub fn new(text: &str) -> TextMatch {
        let text = text.trim();
        TextMatch {
            pattern: (!text.is_empty())
                .then(|| Pattern::parse(text, CaseMatching::Smart, Normalization::Smart)),
            matcher: Matcher::new(Config::DEFAULT),
            buffer: Vec::new(),
        }
    }

    /// Whether any of `fields` matches (everything does when nothing is typed).
    pub fn any(&mut self, fields: &[&str]) -> bool {
        let Some(pattern) = &self.pattern else {
            return true;
        };
        fields.iter().any(|field| {
            let haystack = Utf32Str::new(field, &mut self.buffer);
            pattern.score(haystack, &mut self.matcher).is_some()
        })
    }
}

/// How far a list has loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// Not asked for yet.
    Idle,
    Loading {
        pages: usize,
    },
    Done,
    /// Loading stopped; what was loaded stays usable.
    Failed(String),
}

/// A list of rows with its filter, sort, cursor and scroll position.
pub struct Listing<T> {
    items: Vec<T>,
    /// Every name, back to back in item order, so a filter pass reads one contiguous buffer
    /// instead of one heap allocation per row.
    names: String,
    /// Where each item's name ends in `names` (it starts where the previous one ends).
    name_ends: Vec<usize>,
    /// `names` with ASCII letters lowercased (same byte offsets), for case-insensitive text.
    folded_names: Vec<u8>,
    /// Per item: [`letter_mask`] of its name.
    name_masks: Vec<u64>,
    /// Per item: what facets look at, and where its expiry times sit in `expiries`.
    facet_fields: Vec<FacetFields>,
    expiry_ends: Vec<usize>,
    /// Every item's credential expiry times, ascending within each item.
    expiries: Vec<OffsetDateTime>,
    /// Whether every name is ASCII, so the subsequence test alone decides plain text.
    all_names_ascii: bool,
    /// All item indices in sort order.
    order: Vec<u32>,
    /// Position of each item in `order`.
    rank: Vec<u32>,
    /// The rows that match the query: in `order`, or best match first with fuzzy text.
    visible: Vec<u32>,
    /// Position of the cursor in `visible`.
    cursor: usize,
    /// First visible row on screen; a view concern, adjusted while drawing.
    pub offset: Cell<usize>,
    /// Column index and descending flag; `None` is the order rows arrived in.
    sort: Option<(usize, bool)>,
    raw_query: String,
    query: Query,
    /// The fuzzy text `visible` was computed for, when it can be narrowed from.
    narrowable_from: Option<String>,
    pattern: Option<Pattern>,
    /// The fuzzy text as plain atoms, when it has no special syntax (fast path).
    plain_atoms: Option<Vec<PlainAtom>>,
    matcher: Matcher,
    pub load: Load,
    /// The request whose pages are being streamed in; older answers are dropped.
    pub request: u64,
}

impl<T: Row> Default for Listing<T> {
    fn default() -> Self {
        Listing::new()
    }
}

impl<T: Row> Listing<T> {
    pub fn new() -> Self {
        Listing {
            items: Vec::new(),
            names: String::new(),
            name_ends: Vec::new(),
            folded_names: Vec::new(),
            name_masks: Vec::new(),
            facet_fields: Vec::new(),
            expiry_ends: Vec::new(),
            expiries: Vec::new(),
            all_names_ascii: true,
            order: Vec::new(),
            rank: Vec::new(),
            visible: Vec::new(),
            cursor: 0,
            offset: Cell::new(0),
            // By name: what people scan for first.
            sort: Some((0, false)),
            raw_query: String::new(),
            query: Query::default(),
            narrowable_from: Some(String::new()),
            pattern: None,
            plain_atoms: None,
            matcher: Matcher::new(Config::DEFAULT),
            load: Load::Idle,
            request: 0,
        }
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn visible_len(&self) -> usize {
        self.visible.len()
    }

    /// The rows from `start`, at most `count`, in display order.
    pub fn visible_rows(&self, start: usize, count: usize) -> impl Iterator<Item = &T> + '_ {
        self.visible
            .iter()
            .skip(start)
            .take(count)
            .map(|&i| &self.items[i as usize])
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn selected(&self) -> Option<&T> {
        self.visible
            .get(self.cursor)
            .map(|&i| &self.items[i as usize])
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    pub fn raw_query(&self) -> &str {
        &self.raw_query
    }

    pub fn sort(&self) -> Option<(usize, bool)> {
        self.sort
    }

    /// Forgets every row (a refresh), keeping the query and the sort.
    pub fn clear(&mut self) {
        self.items.clear();
        self.names.clear();
        self.name_ends.clear();
        self.folded_names.clear();
        self.name_masks.clear();
        self.facet_fields.clear();
        self.expiry_ends.clear();
        self.expiries.clear();
        self.all_names_ascii = true;
        self.order.clear();
        self.rank.clear();
        self.visible.clear();
        self.cursor = 0;
        self.offset.set(0);
    }

    /// Adds one page of rows as they stream in; the cursor stays on the row it was on, or on
    /// the top row when it was there.
    pub fn extend(&mut self, rows: Vec<T>, now: OffsetDateTime) {
        let first = self.items.len() as u32;
        for row in &rows {
            self.names.push_str(row.name());
            self.all_names_ascii &= row.name().is_ascii();
            self.name_ends.push(self.names.len());
            let name = row.name().as_bytes();
            self.folded_names
                .extend(name.iter().map(u8::to_ascii_lowercase));
            self.name_masks.push(letter_mask(name));
            let start = self.expiries.len();
            self.facet_fields.push(row.facet_fields(&mut self.expiries));
            self.expiries[start..].sort_unstable();
            self.expiry_ends.push(self.expiries.len());
        }
        self.items.extend(rows);
        let last = self.items.len() as u32;
        match self.sort {
            None if self.pattern.is_none() => {
                self.order.extend(first..last);
                self.rank.extend(first..last);
                let matching = self.retain_matching((first..last).collect(), now);
                self.visible.extend(matching);
            }
            _ => {
                // A cursor on the top row stays on the top row (the list is read from the
                // top while it loads); one moved down stays on its row.
                let selected = (self.cursor > 0).then(|| self.selected_index()).flatten();
                self.merge_in(first, last, now);
                self.refilter_all(now);
                self.restore_cursor(selected);
            }
        }
    }

    /// Every row replaced at once (a full listing arriving behind cached rows): the query and
    /// the sort stay, and the cursor stays on its row (by `key`) when that row is still there.
    pub fn replace_all(
        &mut self,
        rows: Vec<T>,
        key: impl for<'r> Fn(&'r T) -> &'r str,
        now: OffsetDateTime,
    ) {
        let selected = self.selected().map(|row| key(row).to_string());
        self.clear();
        self.extend(rows, now);
        if let Some(selected) = selected {
            self.select_where(|row| key(row) == selected);
        }
    }

    /// A delta refresh: each changed row takes the place of the row with its `key` (or is
    /// added), the removed keys leave, and the indices are rebuilt once (as a full load
    /// builds them, so filtering and drawing stay as fast); query, sort and the cursor's row
    /// stay. Nothing changed: nothing is rebuilt.
    pub fn apply_changes(
        &mut self,
        changed: Vec<T>,
        removed: &[String],
        key: impl for<'r> Fn(&'r T) -> &'r str,
        now: OffsetDateTime,
    ) {
        if changed.is_empty() && removed.is_empty() {
            return;
        }
        let selected = self.selected().map(|row| key(row).to_string());
        let removed: std::collections::HashSet<&str> = removed.iter().map(String::as_str).collect();
        let mut changed: std::collections::HashMap<String, T> = changed
            .into_iter()
            .map(|row| (key(&row).to_string(), row))
            .collect();
        let old = std::mem::take(&mut self.items);
        let mut rows = Vec::with_capacity(old.len() + changed.len());
        for row in old {
            let id = key(&row);
            if removed.contains(id) {
                continue;
            }
            match changed.remove(id) {
                Some(new) => rows.push(new),
                None => rows.push(row),
            }
        }
        rows.extend(changed.into_values());
        self.clear();
        self.extend(rows, now);
        if let Some(selected) = selected {
            self.select_where(|row| key(row) == selected);
        }
    }

    /// Changes the first row `pick` finds, in place (a FIC written elsewhere changes its
    /// count); its facet data follows, and the sort and filter are applied again with the
    /// cursor kept on its row. Only for fields other than the name and credential expiries.
    pub fn update_where(
        &mut self,
        pick: impl Fn(&T) -> bool,
        change: impl FnOnce(&mut T),
        now: OffsetDateTime,
    ) -> bool {
        let Some(index) = self.items.iter().position(pick) else {
            return false;
        };
        change(&mut self.items[index]);
        let mut unused_expiries = Vec::new();
        self.facet_fields[index] = self.items[index].facet_fields(&mut unused_expiries);
        let selected = self.selected_index();
        self.sort_order(now);
        self.refilter_all(now);
        self.restore_cursor(selected);
        true
    }

    /// Changes every row `change` returns true for (the Identities list's trust counts when
    /// the apps change), then sorts and filters once. Only for fields other than the name and
    /// credential expiries.
    pub fn update_each(&mut self, mut change: impl FnMut(&mut T) -> bool, now: OffsetDateTime) {
        let mut changed = false;
        for (index, item) in self.items.iter_mut().enumerate() {
            if change(item) {
                let mut unused_expiries = Vec::new();
                self.facet_fields[index] = item.facet_fields(&mut unused_expiries);
                changed = true;
            }
        }
        if changed {
            let selected = self.selected_index();
            self.sort_order(now);
            self.refilter_all(now);
            self.restore_cursor(selected);
        }
    }

    /// Changes every row `change` returns true for, credential expiries included (the
    /// certificate expiry joined after the pages): facet data and expiries are rebuilt once,
    /// then the sort and filter are applied again with the cursor kept on its row.
    pub fn update_credentials(
        &mut self,
        mut change: impl FnMut(&mut T) -> bool,
        now: OffsetDateTime,
    ) {
        let mut changed = false;
        for item in &mut self.items {
            changed |= change(item);
        }
        if !changed {
            return;
        }
        self.expiries.clear();
        self.expiry_ends.clear();
        for (index, item) in self.items.iter().enumerate() {
            let start = self.expiries.len();
            self.facet_fields[index] = item.facet_fields(&mut self.expiries);
            self.expiries[start..].sort_unstable();
            self.expiry_ends.push(self.expiries.len());
        }
        let selected = self.selected_index();
        self.sort_order(now);
        self.refilter_all(now);
        self.restore_cursor(selected);
    }

    /// Sets the filter text; narrows the previous matches when the text only grew. The cursor
    /// goes to the best match (the first row), as in any fuzzy finder.
    pub fn set_query(&mut self, raw: &str, now: OffsetDateTime) {
        if raw == self.raw_query {
            return;
        }
        let query = parse_query_for::<T>(raw);
        let narrowing = query.facets == self.query.facets
            && !query.text.contains('!')
            && self
                .narrowable_from
                .as_deref()
                .is_some_and(|before| query.text.starts_with(before));
        self.pattern = (!query.text.is_empty())
            .then(|| Pattern::parse(&query.text, CaseMatching::Smart, Normalization::Smart));
        self.plain_atoms = PlainAtom::parse_all(&query.text);
        self.raw_query = raw.to_string();
        self.query = query;
        if narrowing {
            let visible = std::mem::take(&mut self.visible);
            self.visible = self.retain_matching(visible, now);
        } else {
            self.refilter_all(now);
        }
        self.narrowable_from = Some(self.query.text.clone());
        self.cursor = 0;
        self.offset.set(0);
    }

    /// Sorts by `column`; the same column again flips the direction.
    pub fn sort_by(&mut self, column: usize, now: OffsetDateTime) {
        let selected = self.selected_index();
        self.sort = match self.sort {
            Some((current, descending)) if current == column => Some((column, !descending)),
            _ => Some((column, false)),
        };
        self.sort_order(now);
        self.refilter_all(now);
        self.restore_cursor(selected);
    }

    /// Sorts by `column` in the given direction (a column's own sort key); the cursor stays
    /// on its row. A column the row type does not have is ignored.
    pub fn set_sort(&mut self, column: usize, descending: bool, now: OffsetDateTime) {
        if column >= T::columns().len() || self.sort == Some((column, descending)) {
            return;
        }
        let selected = self.selected_index();
        self.sort = Some((column, descending));
        self.sort_order(now);
        self.refilter_all(now);
        self.restore_cursor(selected);
    }

    /// Moves the cursor by `delta` rows, clamped to the list.
    pub fn move_cursor(&mut self, delta: isize) {
        if self.visible.is_empty() {
            self.cursor = 0;
            return;
        }
        let max = self.visible.len() - 1;
        self.cursor = self.cursor.saturating_add_signed(delta).min(max);
    }

    pub fn cursor_to_start(&mut self) {
        self.cursor = 0;
    }

    pub fn cursor_to_end(&mut self) {
        self.cursor = self.visible.len().saturating_sub(1);
    }

    /// Puts the cursor on the first visible row for which `pick` holds; false if none.
    pub fn select_where(&mut self, pick: impl Fn(&T) -> bool) -> bool {
        match self
            .visible
            .iter()
            .position(|&i| pick(&self.items[i as usize]))
        {
            Some(position) => {
                self.cursor = position;
                true
            }
            None => false,
        }
    }

    /// Every loaded row whose name matches `pattern`, as (score, index into `items()`), using
    /// the names converted once on arrival.
    pub fn fuzzy_scores(&self, pattern: &Pattern, matcher: &mut Matcher) -> Vec<(u32, usize)> {
        let mut chars = Vec::new();
        (0..self.items.len())
            .filter_map(|i| {
                pattern
                    .score(Utf32Str::new(self.name(i), &mut chars), matcher)
                    .map(|s| (s, i))
            })
            .collect()
    }

    fn name(&self, i: usize) -> &str {
        name_at(&self.names, &self.name_ends, i)
    }

    fn item_expiries(&self, i: usize) -> &[OffsetDateTime] {
        let start = i.checked_sub(1).map_or(0, |p| self.expiry_ends[p]);
        &self.expiries[start..self.expiry_ends[i]]
    }

    fn facets_hold(&self, i: usize, now: OffsetDateTime) -> bool {
        let fields = &self.facet_fields[i];
        self.query.facets.iter().all(|facet| {
            fields
                .matches(facet, self.item_expiries(i), now)
                .unwrap_or(false)
        })
    }

    /// Whether item `i` belongs in the result, as far as it can be told without scoring: the
    /// facets, and with plain text over an ASCII name, the subsequence test (what nucleo's
    /// fuzzy match decides, far cheaper). Other names are left to scoring in `rank_matches`.
    fn judge(&self, i: usize, now: OffsetDateTime) -> Verdict {
        if !self.facets_hold(i, now) {
            return Verdict::Out;
        }
        match &self.plain_atoms {
            Some(atoms) if self.pattern.is_some() => {
                let mask = self.name_masks[i];
                if mask & NON_ASCII != 0 {
                    return Verdict::In;
                }
                let start = i.checked_sub(1).map_or(0, |p| self.name_ends[p]);
                let end = self.name_ends[i];
                let (name, folded) = (&self.names[start..end], &self.folded_names[start..end]);
                let mut verdict = Verdict::InAsWritten;
                for atom in atoms {
                    match atom.judge(name.as_bytes(), folded, mask) {
                        Verdict::Out => return Verdict::Out,
                        Verdict::In => verdict = Verdict::In,
                        Verdict::InAsWritten => {}
                    }
                }
                verdict
            }
            _ => Verdict::In,
        }
    }

    /// Finds a row among all loaded ones, filtered out or not.
    pub fn find(&self, pick: impl Fn(&T) -> bool) -> Option<&T> {
        self.items.iter().find(|row| pick(row))
    }

    /// Keeps `offset` such that the cursor row is within `height` rows on screen.
    pub fn scroll_for(&self, height: usize) -> usize {
        let height = height.max(1);
        let mut offset = self.offset.get().min(self.visible.len().saturating_sub(1));
        if self.cursor < offset {
            offset = self.cursor;
        } else if self.cursor >= offset + height {
            offset = self.cursor + 1 - height;
        }
        self.offset.set(offset);
        offset
    }

    fn selected_index(&self) -> Option<u32> {
        self.visible.get(self.cursor).copied()
    }

    fn restore_cursor(&mut self, selected: Option<u32>) {
        self.cursor = selected
            .and_then(|wanted| self.visible.iter().position(|&i| i == wanted))
            .unwrap_or(0);
    }

    fn sort_order(&mut self, now: OffsetDateTime) {
        let items = &self.items;
        match self.sort {
            None => self.order.sort_unstable(),
            Some((column, descending)) => self
                .order
                .sort_by(|&a, &b| sorted_order(items, column, descending, a, b, now)),
        }
        self.rank_order();
    }

    /// The rows `first..last` that just arrived, sorted on their own and merged into the
    /// sorted order: a page costs its own sort plus one pass, not a sort of every row again.
    fn merge_in(&mut self, first: u32, last: u32, now: OffsetDateTime) {
        let Some((column, descending)) = self.sort else {
            // Arrival order: the new indices come after every old one.
            self.order.extend(first..last);
            self.rank_order();
            return;
        };
        let items = &self.items;
        let ordering = |a: u32, b: u32| sorted_order(items, column, descending, a, b, now);
        let mut new: Vec<u32> = (first..last).collect();
        new.sort_by(|&a, &b| ordering(a, b));
        // Each new row's place by binary search (a page is small, the list large: comparing
        // reads rows scattered in memory, so fewer comparisons is what counts).
        let old = std::mem::take(&mut self.order);
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let mut from = 0;
        for &row in &new {
            let place = from + old[from..].partition_point(|&o| ordering(o, row) == Ordering::Less);
            merged.extend_from_slice(&old[from..place]);
            merged.push(row);
            from = place;
        }
        merged.extend_from_slice(&old[from..]);
        self.order = merged;
        self.rank_order();
    }

    /// `rank` from `order`.
    fn rank_order(&mut self) {
        self.rank.resize(self.items.len(), 0);
        for (position, &i) in self.order.iter().enumerate() {
            self.rank[i as usize] = position as u32;
        }
    }

    /// Filters every item: membership is decided in item order (the contiguous arrays read
    /// front to back), then kept in the list's sort order.
    fn refilter_all(&mut self, now: OffsetDateTime) {
        if self.pattern.is_none() && self.query.facets.is_empty() {
            self.visible = self.order.clone();
            return;
        }
        let verdicts: Vec<Verdict> = (0..self.items.len()).map(|i| self.judge(i, now)).collect();
        let matches = self
            .order
            .iter()
            .map(|&i| (i, verdicts[i as usize]))
            .filter(|&(_, verdict)| verdict != Verdict::Out)
            .collect();
        self.visible = self.rank_matches(matches, Order::List);
    }

    /// Keeps the indices that match; with fuzzy text, orders them best match first (ties in
    /// the list's sort order).
    fn retain_matching(&mut self, indices: Vec<u32>, now: OffsetDateTime) -> Vec<u32> {
        let matches = indices
            .into_iter()
            .map(|i| (i, self.judge(i as usize, now)))
            .filter(|&(_, verdict)| verdict != Verdict::Out)
            .collect();
        // Above the limit the previous result was two groups, each in list order.
        self.rank_matches(matches, Order::Groups)
    }

    /// Scores the candidates `judge` let through, drops those nucleo does not match and puts
    /// the best first. Plain text over more than [`RANK_LIMIT`] matches is not scored: there
    /// the subsequence test already decided membership, and names holding the words as
    /// written go first.
    fn rank_matches(&mut self, mut matches: Vec<(u32, Verdict)>, order: Order) -> Vec<u32> {
        let Some(pattern) = self.pattern.as_ref() else {
            return matches.into_iter().map(|(i, _)| i).collect();
        };
        let (names, name_ends, matcher) = (&self.names, &self.name_ends, &mut self.matcher);
        let mut chars = Vec::new();
        if self.plain_atoms.is_some() && matches.len() > RANK_LIMIT {
            // Only non-ASCII names still need nucleo's verdict.
            if !self.all_names_ascii {
                matches.retain(|&(i, _)| {
                    let name = name_at(names, name_ends, i as usize);
                    name.is_ascii()
                        || pattern
                            .score(Utf32Str::new(name, &mut chars), matcher)
                            .is_some()
                });
            }
            if matches.len() > RANK_LIMIT {
                let (mut as_written, mut rest): (Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new());
                for (i, verdict) in matches {
                    match verdict {
                        Verdict::InAsWritten => as_written.push(i),
                        _ => rest.push(i),
                    }
                }
                if order == Order::Groups {
                    // Sorting each group by list position merges the previous groups' runs
                    // (near linear).
                    let rank = &self.rank;
                    as_written.sort_by_key(|&i| rank[i as usize]);
                    rest.sort_by_key(|&i| rank[i as usize]);
                }
                as_written.append(&mut rest);
                return as_written;
            }
        }
        let mut scored: Vec<(u32, u32)> = matches
            .into_iter()
            .filter_map(|(i, _)| {
                let name = name_at(names, name_ends, i as usize);
                pattern
                    .score(Utf32Str::new(name, &mut chars), matcher)
                    .map(|score| (score, i))
            })
            .collect();
        let rank = &self.rank;
        scored.sort_unstable_by_key(|&(score, i)| (std::cmp::Reverse(score), rank[i as usize]));
        scored.into_iter().map(|(_, i)| i).collect()
    }
}

/// How items `a` and `b` compare in a list sorted by `column`; ties keep arrival order, so the
/// list does not shuffle between pages.
fn sorted_order<T: Row>(
    items: &[T],
    column: usize,
    descending: bool,
    a: u32,
    b: u32,
    now: OffsetDateTime,
) -> Ordering {
    let ordering = items[a as usize].compare(&items[b as usize], column, now);
    let ordering = if descending {
        ordering.reverse()
    } else {
        ordering
    };
    ordering.then(a.cmp(&b))
}

/// Item `i`'s name in `names`, the names back to back with `ends` where each one ends.
fn name_at<'a>(names: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = i.checked_sub(1).map_or(0, |previous| ends[previous]);
    &names[start..ends[i]]
}

impl Row for AppRow {
    const NOUN: &'static str = "apps";
    const FACETS: &'static str = APP_FACETS;

    fn accepts(facet: &Facet) -> bool {
        !matches!(
            facet,
            Facet::Kind(_) | Facet::Trusted(_) | Facet::Severity(_)
        )
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn facet_fields(&self, expiries: &mut Vec<OffsetDateTime>) -> FacetFields {
        expiries.extend(self.credentials.iter().filter_map(|c| c.expires));
        FacetFields {
            fic_count: self.fic_count,
            multitenant: Some(self.audience.is_multitenant()),
            kind: None,
            trusted: None,
            has_credentials_facets: true,
            severity: None,
        }
    }

    fn columns() -> &'static [&'static str] {
        &["name", "app id", "FICs", "credentials", "audience"]
    }

    fn compare(&self, other: &Self, column: usize, _now: OffsetDateTime) -> Ordering {
        match column {
            0 => compare_names(&self.name, &other.name),
            1 => self.app_id.cmp(&other.app_id),
            2 => self.fic_count.cmp(&other.fic_count),
            // Soonest expiry first; apps without credentials last.
            3 => {
                let a = self.nearest_expiry().and_then(|c| c.expires);
                let b = other.nearest_expiry().and_then(|c| c.expires);
                match (a, b) {
                    (Some(a), Some(b)) => a.cmp(&b),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                }
            }
            _ => self.audience.cmp(&other.audience),
        }
    }
}

impl Row for IdentityRow {
    const NOUN: &'static str = "identities";
    const FACETS: &'static str = IDENTITY_FACETS;

    fn accepts(facet: &Facet) -> bool {
        matches!(facet, Facet::Kind(_) | Facet::Trusted(_))
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn facet_fields(&self, _expiries: &mut Vec<OffsetDateTime>) -> FacetFields {
        FacetFields {
            kind: Some(self.kind),
            trusted: self.trusted_by,
            ..FacetFields::default()
        }
    }

    fn columns() -> &'static [&'static str] {
        &[
            "name",
            "client id",
            "principal id",
            "resource group",
            "subscription",
        ]
    }

    fn compare(&self, other: &Self, column: usize, _now: OffsetDateTime) -> Ordering {
        match column {
            0 => compare_names(&self.name, &other.name),
            1 => self.client_id.cmp(&other.client_id),
            2 => self.principal_id.cmp(&other.principal_id),
            3 => self.resource_group.cmp(&other.resource_group),
            _ => self.subscription.cmp(&other.subscription),
        }
    }
}

pub fn compare_names(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Audience, Credential, CredentialKind};
    use nucleo_matcher::Utf32String;
    use proptest::prelude::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn app(name: &str, fics: usize, expires_in_days: Option<i64>, audience: Audience) -> AppRow {
        AppRow {
            object_id: format!("obj-{name}"),
            app_id: format!("app-{name}"),
            name: name.into(),
            fic_count: Some(fics),
            fic_subjects: None,
            credentials: expires_in_days
                .map(|days| Credential {
                    kind: CredentialKind::Secret,
                    name: "s".into(),
                    key_id: "k".into(),
                    expires: Some(NOW + Duration::days(days)),
                })
                .into_iter()
                .collect(),
            audience,
        }
    }

    fn names(listing: &Listing<AppRow>) -> Vec<&str> {
        listing
            .visible_rows(0, usize::MAX)
            .map(|row| row.name.as_str())
            .collect()
    }

    fn object_id(row: &AppRow) -> &str {
        &row.object_id
    }

    /// A delta refresh (#17): a changed row takes its old row's place (its facets follow), a
    /// new one joins in sort order, a removed one leaves; the filter and the cursor's row stay.
    #[test]
    fn a_delta_changes_adds_and_removes_rows_keeping_filter_and_cursor() {
        let mut listing = sample();
        listing.set_query("sync", NOW);
        assert_eq!(names(&listing), ["inventory-sync", "partner-sync"]);
        listing.move_cursor(1);
        assert_eq!(
            listing.selected().map(|a| a.name.as_str()),
            Some("partner-sync")
        );
        listing.apply_changes(
            vec![
                app("inventory-sync", 3, None, Audience::Single),
                app("audit-sync", 0, None, Audience::Single),
            ],
            &["obj-payments-api".to_string()],
            object_id,
            NOW,
        );
        assert_eq!(listing.len(), 4);
        assert!(listing.find(|a| a.name == "payments-api").is_none());
        assert_eq!(
            names(&listing),
            ["audit-sync", "inventory-sync", "partner-sync"]
        );
        assert_eq!(
            listing.selected().map(|a| a.name.as_str()),
            Some("partner-sync")
        );
        listing.set_query("fic:>2", NOW);
        assert_eq!(
            names(&listing),
            ["inventory-sync"],
            "the changed row's facets"
        );
    }

    /// A full listing behind cached rows replaces them all; the cursor keeps its row.
    #[test]
    fn replacing_every_row_keeps_the_cursor_on_its_row() {
        let mut listing = sample();
        assert!(listing.select_where(|a| a.name == "payments-api"));
        listing.replace_all(
            vec![
                app("zeta", 0, None, Audience::Single),
                app("payments-api", 2, None, Audience::Single),
            ],
            object_id,
            NOW,
        );
        assert_eq!(names(&listing), ["payments-api", "zeta"]);
        assert_eq!(listing.selected().map(|a| a.fic_count), Some(Some(2)));
    }

    fn sample() -> Listing<AppRow> {
        let mut listing = Listing::new();
        listing.extend(
            vec![
                app("payments-api", 1, Some(10), Audience::Single),
                app("inventory-sync", 1, None, Audience::Single),
                app("billing-worker", 0, Some(-3), Audience::Single),
                app("partner-sync", 0, Some(300), Audience::Multi),
            ],
            NOW,
        );
        listing
    }

    #[test]
    fn parses_text_and_facets() {
        let query = parse_query("pay fic:>0 expires:<30d audience:multi expired");
        assert_eq!(query.text, "pay");
        assert_eq!(
            query.facets,
            vec![
                Facet::FicCount(Comparison::Greater(0)),
                Facet::ExpiresWithin(Duration::days(30)),
                Facet::Multitenant(true),
                Facet::Expired
            ]
        );
        assert!(query.problems.is_empty());
        let bad = parse_query("fic:lots audience:galaxy");
        assert_eq!(bad.problems.len(), 2);
        assert!(bad.problems[0].contains("fic:0"));
        assert_eq!(parse_query("api://thing").text, "api://thing");
    }

    #[test]
    fn an_unknown_or_foreign_facet_says_so_and_names_the_known_ones() {
        let mut apps = sample();
        apps.set_query("foo:bar", NOW);
        let problems = &apps.query().problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("`foo:bar` is not a filter"),
            "{problems:?}"
        );
        assert!(problems[0].contains("fic:0") && problems[0].contains("audience:multi"));
        // A URI or a plain word with a colon is text, not a mistyped facet.
        apps.set_query("api://thing", NOW);
        assert!(apps.query().problems.is_empty());
        // `kind:` is an identities facet: on apps it is said, not applied (it would hide all).
        apps.set_query("kind:user", NOW);
        assert!(apps.query().problems[0].contains("does not apply to apps"));
        assert_eq!(apps.visible_len(), 4);

        let mut identities: Listing<IdentityRow> = Listing::new();
        identities.set_query("fic:0", NOW);
        let problems = &identities.query().problems;
        assert!(
            problems[0].contains("does not apply to identities"),
            "{problems:?}"
        );
        assert!(problems[0].contains("kind:system"), "{problems:?}");
        identities.set_query("kind:system", NOW);
        assert!(identities.query().problems.is_empty());
    }

    #[test]
    fn fuzzy_text_and_facets_filter_rows() {
        let mut listing = sample();
        listing.set_query("sync", NOW);
        assert_eq!(names(&listing), ["inventory-sync", "partner-sync"]);
        listing.set_query("sync fic:0", NOW);
        assert_eq!(names(&listing), ["partner-sync"]);
        listing.set_query("expired", NOW);
        assert_eq!(names(&listing), ["billing-worker"]);
        listing.set_query("expires:<30d", NOW);
        assert_eq!(names(&listing), ["payments-api"]);
        listing.set_query("audience:multi", NOW);
        assert_eq!(names(&listing), ["partner-sync"]);
        listing.set_query("", NOW);
        assert_eq!(listing.visible_len(), 4);
    }

    #[test]
    fn plain_fast_path_agrees_with_nucleo_membership() {
        let names = [
            "payments-api",
            "partner-sync",
            "billing-worker",
            "Payroll-EU",
            "inventory-sync",
            "api-gateway",
            "reporting-portal",
            "recruiting-portal",
            "gov-exporter",
            "a",
        ];
        let mut matcher = Matcher::new(Config::DEFAULT);
        for text in [
            "p", "pa", "pay api", "PA", "Pay", "sync", "rp", "zz", "gov exp", "a a", "-",
        ] {
            let atoms = PlainAtom::parse_all(text).expect("plain text");
            let pattern = Pattern::parse(text, CaseMatching::Smart, Normalization::Smart);
            for name in names {
                let fast = atoms.iter().all(|a| a.is_subsequence_of(name.as_bytes()));
                let slow = pattern
                    .score(Utf32String::from(name).slice(..), &mut matcher)
                    .is_some();
                assert_eq!(fast, slow, "{text:?} against {name:?}");
            }
        }
        assert!(PlainAtom::parse_all("!pay").is_none());
        assert!(PlainAtom::parse_all("^pay").is_none());
    }

    /// The facet rules as first written against `AppRow` itself, to check the compact copy.
    fn reference_facet(row: &AppRow, facet: &Facet, now: OffsetDateTime) -> bool {
        let mut expiries = row.credentials.iter().filter_map(|c| c.expires);
        match facet {
            Facet::FicCount(comparison) => row.fic_count.is_some_and(|n| comparison.holds(n)),
            Facet::ExpiresWithin(within) => expiries.any(|at| at > now && at - now <= *within),
            Facet::Expired => expiries.any(|at| at <= now),
            Facet::Multitenant(multi) => row.audience.is_multitenant() == *multi,
            Facet::Kind(_) | Facet::Trusted(_) | Facet::Severity(_) => false,
        }
    }

    fn arb_app() -> impl Strategy<Value = AppRow> {
        (
            "[a-zA-Z0-9 _-]{0,24}",
            prop::option::of(0usize..4),
            prop::collection::vec(prop::option::of(-40i64..60), 0..4),
            any::<bool>(),
        )
            .prop_map(|(name, fic_count, expiries, multi)| AppRow {
                object_id: format!("obj-{name}"),
                app_id: format!("app-{name}"),
                name,
                fic_count,
                fic_subjects: None,
                credentials: expiries
                    .into_iter()
                    .map(|days| Credential {
                        kind: CredentialKind::Secret,
                        name: "s".into(),
                        key_id: "k".into(),
                        expires: days.map(|d| NOW + Duration::days(d)),
                    })
                    .collect(),
                audience: if multi {
                    Audience::Multi
                } else {
                    Audience::Single
                },
            })
    }

    proptest! {
        /// The ASCII prefilter must never drop a name nucleo matches (nor keep one it does not,
        /// since above `RANK_LIMIT` its verdict is final).
        #[test]
        fn plain_prefilter_never_disagrees_with_nucleo(
            name in "[a-zA-Z0-9 ._:/-]{0,40}",
            text in "[a-zA-Z0-9._:/-]{1,6}( [a-zA-Z0-9._-]{1,4}){0,2}",
        ) {
            let atoms = PlainAtom::parse_all(&text).expect("plain text");
            let pattern = Pattern::parse(&text, CaseMatching::Smart, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT);
            let fast = atoms.iter().all(|a| a.is_subsequence_of(name.as_bytes()));
            let slow = pattern
                .score(Utf32String::from(name.as_str()).slice(..), &mut matcher)
                .is_some();
            prop_assert_eq!(fast, slow, "{:?} against {:?}", text, name);
        }

        /// Filtering through the compact per-row copies keeps exactly the rows the facet rules
        /// and nucleo accept, whether computed fresh or by narrowing keystroke by keystroke.
        #[test]
        fn listing_keeps_exactly_the_matching_rows(
            rows in prop::collection::vec(arb_app(), 0..40),
            text in "[a-zA-Z-]{0,4}",
            facets in prop::sample::subsequence(
                vec!["fic:0", "fic:>1", "expires:<30d", "expired", "audience:multi"], 0..3),
        ) {
            let raw = format!("{text} {}", facets.join(" "));
            let query = parse_query(&raw);
            let pattern = Pattern::parse(&query.text, CaseMatching::Smart, Normalization::Smart);
            let mut matcher = Matcher::new(Config::DEFAULT);
            let mut expected: Vec<&str> = rows
                .iter()
                .filter(|row| query.facets.iter().all(|f| reference_facet(row, f, NOW)))
                .filter(|row| {
                    query.text.is_empty()
                        || pattern
                            .score(Utf32String::from(row.name.as_str()).slice(..), &mut matcher)
                            .is_some()
                })
                .map(|row| row.name.as_str())
                .collect();
            expected.sort_unstable();
            let mut fresh = Listing::new();
            fresh.extend(rows.clone(), NOW);
            fresh.set_query(&raw, NOW);
            let mut got = names(&fresh);
            got.sort_unstable();
            prop_assert_eq!(&got, &expected);
            let mut typed = Listing::new();
            typed.extend(rows.clone(), NOW);
            typed.set_query(&facets.join(" "), NOW);
            for end in 1..=text.len() {
                typed.set_query(&format!("{} {}", facets.join(" "), &text[..end]), NOW);
            }
            let mut narrowed = names(&typed);
            narrowed.sort_unstable();
            prop_assert_eq!(narrowed, expected);
        }
    }

    #[test]
    fn large_match_sets_keep_the_sort_order() {
        let mut listing = Listing::new();
        let rows = (0..RANK_LIMIT + 10)
            .map(|i| {
                app(
                    &format!("svc-{:05}", RANK_LIMIT + 10 - i),
                    0,
                    None,
                    Audience::Single,
                )
            })
            .collect();
        listing.extend(rows, NOW);
        listing.set_query("s", NOW);
        assert_eq!(listing.visible_len(), RANK_LIMIT + 10);
        let first: Vec<&str> = listing
            .visible_rows(0, 2)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(first, ["svc-00001", "svc-00002"]);
    }

    /// Above `RANK_LIMIT` names holding the words as typed come first, each group in the
    /// list's order, and typing letter by letter gives the same list as filtering afresh.
    #[test]
    fn large_match_sets_put_names_holding_the_text_first() {
        let rows: Vec<AppRow> = (0..RANK_LIMIT + 400)
            .map(|i| {
                // Every third name holds "pay" as written; the others only p…a…y, half of
                // them "pa" as written (so narrowing from "pa" hands over two groups).
                let name = match i % 3 {
                    0 => format!("svc-pay-{i:05}"),
                    1 => format!("svc-pa-y-{i:05}"),
                    _ => format!("svc-p-a-y-{i:05}"),
                };
                app(&name, 0, None, Audience::Single)
            })
            .collect();
        let mut typed = Listing::new();
        typed.extend(rows.clone(), NOW);
        for raw in ["p", "pa", "pay"] {
            typed.set_query(raw, NOW);
        }
        let mut fresh = Listing::new();
        fresh.extend(rows, NOW);
        fresh.set_query("pay", NOW);
        assert_eq!(
            names(&typed),
            names(&fresh),
            "narrowing agrees with a fresh filter"
        );
        let got = names(&fresh);
        assert_eq!(got.len(), RANK_LIMIT + 400);
        let as_written = (RANK_LIMIT + 400).div_ceil(3);
        assert!(got[..as_written].iter().all(|n| n.contains("pay")));
        assert!(got[as_written..].iter().all(|n| !n.contains("pay")));
        assert_eq!(got[0], "svc-pay-00000");
        assert_eq!(got[1], "svc-pay-00003");
        assert_eq!(
            got[as_written], "svc-p-a-y-00002",
            "the rest in the list's order"
        );
        let mut sorted_rest = got[as_written..].to_vec();
        sorted_rest.sort_unstable();
        assert_eq!(sorted_rest, got[as_written..]);
    }

    #[test]
    fn best_fuzzy_match_comes_first() {
        let mut listing = sample();
        listing.set_query("pay", NOW);
        assert_eq!(names(&listing), ["payments-api", "partner-sync"]);
        let mut portals = Listing::new();
        portals.extend(
            vec![
                app("recruiting-portal", 0, None, Audience::Single),
                app("reporting-portal", 0, None, Audience::Single),
            ],
            NOW,
        );
        for raw in ["r", "re", "rep", "repo", "repor", "report"] {
            portals.set_query(raw, NOW);
        }
        assert_eq!(names(&portals)[0], "reporting-portal");
        listing.set_query("", NOW);
        assert_eq!(names(&listing)[0], "billing-worker", "back to sort order");
    }

    #[test]
    fn narrowing_and_widening_agree_with_a_fresh_filter() {
        let mut listing = sample();
        for raw in ["p", "pa", "pay", "pa", "", "s", "sy", "syn"] {
            listing.set_query(raw, NOW);
            let mut fresh = sample();
            fresh.set_query(raw, NOW);
            assert_eq!(names(&listing), names(&fresh), "query {raw:?}");
        }
    }

    #[test]
    fn streaming_pages_respects_filter_and_sort() {
        let mut listing = Listing::new();
        listing.set_query("sync", NOW);
        listing.extend(vec![app("zeta-sync", 0, None, Audience::Single)], NOW);
        listing.extend(
            vec![
                app("alpha-sync", 0, None, Audience::Single),
                app("payments-api", 0, None, Audience::Single),
            ],
            NOW,
        );
        assert_eq!(names(&listing), ["alpha-sync", "zeta-sync"]);
        listing.sort_by(0, NOW);
        assert_eq!(names(&listing), ["zeta-sync", "alpha-sync"]);
    }

    /// While pages stream in, a cursor left at the top stays at the top (rows sorting before
    /// it arrive later), and a cursor the admin moved stays on its row.
    #[test]
    fn streaming_keeps_the_top_row_or_the_chosen_row_under_the_cursor() {
        let page = |names: &[&str]| -> Vec<AppRow> {
            names
                .iter()
                .map(|n| app(n, 0, None, Audience::Single))
                .collect()
        };
        let mut listing = Listing::new();
        listing.extend(page(&["synthetic-1", "synthetic-2"]), NOW);
        listing.extend(page(&["audit-collector", "billing-worker"]), NOW);
        assert_eq!(listing.cursor(), 0);
        assert_eq!(
            listing.selected().map(|r| r.name.as_str()),
            Some("audit-collector")
        );
        listing.move_cursor(1);
        listing.extend(page(&["acme-api"]), NOW);
        assert_eq!(
            listing.selected().map(|r| r.name.as_str()),
            Some("billing-worker"),
            "a moved cursor stays on its row"
        );
    }

    #[test]
    fn cursor_goes_to_the_best_match_and_stays_on_its_row_when_sorting() {
        let mut listing = sample();
        assert!(listing.select_where(|row| row.name == "partner-sync"));
        listing.sort_by(3, NOW);
        assert_eq!(
            listing.selected().map(|r| r.name.as_str()),
            Some("partner-sync")
        );
        listing.set_query("sync", NOW);
        assert_eq!(listing.cursor(), 0);
        listing.move_cursor(-5);
        assert_eq!(listing.cursor(), 0);
        listing.move_cursor(5);
        assert_eq!(listing.cursor(), 1);
    }

    #[test]
    fn sorts_by_nearest_expiry() {
        let mut listing = sample();
        listing.sort_by(3, NOW);
        assert_eq!(
            names(&listing),
            [
                "billing-worker",
                "payments-api",
                "partner-sync",
                "inventory-sync"
            ]
        );
    }

    #[test]
    fn scroll_keeps_the_cursor_on_screen() {
        let mut listing = sample();
        listing.move_cursor(3);
        assert_eq!(listing.scroll_for(2), 2);
        listing.cursor_to_start();
        assert_eq!(listing.scroll_for(2), 0);
    }
}
