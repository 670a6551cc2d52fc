//! The FIC domain: model, validation rules, Managed Identity auto-fill, diagnosis, AADSTS
//! explanations and export. Pure: no I/O, nothing from `entra/`, `tui/` or `sandbox/`.

pub mod model;

pub use model::{ArmId, Fic, Identity, IdentityKind};
