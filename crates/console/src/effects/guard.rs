//! Panics contained: an effect that panics answers with an error (or an error toast) instead
//! of killing its task or restoring the terminal under a running console.

use std::future::Future;

use tokio::sync::mpsc::UnboundedSender;

use crate::msg::Msg;

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
        "ficus hit an internal error ({message}); nothing else is affected. Try again, and if \
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
