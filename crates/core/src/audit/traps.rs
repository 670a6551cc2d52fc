//! The known traps of FICs that do not trust a managed identity, recognisable from their
//! values alone: GitHub Actions subjects (`pull-request`, an environment written as a branch,
//! a branch without `refs/heads/`), Kubernetes service account subjects, and a trailing slash
//! on an issuer whose tokens have none. The Entra (managed identity) rules live in
//! `fic::rules`; these complement them for the other issuers.

use crate::audit::kind::Kind;
use crate::fic::model::{Fic, Field};
use crate::fic::rules::Fix;

/// GitHub Actions' OIDC issuer; its tokens' `iss` has no trailing slash.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// One trap found in a FIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    pub kind: Kind,
    pub field: Field,
    /// What is wrong with this FIC, in words.
    pub message: String,
    pub fix: Option<Fix>,
}

fn fix(field: Field, value: String, label: &str) -> Option<Fix> {
    Some(Fix {
        field,
        value,
        label: label.to_string(),
    })
}

/// Issuers whose tokens carry no trailing slash (Entra's are checked by the rules).
fn slashless_issuer(issuer: &str) -> Option<&'static str> {
    let bare = issuer.trim().trim_end_matches('/');
    bare.eq_ignore_ascii_case(GITHUB_ISSUER)
        .then_some(GITHUB_ISSUER)
}

fn is_github(fic: &Fic) -> bool {
    slashless_issuer(&fic.issuer).is_some() || fic.subject.trim().starts_with("repo:")
}

/// True for AKS's OIDC issuer (`https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/`).
fn is_aks_issuer(issuer: &str) -> bool {
    issuer
        .to_ascii_lowercase()
        .contains(".oic.prod-aks.azure.com/")
}

/// Every trap in `fic`.
pub fn traps(fic: &Fic) -> Vec<Trap> {
    let mut out = Vec::new();
    if let Some(expected) = slashless_issuer(&fic.issuer)
        && fic.issuer.trim().ends_with('/')
    {
        out.push(Trap {
            kind: Kind::IssuerTrailingSlash,
            field: Field::Issuer,
            message: format!(
                "The issuer ends with '/'; this issuer's tokens carry {expected} without one, and Entra compares exactly. Remove the slash."
            ),
            fix: fix(Field::Issuer, expected.to_string(), "remove the trailing slash"),
        });
    }
    if is_github(fic) {
        github(fic, &mut out);
    }
    let subject = fic.subject.trim();
    if is_aks_issuer(&fic.issuer)
        || subject
            .to_ascii_lowercase()
            .starts_with("system:serviceaccount")
    {
        kubernetes(subject, &mut out);
    }
    out
}

fn github(fic: &Fic, out: &mut Vec<Trap>) {
    let subject = fic.subject.trim();
    // `repo:OWNER/REPO:<rest>`: the repository is everything up to the second colon.
    let Some(rest) = subject.strip_prefix("repo:") else {
        return;
    };
    let Some((repo, claim)) = rest.split_once(':') else {
        out.push(Trap {
            kind: Kind::GithubSubjectForm,
            field: Field::Subject,
            message: format!(
                "The subject names the repository but not what runs: add ':ref:refs/heads/BRANCH', ':environment:NAME' or ':pull_request' (e.g. repo:{repo}:ref:refs/heads/main).",
                repo = rest
            ),
            fix: None,
        });
        return;
    };
    let base = format!("repo:{repo}");
    if claim.eq_ignore_ascii_case("pull-request") || claim.eq_ignore_ascii_case("pullrequest") {
        let value = format!("{base}:pull_request");
        out.push(Trap {
            kind: Kind::GithubPullRequest,
            field: Field::Subject,
            message: format!(
                "GitHub writes pull_request with an underscore; '{claim}' never matches. Use {value}."
            ),
            fix: fix(Field::Subject, value, "use pull_request"),
        });
        return;
    }
    if let Some(environment) = claim.strip_prefix("environment:") {
        if let Some(branch) = environment
            .strip_prefix("refs/heads/")
            .or_else(|| environment.strip_prefix("refs/tags/"))
        {
            let value = format!("{base}:environment:{branch}");
            out.push(Trap {
                kind: Kind::GithubEnvironmentAsBranch,
                field: Field::Subject,
                message: format!(
                    "The environment is written as a ref ('{environment}'); a job in an environment presents the environment's name. Use {value}."
                ),
                fix: fix(Field::Subject, value, "use the environment's name"),
            });
        }
        return;
    }
    if let Some(reference) = claim.strip_prefix("ref:") {
        if !(reference.starts_with("refs/heads/")
            || reference.starts_with("refs/tags/")
            || reference.starts_with("refs/pull/"))
        {
            let value = format!("{base}:ref:refs/heads/{reference}");
            out.push(Trap {
                kind: Kind::GithubSubjectForm,
                field: Field::Subject,
                message: format!(
                    "GitHub presents a branch as a full ref; '{reference}' never matches. Use {value} (or refs/tags/… for a tag)."
                ),
                fix: fix(Field::Subject, value, "use the full branch ref"),
            });
        }
        return;
    }
    if let Some(branch) = claim
        .strip_prefix("branch:")
        .or_else(|| claim.strip_prefix("refs/heads/"))
    {
        let value = format!("{base}:ref:refs/heads/{branch}");
        out.push(Trap {
            kind: Kind::GithubSubjectForm,
            field: Field::Subject,
            message: format!("GitHub's branch subject is ':ref:refs/heads/BRANCH'. Use {value}."),
            fix: fix(Field::Subject, value, "use GitHub's branch form"),
        });
    }
}

