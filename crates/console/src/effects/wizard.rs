//! Runs the wizard's commands (read the app, create or update a FIC) in the background.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::Directory;
use crate::msg::Msg;
use crate::screens::wizard::effect::{WizardCmd, WizardMsg};

/// Runs one of the wizard's commands in the background.
pub(super) fn spawn<D: Directory>(directory: &Arc<D>, cmd: WizardCmd, tx: &UnboundedSender<Msg>) {
    let directory = Arc::clone(directory);
    let sender = tx.clone();
    let tx = tx.clone();
    // A panic ends the step with an error the wizard shows, every field kept.
    let (request, saving) = match &cmd {
        WizardCmd::LoadApp { request, .. } => (*request, false),
        WizardCmd::Create { request, .. } | WizardCmd::Update { request, .. } => (*request, true),
    };
    let on_panic = move |error: String| {
        Msg::Wizard(if saving {
            WizardMsg::Saved {
                request,
                result: Err(error.clone().into()),
            }
        } else {
            WizardMsg::AppLoaded {
                request,
                result: Err(error.clone().into()),
            }
        })
    };
    super::spawn_guarded(
        &sender,
        async move {
            let msg = match cmd {
                WizardCmd::LoadApp { request, object_id } => WizardMsg::AppLoaded {
                    request,
                    result: directory.app_detail(object_id).await.map(Box::new),
                },
                WizardCmd::Create {
                    request,
                    app_object_id,
                    fic,
                } => {
                    tracing::info!(request, %app_object_id, name = %fic.name, "creating FIC");
                    // "Not replicated yet" is a success: the write's answer is the truth.
                    let result = directory.create_fic_outcome(app_object_id, fic).await;
                    let result = match result {
                        Ok((fic, replicated)) => {
                            let _ = tx.send(Msg::Wizard(WizardMsg::Replication {
                                request,
                                replicated,
                            }));
                            Ok(fic)
                        }
                        Err(error) => Err(error),
                    };
                    WizardMsg::Saved { request, result }
                }
                WizardCmd::Update {
                    request,
                    app_object_id,
                    update,
                } => {
                    tracing::info!(request, %app_object_id, fic = %update.fic_key, "updating FIC");
                    WizardMsg::Saved {
                        request,
                        result: directory.update_fic(app_object_id, update).await,
                    }
                }
            };
            let _ = tx.send(Msg::Wizard(msg));
        },
        on_panic,
    );
}
