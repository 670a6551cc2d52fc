//! The console's app list fetched in parallel (issue 17). Graph serves one `@odata.nextLink`
//! chain strictly in sequence, and a request with `$expand` gets at most 100 objects a page,
//! so the listing is cut in two phases that run at once, each partitioned:
//!
//! 1. one page of `$select=id,displayName` at 999 with `$count=true` (an advanced query:
//!    `ConsistencyLevel: eventual`) gives the total and a sample of names, whose quantiles cut
//!    the listing into `displayName` ranges ([`crate::partition`]);
//! 2. **rows**: the console's columns with `$select` at 999 a page, one chain per range;
//! 3. **FICs**: `$select=id&$expand=federatedIdentityCredentials` (Graph's cap: 100 a page,
//!    20 FICs an app, which is every FIC an app may have), one chain per (narrower) range.
//!
//! Both are default queries, read-after-write consistent; only the sample reads the
//! eventually consistent index (and only for bounds and the check). Why not FICs only for the
//! apps that have any (`federatedIdentityCredentials/$count ne 0`)? That filter is an advanced
//! query, and Graph serves no `$expand` with advanced queries
//! (learn.microsoft.com/graph/aad-advanced-queries: "`$expand` is not currently supported
//! with advanced queries"), so it yields ids, not FICs; fetching those apps' FICs by id is 15
//! apps a request (`id in (…)`), cheaper than paging every app only when fewer than about one
//! app in fifteen has a FIC.
//!
//! Which is faster depends on how many apps have FICs. With every app's FICs to expand, both
//! designs are N/100 pages deep over the ranges, and two phases only add the rows' pages and
//! memory (measured: `benches/cold_listing.rs`), so one phase is the default
//! ([`ParallelListing::two_phase`]). The FIC phase pays off once it can skip the apps without
//! FICs: the advanced `$count ne 0` for their ids (999 a page), then `id in (…)` with `$expand`
//! for those, 15 a request — fewer requests than N/100 when fewer than about one app in
//! fifteen has a FIC; not built yet.
//!
//! An app is sent once both phases have brought it (exactly once: de-duplicated by id; a name
//! equal to a bound is in two ranges). At the end, each phase's total is checked against
//! `$count`; an app one phase saw and the other did not (created or deleted between them, or
//! without a name, which no range matches) is completed by id, 15 at a time, or dropped when
//! Graph no longer has it, so no row shows a count it does not have.
//!
//! A 429 pauses every chain until its `Retry-After` has passed (one shared gate, so the
//! chains back off together instead of each hammering on), then they go on; 503/504 and
//! dropped connections are retried with backoff. Every wait goes through the client's
//! [`Waiter`](super::super::http::Waiter) (a virtual clock in tests).
//!
//! Compiled as a child of `graph` (it uses the client's private request helpers).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::Stream;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::super::error::EntraError;
use super::super::http::{Retry, Wait, WaitReason, parse_retry_after};
use super::super::partition::{self, NameRange};
use super::{APP_CONSOLE_LIGHT_SELECT, AppListItem, GraphClient, PAGE_SIZE, Page, urlencode};

/// Objects a page holds when the request uses `$expand` (Graph's cap).
pub const EXPAND_PAGE: usize = 100;
/// Ids an `id in (…)` filter takes (Graph: 15 expressions a filter by default).
pub const IDS_PER_REQUEST: usize = 15;
/// Apps one phase missed that are completed by id at most; beyond that their rows go out
/// without a FIC count (unknown, not zero).
const MOST_COMPLETED_BY_ID: usize = 3_000;

/// How a parallel listing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelListing {
    /// Chains in flight at most per phase (each one request at a time).
    pub chains: usize,
    /// Attempts per page when Graph throttles or is briefly unavailable.
    pub attempts: u32,
    /// Rows at 999 and FICs apart, at once; `false` (the default): one phase of `$expand`
    /// pages of 100 with every column. Measured (`benches/cold_listing.rs`, 100k apps, half
    /// with a FIC): both are ~16 sequential round trips deep; two phases send ~12% more
    /// requests and hold twice the memory (rows wait for their FICs), so one phase stays the
    /// default until the FIC phase can skip apps without FICs (see the module notes).
    pub two_phase: bool,
}

