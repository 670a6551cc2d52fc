//! A FIC deleted from App detail (after its confirmation): the list's count follows, the app
//! is read again, or the failure is said by its kind.

use ficus_core::text::sanitize;

use super::lists::forget_details;
use super::navigate::{reload_top, set_app_fics};
use crate::error::{DirectoryError, ErrorKind};
use crate::keymap::Action;
use crate::msg::Cmd;
use crate::state::{Screen, State, ToastLevel};

pub(super) fn on_fic_deleted(
    state: &mut State,
    request: u64,
    result: Result<(), DirectoryError>,
) -> Vec<Cmd> {
    let Some(Screen::AppDetail(screen)) = state.stack.last_mut() else {
        return Vec::new();
    };
    if screen.request != request {
        return Vec::new();
    }
    match result {
        Ok(()) => {
            let counted = screen
                .detail
                .as_ref()
                .map(|d| (d.app.object_id.clone(), d.fics.len().saturating_sub(1)));
            if let Some((object_id, count)) = counted {
                set_app_fics(state, &object_id, count, None);
            }
            forget_details(state);
            let reload = state.new_request();
            let Some(Screen::AppDetail(screen)) = state.stack.last_mut() else {
                return Vec::new();
            };
            screen.request = reload;
            let object_id = screen.object_id.clone();
            state.toast(
                ToastLevel::Success,
                "FIC deleted. A workload still using it now fails with AADSTS70021; give it another FIC (a) first.",
            );
            vec![Cmd::LoadAppDetail {
                request: reload,
                object_id,
            }]
        }
        // Already gone (deleted elsewhere): what the screen shows is old; read it again.
        Err(error) if error.kind == ErrorKind::NotFound => {
            state.toast(
                ToastLevel::Info,
                "This FIC was already gone (deleted elsewhere); reading the app again.",
            );
            reload_top(state)
        }
        Err(error) => {
            let again = state.key(Action::DeleteFic);
            state.toast(
                ToastLevel::Error,
                format!(
                    "Delete failed: {} — nothing changed; press {again} to try again",
                    sanitize(&error.message)
                ),
            );
            Vec::new()
        }
    }
}
