//! The OData query subset that Microsoft Graph supports on directory objects, as the sandbox
//! serves it: `$select`, `$top`, `$skiptoken`, `$filter`, `$search`, `$count`, `$orderby` and
//! `$expand`, with Graph's advanced-query rules (`ConsistencyLevel: eventual`, `$count=true`).
//!
//! Pure: parsing and evaluation only, no I/O. Every malformed input becomes an [`ODataError`]
//! carrying the Graph error code and message the real service answers with; nothing here panics.
//!
//! Directory string comparisons are case-insensitive in Graph (`displayName eq 'PAYMENTS-API'`
//! finds `payments-api`), and so they are here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Graph's largest page.
pub const MAX_TOP: usize = 999;
/// Graph's page size for directory collections when `$top` is absent.
pub const DEFAULT_TOP: usize = 100;
/// Deeper nesting than this is not a query a person or an SDK writes; refusing it keeps the
/// recursive parser's stack small whatever the input.
const MAX_NESTING: usize = 32;
/// Graph rejects URLs far shorter than this; a bigger option is garbage, not a query.
const MAX_OPTION_LEN: usize = 16 * 1024;

const ADVANCED_QUERIES_HINT: &str = "Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information";

/// The `error.code` values Graph uses for query problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// OData syntax errors found by Graph's front end (`Invalid filter clause`, bad `$select`).
    BadRequest,
    /// Directory-level refusals (`$count is not currently supported.`, a bad skip token).
    RequestBadRequest,
    /// Valid OData the directory will not run (advanced-only features, page size).
    UnsupportedQuery,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BadRequest",
            ErrorCode::RequestBadRequest => "Request_BadRequest",
            ErrorCode::UnsupportedQuery => "Request_UnsupportedQuery",
        }
    }
}

/// A query Graph would refuse. Always HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ODataError {
    pub code: ErrorCode,
    pub message: String,
}

impl ODataError {
    fn bad_request(message: impl Into<String>) -> Self {
        ODataError {
            code: ErrorCode::BadRequest,
            message: message.into(),
        }
    }
    fn request_bad_request(message: impl Into<String>) -> Self {
        ODataError {
            code: ErrorCode::RequestBadRequest,
            message: message.into(),
        }
    }
    fn unsupported(message: impl Into<String>) -> Self {
        ODataError {
            code: ErrorCode::UnsupportedQuery,
            message: message.into(),
        }
    }
    pub fn http_status(&self) -> u16 {
        400
    }
}

/// A `$filter`-able property and the operators Graph accepts on it without advanced queries.
#[derive(Debug, Clone, Copy)]
pub struct FilterRule {
    pub property: &'static str,
    pub eq: bool,
    pub starts_with: bool,
    /// `ge` and `le` (string order, case-insensitive).
    pub range: bool,
}

/// The name a lambda over a string collection gives its element (`c` in `tags/any(c:c eq 'x')`).
pub const ELEMENT: &str = "$this";

impl FilterRule {
    /// `property eq '…'` only.
    pub const fn eq(property: &'static str) -> FilterRule {
        FilterRule {
            property,
            eq: true,
            starts_with: false,
            range: false,
        }
    }

    /// `property eq '…'` and `startswith(property, '…')`.
    pub const fn eq_or_starts_with(property: &'static str) -> FilterRule {
        FilterRule {
            property,
            eq: true,
            starts_with: true,
            range: false,
        }
    }
}

/// The element of a string collection: Graph's default queries on `identifierUris`,
/// `servicePrincipalNames`, `alternativeNames` and `tags` are `eq`, `not`, `ge`, `le` and
/// `startsWith` inside `any` (learn.microsoft.com/graph/aad-advanced-queries).
const STRING_ELEMENT: &[FilterRule] = &[FilterRule {
    property: ELEMENT,
    eq: true,
    starts_with: true,
    range: true,
}];

/// A string collection reachable with `collection/any(c: c eq '…')` as a default query.
const fn string_collection(collection: &'static str) -> LambdaRule {
    LambdaRule {
        collection,
        element_type: "Edm.String",
        properties: STRING_ELEMENT,
        advanced: false,
    }
}

/// A collection that `$filter` can reach with a lambda (`collection/any(x: x/prop eq '…')`).
#[derive(Debug, Clone, Copy)]
pub struct LambdaRule {
    pub collection: &'static str,
    pub element_type: &'static str,
    pub properties: &'static [FilterRule],
    /// Whether `any` over it needs `ConsistencyLevel: eventual` and `$count=true`.
    pub advanced: bool,
}

impl LambdaRule {
    /// Whether the elements are strings (the lambda variable is the element itself).
    fn over_strings(&self) -> bool {
        self.properties.iter().any(|r| r.property == ELEMENT)
    }
}

/// What Graph allows on one entity set.
#[derive(Debug)]
pub struct EntitySchema {
    /// `microsoft.graph.application`
    pub type_name: &'static str,
    /// `Application`, as Graph names the resource in filter errors.
    pub resource_name: &'static str,
    /// Every property the sandbox serializes, canonical camelCase. `$select` picks among these.
    pub properties: &'static [&'static str],
    pub filters: &'static [FilterRule],
    /// Collections `$filter` reaches with `any` (FICs: advanced only; string collections:
    /// default queries).
    pub lambdas: &'static [LambdaRule],
    pub searchable: &'static [&'static str],
    pub orderable: &'static [&'static str],
    pub expandable: &'static [&'static str],
}

impl EntitySchema {
    fn property(&self, name: &str) -> Option<&'static str> {
        self.properties
            .iter()
            .copied()
            .find(|p| p.eq_ignore_ascii_case(name))
    }
    fn navigation(&self, name: &str) -> Option<&'static str> {
        self.expandable
            .iter()
            .chain(self.lambdas.iter().map(|l| &l.collection))
            .copied()
            .find(|p| p.eq_ignore_ascii_case(name))
    }
    fn not_found(&self, name: &str) -> String {
        format!(
            "Could not find a property named '{name}' on type '{}'.",
            self.type_name
        )
    }
    fn unsupported_clause(&self, property: &str) -> ODataError {
        ODataError::unsupported(format!(
            "Unsupported or invalid query filter clause specified for property '{property}' of resource '{}'.",
            self.resource_name
        ))
    }
}

const FIC_FILTERS: &[FilterRule] = &[
    FilterRule::eq_or_starts_with("name"),
    FilterRule::eq_or_starts_with("subject"),
    FilterRule::eq_or_starts_with("issuer"),
];

pub static APPLICATION: EntitySchema = EntitySchema {
    type_name: "microsoft.graph.application",
    resource_name: "Application",
    properties: &[
        "id",
        "deletedDateTime",
        "appId",
        "applicationTemplateId",
        "createdDateTime",
        "description",
        "disabledByMicrosoftStatus",
        "displayName",
        "groupMembershipClaims",
        "identifierUris",
        "isDeviceOnlyAuthSupported",
        "isFallbackPublicClient",
        "notes",
        "publisherDomain",
        "serviceManagementReference",
        "signInAudience",
        "tags",
        "tokenEncryptionKeyId",
        "api",
        "appRoles",
        "info",
        "keyCredentials",
        "optionalClaims",
        "parentalControlSettings",
        "passwordCredentials",
        "publicClient",
        "requiredResourceAccess",
        "verifiedPublisher",
        "web",
        "spa",
    ],
    filters: &[
        FilterRule::eq("id"),
        // `startswith(appId, …)` is not a documented filter on applications.
        FilterRule::eq("appId"),
        FilterRule::eq_or_starts_with("displayName"),
        FilterRule::eq_or_starts_with("publisherDomain"),
        FilterRule::eq("signInAudience"),
    ],
    lambdas: &[
        LambdaRule {
            collection: "federatedIdentityCredentials",
            element_type: "microsoft.graph.federatedIdentityCredential",
            properties: FIC_FILTERS,
            advanced: true,
        },
        string_collection("identifierUris"),
        string_collection("tags"),
    ],
    searchable: &["displayName", "description"],
    orderable: &["displayName"],
    expandable: &["federatedIdentityCredentials"],
};

pub static SERVICE_PRINCIPAL: EntitySchema = EntitySchema {
    type_name: "microsoft.graph.servicePrincipal",
    resource_name: "ServicePrincipal",
    properties: &[
        "id",
        "deletedDateTime",
        "accountEnabled",
        "alternativeNames",
        "appDisplayName",
        "appDescription",
        "appId",
        "applicationTemplateId",
        "appOwnerOrganizationId",
        "appRoleAssignmentRequired",
        "description",
        "disabledByMicrosoftStatus",
        "displayName",
        "homepage",
        "loginUrl",
        "logoutUrl",
        "notes",
        "notificationEmailAddresses",
        "preferredSingleSignOnMode",
        "preferredTokenSigningKeyThumbprint",
        "replyUrls",
        "servicePrincipalNames",
        "servicePrincipalType",
        "signInAudience",
        "tags",
        "tokenEncryptionKeyId",
        "info",
        "samlSingleSignOnSettings",
        "verifiedPublisher",
        "addIns",
        "appRoles",
        "keyCredentials",
        "oauth2PermissionScopes",
        "passwordCredentials",
        "resourceSpecificApplicationPermissions",
    ],
    filters: &[
        FilterRule::eq("id"),
        FilterRule::eq("appId"),
        FilterRule::eq_or_starts_with("displayName"),
        FilterRule::eq("servicePrincipalType"),
        FilterRule::eq("appOwnerOrganizationId"),
    ],
    lambdas: &[
        string_collection("servicePrincipalNames"),
        string_collection("alternativeNames"),
        string_collection("tags"),
    ],
    searchable: &["displayName", "description"],
    orderable: &["displayName"],
    expandable: &[],
};

pub static FEDERATED_IDENTITY_CREDENTIAL: EntitySchema = EntitySchema {
    type_name: "microsoft.graph.federatedIdentityCredential",
    resource_name: "FederatedIdentityCredential",
    properties: &[
        "id",
        "name",
        "issuer",
        "subject",
        "description",
        "audiences",
    ],
    filters: FIC_FILTERS,
    lambdas: &[],
    searchable: &[],
    orderable: &[],
    expandable: &[],
};

