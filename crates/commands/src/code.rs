//! `ficus code`: the workload's side of a FIC, as a program per SDK (or `appsettings.json`),
//! filled in from the tenant: the app's client id, the resource tenant, the identity's client
//! id, the cloud's authority and exchange audience, the scope. The snippets come from
//! `ficus_core::workload`, the same the console's "Use it in your workload" view shows.

use std::io::Write;

use clap::Args;
use serde_json::{Value, json};

use ficus_core::fic::{Fic, Identity, IdentityKind};
use ficus_core::workload::{self, Shape, WorkloadValues};
use ficus_entra::resolve::{resolve_app, resolve_identity};

use crate::output::{clean, emit_json};
use crate::{CommandError, Context};

#[derive(Debug, Clone, Args)]
pub struct CodeArgs {
    /// Display name, app id or object id.
    #[arg(long)]
    pub app: String,
    /// Name, client id, principal id or ARM id of the user-assigned identity.
    #[arg(long)]
    pub identity: String,
    /// One shape: csharp, appsettings, msal-dotnet, python, msal-python, js, msal-node, java,
    /// go, rust; or the infrastructure (the FIC and the identity attached to the compute):
    /// bicep, terraform, az (default: all of them, each under a heading).
    #[arg(long, value_name = "LANG")]
    pub lang: Option<String>,
    /// Scope the app's token is asked for (default: Graph's .default in the session's cloud).
    #[arg(long)]
    pub scope: Option<String>,
    /// Tenant the app's token is for (default: the signed-in tenant).
    #[arg(long)]
    pub resource_tenant: Option<String>,
}

/// The FIC of `fics` that trusts `identity` in `audience`: its subject is the identity's
/// principal id (what Entra compares), and its audiences name the cloud's exchange audience.
pub fn trusting_fic<'a>(fics: &'a [Fic], identity: &Identity, audience: &str) -> Option<&'a Fic> {
    fics.iter().find(|f| {
        f.subject.eq_ignore_ascii_case(&identity.principal_id)
            && f.audiences.iter().any(|a| a == audience)
    })
}

/// Why the snippet would fail today, when the app has no FIC that trusts the identity.
fn trust_note(app_name: &str, fics: &[Fic], identity: &Identity, audience: &str) -> String {
    let app = clean(app_name);
    let name = clean(&identity.name);
    if let Some(wrong) = fics
        .iter()
        .find(|f| f.subject.eq_ignore_ascii_case(&identity.client_id))
    {
        return format!(
            "{app}'s FIC '{}' names {name}'s client id as its subject, where Entra expects the \
             principal id {}: this code will fail with AADSTS700213 until it is fixed \
             (the console's `f` on that FIC, or `ficus fic rm` and `ficus fic add {app} --identity {name}`)",
            clean(&wrong.name),
            identity.principal_id
        );
    }
    format!(
        "{app} has no FIC trusting {name} (subject {}, audience {audience}): this code will fail \
         with AADSTS70021 until one is added (`ficus fic add {app} --identity {name}`)",
        identity.principal_id
    )
}

pub(crate) async fn code(
    ctx: &Context,
    args: &CodeArgs,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let shapes = match &args.lang {
        None => Shape::ALL.to_vec(),
        Some(lang) => vec![Shape::parse(lang).ok_or_else(|| {
            CommandError::Usage(format!(
                "--lang {}: not a shape ficus writes; use one of {}",
                clean(lang),
                Shape::flags().join(", ")
            ))
        })?],
    };
    let graph = ctx.session.graph();
    let app = resolve_app(&graph, &args.app).await?;
    let identities = graph.list_managed_identities().await?;
    let identity = resolve_identity(&identities, &args.identity)?;
    if identity.kind == IdentityKind::SystemAssigned {
        return Err(CommandError::Usage(format!(
            "{} is a system-assigned identity, and a FIC can trust only a user-assigned one; \
             pick one from `ficus identities`",
            clean(&identity.name)
        )));
    }
    let fics = graph.list_fics(&app.id).await?;
    let cloud = ctx.session.cloud.clone();
    let trusted_by =
        trusting_fic(&fics, &identity, &cloud.exchange_audience).map(|f| f.name.clone());
    let app_record = ficus_core::fic::AppRecord {
        object_id: app.id.clone(),
        app_id: app.app_id.clone(),
        display_name: app.display_name.clone(),
        unique_name: None,
    };
    let resource_tenant = args
        .resource_tenant
        .clone()
        .unwrap_or_else(|| ctx.session.tenant.clone());
    // The infrastructure shapes write the FIC that trusts the identity, or the one to create.
    let values = WorkloadValues::new(
        &cloud,
        &app_record,
        &identity,
        &resource_tenant,
        args.scope.as_deref(),
        trusting_fic(&fics, &identity, &cloud.exchange_audience),
    );
    let note = trusted_by.is_none().then(|| {
        trust_note(
            &app.display_name,
            &fics,
            &identity,
            &values.cloud.exchange_audience,
        )
    });

    if ctx.json {
        emit_json(
            out,
            &code_json(&values, &shapes, trusted_by.as_deref(), note.as_deref()),
        )?;
        return Ok(());
    }
    if let Some(note) = &note {
        eprintln!("ficus: note: {note}");
    }
    if let [shape] = shapes.as_slice() {
        // One shape alone is the file itself, ready for `> Program.cs`.
        out.write_all(workload::snippet(*shape, &values).as_bytes())?;
        return Ok(());
    }
    for (index, shape) in shapes.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "===== {} ({}) — ficus code --lang {} =====",
            shape.label(),
            shape.file_name(),
            shape.flag()
        )?;
        out.write_all(workload::snippet(*shape, &values).as_bytes())?;
    }
    Ok(())
}

/// The values and the snippets, for `--json`.
fn code_json(
    values: &WorkloadValues,
    shapes: &[Shape],
    trusted_by: Option<&str>,
    note: Option<&str>,
) -> Value {
    let snippets: Vec<Value> = shapes
        .iter()
        .map(|shape| {
            json!({
                "lang": shape.flag(),
                "label": shape.label(),
                "fileName": shape.file_name(),
                "code": workload::snippet(*shape, values),
            })
        })
        .collect();
    json!({
        "app": { "displayName": clean(&values.app_name), "appId": values.app_client_id },
        "identity": {
            "name": clean(&values.identity_name),
            "clientId": values.identity_client_id,
            "principalId": values.identity_principal_id,
        },
        "resourceTenant": values.resource_tenant,
        "authorityHost": values.authority_host(),
        "exchangeAudience": values.cloud.exchange_audience,
        "scope": values.scope,
        "trustedBy": trusted_by.map(clean),
        "note": note,
        "snippets": snippets,
    })
}