fn kubernetes(subject: &str, out: &mut Vec<Trap>) {
    let parts: Vec<&str> = subject.split(':').collect();
    let well_formed = parts.len() == 4
        && parts[0] == "system"
        && parts[1] == "serviceaccount"
        && parts[2..].iter().all(|p| !p.is_empty() && p.trim() == *p);
    if well_formed {
        return;
    }
    // Repairable when it is the right four parts with the wrong spelling of the prefix.
    let repaired = (parts.len() == 4
        && parts[0].eq_ignore_ascii_case("system")
        && parts[1]
            .to_ascii_lowercase()
            .trim_end_matches('s')
            .eq("serviceaccount")
        && parts[2..].iter().all(|p| !p.trim().is_empty()))
    .then(|| {
        format!(
            "system:serviceaccount:{}:{}",
            parts[2].trim(),
            parts[3].trim()
        )
    });
    let message = match &repaired {
        Some(value) => format!(
            "A Kubernetes service account token's subject is system:serviceaccount:NAMESPACE:NAME. Use {value}."
        ),
        None => "A Kubernetes service account token's subject is system:serviceaccount:NAMESPACE:NAME; this subject is not of that form and no token will match it.".to_string(),
    };
    out.push(Trap {
        kind: Kind::KubernetesSubject,
        field: Field::Subject,
        message,
        fix: repaired.and_then(|value| fix(Field::Subject, value, "use the service account form")),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fic(issuer: &str, subject: &str) -> Fic {
        Fic {
            name: "x".into(),
            issuer: issuer.into(),
            subject: subject.into(),
            audiences: vec!["api://AzureADTokenExchange".into()],
            ..Fic::default()
        }
    }

    fn kinds(f: &Fic) -> Vec<Kind> {
        traps(f).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn correct_github_and_kubernetes_subjects_have_no_trap() {
        for subject in [
            "repo:contoso/api:ref:refs/heads/main",
            "repo:contoso/api:ref:refs/tags/v1",
            "repo:contoso/api:environment:production",
            "repo:contoso/api:pull_request",
        ] {
            assert_eq!(kinds(&fic(GITHUB_ISSUER, subject)), vec![], "{subject}");
        }
        let aks = "https://westeurope.oic.prod-aks.azure.com/t/c/";
        assert_eq!(
            kinds(&fic(aks, "system:serviceaccount:payments:worker")),
            vec![]
        );
    }

    #[test]
    fn github_traps_are_named_and_fixed() {
        let t = traps(&fic(GITHUB_ISSUER, "repo:contoso/api:pull-request"));
        assert_eq!(t[0].kind, Kind::GithubPullRequest);
        assert_eq!(
            t[0].fix.as_ref().map(|f| f.value.as_str()),
            Some("repo:contoso/api:pull_request")
        );
        let t = traps(&fic(
            GITHUB_ISSUER,
            "repo:contoso/api:environment:refs/heads/production",
        ));
        assert_eq!(t[0].kind, Kind::GithubEnvironmentAsBranch);
        assert_eq!(
            t[0].fix.as_ref().map(|f| f.value.as_str()),
            Some("repo:contoso/api:environment:production")
        );
        let t = traps(&fic(GITHUB_ISSUER, "repo:contoso/api:ref:main"));
        assert_eq!(t[0].kind, Kind::GithubSubjectForm);
        assert_eq!(
            t[0].fix.as_ref().map(|f| f.value.as_str()),
            Some("repo:contoso/api:ref:refs/heads/main")
        );
        let t = traps(&fic(
            &format!("{GITHUB_ISSUER}/"),
            "repo:contoso/api:ref:refs/heads/main",
        ));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].kind, Kind::IssuerTrailingSlash);
        assert_eq!(
            t[0].fix.as_ref().map(|f| f.value.as_str()),
            Some(GITHUB_ISSUER)
        );
    }

    #[test]
    fn kubernetes_subjects_must_have_four_parts() {
        let aks = "https://westeurope.oic.prod-aks.azure.com/t/c/";
        let t = traps(&fic(aks, "system:serviceaccounts:payments:worker"));
        assert_eq!(t[0].kind, Kind::KubernetesSubject);
        assert_eq!(
            t[0].fix.as_ref().map(|f| f.value.as_str()),
            Some("system:serviceaccount:payments:worker")
        );
        let t = traps(&fic(aks, "payments/worker"));
        assert_eq!(t[0].kind, Kind::KubernetesSubject);
        assert_eq!(t[0].fix, None);
        assert_eq!(
            kinds(&fic(
                "https://k8s.example",
                "system:serviceaccount:payments"
            )),
            vec![Kind::KubernetesSubject]
        );
    }
}
