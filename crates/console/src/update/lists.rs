//! The root's side of the lists screen (`screens/lists`): applying the listing changes it
//! asks for (the listings are the root's, read by every screen), and where the cursor rests
//! around every message, so the preview's one-shot delay starts however the cursor moved.

use crate::filter::{Listing, Load, Row};
use crate::msg::{Cmd, RequestId};
use crate::nav::{ListKind, ListingChange, ListingEdit};
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

/// Drops every fetched detail (a refresh, a FIC written, another tenant).
pub(super) fn forget_details(state: &mut State) {
    state.lists.forget_details();
}
