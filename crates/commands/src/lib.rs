//! The headless commands: `ficus apps`, `identities`, `whois`, `fic list|add|rm`, `exchange`,
//! `decode`, `explain`, `login`, `logout`, `whoami`, `code`, `audit`; `signins`, `secret list|rm` and
//! `history [restore N]` live in [`evidence`]. Each writes human text (sanitized of
//! control characters) or, with `--json`, JSON to the given writer, following the one
//! convention of [`output`]; errors go to stderr (as JSON with `--json`) and the exit code is
//! non-zero on failure.

use std::io::Write;

use serde_json::{Value, json};

pub mod args;
pub mod audit;
pub mod code;
pub mod decode;
pub mod evidence;
pub mod output;

pub use decode::DecodeOptions;
pub use output::clean;
use output::{Table, emit_json, to_json};

pub use args::{Command, ExchangeArgs, FicCommand};
use ficus_entra::msi::{self, IdentitySelector, MsiEnv, MsiSource};
use ficus_entra::resolve::{describe_app, resolve_app, resolve_identity};
use ficus_startup::session::session_config;
use ficus_startup::{self as startup, GlobalArgs, StartupError};

use ficus_core::fic::{self, Fic, Identity, IdentityKind};
use ficus_entra::sts::{self, ExchangeReport, ExchangeRequest, Outcome};
use ficus_entra::{Account, AppSummary, EntraError, Http, Session, SessionConfig};

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Entra(#[from] EntraError),
    #[error("{message}")]
    Refused {
        message: String,
        findings: Vec<Value>,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Token(#[from] ficus_core::jwt::JwtError),
    #[error("the sandbox could not start: {0}")]
    Sandbox(String),
    /// What was given to read (a token on stdin) is not usable: too long, not text, unreadable.
    #[error("{0}")]
    Input(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The command printed its result, and that result is a failure (e.g. a refused exchange).
    #[error("{0}")]
    Reported(String),
}

impl CommandError {
    pub fn to_json(&self) -> Value {
        match self {
            CommandError::Entra(e) => e.to_json(),
            CommandError::Refused { message, findings } => {
                json!({ "kind": "refused", "message": message, "detail": { "findings": findings } })
            }
            CommandError::Usage(m) => json!({ "kind": "usage", "message": m }),
            CommandError::Token(e) => json!({ "kind": "token", "message": e.to_string() }),
            CommandError::Sandbox(m) => json!({ "kind": "sandbox", "message": m }),
            CommandError::Input(m) => json!({ "kind": "input", "message": m }),
            CommandError::Output(e) => json!({ "kind": "output", "message": e.to_string() }),
            CommandError::Reported(m) => json!({ "kind": "failed", "message": m }),
        }
    }
}

/// Everything a command needs once connected.
pub struct Context {
    pub session: Session,
    pub json: bool,
    /// Where exchanges get their managed identity token when `--token-file` is not given;
    /// `None`: detect from the environment.
    pub msi_source: Option<MsiSource>,
    pub msi_http: Http,
    /// How the session was obtained (`sandbox`, `token cache`, `azure cli`, …) for `whoami`.
    pub signed_in_via: String,
}

impl Context {
    /// A signed-in session from the start-up layer, printing JSON or text.
    pub fn new(signed: startup::Signed, json: bool) -> Context {
        Context {
            session: signed.session,
            json,
            msi_source: signed.msi_source,
            msi_http: signed.msi_http,
            signed_in_via: signed.signed_in_via,
        }
    }
}

impl From<StartupError> for CommandError {
    fn from(error: StartupError) -> CommandError {
        match error {
            StartupError::Usage(message) => CommandError::Usage(message),
            StartupError::Config(e) => CommandError::Usage(e.to_string()),
            StartupError::Entra(e) => CommandError::Entra(e),
            StartupError::Sandbox(message) => CommandError::Sandbox(message),
        }
    }
}

/// Runs one command that needs a signed-in session.
pub async fn execute(
    ctx: &Context,
    command: &Command,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    // Say on stderr whenever ficus waits (throttling, pacing, replication): a command that
    // goes quiet for 45 s says why.
    ctx.session
        .http
        .retry_policy()
        .waiter
        .set_observer(|wait| eprintln!("ficus: {wait}"));
    match command {
        Command::Apps { filter } => apps(ctx, filter.as_deref(), out).await,
        Command::Identities { filter } => identities(ctx, filter.as_deref(), out).await,
        Command::Whois { guid } => whois(ctx, guid, out).await,
        Command::Fic(FicCommand::List { app }) => fic_list(ctx, app, out).await,
        Command::Fic(FicCommand::Add {
            app,
            identity,
            name,
            description,
            dry_run,
            force,
        }) => {
            let opts = AddOptions {
                name: name.clone(),
                description: description.clone(),
                dry_run: *dry_run,
                force: *force,
            };
            fic_add(ctx, app, identity, &opts, out).await
        }
        Command::Fic(FicCommand::Rm { app, name, yes }) => {
            let confirm = if *yes { Confirm::Yes } else { Confirm::Ask };
            fic_rm(ctx, app, name, confirm, out).await
        }
        Command::Exchange(args) => exchange(ctx, args, out).await,
        Command::Whoami => whoami(ctx, out).await,
        Command::Decode { token, verify } => {
            let options = DecodeOptions {
                verify: *verify,
                ca_pem: None,
                json: ctx.json,
                authority: Some(ctx.session.cloud.login.clone()),
                expected_tenant: Some(ctx.session.tenant.clone()),
            };
            decode::decode(token.as_deref(), Some(&ctx.session.http), &options, out).await
        }
        Command::Explain { text } => explain(&text.join(" "), ctx.json, out),
        Command::Code(args) => code::code(ctx, args, out).await,
        Command::Signins(args) => evidence::signins(ctx, args, out).await,
        Command::Secret(command) => evidence::secret(ctx, command, out).await,
        Command::History(args) => evidence::history(ctx, args, out).await,
        Command::Failing(args) => evidence::failing(ctx, args, out).await,
        Command::Audit { markdown, fail_on } => {
            audit::audit_command(ctx, *markdown, fail_on.as_deref(), out).await
        }
        Command::Login | Command::Logout => Err(CommandError::Usage(
            "login and logout do not run inside a session".into(),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// apps / identities / whois

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(needle)
}

async fn apps(
    ctx: &Context,
    filter: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    use futures_util::StreamExt;
    let needle = filter.map(|f| f.trim().to_lowercase());
    let keep = |a: &AppSummary| match &needle {
        None => true,
        Some(n) => {
            contains_ci(&a.display_name, n) || contains_ci(&a.app_id, n) || contains_ci(&a.id, n)
        }
    };
    let graph = ctx.session.graph();
    let mut pages = std::pin::pin!(graph.list_apps());
    let mut list = Vec::new();
    while let Some(page) = pages.next().await {
        list.extend(page?.into_iter().filter(|a| keep(a)));
    }
    output::sort_apps(&mut list);
    if ctx.json {
        emit_json(out, &to_json(&list))?;
        return Ok(());
    }
    let now = time::OffsetDateTime::now_utc();
    let mut table = Table::new(&["DISPLAY NAME", "APP ID", "OBJECT ID", "FICS", "CREATED"]);
    for app in &list {
        table.row(vec![
            app.display_name.clone(),
            app.app_id.clone(),
            app.id.clone(),
            app.fic_count
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            app.created_date_time
                .as_deref()
                .and_then(output::parse_iso)
                .map(|at| output::when(at, now))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    table.write(out)?;
    writeln!(out, "{} app(s)", list.len())?;
    Ok(())
}

fn kind_label(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::UserAssigned => "user-assigned",
        IdentityKind::SystemAssigned => "system-assigned",
    }
}

/// Whether `identity` matches `identities --filter` (case-insensitive, any id or name).
fn identity_matches(identity: &Identity, needle: &str) -> bool {
    [
        Some(identity.name.as_str()),
        Some(identity.client_id.as_str()),
        Some(identity.principal_id.as_str()),
        identity.resource_group.as_deref(),
        identity.arm_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|field| contains_ci(field, needle))
}

async fn identities(
    ctx: &Context,
    filter: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let mut list = ctx.session.graph().list_managed_identities().await?;
    if let Some(needle) = filter.map(|f| f.trim().to_lowercase()) {
        list.retain(|i| identity_matches(i, &needle));
    }
    output::sort_identities(&mut list);
    if ctx.json {
        emit_json(out, &to_json(&list))?;
        return Ok(());
    }
    let mut table = Table::new(&[
        "NAME",
        "KIND",
        "CLIENT ID",
        "PRINCIPAL ID",
        "RESOURCE GROUP",
    ]);
    for i in &list {
        table.row(vec![
            i.name.clone(),
            kind_label(i.kind).to_string(),
            i.client_id.clone(),
            i.principal_id.clone(),
            i.resource_group.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    table.write(out)?;
    writeln!(
        out,
        "{} identit{}",
        list.len(),
        if list.len() == 1 { "y" } else { "ies" }
    )?;
    Ok(())
}

async fn whois(ctx: &Context, guid: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let tenant_id = ctx.session.tenant_id().await;
    let matches = ctx
        .session
        .graph()
        .resolve_guid(guid, tenant_id.as_deref())
        .await?;
    if matches.is_empty() {
        // Nothing on stdout: the error (on stderr) says it all.
        return Err(CommandError::Reported(format!(
            "{} names nothing in this tenant (not an app, service principal, managed identity, user or the tenant); check the tenant (--tenant) or that it is a GUID of this directory",
            clean(guid.trim())
        )));
    }
    if ctx.json {
        let matches: Vec<Value> = matches
            .iter()
            .map(|m| {
                json!({
                    "kind": m.kind,
                    "displayName": m.display_name,
                    "details": m.details.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<String, Value>>(),
                })
            })
            .collect();
        emit_json(out, &json!({ "guid": guid.trim(), "matches": matches }))?;
        return Ok(());
    }
    for m in &matches {
        writeln!(
            out,
            "{} is the {} {}",
            clean(guid.trim()),
            m.kind.label(),
            clean(&m.display_name)
        )?;
        for (k, v) in &m.details {
            writeln!(out, "    {}: {}", clean(k), clean(v))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// fic list / add / rm

fn print_fic(out: &mut dyn Write, f: &Fic) -> std::io::Result<()> {
    writeln!(out, "{}", clean(&f.name))?;
    writeln!(out, "    issuer:    {}", clean(&f.issuer))?;
    writeln!(out, "    subject:   {}", clean(&f.subject))?;
    writeln!(out, "    audiences: {}", clean(&f.audiences.join(", ")))?;
    if let Some(d) = &f.description {
        writeln!(out, "    description: {}", clean(d))?;
    }
    if let Some(id) = &f.id {
        writeln!(out, "    id:        {id}")?;
    }
    Ok(())
}

/// The tenant id FICs are checked against (the signed-in tenant's id, else its name).
async fn tenant_id(ctx: &Context) -> String {
    ctx.session
        .tenant_id()
        .await
        .unwrap_or_else(|| ctx.session.tenant.clone())
}

/// Each FIC's `fic::rules` findings, as the console's app detail attaches them: checked
/// against the app, its other FICs, and the identity its subject names (when it names one).
fn fic_findings(
    ctx: &Context,
    tenant_id: &str,
    app: &AppSummary,
    fics: &[Fic],
    identities: &[Identity],
) -> Vec<Vec<fic::Finding>> {
    fics.iter()
        .map(|f| {
            let mut rules = fic::RuleContext::new(&ctx.session.cloud, tenant_id)
                .with_app_id(&app.app_id)
                .with_existing(fics)
                .with_identities(identities);
            if let Some(identity) = identities.iter().find(|i| i.principal_id == f.subject) {
                rules = rules.with_identity(identity);
            }
            fic::validate(f, &rules)
        })
        .collect()
}

async fn fic_list(ctx: &Context, app: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let graph = ctx.session.graph();
    let app = resolve_app(&graph, app).await?;
    let (fics, identities) =
        futures_util::try_join!(graph.list_fics(&app.id), graph.list_managed_identities())?;
    let mut fics = fics;
    output::sort_fics(&mut fics);
    let tenant_id = tenant_id(ctx).await;
    let findings = fic_findings(ctx, &tenant_id, &app, &fics, &identities);
    if ctx.json {
        let fics: Vec<Value> = fics
            .iter()
            .zip(&findings)
            .map(|(f, found)| {
                let mut v = to_json(f);
                v["findings"] = Value::Array(found.iter().map(finding_json).collect());
                v
            })
            .collect();
        emit_json(out, &json!({ "app": app, "fics": fics }))?;
        return Ok(());
    }
    writeln!(
        out,
        "{}: {} federated identity credential(s)",
        clean(&describe_app(&app)),
        fics.len()
    )?;
    for (f, found) in fics.iter().zip(&findings) {
        print_fic(out, f)?;
        for finding in found {
            writeln!(out, "    {}", finding_text(finding).replace('\n', "\n    "))?;
        }
    }
    Ok(())
}

/// Options of `ficus fic add`.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    pub name: Option<String>,
    pub description: Option<String>,
    pub dry_run: bool,
    pub force: bool,
}

/// A rule finding in JSON: severity, field, message and the fix (`null` when there is none).
pub fn finding_json(f: &fic::Finding) -> Value {
    json!({
        "severity": if f.is_error() { "error" } else { "warning" },
        "field": f.field.label(),
        "message": f.message,
        "fix": f.fix.as_ref().map(|x| json!({ "field": x.field.label(), "value": x.value, "label": x.label })),
    })
}

fn finding_text(f: &fic::Finding) -> String {
    let mut s = format!(
        "{} [{}] {}",
        if f.is_error() { "error:  " } else { "warning:" },
        f.field.label(),
        clean(&f.message)
    );
    if let Some(fix) = &f.fix {
        s.push_str(&format!("\n           fix: {}", clean(&fix.label)));
    }
    s
}

async fn fic_add(
    ctx: &Context,
    app_query: &str,
    identity_query: &str,
    opts: &AddOptions,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let graph = ctx.session.graph();
    let app = resolve_app(&graph, app_query).await?;
    let identities = graph.list_managed_identities().await?;
    let identity = resolve_identity(&identities, identity_query)?;
    let existing = graph.list_fics(&app.id).await?;
    let tenant_id = tenant_id(ctx).await;
    let cloud = &ctx.session.cloud;
    let app_ref = fic::AppRef {
        app_id: app.app_id.clone(),
        display_name: app.display_name.clone(),
    };
    let mut draft = fic::managed_identity_fic(cloud, &tenant_id, &app_ref, &identity, &existing);
    if let Some(n) = &opts.name {
        draft.name = n.clone();
    }
    if let Some(d) = &opts.description {
        draft.description = Some(d.clone());
    }
    let rule_ctx = fic::RuleContext::new(cloud, &tenant_id)
        .with_identity(&identity)
        .with_app_id(&app.app_id)
        .with_existing(&existing)
        .with_identities(&identities);
    let findings = fic::validate(&draft, &rule_ctx);
    let findings_json: Vec<Value> = findings.iter().map(finding_json).collect();
    if fic::has_errors(&findings) {
        return Err(CommandError::Refused {
            message: format!(
                "the FIC for {} on {} is refused: {} error(s); fix them and try again",
                identity.name,
                app.display_name,
                findings.iter().filter(|f| f.is_error()).count()
            ),
            findings: findings_json,
        });
    }
    let warnings = findings.len();
    // The request is built once, by core, for the dry run and its exports alike.
    let record = fic::AppRecord {
        object_id: app.id.clone(),
        app_id: app.app_id.clone(),
        display_name: app.display_name.clone(),
        unique_name: None,
    };
    let request = fic::export::graph_request(&draft, &record);
    if opts.dry_run {
        let exports: Vec<(fic::export::ExportFormat, String)> = fic::export::ExportFormat::ALL
            .into_iter()
            .filter(|f| *f != fic::export::ExportFormat::GraphRequest)
            .map(|f| (f, fic::export::export(f, &draft, &record, cloud)))
            .collect();
        // The exports carry the stored values escaped; say so when some are invisible.
        let export_warnings: Vec<String> = fic::export::export_warnings(&draft)
            .iter()
            .map(|w| w.message())
            .collect();
        if ctx.json {
            let exports_json: serde_json::Map<String, Value> = exports
                .iter()
                .map(|(f, text)| (f.label().to_string(), Value::String(text.clone())))
                .collect();
            emit_json(
                out,
                &json!({
                    "dryRun": true,
                    "request": {
                        "method": request.method,
                        "url": request.url(cloud),
                        "body": request.body,
                    },
                    "findings": findings_json,
                    "exports": exports_json,
                    "exportWarnings": export_warnings,
                }),
            )?;
            return Ok(());
        }
        for f in &findings {
            writeln!(out, "{}", finding_text(f))?;
        }
        writeln!(out, "Dry run: nothing was changed. The request would be:\n")?;
        writeln!(out, "{}", request.to_http(cloud))?;
        for warning in &export_warnings {
            writeln!(out, "warning: {warning}")?;
        }
        for (format, text) in &exports {
            writeln!(out, "# {}\n{}\n", format.label(), text.trim_end())?;
        }
        return Ok(());
    }
    if warnings > 0 && !opts.force {
        return Err(CommandError::Refused {
            message: format!(
                "{warnings} warning(s) about this FIC; review them and pass --force to save anyway"
            ),
            findings: findings_json,
        });
    }
    let outcome = graph.create_fic_outcome(&app.id, &draft).await?;
    let created = outcome.fic;
    evidence::record(
        ctx,
        &app,
        startup::history::Change::FicCreated {
            after: created.clone(),
        },
    )
    .await?;
    if ctx.json {
        emit_json(
            out,
            &json!({
                "app": app,
                "created": created,
                "replicated": outcome.replicated,
                "findings": findings_json
            }),
        )?;
        return Ok(());
    }
    for f in &findings {
        writeln!(out, "{}", finding_text(f))?;
    }
    if outcome.replicated {
        writeln!(
            out,
            "Created and verified on {}:",
            clean(&describe_app(&app))
        )?;
    } else {
        // Graph answered the create; its reads have not caught up. Not a failure.
        writeln!(
            out,
            "Created on {} (Graph answered the write; its reads do not show it yet, they will within minutes):",
            clean(&describe_app(&app))
        )?;
    }
    print_fic(out, &created)?;
    Ok(())
}

/// Whether `fic rm` may delete without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// `--yes`: delete.
    Yes,
    /// Ask on the terminal; refuse when stdin is not one.
    Ask,
}

/// Asks on stderr whether to go on, reading the answer from stdin (a terminal).
fn ask(question: &str) -> Result<bool, CommandError> {
    let mut err = std::io::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

async fn fic_rm(
    ctx: &Context,
    app: &str,
    name: &str,
    confirm: Confirm,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    use std::io::IsTerminal;
    // Refuse before asking Graph anything: a script without --yes must not half-run.
    if confirm == Confirm::Ask && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(
            "fic rm deletes a federated identity credential and stdin is not a terminal to confirm it; pass --yes to delete without asking".into(),
        ));
    }
    let graph = ctx.session.graph();
    let app = resolve_app(&graph, app).await?;
    let fics = graph.list_fics(&app.id).await?;
    let Some(target) = fics
        .iter()
        .find(|f| f.name == name || f.id.as_deref() == Some(name))
    else {
        return Err(EntraError::NotFound {
            what: "federated identity credential",
            query: name.to_string(),
            hint: format!(
                "{} has: {}",
                app.display_name,
                if fics.is_empty() {
                    "none".to_string()
                } else {
                    fics.iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        }
        .into());
    };
    if confirm == Confirm::Ask
        && !ask(&format!(
            "Delete the federated identity credential {} from {}? Workloads that use it stop getting tokens.",
            clean(&target.name),
            clean(&describe_app(&app))
        ))?
    {
        return Err(CommandError::Usage(
            "not deleted: not confirmed (pass --yes to delete without asking)".into(),
        ));
    }
    let key = target.id.clone().unwrap_or_else(|| target.name.clone());
    graph.delete_fic(&app.id, &key).await?;
    evidence::record(
        ctx,
        &app,
        startup::history::Change::FicDeleted {
            before: target.clone(),
        },
    )
    .await?;
    if ctx.json {
        emit_json(out, &json!({ "app": app, "deleted": target }))?;
        return Ok(());
    }
    writeln!(
        out,
        "Deleted {} from {}",
        clean(&target.name),
        clean(&describe_app(&app))
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// exchange

async fn exchange(
    ctx: &Context,
    args: &ExchangeArgs,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let graph = ctx.session.graph();
    let app = resolve_app(&graph, &args.app).await?;
    let app_fics = graph.list_fics(&app.id).await?;
    let identities = graph.list_managed_identities().await?;
    let identity = resolve_identity(&identities, &args.identity)?;
    let source = match (&args.token_file, &ctx.msi_source) {
        (Some(path), _) => MsiSource::explicit_from(path).map_err(EntraError::from)?,
        (None, Some(s)) => s.clone(),
        (None, None) => msi::detect(&MsiEnv::from_process()).await?,
    };
    let request = ExchangeRequest {
        app_client_id: app.app_id.clone(),
        resource_tenant: args
            .resource_tenant
            .clone()
            .unwrap_or_else(|| ctx.session.tenant.clone()),
        scope: args
            .scope
            .clone()
            .unwrap_or_else(|| ctx.session.cloud.exchange_default_scope()),
        source,
        identity: IdentitySelector::ClientId(identity.client_id.clone()),
        app_fics,
        identities: identities.clone(),
    };
    let report = sts::exchange(
        &ctx.session.http,
        &ctx.msi_http,
        &ctx.session.cloud,
        &request,
    )
    .await;
    if ctx.json {
        emit_json(out, &to_json(&report))?;
    } else {
        print_report(out, &report, &identity)?;
    }
    if report.succeeded() {
        Ok(())
    } else {
        Err(CommandError::Reported(
            report
                .failure
                .clone()
                .unwrap_or_else(|| "the exchange failed".into()),
        ))
    }
}

fn print_report(
    out: &mut dyn Write,
    r: &ExchangeReport,
    identity: &Identity,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Exchange for app {} with identity {} via {}",
        r.app_client_id,
        clean(&identity.name),
        clean(&r.source)
    )?;
    for s in &r.steps {
        let (mark, detail) = match &s.outcome {
            Outcome::Ok(d) => ("ok  ", d),
            Outcome::Failed(d) => ("FAIL", d),
            Outcome::Skipped(d) => ("skip", d),
        };
        writeln!(
            out,
            "  [{mark}] {:<28} {:>6} ms  {}",
            s.name,
            s.duration.as_millis(),
            clean(detail)
        )?;
        if !s.endpoint.is_empty() {
            writeln!(out, "         {}", clean(&s.endpoint))?;
        }
    }
    let now = time::OffsetDateTime::now_utc();
    for (label, jwt) in [("assertion", &r.assertion), ("app token", &r.app_token)] {
        if let Some(j) = jwt {
            writeln!(out, "{label}: {}", clean(&decode::describe_kind(j)))?;
            decode::write_claims(out, j, now, "    ")?;
        }
    }
    if let Some(e) = &r.error {
        writeln!(out, "Entra said: {}", clean(&e.description))?;
        if let Some(t) = &e.trace_id {
            writeln!(
                out,
                "    trace id {t}, correlation id {}",
                e.correlation_id.as_deref().unwrap_or("-")
            )?;
        }
    }
    if let Some(d) = &r.diagnosis {
        writeln!(out, "Diagnosis: {}", clean(&d.summary))?;
        if let Some(f) = &d.field {
            writeln!(out, "    field: {f}")?;
        }
        if let Some(f) = &d.fix {
            writeln!(out, "    fix:   {}", clean(f))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// explain (no session needed; decode is in `decode.rs`)

/// `ficus explain CODE-OR-TEXT`: a code (`700213`, `AADSTS700213`), an error body or SDK text.
pub fn explain(text: &str, as_json: bool, out: &mut dyn Write) -> Result<(), CommandError> {
    let Some(e) = fic::explain(text) else {
        return Err(CommandError::Usage(format!(
            "no AADSTS code found in '{}'; pass a code such as 700213 or the whole error text",
            clean(text)
        )));
    };
    if as_json {
        emit_json(
            out,
            &json!({
                "code": e.code,
                "error": e.error,
                "known": e.known,
                "summary": e.title,
                "field": e.field_at_fault.map(|f| f.label()),
                "fix": e.fix,
                "entraMessage": e.entra_message,
            }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "AADSTS{}{}",
        e.code,
        e.error
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default()
    )?;
    writeln!(out, "{}", clean(&e.title))?;
    if let Some(f) = e.field_at_fault {
        writeln!(out, "field: {}", f.label())?;
    }
    writeln!(out, "fix:   {}", clean(&e.fix))?;
    if let Some(m) = &e.entra_message {
        writeln!(out, "Entra said: {}", clean(m))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// whoami / login / logout

async fn whoami(ctx: &Context, out: &mut dyn Write) -> Result<(), CommandError> {
    let account = ctx.session.credentials.account().await;
    let tokens = ctx.session.credentials.tokens().await;
    let expires = output::from_unix(tokens.expires_at);
    let v = json!({
        "account": account,
        "tenant": ctx.session.tenant,
        "cloud": ctx.session.cloud.kind.label(),
        "authority": ctx.session.cloud.login,
        "signedInVia": ctx.signed_in_via,
        "expiresOn": expires.map(output::iso),
        "scope": tokens.scope,
        "readOnly": ctx.session.read_only,
    });
    if ctx.json {
        emit_json(out, &v)?;
        return Ok(());
    }
    print_account(out, &account)?;
    writeln!(
        out,
        "tenant:    {} ({} cloud, {})",
        clean(&ctx.session.tenant),
        ctx.session.cloud.kind,
        ctx.session.cloud.login
    )?;
    writeln!(out, "via:       {}", ctx.signed_in_via)?;
    if let Some(at) = expires {
        writeln!(
            out,
            "token:     expires {}",
            output::when(at, time::OffsetDateTime::now_utc())
        )?;
    }
    Ok(())
}

fn print_account(out: &mut dyn Write, a: &Account) -> std::io::Result<()> {
    writeln!(
        out,
        "signed in: {}",
        clean(a.username.as_deref().unwrap_or("(unknown user)"))
    )?;
    if let Some(n) = &a.name {
        writeln!(out, "name:      {}", clean(n))?;
    }
    if let Some(o) = &a.object_id {
        writeln!(out, "object id: {o}")?;
    }
    if let Some(t) = &a.tenant_id {
        writeln!(out, "tenant id: {t}")?;
    }
    Ok(())
}

/// `ficus login`: device code flow, tokens cached.
pub async fn login(
    config: &SessionConfig,
    as_json: bool,
    out: &mut dyn Write,
    prompt_out: &mut dyn Write,
) -> Result<(), CommandError> {
    let account = startup::session::device_code_login(config, prompt_out).await?;
    if as_json {
        emit_json(out, &json!({ "signedIn": true, "account": account }))?;
        return Ok(());
    }
    print_account(out, &account)?;
    Ok(())
}

/// `ficus logout`: removes the cached sign-in.
pub fn logout(
    config: &SessionConfig,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let removed = startup::session::forget_login(config)?;
    if as_json {
        emit_json(out, &json!({ "removed": removed }))?;
        return Ok(());
    }
    writeln!(
        out,
        "{}",
        if removed {
            "Signed out: the cached tokens were removed."
        } else {
            "Nothing to do: no cached sign-in for this tenant and client."
        }
    )?;
    Ok(())
}

/// A session from the flags (see [`startup::session::connect`]).
pub async fn connect(
    global: &GlobalArgs,
    prompt_out: &mut dyn Write,
) -> Result<Context, CommandError> {
    let signed = startup::session::connect(global, prompt_out).await?;
    Ok(Context::new(signed, global.json))
}

/// Writes a command error to `err` (JSON with `--json`, keys camelCase; text sanitized, user
/// info of URLs redacted, a refusal with its findings).
pub fn report_error(e: &CommandError, as_json: bool, err: &mut dyn Write) {
    // A password typed into a URL (`--sandbox-url https://user:pw@host`) is never echoed,
    // whichever layer's message quotes the URL.
    if as_json {
        let value = output::camel_keys(json!({ "error": e.to_json() }));
        let text = serde_json::to_string(&value).unwrap_or_default();
        let _ = writeln!(err, "{}", ficus_entra::redact_userinfo(&text));
        return;
    }
    let _ = writeln!(
        err,
        "error: {}",
        clean(&ficus_entra::redact_userinfo(&e.to_string()))
    );
    if let CommandError::Refused { findings, .. } = e {
        for f in findings {
            let _ = writeln!(
                err,
                "  {} [{}] {}",
                if f["severity"] == "error" {
                    "error:  "
                } else {
                    "warning:"
                },
                clean(f["field"].as_str().unwrap_or("?")),
                clean(f["message"].as_str().unwrap_or(""))
            );
            if let Some(fix) = f["fix"]["label"].as_str() {
                let _ = writeln!(err, "             fix: {}", clean(fix));
            }
        }
    }
}

/// Runs the headless command line; the future's output is the process exit code.
///
/// Boxed on purpose (a build-time choice, not a runtime one): rustc compiles an `async`
/// body in every crate that polls it, so an `async fn` here would be compiled again inside
/// the `ficus` binary, serially at the end of every release build. Behind `dyn Future` it
/// is compiled once, here, beside the console.
pub fn run(
    global: GlobalArgs,
    sandbox: bool,
    command: Option<Command>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::process::ExitCode>>> {
    Box::pin(run_and_report(global, sandbox, command))
}

async fn run_and_report(
    global: GlobalArgs,
    sandbox: bool,
    command: Option<Command>,
) -> std::process::ExitCode {
    let as_json = global.json;
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let result = run_to(global, sandbox, command, &mut stdout, &mut stderr).await;
    let _ = stdout.flush();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`ficus apps | head`): stop quietly, like other Unix tools.
        Err(CommandError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            report_error(&e, as_json, &mut stderr);
            std::process::ExitCode::FAILURE
        }
    }
}

/// [`run`] with explicit output streams (tests).
pub async fn run_to(
    global: GlobalArgs,
    sandbox: bool,
    command: Option<Command>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let Some(command) = command else {
        return Err(CommandError::Usage(
            "no command given; run `ficus --help`".into(),
        ));
    };
    let json_out = global.json;
    if sandbox {
        let (signed, sandbox) = startup::sandbox::start_sandbox_signed(&global).await?;
        let ctx = Context::new(signed, json_out);
        let result = match &command {
            Command::Login => {
                writeln!(
                    err,
                    "--sandbox is already signed in as the demo admin; nothing to do"
                )?;
                whoami(&ctx, out).await
            }
            Command::Logout => {
                writeln!(err, "--sandbox keeps no cached sign-in; nothing to do")?;
                Ok(())
            }
            other => execute(&ctx, other, out).await,
        };
        sandbox.shutdown().await;
        return result;
    }
    match &command {
        Command::Decode { token, verify } => {
            // The keys come from the token's issuer: no tenant or session needed, only the CA
            // to trust (`--ca-file`, e.g. a running sandbox's).
            let ca_pem = match &global.ca_file {
                Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
                    CommandError::Usage(format!("cannot read the CA file {}: {e}", p.display()))
                })?),
                None => None,
            };
            let options = DecodeOptions {
                verify: *verify,
                ca_pem,
                json: json_out,
                authority: None,
                expected_tenant: None,
            };
            decode::decode(token.as_deref(), None, &options, out).await
        }
        Command::Explain { text } => explain(&text.join(" "), json_out, out),
        // Listing the journal is local: no sign-in.
        Command::History(args) if args.action.is_none() => evidence::history_offline(json_out, out),
        Command::Login => {
            let config = session_config(&global)?;
            login(&config, json_out, out, err).await
        }
        Command::Logout => {
            let config = session_config(&global)?;
            logout(&config, json_out, out)
        }
        Command::Whoami => {
            // `whoami` reports; it never starts a sign-in.
            let signed =
                startup::session::connect_with(&global, err, startup::session::SignInPrompt::Never)
                    .await?;
            whoami(&Context::new(signed, json_out), out).await
        }
        other => {
            let ctx = connect(&global, err).await?;
            execute(&ctx, other, out).await
        }
    }
}
