//! Entra caches managed identity tokens: the managed identity endpoints hand out the same
//! token for an identity and resource until it nears expiry (about 24 hours), so a role
//! assigned or removed in the meantime shows up only in a token minted later.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use uuid::Uuid;

use crate::model::ServicePrincipal;
use crate::tokens::{self, Minted, Resource, Signer};

/// A cached token is handed out while more than this is left of it (MSAL treats tokens with
/// less than 5 minutes left as expired).
const MIN_REMAINING_SECONDS: i64 = 300;

/// Signing key id, authority, tenant, identity, audience: a key of another sandbox (another
/// generated key, or the same state served elsewhere) never shares an entry.
type Key = (String, String, Uuid, Uuid, String);

static CACHE: LazyLock<Mutex<HashMap<Key, Minted>>> = LazyLock::new(Mutex::default);

/// The identity's token for `resource`: the cached one while it has time left, else a new one.
pub fn token(
    signer: &Signer<'_>,
    identity: &ServicePrincipal,
    resource: &Resource,
    now: i64,
) -> Minted {
    let key: Key = (
        signer.key.kid.clone(),
        signer.authority.to_string(),
        signer.tenant_id,
        identity.id,
        resource.audience.clone(),
    );
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cached) = cache.get(&key)
        && cached.expires_on - now > MIN_REMAINING_SECONDS
    {
        let mut again = cached.clone();
        again.expires_in = cached.expires_on - now - 1;
        return again;
    }
    cache.retain(|_, m| m.expires_on > now);
    let minted = tokens::managed_identity_token(signer, identity, resource, now);
    cache.insert(key, minted.clone());
    minted
}
