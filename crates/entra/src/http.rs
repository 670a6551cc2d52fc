//! The one HTTP layer: a single rustls `reqwest` client with timeouts, a `client-request-id`
//! on every call, retries for 429 / 503 / 504 and dropped connections that honour
//! `Retry-After` (seconds or HTTP date) with capped, jittered exponential backoff, and the
//! mapping of failures to typed errors. Creates are never blindly retried: a lost answer to a
//! create is resolved by the caller reading back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};

use super::error::{EntraError, GraphError, NetworkError, NetworkErrorKind, StsError};

/// Retry schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first.
    pub max_attempts: u32,
    /// First backoff when the service gives no `Retry-After`.
    pub base_delay: Duration,
    /// No backoff of ficus's own choosing is longer than this.
    pub max_delay: Duration,
    /// A service's `Retry-After` is honoured in full up to this long (Graph asks for more
    /// than 30 s when a write quota is spent; retrying earlier only extends the penalty). A
    /// longer one is not waited for: the 429 is returned, naming the wait.
    pub max_retry_after: Duration,
    /// How waits happen: real sleeps, or a virtual clock in tests; and who is told.
    pub waiter: Waiter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            waiter: Waiter::default(),
        }
    }
}

/// Why ficus waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The service answered 429 (its `Retry-After`, or backoff without one).
    Throttled,
    /// 503 / 504: the service is briefly unavailable.
    Unavailable,
    /// The connection failed or dropped.
    Network,
    /// A write is not visible to reads yet (Graph replicates in the background).
    Replication,
    /// ficus holds back its own fan-out to stay inside Graph's throttling budget.
    Pacing,
}

/// One wait: why, how long, for which request (no query string).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wait {
    pub reason: WaitReason,
    pub duration: Duration,
    pub url: String,
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.duration.as_secs_f64();
        let why = match self.reason {
            WaitReason::Throttled => "Graph is throttling ficus (429)",
            WaitReason::Unavailable => "the service is briefly unavailable",
            WaitReason::Network => "the connection failed",
            WaitReason::Replication => "the write is not replicated yet",
            WaitReason::Pacing => "pacing requests to stay inside Graph's throttling budget",
        };
        write!(f, "waiting {secs:.1} s: {why} ({})", self.url)
    }
}

type Observer = Arc<dyn Fn(&Wait) + Send + Sync>;
type OnSleep = Arc<dyn Fn(Duration) + Send + Sync>;

/// Every wait of the entra client goes through one [`Waiter`]: retries, `Retry-After`,
/// replication read-backs and fan-out pacing. It sleeps for real by default; a virtual one
/// (tests) records the wait, moves its own clock forward and returns at once. An observer
/// (the CLI's stderr, the console's status line) is told of every wait before it starts.
/// Clones share everything.
#[derive(Clone, Default)]
pub struct Waiter(Arc<WaiterInner>);

#[derive(Default)]
struct WaiterInner {
    virtual_clock: Option<Mutex<VirtualClock>>,
    observer: Mutex<Option<Observer>>,
}

#[derive(Default)]
struct VirtualClock {
    elapsed: Duration,
    waits: Vec<Wait>,
    on_sleep: Option<OnSleep>,
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("virtual", &self.0.virtual_clock.is_some())
            .finish()
    }
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Waiter {
    /// A waiter that never sleeps: it records each wait and advances a virtual clock.
    pub fn virtual_clock() -> Waiter {
        Waiter(Arc::new(WaiterInner {
            virtual_clock: Some(Mutex::new(VirtualClock::default())),
            observer: Mutex::new(None),
        }))
    }

    /// A virtual waiter that also calls `on_sleep` with each wait (a test moves the sandbox's
    /// clock with it, so buckets refill and replicas catch up as if the time had passed).
    pub fn virtual_clock_with(on_sleep: impl Fn(Duration) + Send + Sync + 'static) -> Waiter {
        Waiter(Arc::new(WaiterInner {
            virtual_clock: Some(Mutex::new(VirtualClock {
                on_sleep: Some(Arc::new(on_sleep)),
                ..VirtualClock::default()
            })),
            observer: Mutex::new(None),
        }))
    }

    /// Tells `observer` of every wait from now on (replaces any earlier one).
    pub fn set_observer(&self, observer: impl Fn(&Wait) + Send + Sync + 'static) {
        let mut slot = self.0.observer.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(Arc::new(observer));
    }

    /// The waits a virtual waiter recorded (empty for a real one).
    pub fn waits(&self) -> Vec<Wait> {
        self.0
            .virtual_clock
            .as_ref()
            .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).waits.clone())
            .unwrap_or_default()
    }

    /// Now, on this waiter's clock (real time plus what a virtual waiter has waited).
    pub fn now(&self) -> Instant {
        let extra = self
            .0
            .virtual_clock
            .as_ref()
            .map(|c| c.lock().unwrap_or_else(|e| e.into_inner()).elapsed)
            .unwrap_or_default();
        Instant::now() + extra
    }

    /// Waits (or records the wait), telling the observer first.
    pub async fn wait(&self, wait: Wait) {
        let observer = self
            .0
            .observer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(observer) = observer {
            observer(&wait);
        }
        match &self.0.virtual_clock {
            None => tokio::time::sleep(wait.duration).await,
            Some(clock) => {
                let on_sleep = {
                    let mut clock = clock.lock().unwrap_or_else(|e| e.into_inner());
                    clock.elapsed += wait.duration;
                    let duration = wait.duration;
                    clock.waits.push(wait);
                    clock.on_sleep.clone().map(|f| (f, duration))
                };
                if let Some((f, duration)) = on_sleep {
                    f(duration);
                }
                tokio::task::yield_now().await;
            }
        }
    }
}

