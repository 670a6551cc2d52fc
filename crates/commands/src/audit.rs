//! `ficus audit`: the tenant's health in one report, for a terminal, a script or a ticket.
//!
//! It reads what the lists read (`entra::audit_gather`: identities, the certificate index,
//! then the apps page by page), checks each page as it arrives (`core::audit::Auditor`) and
//! keeps only the findings, so memory follows the findings, not the tenant. It never writes.
//!
//! Output: a text report grouped by kind, worst first (default); `--json` (the schema below,
//! documented in the README); `--markdown` for a ticket or a wiki. `--fail-on SEVERITY` makes
//! the exit status 1 when any finding is at or above it.
//!
//! JSON schema (keys camelCase, findings sorted worst first, then by kind and object name):
//!
//! ```text
//! { tenantId, generatedAt, scanned: { apps, identities },
//!   summary: { total, error, warning, info },
//!   counts: [ { kind, severity, count, title } ],
//!   findings: [ { kind, severity, rule, message, action,
//!                 app: { objectId, appId, displayName } | null,
//!                 identity: { name, principalId, clientId } | null,
//!                 fic: { id, name, issuer, subject, audiences } | null,
//!                 field: "issuer" | "subject" | "audiences" | "name" | … | null,
//!                 credential: { type: "secret" | "certificate", keyId, displayName,
//!                               endDateTime } | null,
//!                 fix: { field, value, label } | null,
//!                 date: ISO 8601 | null } ] }
//! ```

use std::io::Write;

use ficus_core::audit::{self, AuditFinding, Auditor, Kind, Severity};
use ficus_entra::audit_gather;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::output::{clean, emit_json, iso, when};
use crate::{CommandError, Context};

/// How `ficus audit` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    Text,
    Json,
    Markdown,
}

/// The audit's result: the findings, sorted, and what was read.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub tenant_id: String,
    pub generated_at: OffsetDateTime,
    pub apps: usize,
    pub identities: usize,
    pub findings: Vec<AuditFinding>,
}

/// Audits the session's tenant: reads page by page, keeps the findings.
pub async fn run_audit(ctx: &Context) -> Result<AuditReport, CommandError> {
    let graph = ctx.session.graph();
    let tenant_id = crate::tenant_id(ctx).await;
    let now = OffsetDateTime::now_utc();
    let prerequisites = audit_gather::prerequisites(&graph).await?;
    let mut auditor = Auditor::new(
        &ctx.session.cloud,
        &tenant_id,
        &prerequisites.identities,
        now,
    );
    let mut findings = Vec::new();
    let mut apps = 0;
    let mut next = None;
    loop {
        let (page, link) =
            audit_gather::app_page(&graph, &prerequisites.certificates, next).await?;
        apps += page.len();
        for app in &page {
            findings.extend(auditor.app(app));
        }
        match link {
            Some(link) => next = Some(link),
            None => break,
        }
    }
    findings.extend(auditor.finish());
    audit::sort(&mut findings);
    Ok(AuditReport {
        tenant_id,
        generated_at: now,
        apps,
        identities: prerequisites.identities.len(),
        findings,
    })
}

/// `ficus audit`: prints the report, then fails when `fail_on` is met.
pub async fn audit_command(
    ctx: &Context,
    markdown: bool,
    fail_on: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let threshold = match fail_on {
        None => None,
        Some(text) => Some(Severity::parse(text).ok_or_else(|| {
            CommandError::Usage(format!(
                "--fail-on takes error, warning or info, not '{}'",
                clean(text)
            ))
        })?),
    };
    let format = match (ctx.json, markdown) {
        (true, true) => {
            return Err(CommandError::Usage(
                "--json and --markdown are two formats of one report: choose one".into(),
            ));
        }
        (true, false) => AuditFormat::Json,
        (false, true) => AuditFormat::Markdown,
        (false, false) => AuditFormat::Text,
    };
    let report = run_audit(ctx).await?;
    write_report(&report, format, out)?;
    if let Some(threshold) = threshold {
        let failing = report
            .findings
            .iter()
            .filter(|f| f.at_least(threshold))
            .count();
        if failing > 0 {
            return Err(CommandError::Reported(format!(
                "{failing} finding(s) at or above {threshold} (--fail-on {threshold})"
            )));
        }
    }
    Ok(())
}

/// Writes `report` in `format`.
pub fn write_report(
    report: &AuditReport,
    format: AuditFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        AuditFormat::Json => emit_json(out, &report_json(report)),
        AuditFormat::Text => write_text(report, out),
        AuditFormat::Markdown => write_markdown(report, out),
    }
}

fn severity_counts(findings: &[AuditFinding]) -> (usize, usize, usize) {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    )
}

/// The report as the documented JSON.
pub fn report_json(report: &AuditReport) -> Value {
    let (errors, warnings, infos) = severity_counts(&report.findings);
    json!({
        "tenantId": report.tenant_id,
        "generatedAt": iso(report.generated_at),
        "scanned": { "apps": report.apps, "identities": report.identities },
        "summary": {
            "total": report.findings.len(),
            "error": errors,
            "warning": warnings,
            "info": infos,
        },
        "counts": audit::counts(&report.findings)
            .into_iter()
            .map(|(kind, severity, count)| json!({
                "kind": kind.code(),
                "severity": severity.label(),
                "count": count,
                "title": kind.title(),
            }))
            .collect::<Vec<Value>>(),
        "findings": report.findings.iter().map(finding_json).collect::<Vec<Value>>(),
    })
}

