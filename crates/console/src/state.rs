//! Everything the console knows, owned by one task and changed only by `update`.

use time::OffsetDateTime;

use crate::component::{Component, Ctx};
use crate::filter::Listing;
use crate::keymap::{Chord, Context, Keymap};
use crate::model::{AppRow, IdentityRow};
use crate::msg::{Msg, RequestId, RequestIds, Session, SignInFailure};
use crate::screens::exchange::{ExchangeMemory, ExchangeScreen};
use crate::screens::inspector::InspectorScreen;
use crate::screens::wizard::Wizard;
use crate::screens::workload::WorkloadScreen;
use crate::theme::{Theme, Themes};

pub use crate::component::{Toast, ToastLevel};
pub use crate::overlay::*;
pub use crate::screens::app_detail::{AppDetailScreen, DetailPane};
pub use crate::screens::identity_detail::IdentityDetailScreen;

pub use crate::nav::ListKind;
pub use crate::screens::lists::{
    DetailCache, ListsScreen, PREVIEW_HEIGHT, REST_DELAY, Rest, RestStage, RestTarget,
};

pub enum Screen {
    AppDetail(Box<AppDetailScreen>),
    IdentityDetail(Box<IdentityDetailScreen>),
    Wizard(Box<Wizard>),
    /// The live test exchange (#7).
    Exchange(Box<ExchangeScreen>),
    /// The token inspector (#7).
    Inspector(Box<InspectorScreen>),
    /// "Use it in your workload" (#16): the code per SDK.
    Workload(Box<WorkloadScreen>),
    /// Failing workloads (#15): failed sign-ins grouped, with the FIC at fault.
    Failing(Box<crate::screens::failing::FailingScreen>),
    /// The Health tab (#14), at the bottom of the stack.
    Health(Box<crate::screens::health::HealthScreen>),
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
            Screen::Workload(s) => Some(&mut **s),
            Screen::Failing(s) => Some(&mut **s),
            Screen::Health(s) => Some(&mut **s),
        }
    }

    pub fn component_ref(&self) -> Option<&dyn Component> {
        match self {
            Screen::AppDetail(s) => Some(&**s),
            Screen::IdentityDetail(s) => Some(&**s),
            Screen::Wizard(w) => Some(&**w),
            Screen::Exchange(s) => Some(&**s),
            Screen::Inspector(s) => Some(&**s),
            Screen::Workload(s) => Some(&**s),
            Screen::Failing(s) => Some(&**s),
            Screen::Health(s) => Some(&**s),
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

pub enum Phase {
    SigningIn(SignInScreen),
    Console,
}

pub struct State {
    pub phase: Phase,
    pub session: Option<Session>,
    /// The rows of both lists: the root's, read by every screen through `Ctx`.
    pub apps: Listing<AppRow>,
    pub identities: Listing<IdentityRow>,
    /// The lists screen at the bottom of the stack: which list, its filter input, the
    /// resting row and the details fetched for it.
    pub lists: ListsScreen,
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
    /// The Health tab while another tab is shown: its findings kept (an audit of a large
    /// tenant takes seconds, and a second one within a minute waits for Graph's quota), so
    /// coming back shows them with their age; `r` audits again.
    pub parked_health: Option<Box<crate::screens::health::HealthScreen>>,
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
            apps: Listing::new(),
            identities: Listing::new(),
            lists: ListsScreen::default(),
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
            evidence: std::collections::HashMap::new(),
            parked_health: None,
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

    /// The lists screen, and what it may read of the rest.
    pub fn split_lists(&mut self) -> (&mut ListsScreen, Ctx<'_>) {
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
        (&mut self.lists, ctx)
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
