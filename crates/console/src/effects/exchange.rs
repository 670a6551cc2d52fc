//! Runs the exchange screen's and the token inspector's commands in the background.

use ficus_core::secret::Secret;

use super::Directory;
use crate::msg::Msg;
use crate::token_effects::{ExchangeCmd, ExchangeMsg};

/// Runs one of the exchange's commands in the background (called by the effects runner).
pub(super) fn spawn<D: Directory>(
    directory: std::sync::Arc<D>,
    cmd: ExchangeCmd,
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
) {
    // A panic becomes an error toast (effects::spawn_guarded), not a dead task.
    let guard = tx.clone();
    let send = move |tx: &tokio::sync::mpsc::UnboundedSender<Msg>, msg| {
        let _ = tx.send(Msg::Exchange(msg));
    };
    match cmd {
        ExchangeCmd::DetectSource { request, choice } => {
            super::spawn_guarded(
                &guard,
                async move {
                    let result = directory.msi_source_of(choice).await;
                    send(&tx, ExchangeMsg::SourceDetected { request, result });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::ReadTokenFile { request, path } => {
            super::spawn_guarded(
                &guard,
                async move {
                    let label = format!("token file {path}");
                    let result = tokio::task::spawn_blocking(move || {
                        super::contain_blocking(|| read_token_file(&path))
                    })
                    .await
                    .map_err(|error| error.to_string())
                    .and_then(|contained| contained)
                    .unwrap_or_else(|error| {
                        Err(format!(
                            "reading the file stopped unexpectedly ({error}); try again, or paste the token"
                        ))
                    });
                    send(
                        &tx,
                        ExchangeMsg::TokenFileRead {
                            request,
                            label,
                            result,
                        },
                    );
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::Run { request, spec } => {
            super::spawn_guarded(
                &guard,
                async move {
                    tracing::info!(request, app = %spec.app_id, "test exchange");
                    let result = directory
                        .exchange(request, *spec, tx.clone())
                        .await
                        .map(Box::new);
                    send(&tx, ExchangeMsg::Finished { request, result });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::RetryAfter { request, seconds } => {
            super::spawn_guarded(
                &guard,
                async move {
                    tokio::time::sleep(std::time::Duration::from_secs(seconds)).await;
                    send(&tx, ExchangeMsg::RetryDue { request });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::VerifyToken { request, token } => {
            super::spawn_guarded(
                &guard,
                async move {
                    let result = directory.verify_token(token).await;
                    send(&tx, ExchangeMsg::TokenVerified { request, result });
                },
                Msg::EffectPanicked,
            );
        }
        ExchangeCmd::LoadAppFics {
            request,
            app_object_id,
        } => {
            super::spawn_guarded(
                &guard,
                async move {
                    let result = directory.app_fics(app_object_id).await;
                    send(&tx, ExchangeMsg::AppFicsLoaded { request, result });
                },
                Msg::EffectPanicked,
            );
        }
    }
}

/// Reads a token file: at most a few times a token's size, trimmed, never echoed.
pub fn read_token_file(path: &str) -> Result<Secret<String>, String> {
    let limit = ficus_core::jwt::MAX_TOKEN_LEN as u64;
    let metadata =
        std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}; check the path"))?;
    if metadata.len() > limit {
        return Err(format!(
            "{path} is {} bytes, larger than any token ({limit} at most); point at the token file itself",
            metadata.len()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {path}: {e}; a token file is plain text"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "{path} is empty; the token has not been written yet"
        ));
    }
    Ok(Secret::new(token.to_string()))
}
