//! How the exchange screen opens: from an entry (another screen's `Nav::OpenExchange`) or the
//! palette's `exchange [app] [identity]`.

use super::state::*;
use crate::component::{Ctx, Outcome};
use crate::model::IdentityRow;
use crate::msg::Cmd;
use crate::nav::{AppChoice, ExchangeEntry};
use crate::token_effects::*;
use ficus_core::text::sanitize;

use super::run::start_run;

/// The exchange screen for an entry (the root pushes it), with its first commands.
pub fn open(ctx: &Ctx, entry: ExchangeEntry) -> (ExchangeScreen, Outcome) {
    let tenant = entry
        .resource_tenant
        .clone()
        .or_else(|| ctx.session.map(|s| s.tenant_id.clone()))
        .unwrap_or_default();
    let scope = entry
        .scope
        .clone()
        .unwrap_or_else(|| ctx.cloud().exchange_default_scope());
    let source_request = ctx.new_request();
    let focus = if entry.app.is_none() {
        FormField::App
    } else if entry.identity.is_none() {
        FormField::Identity
    } else {
        FormField::Scope
    };
    let mut screen = ExchangeScreen {
        app: entry.app.map(|mut a| {
            a.name = sanitize(&a.name).into_owned();
            a
        }),
        identity: entry.identity,
        tenant: sanitize(&tenant).into_owned(),
        scope: sanitize(&scope).into_owned(),
        focus,
        picker: None,
        source_request,
        source: SourceState::Detecting,
        source_choice: SourceChoice::Session,
        emulated_host: ctx
            .session
            .is_some_and(|s| s.cloud_endpoints.kind == ficus_core::cloud::CloudKind::Custom),
        pasted: None,
        file_input: None,
        file_request: 0,
        just_created: entry.just_created,
        run: None,
        reveal: false,
        scroll: 0,
    };
    let mut here = Here::new(&mut screen, ctx);
    let mut cmds = vec![Cmd::Exchange(ExchangeCmd::DetectSource {
        request: source_request,
        choice: MsiChoice::Session,
    })];
    if entry.run {
        cmds.extend(start_run(&mut here, 1));
    }
    let outcome = here.finish(cmds);
    (screen, outcome)
}

/// `exchange [app] [identity]` from the palette: names are matched against the loaded lists.
pub fn entry_from_palette(ctx: &Ctx, argument: &str) -> ExchangeEntry {
    let mut words = argument.split_whitespace();
    let app = words.next().and_then(|name| {
        ctx.apps
            .find(|a| a.name.eq_ignore_ascii_case(name) || a.app_id.eq_ignore_ascii_case(name))
            .map(AppChoice::from)
    });
    let identity = words.next().and_then(|name| {
        ctx.identities
            .find(|i| {
                i.name.eq_ignore_ascii_case(name)
                    || i.client_id.eq_ignore_ascii_case(name)
                    || i.principal_id.eq_ignore_ascii_case(name)
            })
            .cloned()
    });
    ExchangeEntry {
        app,
        identity,
        ..ExchangeEntry::default()
    }
}

/// The identity a FIC names, from the loaded identities (its subject is a principal id, or
/// mistakenly a client id).
pub fn identity_for_subject(ctx: &Ctx, subject: &str) -> Option<IdentityRow> {
    ctx.identities
        .find(|i| {
            i.principal_id.eq_ignore_ascii_case(subject)
                || i.client_id.eq_ignore_ascii_case(subject)
        })
        .cloned()
}
