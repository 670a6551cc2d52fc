//! `ficus signins`, `ficus secret list|rm` and `ficus history [restore N]`: the evidence of
//! which credential a workload uses, the secret's removal once it has gone quiet, and the
//! local journal of every write ficus made (see `ficus_startup::history`).

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use ficus_core::fic::Fic;
use ficus_entra::resolve::{describe_app, resolve_app};
use ficus_entra::signins::{
    self, Credential, CredentialUsage, NO_PREMIUM_MESSAGE, Quiet, SignIn, SignInQuery,
};
use ficus_entra::{AppSummary, EntraError};
use ficus_startup::history::{Change, Entry, History, apply_restore, restore_plan};

use crate::output::{self, Table, emit_json};
use crate::{CommandError, Confirm, Context, ask, clean};

/// The quiet period a secret must show before ficus removes it without `--force`.
pub const DEFAULT_QUIET_DAYS: i64 = 7;

#[derive(Debug, Clone, Args)]
pub struct SigninsArgs {
    /// Display name, app id or object id.
    #[arg(long)]
    pub app: String,
    /// How far back: 30m, 24h, 7d (default 7d).
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// Only failed sign-ins.
    #[arg(long)]
    pub failed: bool,
}

#[derive(Debug, Clone, Args)]
pub struct FailingArgs {
    /// How far back: 24h, 7d (default 24h).
    #[arg(long, default_value = "24h")]
    pub since: String,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SecretCommand {
    /// An app's client secrets with their last use (from the sign-in logs).
    List {
        /// Display name, app id or object id.
        #[arg(long)]
        app: String,
    },
    /// Remove a client secret. Refused while it was used within the quiet period unless
    /// --force; a removed secret cannot come back.
    Rm {
        #[arg(long)]
        app: String,
        /// The secret's keyId (`secret list` shows it).
        #[arg(long)]
        key_id: String,
        /// Do not ask (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Remove it even though it was used within the quiet period (or there is no evidence).
        #[arg(long)]
        force: bool,
        /// The quiet period: 7d, 36h… (default 7d).
        #[arg(long, default_value = "7d")]
        quiet: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum HistoryAction {
    /// Undo change N (as `ficus history` numbers it): a deleted FIC is created again, a
    /// changed one put back, a created one deleted. A removed secret cannot come back.
    Restore {
        number: usize,
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// `7d`, `24h`, `30m`, `90s` → a duration.
pub fn parse_age(text: &str) -> Result<Duration, CommandError> {
    let t = text.trim();
    let bad = || {
        CommandError::Usage(format!(
            "'{text}' is not a duration; use a number and a unit: 30m, 24h, 7d"
        ))
    };
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n <= 0 || n > 10_000 {
        return Err(bad());
    }
    Ok(match unit.trim() {
        "d" | "day" | "days" => Duration::days(n),
        "h" | "hour" | "hours" => Duration::hours(n),
        "m" | "min" | "minutes" => Duration::minutes(n),
        "s" => Duration::seconds(n),
        _ => return Err(bad()),
    })
}

/// The licence 403 in ficus's words; other errors as they are.
fn evidence_error(e: EntraError) -> CommandError {
    if signins::is_unlicensed(&e) {
        CommandError::Reported(NO_PREMIUM_MESSAGE.into())
    } else {
        CommandError::Entra(e)
    }
}

fn credential_label(s: &SignIn, app: &ficus_entra::App, fics: &[Fic]) -> String {
    let same = |a: &Option<String>, b: &Option<String>| {
        a.as_deref()
            .zip(b.as_deref())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    match s.client_credential_type.as_deref() {
        Some("clientSecret") => app
            .password_credentials
            .iter()
            .find(|p| same(&p.key_id, &s.service_principal_credential_key_id))
            .map(|p| {
                format!(
                    "secret {}",
                    p.display_name
                        .clone()
                        .or(p.key_id.clone())
                        .unwrap_or_default()
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "secret {} (no longer on the app)",
                    s.service_principal_credential_key_id
                        .clone()
                        .unwrap_or_else(|| "?".into())
                )
            }),
        Some("certificate") => app
            .key_credentials
            .iter()
            .find(|k| same(&k.key_id, &s.service_principal_credential_key_id))
            .map(|k| {
                format!(
                    "certificate {}",
                    k.display_name
                        .clone()
                        .or(k.key_id.clone())
                        .unwrap_or_default()
                )
            })
            .unwrap_or_else(|| "certificate".into()),
        Some("federatedIdentityCredential") => fics
            .iter()
            .find(|f| same(&f.id, &s.federated_credential_id))
            .map(|f| format!("FIC {}", f.name))
            .unwrap_or_else(|| "federated assertion (no FIC matched)".into()),
        Some(other) => other.to_string(),
        None => "-".into(),
    }
}

pub async fn signins(
    ctx: &Context,
    args: &SigninsArgs,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let since = parse_age(&args.since)?;
    let graph = ctx.session.graph();
    let summary = resolve_app(&graph, &args.app).await?;
    let now = OffsetDateTime::now_utc();
    let mut query = SignInQuery::app(&summary.app_id, now - since);
    query.failed_only = args.failed;
    let list = graph.sign_ins(&query).await.map_err(evidence_error)?;
    let app = graph.get_app(&summary.id).await?;
    let fics = graph.list_fics(&summary.id).await?;
    if ctx.json {
        let items: Vec<Value> = list
            .iter()
            .map(|s| {
                let mut v = output::to_json(s);
                v["credential"] = Value::String(credential_label(s, &app, &fics));
                v
            })
            .collect();
        emit_json(
            out,
            &json!({
                "app": summary,
                "since": output::iso(now - since),
                "signIns": items,
            }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Sign-ins of {} since {}",
        clean(&describe_app(&summary)),
        output::when(now - since, now)
    )?;
    let mut table = Table::new(&["WHEN", "CREDENTIAL", "RESULT", "RESOURCE", "IP"]);
    for s in &list {
        table.row(vec![
            s.at()
                .map(|at| output::when(at, now))
                .unwrap_or_else(|| s.created_date_time.clone()),
            credential_label(s, &app, &fics),
            if s.failed() {
                format!("AADSTS{}", s.status.error_code)
            } else {
                "ok".into()
            },
            s.resource_display_name.clone().unwrap_or_default(),
            s.ip_address.clone().unwrap_or_default(),
        ]);
    }
    table.write(out)?;
    writeln!(out, "{} sign-in(s)", list.len())?;
    Ok(())
}

/// The app's credential usage over `window`, or why there is none.
async fn usage(
    ctx: &Context,
    summary: &AppSummary,
    window: Duration,
) -> Result<(ficus_entra::App, Result<Vec<CredentialUsage>, String>), CommandError> {
    let graph = ctx.session.graph();
    let app = graph.get_app(&summary.id).await?;
    let fics = graph.list_fics(&summary.id).await?;
    let now = OffsetDateTime::now_utc();
    let evidence = match graph
        .sign_ins(&SignInQuery::app(&summary.app_id, now - window))
        .await
    {
        Ok(list) => Ok(signins::credential_usage(&app, &fics, &list)),
        Err(e) if signins::is_unlicensed(&e) => Err(NO_PREMIUM_MESSAGE.to_string()),
        Err(e) => return Err(e.into()),
    };
    Ok((app, evidence))
}

fn usage_of<'a>(evidence: &'a [CredentialUsage], key_id: &str) -> Option<&'a CredentialUsage> {
    evidence.iter().find(|u| match &u.credential {
        Credential::Secret { key_id: k, .. } => k.eq_ignore_ascii_case(key_id),
        _ => false,
    })
}

/// How far back `secret list` looks for uses.
const LIST_WINDOW_DAYS: i64 = 30;

pub async fn secret(
    ctx: &Context,
    command: &SecretCommand,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    match command {
        SecretCommand::List { app } => secret_list(ctx, app, out).await,
        SecretCommand::Rm {
            app,
            key_id,
            yes,
            force,
            quiet,
        } => {
            let confirm = if *yes { Confirm::Yes } else { Confirm::Ask };
            secret_rm(ctx, app, key_id, confirm, *force, parse_age(quiet)?, out).await
        }
    }
}

async fn secret_list(ctx: &Context, app: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let graph = ctx.session.graph();
    let summary = resolve_app(&graph, app).await?;
    let (app, evidence) = usage(ctx, &summary, Duration::days(LIST_WINDOW_DAYS)).await?;
    let now = OffsetDateTime::now_utc();
    let mut secrets = app.password_credentials.clone();
    secrets.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    if ctx.json {
        let items: Vec<Value> = secrets
            .iter()
            .map(|p| {
                let used = p
                    .key_id
                    .as_deref()
                    .and_then(|k| evidence.as_ref().ok().and_then(|e| usage_of(e, k)));
                json!({
                    "keyId": p.key_id,
                    "displayName": p.display_name,
                    "hint": p.hint,
                    "endDateTime": p.end_date_time,
                    "lastUsed": used.and_then(|u| u.last_used.clone()),
                    "uses": used.map(|u| u.uses),
                })
            })
            .collect();
        emit_json(
            out,
            &json!({
                "app": summary,
                "evidence": match &evidence { Ok(_) => Value::Null, Err(why) => Value::String(why.clone()) },
                "windowDays": LIST_WINDOW_DAYS,
                "secrets": items,
            }),
        )?;
        return Ok(());
    }
    writeln!(out, "Client secrets of {}", clean(&describe_app(&summary)))?;
    let mut table = Table::new(&["NAME", "KEY ID", "EXPIRES", "LAST USED", "USES (30 D)"]);
    for p in &secrets {
        let used = p
            .key_id
            .as_deref()
            .and_then(|k| evidence.as_ref().ok().and_then(|e| usage_of(e, k)));
        table.row(vec![
            p.display_name.clone().unwrap_or_else(|| "-".into()),
            p.key_id.clone().unwrap_or_else(|| "-".into()),
            p.end_date_time
                .as_deref()
                .and_then(output::parse_iso)
                .map(|at| output::when(at, now))
                .unwrap_or_else(|| "-".into()),
            match (&evidence, used.and_then(|u| u.last_used.as_deref())) {
                (Err(_), _) => "unknown".into(),
                (Ok(_), Some(t)) => output::parse_iso(t)
                    .map(|at| output::when(at, now))
                    .unwrap_or_else(|| t.to_string()),
                (Ok(_), None) => format!("not in the last {LIST_WINDOW_DAYS} days"),
            },
            match (&evidence, used) {
                (Ok(_), Some(u)) => u.uses.to_string(),
                (Ok(_), None) => "0".into(),
                (Err(_), _) => "?".into(),
            },
        ]);
    }
    table.write(out)?;
    writeln!(out, "{} secret(s)", secrets.len())?;
    if let Err(why) = &evidence {
        writeln!(out, "Last use unknown: {why}.")?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn secret_rm(
    ctx: &Context,
    app: &str,
    key_id: &str,
    confirm: Confirm,
    force: bool,
    quiet: Duration,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    use std::io::IsTerminal;
    let graph = ctx.session.graph();
    if graph.is_read_only() {
        return Err(EntraError::ReadOnly {
            action: "removing a client secret".into(),
        }
        .into());
    }
    if confirm == Confirm::Ask && !std::io::stdin().is_terminal() {
        return Err(CommandError::Usage(
            "secret rm removes a client secret for good and stdin is not a terminal to confirm it; pass --yes to remove it without asking".into(),
        ));
    }
    let summary = resolve_app(&graph, app).await?;
    let (app, evidence) = usage(ctx, &summary, quiet.max(Duration::days(1))).await?;
    let Some(secret) = app.password_credentials.iter().find(|p| {
        p.key_id
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case(key_id.trim()))
    }) else {
        return Err(EntraError::NotFound {
            what: "client secret",
            query: key_id.to_string(),
            hint: format!(
                "{} has: {}",
                summary.display_name,
                if app.password_credentials.is_empty() {
                    "no secrets".to_string()
                } else {
                    app.password_credentials
                        .iter()
                        .filter_map(|p| p.key_id.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        }
        .into());
    };
    let key_id = secret.key_id.clone().unwrap_or_default();
    let name = secret
        .display_name
        .clone()
        .unwrap_or_else(|| key_id.clone());
    let now = OffsetDateTime::now_utc();
    let quiet_days = quiet.whole_hours() as f64 / 24.0;
    match &evidence {
        Err(why) if !force => {
            return Err(CommandError::Refused {
                message: format!(
                    "not removed: {why}, so ficus cannot tell whether the secret {} is still in use; pass --force to remove it anyway",
                    clean(&name)
                ),
                findings: Vec::new(),
            });
        }
        Ok(evidence) => {
            let verdict = usage_of(evidence, &key_id).map(|u| signins::secret_quiet(u, quiet, now));
            if let Some(Quiet::InUse { last_used }) = verdict
                && !force
            {
                return Err(CommandError::Refused {
                    message: format!(
                        "not removed: the secret {} was used {}, within the quiet period of {quiet_days} days; the workload still signs in with it and would stop getting tokens. Move it to its FIC first, wait until the secret goes quiet, or pass --force",
                        clean(&name),
                        output::when(last_used, now)
                    ),
                    findings: Vec::new(),
                });
            }
        }
        Err(_) => {}
    }
    let url = graph.remove_password_url(&summary.id);
    if confirm == Confirm::Ask {
        writeln!(std::io::stderr(), "POST {url}\n{{\"keyId\": \"{key_id}\"}}")?;
        if !ask(&format!(
            "Remove the secret {} from {}? A removed secret cannot come back.",
            clean(&name),
            clean(&describe_app(&summary))
        ))? {
            return Err(CommandError::Usage(
                "not removed: not confirmed (pass --yes to remove without asking)".into(),
            ));
        }
    }
    graph.remove_password(&summary.id, &key_id).await?;
    record(
        ctx,
        &summary,
        Change::SecretRemoved {
            key_id: key_id.clone(),
            display_name: secret.display_name.clone(),
            hint: secret.hint.clone(),
            end_date_time: secret.end_date_time.clone(),
        },
    )
    .await?;
    if ctx.json {
        emit_json(
            out,
            &json!({ "app": summary, "removed": { "keyId": key_id, "displayName": secret.display_name }, "request": { "method": "POST", "url": url } }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Removed the secret {} from {}",
        clean(&name),
        clean(&describe_app(&summary))
    )?;
    Ok(())
}

/// The journal of this session's writes: the user's (`<state dir>/history.jsonl`), or, for
/// the embedded sandbox (whose directory lives as long as the process), one in memory.
/// `None` without a state directory.
pub fn journal(ctx: &Context) -> Option<History> {
    if ctx.signed_in_via.starts_with("sandbox") {
        Some(History::sandbox())
    } else {
        History::of_user().ok()
    }
}

/// Journals a write ficus made (after Graph accepted it). A journal that cannot be written
/// is an error: the write stands, and the message says so.
pub async fn record(ctx: &Context, app: &AppSummary, change: Change) -> Result<(), CommandError> {
    let Some(history) = journal(ctx) else {
        return Ok(());
    };
    let account = ctx.session.credentials.account().await;
    let who = account
        .username
        .or(account.object_id)
        .unwrap_or_else(|| "unknown".into());
    let tenant = account
        .tenant_id
        .unwrap_or_else(|| ctx.session.tenant.clone());
    let entry = Entry::now(&who, &tenant, &app.id, &app.display_name, "cli", change);
    history.append(&entry).map_err(|e| {
        CommandError::Reported(format!(
            "the change was made, but it could not be written to the history: {e}"
        ))
    })
}

pub async fn history(
    ctx: &Context,
    args: &HistoryArgs,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let Some(history) = journal(ctx) else {
        return Err(CommandError::Usage(
            "ficus has no state directory for its history (set XDG_STATE_HOME or HOME)".into(),
        ));
    };
    match &args.action {
        None => history_list(ctx.json, &history, out),
        Some(HistoryAction::Restore { number, yes }) => {
            let confirm = if *yes { Confirm::Yes } else { Confirm::Ask };
            history_restore(ctx, &history, *number, confirm, out).await
        }
    }
}

/// `ficus history` without a session: the user's journal.
pub fn history_offline(json: bool, out: &mut dyn Write) -> Result<(), CommandError> {
    let history = History::of_user().map_err(history_error)?;
    history_list(json, &history, out)
}

fn history_error(e: ficus_startup::history::HistoryError) -> CommandError {
    CommandError::Reported(e.to_string())
}

fn history_list(json: bool, history: &History, out: &mut dyn Write) -> Result<(), CommandError> {
    let entries = history.entries().map_err(history_error)?;
    if json {
        let items: Vec<Value> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut v = output::to_json(e);
                v["number"] = json!(i + 1);
                v
            })
            .collect();
        emit_json(
            out,
            &json!({ "location": history.location(), "entries": items }),
        )?;
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let mut table = Table::new(&["#", "WHEN", "WHO", "TENANT", "APP", "CHANGE"]);
    for (i, e) in entries.iter().enumerate() {
        table.row(vec![
            (i + 1).to_string(),
            output::parse_iso(&e.at)
                .map(|at| output::when(at, now))
                .unwrap_or_else(|| e.at.clone()),
            e.who.clone(),
            e.tenant.clone(),
            e.app_display_name.clone(),
            e.change.summary(),
        ]);
    }
    table.write(out)?;
    writeln!(
        out,
        "{} change(s), kept in {}",
        entries.len(),
        history.location()
    )?;
    Ok(())
}

async fn history_restore(
    ctx: &Context,
    history: &History,
    number: usize,
    confirm: Confirm,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    use std::io::IsTerminal;
    let entry = history.entry(number).map_err(history_error)?;
    let tenant = ctx
        .session
        .tenant_id()
        .await
        .unwrap_or_else(|| ctx.session.tenant.clone());
    if !entry.tenant.eq_ignore_ascii_case(&tenant) {
        return Err(CommandError::Usage(format!(
            "change {number} was made in tenant {}, and this session is in {tenant}; sign in there (--tenant {}) to restore it",
            entry.tenant, entry.tenant
        )));
    }
    let plan = restore_plan(&entry).map_err(history_error)?;
    let graph = ctx.session.graph();
    if graph.is_read_only() {
        return Err(EntraError::ReadOnly {
            action: "restoring a change".into(),
        }
        .into());
    }
    if confirm == Confirm::Ask {
        if !std::io::stdin().is_terminal() {
            return Err(CommandError::Usage(
                "history restore writes to the directory and stdin is not a terminal to confirm it; pass --yes".into(),
            ));
        }
        if !ask(&format!(
            "Restore: {}?",
            plan.describe(&entry.app_display_name)
        ))? {
            return Err(CommandError::Usage("not restored: not confirmed".into()));
        }
    }
    let summary = apply_restore(&graph, &entry.app_object_id, &plan)
        .await
        .map_err(|e| match e {
            EntraError::Invalid(why) => CommandError::Usage(why),
            other => other.into(),
        })?;
    record(ctx, &summary, plan.change()).await?;
    if ctx.json {
        emit_json(
            out,
            &json!({ "restored": number, "app": summary, "change": output::to_json(&plan.change()) }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Restored change {number}: {}",
        plan.describe(&summary.display_name)
    )?;
    Ok(())
}

pub use signins::FailingWorkload;

/// Failed workload sign-ins of the tenant, grouped by app, identity and AADSTS code, each
/// joined with the app's FICs and their rule findings (entra's join, shared with the console).
pub async fn failing_workloads(
    ctx: &Context,
    since: Duration,
) -> Result<Vec<FailingWorkload>, CommandError> {
    let graph = ctx.session.graph();
    let tenant_id = ctx.session.tenant_id().await.unwrap_or_default();
    signins::failing_workloads(
        &graph,
        &ctx.session.cloud,
        &tenant_id,
        OffsetDateTime::now_utc() - since,
    )
    .await
    .map_err(evidence_error)
}

pub async fn failing(
    ctx: &Context,
    args: &FailingArgs,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let since = parse_age(&args.since)?;
    let list = failing_workloads(ctx, since).await?;
    if ctx.json {
        emit_json(out, &json!({ "failingWorkloads": output::to_json(&list) }))?;
        return Ok(());
    }
    if list.is_empty() {
        writeln!(out, "No failed workload sign-ins since {}.", args.since)?;
        return Ok(());
    }
    for w in &list {
        writeln!(out, "{}", clean(&w.summary))?;
    }
    Ok(())
}
