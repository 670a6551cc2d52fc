//! Graph's delta queries on `/applications/delta` and `/servicePrincipals/delta`: the first
//! round pages through every object (`@odata.nextLink`) and ends with an `@odata.deltaLink`
//! (`…/delta?$deltatoken=…`); replaying that link returns only the objects that changed since,
//! and deleted ones as `{"id": …, "@removed": {"reason": "deleted"}}`. `$deltatoken=latest`
//! answers at once with a deltaLink and no objects. `$select` is honoured (and remembered by the
//! token, as Graph's opaque links do).
//!
//! A token names a snapshot: a hash of every object as the round served it (its `$select`).
//! Replaying it diffs that snapshot against the directory now, so the answer is exact whatever
//! wrote in between (Graph, the journal replay after a restart, a test editing the state).
//! Snapshots live in this process only, [`MAX_ROUNDS`] at most: a token of an earlier process
//! (a restarted sandbox) or one evicted since is answered as Graph answers an expired one,
//! 410 Gone with `syncStateNotFound`, and the client starts over with a full listing.
//!
//! Compiled as a child of `graph` (it answers with graph's own request, projections and errors).

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use axum::http::StatusCode;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use uuid::Uuid;

use super::odata::{self, Query};
use super::{GraphError, Listed, Request, to_json};

/// Snapshots kept at once (each is 24 bytes an object: about 2.4 MB for 100,000 apps).
pub const MAX_ROUNDS: usize = 32;
/// Objects a delta page holds unless `$top` asks for fewer (or more, up to 999).
pub const DELTA_PAGE: usize = 200;

/// One round: the snapshot its deltaLink will diff against, and what its pages list.
struct Round {
    tenant: Uuid,
    collection: &'static str,
    /// The request's own query without the delta options (its `$select`, `$top`).
    query: String,
    snapshot: HashMap<Uuid, u64>,
    /// Object ids to serve in order; `true`: removed since the token.
    changes: Vec<(Uuid, bool)>,
}

struct Store {
    /// Tells this process's tokens from an earlier one's.
    epoch: u64,
    next: AtomicU64,
    rounds: Mutex<VecDeque<(u64, Arc<Round>)>>,
}

static STORE: LazyLock<Store> = LazyLock::new(|| Store {
    epoch: u64::from_le_bytes(Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([7; 8])),
    next: AtomicU64::new(1),
    rounds: Mutex::new(VecDeque::new()),
});

impl Store {
    fn keep(&self, round: Round) -> (u64, Arc<Round>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let round = Arc::new(round);
        let mut rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
        if rounds.len() >= MAX_ROUNDS {
            rounds.pop_front();
        }
        rounds.push_back((id, round.clone()));
        (id, round)
    }

    fn find(&self, token: &str) -> Option<(u64, Arc<Round>, usize)> {
        let mut parts = token.split('.');
        let epoch = u64::from_str_radix(parts.next()?, 16).ok()?;
        let id = u64::from_str_radix(parts.next()?, 16).ok()?;
        let offset = match parts.next() {
            Some(o) => o.parse::<usize>().ok()?,
            None => 0,
        };
        if epoch != self.epoch || parts.next().is_some() {
            return None;
        }
        let rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
        rounds
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, r)| (id, r.clone(), offset))
    }

    fn token(&self, id: u64) -> String {
        format!("{:x}.{id:x}", self.epoch)
    }
}

/// Graph's answer to a delta token it no longer (or never) knew.
fn sync_state_not_found() -> GraphError {
    GraphError::new(
        StatusCode::GONE,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token has expired or is unknown: start again without $deltatoken (a full listing).",
    )
}

/// Splits the delta options off a raw query: (the rest, `$deltatoken`, `$skiptoken`).
fn split_query(raw: Option<&str>) -> (String, Option<String>, Option<String>) {
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    let (mut delta, mut skip) = (None, None);
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match name.trim().to_ascii_lowercase().as_str() {
            "$deltatoken" => delta = Some(value.into_owned()),
            "$skiptoken" => skip = Some(value.into_owned()),
            _ => {
                rest.append_pair(&name, &value);
            }
        }
    }
    (rest.finish().replace("%24", "$"), delta, skip)
}

