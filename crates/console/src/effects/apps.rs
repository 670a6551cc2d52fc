//! The Apps list's effect: pages without certificates (`$select=keyCredentials` is limited to
//! 150 requests per minute per tenant), then, as its own task after the first page, the
//! directory's certificate index joined by app id. Also what the loop does with these
//! effects' messages (the certificate join, the Graph client's waits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use super::{Directory, Page, spawn_guarded};
use crate::model::{AppRow, Credential, CredentialKind};
use crate::msg::{AppsRefresh, Cmd, Msg, RequestId};
use crate::state::{State, ToastLevel};
use ficus_core::text::sanitize;

pub use crate::model::CertificatesByApp;

/// Streams the Apps list a page a message; after the first page, fetches the certificate
/// index in its own task. Pages sent after the index arrived are joined here; rows already
/// sent are joined by the loop on `CertificatesLoaded` (sent under the same lock, so no page
/// slips between). Each run ends with exactly one `CertificatesLoaded`.
pub(super) fn spawn_load<D: Directory>(
    directory: &Arc<D>,
    request: RequestId,
    tx: &UnboundedSender<Msg>,
) {
    let directory = Arc::clone(directory);
    let sender = tx.clone();
    let tx = tx.clone();
    spawn_guarded(
        &sender,
        async move {
            let joined: Arc<Mutex<Option<CertificatesByApp>>> = Arc::default();
            // The warm start (#17): the cached rows first, then the refresh behind them.
            if let Some(cached) = directory.cached_apps().await {
                let cached = Msg::AppsCached {
                    request,
                    rows: cached.rows,
                    saved_at: cached.saved_at,
                };
                if tx.send(cached).is_err() {
                    return;
                }
                spawn_index(&directory, request, &joined, &tx);
                let answer = match directory.refresh_cached_apps().await {
                    Ok(refresh) => {
                        // Sent under the index's lock, as the pages are: no row misses it.
                        let known = joined.lock().unwrap_or_else(|e| e.into_inner());
                        let refresh = match (known.as_ref(), refresh) {
                            (Some(index), AppsRefresh::Delta { changed, removed }) => {
                                AppsRefresh::Delta {
                                    changed: join_rows(changed, index),
                                    removed,
                                }
                            }
                            (Some(index), AppsRefresh::Relisted(rows)) => {
                                AppsRefresh::Relisted(join_rows(rows, index))
                            }
                            (None, refresh) => refresh,
                        };
                        let _ = tx.send(Msg::AppsRefreshed { request, refresh });
                        drop(known);
                        if let Some(rows) = directory.take_refreshed_identities() {
                            let _ = tx.send(Msg::IdentitiesRefreshed { request, rows });
                        }
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the cached apps could not be refreshed");
                        Msg::AppsRefreshFailed {
                            request,
                            error: error.message,
                        }
                    }
                };
                let _ = tx.send(answer);
                return;
            }
            let mut index_started = false;
            let mut next = None;
            for page in 1.. {
                match directory.apps_page(next.take()).await {
                    Ok(Page { rows, next: link }) => {
                        let done = link.is_none();
                        let sent = {
                            let known = joined.lock().unwrap_or_else(|e| e.into_inner());
                            let rows = match known.as_ref() {
                                Some(index) => join_rows(rows, index),
                                None => rows,
                            };
                            tx.send(Msg::AppsPage {
                                request,
                                rows,
                                page,
                                done,
                            })
                            .is_ok()
                        };
                        if !sent {
                            return;
                        }
                        if !index_started {
                            index_started = true;
                            spawn_index(&directory, request, &joined, &tx);
                        }
                        if done {
                            return;
                        }
                        next = link;
                    }
                    Err(error) => {
                        tracing::warn!(page, %error, "loading the apps failed");
                        let _ = tx.send(Msg::AppsFailed {
                            request,
                            error: error.message,
                        });
                        if !index_started {
                            let _ = tx.send(Msg::CertificatesLoaded {
                                request,
                                by_app: None,
                                error: None,
                            });
                        }
                        return;
                    }
                }
            }
        },
        move |error| Msg::AppsFailed { request, error },
    );
}

