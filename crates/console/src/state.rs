//! Everything the console knows, owned by one task and changed only by `update`.

use time::OffsetDateTime;
use tui_input::Input;

use crate::component::{Component, Ctx};
use crate::filter::Listing;
use crate::keymap::{Chord, Context, Keymap};
use crate::model::{AppDetail, AppRow, IdentityDetail, IdentityRow};
use crate::msg::{Msg, RequestId, RequestIds, Session, SignInFailure};
use crate::screens::exchange::{ExchangeMemory, ExchangeScreen};
use crate::screens::inspector::InspectorScreen;
use crate::screens::wizard::Wizard;
use crate::theme::{Theme, Themes};

pub use crate::component::{Toast, ToastLevel};
pub use crate::overlay::*;
pub use crate::screens::app_detail::{AppDetailScreen, DetailPane};
pub use crate::screens::identity_detail::IdentityDetailScreen;

/// The list at the bottom of the screen stack; `Tab` switches between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Apps,
    Identities,
}

pub enum Screen {
    AppDetail(Box<AppDetailScreen>),
    IdentityDetail(Box<IdentityDetailScreen>),
    Wizard(Box<Wizard>),
    /// The live test exchange (#7).
    Exchange(Box<ExchangeScreen>),
    /// The token inspector (#7).
    Inspector(Box<InspectorScreen>),
}

impl Screen {
    /// The screen as a component, for the screens that are one.
    pub fn component(&mut self) -> Option<&mut dyn Component> {
        match self {
            Screen::AppDetail(s) => Some(&mut **s),
            Screen::IdentityDetail(s) => Some(&mut **s),
            Screen::Wizard(w) => Some(&mut **w),
            Screen::Exchange(s) => Some(&mut **s),
            Screen::Inspector(s) => Some(&mut **s),
        }
    }

    pub fn component_ref(&self) -> Option<&dyn Component> {
        match self {
            Screen::AppDetail(s) => Some(&**s),
            Screen::IdentityDetail(s) => Some(&**s),
            Screen::Wizard(w) => Some(&**w),
            Screen::Exchange(s) => Some(&**s),
            Screen::Inspector(s) => Some(&**s),
        }
    }
}

/// The sign-in phase before the console (not used with `--sandbox`, which starts signed in).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignInScreen {
    /// What is happening before a code is shown ("Starting the sandbox…").
    pub status: Option<String>,
    pub verification_uri: Option<String>,
    pub user_code: Option<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub failure: Option<SignInFailure>,
}

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

pub enum Phase {
    SigningIn(SignInScreen),
    Console,
}

pub struct State {
    pub phase: Phase,
    pub session: Option<Session>,
    pub list: ListKind,
    pub apps: Listing<AppRow>,
    pub identities: Listing<IdentityRow>,
    /// The filter being typed, per list; `editing_filter` says whether keys go to it.
    pub apps_filter: Input,
    pub identities_filter: Input,
    pub editing_filter: bool,
    /// Detail screens above the list.
    pub stack: Vec<Screen>,
    pub overlay: Option<Overlay>,
    pub toast: Option<Toast>,
    /// The toast is the Graph client's "waiting N s: …": stale once an answer arrives.
    pub toast_is_wait: bool,
    pub keymap: Keymap,
    pub themes: Themes,
    pub theme: Theme,
    /// Keys typed so far of a multi-key binding (`g` of `g g`).
    pub pending: Vec<Chord>,
    pub size: (u16, u16),
    /// The clock the views compare expiry dates with; moved on by data and ticks.
    pub now: OffsetDateTime,
    /// The exchange screen's session-long memory (recent scopes).
    pub exchange_memory: ExchangeMemory,
    /// The `whois` the open panel waits for: its request and GUID.
    pub whois_request: Option<(RequestId, String)>,
    /// Keys (and pastes) typed while signing in, applied once the apps list arrives.
    pub typed_ahead: Vec<Msg>,
    /// The list row the cursor rests on (see [`REST_DELAY`]).
    pub rest: Option<Rest>,
    pub details: DetailCache,
    /// Sign-in evidence per app object id (the app detail's last-used column).
    pub evidence: std::collections::HashMap<String, crate::evidence::Evidence>,
    requests: RequestIds,
    pub quit: bool,
}