/// Feeds serialized JSON into a hasher without building the string.
struct HashWriter<'h>(&'h mut std::collections::hash_map::DefaultHasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        buf.hash(self.0);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fingerprint<J: Serialize>(json: &J) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    // Serializing the model's own projections cannot fail; a failure hashes what was written.
    let _ = serde_json::to_writer(HashWriter(&mut hasher), json);
    hasher.finish()
}

/// A removed object as a delta lists it.
struct Removed(Uuid);

impl Serialize for Removed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("id", &self.0)?;
        m.serialize_entry("@removed", &serde_json::json!({"reason": "deleted"}))?;
        m.end()
    }
}

/// One item of a delta page: the object as it is now, or its removal.
enum Item<'a, T: Listed + 'a> {
    Present(T::Json<'a>),
    Removed(Removed),
}

impl<'a, T: Listed + 'a> Serialize for Item<'a, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Item::Present(json) => json.serialize(s),
            Item::Removed(removed) => removed.serialize(s),
        }
    }
}

impl Request<'_> {
    /// `GET /applications/delta` or `/servicePrincipals/delta`.
    pub(super) fn delta<T: Listed>(&self) -> Result<axum::response::Response, GraphError> {
        self.require_read()?;
        let (rest, delta_token, skip_token) = split_query(self.ctx.query());
        // The round to serve and where in it. A deltaLink names the round whose snapshot the
        // next replay diffs against.
        let (id, round, offset) = match (&skip_token, &delta_token) {
            (Some(token), _) => STORE.find(token).ok_or_else(sync_state_not_found)?,
            // `$deltatoken=latest`: a deltaLink now, no objects.
            (None, Some(token)) if token.eq_ignore_ascii_case("latest") => {
                let query = self.delta_query::<T>(&rest)?;
                let (id, round) = STORE.keep(self.snapshot::<T>(&rest, &query, false)?);
                (id, round, 0)
            }
            (None, Some(token)) => {
                let (_, previous, _) = STORE.find(token).ok_or_else(sync_state_not_found)?;
                let query = self.delta_query::<T>(&previous.query)?;
                let (id, round) = STORE.keep(self.diff::<T>(&previous, &query)?);
                (id, round, 0)
            }
            (None, None) => {
                let query = self.delta_query::<T>(&rest)?;
                let (id, round) = STORE.keep(self.snapshot::<T>(&rest, &query, true)?);
                (id, round, 0)
            }
        };
        if round.collection != T::COLLECTION || round.tenant != self.caller.tenant_id {
            return Err(sync_state_not_found());
        }
        let query = self.delta_query::<T>(&round.query)?;
        let size = query.top.unwrap_or(DELTA_PAGE);
        let end = offset.saturating_add(size).min(round.changes.len());
        let slice = round.changes.get(offset..end).unwrap_or_default();
        let base = format!("{}{}", self.ctx.origin, self.ctx.path);
        let link = |extra: String| {
            if round.query.is_empty() {
                format!("{base}?{extra}")
            } else {
                format!("{base}?{}&{extra}", round.query)
            }
        };
        let (next_link, delta_link) = if end < round.changes.len() {
            let skip = format!("$skiptoken={}.{end}", STORE.token(id));
            (Some(link(skip)), None)
        } else {
            (None, Some(link(format!("$deltatoken={}", STORE.token(id)))))
        };
        let context = self.ctx.context(&format!(
            "{}{}",
            T::COLLECTION,
            query.context_select_suffix()
        ));
        let body = self.read(|tenant| {
            let items: Vec<Item<'_, T>> = slice
                .iter()
                .map(|&(id, removed)| match (removed, T::by_id(tenant, id)) {
                    (false, Some(item)) => Item::Present(item.json(tenant, &query)),
                    _ => Item::Removed(Removed(id)),
                })
                .collect();
            to_json(&DeltaPage {
                context: &context,
                next_link: next_link.as_deref(),
                delta_link: delta_link.as_deref(),
                items: &items,
            })
        })?;
        Ok(self.ctx.json(StatusCode::OK, body))
    }

    /// The query a delta round serves: `$select` and `$top` only.
    fn delta_query<T: Listed>(&self, rest: &str) -> Result<Query, GraphError> {
        let query = odata::parse(Some(rest), false, T::schema())?;
        if query.filter.is_some()
            || query.search.is_some()
            || query.orderby.is_some()
            || !query.expand.is_empty()
        {
            return Err(GraphError::bad_request(
                "A delta query takes $select (and $top) only here; drop $filter, $search, $orderby and $expand.",
            ));
        }
        Ok(query)
    }

    /// Every object's fingerprint now; `list`: the round pages through all of them.
    fn snapshot<T: Listed>(
        &self,
        rest: &str,
        query: &Query,
        list: bool,
    ) -> Result<Round, GraphError> {
        self.read(|tenant| {
            let snapshot: HashMap<Uuid, u64> = T::all(tenant)
                .values()
                .map(|item| (item.id(), fingerprint(&item.json(tenant, query))))
                .collect();
            let changes = if list {
                T::all(tenant).keys().map(|id| (*id, false)).collect()
            } else {
                Vec::new()
            };
            Ok(Round {
                tenant: self.caller.tenant_id,
                collection: T::COLLECTION,
                query: rest.to_string(),
                snapshot,
                changes,
            })
        })
    }

    /// What changed since `previous`: new or changed objects (id order), then removed ones.
    fn diff<T: Listed>(&self, previous: &Round, query: &Query) -> Result<Round, GraphError> {
        if previous.tenant != self.caller.tenant_id || previous.collection != T::COLLECTION {
            return Err(sync_state_not_found());
        }
        let mut round = self.snapshot::<T>(&previous.query, query, false)?;
        let mut changes: Vec<(Uuid, bool)> = round
            .snapshot
            .iter()
            .filter(|(id, hash)| previous.snapshot.get(id) != Some(hash))
            .map(|(id, _)| (*id, false))
            .collect();
        changes.sort_unstable();
        let mut removed: Vec<(Uuid, bool)> = previous
            .snapshot
            .keys()
            .filter(|id| !round.snapshot.contains_key(id))
            .map(|id| (*id, true))
            .collect();
        removed.sort_unstable();
        changes.extend(removed);
        round.changes = changes;
        Ok(round)
    }
}