impl RetryPolicy {
    /// No retries at all (probes).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): the service's
    /// `Retry-After` if given (in full, up to `max_retry_after`), else `base * 2^(attempt-1)`
    /// capped at `max_delay`, with "equal jitter" (half fixed, half random) so many clients do
    /// not retry in lockstep.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        half + half.mul_f64(jitter_fraction())
    }
}

/// A number in [0, 1) from the OS random source behind uuid v4 (no extra dependency).
fn jitter_fraction() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() >> 75) as u64; // 53 random bits
    bits as f64 / (1u64 << 53) as f64
}

/// How the client is built.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect + send + read).
    pub request_timeout: Duration,
    /// Extra root CA (PEM), e.g. the sandbox's. When set, only this CA is trusted.
    pub ca_pem: Option<String>,
    /// Bypass any `HTTP(S)_PROXY`: for loopback (sandbox) and link-local (IMDS) endpoints.
    pub no_proxy: bool,
    pub retry: RetryPolicy,
    /// The largest answer body read; a longer one is cut off with [`NetworkErrorKind::TooLarge`].
    pub max_body_bytes: usize,
    /// Where plain `http://` may go (every other request must be `https://`).
    pub plain_http: PlainHttp,
}

/// No real answer of Entra, Graph or a managed identity endpoint comes near this (a Graph page
/// of 999 full app objects is a few MB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            ca_pem: None,
            no_proxy: false,
            retry: RetryPolicy::default(),
            max_body_bytes: MAX_BODY_BYTES,
            plain_http: PlainHttp::LoopbackOnly,
        }
    }
}

/// Which hosts may be spoken to in clear text (`http://`). Everything else needs `https://`,
/// so a token never crosses a network unencrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlainHttp {
    /// Only this machine: 127.0.0.0/8, ::1, `localhost`.
    #[default]
    LoopbackOnly,
    /// This machine and link-local addresses (169.254.0.0/16, fe80::/10): the managed
    /// identity endpoints (IMDS at 169.254.169.254, App Service), which speak only `http`.
    LoopbackAndLinkLocal,
}

impl PlainHttp {
    /// Whether `url` may be requested under this policy: any `https://`, or `http://` to an
    /// allowed host. A URL that does not parse is left to the HTTP client to refuse.
    pub fn allows(self, url: &url::Url) -> bool {
        if url.scheme() != "http" {
            return true;
        }
        match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => {
                ip.is_loopback() || (self == PlainHttp::LoopbackAndLinkLocal && ip.is_link_local())
            }
            Some(url::Host::Ipv6(ip)) => {
                ip.is_loopback()
                    || (self == PlainHttp::LoopbackAndLinkLocal
                        && (ip.segments()[0] & 0xffc0) == 0xfe80)
            }
            None => false,
        }
    }
}

/// Why a plain `http://` URL is refused, and what to do (shared by every refusal).
pub fn plain_http_refusal(url: &str) -> String {
    format!(
        "refused to send plain http:// to {}: tokens would travel unencrypted over the network",
        origin_of(url)
    )
}

