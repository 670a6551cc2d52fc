//! The rows of the wizard's app or identity picker, filtered as typed (the lists' own
//! matcher, [`TextMatch`]), by name, with what already trusts what.

use super::state::{Side, Step, Wizard};
use crate::component::Ctx;
use crate::filter::{TextMatch, compare_names};
use crate::model::{AppRow, IdentityKind, IdentityRow};
use crate::widgets::picker::trusts;

/// The picker's rows: apps or identities matching the filter, by name.
pub fn picker_rows<'a>(wizard: &Wizard, ctx: &Ctx<'a>) -> PickerRows<'a> {
    let mut wanted = TextMatch::new(wizard.picker_filter.value());
    let mut matches = |fields: &[&str]| wanted.any(fields);
    match wizard.step {
        Step::Pick(Side::App) => {
            let mut rows: Vec<&AppRow> = ctx
                .apps
                .items()
                .iter()
                .filter(|a| matches(&[&a.name, &a.app_id]))
                .collect();
            rows.sort_by(|a, b| compare_names(&a.name, &b.name));
            PickerRows::Apps(rows)
        }
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

/// Whether the app row already trusts the chosen identity (picking an app), or the chosen
/// app already trusts the identity row (picking an identity): a FIC names it as subject.
pub fn already_trusted(
    wizard: &Wizard,
    app: Option<&AppRow>,
    identity: Option<&IdentityRow>,
) -> bool {
    match (app, identity) {
        (Some(app), None) => wizard.identity.as_ref().is_some_and(|i| trusts(app, i)),
        (None, Some(identity)) => wizard
            .app
            .as_ref()
            .is_some_and(|chosen| match &chosen.fics {
                Some(fics) => fics.iter().any(|f| f.subject == identity.principal_id),
                None => trusts(&chosen.row, identity),
            }),
        _ => false,
    }
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
