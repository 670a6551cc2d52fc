//! The effects runner: executes each `Cmd` on tokio and sends the answer back as a `Msg`
//! tagged with the request id. The console reaches the directory only through [`Directory`],
//! so `update`, the views and their tests never depend on the Graph client's exact types; the
//! Graph-backed implementation converts entra's types into the console's rows.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::error::{DirectoryError, ErrorKind};
use crate::model::{AppDetail, AppRow, IdentityDetail, IdentityRow, TrustRow};
use crate::msg::{Cmd, Msg};

pub mod exchange;
pub mod wizard;

pub use exchange::read_token_file;

/// One page of a list and the link to the next, as Graph pages (`@odata.nextLink`).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
}

/// What the console needs from a directory. Errors are sentences that say what to do next.
pub trait Directory: Send + Sync + 'static {
    /// Signs in (from a cache, a prepared session or the device code flow) and reports each
    /// step as `Msg::SignIn`; ends with `Done` or `Failed`.
    fn sign_in(&self, tx: UnboundedSender<Msg>) -> impl Future<Output = ()> + Send;
    fn apps_page(
        &self,
        next: Option<String>,
    ) -> impl Future<Output = Result<Page<AppRow>, DirectoryError>> + Send;
    fn identities_page(
        &self,
        next: Option<String>,
    ) -> impl Future<Output = Result<Page<IdentityRow>, DirectoryError>> + Send;
    fn app_detail(
        &self,
        object_id: String,
    ) -> impl Future<Output = Result<AppDetail, DirectoryError>> + Send;
    fn identity_detail(
        &self,
        identity: IdentityRow,
    ) -> impl Future<Output = Result<IdentityDetail, DirectoryError>> + Send;
    fn delete_fic(
        &self,
        app_object_id: String,
        fic_id: String,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
    /// Creates a FIC and returns it as read back from the directory.
    fn create_fic(
        &self,
        app_object_id: String,
        fic: ficus_core::fic::Fic,
    ) -> impl Future<Output = Result<ficus_core::fic::Fic, DirectoryError>> + Send;
    /// Changes a FIC's issuer, subject, audiences and description; returns it as read back.
    fn update_fic(
        &self,
        app_object_id: String,
        fic_id: String,
        fic: ficus_core::fic::Fic,
    ) -> impl Future<Output = Result<ficus_core::fic::Fic, DirectoryError>> + Send;

    // The live test exchange and the token inspector (#7). The defaults say the directory
    // cannot do it, so directories without a token service stay valid.

    /// Where the managed identity token would come from on this host.
    fn msi_source(
        &self,
    ) -> impl Future<Output = Result<crate::token_effects::SourceInfo, String>> + Send {
        async { Err(NO_TOKEN_SERVICE.to_string()) }
    }
    /// Runs one exchange, sending each finished step as `ExchangeMsg::Step` tagged `request`.
    fn exchange(
        &self,
        request: crate::msg::RequestId,
        spec: crate::token_effects::ExchangeSpec,
        tx: UnboundedSender<Msg>,
    ) -> impl Future<Output = Result<crate::token_effects::ExchangeResult, String>> + Send {
        let _ = (request, spec, tx);
        async { Err(NO_TOKEN_SERVICE.to_string()) }
    }
    /// Checks a token's signature against its issuer's published keys; `Ok(kid)`.
    fn verify_token(
        &self,
        token: ficus_core::secret::Secret<String>,
    ) -> impl Future<Output = Result<String, String>> + Send {
        let _ = token;
        async { Err(NO_TOKEN_SERVICE.to_string()) }
    }
    /// Signs in to another tenant (the palette's `tenant NAME`), reporting like `sign_in`.
    /// `Err` (nothing sent, the current session kept) when this directory cannot switch.
    fn switch_tenant(
        &self,
        tenant: String,
        tx: UnboundedSender<Msg>,
    ) -> impl Future<Output = Result<(), String>> + Send {
        let _ = (tenant, tx);
        async {
            Err("this directory signs in to one tenant only; quit (q) and start ficus --tenant NAME"
                .to_string())
        }
    }
    /// What `guid` names in the directory, one sentence per match (empty: nothing). The
    /// default asks nothing, so the palette's `whois` falls back to what is loaded.
    fn whois(&self, guid: String) -> impl Future<Output = Result<Vec<String>, String>> + Send {
        let _ = guid;
        async { Err(NO_DIRECTORY_LOOKUP.to_string()) }
    }
    /// An app's FICs (the inspector's "which FIC would this token satisfy").
    fn app_fics(
        &self,
        app_object_id: String,
    ) -> impl Future<Output = Result<Vec<ficus_core::fic::Fic>, String>> + Send {
        async move {
            self.app_detail(app_object_id)
                .await
                .map(|d| d.fics.into_iter().map(|f| f.fic).collect())
                .map_err(|e| e.message)
        }
    }
}

