//! An app's or an identity's detail arriving: one path for both. It feeds the resting row's
//! preview, the cache `Enter` opens from, what the lists know (an app's FIC count), and the
//! detail screen that asked, wherever it is in the stack.

use crate::error::DirectoryError;
use crate::model::{AppDetail, IdentityDetail};
use crate::msg::{Cmd, RequestId};
use crate::screens::lists::CachedDetail;
use crate::state::{Screen, State};

use super::navigate::set_app_fics;

/// What differs between the two kinds of detail.
pub(super) trait LoadedDetail: CachedDetail + Clone {
    fn sanitize(&mut self);
    /// Whether `screen` is the detail screen that asked with `request`.
    fn asked(screen: &Screen, request: RequestId) -> bool;
    /// Hands the answer to `screen` (one for which `asked` holds).
    fn deliver(screen: &mut Screen, result: Result<Self, DirectoryError>);
    /// What the lists follow from it (an app's FIC count and subjects).
    fn follow(&self, _state: &mut State) {}
    /// What to fetch next because it arrived (an app's sign-in evidence).
    fn then_load(&self, _state: &State, _for_screen: bool) -> Option<Cmd> {
        None
    }
}

impl LoadedDetail for AppDetail {
    fn sanitize(&mut self) {
        AppDetail::sanitize(self);
    }
    fn asked(screen: &Screen, request: RequestId) -> bool {
        matches!(screen, Screen::AppDetail(s) if s.request == request)
    }
    fn deliver(screen: &mut Screen, result: Result<Self, DirectoryError>) {
        if let Screen::AppDetail(screen) = screen {
            screen.loaded(result);
        }
    }
    fn follow(&self, state: &mut State) {
        // What the list knew of its FICs follows what was just read.
        let subjects = self.fics.iter().map(|f| f.fic.subject.clone()).collect();
        set_app_fics(state, &self.app.object_id, self.fics.len(), Some(subjects));
    }
    fn then_load(&self, state: &State, for_screen: bool) -> Option<Cmd> {
        // The sign-in evidence of its credentials, fetched as it opens (or once when previewed).
        (for_screen || !state.evidence.contains_key(&self.app.object_id)).then(|| {
            Cmd::LoadEvidence {
                app_object_id: self.app.object_id.clone(),
                app_id: self.app.app_id.clone(),
            }
        })
    }
}

impl LoadedDetail for IdentityDetail {
    fn sanitize(&mut self) {
        IdentityDetail::sanitize(self);
    }
    fn asked(screen: &Screen, request: RequestId) -> bool {
        matches!(screen, Screen::IdentityDetail(s) if s.request == request)
    }
    fn deliver(screen: &mut Screen, result: Result<Self, DirectoryError>) {
        if let Screen::IdentityDetail(screen) = screen {
            screen.loaded(result);
        }
    }
}

pub(super) fn on_detail_loaded<D: LoadedDetail>(
    state: &mut State,
    request: RequestId,
    result: Result<Box<D>, DirectoryError>,
) -> Vec<Cmd> {
    let for_preview = state.lists.is_rest_fetch(request);
    let for_screen = state.stack.iter().any(|s| D::asked(s, request));
    if !for_preview && !for_screen {
        return Vec::new();
    }
    let result = result.map(|mut detail| {
        detail.sanitize();
        *detail
    });
    let then_load = result
        .as_ref()
        .ok()
        .and_then(|detail| detail.then_load(state, for_screen));
    if let Ok(detail) = &result {
        detail.cache(&mut state.lists.details);
        detail.follow(state);
    }
    if for_preview {
        state.lists.finish_rest_fetch(result.as_ref().map(|_| ()));
    }
    if let Some(screen) = state.stack.iter_mut().find(|s| D::asked(s, request)) {
        D::deliver(screen, result);
    }
    then_load.into_iter().collect()
}
