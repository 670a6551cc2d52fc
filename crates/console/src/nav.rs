//! Where a screen asks to go: [`Nav`], applied only by the root `update` (which owns the
//! screen stack), and the payloads the intents carry.

use ficus_core::fic::{self, Fic};
use ficus_core::secret::Secret;

use crate::model::{AppRow, IdentityRow};
use crate::overlay::{Overlay, PaletteRun};

/// A navigation intent from a screen.
#[derive(Debug, Clone)]
pub enum Nav {
    /// Close the screen on top.
    Pop,
    /// Close it after a FIC was written: the screen below reads its data again.
    PopAndReload,
    /// The live test exchange on top of this screen.
    OpenExchange(Box<ExchangeEntry>),
    /// A FIC in the wizard with one field corrected (the exchange's `F`).
    EditFic(Box<FicFix>),
    /// The wizard creating a FIC for this app (and identity, when known): the exchange's `F`
    /// when the app has no FIC at all.
    AddFic(Box<AddFic>),
    /// The token inspector with this token (or none yet).
    OpenInspector(Box<InspectorEntry>),
    /// An app's detail (from Identity detail's trusting apps).
    OpenApp { object_id: String, name: String },
    /// The wizard creating a FIC from this app or identity (`a`).
    StartWizard(Box<Given>),
    /// The wizard on an existing FIC (`c`; `f` with the first finding's fix applied).
    EditInWizard(Box<EditInWizard>),
    /// A layer over the screen (the delete confirmation, the export view).
    Overlay(Box<Overlay>),
    /// Every key of this screen.
    Help,
    /// Close the overlay on top (help, the palette).
    CloseOverlay,
    /// Run the palette's command (what only the root can do: lists, tenant, theme, whois).
    RunPalette(Box<PaletteRun>),
    /// "Use it in your workload" with these values (#16).
    OpenWorkload(Box<ficus_core::workload::WorkloadValues>),
    /// Leave ficus (the screen has asked already when work would be lost).
    Quit,
    /// An identity's detail (from the Identities list).
    OpenIdentity(Box<IdentityRow>),
    /// The Health tab (#14): the tenant audit.
    OpenHealth,
    /// Leave the Health tab for the Apps list.
    CloseHealth,
    /// An app's detail with the cursor on its FIC at this position (a Health finding).
    OpenAppAt {
        object_id: String,
        name: String,
        fic_index: Option<usize>,
    },
    /// Failing workloads (#15) above the screen that asks, the cursor on this app's (object
    /// id) failing sign-ins once they arrive: a Health finding's path to them.
    OpenFailingAt { app: Option<AppChoice> },
}

/// The list at the bottom of the screen stack; `Tab` switches between them. Adding a tab is
/// a variant here plus its arm where the lists are drawn and dispatched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Apps,
    Identities,
}

/// A change the lists screen asks of a listing the root owns (the listings are read by every
/// screen through `Ctx`, so only the root writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingChange {
    pub list: ListKind,
    pub edit: ListingEdit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingEdit {
    /// The filter text; the cursor goes to the best match.
    Query(String),
    /// The cursor by this many rows, clamped to the list.
    MoveCursor(isize),
    /// Sort by this column (an index into the row type's columns), in this direction.
    Sort { column: usize, descending: bool },
    /// Forget every row and stream them again under this request.
    Reload { request: crate::request::RequestId },
}

/// What `a` was pressed on: an app (with its FICs when already read) or an identity.
#[derive(Debug, Clone)]
pub enum Given {
    App(AppRow, Option<Vec<Fic>>),
    Identity(IdentityRow),
}

/// An existing FIC to change in the wizard.
#[derive(Debug, Clone)]
pub struct EditInWizard {
    pub app: AppRow,
    /// Every FIC of the app, for the rules.
    pub fics: Vec<Fic>,
    pub original: Fic,
    /// `f`: with the first finding's fix applied.
    pub apply_fix: bool,
}

/// What the inspector opens with.
#[derive(Debug, Clone, Default)]
pub struct InspectorEntry {
    pub token: Option<Secret<String>>,
    pub app: Option<AppChoice>,
    /// The app's FICs, to match the token against.
    pub fics: Vec<Fic>,
}

/// A new FIC for this app, trusting this identity when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddFic {
    pub app: AppChoice,
    pub identity: Option<IdentityRow>,
    /// The FIC drafted from the refused token (core's `Remedy::AddFic`), when there is one.
    pub draft: Option<Fic>,
}

/// The app the exchange is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppChoice {
    pub object_id: String,
    /// The application (client) id the token endpoint is asked with.
    pub app_id: String,
    pub name: String,
}

impl AppChoice {
    /// A list row for an app known only by this choice (its FICs are read when needed).
    pub fn to_row(&self) -> AppRow {
        AppRow {
            object_id: self.object_id.clone(),
            app_id: self.app_id.clone(),
            name: self.name.clone(),
            fic_count: None,
            fic_subjects: None,
            credentials: Vec::new(),
            audience: crate::model::Audience::Single,
        }
    }
}

impl From<&AppRow> for AppChoice {
    fn from(app: &AppRow) -> Self {
        AppChoice {
            object_id: app.object_id.clone(),
            app_id: app.app_id.clone(),
            name: app.name.clone(),
        }
    }
}

/// What a screen passes to open the exchange. Anything left `None` is picked on the screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeEntry {
    pub app: Option<AppChoice>,
    pub identity: Option<IdentityRow>,
    /// Default: the signed-in tenant (the app's home tenant).
    pub resource_tenant: Option<String>,
    /// Default: Microsoft Graph `.default`.
    pub scope: Option<String>,
    /// A FIC was created moments ago (the wizard): an AADSTS70021 is then retried with backoff.
    pub just_created: bool,
    /// Start the exchange at once instead of waiting for `x`.
    pub run: bool,
}

/// A FIC to open in the wizard with one field corrected: what `F` on a failed exchange sends
/// as `Msg::EditFic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FicFix {
    pub app: AppChoice,
    pub fic: Fic,
    pub field: fic::Field,
    pub corrected: String,
}