fn not_found(message: &str) -> DirectoryError {
    DirectoryError::new(ErrorKind::NotFound, message)
}

/// What a directory that cannot look GUIDs up says under `whois`'s local answer.
pub const NO_DIRECTORY_LOOKUP: &str = "this directory cannot look GUIDs up; showing what is loaded";

/// What a directory without a token service says to the exchange screen.
pub const NO_TOKEN_SERVICE: &str =
    "this directory has no token service to exchange with; paste a token (p) to inspect it instead";

/// Sends a paged list as one message a page (`page_msg(rows, page number, last?)`) until the
/// last page, an error (`failed_msg`), or a console that stopped listening.
async fn stream_pages<T, Fetch, Fut>(
    mut fetch: Fetch,
    tx: &UnboundedSender<Msg>,
    page_msg: impl Fn(Vec<T>, usize, bool) -> Msg,
    failed_msg: impl Fn(DirectoryError) -> Msg,
) where
    Fetch: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, DirectoryError>>,
{
    let mut next = None;
    for page in 1.. {
        match fetch(next.take()).await {
            Ok(Page { rows, next: link }) => {
                let done = link.is_none();
                if tx.send(page_msg(rows, page, done)).is_err() || done {
                    return;
                }
                next = link;
            }
            Err(error) => {
                tracing::warn!(page, %error, "loading a list failed");
                let _ = tx.send(failed_msg(error));
                return;
            }
        }
    }
}

