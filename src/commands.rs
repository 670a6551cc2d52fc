//! The headless commands: `ficus apps`, `identities`, `whois`, `fic list|add|rm`, `exchange`,
//! `decode`, `explain`, `login`, `logout`, `whoami`. Each writes human text (sanitized of
//! control characters) or, with `--json`, JSON to the given writer; errors go to stderr (as
//! JSON with `--json`) and the exit code is non-zero on failure.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::cli::{Cli, Command, ExchangeArgs, FicCommand, GlobalArgs};
use crate::cloud::{Cloud, CloudKind};
use crate::entra::msi::{self, IdentitySelector, MsiEnv, MsiSource};
use crate::entra::resolve::{describe_app, resolve_app, resolve_identity};
use crate::entra::signin::{self, CachedLogin, Renewal, TokenCache};
use crate::entra::sts::{self, ExchangeReport, ExchangeRequest, Outcome};
use crate::entra::{
    Account, AppSummary, Credentials, EntraError, GuidMatch, Http, HttpConfig, Session,
    SessionConfig,
};
use crate::fic::{self, Fic, Identity, IdentityKind};

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
    Token(#[from] crate::jwt::JwtError),
    #[error("the sandbox could not start: {0}")]
    Sandbox(String),
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

/// Replaces control characters (escape sequences included) so tenant-controlled text cannot
/// drive the terminal.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The resource ficus asks for by default in an exchange.
pub fn default_scope(cloud: &Cloud) -> String {
    match cloud.kind {
        // The sandbox mimics the public cloud's Graph resource.
        CloudKind::Custom => "https://graph.microsoft.com/.default".into(),
        _ => cloud.graph_default_scope(),
    }
}

fn emit_json(out: &mut dyn Write, value: &Value) -> Result<(), CommandError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// Runs one command that needs a signed-in session.
pub async fn execute(
    ctx: &Context,
    command: &Command,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    match command {
        Command::Apps { filter } => apps(ctx, filter.as_deref(), out).await,
        Command::Identities => identities(ctx, out).await,
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
        Command::Fic(FicCommand::Rm { app, name }) => fic_rm(ctx, app, name, out).await,
        Command::Exchange(args) => exchange(ctx, args, out).await,
        Command::Whoami => whoami(ctx, out).await,
        Command::Decode { token, verify } => {
            decode(
                token.as_deref(),
                *verify,
                Some(&ctx.session.http),
                ctx.json,
                out,
            )
            .await
        }
        Command::Explain { text } => explain(&text.join(" "), ctx.json, out),
        Command::Login | Command::Logout => Err(CommandError::Usage(
            "login and logout do not run inside a session".into(),
        )),
        Command::Sandbox(_) => Err(CommandError::Usage(
            "`ficus sandbox` runs the sandbox server; it is not a session command".into(),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// apps / identities / whois

async fn apps(
    ctx: &Context,
    filter: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    use futures_util::StreamExt;
    let needle = filter.map(str::to_ascii_lowercase);
    let keep = |a: &AppSummary| match &needle {
        None => true,
        Some(n) => {
            a.display_name.to_ascii_lowercase().contains(n)
                || a.app_id.contains(n.as_str())
                || a.id.contains(n.as_str())
        }
    };
    let graph = ctx.session.graph();
    let mut pages = std::pin::pin!(graph.list_apps());
    let mut count = 0usize;
    // Streamed: each page is written as it arrives, so memory stays flat for any tenant size.
    if ctx.json {
        out.write_all(b"[")?;
    } else {
        writeln!(
            out,
            "{:<40} {:<36} {:<36} FICS",
            "DISPLAY NAME", "APP ID", "OBJECT ID"
        )?;
    }
    while let Some(page) = pages.next().await {
        let page = page?;
        for app in page.iter().filter(|a| keep(a)) {
            if ctx.json {
                if count > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n  ")?;
                serde_json::to_writer(&mut *out, app).map_err(std::io::Error::from)?;
            } else {
                writeln!(
                    out,
                    "{:<40} {:<36} {:<36} {}",
                    clean(&app.display_name),
                    app.app_id,
                    app.id,
                    app.fic_count
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into())
                )?;
            }
            count += 1;
        }
    }
    if ctx.json {
        out.write_all(if count > 0 { b"\n]\n" } else { b"]\n" })?;
    } else {
        writeln!(out, "{count} app(s)")?;
    }
    Ok(())
}

fn kind_label(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::UserAssigned => "user-assigned",
        IdentityKind::SystemAssigned => "system-assigned",
    }
}

async fn identities(ctx: &Context, out: &mut dyn Write) -> Result<(), CommandError> {
    let list = ctx.session.graph().list_managed_identities().await?;
    if ctx.json {
        return emit_json(out, &serde_json::to_value(&list).unwrap_or_default());
    }
    writeln!(
        out,
        "{:<24} {:<16} {:<36} {:<36} RESOURCE GROUP",
        "NAME", "KIND", "CLIENT ID", "PRINCIPAL ID"
    )?;
    for i in &list {
        writeln!(
            out,
            "{:<24} {:<16} {:<36} {:<36} {}",
            clean(&i.name),
            kind_label(i.kind),
            i.client_id,
            i.principal_id,
            clean(i.resource_group.as_deref().unwrap_or("-"))
        )?;
    }
    writeln!(
        out,
        "{} identit{}",
        list.len(),
        if list.len() == 1 { "y" } else { "ies" }
    )?;
    Ok(())
}

fn guid_kind_label(m: &GuidMatch) -> &'static str {
    use crate::entra::GuidKind::*;
    match m.kind {
        AppObjectId => "object id of the app registration",
        AppClientId => "application (client) id of the app registration",
        ServicePrincipalId => "object id of the service principal",
        ServicePrincipalAppId => "app id of the service principal",
        ManagedIdentityClientId => "client id of the managed identity",
        ManagedIdentityPrincipalId => "principal (object) id of the managed identity",
        TenantId => "id of the tenant",
        FicId => "id of a federated identity credential",
        UserId => "object id of the user",
    }
}

async fn whois(ctx: &Context, guid: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let tenant_id = ctx.session.tenant_id().await;
    let matches = ctx
        .session
        .graph()
        .resolve_guid(guid, tenant_id.as_deref())
        .await?;
    if ctx.json {
        emit_json(out, &json!({ "guid": guid.trim(), "matches": matches }))?;
    } else if matches.is_empty() {
        writeln!(
            out,
            "{} names nothing in this tenant (not an app, service principal, managed identity, user or the tenant)",
            guid.trim()
        )?;
    }
    if matches.is_empty() {
        return Err(CommandError::Reported(format!(
            "{} is unknown in this tenant; check the tenant (--tenant) or that it is a GUID of this directory",
            guid.trim()
        )));
    }
    if ctx.json {
        return Ok(());
    }
    for m in &matches {
        writeln!(
            out,
            "{} is the {} {}",
            guid.trim(),
            guid_kind_label(m),
            clean(&m.display_name)
        )?;
        for (k, v) in &m.details {
            writeln!(out, "    {k}: {}", clean(v))?;
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

async fn fic_list(ctx: &Context, app: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let graph = ctx.session.graph();
    let app = resolve_app(&graph, app).await?;
    let fics = graph.list_fics(&app.id).await?;
    if ctx.json {
        return emit_json(out, &json!({ "app": app, "fics": fics }));
    }
    writeln!(
        out,
        "{}: {} federated identity credential(s)",
        clean(&describe_app(&app)),
        fics.len()
    )?;
    for f in &fics {
        print_fic(out, f)?;
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

fn finding_json(f: &fic::Finding) -> Value {
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
    let tenant_id = ctx
        .session
        .tenant_id()
        .await
        .unwrap_or_else(|| ctx.session.tenant.clone());
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
    if !ctx.json {
        for f in &findings {
            writeln!(out, "{}", finding_text(f))?;
        }
    }
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
    let url = format!(
        "{}/applications/{}/federatedIdentityCredentials",
        graph.base(),
        app.id
    );
    let body = json!({
        "name": draft.name,
        "issuer": draft.issuer,
        "subject": draft.subject,
        "audiences": draft.audiences,
        "description": draft.description,
    });
    if opts.dry_run {
        let record = fic::AppRecord {
            object_id: app.id.clone(),
            app_id: app.app_id.clone(),
            display_name: app.display_name.clone(),
            unique_name: None,
        };
        let exports: Vec<(fic::export::ExportFormat, String)> = fic::export::ExportFormat::ALL
            .into_iter()
            .filter(|f| *f != fic::export::ExportFormat::GraphRequest)
            .map(|f| (f, fic::export::export(f, &draft, &record, cloud)))
            .collect();
        if ctx.json {
            let exports_json: serde_json::Map<String, Value> = exports
                .iter()
                .map(|(f, text)| (f.label().to_string(), Value::String(text.clone())))
                .collect();
            return emit_json(
                out,
                &json!({
                    "dryRun": true,
                    "request": { "method": "POST", "url": url, "body": body },
                    "findings": findings_json,
                    "exports": exports_json,
                }),
            );
        }
        let request = fic::export::graph_request(&draft, &record);
        writeln!(out, "Dry run: nothing was changed. The request would be:\n")?;
        writeln!(out, "{}", request.to_http(cloud))?;
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
    let created = graph.create_fic(&app.id, &draft).await?;
    if ctx.json {
        return emit_json(
            out,
            &json!({ "app": app, "created": created, "findings": findings_json }),
        );
    }
    writeln!(
        out,
        "Created and verified on {}:",
        clean(&describe_app(&app))
    )?;
    print_fic(out, &created)?;
    Ok(())
}

async fn fic_rm(
    ctx: &Context,
    app: &str,
    name: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
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
    let key = target.id.clone().unwrap_or_else(|| target.name.clone());
    graph.delete_fic(&app.id, &key).await?;
    if ctx.json {
        return emit_json(out, &json!({ "app": app, "deleted": target }));
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
            .unwrap_or_else(|| default_scope(&ctx.session.cloud)),
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
        emit_json(out, &serde_json::to_value(&report).unwrap_or_default())?;
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
    for (label, jwt) in [("assertion", &r.assertion), ("app token", &r.app_token)] {
        if let Some(j) = jwt {
            writeln!(out, "{label} claims:")?;
            for (k, v) in &j.claims {
                writeln!(out, "    {k}: {}", clean(&v.to_string()))?;
            }
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
// decode / explain (no session needed)

/// `ficus decode [TOKEN|-] [--verify]`.
pub async fn decode(
    token: Option<&str>,
    verify: bool,
    http: Option<&Http>,
    as_json: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let raw = match token {
        Some(t) if t != "-" => t.to_string(),
        _ => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            s
        }
    };
    let jwt = crate::jwt::decode(raw.trim())?;
    let verified = if verify {
        let Some(iss) = jwt.str_claim("iss") else {
            return Err(CommandError::Usage(
                "the token has no iss claim, so there is no issuer to fetch keys from".into(),
            ));
        };
        let own;
        let http = match http {
            Some(h) => h,
            None => {
                own = Http::new(&HttpConfig::default())?;
                &own
            }
        };
        let jwks = sts::fetch_jwks(http, iss).await?;
        Some(crate::jwt::verify(&jwt, &jwks).map_err(|e| e.to_string()))
    } else {
        None
    };
    if as_json {
        let mut v = json!({ "header": jwt.header, "claims": jwt.claims });
        if let Some(result) = &verified {
            v["verified"] = json!(result.is_ok());
            if let Err(e) = result {
                v["verifyError"] = json!(e);
            }
        }
        emit_json(out, &v)?;
    } else {
        writeln!(out, "header:")?;
        for (k, v) in &jwt.header {
            writeln!(out, "    {k}: {}", clean(&v.to_string()))?;
        }
        writeln!(out, "claims:")?;
        for (k, v) in &jwt.claims {
            writeln!(out, "    {k}: {}", clean(&v.to_string()))?;
        }
        match &verified {
            Some(Ok(())) => writeln!(out, "signature: valid (issuer's published key)")?,
            Some(Err(e)) => writeln!(out, "signature: INVALID: {}", clean(e))?,
            None => writeln!(out, "signature: not checked (pass --verify)")?,
        }
    }
    match verified {
        Some(Err(e)) => Err(CommandError::Reported(format!(
            "the signature does not verify: {e}"
        ))),
        _ => Ok(()),
    }
}

/// `ficus explain CODE-OR-TEXT`: a code (`700213`, `AADSTS700213`), an error body or SDK text.
pub fn explain(text: &str, as_json: bool, out: &mut dyn Write) -> Result<(), CommandError> {
    let Some(e) = fic::explain(text) else {
        return Err(CommandError::Usage(format!(
            "no AADSTS code found in '{}'; pass a code such as 700213 or the whole error text",
            clean(text)
        )));
    };
    if as_json {
        return emit_json(
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
        );
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
    let v = json!({
        "account": account,
        "tenant": ctx.session.tenant,
        "cloud": ctx.session.cloud.kind.label(),
        "authority": ctx.session.cloud.login,
        "signedInVia": ctx.signed_in_via,
        "expiresInSeconds": tokens.expires_in(),
        "scope": tokens.scope,
        "readOnly": ctx.session.read_only,
    });
    if ctx.json {
        return emit_json(out, &v);
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
    writeln!(out, "token:     expires in {} s", tokens.expires_in())?;
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

/// Resolves cloud, tenant, CA and cache from the flags (not for `--sandbox`).
pub fn session_config(global: &GlobalArgs) -> Result<SessionConfig, CommandError> {
    let ca_pem = match &global.ca_file {
        Some(p) => Some(std::fs::read_to_string(p).map_err(|e| {
            CommandError::Usage(format!("cannot read the CA file {}: {e}", p.display()))
        })?),
        None => None,
    };
    let (cloud, default_tenant) = match &global.sandbox_url {
        Some(url) => {
            let url = url.trim_end_matches('/');
            (
                Cloud::custom(url, &format!("{url}/v1.0")),
                Some("contoso.onmicrosoft.com".to_string()),
            )
        }
        None => {
            let kind = CloudKind::parse(&global.cloud).ok_or_else(|| {
                CommandError::Usage(format!(
                    "unknown cloud '{}'; use global, usgov or china",
                    global.cloud
                ))
            })?;
            let cloud = Cloud::for_kind(kind).ok_or_else(|| {
                CommandError::Usage("a custom cloud needs --sandbox-url URL".into())
            })?;
            (cloud, None)
        }
    };
    let tenant = global.tenant.clone().or(default_tenant).ok_or_else(|| {
        CommandError::Usage(
            "no tenant given; pass --tenant ID-OR-DOMAIN (or set FICUS_TENANT)".into(),
        )
    })?;
    let mut config = SessionConfig::new(cloud, tenant);
    config.ca_pem = ca_pem;
    config.read_only = global.read_only;
    if let Some(c) = &global.client_id {
        config.client_id = c.clone();
    }
    config.cache_dir = Some(match std::env::var_os("FICUS_CACHE_DIR") {
        Some(d) => PathBuf::from(d),
        None => TokenCache::default_dir().map_err(EntraError::from)?,
    });
    Ok(config)
}

/// `ficus login`: device code flow, tokens cached.
pub async fn login(
    config: &SessionConfig,
    as_json: bool,
    out: &mut dyn Write,
    prompt_out: &mut dyn Write,
) -> Result<(), CommandError> {
    let http = Http::new(&config.http_config())?;
    let flow = signin::start_device_code(
        &http,
        &config.cloud,
        &config.tenant,
        &config.client_id,
        &config.scopes,
    )
    .await?;
    let p = flow.prompt();
    match &p.message {
        Some(m) => writeln!(prompt_out, "{}", clean(m))?,
        None => writeln!(
            prompt_out,
            "To sign in, open {} and enter the code {}",
            clean(&p.verification_uri),
            clean(&p.user_code)
        )?,
    }
    let tokens = flow.finish().await?;
    let account = Account::from_tokens(&tokens);
    let key = config.cache_key();
    if let Some(dir) = &config.cache_dir {
        let cache = TokenCache::open(dir.clone()).map_err(EntraError::from)?;
        cache
            .store(&CachedLogin {
                key,
                scopes: config.scopes.clone(),
                account: account.clone(),
                tokens,
            })
            .map_err(EntraError::from)?;
    }
    if as_json {
        return emit_json(out, &json!({ "signedIn": true, "account": account }));
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
    let removed = match &config.cache_dir {
        Some(dir) if dir.exists() => TokenCache::open(dir.clone())
            .map_err(EntraError::from)?
            .remove(&config.cache_key())
            .map_err(EntraError::from)?,
        _ => false,
    };
    if as_json {
        return emit_json(out, &json!({ "removed": removed }));
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

/// A session from the flags: the Azure CLI, or the token cache (a running sandbox is signed in
/// to on the spot, as it approves device codes itself).
pub async fn connect(
    global: &GlobalArgs,
    prompt_out: &mut dyn Write,
) -> Result<Context, CommandError> {
    let config = session_config(global)?;
    let msi_http = msi::msi_http(crate::entra::RetryPolicy::default())?;
    if global.use_az_cli {
        let tenant = Some(config.tenant.clone());
        let tokens = signin::az_cli_token(&config.cloud, tenant.as_deref()).await?;
        let renewal = Renewal::AzCli {
            cloud: config.cloud.clone(),
            tenant,
        };
        let session = Session::new(config, Credentials::new(tokens, renewal))?;
        return Ok(Context {
            session,
            json: global.json,
            msi_source: None,
            msi_http,
            signed_in_via: "azure cli".into(),
        });
    }
    let session = match Session::from_cache(config.clone()) {
        Ok(s) => s,
        Err(EntraError::NotSignedIn { .. }) if global.sandbox_url.is_some() => {
            let mut sink = Vec::new();
            login(&config, false, &mut sink, prompt_out).await?;
            Session::from_cache(config)?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Context {
        session,
        json: global.json,
        msi_source: None,
        msi_http,
        signed_in_via: "token cache".into(),
    })
}

/// Writes a command error to `err` (JSON with `--json`).
pub fn report_error(e: &CommandError, as_json: bool, err: &mut dyn Write) {
    if as_json {
        let _ = serde_json::to_writer(&mut *err, &json!({ "error": e.to_json() }));
        let _ = writeln!(err);
    } else {
        // Refusals already printed their findings with the result.
        let _ = writeln!(err, "error: {e}");
    }
}

/// Runs the headless command line; returns the process exit code.
pub async fn run(cli: Cli) -> std::process::ExitCode {
    let as_json = cli.global.json;
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let result = run_to(cli, &mut stdout, &mut stderr).await;
    let _ = stdout.flush();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`ficus apps | head`): stop quietly, like other Unix tools.
        Err(CommandError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            // A reported failure already printed its result; JSON callers still get the error.
            if !matches!(e, CommandError::Reported(_)) || as_json {
                report_error(&e, as_json, &mut stderr);
            } else {
                let _ = writeln!(stderr, "error: {e}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// [`run`] with explicit output streams (tests).
pub async fn run_to(
    cli: Cli,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), CommandError> {
    let Some(command) = cli.command else {
        return Err(CommandError::Usage(
            "no command given; run `ficus --help`".into(),
        ));
    };
    let json_out = cli.global.json;
    if cli.sandbox {
        let (ctx, sandbox) = start_sandbox(&cli.global).await?;
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
            let http = match &cli.global.ca_file {
                Some(_) => Some(Http::new(&session_config(&cli.global)?.http_config())?),
                None => None,
            };
            decode(token.as_deref(), *verify, http.as_ref(), json_out, out).await
        }
        Command::Explain { text } => explain(&text.join(" "), json_out, out),
        Command::Login => {
            let config = session_config(&cli.global)?;
            login(&config, json_out, out, err).await
        }
        Command::Logout => {
            let config = session_config(&cli.global)?;
            logout(&config, json_out, out)
        }
        other => {
            let ctx = connect(&cli.global, err).await?;
            execute(&ctx, other, out).await
        }
    }
}

/// A session on a running in-process sandbox, signed in as `upn` of its `contoso` tenant, with
/// exchanges using the sandbox's IMDS.
pub fn sandbox_context(
    sandbox: &crate::sandbox::Sandbox,
    upn: &str,
    json: bool,
    read_only: bool,
) -> Result<Context, CommandError> {
    let info = &sandbox.info;
    let tenant = info
        .tenants
        .iter()
        .find(|t| t.name == crate::sandbox::seed::CONTOSO)
        .or(info.tenants.first())
        .ok_or_else(|| CommandError::Sandbox("the sandbox has no tenant".into()))?;
    sandbox_context_in(sandbox, &tenant.id, upn, json, read_only)
}

/// The same, signed in to the sandbox tenant with id `tenant_id` (the console's `tenant NAME`).
pub fn sandbox_context_in(
    sandbox: &crate::sandbox::Sandbox,
    tenant_id: &str,
    upn: &str,
    json: bool,
    read_only: bool,
) -> Result<Context, CommandError> {
    let info = &sandbox.info;
    let tenant = info
        .tenants
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(tenant_id))
        .ok_or_else(|| {
            CommandError::Sandbox(format!("the sandbox has no tenant with id {tenant_id}"))
        })?;
    let cloud = Cloud::custom(&info.authority, &info.graph);
    let mut config = SessionConfig::new(cloud, tenant.id.clone());
    config.ca_pem = info.ca_pem.clone();
    config.read_only = read_only;
    let scopes: Vec<&str> = config.scopes.iter().map(String::as_str).collect();
    let signed = sandbox
        .sign_in(&tenant.id, upn, &config.client_id, &scopes)
        .map_err(|e| CommandError::Sandbox(e.to_string()))?;
    let tokens = signin::TokenSet {
        access_token: signed.access_token,
        refresh_token: Some(signed.refresh_token).filter(|t| !t.expose().is_empty()),
        id_token: Some(signed.id_token).filter(|t| !t.expose().is_empty()),
        expires_at: time::OffsetDateTime::now_utc().unix_timestamp()
            + i64::try_from(signed.expires_in).unwrap_or(0),
        scope: Some(config.scopes.join(" ")),
    };
    let renewal = Renewal::RefreshToken {
        token_endpoint: config.cloud.token_endpoint(&config.tenant),
        client_id: config.client_id.clone(),
        scopes: config.scopes.clone(),
        cache: None,
    };
    let session = Session::new(config, Credentials::new(tokens, renewal))?;
    Ok(Context {
        session,
        json,
        msi_source: Some(MsiSource::Imds {
            base: info.imds.clone(),
        }),
        msi_http: msi::msi_http(crate::entra::RetryPolicy::default())?,
        signed_in_via: "sandbox (in-process)".into(),
    })
}

/// The console's session in one tenant of a running sandbox (by name, domain or tenant id),
/// signed in as that tenant's administrator. Its `reconnect` does the same for the palette's
/// `tenant NAME`, on the same running sandbox.
pub fn console_sandbox_session(
    sandbox: std::sync::Arc<crate::sandbox::Sandbox>,
    wanted: &str,
    json: bool,
    read_only: bool,
) -> Result<crate::tui::Connected, String> {
    let key = wanted.trim();
    let tenant = sandbox
        .info
        .tenants
        .iter()
        .find(|t| {
            t.id.eq_ignore_ascii_case(key)
                || t.domain.eq_ignore_ascii_case(key)
                || t.name.eq_ignore_ascii_case(key)
        })
        .cloned()
        .ok_or_else(|| {
            let known: Vec<String> = sandbox
                .info
                .tenants
                .iter()
                .map(|t| t.name.clone())
                .collect();
            if known.is_empty() {
                "the sandbox has no tenant; its seed is broken (restart ficus --sandbox)".into()
            } else {
                // Short enough for a toast at 80 columns.
                format!("No sandbox tenant `{key}`; known: {}", known.join(", "))
            }
        })?;
    let admin = tenant_admin(&sandbox, &tenant.id).ok_or_else(|| {
        format!(
            "the sandbox tenant {} has no administrator to sign in as; its seed has no users",
            tenant.name
        )
    })?;
    let context = sandbox_context_in(&sandbox, &tenant.id, &admin, json, read_only)
        .map_err(|e| e.to_string())?;
    let session = context.session;
    let cloud = session.cloud.clone();
    let info = crate::tui::Session {
        tenant: format!("{} ({})", tenant.name, tenant.domain),
        tenant_id: tenant.id.clone(),
        cloud: "sandbox".into(),
        user: admin,
        read_only: session.read_only,
        graph_base: cloud.graph_v1(),
        cloud_endpoints: cloud,
    };
    // The test exchange asks the sandbox's emulated host (its IMDS) for identity tokens.
    let msi_host = crate::tui::directory::MsiHost {
        label: "the sandbox's emulated host".into(),
        env: crate::entra::msi::MsiEnv {
            imds_authority: Some(sandbox.info.imds.clone()),
            ..crate::entra::msi::MsiEnv::default()
        },
    };
    let for_switch = std::sync::Arc::clone(&sandbox);
    let reconnect: crate::tui::directory::Reconnect = std::sync::Arc::new(
        move |name: String| -> crate::tui::directory::ConnectFuture {
            let connected =
                console_sandbox_session(std::sync::Arc::clone(&for_switch), &name, json, read_only);
            Box::pin(std::future::ready(connected))
        },
    );
    Ok(crate::tui::Connected {
        session,
        info,
        keep_alive: Box::new(sandbox),
        msi_host: Some(msi_host),
        reconnect: Some(reconnect),
    })
}

/// Who signs in to a sandbox tenant: a user who can manage every app registration,
/// `admin@…` first (the demo seed's admins), then by name so the choice is stable.
fn tenant_admin(sandbox: &crate::sandbox::Sandbox, tenant_id: &str) -> Option<String> {
    sandbox.state().read(|directory| {
        let tenant = directory.tenant(tenant_id)?;
        let mut admins: Vec<&str> = tenant
            .users
            .values()
            .filter(|u| u.can_manage_all_applications())
            .map(|u| u.user_principal_name.as_str())
            .collect();
        admins.sort_by_key(|upn| (!upn.starts_with("admin@"), upn.to_string()));
        admins.first().map(|upn| upn.to_string())
    })
}

/// Starts the in-process sandbox (demo seed, HTTPS with its own CA) signed in as the demo admin.
pub async fn start_sandbox(
    global: &GlobalArgs,
) -> Result<(Context, crate::sandbox::Sandbox), CommandError> {
    let faults = match &global.sandbox_faults {
        Some(spec) => crate::sandbox::Faults::parse(spec)
            .map_err(|e| CommandError::Usage(format!("--sandbox-faults: {e}")))?,
        None => crate::sandbox::Faults::default(),
    };
    let seed = match &global.sandbox_seed {
        Some(spec) => spec
            .parse::<crate::sandbox::Seed>()
            .map_err(|e| CommandError::Usage(format!("--sandbox-seed: {e}")))?,
        None => crate::sandbox::Seed::Demo,
    };
    let sandbox = crate::sandbox::start(crate::sandbox::SandboxConfig {
        tls: true,
        seed,
        faults,
        ..crate::sandbox::SandboxConfig::default()
    })
    .await
    .map_err(|e| CommandError::Sandbox(e.to_string()))?;
    match sandbox_context(
        &sandbox,
        crate::sandbox::seed::DEMO_ADMIN,
        global.json,
        global.read_only,
    ) {
        Ok(ctx) => Ok((ctx, sandbox)),
        Err(e) => {
            sandbox.shutdown().await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalArgs {
        GlobalArgs {
            cloud: "global".into(),
            ..GlobalArgs::default()
        }
    }

    #[test]
    fn clean_removes_terminal_control_sequences() {
        assert_eq!(clean("app\u{1b}[31mred\u{7}"), "app\u{FFFD}[31mred\u{FFFD}");
        assert_eq!(clean("plain-name ü"), "plain-name ü");
    }

    #[test]
    fn session_config_needs_a_tenant_and_knows_the_clouds() {
        let err = session_config(&global()).expect_err("no tenant");
        assert!(err.to_string().contains("--tenant"), "{err}");

        let cfg = session_config(&GlobalArgs {
            cloud: "usgov".into(),
            tenant: Some("contoso.onmicrosoft.us".into()),
            read_only: true,
            ..global()
        })
        .expect("config");
        assert_eq!(cfg.cloud.login, "https://login.microsoftonline.us");
        assert!(cfg.read_only);
        assert_eq!(cfg.client_id, signin::DEFAULT_CLIENT_ID);

        let err = session_config(&GlobalArgs {
            cloud: "mars".into(),
            tenant: Some("t".into()),
            ..global()
        })
        .expect_err("unknown cloud");
        assert!(err.to_string().contains("global, usgov or china"), "{err}");

        let cfg = session_config(&GlobalArgs {
            sandbox_url: Some("https://localhost:8443/".into()),
            ..global()
        })
        .expect("sandbox url");
        assert_eq!(cfg.tenant, "contoso.onmicrosoft.com");
        assert_eq!(cfg.cloud.graph_v1(), "https://localhost:8443/v1.0");
        assert!(cfg.http_config().no_proxy);
    }

    #[test]
    fn default_scope_follows_the_cloud() {
        assert_eq!(
            default_scope(&Cloud::china()),
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
        assert_eq!(
            default_scope(&Cloud::custom(
                "https://127.0.0.1:1",
                "https://127.0.0.1:1/v1.0"
            )),
            "https://graph.microsoft.com/.default"
        );
    }
}