/// `scheme://host:port` of a URL, without user info, path or query (safe to show); the
/// redacted text when it does not parse.
pub fn origin_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => u.origin().ascii_serialization(),
        _ => redact_userinfo(url),
    }
}

pub use crate::redact::redact_userinfo;

/// Whether a failed request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads, deletes, PATCHes, token requests: retried on 429/503/504 and dropped connections.
    Idempotent,
    /// POSTs that create: retried only when the service certainly did not act (429, or the
    /// connection was never made). A dropped connection or a 503/504 is returned to the caller,
    /// who reads back to learn whether the object exists.
    Create,
    /// Never retried (probes).
    Never,
}

/// A complete answer: status, headers, body, and how long it took (all attempts).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub client_request_id: String,
    pub elapsed: Duration,
    pub attempts: u32,
}

impl Response {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, service: &str) -> Result<T, EntraError> {
        serde_json::from_slice(&self.body).map_err(|e| EntraError::Protocol {
            service: service.to_string(),
            detail: format!("unexpected JSON: {e}"),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A Graph error from this (non-success) answer; falls back to the status line.
    pub fn graph_error(&self) -> GraphError {
        #[derive(serde::Deserialize)]
        struct Outer {
            error: Inner,
        }
        #[derive(serde::Deserialize)]
        struct Inner {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default, rename = "innerError")]
            inner: Option<InnerError>,
        }
        #[derive(serde::Deserialize)]
        struct InnerError {
            #[serde(default)]
            date: Option<String>,
            #[serde(default, rename = "request-id")]
            request_id: Option<String>,
        }
        let parsed: Option<Outer> = serde_json::from_slice(&self.body).ok();
        let (code, message, date, request_id) = match parsed {
            Some(o) => {
                let inner = o.error.inner;
                (
                    o.error.code,
                    o.error.message,
                    inner.as_ref().and_then(|i| i.date.clone()),
                    inner.and_then(|i| i.request_id),
                )
            }
            None => (
                self.status
                    .canonical_reason()
                    .unwrap_or("HTTP error")
                    .to_string(),
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(300)
                    .collect(),
                None,
                None,
            ),
        };
        GraphError {
            status: self.status.as_u16(),
            code,
            message,
            request_id: request_id.or_else(|| self.header("request-id").map(str::to_string)),
            client_request_id: Some(self.client_request_id.clone()),
            date: date.or_else(|| self.header("date").map(str::to_string)),
        }
    }

    /// A token-service error from this (non-success) answer.
    pub fn sts_error(&self, endpoint: &str) -> StsError {
        StsError::from_body(self.status.as_u16(), endpoint, &self.body).unwrap_or_else(|| {
            StsError::without_body(
                self.status.as_u16(),
                self.status
                    .canonical_reason()
                    .unwrap_or("http_error")
                    .to_string(),
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(300)
                    .collect(),
                endpoint,
            )
        })
    }
}

/// The shared HTTP client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    retry: RetryPolicy,
    max_body_bytes: usize,
    plain_http: PlainHttp,
}

