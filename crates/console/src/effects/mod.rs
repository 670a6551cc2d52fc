//! The effects runner: executes each `Cmd` on tokio and sends the answer back as a `Msg`
//! tagged with the request id. The console reaches the directory only through [`Directory`],
//! so `update`, the views and their tests never depend on the Graph client's exact types; the
//! Graph-backed implementation converts entra's types into the console's rows.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use crate::error::{DirectoryError, ErrorKind};
use crate::model::{AppDetail, AppRow, IdentityDetail, IdentityRow};
use crate::msg::{Cmd, Msg};

pub mod apps;
pub mod exchange;
pub mod guard;
pub mod health;
pub mod memory;
pub mod wizard;

pub use guard::{contain, contain_blocking, internal_error, panicking_in_effect, spawn_guarded};
pub use memory::MemoryDirectory;

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
    /// The Apps list as an earlier start cached it (the warm start, #17), read without any
    /// network call so it shows at once; [`Directory::refresh_cached_apps`] then brings it up
    /// to date. `None` (the default): nothing cached, the list is paged from the directory.
    fn cached_apps(&self) -> impl Future<Output = Option<crate::msg::CachedApps>> + Send {
        async { None }
    }
    /// The managed identities as the last [`Directory::refresh_cached_apps`] found them,
    /// when they changed (once: taken).
    fn take_refreshed_identities(&self) -> Option<Vec<IdentityRow>> {
        None
    }
    /// Brings the list [`Directory::cached_apps`] gave up to date (and saves it).
    fn refresh_cached_apps(
        &self,
    ) -> impl Future<Output = Result<crate::msg::AppsRefresh, DirectoryError>> + Send {
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                "this directory keeps no cached lists",
            ))
        }
    }
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
    /// Creates a FIC; `Ok((fic, replicated))`. `replicated: false` is a success that Graph's
    /// reads do not show yet (replication): say so, never offer a retry. The default is
    /// [`Directory::create_fic`], whose read-back is immediate.
    fn create_fic_outcome(
        &self,
        app_object_id: String,
        fic: ficus_core::fic::Fic,
    ) -> impl Future<Output = Result<(ficus_core::fic::Fic, bool), DirectoryError>> + Send {
        async move { self.create_fic(app_object_id, fic).await.map(|f| (f, true)) }
    }
    /// Certificate expiry of every app, by app object id, for a list whose pages leave
    /// certificates out (`$select=keyCredentials` is a scarce quota). `None`: this directory's
    /// pages already carry them.
    fn certificate_index(
        &self,
    ) -> impl Future<Output = Result<Option<apps::CertificatesByApp>, DirectoryError>> + Send {
        async { Ok(None) }
    }
    /// Sends exactly `update` (the change the review showed: only the fields that change);
    /// returns the FIC as read back.
    fn update_fic(
        &self,
        app_object_id: String,
        update: ficus_core::fic::FicUpdate,
    ) -> impl Future<Output = Result<ficus_core::fic::Fic, DirectoryError>> + Send;
    /// What the sign-in logs say about the app's credentials. The default: no logs here.
    fn credential_evidence(
        &self,
        _app_object_id: String,
        _app_id: String,
    ) -> impl Future<Output = Result<crate::evidence::Evidence, DirectoryError>> + Send {
        async {
            Ok(crate::evidence::Evidence::Unavailable(
                "this directory keeps no sign-in logs".into(),
            ))
        }
    }

    /// Failed workload sign-ins of the last `hours`, grouped by app, identity and AADSTS code
    /// and joined with the apps' FICs (issue 15). The default: no logs here.
    fn failing_workloads(
        &self,
        hours: i64,
    ) -> impl Future<Output = Result<crate::evidence::FailingReport, DirectoryError>> + Send {
        let _ = hours;
        async {
            Ok(crate::evidence::FailingReport::Unavailable(
                "this directory keeps no sign-in logs".into(),
            ))
        }
    }
    /// Removes a client secret (`removePassword`) and journals it.
    fn remove_secret(
        &self,
        app_object_id: String,
        key_id: String,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send {
        let _ = (app_object_id, key_id);
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                "this directory cannot remove secrets",
            ))
        }
    }
    /// The newest change of the history journal in this tenant (to this app, when given) and
    /// how it is undone; `None`: nothing to undo. A change that cannot be undone (a removed
    /// secret) is an error that says why.
    fn plan_undo(
        &self,
        app_object_id: Option<String>,
    ) -> impl Future<Output = Result<Option<crate::msg::UndoPlan>, DirectoryError>> + Send {
        let _ = app_object_id;
        async { Ok(None) }
    }
    /// Undoes change `number` of the journal (the restore of `ficus history restore`), journals
    /// the restore, and says what it did.
    fn undo(&self, number: usize) -> impl Future<Output = Result<String, DirectoryError>> + Send {
        let _ = number;
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                "this directory keeps no history to undo from",
            ))
        }
    }

    // The live test exchange and the token inspector (#7). The defaults say the directory
    // cannot do it, so directories without a token service stay valid.

    /// Where the managed identity token would come from on this host.
    fn msi_source(
        &self,
    ) -> impl Future<Output = Result<crate::token_effects::SourceInfo, DirectoryError>> + Send {
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                NO_TOKEN_SERVICE,
            ))
        }
    }
    /// Where the managed identity token would come from for `choice`; the default knows only
    /// the session's ([`Directory::msi_source`]).
    fn msi_source_of(
        &self,
        choice: crate::token_effects::MsiChoice,
    ) -> impl Future<Output = Result<crate::token_effects::SourceInfo, DirectoryError>> + Send {
        let session = self.msi_source();
        async move {
            match choice {
                crate::token_effects::MsiChoice::Session => session.await,
                crate::token_effects::MsiChoice::ThisMachine => Err(DirectoryError::new(
                    ErrorKind::Unsupported,
                    NO_TOKEN_SERVICE,
                )),
            }
        }
    }
    /// Runs one exchange, sending each finished step as `ExchangeMsg::Step` tagged `request`.
    fn exchange(
        &self,
        request: crate::msg::RequestId,
        spec: crate::token_effects::ExchangeSpec,
        tx: UnboundedSender<Msg>,
    ) -> impl Future<Output = Result<crate::token_effects::ExchangeResult, DirectoryError>> + Send
    {
        let _ = (request, spec, tx);
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                NO_TOKEN_SERVICE,
            ))
        }
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
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send {
        let _ = (tenant, tx);
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                "this directory signs in to one tenant only; quit and start ficus --tenant NAME",
            ))
        }
    }
    /// What `guid` names in the directory, one sentence per match (empty: nothing). The
    /// default asks nothing, so the palette's `whois` falls back to what is loaded.
    fn whois(
        &self,
        guid: String,
    ) -> impl Future<Output = Result<Vec<String>, DirectoryError>> + Send {
        let _ = guid;
        async {
            Err(DirectoryError::new(
                ErrorKind::Unsupported,
                NO_DIRECTORY_LOOKUP,
            ))
        }
    }
    /// What the tenant audit needs before its first page (#14): the cloud, the tenant id and
    /// every managed identity. The default: this directory cannot audit.
    fn audit_start(
        &self,
    ) -> impl Future<Output = Result<health::AuditStart, DirectoryError>> + Send {
        async { Err(DirectoryError::new(ErrorKind::Unsupported, NO_AUDIT)) }
    }
    /// One page of apps as the audit reads them (FICs, secrets, certificates), as the Apps
    /// list pages: no request per app.
    fn audit_page(
        &self,
        next: Option<String>,
    ) -> impl Future<Output = Result<Page<ficus_core::audit::AppSnapshot>, DirectoryError>> + Send
    {
        let _ = next;
        async { Err(DirectoryError::new(ErrorKind::Unsupported, NO_AUDIT)) }
    }
    /// One app as the audit reads it (audited again after a fix).
    fn audit_app(
        &self,
        object_id: String,
    ) -> impl Future<Output = Result<ficus_core::audit::AppSnapshot, DirectoryError>> + Send {
        let _ = object_id;
        async { Err(DirectoryError::new(ErrorKind::Unsupported, NO_AUDIT)) }
    }
    /// An app's FICs (the inspector's "which FIC would this token satisfy").
    fn app_fics(
        &self,
        app_object_id: String,
    ) -> impl Future<Output = Result<Vec<ficus_core::fic::Fic>, DirectoryError>> + Send {
        async move {
            self.app_detail(app_object_id)
                .await
                .map(|d| d.fics.into_iter().map(|f| f.fic).collect())
        }
    }
}

