//! The FIC domain: model, validation rules, Managed Identity auto-fill, diagnosis, AADSTS
//! explanations and export. Pure: no I/O, no clock, nothing from `entra/`, `tui/` or
//! `sandbox/`; it uses only `crate::jwt` and `crate::cloud`.
//!
//! # Public API (names are stable; everything below is re-exported from `ficus_core::fic`)
//!
//! **Model** ([`model`]): [`Fic`] (Graph JSON shape), [`Identity`] / [`IdentityKind`],
//! [`ArmId::parse`], [`AppRef`] `{app_id, display_name}`, [`AppRecord`]
//! `{object_id, app_id, display_name, unique_name}` (exports, GUID resolver),
//! [`ServicePrincipalRecord`], [`TenantRecord`], [`Field`]
//! (`Name | Issuer | Subject | Audiences | Description | App | Identity`).
//!
//! **Rules** ([`rules`]):
//! - `validate(draft: &Fic, ctx: &RuleContext) -> Vec<Finding>`; `has_errors(&[Finding]) -> bool`.
//! - `RuleContext::new(&cloud, tenant_id)` then `.with_identity(&identity)`,
//!   `.with_app_id(app_id)`, `.with_existing(&fics)` (a draft with an `id` is an edit and is
//!   not compared with itself), `.with_identities(&all)`. Fields are public too.
//! - `Finding { severity: Severity::{Error, Warning}, field: Field, message: String,
//!   fix: Option<Fix> }`; `Fix { field, value, label }` and `Fix::apply(&self, &mut Fic)`.
//! - Helpers (their home is [`names`], re-exported from `rules`): `rules::sanitize_name`, `rules::unique_name`, `rules::graph_len`,
//!   `rules::truncate_graph`, `rules::apply_fixes(&Fic, &[Finding]) -> Fic`, and the limits `NAME_MIN`, `NAME_MAX`, `VALUE_MAX`,
//!   `MAX_FICS_PER_APP`. Severity policy: see the [`rules`] module docs.
//!
//! **Auto-fill** ([`autofill`]):
//! `managed_identity_fic(cloud: &Cloud, tenant_id: &str, app: &AppRef, identity: &Identity,
//! existing: &[Fic]) -> Fic`; also `autofill::fic_name_for(&Identity, &[Fic]) -> String`,
//! `autofill::description_for(&AppRef, &Identity) -> String`,
//! `autofill::resource_group_of(&Identity) -> Option<String>`.
//!
//! **Diagnosis** ([`mod@diagnose`]): `diagnose(assertion: &Jwt, fics: &[Fic], cloud: &Cloud) ->
//! Diagnosis`, or `diagnose::diagnose_presented(Presented, &[Fic], &Cloud)` for values not in
//! a token. [`Diagnosis`] has `presented`, `matched: Option<usize>` (index into `fics`),
//! `comparisons: Vec<FicComparison>` nearest first, and `matched_fic(&fics)`,
//! `nearest_miss()`, `expected_error_code() -> Option<u32>` (the AADSTS code Entra answers
//! with), `summary() -> String`. Each [`FicComparison`] has `fields: Vec<FieldComparison>`
//! (issuer, subject, audience) with a [`Difference`] (`Same`, `CaseOnly{position}`,
//! `Whitespace`, `TrailingSlash{in_fic}`, `ClientIdAsSubject`, `IssuerForm`, `DifferentGuid`,
//! `OtherTenant{..}`, `OtherCloud{..}`, `OtherCloudAudience{..}`, `GuidAudience`,
//! `Different{position}`) and an `explanation` sentence.
//!
//! **Remedies** ([`remedy`]): `Diagnosis::remedies(&fics, &TrustContext) -> Vec<Remedy>`, best
//! first: `Remedy::EditField {fic_index, fic_name, changes: Vec<FieldChange {field, from, to,
//! why}>}` for a FIC meant for this token and misspelled; `Remedy::AddFic {draft, identity}`
//! when the token belongs to a workload the app does not trust (or the app has no FICs,
//! AADSTS70025); `Remedy::UseTrustedIdentity {fic_index, fic_name, identity, issuer,
//! subject}` for a FIC that is a working trust for another identity or issuer (never offered
//! for editing). `TrustContext::new(&cloud).with_tenant(t).with_app(&app_ref)
//! .with_identities(&all)`; `Remedy::sentence()`; `Diagnosis::trusts_for_others`;
//! `remedy::fic_for_presented`.
//!
//! **AADSTS explainer** ([`mod@explain`]): `explain(input: &str) -> Option<Explanation>` (a bare
//! code, `AADSTS700213`, a JSON error body, or SDK text); `explain_code(u32) -> Explanation`;
//! `explain_with_context(&Explanation, assertion: Option<&Jwt>, fics: &[Fic],
//! identities: &[Identity], cloud: &Cloud) -> Explanation` (same explanation, concrete
//! `fix`); `explain::known_codes() -> Vec<u32>`. [`Explanation`] `{code, error, title,
//! field_at_fault: Option<Field>, fix, entra_message, mentioned: Mentioned, known}`.
//!
//! **Entra error text** ([`aadsts`]): `parse_sts_message(text) -> StsMessage {codes, error,
//! message, trace_id, correlation_id, timestamp}` for a JSON error body or SDK/log text;
//! `aadsts_codes(text) -> Vec<u32>`, `aadsts::first_aadsts`, `aadsts::entra_message`,
//! `aadsts::trace_id_in`, `aadsts::correlation_id_in`.
//!
//! **GUID resolver** ([`guid`]): `resolve_guid(guid: &str, known: &Known) -> Vec<GuidMatch>`
//! with `Known { apps, service_principals, identities, tenants }` (borrowed slices,
//! `Default`); `GuidMatch { kind: GuidKind, name, exact_case }` and `describe()`. The one
//! well-known id table `guid::WELL_KNOWN` with `well_known(guid) -> Option<&WellKnown>` and
//! `well_known_guid(guid) -> Vec<String>`; `is_guid` (canonical form), `normalize_guid`
//! (what people paste: braces, quotes, `urn:uuid:`, no hyphens) and `looks_like_guid`.
//!
//! **Export** ([`mod@export`]): `export(format: ExportFormat, fic: &Fic, app: &AppRecord,
//! cloud: &Cloud) -> String` for `ExportFormat::{AzCli, GraphPowerShell, Bicep, Terraform,
//! GraphRequest}` (`ExportFormat::ALL`, `label()`); the individual `export::az_cli`,
//! `graph_powershell`, `bicep`, `terraform` (each `(&Fic, &AppRecord) -> String`),
//! `export::graph_request(&Fic, &AppRecord) -> GraphRequest {method, path, body,
//! body_text}` with `url(&Cloud)` and `to_http(&Cloud)`, `export::graph_body_text(&Fic,
//! pretty: bool) -> String` (Graph's field order), and the quoting helpers `shell_quote`,
//! `powershell_quote`, `bicep_string`, `hcl_string`. Updates: `update_request(before: &Fic,
//! after: &Fic) -> Result<FicUpdate, UpdateError>`; [`FicUpdate`] `{fic_key, issuer, subject,
//! audiences, description}` (each `Some` only when it changes; a cleared description is
//! `Some("")`) with `body()`, `body_text(pretty)`, `graph_request(&AppRecord)` (PATCH),
//! `az_cli`, `graph_powershell`, `apply(&Fic)`, `changed_fields()`, `is_empty()`; and
//! `update_export(format, &FicUpdate, after: &Fic, &AppRecord, &Cloud) -> String`.
//!
//! Related, outside `fic/`: `jwt::claim_meaning`, `jwt::claim_lines`, `jwt::describe_time`,
//! `jwt::human_duration`, `jwt::classify -> TokenKind`, `Cloud::recognise_entra_issuer`,
//! `cloud::exchange_audience_cloud`.

pub mod aadsts;
pub mod autofill;
pub mod diagnose;
pub mod explain;
pub mod export;
pub mod guid;
pub mod model;
pub mod names;
pub mod remedy;
pub mod rules;

pub use aadsts::{StsMessage, aadsts_codes, parse_sts_message};
pub use autofill::managed_identity_fic;
pub use diagnose::{Diagnosis, Difference, FicComparison, FieldComparison, Presented, diagnose};
pub use explain::{Explanation, Mentioned, explain, explain_code, explain_with_context};
pub use export::{
    ExportFormat, FicUpdate, GraphRequest, UpdateError, export, update_export, update_request,
};
pub use guid::{
    GuidKind, GuidMatch, Known, WellKnown, is_guid, looks_like_guid, normalize_guid, resolve_guid,
    well_known, well_known_guid,
};
pub use model::{
    AppRecord, AppRef, ArmId, Fic, Field, Identity, IdentityKind, ServicePrincipalRecord,
    TenantRecord,
};
pub use remedy::{FieldChange, Remedy, TrustContext};
pub use rules::{Finding, Fix, RuleContext, Severity, has_errors, validate};