impl Http {
    pub fn new(config: &HttpConfig) -> Result<Http, EntraError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // oauth2 advice (SSRF) and Graph never needs redirects for what ficus calls.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ficus/", env!("CARGO_PKG_VERSION")));
        if config.no_proxy {
            builder = builder.no_proxy();
        }
        if let Some(pem) = &config.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                EntraError::Invalid(format!(
                    "the CA certificate is not valid PEM ({e}); pass the sandbox's ca.pem"
                ))
            })?;
            if certs.is_empty() {
                return Err(EntraError::Invalid(
                    "the CA file holds no certificate; pass the sandbox's ca.pem".into(),
                ));
            }
            builder = builder.tls_certs_only(certs);
        }
        let client = builder
            .build()
            .map_err(|e| EntraError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Http {
            client,
            retry: config.retry.clone(),
            max_body_bytes: config.max_body_bytes,
            plain_http: config.plain_http,
        })
    }

    /// The underlying client (for the oauth2 adapter).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The largest answer body this client reads.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Where this client may speak plain `http://`.
    pub fn plain_http(&self) -> PlainHttp {
        self.plain_http
    }

    /// Refuses a request this client must not send: plain `http://` to a host its
    /// [`PlainHttp`] policy does not allow. Checked before every request, whoever built it.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), NetworkError> {
        if self.plain_http.allows(url) {
            return Ok(());
        }
        Err(NetworkError {
            kind: NetworkErrorKind::PlainHttp,
            url: safe_url(url),
            detail: plain_http_refusal(url.as_str()),
            attempts: 0,
            client_request_id: None,
        })
    }

    /// Sends a request built by `build` (called again for each attempt), retrying per `retry`.
    /// Adds `client-request-id` and `return-client-request-id`. Returns the final answer
    /// whatever its status; only transport failures are errors.
    pub async fn send(
        &self,
        retry: Retry,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync,
    ) -> Result<Response, NetworkError> {
        self.send_built_by(retry, &build).await
    }

    /// [`Http::send`]'s one body, boxed on purpose (a build-time choice): generic over the
    /// builder, and `async`, it was compiled once per call site in every crate that polls it
    /// (the console, the commands, start-up); behind `dyn` it is compiled once, here.
    fn send_built_by<'a>(
        &'a self,
        retry: Retry,
        build: &'a (dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Response, NetworkError>> + Send + 'a>> {
        Box::pin(self.send_with(retry, build))
    }

    async fn send_with(
        &self,
        retry: Retry,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
    ) -> Result<Response, NetworkError> {
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let max_attempts = match retry {
            Retry::Never => 1,
            _ => self.retry.max_attempts.max(1),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = build(&self.client)
                .header("client-request-id", client_request_id.as_str())
                .header("return-client-request-id", "true")
                .build();
            let request = match request {
                Ok(r) => r,
                Err(e) => return Err(network_error(&e, attempt, &client_request_id)),
            };
            self.check_url(request.url())?;
            let url = safe_url(request.url());
            tracing::debug!(method = %request.method(), %url, attempt, %client_request_id, "http request");
            let outcome = match self.client.execute(request).await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    match read_body(resp, self.max_body_bytes).await {
                        Ok(body) => Ok((status, headers, body)),
                        Err(BodyError::TooLarge) => {
                            return Err(too_large(
                                &url,
                                self.max_body_bytes,
                                attempt,
                                &client_request_id,
                            ));
                        }
                        Err(BodyError::Read(e)) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok((status, headers, body)) => {
                    let retryable = matches!(
                        (retry, status.as_u16()),
                        (Retry::Idempotent, 429 | 503 | 504) | (Retry::Create, 429)
                    );
                    let retry_after = parse_retry_after(headers.get("retry-after"));
                    // A Retry-After longer than ficus will wait: answer now, naming it.
                    let too_long = retry_after.is_some_and(|w| w > self.retry.max_retry_after);
                    if retryable && !too_long && attempt < max_attempts {
                        let wait = self.retry.delay(attempt, retry_after);
                        tracing::info!(%status, %url, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                        let reason = if status.as_u16() == 429 {
                            WaitReason::Throttled
                        } else {
                            WaitReason::Unavailable
                        };
                        self.retry
                            .waiter
                            .wait(Wait {
                                reason,
                                duration: wait,
                                url: url.clone(),
                            })
                            .await;
                        continue;
                    }
                    return Ok(Response {
                        status,
                        headers,
                        body,
                        client_request_id,
                        elapsed: started.elapsed(),
                        attempts: attempt,
                    });
                }
                Err(e) => {
                    let error = network_error(&e, attempt, &client_request_id);
                    let never_sent = e.is_connect();
                    let retryable = match retry {
                        Retry::Idempotent => matches!(
                            error.kind,
                            NetworkErrorKind::Connect
                                | NetworkErrorKind::ConnectionReset
                                | NetworkErrorKind::Timeout
                                | NetworkErrorKind::Body
                        ),
                        Retry::Create => never_sent,
                        Retry::Never => false,
                    };
                    if retryable && attempt < max_attempts {
                        let wait = self.retry.delay(attempt, None);
                        tracing::info!(kind = ?error.kind, %url, attempt, "retrying after network error");
                        self.retry
                            .waiter
                            .wait(Wait {
                                reason: WaitReason::Network,
                                duration: wait,
                                url: url.clone(),
                            })
                            .await;
                        continue;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// GET with the given bearer token and headers, retried as idempotent.
    pub async fn get_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<Response, NetworkError> {
        self.send(Retry::Idempotent, |c| {
            let mut rb = c.request(Method::GET, url);
            if let Some(token) = bearer {
                rb = rb.bearer_auth(token);
            }
            for (k, v) in extra {
                rb = rb.header(*k, *v);
            }
            rb
        })
        .await
    }
}

/// Why an answer's body could not be read.
pub(crate) enum BodyError {
    /// Longer than the cap (declared or streamed): reading stopped there.
    TooLarge,
    Read(reqwest::Error),
}

/// Reads an answer's body, at most `max` bytes: a declared `Content-Length` over the cap is
/// refused before reading, a stream is cut off as soon as it passes the cap.
pub(crate) async fn read_body(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX))
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error for an answer over the size cap.
pub(crate) fn too_large(
    url: &str,
    max: usize,
    attempts: u32,
    client_request_id: &str,
) -> NetworkError {
    NetworkError {
        kind: NetworkErrorKind::TooLarge,
        url: url.to_string(),
        detail: format!(
            "the answer is larger than {} MiB, more than any Entra or Graph answer; ficus stopped reading it",
            max / (1024 * 1024)
        ),
        attempts,
        client_request_id: Some(client_request_id.to_string()),
    }
}

/// `Retry-After` as seconds or an HTTP date (IMF-fixdate); dates in the past mean "now".
pub fn parse_retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let text = value?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = text.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let when = time::PrimitiveDateTime::parse(text, &format)
        .ok()?
        .assume_utc();
    let now = time::OffsetDateTime::now_utc();
    let wait = when - now;
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// [`safe_url`] for a URL held as text (the redacted text when it does not parse).
pub fn safe_url_text(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => safe_url(&u),
        Err(_) => redact_userinfo(url),
    }
}

/// The URL without its query and user info (safe to show and log).
pub fn safe_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

pub(crate) fn network_error(
    e: &reqwest::Error,
    attempts: u32,
    client_request_id: &str,
) -> NetworkError {
    let kind = classify(e);
    let url = e.url().map(safe_url).unwrap_or_else(|| "(unknown)".into());
    NetworkError {
        kind,
        url,
        detail: redact_userinfo(&error_chain(e)),
        attempts,
        client_request_id: Some(client_request_id.to_string()),
    }
}

/// TLS trouble, recognised from the error text (rustls errors are not typed through reqwest).
pub(crate) fn is_tls_failure(chain: &str) -> bool {
    let chain = chain.to_ascii_lowercase();
    chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
}

fn classify(e: &reqwest::Error) -> NetworkErrorKind {
    let chain = error_chain(e).to_ascii_lowercase();
    if is_tls_failure(&chain) {
        return NetworkErrorKind::Tls;
    }
    if e.is_timeout() {
        return NetworkErrorKind::Timeout;
    }
    if e.is_connect() {
        return NetworkErrorKind::Connect;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return NetworkErrorKind::ConnectionReset;
            }
        }
        source = err.source();
    }
    if chain.contains("connection closed")
        || chain.contains("incomplete message")
        || chain.contains("connection reset")
    {
        return NetworkErrorKind::ConnectionReset;
    }
    if e.is_body() || e.is_decode() {
        return NetworkErrorKind::Body;
    }
    if e.is_request() {
        return NetworkErrorKind::ConnectionReset;
    }
    NetworkErrorKind::Other
}

/// An error and all its sources, joined (reqwest hides the useful part in the sources).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let v = HeaderValue::from_static("3");
        assert_eq!(parse_retry_after(Some(&v)), Some(Duration::from_secs(3)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(Some(&past)), Some(Duration::ZERO));
        let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let text = future.format(&format).expect("formats");
        let v = HeaderValue::from_str(&text).expect("header");
        let wait = parse_retry_after(Some(&v)).expect("parses");
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("soon"))),
            None
        );
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn backoff_is_capped_jittered_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(120),
            ..RetryPolicy::default()
        };
        for attempt in 1..10 {
            let d = p.delay(attempt, None);
            let full = (Duration::from_millis(100) * (1 << (attempt - 1).min(16))).min(p.max_delay);
            assert!(
                d >= full / 2 && d <= full,
                "attempt {attempt}: {d:?} vs {full:?}"
            );
        }
        // Retry-After is honoured in full, beyond ficus's own backoff cap, up to its own cap.
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(45))),
            Duration::from_secs(45)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(600))),
            Duration::from_secs(120)
        );
        assert_eq!(
            p.delay(3, Some(Duration::from_millis(10))),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn safe_url_drops_query() {
        let u = reqwest::Url::parse("https://h/p?$skiptoken=abc&x=1").expect("url");
        assert_eq!(safe_url(&u), "https://h/p");
    }
}
