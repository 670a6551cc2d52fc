//! The list row the cursor rests on: its details are fetched after a short delay and kept
//! for the preview and `Enter`.

use ficus_core::text::sanitize;

use crate::error::DirectoryError;
use crate::msg::{Cmd, RequestId};
use crate::state::{ListKind, Phase, REST_DELAY, Rest, RestStage, RestTarget, State};

/// The list row the cursor is on, when a list is what the admin sees.
pub(super) fn rest_target(state: &State) -> Option<RestTarget> {
    if !matches!(state.phase, Phase::Console) || !state.stack.is_empty() {
        return None;
    }
    match state.list {
        ListKind::Apps => state
            .apps
            .selected()
            .map(|app| RestTarget::App(app.object_id.clone())),
        ListKind::Identities => state
            .identities
            .selected()
            .map(|identity| RestTarget::Identity(identity.principal_id.clone())),
    }
}

pub(super) fn is_cached(state: &State, target: &RestTarget) -> bool {
    match target {
        RestTarget::App(object_id) => state.details.apps.contains_key(object_id),
        RestTarget::Identity(principal_id) => state.details.identities.contains_key(principal_id),
    }
}

/// When the cursor is on another row than the one resting, start that row's one-shot delay
/// (unless its details are known). Pages streaming in do not move it.
pub(super) fn sync_rest(state: &mut State, target: Option<RestTarget>) -> Option<Cmd> {
    let Some(target) = target else {
        state.rest = None;
        return None;
    };
    if state
        .rest
        .as_ref()
        .is_some_and(|rest| rest.target == target)
    {
        return None;
    }
    let request = state.new_request();
    let cached = is_cached(state, &target);
    state.rest = Some(Rest {
        target,
        request,
        stage: if cached {
            RestStage::Done
        } else {
            RestStage::Waiting
        },
    });
    (!cached).then_some(Cmd::Rest {
        request,
        after: REST_DELAY,
    })
}

/// The delay ran out: if it is still the current one (the cursor did not move since), fetch
/// the row's details.
pub(super) fn on_rested(state: &mut State, request: RequestId) -> Vec<Cmd> {
    let target = match &state.rest {
        Some(rest) if rest.request == request && rest.stage == RestStage::Waiting => {
            rest.target.clone()
        }
        _ => return Vec::new(),
    };
    let fetch = state.new_request();
    let cmd = match &target {
        RestTarget::App(object_id) => Cmd::LoadAppDetail {
            request: fetch,
            object_id: object_id.clone(),
        },
        RestTarget::Identity(principal_id) => {
            match state.identities.find(|i| &i.principal_id == principal_id) {
                Some(identity) => Cmd::LoadIdentityDetail {
                    request: fetch,
                    identity: Box::new(identity.clone()),
                },
                None => return Vec::new(),
            }
        }
    };
    if let Some(rest) = &mut state.rest {
        rest.request = fetch;
        rest.stage = RestStage::Fetching;
    }
    vec![cmd]
}

pub(super) fn is_rest_fetch(state: &State, request: RequestId) -> bool {
    state
        .rest
        .as_ref()
        .is_some_and(|rest| rest.request == request && rest.stage == RestStage::Fetching)
}

pub(super) fn finish_rest_fetch(state: &mut State, result: Result<(), &DirectoryError>) {
    if let Some(rest) = &mut state.rest {
        rest.stage = match result {
            Ok(()) => RestStage::Done,
            Err(error) => RestStage::Failed(sanitize(&error.message).into_owned()),
        };
    }
}

/// Drops every fetched detail (a refresh, a FIC written, another tenant); the row the cursor
/// rests on is fetched again after its delay.
pub(super) fn forget_details(state: &mut State) {
    state.details.clear();
    state.rest = None;
}
