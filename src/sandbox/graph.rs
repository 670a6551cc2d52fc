//! Microsoft Graph v1.0 subset (owned by the sandbox-graph helper).

use crate::sandbox::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
}