/// Runs one command in the background. `Copy` and `Quit` belong to the terminal loop and are
/// not handled here, nor is `SaveTheme` (the loop writes config.toml). A panic inside an
/// effect becomes that effect's error answer (or an error toast), never a dead task or a
/// restored terminal under a running console.
pub fn spawn<D: Directory>(directory: &Arc<D>, cmd: Cmd, tx: &UnboundedSender<Msg>) {
    let directory = Arc::clone(directory);
    let sender = tx.clone();
    let tx = tx.clone();
    match cmd {
        Cmd::LoadApps { request } => spawn_guarded(
            &sender,
            async move {
                stream_pages(
                    |next| directory.apps_page(next),
                    &tx,
                    |rows, page, done| Msg::AppsPage {
                        request,
                        rows,
                        page,
                        done,
                    },
                    |error: DirectoryError| Msg::AppsFailed {
                        request,
                        error: error.message,
                    },
                )
                .await
            },
            move |error| Msg::AppsFailed { request, error },
        ),
        Cmd::LoadIdentities { request } => spawn_guarded(
            &sender,
            async move {
                stream_pages(
                    |next| directory.identities_page(next),
                    &tx,
                    |rows, page, done| Msg::IdentitiesPage {
                        request,
                        rows,
                        page,
                        done,
                    },
                    |error: DirectoryError| Msg::IdentitiesFailed {
                        request,
                        error: error.message,
                    },
                )
                .await
            },
            move |error| Msg::IdentitiesFailed { request, error },
        ),
        Cmd::LoadAppDetail { request, object_id } => spawn_guarded(
            &sender,
            async move {
                let result = directory.app_detail(object_id).await.map(Box::new);
                let _ = tx.send(Msg::AppDetailLoaded { request, result });
            },
            move |error: String| Msg::AppDetailLoaded {
                request,
                result: Err(error.into()),
            },
        ),
        Cmd::LoadIdentityDetail { request, identity } => spawn_guarded(
            &sender,
            async move {
                let result = directory.identity_detail(*identity).await.map(Box::new);
                let _ = tx.send(Msg::IdentityDetailLoaded { request, result });
            },
            move |error: String| Msg::IdentityDetailLoaded {
                request,
                result: Err(error.into()),
            },
        ),
        Cmd::DeleteFic {
            request,
            app_object_id,
            fic_id,
        } => spawn_guarded(
            &sender,
            async move {
                tracing::info!(request, %app_object_id, %fic_id, "deleting FIC");
                let result = directory.delete_fic(app_object_id, fic_id).await;
                let _ = tx.send(Msg::FicDeleted { request, result });
            },
            move |error: String| Msg::FicDeleted {
                request,
                result: Err(error.into()),
            },
        ),
        Cmd::Whois { request, guid } => {
            let asked = guid.clone();
            spawn_guarded(
                &sender,
                async move {
                    let result = directory.whois(guid.clone()).await;
                    let _ = tx.send(Msg::WhoisAnswered {
                        request,
                        guid,
                        result,
                    });
                },
                move |error| Msg::WhoisAnswered {
                    request,
                    guid: asked,
                    result: Err(error),
                },
            )
        }
        Cmd::SwitchTenant { tenant } => spawn_guarded(
            &sender,
            async move {
                if let Err(reason) = directory.switch_tenant(tenant, tx.clone()).await {
                    let _ = tx.send(Msg::SwitchRefused(reason));
                }
            },
            Msg::SwitchRefused,
        ),
        Cmd::StartSignIn => spawn_guarded(
            &sender,
            async move { directory.sign_in(tx).await },
            |detail| {
                Msg::SignIn(crate::msg::SignInEvent::Failed(
                    crate::msg::SignInFailure::Other { detail },
                ))
            },
        ),
        Cmd::Rest { request, after } => {
            // One sleeping timer per cursor move; a newer move makes this one's answer stale.
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let _ = tx.send(Msg::Rested { request });
            });
        }
        Cmd::Wizard(cmd) => wizard::spawn(&directory, cmd, &tx),
        Cmd::Exchange(cmd) => exchange::spawn(directory, cmd, tx),
        Cmd::Copy(_) | Cmd::Quit | Cmd::SaveTheme(_) => {}
    }
}

