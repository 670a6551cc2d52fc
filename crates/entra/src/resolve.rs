//! Turning what an admin types into one object: an APP is a display name, an application
//! (client) id or an object id; an IDENTITY is a name, client id, principal id or ARM id. An
//! ambiguous name is refused with the candidates listed.

use super::error::EntraError;
use super::graph::{AppSummary, GraphClient};
use ficus_core::fic::Identity;

fn looks_like_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s.trim()).is_ok()
}

/// One line per candidate, enough to pick by id.
pub fn describe_app(a: &AppSummary) -> String {
    format!(
        "{} (app id {}, object id {})",
        a.display_name, a.app_id, a.id
    )
}

pub fn describe_identity(i: &Identity) -> String {
    format!(
        "{} (client id {}, principal id {}{})",
        i.name,
        i.client_id,
        i.principal_id,
        i.arm_id
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default()
    )
}

/// Resolves APP against Graph.
pub async fn resolve_app(graph: &GraphClient, query: &str) -> Result<AppSummary, EntraError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(EntraError::Invalid(
            "no app given; name an app by display name, app id or object id".into(),
        ));
    }
    if looks_like_guid(query) {
        if let Some(app) = graph.get_app_by_app_id(query).await? {
            return Ok(app.summary());
        }
        match graph.get_app(query).await {
            Ok(app) => return Ok(app.summary()),
            Err(EntraError::Graph(g)) if g.is_not_found() || g.status == 404 => {}
            Err(e) => return Err(e),
        }
        return Err(EntraError::NotFound {
            what: "app",
            query: query.into(),
            hint: "no app registration has this app id or object id; `ficus whois` tells what the GUID is".into(),
        });
    }
    let found = graph.find_apps_by_name(query).await?;
    pick(
        found,
        query,
        "app",
        |a| &a.display_name,
        describe_app,
        || "list apps with `ficus apps --filter TEXT`".into(),
    )
}

/// Resolves IDENTITY among the tenant's managed identities.
pub fn resolve_identity(identities: &[Identity], query: &str) -> Result<Identity, EntraError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(EntraError::Invalid(
            "no identity given; name it by name, client id, principal id or ARM id".into(),
        ));
    }
    let by_id: Vec<&Identity> = identities
        .iter()
        .filter(|i| {
            i.client_id.eq_ignore_ascii_case(query)
                || i.principal_id.eq_ignore_ascii_case(query)
                || i.arm_id
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(query))
        })
        .collect();
    if let [one] = by_id.as_slice() {
        return Ok((*one).clone());
    }
    if by_id.len() > 1 {
        return Err(EntraError::Ambiguous {
            what: "identity",
            query: query.into(),
            candidates: by_id.iter().map(|i| describe_identity(i)).collect(),
        });
    }
    pick(
        identities.to_vec(),
        query,
        "identity",
        |i| &i.name,
        describe_identity,
        || "list identities with `ficus identities`".into(),
    )
}

/// Exact (case-sensitive) name matches first, then case-insensitive ones.
fn pick<T: Clone>(
    items: Vec<T>,
    query: &str,
    what: &'static str,
    name: impl Fn(&T) -> &String,
    describe: impl Fn(&T) -> String,
    hint: impl Fn() -> String,
) -> Result<T, EntraError> {
    let exact: Vec<&T> = items.iter().filter(|i| name(i) == query).collect();
    let chosen: Vec<&T> = if exact.is_empty() {
        items
            .iter()
            .filter(|i| name(i).eq_ignore_ascii_case(query))
            .collect()
    } else {
        exact
    };
    match chosen.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(EntraError::NotFound {
            what,
            query: query.into(),
            hint: hint(),
        }),
        many => Err(EntraError::Ambiguous {
            what,
            query: query.into(),
            candidates: many.iter().map(|i| describe(i)).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ficus_core::fic::IdentityKind;

    fn ident(name: &str, client: &str, principal: &str) -> Identity {
        Identity {
            name: name.into(),
            kind: IdentityKind::UserAssigned,
            client_id: client.into(),
            principal_id: principal.into(),
            arm_id: Some(format!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
            )),
            subscription: Some("s".into()),
            resource_group: Some("rg".into()),
            tenant_id: None,
        }
    }

    #[test]
    fn identities_resolve_by_every_id_and_refuse_ambiguous_names() {
        let ids = vec![
            ident("id-a", "c1", "p1"),
            ident("id-b", "c2", "p2"),
            ident("id-b", "c3", "p3"),
        ];
        assert_eq!(
            resolve_identity(&ids, "id-a").expect("name").client_id,
            "c1"
        );
        assert_eq!(
            resolve_identity(&ids, "ID-A").expect("case").client_id,
            "c1"
        );
        assert_eq!(
            resolve_identity(&ids, "c2").expect("client").principal_id,
            "p2"
        );
        assert_eq!(
            resolve_identity(&ids, "p3").expect("principal").client_id,
            "c3"
        );
        let arm = ids[0].arm_id.clone().expect("arm");
        assert_eq!(resolve_identity(&ids, &arm).expect("arm").name, "id-a");
        match resolve_identity(&ids, "id-b") {
            Err(EntraError::Ambiguous { candidates, .. }) => {
                assert_eq!(candidates.len(), 2);
                assert!(candidates[0].contains("c2") && candidates[1].contains("c3"));
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert!(matches!(
            resolve_identity(&ids, "nope"),
            Err(EntraError::NotFound { .. })
        ));
    }
}
