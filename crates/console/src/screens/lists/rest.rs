//! The list row the cursor rests on: its details are fetched after a short delay and kept
//! for the preview and `Enter`.

use ficus_core::text::sanitize;

use super::ListsScreen;
use crate::component::Ctx;
use crate::error::DirectoryError;
use crate::filter::Listing;
use crate::model::{AppDetail, IdentityDetail, IdentityRow};
use crate::msg::{Cmd, RequestId};
use crate::nav::ListKind;

/// The list row the cursor rests on, whose details (FICs, trusting apps) are fetched once it
/// has stayed there for [`REST_DELAY`]: by its app object id or identity principal id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RestTarget {
    App(String),
    Identity(String),
}

/// Lines under a list for the preview of the row the cursor rests on (a rule with its name,
/// then two lines).
pub const PREVIEW_HEIGHT: u16 = 3;

/// How long the cursor must stay on a row before its details are fetched: long enough that
/// `j` held down (key repeat every ~30 ms) fetches nothing, short enough to feel immediate.
pub const REST_DELAY: std::time::Duration = std::time::Duration::from_millis(200);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestStage {
    /// The one-shot delay `request` runs; a newer move makes it stale.
    Waiting,
    /// The details are asked for with `request`.
    Fetching,
    Failed(String),
    /// In [`DetailCache`].
    Done,
}

/// Where the cursor rests and how far its details are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rest {
    pub target: RestTarget,
    pub request: RequestId,
    pub stage: RestStage,
}

/// Details already fetched, per object id: the list's preview and `Enter` use them at once.
/// Dropped on `r`, after a FIC is created, changed or deleted, and on a tenant switch.
#[derive(Debug, Default)]
pub struct DetailCache {
    pub apps: std::collections::HashMap<String, AppDetail>,
    /// By principal id.
    pub identities: std::collections::HashMap<String, IdentityDetail>,
}

impl DetailCache {
    /// More than this many and the cache starts over: it holds what the admin looked at, not
    /// the tenant.
    pub const LIMIT: usize = 512;

    pub fn clear(&mut self) {
        self.apps.clear();
        self.identities.clear();
    }

    pub fn put_app(&mut self, detail: AppDetail) {
        if self.apps.len() >= Self::LIMIT {
            self.apps.clear();
        }
        self.apps.insert(detail.app.object_id.clone(), detail);
    }

    pub fn put_identity(&mut self, detail: IdentityDetail) {
        if self.identities.len() >= Self::LIMIT {
            self.identities.clear();
        }
        self.identities
            .insert(detail.identity.principal_id.clone(), detail);
    }
}

impl ListsScreen {
    /// The row the cursor is on in the list shown (the root asks only while a list is what
    /// the admin sees).
    pub fn rest_target(&self, ctx: &Ctx) -> Option<RestTarget> {
        match self.list {
            ListKind::Apps => ctx
                .apps
                .selected()
                .map(|app| RestTarget::App(app.object_id.clone())),
            ListKind::Identities => ctx
                .identities
                .selected()
                .map(|identity| RestTarget::Identity(identity.principal_id.clone())),
        }
    }

    fn is_cached(&self, target: &RestTarget) -> bool {
        match target {
            RestTarget::App(object_id) => self.details.apps.contains_key(object_id),
            RestTarget::Identity(principal_id) => {
                self.details.identities.contains_key(principal_id)
            }
        }
    }

    /// When the cursor is on another row than the one resting, start that row's one-shot
    /// delay (unless its details are known). Pages streaming in do not move it.
    pub fn sync_rest(&mut self, target: Option<RestTarget>, ctx: &Ctx) -> Option<Cmd> {
        let Some(target) = target else {
            self.rest = None;
            return None;
        };
        if self.rest.as_ref().is_some_and(|rest| rest.target == target) {
            return None;
        }
        let request = ctx.new_request();
        let cached = self.is_cached(&target);
        self.rest = Some(Rest {
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

    /// The delay ran out: if it is still the current one (the cursor did not move since),
    /// fetch the row's details.
    pub fn on_rested(&mut self, request: RequestId, ctx: &Ctx) -> Vec<Cmd> {
        let target = match &self.rest {
            Some(rest) if rest.request == request && rest.stage == RestStage::Waiting => {
                rest.target.clone()
            }
            _ => return Vec::new(),
        };
        let fetch = ctx.new_request();
        let cmd = match &target {
            RestTarget::App(object_id) => Cmd::LoadAppDetail {
                request: fetch,
                object_id: object_id.clone(),
            },
            RestTarget::Identity(principal_id) => {
                match find_identity(ctx.identities, principal_id) {
                    Some(identity) => Cmd::LoadIdentityDetail {
                        request: fetch,
                        identity: Box::new(identity.clone()),
                    },
                    None => return Vec::new(),
                }
            }
        };
        if let Some(rest) = &mut self.rest {
            rest.request = fetch;
            rest.stage = RestStage::Fetching;
        }
        vec![cmd]
    }

    /// Whether `request` is the resting row's fetch.
    pub fn is_rest_fetch(&self, request: RequestId) -> bool {
        self.rest
            .as_ref()
            .is_some_and(|rest| rest.request == request && rest.stage == RestStage::Fetching)
    }

    pub fn finish_rest_fetch(&mut self, result: Result<(), &DirectoryError>) {
        if let Some(rest) = &mut self.rest {
            rest.stage = match result {
                Ok(()) => RestStage::Done,
                Err(error) => RestStage::Failed(sanitize(&error.message).into_owned()),
            };
        }
    }

    /// Drops every fetched detail (a refresh, a FIC written, another tenant); the row the
    /// cursor rests on is fetched again after its delay.
    pub fn forget_details(&mut self) {
        self.details.clear();
        self.rest = None;
    }
}

fn find_identity<'a>(
    identities: &'a Listing<IdentityRow>,
    principal_id: &str,
) -> Option<&'a IdentityRow> {
    identities.find(|i| i.principal_id == principal_id)
}

/// What the cache holds of one loaded detail: the one path both detail kinds take.
pub trait CachedDetail {
    fn cache(&self, details: &mut DetailCache);
}

impl CachedDetail for AppDetail {
    fn cache(&self, details: &mut DetailCache) {
        details.put_app(self.clone());
    }
}

impl CachedDetail for IdentityDetail {
    fn cache(&self, details: &mut DetailCache) {
        details.put_identity(self.clone());
    }
}