thread_local! {
    /// Set while this thread polls an effect's future, so the panic hook can tell a panicking
    /// effect (contained, reported as a toast) from a panicking console (restore the terminal).
    static IN_EFFECT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while the current thread runs an effect under [`contain`]; the terminal's panic hook
/// then leaves the terminal alone and only logs.
pub fn panicking_in_effect() -> bool {
    IN_EFFECT.with(std::cell::Cell::get)
}

/// A future whose panic is caught and returned as `Err(message)`.
pub struct Contained<F> {
    inner: std::pin::Pin<Box<F>>,
}

/// Runs `future` so that a panic inside it ends it with `Err(the panic's message)`.
pub fn contain<F: Future>(future: F) -> Contained<F> {
    Contained {
        inner: Box::pin(future),
    }
}

impl<F: Future> Future for Contained<F> {
    type Output = Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let outer = IN_EFFECT.with(|flag| flag.replace(true));
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.inner.as_mut().poll(cx)
        }));
        IN_EFFECT.with(|flag| flag.set(outer));
        match polled {
            Ok(std::task::Poll::Ready(value)) => std::task::Poll::Ready(Ok(value)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// Runs blocking work (for `spawn_blocking`, on another thread) as an effect: a panic inside
/// it is `Err(message)` and, like one under [`contain`], leaves the terminal alone.
pub fn contain_blocking<R>(work: impl FnOnce() -> R) -> Result<R, String> {
    let outer = IN_EFFECT.with(|flag| flag.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    IN_EFFECT.with(|flag| flag.set(outer));
    result.map_err(|payload| panic_message(payload.as_ref()))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// What a contained panic tells the admin.
pub fn internal_error(message: &str) -> String {
    format!(
        "ficus hit an internal error ({message}); nothing else is affected. Try again (r), and if \
         it repeats, report it with the log file"
    )
}

/// Spawns an effect; if it panics, `on_panic(sentence)` is sent instead of its answer so the
/// console stops waiting and says what happened.
pub fn spawn_guarded<F>(
    tx: &UnboundedSender<Msg>,
    future: F,
    on_panic: impl FnOnce(String) -> Msg + Send + 'static,
) where
    F: Future<Output = ()> + Send + 'static,
{
    let tx = tx.clone();
    tokio::spawn(async move {
        if let Err(message) = contain(future).await {
            tracing::error!(%message, "a background effect panicked; the console goes on");
            let _ = tx.send(on_panic(internal_error(&message)));
        }
    });
}

/// A directory held in memory: for tests, benchmarks and the screens' snapshots. Pages are
/// cut like Graph's.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    /// Who `sign_in` reports as signed in.
    pub session: Option<crate::msg::Session>,
    pub apps: Vec<AppDetail>,
    pub identities: Vec<IdentityDetail>,
    pub page_size: usize,
}

impl MemoryDirectory {
    fn page<T: Clone>(
        items: &[T],
        next: Option<String>,
        page_size: usize,
    ) -> Result<Page<T>, DirectoryError> {
        let start: usize = match next {
            Some(link) => link
                .parse()
                .map_err(|_| format!("bad page link {link}; press r to reload from the start"))?,
            None => 0,
        };
        let size = page_size.max(1);
        let end = (start + size).min(items.len());
        Ok(Page {
            rows: items.get(start..end).unwrap_or_default().to_vec(),
            next: (end < items.len()).then(|| end.to_string()),
        })
    }
}

impl Directory for std::sync::Mutex<MemoryDirectory> {
    async fn sign_in(&self, tx: UnboundedSender<Msg>) {
        let session = self.lock().ok().and_then(|d| d.session.clone());
        let event = match session {
            Some(session) => crate::msg::SignInEvent::Done(Box::new(session)),
            None => crate::msg::SignInEvent::Failed(crate::msg::SignInFailure::Other {
                detail: "this directory has no account to sign in with".into(),
            }),
        };
        let _ = tx.send(Msg::SignIn(event));
    }

    async fn apps_page(&self, next: Option<String>) -> Result<Page<AppRow>, DirectoryError> {
        let directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let rows: Vec<AppRow> = directory.apps.iter().map(|d| d.app.clone()).collect();
        MemoryDirectory::page(&rows, next, directory.page_size)
    }

    async fn identities_page(
        &self,
        next: Option<String>,
    ) -> Result<Page<IdentityRow>, DirectoryError> {
        let directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let rows: Vec<IdentityRow> = directory
            .identities
            .iter()
            .map(|d| d.identity.clone())
            .collect();
        MemoryDirectory::page(&rows, next, directory.page_size)
    }

    async fn app_detail(&self, object_id: String) -> Result<AppDetail, DirectoryError> {
        let directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        directory
            .apps
            .iter()
            .find(|d| d.app.object_id == object_id)
            .cloned()
            .ok_or_else(|| {
                not_found("this app no longer exists; press Esc and r to reload the list")
            })
    }

    async fn identity_detail(
        &self,
        identity: IdentityRow,
    ) -> Result<IdentityDetail, DirectoryError> {
        let directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        Ok(directory
            .identities
            .iter()
            .find(|d| d.identity.principal_id == identity.principal_id)
            .cloned()
            .unwrap_or(IdentityDetail {
                identity,
                trusted_by: Vec::<TrustRow>::new(),
            }))
    }

    async fn delete_fic(
        &self,
        app_object_id: String,
        fic_id: String,
    ) -> Result<(), DirectoryError> {
        let mut directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let app = directory
            .apps
            .iter_mut()
            .find(|d| d.app.object_id == app_object_id)
            .ok_or_else(|| not_found("this app no longer exists; press Esc and r to reload"))?;
        let before = app.fics.len();
        app.fics
            .retain(|f| f.fic.id.as_deref() != Some(fic_id.as_str()));
        if app.fics.len() == before {
            return Err("that FIC is already gone; press r to reload".into());
        }
        app.app.fic_count = Some(app.fics.len());
        Ok(())
    }

    async fn create_fic(
        &self,
        app_object_id: String,
        mut fic: ficus_core::fic::Fic,
    ) -> Result<ficus_core::fic::Fic, DirectoryError> {
        let mut directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let app = directory
            .apps
            .iter_mut()
            .find(|d| d.app.object_id == app_object_id)
            .ok_or_else(|| not_found("this app no longer exists; press Esc and r to reload"))?;
        if app.fics.len() >= ficus_core::fic::rules::MAX_FICS_PER_APP {
            return Err("the app already has 20 FICs, Graph's limit; delete one first".into());
        }
        if app
            .fics
            .iter()
            .any(|f| f.fic.name.eq_ignore_ascii_case(&fic.name))
        {
            return Err(DirectoryError::new(
                ErrorKind::Conflict,
                format!(
                    "the app already has a FIC named '{}'; pick another name",
                    fic.name
                ),
            ));
        }
        fic.id = Some(uuid::Uuid::new_v4().to_string());
        app.fics.push(crate::model::FicRow {
            fic: fic.clone(),
            subject_name: None,
            findings: Vec::new(),
        });
        app.app.fic_count = Some(app.fics.len());
        Ok(fic)
    }

    async fn update_fic(
        &self,
        app_object_id: String,
        fic_id: String,
        fic: ficus_core::fic::Fic,
    ) -> Result<ficus_core::fic::Fic, DirectoryError> {
        let mut directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let app = directory
            .apps
            .iter_mut()
            .find(|d| d.app.object_id == app_object_id)
            .ok_or_else(|| not_found("this app no longer exists; press Esc and r to reload"))?;
        let stored = app
            .fics
            .iter_mut()
            .find(|f| f.fic.id.as_deref() == Some(fic_id.as_str()))
            .ok_or_else(|| not_found("that FIC is gone; press Esc and r to reload the app"))?;
        // The name is immutable, as in Graph.
        stored.fic.issuer = fic.issuer;
        stored.fic.subject = fic.subject;
        stored.fic.audiences = fic.audiences;
        stored.fic.description = fic.description;
        Ok(stored.fic.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::RequestId;

    /// A directory whose app detail panics, as a bug in a conversion would.
    struct Panicking;

    impl Directory for Panicking {
        async fn sign_in(&self, _tx: UnboundedSender<Msg>) {}
        async fn apps_page(&self, _next: Option<String>) -> Result<Page<AppRow>, DirectoryError> {
            Ok(Page {
                rows: Vec::new(),
                next: None,
            })
        }
        async fn identities_page(
            &self,
            _next: Option<String>,
        ) -> Result<Page<IdentityRow>, DirectoryError> {
            panic!("identities exploded")
        }
        async fn app_detail(&self, object_id: String) -> Result<AppDetail, DirectoryError> {
            let index: usize = object_id.len() + 10;
            let empty: Vec<AppDetail> = Vec::new();
            Ok(empty[index].clone())
        }
        async fn identity_detail(
            &self,
            _identity: IdentityRow,
        ) -> Result<IdentityDetail, DirectoryError> {
            Err("unused".into())
        }
        async fn delete_fic(&self, _app: String, _fic: String) -> Result<(), DirectoryError> {
            Err("unused".into())
        }
        async fn create_fic(
            &self,
            _app: String,
            _fic: ficus_core::fic::Fic,
        ) -> Result<ficus_core::fic::Fic, DirectoryError> {
            Err("unused".into())
        }
        async fn update_fic(
            &self,
            _app: String,
            _fic_id: String,
            _fic: ficus_core::fic::Fic,
        ) -> Result<ficus_core::fic::Fic, DirectoryError> {
            Err("unused".into())
        }
    }

    async fn answer(cmd: Cmd) -> Msg {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        spawn(&Arc::new(Panicking), cmd, &tx);
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
            .await
            .expect("an answer, not a dead task")
            .expect("channel open")
    }

    #[tokio::test]
    async fn a_panicking_effect_answers_with_its_error() {
        const REQUEST: RequestId = 7;
        let msg = answer(Cmd::LoadAppDetail {
            request: REQUEST,
            object_id: "obj".into(),
        })
        .await;
        let Msg::AppDetailLoaded {
            request,
            result: Err(error),
        } = msg
        else {
            panic!("an error answer expected: {msg:?}");
        };
        assert_eq!(request, REQUEST);
        assert!(error.message.contains("internal error"), "{error}");
        assert!(error.message.contains("index out of bounds"), "{error}");

        let msg = answer(Cmd::LoadIdentities { request: REQUEST }).await;
        assert!(
            matches!(&msg, Msg::IdentitiesFailed { request: REQUEST, error } if error.contains("identities exploded")),
            "{msg:?}"
        );
    }

    #[test]
    fn the_panic_hook_can_tell_an_effect_from_the_console() {
        // Seen from inside the panicking effect (as the hook runs, before unwinding ends).
        struct Probe(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Probe {
            fn drop(&mut self) {
                self.0
                    .store(panicking_in_effect(), std::sync::atomic::Ordering::SeqCst);
            }
        }
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let probe = Probe(seen.clone());
        let result = futures_util::FutureExt::now_or_never(contain(async move {
            let _probe = probe;
            panic!("boom")
        }));
        assert_eq!(result, Some(Err("boom".to_string())));
        assert!(seen.load(std::sync::atomic::Ordering::SeqCst));
        assert!(!panicking_in_effect(), "the flag is down again afterwards");
    }

    #[tokio::test]
    async fn blocking_work_that_panics_is_contained_on_its_own_thread() {
        let answer = tokio::task::spawn_blocking(|| {
            let inside = contain_blocking(panicking_in_effect);
            let panicked = contain_blocking(|| -> usize { panic!("disk gone") });
            (inside, panicked, panicking_in_effect())
        })
        .await
        .expect("the blocking task itself does not panic");
        assert_eq!(
            answer.0,
            Ok(true),
            "the hook's flag is up while the work runs"
        );
        assert_eq!(answer.1, Err("disk gone".to_string()));
        assert!(!answer.2, "and down again afterwards");
    }

    /// Pages go out in order, numbered, the last one marked; a failure ends the stream with
    /// the failure message after what was already sent.
    #[tokio::test]
    async fn pages_stream_in_order_and_a_failure_ends_the_stream() {
        let row = |name: &str| AppRow {
            object_id: format!("obj-{name}"),
            app_id: format!("app-{name}"),
            name: name.into(),
            fic_count: Some(0),
            credentials: Vec::new(),
            audience: crate::model::Audience::Single,
        };
        let fetch = |fail_at: Option<&'static str>| {
            move |next: Option<String>| {
                let answer = match next.as_deref() {
                    _ if fail_at.is_some() && next.as_deref() == fail_at => {
                        Err("429 throttled; press r".into())
                    }
                    None => Ok(Page {
                        rows: vec![row("a"), row("b")],
                        next: Some("2".into()),
                    }),
                    Some("2") => Ok(Page {
                        rows: vec![row("c")],
                        next: None,
                    }),
                    Some(other) => Err(format!("unexpected link {other}").into()),
                };
                async move { answer }
            }
        };
        let page_msg = |rows, page, done| Msg::AppsPage {
            request: 7,
            rows,
            page,
            done,
        };
        let failed_msg = |error: DirectoryError| Msg::AppsFailed {
            request: 7,
            error: error.message,
        };

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        stream_pages(fetch(None), &tx, page_msg, failed_msg).await;
        let mut seen = Vec::new();
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::AppsPage {
                    rows, page, done, ..
                } => seen.push((rows.len(), page, done)),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(seen, [(2, 1, false), (1, 2, true)]);

        stream_pages(fetch(Some("2")), &tx, page_msg, failed_msg).await;
        assert!(matches!(
            rx.try_recv(),
            Ok(Msg::AppsPage {
                page: 1,
                done: false,
                ..
            })
        ));
        assert!(matches!(
            rx.try_recv(),
            Ok(Msg::AppsFailed { error, .. }) if error.starts_with("429")
        ));
        assert!(rx.try_recv().is_err(), "nothing after the failure");
    }
}