/// A parsed, validated set of query options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// `None`: every property. Canonical names, in the order the client asked.
    pub select: Option<Vec<&'static str>>,
    pub top: Option<usize>,
    pub skiptoken: Option<Cursor>,
    pub filter: Option<Filter>,
    pub search: Option<Search>,
    /// `$count=true` that takes effect (Graph silently ignores it without `ConsistencyLevel`).
    pub count: bool,
    pub orderby: Option<OrderBy>,
    pub expand: Vec<&'static str>,
}

impl Query {
    /// The page size to serve (capped at 100 with `$expand`, as Graph does).
    pub fn page_size(&self) -> usize {
        crate::listing::capped_page_size(self.top.unwrap_or(DEFAULT_TOP), !self.expand.is_empty())
    }

    /// Whether `property` goes into the response.
    pub fn selects(&self, property: &str) -> bool {
        match &self.select {
            None => true,
            Some(list) => list.contains(&property),
        }
    }

    pub fn expands(&self, navigation: &str) -> bool {
        self.expand.contains(&navigation)
    }

    /// What follows `$metadata#applications` in `@odata.context`: `(displayName,id)` with a
    /// `$select`, nothing otherwise.
    pub fn context_select_suffix(&self) -> String {
        match &self.select {
            Some(list) if !list.is_empty() => format!("({})", list.join(",")),
            _ => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub property: &'static str,
    pub direction: Direction,
}

/// A `$filter` expression. String literals are stored lower-cased: every comparison is
/// case-insensitive, as in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Eq {
        property: &'static str,
        value: String,
    },
    StartsWith {
        property: &'static str,
        prefix: String,
    },
    /// `property in ('a', 'b')` (values lower-cased).
    In {
        property: &'static str,
        values: Vec<String>,
    },
    /// `property ne '…'`: advanced queries only.
    Ne {
        property: &'static str,
        value: String,
    },
    /// `property ge '…'` (inside `any` over strings).
    Ge {
        property: &'static str,
        value: String,
    },
    /// `property le '…'` (inside `any` over strings).
    Le {
        property: &'static str,
        value: String,
    },
    /// `not …`: advanced queries only, except around `any` over a string collection.
    Not(Box<Filter>),
    /// `collection/$count eq N` (`equal`) or `ne N`, N 0 or 1: advanced queries only (Graph's
    /// "getting empty collections": `/$count eq 0`, `ne 0`, `eq 1`, `ne 1`).
    CountIs {
        collection: &'static str,
        equal: bool,
        count: usize,
    },
    /// `collection/any(x: predicate)`; properties in `predicate` are the element's, or
    /// [`ELEMENT`] for a string collection.
    Any {
        collection: &'static str,
        predicate: Box<Filter>,
        /// Needs the advanced-query parameters (FICs), or not (string collections).
        advanced: bool,
    },
}

/// One string of a string collection, as a lambda's predicate sees it.
pub struct StringElement<'a>(pub &'a str);

impl Record for StringElement<'_> {
    fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
        property == ELEMENT && test(self.0)
    }
}

/// Whether any string of `values` satisfies `predicate`: [`Record::any_in`] for string
/// collections.
pub fn any_string<'v>(
    values: impl IntoIterator<Item = &'v str>,
    predicate: &mut dyn FnMut(&dyn Record) -> bool,
) -> bool {
    values
        .into_iter()
        .any(|value| predicate(&StringElement(value)))
}

/// Something a filter or search can look at: an application, a service principal, a FIC.
pub trait Record {
    /// Runs `test` on a string property (canonical name); false when it is null or absent.
    /// A callback rather than a returned `&str` so GUIDs can be formatted on the stack.
    fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool;
    /// Whether any element of `collection` satisfies `predicate`.
    fn any_in(&self, collection: &str, predicate: &mut dyn FnMut(&dyn Record) -> bool) -> bool {
        let _ = (collection, predicate);
        false
    }
    /// How many elements `collection` holds (`collection/$count`); 0 when there is none.
    fn count_in(&self, collection: &str) -> usize {
        let _ = collection;
        0
    }
}

impl Filter {
    pub fn matches(&self, record: &dyn Record) -> bool {
        match self {
            Filter::And(a, b) => a.matches(record) && b.matches(record),
            Filter::Or(a, b) => a.matches(record) || b.matches(record),
            Filter::Eq { property, value } => {
                record.test_property(property, &mut |v| eq_ignore_case(v, value))
            }
            Filter::StartsWith { property, prefix } => {
                record.test_property(property, &mut |v| starts_with_ignore_case(v, prefix))
            }
            Filter::In { property, values } => record.test_property(property, &mut |v| {
                values.iter().any(|value| eq_ignore_case(v, value))
            }),
            Filter::Ne { property, value } => {
                !record.test_property(property, &mut |v| eq_ignore_case(v, value))
            }
            Filter::Ge { property, value } => {
                record.test_property(property, &mut |v| compare_ignore_case(v, value).is_ge())
            }
            Filter::Le { property, value } => {
                record.test_property(property, &mut |v| compare_ignore_case(v, value).is_le())
            }
            Filter::Not(inner) => !inner.matches(record),
            Filter::CountIs {
                collection,
                equal,
                count,
            } => (record.count_in(collection) == *count) == *equal,
            Filter::Any {
                collection,
                predicate,
                ..
            } => record.any_in(collection, &mut |element| predicate.matches(element)),
        }
    }

    /// If the filter pins `property` to one value (`property eq 'x'`, possibly `and`-ed with
    /// more), that value (lower-cased): lets the caller use an index instead of a scan.
    pub fn pinned(&self, property: &str) -> Option<&str> {
        match self {
            Filter::Eq { property: p, value } if *p == property => Some(value),
            Filter::And(a, b) => a.pinned(property).or_else(|| b.pinned(property)),
            _ => None,
        }
    }

    /// The `displayName` range (`ge` low, `le` high, lower-cased, `None` open) every match of
    /// the filter lies in, when the filter is a conjunction with such comparisons at its top:
    /// a name index can then narrow the candidates (the filter still decides).
    pub fn display_name_range(&self) -> Option<(Option<&str>, Option<&str>)> {
        match self {
            Filter::Ge { property, value } if *property == "displayName" => {
                Some((Some(value.as_str()), None))
            }
            Filter::Le { property, value } if *property == "displayName" => {
                Some((None, Some(value.as_str())))
            }
            Filter::And(a, b) => match (a.display_name_range(), b.display_name_range()) {
                (Some((low_a, high_a)), Some((low_b, high_b))) => Some((
                    // Both hold: the higher low, the lower high.
                    low_a.max(low_b),
                    match (high_a, high_b) {
                        (Some(x), Some(y)) => Some(x.min(y)),
                        (x, y) => x.or(y),
                    },
                )),
                (one, other) => one.or(other),
            },
            _ => None,
        }
    }

    /// Whether the filter has an `any` that only advanced queries serve (over FICs).
    fn uses_advanced_lambda(&self) -> bool {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.uses_advanced_lambda() || b.uses_advanced_lambda()
            }
            Filter::Not(inner) => inner.uses_advanced_lambda(),
            Filter::Any { advanced, .. } => *advanced,
            Filter::CountIs { .. } => false,
            Filter::Eq { .. }
            | Filter::Ne { .. }
            | Filter::Ge { .. }
            | Filter::Le { .. }
            | Filter::StartsWith { .. }
            | Filter::In { .. } => false,
        }
    }

    /// The first `ne` (its property; a lambda's collection) or `not` (`None` inside) of the
    /// filter: advanced only. `not` around `any` over a string collection is a default query.
    fn negation(&self) -> Option<Option<&'static str>> {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => a.negation().or_else(|| b.negation()),
            Filter::Not(inner) => match inner.as_ref() {
                Filter::Any {
                    advanced: false, ..
                } => inner.negation(),
                _ => Some(None),
            },
            Filter::Ne { property, .. } => Some(Some(property)),
            Filter::Any {
                collection,
                predicate,
                ..
            } => predicate.negation().map(|inner| inner.map(|_| *collection)),
            Filter::Eq { .. }
            | Filter::Ge { .. }
            | Filter::Le { .. }
            | Filter::StartsWith { .. }
            | Filter::CountIs { .. }
            | Filter::In { .. } => None,
        }
    }

    /// Whether `displayName eq '…'` compares with a value longer than `max` characters.
    fn long_display_name(&self, max: usize) -> bool {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.long_display_name(max) || b.long_display_name(max)
            }
            Filter::Not(inner) => inner.long_display_name(max),
            Filter::Ne { .. } | Filter::Ge { .. } | Filter::Le { .. } => false,
            Filter::Eq { property, value } => {
                *property == "displayName" && value.chars().count() > max
            }
            Filter::In { property, values } => {
                *property == "displayName" && values.iter().any(|v| v.chars().count() > max)
            }
            Filter::StartsWith { .. } | Filter::Any { .. } | Filter::CountIs { .. } => false,
        }
    }

    /// The collection of the first `collection/$count` comparison: advanced only.
    fn counted_collection(&self) -> Option<&'static str> {
        match self {
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.counted_collection().or_else(|| b.counted_collection())
            }
            Filter::Not(inner) => inner.counted_collection(),
            Filter::CountIs { collection, .. } => Some(collection),
            Filter::Any { .. }
            | Filter::Eq { .. }
            | Filter::Ne { .. }
            | Filter::Ge { .. }
            | Filter::Le { .. }
            | Filter::StartsWith { .. }
            | Filter::In { .. } => None,
        }
    }
}

/// `a` compared with `b` ignoring case; `b` is already lower-case.
pub fn compare_ignore_case(a: &str, lower_b: &str) -> std::cmp::Ordering {
    // ASCII byte by byte (the same order as chars for ASCII): a listing partitioned into
    // ranges compares every name it scans, and names are mostly ASCII.
    if a.is_ascii() && lower_b.is_ascii() {
        return a
            .bytes()
            .map(|b| b.to_ascii_lowercase())
            .cmp(lower_b.bytes());
    }
    a.chars().flat_map(char::to_lowercase).cmp(lower_b.chars())
}

