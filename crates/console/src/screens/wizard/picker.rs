//! The rows of the wizard's app or identity picker, filtered as typed.

use super::state::{Side, Step, Wizard};
use crate::component::Ctx;
use crate::model::{AppRow, IdentityKind, IdentityRow};

/// The picker's rows: apps or identities matching the filter, in list order.
pub fn picker_rows<'a>(wizard: &Wizard, ctx: &Ctx<'a>) -> PickerRows<'a> {
    let needle = wizard.picker_filter.value().trim().to_ascii_lowercase();
    let matches = |fields: &[&str]| {
        needle.is_empty()
            || fields
                .iter()
                .any(|f| f.to_ascii_lowercase().contains(&needle))
    };
    match wizard.step {
        Step::Pick(Side::App) => PickerRows::Apps(
            ctx.apps
                .items()
                .iter()
                .filter(|a| matches(&[&a.name, &a.app_id]))
                .collect(),
        ),
        _ => {
            // Usable ones first, by name; the system-assigned ones after, to show why not.
            let mut rows: Vec<&IdentityRow> = ctx
                .identities
                .items()
                .iter()
                .filter(|i| matches(&[&i.name, &i.client_id, &i.principal_id]))
                .collect();
            rows.sort_by(|a, b| {
                (
                    a.kind == IdentityKind::SystemAssigned,
                    a.name.to_ascii_lowercase(),
                )
                    .cmp(&(
                        b.kind == IdentityKind::SystemAssigned,
                        b.name.to_ascii_lowercase(),
                    ))
            });
            PickerRows::Identities(rows)
        }
    }
}

pub enum PickerRows<'a> {
    Apps(Vec<&'a AppRow>),
    Identities(Vec<&'a IdentityRow>),
}

impl PickerRows<'_> {
    pub fn len(&self) -> usize {
        match self {
            PickerRows::Apps(rows) => rows.len(),
            PickerRows::Identities(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