/// `{"@odata.context", "@odata.nextLink" | "@odata.deltaLink", "value": [...]}`.
struct DeltaPage<'a, I> {
    context: &'a str,
    next_link: Option<&'a str>,
    delta_link: Option<&'a str>,
    items: &'a [I],
}

impl<I: Serialize> Serialize for DeltaPage<'_, I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("@odata.context", self.context)?;
        if let Some(link) = self.next_link {
            m.serialize_entry("@odata.nextLink", link)?;
        }
        if let Some(link) = self.delta_link {
            m.serialize_entry("@odata.deltaLink", link)?;
        }
        m.serialize_entry("value", self.items)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_options_are_split_from_the_rest() {
        let (rest, delta, skip) =
            split_query(Some("$select=id,displayName&$deltatoken=abc.1&$top=5"));
        assert_eq!(rest, "$select=id%2CdisplayName&$top=5");
        assert_eq!(delta.as_deref(), Some("abc.1"));
        assert_eq!(skip, None);
    }

    #[test]
    fn unknown_and_foreign_tokens_are_not_found() {
        assert!(STORE.find("garbage").is_none());
        assert!(STORE.find("0.1").is_none() || STORE.epoch == 0);
        let other_epoch = format!("{:x}.1", STORE.epoch.wrapping_add(1));
        assert!(STORE.find(&other_epoch).is_none());
    }

    #[test]
    fn fingerprints_follow_content() {
        let a = fingerprint(&serde_json::json!({"id": 1, "displayName": "a"}));
        let b = fingerprint(&serde_json::json!({"id": 1, "displayName": "b"}));
        assert_ne!(a, b);
        assert_eq!(
            a,
            fingerprint(&serde_json::json!({"id": 1, "displayName": "a"}))
        );
    }
}