/// One finding as the documented JSON object.
pub fn finding_json(f: &AuditFinding) -> Value {
    json!({
        "kind": f.kind.code(),
        "severity": f.severity.label(),
        "rule": f.kind.rule(),
        "message": f.message,
        "action": f.action,
        "app": f.app.as_ref().map(|a| json!({
            "objectId": a.object_id,
            "appId": a.app_id,
            "displayName": a.display_name,
        })),
        "identity": f.identity.as_ref().map(|i| json!({
            "name": i.name,
            "principalId": i.principal_id,
            "clientId": i.client_id,
        })),
        "fic": f.fic.as_ref().map(|x| json!({
            "id": x.id,
            "name": x.name,
            "issuer": x.issuer,
            "subject": x.subject,
            "audiences": x.audiences,
        })),
        "field": f.field.map(field_code),
        "credential": f.credential.as_ref().map(|c| json!({
            "type": c.credential_type.label(),
            "keyId": c.key_id,
            "displayName": c.display_name,
            "endDateTime": c.end.map(iso),
        })),
        "fix": f.fix.as_ref().map(|x| json!({
            "field": field_code(x.field),
            "value": x.value,
            "label": x.label,
        })),
        "date": f.date.map(iso),
    })
}

/// A FIC field as Graph names it in JSON.
fn field_code(field: ficus_core::fic::Field) -> &'static str {
    use ficus_core::fic::Field;
    match field {
        Field::Name => "name",
        Field::Issuer => "issuer",
        Field::Subject => "subject",
        Field::Audiences => "audiences",
        Field::Description => "description",
        Field::App => "app",
        Field::Identity => "identity",
    }
}

fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "✗",
        Severity::Warning => "!",
        Severity::Info => "·",
    }
}

fn headline(report: &AuditReport) -> String {
    let (errors, warnings, infos) = severity_counts(&report.findings);
    format!(
        "{} apps and {} managed identities checked: {} finding(s), {errors} error(s), {warnings} warning(s), {infos} info",
        report.apps,
        report.identities,
        report.findings.len()
    )
}

/// Where a finding is: `app · FIC name · field`, `app · secret 'name'`, `identity`.
fn location(f: &AuditFinding) -> String {
    let mut parts = vec![f.object_name().to_string()];
    if let Some(fic) = &f.fic {
        parts.push(format!("FIC '{}'", fic.name));
    }
    if let Some(field) = f.field {
        parts.push(field.label().to_string());
    }
    if let Some(c) = &f.credential {
        let name = c
            .display_name
            .as_deref()
            .map(|n| format!(" '{n}'"))
            .unwrap_or_default();
        parts.push(format!("{}{name}", c.credential_type.label()));
    }
    parts.join(" · ")
}

/// The groups of the report: kind by kind, in the findings' (worst first) order.
fn groups(findings: &[AuditFinding]) -> Vec<(Kind, Vec<&AuditFinding>)> {
    let mut out: Vec<(Kind, Vec<&AuditFinding>)> = Vec::new();
    for f in findings {
        match out.iter_mut().find(|(k, _)| *k == f.kind) {
            Some((_, group)) => group.push(f),
            None => out.push((f.kind, vec![f])),
        }
    }
    out
}

fn write_text(report: &AuditReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Tenant {}: {}",
        clean(&report.tenant_id),
        headline(report)
    )?;
    if report.findings.is_empty() {
        writeln!(out, "Nothing to fix.")?;
        return Ok(());
    }
    for (kind, group) in groups(&report.findings) {
        let severity = group
            .iter()
            .map(|f| f.severity)
            .min()
            .unwrap_or(Severity::Info);
        writeln!(out)?;
        writeln!(
            out,
            "{} {} ({}) [{}]",
            mark(severity),
            kind.title(),
            group.len(),
            kind.code()
        )?;
        writeln!(out, "  {}", kind.rule())?;
        for f in group {
            writeln!(out, "  - {}", clean(&location(f)))?;
            writeln!(out, "    {}", clean(&f.message))?;
            if let Some(end) = f.credential.as_ref().and_then(|c| c.end) {
                writeln!(out, "    ends: {}", when(end, report.generated_at))?;
            }
            match &f.fix {
                Some(fix) => writeln!(
                    out,
                    "    fix: {} ({} → {})",
                    clean(&fix.label),
                    fix.field.label(),
                    clean(&fix.value)
                )?,
                None if !f.action.is_empty() => writeln!(out, "    next: {}", clean(&f.action))?,
                None => {}
            }
        }
    }
    Ok(())
}

/// Text for one Markdown table cell: sanitized, pipes escaped, no line breaks.
fn cell(text: &str) -> String {
    clean(text)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn write_markdown(report: &AuditReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# Tenant health: {}", cell(&report.tenant_id))?;
    writeln!(out)?;
    writeln!(
        out,
        "{} (generated {}).",
        headline(report),
        iso(report.generated_at)
    )?;
    if report.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "Nothing to fix.")?;
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "| severity | kind | count |")?;
    writeln!(out, "|---|---|---|")?;
    for (kind, severity, count) in audit::counts(&report.findings) {
        writeln!(
            out,
            "| {} {} | {} (`{}`) | {count} |",
            mark(severity),
            severity,
            kind.title(),
            kind.code()
        )?;
    }
    for (kind, group) in groups(&report.findings) {
        writeln!(out)?;
        writeln!(out, "## {} ({})", kind.title(), group.len())?;
        writeln!(out)?;
        writeln!(out, "{}", kind.rule())?;
        writeln!(out)?;
        writeln!(out, "| severity | where | problem | fix |")?;
        writeln!(out, "|---|---|---|---|")?;
        for f in group {
            let fix = match &f.fix {
                Some(fix) => format!("{}: `{}`", fix.label, fix.value),
                None => f.action.clone(),
            };
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                f.severity,
                cell(&location(f)),
                cell(&f.message),
                cell(&fix)
            )?;
        }
    }
    Ok(())
}