impl Default for ParallelListing {
    fn default() -> Self {
        ParallelListing {
            // Measured (`cargo bench --bench cold_listing -- one_phase_expand`, 100k apps,
            // 150 ms a request): 64 chains 4.7 s, 128 chains 3.3 s, the client's CPU unchanged
            // (0.6 s); a 429 still stops every chain at once.
            chains: 128,
            attempts: 8,
            two_phase: false,
        }
    }
}

impl ParallelListing {
    /// Ranges of `$expand` pages for `total` objects: enough that each chain has a few pages,
    /// no more than [`ParallelListing::chains`].
    pub fn partitions_for(&self, total: usize) -> usize {
        total.div_ceil(2 * EXPAND_PAGE).clamp(1, self.chains.max(1))
    }

    /// Ranges of `$select` pages of 999 for `total` objects.
    pub fn row_partitions_for(&self, total: usize) -> usize {
        total
            .div_ceil(2 * PAGE_SIZE as usize)
            .clamp(1, self.chains.max(1))
    }
}

/// The shared gate (no chain sends before `until`) and the request count.
#[derive(Default)]
struct Gate {
    until: Mutex<Option<Instant>>,
    requests: AtomicUsize,
}

#[derive(Deserialize)]
struct SampleRow {
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct CountedPage<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(default, rename = "@odata.count")]
    count: Option<usize>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// An app's FICs as the FIC phase brings them.
#[derive(Deserialize)]
struct FicRow {
    id: String,
    #[serde(default, rename = "federatedIdentityCredentials")]
    fics: Vec<serde_json::Value>,
}

/// What a finished listing found, for the caller's check and the benches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListingReport {
    /// Objects sent (each once).
    pub listed: usize,
    /// `@odata.count` of the sample request, when Graph gave it.
    pub expected: Option<usize>,
    /// Ranges paged in parallel for the rows (one phase: for everything).
    pub partitions: usize,
    /// Objects found only by the unfiltered pass after the ranges.
    pub recovered: usize,
    /// Ranges paged in parallel for the FICs (0 in one phase).
    pub fic_partitions: usize,
    /// Requests sent, retries included.
    pub requests: usize,
    /// Apps one phase missed, completed by id afterwards.
    pub completed_by_id: usize,
    /// Rows sent without a FIC count (unknown: more were missed than are completed by id).
    pub fics_unknown: usize,
    /// Apps the rows phase saw that Graph no longer had when completed by id (not sent).
    pub vanished: usize,
}

/// Where an app stands between the two phases.
enum Slot {
    /// Its row came; its FICs not yet.
    Row(Box<AppListItem>),
    /// Its FICs came; its row not yet.
    Fics(Vec<serde_json::Value>),
    /// Sent.
    Sent,
}

/// The two phases joined by id: each app is sent once, when both have brought it.
#[derive(Default)]
struct Join {
    slots: HashMap<String, Slot>,
    rows_seen: usize,
    fics_seen: usize,
}

impl Join {
    /// A row of the rows phase (or, with FICs already in it, of one phase doing both); the
    /// app to send when it is complete now.
    fn row(&mut self, mut row: AppListItem) -> Option<AppListItem> {
        let with_fics = row.federated_identity_credentials.is_some();
        match self.slots.get_mut(&row.id) {
            None if with_fics => {
                self.rows_seen += 1;
                self.fics_seen += 1;
                self.slots.insert(row.id.clone(), Slot::Sent);
                Some(row)
            }
            None => {
                self.rows_seen += 1;
                self.slots.insert(row.id.clone(), Slot::Row(Box::new(row)));
                None
            }
            Some(slot) => match std::mem::replace(slot, Slot::Sent) {
                Slot::Fics(fics) => {
                    self.rows_seen += 1;
                    row.federated_identity_credentials = Some(fics);
                    Some(row)
                }
                // Seen already (a name equal to a bound is in two ranges).
                other => {
                    *slot = other;
                    None
                }
            },
        }
    }

