//! What flows through the loop: `Msg` in (terminal events and effect results, one channel),
//! `Cmd` out (work for the effects runner). Every effect result carries the request id it
//! answers, so `update` can drop answers nobody is waiting for any more.

use ficus_core::secret::Secret;
use ratatui::crossterm::event::KeyEvent;
use time::OffsetDateTime;

use crate::error::DirectoryError;
use crate::model::{AppDetail, AppRow, IdentityDetail, IdentityRow};

pub use crate::request::{RequestId, RequestIds};

/// Who is signed in where; shown in the header (made by the start-up layer).
pub use ficus_startup::connection::SessionInfo as Session;

/// Why a sign-in did not finish, so the screen can say what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInFailure {
    /// The user pressed "No" / cancelled on the sign-in page.
    Declined,
    /// Nobody entered the code in time.
    Expired,
    /// A Conditional Access policy blocked this device-code sign-in.
    ConditionalAccess {
        detail: String,
    },
    Other {
        detail: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInEvent {
    /// A device code to show.
    Code {
        verification_uri: String,
        user_code: String,
        expires_at: OffsetDateTime,
    },
    Done(Box<Session>),
    Failed(SignInFailure),
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Bracketed paste: the whole pasted text at once. It may be a token: kept in `Secret`
    /// (`Debug` prints `[redacted]`) until the handler that reads it.
    Paste(Secret<String>),
    Resize(u16, u16),
    /// Once a second, only while a countdown is on screen.
    Tick(OffsetDateTime),
    /// SIGTERM / SIGHUP: leave now, restoring the terminal.
    Terminate,
    AppsPage {
        request: RequestId,
        rows: Vec<AppRow>,
        /// How many pages arrived so far, this one included.
        page: usize,
        done: bool,
    },
    AppsFailed {
        request: RequestId,
        error: String,
    },
    /// The Apps list as the warm start's cache kept it (#17), shown before any network
    /// answer; `saved_at`: when it was last brought up to date.
    AppsCached {
        request: RequestId,
        rows: Vec<AppRow>,
        saved_at: OffsetDateTime,
    },
    /// The cached Apps list brought up to date (delta, or listed again in full).
    AppsRefreshed {
        request: RequestId,
        refresh: AppsRefresh,
    },
    /// The managed identities changed since they were cached: the whole Identities list,
    /// tagged with the Apps list's request whose refresh found them.
    IdentitiesRefreshed {
        request: RequestId,
        rows: Vec<IdentityRow>,
    },
    /// The cached Apps list could not be brought up to date: its rows stay, marked stale.
    AppsRefreshFailed {
        request: RequestId,
        error: String,
    },
    /// Certificate expiry for the Apps list (its own effect after the first page), joined by
    /// app id; `None`: the rows already carried it (or the listing failed: `error`). Each
    /// `LoadApps` ends with exactly one.
    CertificatesLoaded {
        request: RequestId,
        by_app: Option<crate::model::CertificatesByApp>,
        error: Option<String>,
    },
    /// The Graph client waits (throttling, pacing, replication): a sentence for the status line.
    GraphWaiting(String),
    IdentitiesPage {
        request: RequestId,
        rows: Vec<IdentityRow>,
        page: usize,
        done: bool,
    },
    IdentitiesFailed {
        request: RequestId,
        error: String,
    },
    AppDetailLoaded {
        request: RequestId,
        result: Result<Box<AppDetail>, DirectoryError>,
    },
    IdentityDetailLoaded {
        request: RequestId,
        result: Result<Box<IdentityDetail>, DirectoryError>,
    },
    FicDeleted {
        request: RequestId,
        result: Result<(), DirectoryError>,
    },
    SignIn(SignInEvent),
    /// The directory cannot switch tenant; the current session stays.
    SwitchRefused(DirectoryError),
    /// The directory's answer to the palette's `whois GUID`.
    WhoisAnswered {
        request: RequestId,
        guid: String,
        result: Result<Vec<String>, DirectoryError>,
    },
    /// Answers to the FIC wizard's effects.
    Wizard(crate::screens::wizard::effect::WizardMsg),
    /// The exchange screen's and token inspector's answers (#7).
    Exchange(crate::token_effects::ExchangeMsg),
    /// Open the live test exchange (from the wizard's last step, a detail screen…).
    OpenExchange(Box<crate::nav::ExchangeEntry>),
    /// Open a FIC in the wizard with one field corrected (the exchange's `F`). Until the
    /// wizard handles it, the console says what to change.
    EditFic(Box<crate::nav::FicFix>),
    /// The one-shot delay of `Cmd::Rest` ran out: if the cursor is still where it was, its
    /// row's details are fetched.
    Rested {
        request: RequestId,
    },
    /// A background effect panicked; the console keeps running and says so.
    EffectPanicked(String),
    /// Where the chosen theme was saved, or why it could not be.
    ThemeSaved(Result<String, String>),
    /// An app's sign-in evidence (`Cmd::LoadEvidence`).
    EvidenceLoaded {
        app_object_id: String,
        result: Result<crate::evidence::Evidence, DirectoryError>,
    },
    /// The Failing workloads view's report (`Cmd::LoadFailing`).
    FailingLoaded {
        request: RequestId,
        result: Result<crate::evidence::FailingReport, DirectoryError>,
    },
    /// A secret removed from App detail (`Cmd::RemoveSecret`).
    SecretRemoved {
        request: RequestId,
        name: String,
        result: Result<(), DirectoryError>,
    },
    /// What undoing the last change would do (`Cmd::PlanUndo`); `None`: nothing to undo.
    UndoPlanned {
        request: RequestId,
        result: Result<Option<UndoPlan>, DirectoryError>,
    },
    /// A change undone (`Cmd::Undo`): what was done, in words.
    Undone {
        request: RequestId,
        app_object_id: String,
        result: Result<String, DirectoryError>,
    },
    /// The Health tab's audit answers (#14).
    Health(crate::screens::health::effect::HealthMsg),
}

/// Undoing the newest change of the history journal in this tenant, before it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoPlan {
    /// The entry's number, as `ficus history` lists it.
    pub number: usize,
    pub app_object_id: String,
    pub app_name: String,
    /// What the change was (`FIC mi-id-payments deleted`).
    pub change: String,
    /// What undoing it does, in words.
    pub description: String,
}

