//! What the wizard asks of the effects runner ([`WizardCmd`]) and what it answers
//! ([`WizardMsg`]).

use ficus_core::fic::{Fic, FicUpdate};

use crate::error::DirectoryError;
use crate::model::AppDetail;
use crate::request::RequestId;

// ---------------------------------------------------------------------------------------------
// Effects

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WizardCmd {
    /// Read the app (its FICs and credentials).
    LoadApp {
        request: RequestId,
        object_id: String,
    },
    Create {
        request: RequestId,
        app_object_id: String,
        fic: Fic,
    },
    /// The change the review showed, built once by `fic::update_request`.
    Update {
        request: RequestId,
        app_object_id: String,
        update: FicUpdate,
    },
}

#[derive(Debug, Clone)]
pub enum WizardMsg {
    AppLoaded {
        request: RequestId,
        result: Result<Box<AppDetail>, DirectoryError>,
    },
    Saved {
        request: RequestId,
        result: Result<Fic, DirectoryError>,
    },
    /// Sent just before a create's `Saved`: whether Graph's reads already show the FIC.
    /// `false` is still a success ("not replicated yet"): no retry is offered.
    Replication {
        request: RequestId,
        replicated: bool,
    },
}