    /// An app's FICs; the app to send when it is complete now.
    fn fics(&mut self, id: String, fics: Vec<serde_json::Value>) -> Option<AppListItem> {
        match self.slots.get_mut(&id) {
            None => {
                self.fics_seen += 1;
                self.slots.insert(id, Slot::Fics(fics));
                None
            }
            Some(slot) => match std::mem::replace(slot, Slot::Sent) {
                Slot::Row(mut row) => {
                    self.fics_seen += 1;
                    row.federated_identity_credentials = Some(fics);
                    Some(*row)
                }
                other => {
                    *slot = other;
                    None
                }
            },
        }
    }

    fn sent(&self) -> usize {
        self.slots
            .values()
            .filter(|s| matches!(s, Slot::Sent))
            .count()
    }

    /// Ids waiting for their FICs, and ids waiting for their rows.
    fn incomplete(&self) -> (Vec<String>, Vec<String>) {
        let mut without_fics = Vec::new();
        let mut without_row = Vec::new();
        for (id, slot) in &self.slots {
            match slot {
                Slot::Row(_) => without_fics.push(id.clone()),
                Slot::Fics(_) => without_row.push(id.clone()),
                Slot::Sent => {}
            }
        }
        (without_fics, without_row)
    }
}

impl GraphClient {
    /// Every app with the console's columns and FICs, as pages streamed while the ranges are
    /// paged in parallel. Ends after the last page (or the first error); the final item is
    /// never an error after a complete listing.
    pub fn console_apps_parallel(
        &self,
        options: ParallelListing,
    ) -> impl Stream<Item = Result<Vec<AppListItem>, EntraError>> + Send + 'static {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let client = self.clone();
        tokio::spawn(async move {
            let pages = tx.clone();
            let result = client
                .list_parallel(options, move |rows| pages.send(Ok(rows)).is_ok())
                .await;
            if let Err(e) = result {
                let _ = tx.send(Err(e));
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    /// The parallel listing itself: `emit` gets each page of complete rows (it returns false
    /// when nobody listens any more, which stops the listing).
    pub async fn list_parallel(
        &self,
        options: ParallelListing,
        emit: impl Fn(Vec<AppListItem>) -> bool + Send + Sync,
    ) -> Result<ListingReport, EntraError> {
        let gate = Gate::default();
        let sample_url = self.url(&format!(
            "applications?$select=id,displayName&$top={PAGE_SIZE}&$count=true"
        ));
        let sample: CountedPage<SampleRow> = self
            .listing_get(
                &sample_url,
                &[("ConsistencyLevel", "eventual")],
                &gate,
                options,
            )
            .await?
            .json("Graph")?;
        let expected = sample.count;
        let names: Vec<String> = sample
            .value
            .into_iter()
            .filter_map(|r| r.display_name)
            .collect();
        let total_guess = expected.unwrap_or(if sample.next_link.is_some() {
            usize::MAX
        } else {
            names.len()
        });
        let (row_ranges, fic_ranges) = if options.two_phase {
            (
                partition::plan(&names, options.row_partitions_for(total_guess)),
                partition::plan(&names, options.partitions_for(total_guess)),
            )
        } else {
            (
                partition::plan(&names, options.partitions_for(total_guess)),
                Vec::new(),
            )
        };
        drop(names);
        let join: Mutex<Join> = Mutex::default();
        let stop = AtomicBool::new(false);
        let send = |complete: Vec<AppListItem>| -> bool {
            if complete.is_empty() {
                return true;
            }
            let listening = emit(complete);
            if !listening {
                stop.store(true, Ordering::Relaxed);
            }
            listening
        };
        let on_rows = |rows: Vec<AppListItem>| -> bool {
            let complete: Vec<AppListItem> = {
                let mut join = join.lock().unwrap_or_else(|e| e.into_inner());
                rows.into_iter().filter_map(|r| join.row(r)).collect()
            };
            send(complete)
        };
        let on_fics = |fics: Vec<FicRow>| -> bool {
            let complete: Vec<AppListItem> = {
                let mut join = join.lock().unwrap_or_else(|e| e.into_inner());
                fics.into_iter()
                    .filter_map(|f| {
                        let fics = self.merge_local_values(&f.id, f.fics);
                        join.fics(f.id, fics)
                    })
                    .collect()
            };
            send(complete)
        };
        let rows_select = if options.two_phase {
            format!("$select={APP_CONSOLE_LIGHT_SELECT}&$top={PAGE_SIZE}")
        } else {
            format!(
                "$select={APP_CONSOLE_LIGHT_SELECT}&$top={PAGE_SIZE}&$expand=federatedIdentityCredentials"
            )
        };
        let fics_select =
            format!("$select=id&$top={PAGE_SIZE}&$expand=federatedIdentityCredentials");
        let row_chains = futures_util::future::try_join_all(row_ranges.iter().map(|range| {
            self.listing_chain(
                &rows_select,
                range,
                &gate,
                options,
                &stop,
                |page: Vec<AppListItem>| on_rows(self.with_local_fics(page)),
            )
        }));
        let fic_chains =
            futures_util::future::try_join_all(fic_ranges.iter().map(|range| {
                self.listing_chain(&fics_select, range, &gate, options, &stop, &on_fics)
            }));
        futures_util::future::try_join(row_chains, fic_chains).await?;

        let mut report = ListingReport {
            expected,
            partitions: row_ranges.len(),
            fic_partitions: fic_ranges.len(),
            ..ListingReport::default()
        };
        // Objects no range matched (no name; an order the bounds do not follow): one more
        // unfiltered pass of rows, keeping only what is new.
        let rows_seen = || join.lock().map(|j| j.rows_seen).unwrap_or(0);
        if expected.is_some_and(|n| rows_seen() < n)
            && row_ranges.len() > 1
            && !stop.load(Ordering::Relaxed)
        {
            let before = rows_seen();
            self.listing_chain(
                &rows_select,
                &NameRange::all(),
                &gate,
                options,
                &stop,
                |page: Vec<AppListItem>| on_rows(self.with_local_fics(page)),
            )
            .await?;
            report.recovered = rows_seen() - before;
            tracing::info!(
                recovered = report.recovered,
                "objects outside every name range were listed unfiltered"
            );
        }
        // What one phase brought and the other did not: completed by id.
        let (without_fics, without_row) = join.lock().map(|j| j.incomplete()).unwrap_or_default();
        if options.two_phase && !stop.load(Ordering::Relaxed) {
            let missed = without_fics.len() + without_row.len();
            if missed <= MOST_COMPLETED_BY_ID {
                report.completed_by_id = missed;
                self.complete_by_id(
                    &without_fics,
                    &fics_select_by_id(),
                    &gate,
                    options,
                    &stop,
                    &on_fics,
                )
                .await?;
                self.complete_by_id(
                    &without_row,
                    &format!("$select={APP_CONSOLE_LIGHT_SELECT}"),
                    &gate,
                    options,
                    &stop,
                    |page: Vec<AppListItem>| on_rows(self.with_local_fics(page)),
                )
                .await?;
                // Rows whose app Graph no longer has (deleted meanwhile): not sent.
                let mut join = join.lock().unwrap_or_else(|e| e.into_inner());
                for id in &without_fics {
                    if matches!(join.slots.get(id), Some(Slot::Row(_))) {
                        join.slots.remove(id);
                        report.vanished += 1;
                    }
                }
            } else {
                tracing::info!(
                    missed,
                    "too many apps missed by one phase to complete by id"
                );
            }
        }
        // Left: rows whose FICs nobody could bring (sent with the count unknown, never a
        // wrong zero), and FICs of apps Graph no longer has (dropped).
        let leftovers: Vec<AppListItem> = {
            let mut join = join.lock().unwrap_or_else(|e| e.into_inner());
            let ids: Vec<String> = join
                .slots
                .iter()
                .filter(|(_, s)| matches!(s, Slot::Row(_)))
                .map(|(id, _)| id.clone())
                .collect();
            ids.into_iter()
                .filter_map(|id| match join.slots.insert(id, Slot::Sent) {
                    Some(Slot::Row(row)) => Some(*row),
                    _ => None,
                })
                .collect()
        };
        report.fics_unknown = leftovers.len();
        if !stop.load(Ordering::Relaxed) {
            send(leftovers);
        }
        let (sent, fics_seen, rows_total) = join
            .lock()
            .map(|j| (j.sent(), j.fics_seen, j.rows_seen))
            .unwrap_or_default();
        report.listed = sent;
        report.requests = gate.requests.load(Ordering::Relaxed);
        if let Some(n) = expected
            && (rows_total != n || (options.two_phase && fics_seen != n))
        {
            // `$count` reads an eventually consistent index: a create or delete during the
            // listing shows here. Not an error; said for the log.
            tracing::info!(
                rows = rows_total,
                fics = fics_seen,
                count = n,
                "listing and $count differ"
            );
        }
        Ok(report)
    }

    /// A page's FICs merged with this client's own writes Graph does not list yet.
    fn with_local_fics(&self, page: Vec<AppListItem>) -> Vec<AppListItem> {
        page.into_iter()
            .map(|mut item| {
                if let Some(listed) = item.federated_identity_credentials.take() {
                    item.federated_identity_credentials =
                        Some(self.merge_local_values(&item.id, listed));
                }
                item
            })
            .collect()
    }

    /// `ids` fetched [`IDS_PER_REQUEST`] at a time (`$filter=id in (…)`, a default query) with
    /// `options_text`, up to [`ParallelListing::chains`] requests at once.
    async fn complete_by_id<T: DeserializeOwned>(
        &self,
        ids: &[String],
        options_text: &str,
        gate: &Gate,
        options: ParallelListing,
        stop: &AtomicBool,
        on_page: impl Fn(Vec<T>) -> bool + Sync,
    ) -> Result<(), EntraError> {
        let texts: Vec<String> = ids
            .chunks(IDS_PER_REQUEST)
            .map(|chunk| {
                let list = chunk
                    .iter()
                    .map(|id| format!("'{}'", super::odata_quote(id)))
                    .collect::<Vec<_>>()
                    .join(",");
                format!(
                    "{options_text}&$filter={}",
                    urlencode(&format!("id in ({list})"))
                )
            })
            .collect();
        let all = NameRange::all();
        let on_page = &on_page;
        // In waves of at most `chains` requests (a rare path: what one phase missed).
        for wave in texts.chunks(options.chains.max(1)) {
            futures_util::future::try_join_all(
                wave.iter()
                    .map(|text| self.listing_chain(text, &all, gate, options, stop, on_page)),
            )
            .await?;
        }
        Ok(())
    }

    /// One range, page after page, until its last page or a stop. `options_text`: the query
    /// options before the range's `$filter`.
    async fn listing_chain<T: DeserializeOwned>(
        &self,
        options_text: &str,
        range: &NameRange,
        gate: &Gate,
        options: ParallelListing,
        stop: &AtomicBool,
        on_page: impl Fn(Vec<T>) -> bool,
    ) -> Result<(), EntraError> {
        let mut url = self.url(&format!(
            "applications?{options_text}{}",
            range
                .filter()
                .map(|f| format!("&$filter={}", urlencode(&f)))
                .unwrap_or_default()
        ));
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let page: Page<T> = self
                .listing_get(&url, &[], gate, options)
                .await?
                .json("Graph")?;
            if !on_page(page.value) {
                return Ok(());
            }
            match page.next_link {
                Some(next) => url = next,
                None => return Ok(()),
            }
        }
    }

    /// One GET through the shared gate: waits while the gate is closed; a 429 closes it for
    /// its `Retry-After` (every chain waits it out), 503/504 and dropped connections back off.
    async fn listing_get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        gate: &Gate,
        options: ParallelListing,
    ) -> Result<super::super::http::Response, EntraError> {
        let policy = self.http.retry_policy();
        let mut attempt = 0;
        loop {
            attempt += 1;
            gate.requests.fetch_add(1, Ordering::Relaxed);
            let closed = {
                let until = gate.until.lock().unwrap_or_else(|e| e.into_inner());
                until.map(|t| t.saturating_duration_since(self.waiter().now()))
            };
            if let Some(wait) = closed.filter(|w| !w.is_zero()) {
                self.waiter()
                    .wait(Wait {
                        reason: WaitReason::Throttled,
                        duration: wait,
                        url: super::super::http::origin_of(url),
                    })
                    .await;
            }
            let answer = self
                .call(Method::GET, url, Retry::Never, headers, None)
                .await;
            let response = match answer {
                Ok(r) => r,
                Err(EntraError::Network(e)) if attempt < options.attempts => {
                    let wait = policy.delay(attempt, None);
                    tracing::info!(error = %e, attempt, "listing page failed; retrying");
                    self.waiter()
                        .wait(Wait {
                            reason: WaitReason::Network,
                            duration: wait,
                            url: super::super::http::origin_of(url),
                        })
                        .await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let status = response.status.as_u16();
            if response.is_success() {
                return Ok(response);
            }
            let retryable = matches!(status, 429 | 503 | 504) && attempt < options.attempts;
            let retry_after = parse_retry_after(
                response
                    .header("retry-after")
                    .and_then(|v| reqwest::header::HeaderValue::from_str(v).ok())
                    .as_ref(),
            );
            if !retryable || retry_after.is_some_and(|w| w > policy.max_retry_after) {
                return Err(response.graph_error().into());
            }
            let wait = policy.delay(attempt, retry_after);
            if status == 429 {
                // Close the gate for everyone; a later, longer Retry-After wins.
                let reopen = self.waiter().now() + wait;
                let mut until = gate.until.lock().unwrap_or_else(|e| e.into_inner());
                if until.is_none_or(|t| t < reopen) {
                    *until = Some(reopen);
                }
            } else {
                self.waiter()
                    .wait(Wait {
                        reason: WaitReason::Unavailable,
                        duration: wait,
                        url: super::super::http::origin_of(url),
                    })
                    .await;
            }
        }
    }
}

/// The FIC phase's options for apps fetched by id (no `$top`: at most 15 match).
fn fics_select_by_id() -> String {
    "$select=id&$expand=federatedIdentityCredentials".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, fics: Option<usize>) -> AppListItem {
        AppListItem {
            id: id.into(),
            app_id: String::new(),
            display_name: Some(id.into()),
            sign_in_audience: None,
            password_credentials: Vec::new(),
            key_credentials: Vec::new(),
            identifier_uris: Vec::new(),
            federated_identity_credentials: fics.map(|n| {
                (0..n)
                    .map(|i| serde_json::json!({ "subject": i }))
                    .collect()
            }),
        }
    }

    #[test]
    fn an_app_is_sent_once_when_both_phases_brought_it() {
        let mut join = Join::default();
        assert_eq!(join.row(row("a", None)), None, "waits for its FICs");
        assert_eq!(join.row(row("a", None)), None, "a duplicate row is ignored");
        let sent = join
            .fics("a".into(), vec![serde_json::json!({})])
            .expect("complete");
        assert_eq!(
            sent.federated_identity_credentials.map(|f| f.len()),
            Some(1)
        );
        assert_eq!(join.fics("a".into(), Vec::new()), None, "sent once");
        assert_eq!(join.row(row("a", None)), None, "sent once");
        // FICs first, then the row; and an app with none.
        assert_eq!(join.fics("b".into(), Vec::new()), None);
        let b = join.row(row("b", None)).expect("complete");
        assert_eq!(b.federated_identity_credentials, Some(Vec::new()));
        // One phase doing both (rows with FICs in them).
        assert!(join.row(row("c", Some(20))).is_some());
        assert_eq!(join.row(row("c", Some(20))), None);
        assert_eq!((join.rows_seen, join.fics_seen, join.sent()), (3, 3, 3));
        assert_eq!(join.row(row("d", None)), None);
        assert_eq!(join.fics("e".into(), Vec::new()), None);
        assert_eq!(
            join.incomplete(),
            (vec!["d".to_string()], vec!["e".to_string()])
        );
    }
}
