//! What App detail does to the selected FIC without a screen of its own: delete (asks first,
//! shows the request) and export.

use super::prelude::*;

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
                set_fic_count(state, &object_id, count);
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
            state.toast(
                ToastLevel::Error,
                format!(
                    "Delete failed: {} — nothing changed; press D to try again",
                    sanitize(&error.message)
                ),
            );
            Vec::new()
        }
    }
}

pub(super) fn selected_fic(state: &State) -> Option<(&AppDetailScreen, &crate::model::FicRow)> {
    match state.stack.last() {
        Some(Screen::AppDetail(screen)) if screen.pane == DetailPane::Fics => {
            let detail = screen.detail.as_ref()?;
            detail
                .fics
                .get(screen.fic_cursor)
                .map(|fic| (&**screen, fic))
        }
        _ => None,
    }
}

pub(super) fn ask_delete(state: &mut State) -> Vec<Cmd> {
    if state.read_only() {
        state.toast(
            ToastLevel::Warning,
            "Read-only session: nothing can be deleted. Start ficus without --read-only to make changes.",
        );
        return Vec::new();
    }
    let graph = state
        .session
        .as_ref()
        .map(|s| s.graph_base.clone())
        .unwrap_or_default();
    let confirm = match selected_fic(state) {
        Some((screen, fic)) => match &fic.fic.id {
            Some(fic_id) => ConfirmDelete {
                app_object_id: screen.object_id.clone(),
                app_name: screen
                    .detail
                    .as_ref()
                    .map_or(screen.name.clone(), |d| d.app.name.clone()),
                fic_id: fic_id.clone(),
                fic_name: fic.fic.name.clone(),
                request_line: format!(
                    "DELETE {graph}/applications/{}/federatedIdentityCredentials/{fic_id}",
                    screen.object_id
                ),
            },
            None => return Vec::new(),
        },
        None => {
            state.toast(
                ToastLevel::Info,
                "Select a FIC first (Tab to the FIC list, j/k to pick one), then D.",
            );
            return Vec::new();
        }
    };
    state.overlay = Some(Overlay::ConfirmDelete(confirm));
    Vec::new()
}

pub(super) fn export(state: &mut State) -> Vec<Cmd> {
    let cloud = state
        .session
        .as_ref()
        .map_or_else(ficus_core::cloud::Cloud::global, |s| {
            s.cloud_endpoints.clone()
        });
    let snippets = match selected_fic(state) {
        Some((screen, fic)) => screen.detail.as_ref().map(|detail| {
            let warnings = fic
                .findings
                .iter()
                .filter(|f| f.severity == crate::model::Severity::Error)
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            (
                fic.fic.name.clone(),
                domain::export_snippets(&detail.app, &fic.fic, &cloud),
                warnings,
            )
        }),
        None => None,
    };
    match snippets {
        Some((fic_name, snippets, warnings)) => {
            state.overlay = Some(Overlay::Export(ExportScreen {
                fic_name,
                snippets,
                tab: 0,
                warnings,
            }));
        }
        None => state.toast(
            ToastLevel::Info,
            "Select a FIC first (Tab to the FIC list, j/k to pick one), then e.",
        ),
    }
    Vec::new()
}