fn spawn_index<D: Directory>(
    directory: &Arc<D>,
    request: RequestId,
    joined: &Arc<Mutex<Option<CertificatesByApp>>>,
    tx: &UnboundedSender<Msg>,
) {
    let directory = Arc::clone(directory);
    let joined = Arc::clone(joined);
    let sender = tx.clone();
    let tx = tx.clone();
    spawn_guarded(
        &sender,
        async move {
            match directory.certificate_index().await {
                Ok(by_app) => {
                    let mut known = joined.lock().unwrap_or_else(|e| e.into_inner());
                    known.clone_from(&by_app);
                    let _ = tx.send(Msg::CertificatesLoaded {
                        request,
                        by_app,
                        error: None,
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "the certificate index failed");
                    let _ = tx.send(Msg::CertificatesLoaded {
                        request,
                        by_app: None,
                        error: Some(error.message),
                    });
                }
            }
        },
        move |error| Msg::CertificatesLoaded {
            request,
            by_app: None,
            error: Some(error),
        },
    );
}

/// Puts an app's certificates from the index in place of whatever certificates it carried.
fn join_row(row: &mut AppRow, index: &HashMap<String, Vec<Credential>>) -> bool {
    let Some(certificates) = index.get(&row.object_id) else {
        return false;
    };
    row.credentials
        .retain(|c| c.kind != CredentialKind::Certificate);
    row.credentials
        .extend(certificates.iter().cloned().map(|mut c| {
            c.name = sanitize(&c.name).into_owned();
            c.key_id = sanitize(&c.key_id).into_owned();
            c
        }));
    true
}

fn join_rows(mut rows: Vec<AppRow>, index: &HashMap<String, Vec<Credential>>) -> Vec<AppRow> {
    for row in &mut rows {
        join_row(row, index);
    }
    rows
}

/// The loop's side of `Msg::CertificatesLoaded`: the Apps list's rows get their certificates
/// (expiry facets and the credentials column follow); a failed listing is a warning, the list
/// stays usable.
pub fn on_certificates(
    state: &mut State,
    request: RequestId,
    by_app: Option<CertificatesByApp>,
    error: Option<String>,
) -> Vec<Cmd> {
    if request != state.apps.request {
        return Vec::new();
    }
    if let Some(error) = error {
        state.toast(
            ToastLevel::Warning,
            format!(
                "certificate expiry is not shown: {}",
                sanitize(&error).into_owned()
            ),
        );
    }
    if let Some(index) = by_app {
        let now = state.now;
        state
            .apps
            .update_credentials(|row| join_row(row, &index), now);
    }
    Vec::new()
}

/// The loop's side of `Msg::GraphWaiting`: the status line says why nothing moves. It does
/// not cover a warning or an error the admin has not seen yet.
pub fn on_graph_waiting(state: &mut State, text: &str) -> Vec<Cmd> {
    let covers_news = state.toast.as_ref().is_some_and(|t| {
        matches!(t.level, ToastLevel::Warning | ToastLevel::Error) && !state.toast_is_wait
    });
    if !covers_news {
        state.toast(ToastLevel::Info, sanitize(text).into_owned());
        state.toast_is_wait = true;
    }
    Vec::new()
}

/// A wait's toast is stale once an effect answers (whatever it waited for is over): it goes
/// before the answer is applied, so the answer's own toast or screen shows.
pub fn settle_wait(state: &mut State, msg: &Msg) {
    let answer = !matches!(
        msg,
        Msg::GraphWaiting(_) | Msg::Tick(_) | Msg::Resize(..) | Msg::Key(_) | Msg::Paste(_)
    );
    if answer && state.toast_is_wait {
        state.toast = None;
        state.toast_is_wait = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::Keymap;
    use crate::model::Audience;
    use crate::theme::Themes;
    use crate::update::update;

    fn state() -> State {
        State::new(
            Keymap::default(),
            Themes::built_in(),
            "mono",
            time::OffsetDateTime::UNIX_EPOCH,
        )
    }

    fn row(name: &str) -> AppRow {
        AppRow {
            object_id: format!("obj-{name}"),
            app_id: format!("app-{name}"),
            name: name.into(),
            fic_count: Some(0),
            fic_subjects: None,
            credentials: Vec::new(),
            audience: Audience::Single,
        }
    }

    /// Rows sent before the index arrived get their certificates from `CertificatesLoaded`
    /// (the `expires:` facet follows); a stale request's index is dropped.
    #[test]
    fn the_certificate_index_is_joined_into_the_listed_rows_by_app_id() {
        let mut state = state();
        let request = state.apps.request;
        update(
            &mut state,
            Msg::AppsPage {
                request,
                rows: vec![row("crm"), row("web")],
                page: 1,
                done: true,
            },
        );
        let expires = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(10);
        let certificate = Credential {
            kind: CredentialKind::Certificate,
            name: "crm-cert".into(),
            key_id: "k1".into(),
            expires: Some(expires),
        };
        let index: CertificatesByApp =
            Arc::new(HashMap::from([("obj-crm".to_string(), vec![certificate])]));
        update(
            &mut state,
            Msg::CertificatesLoaded {
                request: request + 1,
                by_app: Some(index.clone()),
                error: None,
            },
        );
        assert!(state.apps.items().iter().all(|a| a.credentials.is_empty()));
        update(
            &mut state,
            Msg::CertificatesLoaded {
                request,
                by_app: Some(index),
                error: None,
            },
        );
        let crm = state.apps.find(|a| a.name == "crm").expect("crm");
        assert_eq!(crm.credentials.len(), 1);
        state.apps.set_query("expires:<30d", state.now);
        let visible: Vec<&str> = state
            .apps
            .visible_rows(0, 10)
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(visible, ["crm"]);
    }

    /// A wait shows in the status line until an answer arrives; it never covers an unseen
    /// warning.
    #[test]
    fn graph_waits_show_until_an_answer_arrives() {
        let mut state = state();
        update(
            &mut state,
            Msg::GraphWaiting("waiting 45 s: Graph is throttling ficus (429)".into()),
        );
        let toast = state.toast.as_ref().expect("shown");
        assert_eq!(toast.text, "waiting 45 s: Graph is throttling ficus (429)");
        update(&mut state, Msg::Tick(time::OffsetDateTime::UNIX_EPOCH));
        assert!(state.toast.is_some(), "a tick does not end the wait");
        let request = state.apps.request;
        update(
            &mut state,
            Msg::CertificatesLoaded {
                request,
                by_app: None,
                error: None,
            },
        );
        assert!(state.toast.is_none(), "the answer ends it");
        state.toast(ToastLevel::Error, "Graph refused");
        update(&mut state, Msg::GraphWaiting("waiting 2 s: …".into()));
        assert_eq!(
            state.toast.as_ref().map(|t| t.text.as_str()),
            Some("Graph refused")
        );
    }
}