/// Work for the effects runner (or, for `Copy` and `Quit`, for the terminal loop itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    LoadApps {
        request: RequestId,
    },
    LoadIdentities {
        request: RequestId,
    },
    LoadAppDetail {
        request: RequestId,
        object_id: String,
    },
    LoadIdentityDetail {
        request: RequestId,
        identity: Box<IdentityRow>,
    },
    DeleteFic {
        request: RequestId,
        app_object_id: String,
        fic_id: String,
    },
    /// Put text on the clipboard with OSC 52. It may be a token: kept in `Secret` (`Debug`
    /// prints `[redacted]`) until the terminal write.
    Copy(Secret<String>),
    StartSignIn,
    /// Sign in to another tenant (the palette's `tenant NAME`).
    SwitchTenant {
        tenant: String,
    },
    /// Ask the directory what a GUID names (the palette's `whois`).
    Whois {
        request: RequestId,
        guid: String,
    },
    Quit,
    /// Remember the theme chosen in the palette (`theme = "NAME"` in config.toml).
    SaveTheme(String),
    /// Answer `Msg::Rested { request }` after `after` (the cursor rests on a row).
    Rest {
        request: RequestId,
        after: std::time::Duration,
    },
    /// The FIC wizard's effects (run by the effects runner).
    Wizard(crate::screens::wizard::effect::WizardCmd),
    /// The exchange screen's and token inspector's work (#7).
    Exchange(crate::token_effects::ExchangeCmd),
    /// Read the sign-in logs for an app's credentials (when its detail opens).
    LoadEvidence {
        app_object_id: String,
        app_id: String,
    },
    /// Failed workload sign-ins of the last `hours`, grouped and joined with the FICs.
    LoadFailing {
        request: RequestId,
        hours: i64,
    },
    /// `POST /applications/{id}/removePassword {keyId}`, journaled.
    RemoveSecret {
        request: RequestId,
        app_object_id: String,
        key_id: String,
        name: String,
    },
    /// Read the history journal's newest change in this tenant (to this app, when given) and
    /// how it is undone.
    PlanUndo {
        request: RequestId,
        app_object_id: Option<String>,
    },
    /// Undo change `number` of the journal (the restore `ficus history restore` runs).
    Undo {
        request: RequestId,
        number: usize,
        app_object_id: String,
    },
    /// The Health tab's audit (#14).
    Health(crate::screens::health::effect::HealthCmd),
}

impl Msg {
    /// A bracketed paste of `text`, kept in `Secret`.
    pub fn paste(text: impl Into<String>) -> Msg {
        Msg::Paste(Secret::new(text.into()))
    }
}

impl Cmd {
    /// Copy `text` to the clipboard, kept in `Secret` until the terminal write.
    pub fn copy(text: impl Into<String>) -> Cmd {
        Cmd::Copy(Secret::new(text.into()))
    }
}

/// The Apps list from the warm start's cache (#17) and when it was saved.
#[derive(Debug, Clone)]
pub struct CachedApps {
    pub rows: Vec<AppRow>,
    pub saved_at: OffsetDateTime,
}

/// How the cached Apps list was brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppsRefresh {
    /// Graph's delta: these rows as they are now (changed or new), these object ids removed.
    Delta {
        changed: Vec<AppRow>,
        removed: Vec<String>,
    },
    /// The delta link had expired: every row, listed again in full.
    Relisted(Vec<AppRow>),
}