fn not_found(message: &str) -> DirectoryError {
    DirectoryError::new(ErrorKind::NotFound, message)
}

/// What a directory without the audit's reads says on the Health tab.
pub const NO_AUDIT: &str =
    "this directory cannot audit the tenant; run ficus audit against it instead";

/// What a directory that cannot look GUIDs up says under `whois`'s local answer.
pub const NO_DIRECTORY_LOOKUP: &str = "this directory cannot look GUIDs up; showing what is loaded";

/// What a directory without a token service says to the exchange screen.
pub const NO_TOKEN_SERVICE: &str =
    "this directory has no token service to exchange with; paste a token to inspect it instead";

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
        Cmd::LoadApps { request } => apps::spawn_load(&directory, request, &tx),
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
                move |error: String| Msg::WhoisAnswered {
                    request,
                    guid: asked,
                    result: Err(error.into()),
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
            |error: String| Msg::SwitchRefused(error.into()),
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
        Cmd::LoadEvidence {
            app_object_id,
            app_id,
        } => {
            let id = app_object_id.clone();
            spawn_guarded(
                &sender,
                async move {
                    let result = directory
                        .credential_evidence(app_object_id.clone(), app_id)
                        .await;
                    let _ = tx.send(Msg::EvidenceLoaded {
                        app_object_id,
                        result,
                    });
                },
                move |error: String| Msg::EvidenceLoaded {
                    app_object_id: id,
                    result: Err(error.into()),
                },
            )
        }
        Cmd::LoadFailing { request, hours } => spawn_guarded(
            &sender,
            async move {
                let result = directory.failing_workloads(hours).await;
                let _ = tx.send(Msg::FailingLoaded { request, result });
            },
            move |error: String| Msg::FailingLoaded {
                request,
                result: Err(error.into()),
            },
        ),
        Cmd::RemoveSecret {
            request,
            app_object_id,
            key_id,
            name,
        } => {
            let said = name.clone();
            spawn_guarded(
                &sender,
                async move {
                    tracing::info!(request, %app_object_id, %key_id, "removing a client secret");
                    let result = directory.remove_secret(app_object_id, key_id).await;
                    let _ = tx.send(Msg::SecretRemoved {
                        request,
                        name,
                        result,
                    });
                },
                move |error: String| Msg::SecretRemoved {
                    request,
                    name: said,
                    result: Err(error.into()),
                },
            )
        }
        Cmd::PlanUndo {
            request,
            app_object_id,
        } => spawn_guarded(
            &sender,
            async move {
                let result = directory.plan_undo(app_object_id).await;
                let _ = tx.send(Msg::UndoPlanned { request, result });
            },
            move |error: String| Msg::UndoPlanned {
                request,
                result: Err(error.into()),
            },
        ),
        Cmd::Undo {
            request,
            number,
            app_object_id,
        } => {
            let app = app_object_id.clone();
            spawn_guarded(
                &sender,
                async move {
                    let result = directory.undo(number).await;
                    let _ = tx.send(Msg::Undone {
                        request,
                        app_object_id,
                        result,
                    });
                },
                move |error: String| Msg::Undone {
                    request,
                    app_object_id: app,
                    result: Err(error.into()),
                },
            )
        }
        Cmd::Health(cmd) => health::spawn(directory, cmd, tx),
        Cmd::Copy(_) | Cmd::Quit | Cmd::SaveTheme(_) => {}
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
            _update: ficus_core::fic::FicUpdate,
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

    #[tokio::test]
    async fn what_a_directory_cannot_do_is_typed_unsupported() {
        let msg = answer(Cmd::SwitchTenant {
            tenant: "fabrikam".into(),
        })
        .await;
        let Msg::SwitchRefused(error) = msg else {
            panic!("a refusal expected: {msg:?}");
        };
        assert_eq!(error.kind, ErrorKind::Unsupported);
        assert!(error.message.contains("--tenant"), "{error}");

        let msg = answer(Cmd::Whois {
            request: 3,
            guid: "fb60f99c-7a34-4190-8149-302f77469936".into(),
        })
        .await;
        let Msg::WhoisAnswered {
            result: Err(error), ..
        } = msg
        else {
            panic!("an error answer expected: {msg:?}");
        };
        assert_eq!(error.kind, ErrorKind::Unsupported);

        let msg = answer(Cmd::Exchange(
            crate::token_effects::ExchangeCmd::DetectSource {
                request: 4,
                choice: crate::token_effects::MsiChoice::Session,
            },
        ))
        .await;
        let Msg::Exchange(crate::token_effects::ExchangeMsg::SourceDetected {
            result: Err(error),
            ..
        }) = msg
        else {
            panic!("an error answer expected: {msg:?}");
        };
        assert_eq!(error.kind, ErrorKind::Unsupported);
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
            fic_subjects: None,
            credentials: Vec::new(),
            audience: crate::model::Audience::Single,
        };
        let fetch = |fail_at: Option<&'static str>| {
            move |next: Option<String>| {
                let answer = match next.as_deref() {
                    _ if fail_at.is_some() && next.as_deref() == fail_at => {
                        Err("429 throttled".into())
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
