//! The root's side of the lists screen (`screens/lists`): applying the listing changes it
//! asks for (the listings are the root's, read by every screen), and where the cursor rests
//! around every message, so the preview's one-shot delay starts however the cursor moved.

use crate::filter::{Listing, Load, Row};
use crate::msg::{AppsRefresh, Cmd, RequestId};
use crate::nav::{ListKind, ListingChange, ListingEdit};
use crate::screens::lists::CacheMarker;
use crate::state::{Phase, RestTarget, State};

/// Applies one change the lists screen asked for.
pub(super) fn apply_listing(state: &mut State, change: ListingChange) {
    let now = state.now;
    match change.list {
        ListKind::Apps => edit(&mut state.apps, change.edit, now),
        ListKind::Identities => edit(&mut state.identities, change.edit, now),
    }
}

fn edit<T: Row>(listing: &mut Listing<T>, edit: ListingEdit, now: time::OffsetDateTime) {
    match edit {
        ListingEdit::Query(text) => listing.set_query(&text, now),
        ListingEdit::MoveCursor(delta) => listing.move_cursor(delta),
        ListingEdit::Sort { column, descending } => listing.set_sort(column, descending, now),
        ListingEdit::Reload { request } => {
            listing.request = request;
            listing.clear();
            listing.load = Load::Loading { pages: 0 };
        }
    }
}

/// The list row the cursor is on, when a list is what the admin sees.
pub(super) fn rest_target(state: &State) -> Option<RestTarget> {
    if !matches!(state.phase, Phase::Console) || !state.stack.is_empty() {
        return None;
    }
    state.lists.rest_target(&state.ctx())
}

pub(super) fn sync_rest(state: &mut State, target: Option<RestTarget>) -> Option<Cmd> {
    let (lists, ctx) = state.split_lists();
    lists.sync_rest(target, &ctx)
}

pub(super) fn on_rested(state: &mut State, request: RequestId) -> Vec<Cmd> {
    let (lists, ctx) = state.split_lists();
    lists.on_rested(request, &ctx)
}

/// The warm start's cached Apps rows (#17): the list is usable at once (`Load::Done`), the
/// status line says how old it is while the refresh runs behind it.
pub(super) fn on_apps_cached(
    state: &mut State,
    mut rows: Vec<crate::model::AppRow>,
    saved_at: time::OffsetDateTime,
) {
    rows.iter_mut().for_each(crate::model::AppRow::sanitize);
    state.apps.replace_all(rows, object_id, state.now);
    state.apps.load = Load::Done;
    state.lists.apps_cache = Some(CacheMarker::Refreshing { saved_at });
}

fn object_id(row: &crate::model::AppRow) -> &str {
    &row.object_id
}

/// The refresh behind the cached rows landed: changed rows in place, removed ones gone (or,
/// after an expired delta link, every row replaced); the cursor stays on its row.
pub(super) fn on_apps_refreshed(state: &mut State, refresh: AppsRefresh) {
    let key = object_id;
    let (changed, removed) = match refresh {
        AppsRefresh::Delta {
            mut changed,
            removed,
        } => {
            changed.iter_mut().for_each(crate::model::AppRow::sanitize);
            let counts = (changed.len(), removed.len());
            state.apps.apply_changes(changed, &removed, key, state.now);
            counts
        }
        AppsRefresh::Relisted(mut rows) => {
            rows.iter_mut().for_each(crate::model::AppRow::sanitize);
            let counts = (rows.len(), 0);
            state.apps.replace_all(rows, key, state.now);
            counts
        }
    };
    state.apps.load = Load::Done;
    state.lists.apps_cache = Some(CacheMarker::Updated { changed, removed });
}

/// The managed identities changed since they were cached: every row replaced, the cursor
/// kept on its identity.
pub(super) fn on_identities_refreshed(state: &mut State, mut rows: Vec<crate::model::IdentityRow>) {
    rows.iter_mut()
        .for_each(crate::model::IdentityRow::sanitize);
    state.identities.replace_all(rows, principal_id, state.now);
}

fn principal_id(row: &crate::model::IdentityRow) -> &str {
    &row.identity.principal_id
}

/// The refresh failed: the cached rows stay, the status line says they are stale, why, and
/// the key that tries again; so does a warning (until now this was only logged).
pub(super) fn on_apps_refresh_failed(state: &mut State, error: String) {
    let error = ficus_core::text::sanitize(&error).into_owned();
    let saved_at = match &state.lists.apps_cache {
        Some(CacheMarker::Refreshing { saved_at } | CacheMarker::Stale { saved_at, .. }) => {
            *saved_at
        }
        _ => state.now,
    };
    let retry = state.key(crate::keymap::Action::Refresh);
    state.toast(
        crate::state::ToastLevel::Warning,
        format!("The cached apps could not be refreshed (press {retry} to retry): {error}"),
    );
    state.lists.apps_cache = Some(CacheMarker::Stale { saved_at, error });
}

/// Drops every fetched detail (a refresh, a FIC written, another tenant).
pub(super) fn forget_details(state: &mut State) {
    state.lists.forget_details();
}
