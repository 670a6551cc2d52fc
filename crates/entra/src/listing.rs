//! The console's app list fetched in parallel (issue 17). Graph serves one `@odata.nextLink`
//! chain strictly in sequence, and a request with `$expand` gets at most 100 objects a page:
//! a 100,000-app tenant is 1,000 sequential round trips. Instead:
//!
//! 1. one page of `$select=id,displayName` at 999 with `$count=true` (an advanced query:
//!    `ConsistencyLevel: eventual`) gives the total and a sample of names;
//! 2. the names' quantiles cut the listing into `displayName` ranges
//!    ([`crate::partition`]), each paged as its own chain with the console's columns and
//!    `$expand=federatedIdentityCredentials` (the FIC counts come with the rows, no request
//!    per app), at most [`ParallelListing::chains`] chains in flight;
//! 3. rows stream out page by page, each object once (de-duplicated by id: a name equal to a
//!    bound is in two ranges); at the end the total is checked against `$count`, and anything
//!    missing (objects without a name match no range) is paged without a filter.
//!
//! A 429 pauses every chain until its `Retry-After` has passed (one shared gate, so the
//! chains back off together instead of each hammering on), then they go on; 503/504 and
//! dropped connections are retried with backoff. Every wait goes through the client's
//! [`Waiter`](super::super::http::Waiter) (a virtual clock in tests).
//!
//! Compiled as a child of `graph` (it uses the client's private request helpers).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::Stream;
use reqwest::Method;
use serde::Deserialize;

use super::super::error::EntraError;
use super::super::http::{Retry, Wait, WaitReason, parse_retry_after};
use super::super::partition::{self, NameRange};
use super::{APP_CONSOLE_LIGHT_SELECT, AppListItem, GraphClient, PAGE_SIZE, Page, urlencode};

/// Objects a page holds when the request uses `$expand` (Graph's cap).
pub const EXPAND_PAGE: usize = 100;

/// How a parallel listing runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelListing {
    /// Chains in flight at most (each one request at a time).
    pub chains: usize,
    /// Attempts per page when Graph throttles or is briefly unavailable.
    pub attempts: u32,
}

impl Default for ParallelListing {
    fn default() -> Self {
        ParallelListing {
            chains: 48,
            attempts: 8,
        }
    }
}

impl ParallelListing {
    /// Ranges for `total` objects: enough that each chain has a few pages, no more than
    /// [`ParallelListing::chains`].
    pub fn partitions_for(&self, total: usize) -> usize {
        total.div_ceil(2 * EXPAND_PAGE).clamp(1, self.chains.max(1))
    }
}

/// The shared gate: no chain sends before `until`.
#[derive(Default)]
struct Gate {
    until: Mutex<Option<Instant>>,
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

/// What a finished listing found, for the caller's check and the benches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListingReport {
    /// Objects sent (each once).
    pub listed: usize,
    /// `@odata.count` of the sample request, when Graph gave it.
    pub expected: Option<usize>,
    /// Ranges paged in parallel.
    pub partitions: usize,
    /// Objects found only by the unfiltered pass after the ranges.
    pub recovered: usize,
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

    /// The parallel listing itself: `emit` gets each page of new rows (it returns false when
    /// nobody listens any more, which stops the listing).
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
        let ranges = partition::plan(&names, options.partitions_for(total_guess));
        let seen: Mutex<HashSet<String>> = Mutex::default();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let emit = &emit;
        let deliver = |rows: Vec<AppListItem>| -> bool {
            let fresh: Vec<AppListItem> = {
                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                rows.into_iter()
                    .filter(|r| seen.insert(r.id.clone()))
                    .collect()
            };
            if fresh.is_empty() {
                return true;
            }
            let listening = emit(fresh);
            if !listening {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            listening
        };
        let chains = ranges
            .iter()
            .map(|range| self.listing_chain(range, &gate, options, &deliver, &stop));
        futures_util::future::try_join_all(chains).await?;
        let mut report = ListingReport {
            listed: seen.lock().map(|s| s.len()).unwrap_or(0),
            expected,
            partitions: ranges.len(),
            recovered: 0,
        };
        // Objects no range matched (no name; an order the bounds do not follow): one more
        // unfiltered pass, sending only what is new.
        if expected.is_some_and(|n| report.listed < n) && ranges.len() > 1 {
            let before = report.listed;
            self.listing_chain(&NameRange::all(), &gate, options, &deliver, &stop)
                .await?;
            report.listed = seen.lock().map(|s| s.len()).unwrap_or(0);
            report.recovered = report.listed - before;
            tracing::info!(
                recovered = report.recovered,
                "objects outside every name range were listed unfiltered"
            );
        }
        if let Some(n) = expected
            && report.listed != n
        {
            // `$count` reads an eventually consistent index: a create or delete during the
            // listing shows here. Not an error; said for the log.
            tracing::info!(
                listed = report.listed,
                count = n,
                "listing and $count differ"
            );
        }
        Ok(report)
    }

    /// One range, page after page, until its last page or a stop.
    async fn listing_chain(
        &self,
        range: &NameRange,
        gate: &Gate,
        options: ParallelListing,
        deliver: &(impl Fn(Vec<AppListItem>) -> bool + Sync),
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<(), EntraError> {
        let mut url = self.url(&format!(
            "applications?$select={APP_CONSOLE_LIGHT_SELECT}&$top={PAGE_SIZE}&$expand=federatedIdentityCredentials{}",
            range
                .filter()
                .map(|f| format!("&$filter={}", urlencode(&f)))
                .unwrap_or_default()
        ));
        loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(());
            }
            let page: Page<AppListItem> = self
                .listing_get(&url, &[], gate, options)
                .await?
                .json("Graph")?;
            let rows = page
                .value
                .into_iter()
                .map(|mut item| {
                    if let Some(listed) = item.federated_identity_credentials.take() {
                        item.federated_identity_credentials =
                            Some(self.merge_local_values(&item.id, listed));
                    }
                    item
                })
                .collect();
            if !deliver(rows) {
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
