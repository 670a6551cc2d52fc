//! A directory in memory, for tests and demos: the same answers as Graph, no network.

use super::{Directory, Page, not_found};
use crate::error::{DirectoryError, ErrorKind};
use crate::model::{AppDetail, AppRow, IdentityDetail, IdentityRow, TrustRow};
use crate::msg::Msg;
use tokio::sync::mpsc::UnboundedSender;

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
                .map_err(|_| format!("bad page link {link}; reload from the start"))?,
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
        // As Graph's `$expand=federatedIdentityCredentials`: each app with its FICs' count and
        // subjects.
        let rows: Vec<AppRow> = directory
            .apps
            .iter()
            .map(|d| AppRow {
                fic_count: Some(d.fics.len()),
                fic_subjects: Some(d.fics.iter().map(|f| f.fic.subject.clone()).collect()),
                ..d.app.clone()
            })
            .collect();
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
            .ok_or_else(|| not_found("this app no longer exists; go back and reload the list"))
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
                lag_note: None,
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
            .ok_or_else(|| not_found("this app no longer exists; go back and reload the list"))?;
        let before = app.fics.len();
        app.fics
            .retain(|f| f.fic.id.as_deref() != Some(fic_id.as_str()));
        if app.fics.len() == before {
            return Err("that FIC is already gone; reload the app".into());
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
            .ok_or_else(|| not_found("this app no longer exists; go back and reload the list"))?;
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
            raw: None,
            subject_name: None,
            findings: Vec::new(),
        });
        app.app.fic_count = Some(app.fics.len());
        Ok(fic)
    }

    async fn update_fic(
        &self,
        app_object_id: String,
        update: ficus_core::fic::FicUpdate,
    ) -> Result<ficus_core::fic::Fic, DirectoryError> {
        let mut directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let app = directory
            .apps
            .iter_mut()
            .find(|d| d.app.object_id == app_object_id)
            .ok_or_else(|| not_found("this app no longer exists; go back and reload the list"))?;
        let stored = app
            .fics
            .iter_mut()
            .find(|f| {
                f.fic.id.as_deref() == Some(update.fic_key.as_str()) || f.fic.name == update.fic_key
            })
            .ok_or_else(|| not_found("that FIC is gone; go back and reload the app"))?;
        // Only the fields sent change (the name never does), as in Graph.
        stored.fic = update.apply(&stored.fic);
        Ok(stored.fic.clone())
    }

    async fn audit_start(&self) -> Result<super::health::AuditStart, DirectoryError> {
        let directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let session = directory
            .session
            .as_ref()
            .ok_or_else(|| DirectoryError::from("not signed in yet; wait for the sign-in"))?;
        Ok(super::health::AuditStart {
            cloud: session.cloud_endpoints.clone(),
            tenant_id: session.tenant_id.clone(),
            identities: directory
                .identities
                .iter()
                .map(|d| d.identity.identity.clone())
                .collect(),
        })
    }

    async fn audit_page(
        &self,
        next: Option<String>,
    ) -> Result<Page<ficus_core::audit::AppSnapshot>, DirectoryError> {
        let directory = self
            .lock()
            .map_err(|_| "directory unavailable".to_string())?;
        let apps: Vec<ficus_core::audit::AppSnapshot> =
            directory.apps.iter().map(audit_snapshot).collect();
        MemoryDirectory::page(&apps, next, directory.page_size)
    }

    async fn audit_app(
        &self,
        object_id: String,
    ) -> Result<ficus_core::audit::AppSnapshot, DirectoryError> {
        self.app_detail(object_id)
            .await
            .map(|detail| audit_snapshot(&detail))
    }
}

/// An app held in memory as the audit reads it.
fn audit_snapshot(detail: &AppDetail) -> ficus_core::audit::AppSnapshot {
    use ficus_core::audit::{Credential, CredentialType};
    ficus_core::audit::AppSnapshot {
        app: ficus_core::fic::AppRecord {
            object_id: detail.app.object_id.clone(),
            app_id: detail.app.app_id.clone(),
            display_name: detail.app.name.clone(),
            unique_name: None,
        },
        fics: detail.fics.iter().map(|f| f.fic.clone()).collect(),
        credentials: detail
            .app
            .credentials
            .iter()
            .map(|c| Credential {
                credential_type: match c.kind {
                    crate::model::CredentialKind::Secret => CredentialType::Secret,
                    crate::model::CredentialKind::Certificate => CredentialType::Certificate,
                },
                key_id: c.key_id.clone(),
                display_name: Some(c.name.clone()),
                end: c.expires,
            })
            .collect(),
    }
}
