//! The Health tab's effects (#14): the tenant audit streamed page by page, and one app
//! audited again after a fix. The directory only gathers (`Directory::audit_start`,
//! `audit_page`, `audit_app`: what the lists read, no request per app); the checks are core's
//! `Auditor`, run here as each page arrives, so a page's findings reach the screen as soon as
//! its apps are read.

use std::sync::Arc;

use ficus_core::audit::{AppSnapshot, AuditFinding, Auditor};
use time::OffsetDateTime;
use tokio::sync::mpsc::UnboundedSender;

use super::{Directory, spawn_guarded};
use crate::error::DirectoryError;
use crate::msg::{Msg, RequestId};
use crate::screens::health::effect::{FindingRow, HealthCmd, HealthMsg};

/// What every app's audit needs before the first page.
#[derive(Debug, Clone)]
pub struct AuditStart {
    pub cloud: ficus_core::cloud::Cloud,
    pub tenant_id: String,
    pub identities: Vec<ficus_core::fic::Identity>,
}

/// One app's findings as rows: each FIC finding knows the FIC's place in the app's list.
pub fn rows_of(app: &AppSnapshot, findings: Vec<AuditFinding>) -> Vec<FindingRow> {
    findings
        .into_iter()
        .map(|finding| {
            let fic_index = finding.fic.as_ref().and_then(|fic| {
                app.fics
                    .iter()
                    .position(|f| (f.id.is_some() && f.id == fic.id) || f.name == fic.name)
            });
            FindingRow::new(finding, fic_index)
        })
        .collect()
}

/// Audits the tenant, one `HealthMsg::Page` per page of apps, then one with the tenant-wide
/// findings and `done`; a failure ends it with `HealthMsg::Failed` after what was sent.
pub async fn audit<D: Directory>(directory: &D, request: RequestId, tx: &UnboundedSender<Msg>) {
    let failed = |error: DirectoryError| Msg::Health(HealthMsg::Failed { request, error });
    let start = match directory.audit_start().await {
        Ok(start) => start,
        Err(error) => {
            let _ = tx.send(failed(error));
            return;
        }
    };
    let now = OffsetDateTime::now_utc();
    let identities = start.identities.len();
    let mut auditor = Auditor::new(&start.cloud, &start.tenant_id, &start.identities, now);
    let mut next = None;
    loop {
        let page = match directory.audit_page(next.take()).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, "the audit stopped");
                let _ = tx.send(failed(error));
                return;
            }
        };
        let rows: Vec<FindingRow> = page
            .rows
            .iter()
            .flat_map(|app| rows_of(app, auditor.app(app)))
            .collect();
        let msg = Msg::Health(HealthMsg::Page {
            request,
            rows,
            apps: page.rows.len(),
            identities,
            done: false,
        });
        if tx.send(msg).is_err() {
            return;
        }
        match page.next {
            Some(link) => next = Some(link),
            None => break,
        }
    }
    let rows = auditor
        .finish()
        .into_iter()
        .map(|f| FindingRow::new(f, None))
        .collect();
    let _ = tx.send(Msg::Health(HealthMsg::Page {
        request,
        rows,
        apps: 0,
        identities,
        done: true,
    }));
}

/// One app audited again against the tenant's identities as they are now.
pub async fn audit_app<D: Directory>(
    directory: &D,
    object_id: String,
) -> Result<Vec<FindingRow>, DirectoryError> {
    let (start, app) = futures_util::try_join!(
        directory.audit_start(),
        directory.audit_app(object_id.clone())
    )?;
    let now = OffsetDateTime::now_utc();
    let mut auditor = Auditor::new(&start.cloud, &start.tenant_id, &start.identities, now);
    let findings = auditor.app(&app);
    Ok(rows_of(&app, findings))
}

pub fn spawn<D: Directory>(directory: Arc<D>, cmd: HealthCmd, tx: UnboundedSender<Msg>) {
    let sender = tx.clone();
    match cmd {
        HealthCmd::Audit { request } => spawn_guarded(
            &sender,
            async move { audit(&*directory, request, &tx).await },
            move |error: String| {
                Msg::Health(HealthMsg::Failed {
                    request,
                    error: error.into(),
                })
            },
        ),
        HealthCmd::AuditApp { request, object_id } => {
            let id = object_id.clone();
            spawn_guarded(
                &sender,
                async move {
                    let result = audit_app(&*directory, object_id.clone()).await;
                    let _ = tx.send(Msg::Health(HealthMsg::AppAudited {
                        request,
                        object_id,
                        result,
                    }));
                },
                move |error: String| {
                    Msg::Health(HealthMsg::AppAudited {
                        request,
                        object_id: id,
                        result: Err(error.into()),
                    })
                },
            )
        }
    }
}
