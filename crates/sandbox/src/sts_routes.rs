//! The token service's routes: the v2 endpoints (`sts.rs`), the v1 ones (`sts_v1.rs`) and
//! the device login page, on one router (apart from both, which share helpers one way).

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;
use crate::{sts, sts_v1};

/// Every token service route, for the main listener.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(sts::discovery_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(sts::discovery_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(sts::jwks_v2))
        .route("/{tenant}/discovery/keys", get(sts::jwks_v1))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(sts::device_code))
        .route("/{tenant}/oauth2/v2.0/token", post(sts::token))
        .route("/{tenant}/oauth2/devicecode", post(sts_v1::device_code))
        .route("/{tenant}/oauth2/token", post(sts_v1::token))
        .route("/{tenant}/oauth2/v2.0/authorize", get(sts_v1::authorize))
        .route("/{tenant}/oauth2/authorize", get(sts_v1::authorize))
        .route("/{tenant}/oauth2/v2.0/logout", get(sts_v1::logout))
        .route("/{tenant}/oauth2/logout", get(sts_v1::logout))
        .route(
            "/common/discovery/instance",
            get(sts_v1::instance_discovery),
        )
        .route(
            "/devicelogin",
            get(sts::device_login_page).post(sts::device_login_submit),
        )
}