/// `a` equals `b` ignoring case; `b` is already lower-case.
pub fn eq_ignore_case(a: &str, lower_b: &str) -> bool {
    if a.is_ascii() && lower_b.is_ascii() {
        return a.eq_ignore_ascii_case(lower_b);
    }
    a.chars().flat_map(char::to_lowercase).eq(lower_b.chars())
}

/// `a` starts with `b` ignoring case; `b` is already lower-case.
pub fn starts_with_ignore_case(a: &str, lower_b: &str) -> bool {
    if a.is_ascii() && lower_b.is_ascii() {
        return a.len() >= lower_b.len()
            && a.as_bytes()[..lower_b.len()].eq_ignore_ascii_case(lower_b.as_bytes());
    }
    let mut a = a.chars().flat_map(char::to_lowercase);
    lower_b.chars().all(|c| a.next() == Some(c))
}

/// `$search="displayName:web" OR "description:sync"`: clauses joined by one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub clauses: Vec<SearchClause>,
    pub any: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchClause {
    pub property: &'static str,
    /// Lower-cased words of the term; each must start some word of the property value.
    pub words: Vec<String>,
}

impl Search {
    pub fn matches(&self, record: &dyn Record) -> bool {
        let clause_matches = |clause: &SearchClause| {
            record.test_property(clause.property, &mut |value| {
                let tokens = tokenize(value);
                clause
                    .words
                    .iter()
                    .all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())))
            })
        };
        if self.any {
            self.clauses.iter().any(clause_matches)
        } else {
            self.clauses.iter().all(clause_matches)
        }
    }
}

/// Splits a value into lower-cased words the way the directory's search index does: at
/// anything not alphanumeric, at lower→upper case changes and at letter↔digit changes
/// (`PaymentsAPI-v2` → `payments`, `api`, `v`, `2`).
pub fn tokenize(value: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut previous: Option<char> = None;
    for c in value.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            previous = None;
            continue;
        }
        if let Some(p) = previous {
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_alphabetic() && c.is_numeric())
                || (p.is_numeric() && c.is_alphabetic());
            if boundary && !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
        previous = Some(c);
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Where a page ends: the sort key and id of its last item. The next page starts after it, so
/// paging stays correct while objects are created or deleted between pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Lower-cased sort value (`displayName` under `$orderby`), `None` in id order.
    pub after_key: Option<String>,
    pub after_id: String,
}

const CURSOR_PREFIX: &str = "ficus1";

/// The error for a `$skiptoken` that is not one this sandbox issued for this query.
pub fn invalid_skiptoken() -> ODataError {
    ODataError::request_bad_request(
        "The $skiptoken value is invalid or belongs to another query. Follow the @odata.nextLink URL exactly as returned, or restart the query without $skiptoken.",
    )
}

impl Cursor {
    /// The opaque `$skiptoken` value.
    pub fn encode(&self) -> String {
        let raw = match &self.after_key {
            Some(key) => format!("{CURSOR_PREFIX}\u{1f}{}\u{1f}{key}", self.after_id),
            None => format!("{CURSOR_PREFIX}\u{1f}{}", self.after_id),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(token: &str) -> Result<Cursor, ODataError> {
        let invalid = invalid_skiptoken;
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| invalid())?;
        let raw = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = raw.splitn(3, '\u{1f}');
        if parts.next() != Some(CURSOR_PREFIX) {
            return Err(invalid());
        }
        let after_id = parts
            .next()
            .filter(|id| !id.is_empty())
            .ok_or_else(invalid)?;
        Ok(Cursor {
            after_id: after_id.to_string(),
            after_key: parts.next().map(str::to_string),
        })
    }
}

/// Parses the raw (still percent-encoded) query string of a request against `schema`.
/// `consistency_eventual` is whether the request carried `ConsistencyLevel: eventual`.
pub fn parse(
    raw_query: Option<&str>,
    consistency_eventual: bool,
    schema: &'static EntitySchema,
) -> Result<Query, ODataError> {
    let options = collect_options(raw_query.unwrap_or(""))?;
    let mut query = Query::default();
    let mut count_requested = false;

    for (name, value) in &options {
        match name.as_str() {
            "$select" => query.select = Some(parse_select(value, schema)?),
            "$top" => query.top = Some(parse_top(value)?),
            "$skiptoken" => query.skiptoken = Some(Cursor::decode(value)?),
            "$filter" => query.filter = Some(parse_filter(value, schema)?),
            "$search" => query.search = Some(parse_search(value, schema)?),
            "$count" => count_requested = parse_count(value)?,
            "$orderby" => query.orderby = Some(parse_orderby(value, schema)?),
            "$expand" => query.expand = parse_expand(value, schema)?,
            other => {
                return Err(ODataError::bad_request(format!(
                    "Query option '{other}' is not supported by this service."
                )));
            }
        }
    }

    // Advanced-query rules, in the order Graph appears to check them.
    if query.search.is_some() && !consistency_eventual {
        return Err(ODataError::unsupported(
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ));
    }
    if let Some(filter) = &query.filter
        && filter.uses_advanced_lambda()
        && !(consistency_eventual && count_requested)
    {
        return Err(ODataError::unsupported(format!(
            "Operator 'any' is not supported because the required parameters might be missing. {ADVANCED_QUERIES_HINT}"
        )));
    }
    let advanced = consistency_eventual && count_requested;
    if let Some(collection) = query.filter.as_ref().and_then(Filter::counted_collection)
        && !advanced
    {
        return Err(ODataError::unsupported(format!(
            "Unsupported or invalid query filter clause specified for property '{collection}/$count' of resource '{}': counting a collection needs advanced queries. {ADVANCED_QUERIES_HINT}",
            schema.resource_name
        )));
    }
    match query.filter.as_ref().and_then(Filter::negation) {
        Some(_) if advanced => {}
        Some(Some(property)) => return Err(schema.unsupported_clause(property)),
        Some(None) => {
            return Err(ODataError::unsupported(format!(
                "Operator 'not' is not supported because the required parameters might be missing. {ADVANCED_QUERIES_HINT}"
            )));
        }
        None => {}
    }
    // Longer `displayName eq` values need the advanced-query index (Graph's advanced query
    // table: "eq on displayName with values over 120 characters"). Wording: closest seen.
    if let Some(filter) = &query.filter
        && filter.long_display_name(MAX_DEFAULT_DISPLAY_NAME_EQ)
        && !advanced
    {
        return Err(ODataError::unsupported(format!(
            "Unsupported or invalid query filter clause specified for property 'displayName' of resource '{}': values over {MAX_DEFAULT_DISPLAY_NAME_EQ} characters need advanced queries. {ADVANCED_QUERIES_HINT}",
            schema.resource_name
        )));
    }
    // `$expand` is not supported with advanced queries (learn.microsoft.com/graph/aad-advanced-queries).
    if !query.expand.is_empty() && consistency_eventual {
        return Err(ODataError::unsupported(
            "$expand is not supported with advanced queries (ConsistencyLevel: eventual). Drop the header, or fetch the related objects separately.",
        ));
    }
    if query.orderby.is_some() {
        let needs_count = query.filter.is_some();
        if !consistency_eventual || (needs_count && !count_requested) {
            return Err(ODataError::unsupported(
                "Sorting not supported for current query.",
            ));
        }
    }
    // `?$count=true` without the header is silently ignored, as Graph does.
    query.count = count_requested && consistency_eventual;
    Ok(query)
}

/// The longest `displayName eq` value Graph serves without advanced queries.
pub const MAX_DEFAULT_DISPLAY_NAME_EQ: usize = 120;

/// Validates the options of a `/$count` request: only `$filter` and `$search` make sense, and
/// the header is required (Graph: `$count is not currently supported.`).
pub fn parse_count_request(
    raw_query: Option<&str>,
    consistency_eventual: bool,
    schema: &'static EntitySchema,
) -> Result<Query, ODataError> {
    if !consistency_eventual {
        return Err(ODataError::request_bad_request(
            "$count is not currently supported.",
        ));
    }
    let mut query = parse(raw_query, true, schema)?;
    // The lambda rule wants `$count=true`; the `/$count` segment is the count itself.
    query.count = true;
    Ok(query)
}

const KNOWN_OPTIONS: &[&str] = &[
    "$select",
    "$top",
    "$skiptoken",
    "$filter",
    "$search",
    "$count",
    "$orderby",
    "$expand",
];

/// Decodes `a=b&c=d`, keeping only `$`-options (Graph ignores other parameters), lower-casing
/// their names, refusing duplicates and unsupported options.
fn collect_options(raw: &str) -> Result<Vec<(String, String)>, ODataError> {
    let mut options: Vec<(String, String)> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let name = name.trim();
        if !name.starts_with('$') {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower == "$skip" {
            return Err(ODataError::request_bad_request(
                "'$skip' is not supported by the service. Page through results with the @odata.nextLink URL instead.",
            ));
        }
        if !KNOWN_OPTIONS.contains(&lower.as_str()) {
            return Err(ODataError::bad_request(format!(
                "Query option '{name}' is not supported by this service. Supported here: {}.",
                KNOWN_OPTIONS.join(", ")
            )));
        }
        if options.iter().any(|(n, _)| *n == lower) {
            return Err(ODataError::bad_request(format!(
                "Query option '{lower}' was specified more than once, but it must be specified at most once."
            )));
        }
        if value.len() > MAX_OPTION_LEN {
            return Err(ODataError::bad_request(format!(
                "The value of query option '{lower}' is {} characters long; shorten the query (at most {MAX_OPTION_LEN}).",
                value.len()
            )));
        }
        options.push((lower, value.into_owned()));
    }
    Ok(options)
}

fn parse_top(value: &str) -> Result<usize, ODataError> {
    let trimmed = value.trim();
    let n: u64 = trimmed.parse().map_err(|_| {
        ODataError::bad_request(format!(
            "Invalid value '{value}' for $top query option found. The $top query option requires a non-negative integer value."
        ))
    })?;
    if n == 0 || n > MAX_TOP as u64 {
        return Err(ODataError::unsupported(format!(
            "Invalid page size specified: '{trimmed}'. Must be between 1 and {MAX_TOP} inclusive."
        )));
    }
    Ok(n as usize)
}

fn parse_count(value: &str) -> Result<bool, ODataError> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => Ok(true),
        v if v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ODataError::bad_request(format!(
            "Invalid value '{value}' for $count query option found. The $count query option requires a boolean value (true or false)."
        ))),
    }
}

