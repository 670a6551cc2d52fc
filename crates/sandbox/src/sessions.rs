//! Live sign-in sessions: device codes waiting for approval and refresh tokens.

use std::collections::HashMap;
use std::time::Instant;

use ficus_core::secret::Secret;
use uuid::Uuid;

use crate::tokens::opaque;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceFlowStatus {
    Pending,
    Approved {
        tenant: Uuid,
        user: Uuid,
    },
    Declined,
    /// Tokens were issued; the code cannot be redeemed again.
    Redeemed,
}

#[derive(Debug, Clone)]
pub struct DeviceFlow {
    /// `None` when started on `/common` or `/organizations`: the approving user's tenant.
    pub tenant_id: Option<Uuid>,
    pub client_id: String,
    /// Requested scopes, as sent (space-separated items).
    pub scopes: Vec<String>,
    pub user_code: String,
    pub expires_at: Instant,
    pub interval: u64,
    pub status: DeviceFlowStatus,
    pub last_poll: Option<Instant>,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires_at: Instant,
}

/// Live sign-in sessions (memory only: a restart signs everyone out, as a real key rollover
/// would not, but the sandbox does not persist tokens).
#[derive(Debug, Default)]
pub struct Sessions {
    /// By device code.
    pub device_flows: HashMap<String, DeviceFlow>,
    /// By refresh token value.
    pub refresh_tokens: HashMap<String, RefreshGrant>,
}

impl Sessions {
    pub fn issue_refresh_token(&mut self, grant: RefreshGrant) -> Secret<String> {
        // Entra refresh tokens are long opaque strings.
        let value = format!("1.sandbox.{}{}{}", opaque(), opaque(), opaque());
        self.refresh_tokens.insert(value.clone(), grant);
        Secret::new(value)
    }

    /// The grant of a refresh token. Entra does not revoke a refresh token when it is used (a new
    /// one comes back too): it stays valid until it expires or is revoked.
    pub fn redeem_refresh_token(&mut self, value: &str) -> Option<RefreshGrant> {
        let grant = self.refresh_tokens.get(value).cloned()?;
        (grant.expires_at > Instant::now()).then_some(grant)
    }

    pub fn flow_by_user_code(&mut self, user_code: &str) -> Option<(&String, &mut DeviceFlow)> {
        let wanted = user_code.trim().to_ascii_uppercase();
        self.device_flows
            .iter_mut()
            .find(|(_, f)| f.user_code == wanted)
    }
}
