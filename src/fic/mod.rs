//! The FIC domain: model, validation rules, Managed Identity auto-fill, diagnosis, AADSTS
//! explanations and export. Pure: no I/O, nothing from `entra/`, `tui/` or `sandbox/`.

pub mod autofill;
pub mod diagnose;
pub mod explain;
pub mod export;
pub mod guid;
pub mod model;
pub mod rules;

pub use autofill::managed_identity_fic;
pub use diagnose::{Diagnosis, Difference, FicComparison, FieldComparison, Presented, diagnose};
pub use explain::{Explanation, Mentioned, explain, explain_code, explain_with_context};
pub use export::{ExportFormat, GraphRequest, export};
pub use guid::{GuidKind, GuidMatch, Known, resolve_guid};
pub use model::{
    AppRecord, AppRef, ArmId, Fic, Field, Identity, IdentityKind, ServicePrincipalRecord,
    TenantRecord, is_guid,
};
pub use rules::{Finding, Fix, RuleContext, Severity, has_errors, validate};
