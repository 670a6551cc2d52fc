//! Live sign-in sessions: device codes waiting for approval and refresh tokens.
//!
//! Device codes are bounded (per client and in total) and forgotten when they expire, so a
//! flood of unauthenticated `/devicecode` requests cannot grow the sandbox without limit.

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

/// Pending device codes one client may hold at once.
pub const MAX_PENDING_DEVICE_CODES_PER_CLIENT: usize = 50;
/// Device codes held at once, all clients together.
pub const MAX_DEVICE_CODES: usize = 2_000;

/// A device code refused because too many are held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceFlowLimit {
    #[error(
        "Too many pending device code requests for client '{client_id}' (at most {MAX_PENDING_DEVICE_CODES_PER_CLIENT}). Complete or let expire the ones started, then try again."
    )]
    PerClient { client_id: String },
    #[error(
        "Too many pending device code requests (at most {MAX_DEVICE_CODES}). Try again when some have expired."
    )]
    Total,
}

impl DeviceFlowLimit {
    /// Entra's throttling code (AADSTS90055, "the number of requests exceeded the throttling
    /// threshold").
    pub fn code(&self) -> u32 {
        90055
    }
}

impl Sessions {
    /// Files a new device flow under its code, after forgetting the expired ones; refused
    /// when its client already has [`MAX_PENDING_DEVICE_CODES_PER_CLIENT`] pending or the
    /// sandbox holds [`MAX_DEVICE_CODES`].
    pub fn insert_device_flow(
        &mut self,
        code: String,
        flow: DeviceFlow,
    ) -> Result<(), DeviceFlowLimit> {
        let now = Instant::now();
        self.device_flows.retain(|_, f| f.expires_at > now);
        if self.device_flows.len() >= MAX_DEVICE_CODES {
            return Err(DeviceFlowLimit::Total);
        }
        let pending = self
            .device_flows
            .values()
            .filter(|f| f.client_id == flow.client_id && f.status == DeviceFlowStatus::Pending)
            .count();
        if pending >= MAX_PENDING_DEVICE_CODES_PER_CLIENT {
            return Err(DeviceFlowLimit::PerClient {
                client_id: flow.client_id,
            });
        }
        self.device_flows.insert(code, flow);
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn flow(client: &str, expires_in: Duration) -> DeviceFlow {
        DeviceFlow {
            tenant_id: None,
            client_id: client.into(),
            scopes: Vec::new(),
            user_code: "ABC".into(),
            expires_at: Instant::now() + expires_in,
            interval: 5,
            status: DeviceFlowStatus::Pending,
            last_poll: None,
        }
    }

    #[test]
    fn device_codes_are_bounded_per_client_and_in_total_and_expire_on_time() {
        let mut s = Sessions::default();
        let minute = Duration::from_secs(60);
        for i in 0..MAX_PENDING_DEVICE_CODES_PER_CLIENT {
            s.insert_device_flow(format!("a{i}"), flow("a", minute))
                .expect("within the client's bound");
        }
        assert_eq!(
            s.insert_device_flow("a-over".into(), flow("a", minute)),
            Err(DeviceFlowLimit::PerClient {
                client_id: "a".into()
            })
        );
        let mut i = 0;
        while s.device_flows.len() < MAX_DEVICE_CODES {
            s.insert_device_flow(format!("c{i}"), flow(&format!("client-{i}"), minute))
                .expect("within the total bound");
            i += 1;
        }
        assert_eq!(
            s.insert_device_flow("over".into(), flow("fresh", minute)),
            Err(DeviceFlowLimit::Total)
        );
        // Expired codes are forgotten at their expiry, making room again.
        for f in s.device_flows.values_mut() {
            f.expires_at = Instant::now() - Duration::from_millis(1);
        }
        s.insert_device_flow("fresh".into(), flow("a", minute))
            .expect("room once the others expired");
        assert_eq!(s.device_flows.len(), 1);
    }
}