impl State {
    pub fn new(keymap: Keymap, themes: Themes, theme_name: &str, now: OffsetDateTime) -> State {
        let theme = themes.get(theme_name).cloned().unwrap_or_else(Theme::mono);
        State {
            phase: Phase::Console,
            session: None,
            list: ListKind::Apps,
            apps: Listing::new(),
            identities: Listing::new(),
            apps_filter: Input::default(),
            identities_filter: Input::default(),
            editing_filter: false,
            stack: Vec::new(),
            overlay: None,
            toast: None,
            toast_is_wait: false,
            keymap,
            themes,
            theme,
            pending: Vec::new(),
            size: (80, 24),
            now,
            exchange_memory: Default::default(),
            whois_request: None,
            typed_ahead: Vec::new(),
            rest: None,
            details: DetailCache::default(),
            evidence: std::collections::HashMap::new(),
            requests: RequestIds::default(),
            quit: false,
        }
    }

    pub fn new_request(&mut self) -> RequestId {
        self.requests.next()
    }

    /// The screen on top, and what it may read of the rest.
    pub fn split(&mut self) -> (Option<&mut Screen>, Ctx<'_>) {
        let ctx = Ctx {
            now: self.now,
            session: self.session.as_ref(),
            keymap: &self.keymap,
            apps: &self.apps,
            identities: &self.identities,
            recent_scopes: &self.exchange_memory.recent_scopes,
            list_height: self.size.1.saturating_sub(5 + PREVIEW_HEIGHT) as usize,
            requests: &self.requests,
            themes: &self.themes,
            theme: &self.theme.name,
        };
        (self.stack.last_mut(), ctx)
    }

    /// The overlay on top, and what it may read of the rest.
    pub fn split_overlay(&mut self) -> (Option<&mut Overlay>, Ctx<'_>) {
        let ctx = Ctx {
            now: self.now,
            session: self.session.as_ref(),
            keymap: &self.keymap,
            apps: &self.apps,
            identities: &self.identities,
            recent_scopes: &self.exchange_memory.recent_scopes,
            list_height: self.size.1.saturating_sub(5 + PREVIEW_HEIGHT) as usize,
            requests: &self.requests,
            themes: &self.themes,
            theme: &self.theme.name,
        };
        (self.overlay.as_mut(), ctx)
    }

    /// What the screens may read, when none is being changed.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            now: self.now,
            session: self.session.as_ref(),
            keymap: &self.keymap,
            apps: &self.apps,
            identities: &self.identities,
            recent_scopes: &self.exchange_memory.recent_scopes,
            list_height: self.list_height(),
            requests: &self.requests,
            themes: &self.themes,
            theme: &self.theme.name,
        }
    }

    /// The key bound to `action` where the console is now, for sentences ("press r to retry").
    pub fn key(&self, action: crate::keymap::Action) -> String {
        crate::component::key_named(&self.keymap, self.context(), action)
    }

    /// Which bindings apply right now.
    pub fn context(&self) -> Context {
        match (&self.phase, self.stack.last()) {
            (Phase::SigningIn(_), _) => Context::SignIn,
            (_, Some(Screen::AppDetail(_))) => Context::AppDetail,
            (_, Some(Screen::IdentityDetail(_))) => Context::IdentityDetail,
            (_, Some(screen)) if screen.component_ref().is_some() => screen
                .component_ref()
                .map_or(Context::List, |c| c.context()),
            (_, Some(_)) => Context::List,
            (_, None) => Context::List,
        }
    }

    pub fn read_only(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.read_only)
    }

    /// A countdown is on screen: the loop then ticks once a second, and only then.
    pub fn needs_tick(&self) -> bool {
        matches!(&self.phase, Phase::SigningIn(s) if s.expires_at.is_some() && s.failure.is_none())
            || self
                .stack
                .last()
                .and_then(Screen::component_ref)
                .is_some_and(|c| c.needs_tick())
    }

    /// Rows available to a list on screen (the whole height minus header, column titles,
    /// filter line and footer).
    pub fn list_height(&self) -> usize {
        self.size.1.saturating_sub(5 + PREVIEW_HEIGHT) as usize
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        self.toast_is_wait = false;
        self.toast = Some(Toast {
            level,
            text: text.into(),
        });
    }
}