fn parse_select(value: &str, schema: &EntitySchema) -> Result<Vec<&'static str>, ODataError> {
    let mut selected = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(ODataError::bad_request(format!(
                "Parsing OData Select and Expand failed: the $select list '{value}' has an empty item; list property names separated by commas."
            )));
        }
        if item == "*" {
            return Ok(schema.properties.to_vec());
        }
        let canonical = schema
            .property(item)
            .or_else(|| schema.navigation(item))
            .ok_or_else(|| {
                ODataError::bad_request(format!(
                    "Parsing OData Select and Expand failed: {}",
                    schema.not_found(item)
                ))
            })?;
        if !selected.contains(&canonical) {
            selected.push(canonical);
        }
    }
    Ok(selected)
}

fn parse_expand(value: &str, schema: &EntitySchema) -> Result<Vec<&'static str>, ODataError> {
    let mut expanded = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.contains('(') {
            return Err(ODataError::bad_request(format!(
                "Parsing OData Select and Expand failed: nested query options in $expand ('{item}') are not supported by the sandbox; expand the navigation property alone."
            )));
        }
        let canonical = schema
            .expandable
            .iter()
            .copied()
            .find(|p| p.eq_ignore_ascii_case(item))
            .ok_or_else(|| {
                ODataError::bad_request(format!(
                    "Parsing OData Select and Expand failed: {}",
                    schema.not_found(item)
                ))
            })?;
        if !expanded.contains(&canonical) {
            expanded.push(canonical);
        }
    }
    Ok(expanded)
}

fn parse_orderby(value: &str, schema: &EntitySchema) -> Result<OrderBy, ODataError> {
    if value.contains(',') {
        return Err(ODataError::unsupported(
            "Sorting not supported for current query.",
        ));
    }
    let mut words = value.split_whitespace();
    let property = words.next().ok_or_else(|| {
        ODataError::bad_request(
            "The $orderby option is empty; give a property name, e.g. $orderby=displayName.",
        )
    })?;
    let direction = match words.next() {
        None => Direction::Ascending,
        Some(d) if d.eq_ignore_ascii_case("asc") => Direction::Ascending,
        Some(d) if d.eq_ignore_ascii_case("desc") => Direction::Descending,
        Some(other) => {
            return Err(ODataError::bad_request(format!(
                "Syntax error at position {} in '{value}': expected 'asc' or 'desc' after the property, found '{other}'.",
                property.len() + 1
            )));
        }
    };
    if let Some(extra) = words.next() {
        return Err(ODataError::bad_request(format!(
            "Syntax error in '{value}': unexpected '{extra}' after the sort direction."
        )));
    }
    let canonical = schema.property(property).ok_or_else(|| {
        ODataError::bad_request(format!(
            "Invalid $orderby clause: {}",
            schema.not_found(property)
        ))
    })?;
    if !schema.orderable.contains(&canonical) {
        return Err(ODataError::unsupported(
            "Sorting not supported for current query.",
        ));
    }
    Ok(OrderBy {
        property: canonical,
        direction,
    })
}

fn parse_search(value: &str, schema: &EntitySchema) -> Result<Search, ODataError> {
    let syntax = |detail: &str| {
        ODataError::bad_request(format!(
            "Syntax error: {detail} in $search '{value}'. Write it as \"property:term\" in double quotes, e.g. $search=\"displayName:web\"."
        ))
    };
    let mut clauses = Vec::new();
    let mut operator: Option<bool> = None;
    let mut rest = value.trim();
    loop {
        let Some(after_quote) = rest.strip_prefix('"') else {
            return Err(syntax("expected a double-quoted clause"));
        };
        let Some(end) = after_quote.find('"') else {
            return Err(syntax("unterminated double quote"));
        };
        let clause = &after_quote[..end];
        let Some((property, term)) = clause.split_once(':') else {
            return Err(syntax("a clause has no 'property:' prefix"));
        };
        let canonical = schema.property(property.trim()).ok_or_else(|| {
            ODataError::bad_request(format!(
                "Invalid $search clause: {}",
                schema.not_found(property.trim())
            ))
        })?;
        if !schema.searchable.contains(&canonical) {
            return Err(ODataError::unsupported(format!(
                "Search on property '{canonical}' is not supported. Searchable here: {}.",
                schema.searchable.join(", ")
            )));
        }
        let words = tokenize(term);
        if words.is_empty() {
            return Err(syntax("a clause has an empty term"));
        }
        clauses.push(SearchClause {
            property: canonical,
            words,
        });
        rest = after_quote[end + 1..].trim_start();
        if rest.is_empty() {
            break;
        }
        let (op, tail) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| syntax("expected AND or OR between clauses"))?;
        let is_or = if op.eq_ignore_ascii_case("or") {
            true
        } else if op.eq_ignore_ascii_case("and") {
            false
        } else {
            return Err(syntax("expected AND or OR between clauses"));
        };
        if operator.is_some_and(|o| o != is_or) {
            return Err(ODataError::unsupported(
                "Mixing AND and OR in one $search is not supported by the sandbox; use one operator.",
            ));
        }
        operator = Some(is_or);
        rest = tail.trim_start();
    }
    Ok(Search {
        clauses,
        any: operator.unwrap_or(false),
    })
}

// ---------------------------------------------------------------------------------------------
// $filter

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    /// A literal that is not a string (number, GUID without quotes, true, null, …).
    Other(String),
    Open,
    Close,
    Comma,
    Colon,
    Slash,
}

struct Lexed {
    token: Token,
    position: usize,
}

fn lex(input: &str) -> Result<Vec<Lexed>, ODataError> {
    let syntax = |position: usize| {
        ODataError::bad_request(format!(
            "Invalid filter clause: Syntax error at position {position} in '{input}'."
        ))
    };
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(position, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | ':' | '/' => {
                chars.next();
                let token = match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    ':' => Token::Colon,
                    _ => Token::Slash,
                };
                tokens.push(Lexed { token, position });
            }
            '\'' => {
                chars.next();
                let mut value = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    if c == '\'' {
                        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                            chars.next();
                            value.push('\'');
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        value.push(c);
                    }
                }
                if !closed {
                    return Err(ODataError::bad_request(format!(
                        "Invalid filter clause: There is an unterminated string literal at position {position} in '{input}'. Close it with ', and write a quote inside it as ''."
                    )));
                }
                tokens.push(Lexed {
                    token: Token::Str(value),
                    position,
                });
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' || c == '-' || c == '.' => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '$' || c == '-' || c == '.' {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let starts_like_ident = word
                    .chars()
                    .next()
                    .is_some_and(|f| f.is_alphabetic() || f == '_' || f == '$');
                let is_keyword_literal = ["true", "false", "null"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k));
                let token = if starts_like_ident && !is_keyword_literal && !looks_like_guid(&word) {
                    Token::Ident(word)
                } else {
                    Token::Other(word)
                };
                tokens.push(Lexed { token, position });
            }
            _ => return Err(syntax(position)),
        }
    }
    Ok(tokens)
}

fn looks_like_guid(word: &str) -> bool {
    word.len() == 36 && word.chars().filter(|&c| c == '-').count() == 4
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Lexed>,
    next: usize,
    schema: &'static EntitySchema,
    depth: usize,
}

/// Inside a lambda: its variable name and the element type's rules.
#[derive(Clone, Copy)]
struct Scope<'s> {
    variable: &'s str,
    lambda: &'static LambdaRule,
}

fn parse_filter(value: &str, schema: &'static EntitySchema) -> Result<Filter, ODataError> {
    if value.trim().is_empty() {
        return Err(ODataError::bad_request(
            "Invalid filter clause: the $filter expression is empty; remove $filter or give a condition such as displayName eq 'name'.",
        ));
    }
    let tokens = lex(value)?;
    let mut parser = Parser {
        input: value,
        tokens,
        next: 0,
        schema,
        depth: 0,
    };
    let filter = parser.or_expr(None)?;
    if parser.next < parser.tokens.len() {
        return Err(parser.syntax_here());
    }
    Ok(filter)
}

impl Parser<'_> {
    fn syntax_at(&self, position: usize) -> ODataError {
        ODataError::bad_request(format!(
            "Invalid filter clause: Syntax error at position {position} in '{}'.",
            self.input
        ))
    }

    fn syntax_here(&self) -> ODataError {
        let position = self
            .tokens
            .get(self.next)
            .map_or(self.input.len(), |t| t.position);
        self.syntax_at(position)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|t| &t.token)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.next + offset).map(|t| &t.token)
    }

    fn expect(&mut self, expected: Token) -> Result<(), ODataError> {
        if self.peek() == Some(&expected) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.syntax_here())
        }
    }

    /// The next token if it is an identifier, consumed.
    fn ident(&mut self) -> Result<String, ODataError> {
        match self.peek() {
            Some(Token::Ident(word)) => {
                let word = word.clone();
                self.next += 1;
                Ok(word)
            }
            _ => Err(self.syntax_here()),
        }
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn or_expr(&mut self, scope: Option<Scope<'_>>) -> Result<Filter, ODataError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(ODataError::bad_request(format!(
                "Invalid filter clause: the expression is nested more than {MAX_NESTING} levels deep; simplify it."
            )));
        }
        let mut left = self.and_expr(scope)?;
        while self.peek_keyword("or") {
            self.next += 1;
            let right = self.and_expr(scope)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self, scope: Option<Scope<'_>>) -> Result<Filter, ODataError> {
        let mut left = self.term(scope)?;
        while self.peek_keyword("and") {
            self.next += 1;
            let right = self.term(scope)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self, scope: Option<Scope<'_>>) -> Result<Filter, ODataError> {
        match (self.peek(), self.peek_at(1)) {
            (Some(Token::Open), _) => {
                self.next += 1;
                let inner = self.or_expr(scope)?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            (Some(Token::Ident(word)), _) if word.eq_ignore_ascii_case("not") => {
                // Advanced only: checked once the whole query is known.
                self.next += 1;
                Ok(Filter::Not(Box::new(self.term(scope)?)))
            }
            (Some(Token::Ident(_)), Some(Token::Open)) => self.function_call(scope),
            (Some(Token::Ident(_)), _) => self.comparison(scope),
            _ => Err(self.syntax_here()),
        }
    }

    /// `prop` or `var/prop` or `collection/any`: identifiers separated by `/`.
    fn path(&mut self) -> Result<Vec<String>, ODataError> {
        let mut segments = vec![self.ident()?];
        while self.peek() == Some(&Token::Slash) {
            self.next += 1;
            segments.push(self.ident()?);
        }
        Ok(segments)
    }

    /// Resolves a property path to its canonical name and rule, in or out of a lambda.
    fn resolve(
        &self,
        segments: &[String],
        scope: Option<Scope<'_>>,
    ) -> Result<(&'static str, FilterRule), ODataError> {
        let schema = self.schema;
        match (segments, scope) {
            ([variable], Some(scope))
                if variable == scope.variable && scope.lambda.over_strings() =>
            {
                let rule = scope.lambda.properties[0];
                Ok((rule.property, rule))
            }
            ([variable, property], Some(scope))
                if variable == scope.variable && !scope.lambda.over_strings() =>
            {
                let rule = scope
                    .lambda
                    .properties
                    .iter()
                    .find(|r| r.property.eq_ignore_ascii_case(property))
                    .ok_or_else(|| {
                        ODataError::bad_request(format!(
                            "Invalid filter clause: Could not find a property named '{property}' on type '{}'.",
                            scope.lambda.element_type
                        ))
                    })?;
                Ok((rule.property, *rule))
            }
            // Inside a lambda, a path must go through the lambda variable.
            (_, Some(scope)) => Err(schema.unsupported_clause(scope.lambda.collection)),
            ([property], None) => {
                let canonical = schema
                    .property(property)
                    .or_else(|| schema.navigation(property))
                    .ok_or_else(|| {
                        ODataError::bad_request(format!(
                            "Invalid filter clause: {}",
                            schema.not_found(property)
                        ))
                    })?;
                let rule = schema
                    .filters
                    .iter()
                    .find(|r| r.property == canonical)
                    .copied()
                    .ok_or_else(|| schema.unsupported_clause(canonical))?;
                Ok((canonical, rule))
            }
            (segments, None) => {
                let first = segments.first().map_or("", String::as_str);
                Err(match schema.navigation(first).or(schema.property(first)) {
                    Some(canonical) => schema.unsupported_clause(canonical),
                    None => ODataError::bad_request(format!(
                        "Invalid filter clause: {}",
                        schema.not_found(first)
                    )),
                })
            }
        }
    }

    fn comparison(&mut self, scope: Option<Scope<'_>>) -> Result<Filter, ODataError> {
        let segments = self.path()?;
        // `collection/any(...)`: a two-segment path followed by `(`.
        if self.peek() == Some(&Token::Open) && segments.len() == 2 {
            return self.lambda(&segments[0], &segments[1], scope);
        }
        let operator_error = self.syntax_here();
        let operator = self.ident().map_err(|_| operator_error.clone())?;
        let operator = operator.to_ascii_lowercase();
        if !["eq", "ne", "gt", "ge", "lt", "le", "in", "has"].contains(&operator.as_str()) {
            return Err(operator_error);
        }
        if let [collection, segment] = segments.as_slice()
            && segment.eq_ignore_ascii_case("$count")
        {
            return self.count_comparison(collection, &operator, scope);
        }
        let (property, rule) = self.resolve(&segments, scope)?;
        if operator == "in" && rule.eq {
            self.expect(Token::Open)?;
            let mut values = vec![self.literal(property, scope)?];
            while self.peek() == Some(&Token::Comma) {
                self.next += 1;
                values.push(self.literal(property, scope)?);
            }
            self.expect(Token::Close)?;
            return Ok(Filter::In { property, values });
        }
        let literal = self.literal(property, scope)?;
        match operator.as_str() {
            "eq" if rule.eq => Ok(Filter::Eq {
                property,
                value: literal,
            }),
            "ge" if rule.range => Ok(Filter::Ge {
                property,
                value: literal,
            }),
            "le" if rule.range => Ok(Filter::Le {
                property,
                value: literal,
            }),
            // Advanced only (checked once the whole query is known), and inside a lambda only
            // over strings.
            "ne" if rule.eq && scope.is_none_or(|s| s.lambda.over_strings()) => Ok(Filter::Ne {
                property,
                value: literal,
            }),
            // The ranges that partition a large listing (see `crate::listing`).
            "ge" if scope.is_none()
                && crate::listing::takes_range(self.schema.type_name, property) =>
            {
                Ok(Filter::Ge {
                    property,
                    value: literal,
                })
            }
            "le" if scope.is_none()
                && crate::listing::takes_range(self.schema.type_name, property) =>
            {
                Ok(Filter::Le {
                    property,
                    value: literal,
                })
            }
            _ => Err(self.unsupported_for(property, scope)),
        }
    }

    /// `collection/$count eq 0` (or `ne`, or 1): what Graph serves of counting a
    /// relationship (its "empty collections" rule); other numbers and operators are refused.
    fn count_comparison(
        &mut self,
        collection: &str,
        operator: &str,
        scope: Option<Scope<'_>>,
    ) -> Result<Filter, ODataError> {
        let schema = self.schema;
        let canonical = match (scope, schema.navigation(collection)) {
            (None, Some(canonical)) => canonical,
            (Some(scope), _) => return Err(schema.unsupported_clause(scope.lambda.collection)),
            (None, None) => {
                return Err(ODataError::bad_request(format!(
                    "Invalid filter clause: {}",
                    schema.not_found(collection)
                )));
            }
        };
        let count = match self.peek() {
            Some(Token::Other(n)) => n.parse::<usize>().ok(),
            _ => None,
        };
        let equal = match operator {
            "eq" => true,
            "ne" => false,
            _ => return Err(schema.unsupported_clause(canonical)),
        };
        match count {
            Some(count @ (0 | 1)) => {
                self.next += 1;
                Ok(Filter::CountIs {
                    collection: canonical,
                    equal,
                    count,
                })
            }
            Some(_) => Err(ODataError::unsupported(format!(
                "Unsupported or invalid query filter clause specified for property '{canonical}/$count' of resource '{}': only 'eq' and 'ne' with 0 or 1 are supported.",
                schema.resource_name
            ))),
            None => Err(self.syntax_here()),
        }
    }

    fn unsupported_for(&self, property: &str, scope: Option<Scope<'_>>) -> ODataError {
        match scope {
            Some(scope) => self.schema.unsupported_clause(scope.lambda.collection),
            None => self.schema.unsupported_clause(property),
        }
    }

    /// A string literal, lower-cased for case-insensitive comparison.
    fn literal(&mut self, property: &str, scope: Option<Scope<'_>>) -> Result<String, ODataError> {
        match self.peek() {
            Some(Token::Str(value)) => {
                let value = value.to_lowercase();
                self.next += 1;
                Ok(value)
            }
            // `appId eq 1234`, `displayName eq null`: valid OData, not what Graph serves on
            // these properties without advanced queries.
            Some(Token::Other(_)) | Some(Token::Ident(_)) => {
                Err(self.unsupported_for(property, scope))
            }
            _ => Err(self.syntax_here()),
        }
    }

    fn function_call(&mut self, scope: Option<Scope<'_>>) -> Result<Filter, ODataError> {
        let function = self.ident()?;
        self.expect(Token::Open)?;
        let lower = function.to_ascii_lowercase();
        if lower != "startswith" {
            let known = [
                "endswith",
                "contains",
                "substring",
                "tolower",
                "toupper",
                "length",
            ];
            return Err(if known.contains(&lower.as_str()) {
                ODataError::unsupported(format!(
                    "Operator '{function}' is not supported because the required parameters might be missing. {ADVANCED_QUERIES_HINT}"
                ))
            } else {
                ODataError::bad_request(format!(
                    "Invalid filter clause: An unknown function with name '{function}' was found."
                ))
            });
        }
        let segments = self.path()?;
        let (property, rule) = self.resolve(&segments, scope)?;
        self.expect(Token::Comma)?;
        let prefix = self.literal(property, scope)?;
        self.expect(Token::Close)?;
        if !rule.starts_with {
            return Err(self.unsupported_for(property, scope));
        }
        Ok(Filter::StartsWith { property, prefix })
    }

    fn lambda(
        &mut self,
        collection: &str,
        operator: &str,
        scope: Option<Scope<'_>>,
    ) -> Result<Filter, ODataError> {
        let schema = self.schema;
        if scope.is_some() {
            return Err(ODataError::unsupported(
                "Nested lambda operators are not supported.",
            ));
        }
        let Some(rule) = schema
            .lambdas
            .iter()
            .find(|l| l.collection.eq_ignore_ascii_case(collection))
        else {
            return Err(match schema.property(collection) {
                Some(canonical) => schema.unsupported_clause(canonical),
                None => ODataError::bad_request(format!(
                    "Invalid filter clause: {}",
                    schema.not_found(collection)
                )),
            });
        };
        if !operator.eq_ignore_ascii_case("any") {
            return Err(schema.unsupported_clause(rule.collection));
        }
        self.expect(Token::Open)?;
        let variable = self.ident()?;
        self.expect(Token::Colon)?;
        let body = self.or_expr(Some(Scope {
            variable: &variable,
            lambda: rule,
        }))?;
        self.expect(Token::Close)?;
        Ok(Filter::Any {
            collection: rule.collection,
            predicate: Box::new(body),
            advanced: rule.advanced,
        })
    }
}

/// Builds `@odata.nextLink`: `base` (scheme, host and path of the request, no query) plus the
/// request's own query with `$skiptoken` replaced.
pub fn next_link(base: &str, raw_query: Option<&str>, cursor: &Cursor) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes()) {
        if name.trim().eq_ignore_ascii_case("$skiptoken") {
            continue;
        }
        serializer.append_pair(&name, &value);
    }
    serializer.append_pair("$skiptoken", &cursor.encode());
    // Graph's links keep `$` and spaces readable; `%24` works too but is noisier.
    let query = serializer.finish().replace("%24", "$");
    format!("{base}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct App {
        id: &'static str,
        display_name: &'static str,
        app_id: &'static str,
        description: Option<&'static str>,
        fics: Vec<Fic>,
    }

    struct Fic {
        name: &'static str,
        subject: &'static str,
        issuer: &'static str,
    }

    impl Record for Fic {
        fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
            match property {
                "name" => test(self.name),
                "subject" => test(self.subject),
                "issuer" => test(self.issuer),
                _ => false,
            }
        }
    }

    impl Record for App {
        fn test_property(&self, property: &str, test: &mut dyn FnMut(&str) -> bool) -> bool {
            match property {
                "id" => test(self.id),
                "displayName" => test(self.display_name),
                "appId" => test(self.app_id),
                "description" => self.description.is_some_and(test),
                _ => false,
            }
        }
        fn any_in(&self, collection: &str, predicate: &mut dyn FnMut(&dyn Record) -> bool) -> bool {
            collection == "federatedIdentityCredentials"
                && self.fics.iter().any(|f| predicate(f as &dyn Record))
        }
        fn count_in(&self, collection: &str) -> usize {
            match collection {
                "federatedIdentityCredentials" => self.fics.len(),
                _ => 0,
            }
        }
    }

    fn payments() -> App {
        App {
            id: "11111111-1111-1111-1111-111111111111",
            display_name: "payments-api",
            app_id: "aaaaaaaa-0000-0000-0000-000000000001",
            description: Some("Takes the money"),
            fics: vec![Fic {
                name: "mi-id-payments",
                subject: "8097154c-0000-0000-0000-00000000beef",
                issuer: "https://login.microsoftonline.com/t/v2.0",
            }],
        }
    }

    fn other() -> App {
        App {
            id: "22222222-2222-2222-2222-222222222222",
            display_name: "O'Brien Reporting",
            app_id: "bbbbbbbb-0000-0000-0000-000000000002",
            description: None,
            fics: vec![],
        }
    }

    fn apps(q: &str) -> Result<Query, ODataError> {
        parse(Some(q), false, &APPLICATION)
    }

    fn apps_eventual(q: &str) -> Result<Query, ODataError> {
        parse(Some(q), true, &APPLICATION)
    }

    fn filter(q: &str) -> Filter {
        apps(&format!("$filter={}", encode(q)))
            .expect("filter parses")
            .filter
            .expect("filter present")
    }

    fn encode(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    fn err(result: Result<Query, ODataError>) -> ODataError {
        result.expect_err("query must be refused")
    }

    #[test]
    fn empty_query_is_default() {
        let q = parse(None, false, &APPLICATION).expect("parses");
        assert_eq!(q, Query::default());
        assert_eq!(q.page_size(), 100);
        assert!(q.selects("displayName"));
    }

    #[test]
    fn non_dollar_parameters_are_ignored() {
        let q = apps("api-version=1&foo=bar").expect("parses");
        assert_eq!(q, Query::default());
    }

    #[test]
    fn top_bounds() {
        assert_eq!(apps("$top=999").expect("ok").top, Some(999));
        assert_eq!(apps("$top=1").expect("ok").top, Some(1));
        let e = err(apps("$top=1000"));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert_eq!(
            e.message,
            "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
        );
        assert_eq!(err(apps("$top=0")).code, ErrorCode::UnsupportedQuery);
        let e = err(apps("$top=abc"));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("non-negative integer"), "{}", e.message);
        assert_eq!(err(apps("$top=-5")).code, ErrorCode::BadRequest);
        assert_eq!(
            err(apps("$top=99999999999999999999999")).code,
            ErrorCode::BadRequest
        );
    }

    #[test]
    fn option_names_are_case_insensitive_but_unique() {
        assert_eq!(apps("$TOP=5").expect("ok").top, Some(5));
        let e = err(apps("$top=5&$Top=6"));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("more than once"));
    }

    #[test]
    fn unknown_and_skip_options_are_refused() {
        let e = err(apps("$foo=1"));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("'$foo'"));
        let e = err(apps("$skip=10"));
        assert_eq!(e.code, ErrorCode::RequestBadRequest);
        assert!(e.message.contains("@odata.nextLink"));
    }

    #[test]
    fn select_canonicalizes_and_rejects_unknown() {
        let q = apps("$select=DisplayName,appid,id,displayName").expect("ok");
        assert_eq!(q.select, Some(vec!["displayName", "appId", "id"]));
        assert!(q.selects("appId"));
        assert!(!q.selects("description"));
        assert_eq!(q.context_select_suffix(), "(displayName,appId,id)");
        let e = err(apps("$select=displayName,nope"));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(
            e.message.contains(
                "Could not find a property named 'nope' on type 'microsoft.graph.application'."
            ),
            "{}",
            e.message
        );
        assert_eq!(
            err(apps("$select=displayName,,id")).code,
            ErrorCode::BadRequest
        );
        assert_eq!(err(apps("$select=")).code, ErrorCode::BadRequest);
        let all = apps("$select=*").expect("ok");
        assert!(all.selects("web"));
    }

    #[test]
    fn expand_fics_only() {
        let q = apps("$expand=federatedIdentityCredentials").expect("ok");
        assert!(q.expands("federatedIdentityCredentials"));
        assert_eq!(err(apps("$expand=owners")).code, ErrorCode::BadRequest);
        assert_eq!(
            err(apps("$expand=federatedIdentityCredentials($select=name)")).code,
            ErrorCode::BadRequest
        );
        // servicePrincipals expose no navigation here.
        let e = parse(
            Some("$expand=federatedIdentityCredentials"),
            false,
            &SERVICE_PRINCIPAL,
        )
        .expect_err("refused");
        assert!(e.message.contains("microsoft.graph.servicePrincipal"));
    }

    #[test]
    fn eq_and_startswith_are_case_insensitive() {
        let f = filter("displayName eq 'PAYMENTS-API'");
        assert!(f.matches(&payments()));
        assert!(!f.matches(&other()));
        let f = filter("startswith(displayName,'pay')");
        assert!(f.matches(&payments()));
        let f = filter("startsWith(displayName, 'PAY')");
        assert!(f.matches(&payments()));
        let f = filter("appId eq 'AAAAAAAA-0000-0000-0000-000000000001'");
        assert!(f.matches(&payments()));
        let f = filter("id eq '22222222-2222-2222-2222-222222222222'");
        assert!(f.matches(&other()) && !f.matches(&payments()));
    }

    #[test]
    fn quotes_are_escaped_by_doubling() {
        let f = filter("displayName eq 'O''Brien Reporting'");
        assert!(f.matches(&other()));
        let f = filter("startswith(displayName,'o''b')");
        assert!(f.matches(&other()));
    }

    #[test]
    fn and_or_and_parentheses() {
        let f = filter(
            "startswith(displayName,'pay') and appId eq 'aaaaaaaa-0000-0000-0000-000000000001'",
        );
        assert!(f.matches(&payments()));
        assert_eq!(
            f.pinned("appId"),
            Some("aaaaaaaa-0000-0000-0000-000000000001")
        );
        let f = filter("startswith(displayName,'pay') and appId eq 'x'");
        assert!(!f.matches(&payments()));
        let f = filter(
            "(displayName eq 'x' or displayName eq 'payments-api') and startswith(displayName,'p')",
        );
        assert!(f.matches(&payments()));
        assert!(!f.matches(&other()));
        assert_eq!(f.pinned("appId"), None);
    }

    #[test]
    fn unsupported_operators_name_the_property() {
        let e = err(apps("$filter=displayName ne 'x'"));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert_eq!(
            e.message,
            "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'Application'."
        );
        let e = err(apps(&format!("$filter={}", encode("startswith(id,'1')"))));
        assert!(e.message.contains("property 'id'"), "{}", e.message);
        let e = err(apps(&format!("$filter={}", encode("tags eq 'x'"))));
        assert!(e.message.contains("property 'tags'"), "{}", e.message);
        let e = err(apps(&format!(
            "$filter={}",
            encode("endswith(displayName,'api')")
        )));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert!(e.message.contains("ConsistencyLevel:eventual"));
        let e = err(apps(&format!(
            "$filter={}",
            encode("not startswith(displayName,'a')")
        )));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        let e = err(apps(&format!("$filter={}", encode("displayName eq null"))));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
    }

    #[test]
    fn unknown_property_is_a_bad_request() {
        let e = err(apps(&format!("$filter={}", encode("colour eq 'red'"))));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert_eq!(
            e.message,
            "Invalid filter clause: Could not find a property named 'colour' on type 'microsoft.graph.application'."
        );
        let e = err(apps(&format!(
            "$filter={}",
            encode("frobnicate(displayName,'a')")
        )));
        assert!(e.message.contains("unknown function"), "{}", e.message);
    }

    #[test]
    fn garbage_filters_are_syntax_errors_never_panics() {
        let garbage = [
            "displayName eq 'unterminated",
            "displayName eq",
            "displayName",
            "eq 'x'",
            "'x' eq displayName",
            "(displayName eq 'x'",
            "displayName eq 'x')",
            "displayName eq 'x' and",
            "and",
            "startswith(",
            "startswith(displayName",
            "startswith(displayName,)",
            "startswith(displayName 'x')",
            "federatedIdentityCredentials/any(",
            "federatedIdentityCredentials/any(f",
            "federatedIdentityCredentials/any(f:)",
            "federatedIdentityCredentials/any(f:f/subject eq 'x'",
            "/",
            "//",
            "displayName/",
            "a/b/c/d eq 'x'",
            "ü eq 'x'",
            "displayName eq 'x' 'y'",
            "displayName eq 'x' displayName",
            "\u{0} eq 'x'",
            "displayName == 'x'",
            "displayName eq \"x\"",
            ")))",
            ",",
            ":",
            "   ",
            "%",
        ];
        for g in garbage {
            let result = parse(
                Some(&format!("$filter={}&$count=true", encode(g))),
                true,
                &APPLICATION,
            );
            let e = result.expect_err(g);
            assert!(
                matches!(e.code, ErrorCode::BadRequest | ErrorCode::UnsupportedQuery),
                "{g}: {e:?}"
            );
            assert!(!e.message.is_empty(), "{g}");
        }
    }

    /// `federatedIdentityCredentials/$count ne 0` (the apps that have FICs): advanced only,
    /// refused without `ConsistencyLevel: eventual` and `$count=true`; 0 and 1 only; combines
    /// with the `displayName` ranges that partition a listing.
    #[test]
    fn counting_a_relationship_is_an_advanced_query() {
        let q = format!(
            "$filter={}",
            encode("federatedIdentityCredentials/$count ne 0")
        );
        for refused in [
            apps(&q),
            apps_eventual(&q),
            apps(&format!("{q}&$count=true")),
        ] {
            let e = err(refused);
            assert_eq!(e.code, ErrorCode::UnsupportedQuery);
            assert!(
                e.message.contains("ConsistencyLevel:eventual"),
                "{}",
                e.message
            );
        }
        let ne0 = apps_eventual(&format!("{q}&$count=true")).expect("advanced query runs");
        let f = ne0.filter.expect("filter");
        assert!(f.matches(&payments()), "one FIC: ne 0");
        assert!(!f.matches(&other()), "no FIC");
        let eq0 = apps_eventual(&format!(
            "$filter={}&$count=true",
            encode("federatedIdentityCredentials/$COUNT eq 0 and displayName ge 'o' and displayName le 'p'")
        ))
        .expect("with a range")
        .filter
        .expect("filter");
        assert!(eq0.matches(&other()));
        assert!(!eq0.matches(&payments()), "has a FIC and is out of range");
        let eq1 = apps_eventual(&format!(
            "$filter={}&$count=true",
            encode("federatedIdentityCredentials/$count eq 1")
        ))
        .expect("eq 1")
        .filter
        .expect("filter");
        assert!(eq1.matches(&payments()) && !eq1.matches(&other()));
        for bad in [
            "federatedIdentityCredentials/$count eq 2",
            "federatedIdentityCredentials/$count gt 0",
        ] {
            let e = err(apps_eventual(&format!(
                "$filter={}&$count=true",
                encode(bad)
            )));
            assert_eq!(e.code, ErrorCode::UnsupportedQuery, "{bad}");
        }
        let e = err(apps_eventual(&format!(
            "$filter={}&$count=true",
            encode("nothing/$count eq 0")
        )));
        assert_eq!(e.code, ErrorCode::BadRequest);
        let e = err(apps_eventual(&format!(
            "$filter={}&$count=true",
            encode("federatedIdentityCredentials/$count eq")
        )));
        assert_eq!(e.code, ErrorCode::BadRequest);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}displayName eq 'x'{}", "(".repeat(5000), ")".repeat(5000));
        let e = err(apps(&format!("$filter={}", encode(&deep))));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("nested"), "{}", e.message);
    }

    #[test]
    fn lambda_needs_eventual_and_count() {
        let f = "federatedIdentityCredentials/any(f:f/subject eq '8097154c-0000-0000-0000-00000000beef')";
        let q = format!("$filter={}", encode(f));
        let e = err(apps(&q));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert!(e.message.contains("Operator 'any'"));
        // The header alone is not enough.
        assert_eq!(err(apps_eventual(&q)).code, ErrorCode::UnsupportedQuery);
        // $count alone is not enough.
        assert_eq!(
            err(apps(&format!("{q}&$count=true"))).code,
            ErrorCode::UnsupportedQuery
        );
        let ok = apps_eventual(&format!("{q}&$count=true")).expect("advanced query runs");
        assert!(ok.count);
        let filter = ok.filter.expect("filter");
        assert!(filter.matches(&payments()));
        assert!(!filter.matches(&other()));
    }

    #[test]
    fn lambda_on_issuer_name_and_startswith() {
        let run = |f: &str| {
            apps_eventual(&format!("$filter={}&$count=true", encode(f)))
                .expect(f)
                .filter
                .expect("filter")
        };
        assert!(run("federatedIdentityCredentials/any(x:x/issuer eq 'https://login.microsoftonline.com/t/v2.0')").matches(&payments()));
        assert!(
            run("federatedIdentityCredentials/any(f: f/name eq 'MI-ID-PAYMENTS')")
                .matches(&payments())
        );
        assert!(
            run("federatedIdentityCredentials/any(f:startswith(f/subject,'8097'))")
                .matches(&payments())
        );
        assert!(
            !run("federatedIdentityCredentials/any(f:startswith(f/subject,'9'))")
                .matches(&payments())
        );
        assert!(run("federatedIdentityCredentials/any(f:f/subject eq '8097154c-0000-0000-0000-00000000beef' and f/name eq 'mi-id-payments')").matches(&payments()));
        assert!(run("displayName eq 'payments-api' and federatedIdentityCredentials/any(f:f/name eq 'mi-id-payments')").matches(&payments()));
    }

    #[test]
    fn lambda_errors() {
        let run =
            |f: &str| apps_eventual(&format!("$filter={}&$count=true", encode(f))).expect_err(f);
        let e = run("federatedIdentityCredentials/any(f:f/audiences eq 'x')");
        assert!(
            e.message
                .contains("microsoft.graph.federatedIdentityCredential"),
            "{}",
            e.message
        );
        let e = run("federatedIdentityCredentials/any(f:g/subject eq 'x')");
        assert_eq!(e.code, ErrorCode::UnsupportedQuery, "{}", e.message);
        let e = run("federatedIdentityCredentials/all(f:f/subject eq 'x')");
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        let e = run("owners/any(o:o/id eq 'x')");
        assert_eq!(e.code, ErrorCode::BadRequest);
        let e = run("federatedIdentityCredentials/any(f:f/subject ne 'x')");
        assert!(
            e.message.contains("'federatedIdentityCredentials'"),
            "{}",
            e.message
        );
        let e = run(
            "federatedIdentityCredentials/any(f:federatedIdentityCredentials/any(g:g/name eq 'x'))",
        );
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
    }

    /// A service principal as string-collection lambdas see it.
    struct Principal {
        names: &'static [&'static str],
        alternative: &'static [&'static str],
    }

    impl Record for Principal {
        fn test_property(&self, _: &str, _: &mut dyn FnMut(&str) -> bool) -> bool {
            false
        }
        fn any_in(&self, collection: &str, predicate: &mut dyn FnMut(&dyn Record) -> bool) -> bool {
            match collection {
                "servicePrincipalNames" => any_string(self.names.iter().copied(), predicate),
                "alternativeNames" => any_string(self.alternative.iter().copied(), predicate),
                _ => false,
            }
        }
    }

    const API: Principal = Principal {
        names: &["aaaaaaaa-0000-0000-0000-000000000001", "api://Payments"],
        alternative: &[],
    };
    const MI: Principal = Principal {
        names: &["bbbbbbbb-0000-0000-0000-000000000002"],
        alternative: &[
            "isExplicit=True",
            "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi",
        ],
    };

    fn sps(f: &str) -> Result<Query, ODataError> {
        parse(
            Some(&format!("$filter={}", encode(f))),
            false,
            &SERVICE_PRINCIPAL,
        )
    }

    #[test]
    fn string_collection_any_is_a_default_query() {
        // What `az ad sp show --id X` sends first: no ConsistencyLevel, no $count.
        let run = |f: &str| sps(f).expect(f).filter.expect("filter");
        let by_app_id =
            run("servicePrincipalNames/any(c:c eq 'AAAAAAAA-0000-0000-0000-000000000001')");
        assert!(by_app_id.matches(&API));
        assert!(!by_app_id.matches(&MI));
        assert!(run("servicePrincipalNames/any(c:c eq 'api://payments')").matches(&API));
        assert!(run("servicePrincipalNames/any(x: startswith(x, 'API://'))").matches(&API));
        assert!(!run("servicePrincipalNames/any(x: startswith(x, 'https://'))").matches(&API));
        // ge / le: string order, case-insensitive.
        assert!(run("servicePrincipalNames/any(c:c ge 'api:')").matches(&API));
        assert!(!run("servicePrincipalNames/any(c:c ge 'c')").matches(&API));
        assert!(run("servicePrincipalNames/any(c:c le 'B')").matches(&API));
        assert!(run("servicePrincipalNames/any(c:c ge 'b' and c le 'bz')").matches(&MI));
        assert!(!run("servicePrincipalNames/any(c:c ge 'b' and c le 'bz')").matches(&API));
        // `not` around `any` over strings is a default query too.
        let not = run("not(servicePrincipalNames/any(c:c eq 'api://payments'))");
        assert!(!not.matches(&API));
        assert!(not.matches(&MI));
        let by_resource_id =
            run("alternativeNames/any(n:startswith(n,'/subscriptions/s/resourcegroups/rg/'))");
        assert!(by_resource_id.matches(&MI));
        assert!(!by_resource_id.matches(&API));
        // Application collections, with other clauses.
        let q = apps(&format!(
            "$filter={}",
            encode("identifierUris/any(u:u eq 'api://x') or tags/any(t:t eq 'x')")
        ))
        .expect("identifierUris and tags parse");
        assert!(!q.filter.expect("filter").matches(&payments()));
    }

    #[test]
    fn string_collection_any_refuses_what_graph_refuses() {
        // `ne` inside `any` and `not` inside it are advanced; Graph names the collection.
        let e = sps("servicePrincipalNames/any(c:c ne 'x')").expect_err("ne");
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert_eq!(
            e.message,
            "Unsupported or invalid query filter clause specified for property 'servicePrincipalNames' of resource 'ServicePrincipal'."
        );
        let ok = parse(
            Some(&format!(
                "$filter={}&$count=true",
                encode("servicePrincipalNames/any(c:c ne 'x')")
            )),
            true,
            &SERVICE_PRINCIPAL,
        )
        .expect("ne is an advanced query");
        assert!(ok.filter.expect("filter").matches(&API));
        let e = sps("servicePrincipalNames/any(c:endswith(c,'x'))").expect_err("endswith");
        assert!(e.message.contains("Operator 'endswith'"), "{}", e.message);
        // The element is the variable itself: `c/x` and another variable are refused.
        let e = sps("servicePrincipalNames/any(c:c/name eq 'x')").expect_err("path");
        assert!(
            e.message.contains("'servicePrincipalNames'"),
            "{}",
            e.message
        );
        let e = sps("servicePrincipalNames/any(c:d eq 'x')").expect_err("variable");
        assert!(
            e.message.contains("'servicePrincipalNames'"),
            "{}",
            e.message
        );
        let e = sps("servicePrincipalNames/all(c:c eq 'x')").expect_err("all");
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        // A string collection that is not a Graph property of the type.
        let e = sps("identifierUris/any(c:c eq 'x')").expect_err("not on sp");
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("'identifierUris'"), "{}", e.message);
        // Not a comparison Graph serves on strings.
        let e = sps("servicePrincipalNames/any(c:c gt 'x')").expect_err("gt");
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
    }

    #[test]
    fn search_needs_eventual_and_matches_word_prefixes() {
        let e = err(apps("$search=\"displayName:pay\""));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert_eq!(
            e.message,
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"
        );
        let q = apps_eventual(&format!("$search={}", encode("\"displayName:api\""))).expect("ok");
        let s = q.search.expect("search");
        assert!(
            s.matches(&payments()),
            "'api' starts a word of payments-api"
        );
        assert!(!s.matches(&other()));
        let q = apps_eventual(&format!("$search={}", encode("\"displayName:brien\""))).expect("ok");
        assert!(q.search.expect("search").matches(&other()));
        let q = apps_eventual(&format!(
            "$search={}",
            encode("\"displayName:zzz\" OR \"description:money\"")
        ))
        .expect("ok");
        assert!(q.search.expect("search").matches(&payments()));
        let q = apps_eventual(&format!(
            "$search={}",
            encode("\"displayName:zzz\" AND \"description:money\"")
        ))
        .expect("ok");
        assert!(!q.search.expect("search").matches(&payments()));
    }

    #[test]
    fn search_syntax_errors() {
        for bad in [
            "displayName:pay",
            "\"displayName:pay",
            "\"pay\"",
            "\"displayName:\"",
            "\"a:b\" XOR \"c:d\"",
            "\"displayName:a\" \"displayName:b\"",
        ] {
            let e = apps_eventual(&format!("$search={}", encode(bad))).expect_err(bad);
            assert!(matches!(e.code, ErrorCode::BadRequest), "{bad}: {e:?}");
        }
        let e = apps_eventual(&format!("$search={}", encode("\"appId:1\""))).expect_err("appId");
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
    }

    #[test]
    fn tokenizer_splits_like_the_directory() {
        assert_eq!(tokenize("PaymentsAPI-v2"), ["payments", "api", "v", "2"]);
        assert_eq!(tokenize("  "), Vec::<String>::new());
        assert_eq!(tokenize("Ünïcode name"), ["ünïcode", "name"]);
    }

    #[test]
    fn count_is_silently_ignored_without_eventual() {
        assert!(!apps("$count=true").expect("ok").count);
        assert!(apps_eventual("$count=true").expect("ok").count);
        assert!(!apps_eventual("$count=false").expect("ok").count);
        assert_eq!(err(apps("$count=yes")).code, ErrorCode::BadRequest);
        let e = parse_count_request(None, false, &APPLICATION).expect_err("needs header");
        assert_eq!(e.code, ErrorCode::RequestBadRequest);
        assert_eq!(e.message, "$count is not currently supported.");
        assert!(
            parse_count_request(
                Some("$filter=startswith(displayName,'a')"),
                true,
                &APPLICATION
            )
            .is_ok()
        );
    }

    #[test]
    fn orderby_rules() {
        let e = err(apps("$orderby=displayName"));
        assert_eq!(e.code, ErrorCode::UnsupportedQuery);
        assert_eq!(e.message, "Sorting not supported for current query.");
        let q = apps_eventual("$orderby=displayName desc").expect("ok");
        assert_eq!(
            q.orderby,
            Some(OrderBy {
                property: "displayName",
                direction: Direction::Descending
            })
        );
        // With a filter, $count=true is needed as well.
        let f = format!(
            "$orderby=displayName&$filter={}",
            encode("startswith(displayName,'a')")
        );
        assert_eq!(err(apps_eventual(&f)).code, ErrorCode::UnsupportedQuery);
        assert!(apps_eventual(&format!("{f}&$count=true")).is_ok());
        assert_eq!(
            err(apps_eventual("$orderby=appId")).code,
            ErrorCode::UnsupportedQuery
        );
        assert_eq!(
            err(apps_eventual("$orderby=nope")).code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            err(apps_eventual("$orderby=displayName%20sideways")).code,
            ErrorCode::BadRequest
        );
        assert_eq!(err(apps_eventual("$orderby=")).code, ErrorCode::BadRequest);
    }

    #[test]
    fn skiptoken_round_trips_and_rejects_garbage() {
        let c = Cursor {
            after_key: Some("o'brien reporting".into()),
            after_id: "22222222-2222-2222-2222-222222222222".into(),
        };
        let token = c.encode();
        assert!(
            token
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        );
        assert_eq!(Cursor::decode(&token).expect("round trip"), c);
        let plain = Cursor {
            after_key: None,
            after_id: "x".into(),
        };
        assert_eq!(Cursor::decode(&plain.encode()).expect("round trip"), plain);
        for bad in ["", "!!!", "Zm9v", "ZmljdXMx", "ZmljdXMxHw"] {
            let e = Cursor::decode(bad).expect_err(bad);
            assert_eq!(e.code, ErrorCode::RequestBadRequest);
            assert!(e.message.contains("@odata.nextLink"));
        }
        let q = apps(&format!("$skiptoken={token}")).expect("ok");
        assert_eq!(q.skiptoken, Some(c));
    }

    #[test]
    fn next_link_replaces_the_skiptoken_and_keeps_the_rest() {
        let c = Cursor {
            after_key: None,
            after_id: "abc".into(),
        };
        let link = next_link(
            "https://127.0.0.1:8443/v1.0/applications",
            Some("$top=2&$filter=startswith(displayName,%27a%27)&$skiptoken=old"),
            &c,
        );
        assert!(link.starts_with("https://127.0.0.1:8443/v1.0/applications?$top=2&$filter="));
        assert!(!link.contains("old"));
        let query = link.split_once('?').expect("has query").1;
        let q = apps(query).expect("next link parses");
        assert_eq!(q.top, Some(2));
        assert_eq!(q.skiptoken, Some(c));
        assert!(q.filter.is_some());
    }

    #[test]
    fn plus_and_percent_encodings_decode_to_spaces() {
        let q = apps("$filter=displayName+eq+%27payments-api%27").expect("ok");
        assert!(q.filter.expect("filter").matches(&payments()));
    }

    #[test]
    fn fic_list_filters() {
        let q = parse(
            Some(&format!(
                "$filter={}",
                encode("subject eq '8097154C-0000-0000-0000-00000000BEEF'")
            )),
            false,
            &FEDERATED_IDENTITY_CREDENTIAL,
        )
        .expect("ok");
        let fic = &payments().fics[0];
        assert!(q.filter.expect("filter").matches(fic));
        let e = parse(
            Some("$filter=audiences%20eq%20%27x%27"),
            false,
            &FEDERATED_IDENTITY_CREDENTIAL,
        )
        .expect_err("audiences is not filterable here");
        assert!(
            e.message.contains("'FederatedIdentityCredential'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn service_principal_type_filter() {
        let q = parse(
            Some("$filter=servicePrincipalType%20eq%20%27ManagedIdentity%27"),
            false,
            &SERVICE_PRINCIPAL,
        )
        .expect("ok");
        assert_eq!(
            q.filter.expect("filter").pinned("servicePrincipalType"),
            Some("managedidentity")
        );
    }

    #[test]
    fn case_helpers() {
        assert!(eq_ignore_case("ÄBC", "äbc"));
        assert!(!eq_ignore_case("ÄBC", "äb"));
        assert!(starts_with_ignore_case("Ärger", "är"));
        assert!(!starts_with_ignore_case("a", "ab"));
        assert!(starts_with_ignore_case("abc", ""));
        use std::cmp::Ordering::*;
        for (a, b, want) in [
            ("Synthetic-APP-9", "synthetic-app-10", Greater),
            ("abc", "abc", Equal),
            ("ab", "abc", Less),
            ("B", "a", Greater),
            ("Ärger", "ärger", Equal),
            ("Z", "ä", Less),
        ] {
            assert_eq!(compare_ignore_case(a, b), want, "{a} vs {b}");
        }
    }

    proptest::proptest! {
        /// The ASCII fast path orders as the char-by-char comparison does.
        #[test]
        fn ascii_comparison_matches_the_general_one(a in "[ -~]{0,12}", b in "[ -~]{0,12}") {
            let lower_b = b.to_lowercase();
            proptest::prop_assert_eq!(
                compare_ignore_case(&a, &lower_b),
                a.chars().flat_map(char::to_lowercase).cmp(lower_b.chars())
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_query_string_parses_or_is_refused(raw in ".{0,300}") {
            for eventual in [false, true] {
                if let Err(e) = parse(Some(&raw), eventual, &APPLICATION) {
                    proptest::prop_assert!(!e.message.is_empty());
                }
            }
        }

        #[test]
        fn token_soup_filters_never_panic(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    "displayName", "appId", "id", "eq", "ne", "and", "or", "not", "(", ")", ",",
                    "'x'", "'it''s'", "'", "startswith(", "federatedIdentityCredentials/any(f:",
                    "f/subject", "f/issuer", "f/", "/", ":", "null", "42", "any", "$count",
                ]),
                0..24,
            )
        ) {
            let filter = words.join(" ");
            let raw = format!("$filter={}&$count=true", encode(&filter));
            if let Ok(query) = parse(Some(&raw), true, &APPLICATION) {
                // Whatever parsed must also evaluate.
                let f = query.filter.expect("a filter");
                let _ = f.matches(&payments());
            }
        }

        #[test]
        fn search_strings_never_panic(raw in "[\"a-zA-Z: ]{0,60}") {
            let _ = parse(Some(&format!("$search={}", encode(&raw))), true, &APPLICATION);
        }

        #[test]
        fn skiptokens_never_panic(raw in ".{0,100}") {
            let _ = Cursor::decode(&raw);
        }
    }
}
