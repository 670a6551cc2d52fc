//! What an audit finding is about: its kind (a stable camelCase code for scripts), its
//! severity, and the rule behind it in plain words.

use serde::{Deserialize, Serialize};

use crate::fic::rules;

/// How urgent a finding is. Ordered worst first, so sorting ascending puts errors on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Broken now, or certain to break: a trust that matches no token, an expired credential.
    Error,
    /// Will break soon or is probably a mistake: a credential expiring within 30 days, a
    /// leftover secret, a duplicate trust, an app at the FIC limit.
    Warning,
    /// Worth knowing: a credential expiring within 90 days, an identity no app trusts.
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// The rules' two severities, as the audit's.
    pub fn of_rule(severity: rules::Severity) -> Severity {
        match severity {
            rules::Severity::Error => Severity::Error,
            rules::Severity::Warning => Severity::Warning,
        }
    }

    /// `--fail-on error|warning|info`.
    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "error" | "errors" => Some(Severity::Error),
            "warning" | "warnings" | "warn" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Every kind of finding. The order is the report's order within one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A Managed Identity FIC whose subject is no managed identity's principal id.
    OrphanedTrust,
    ClientIdAsSubject,
    SubjectCase,
    IssuerTrailingSlash,
    IssuerOtherTenant,
    IssuerOtherCloud,
    IssuerForm,
    AudienceOtherCloud,
    AudienceForm,
    Whitespace,
    /// Any other rule of `fic::rules` a saved FIC breaks.
    FicRule,
    GithubPullRequest,
    GithubEnvironmentAsBranch,
    GithubSubjectForm,
    KubernetesSubject,
    DuplicateTrust,
    IdentityTrustedTwice,
    FicLimit,
    SecretExpired,
    CertificateExpired,
    SecretExpiresWithin30Days,
    CertificateExpiresWithin30Days,
    LeftoverSecret,
    SecretExpiresWithin90Days,
    CertificateExpiresWithin90Days,
    UntrustedIdentity,
}

impl Kind {
    pub const ALL: [Kind; 26] = [
        Kind::OrphanedTrust,
        Kind::ClientIdAsSubject,
        Kind::SubjectCase,
        Kind::IssuerTrailingSlash,
        Kind::IssuerOtherTenant,
        Kind::IssuerOtherCloud,
        Kind::IssuerForm,
        Kind::AudienceOtherCloud,
        Kind::AudienceForm,
        Kind::Whitespace,
        Kind::FicRule,
        Kind::GithubPullRequest,
        Kind::GithubEnvironmentAsBranch,
        Kind::GithubSubjectForm,
        Kind::KubernetesSubject,
        Kind::DuplicateTrust,
        Kind::IdentityTrustedTwice,
        Kind::FicLimit,
        Kind::SecretExpired,
        Kind::CertificateExpired,
        Kind::SecretExpiresWithin30Days,
        Kind::CertificateExpiresWithin30Days,
        Kind::LeftoverSecret,
        Kind::SecretExpiresWithin90Days,
        Kind::CertificateExpiresWithin90Days,
        Kind::UntrustedIdentity,
    ];

    /// The stable code scripts match on (`--json`'s `kind`).
    pub fn code(self) -> &'static str {
        match self {
            Kind::OrphanedTrust => "orphanedTrust",
            Kind::ClientIdAsSubject => "clientIdAsSubject",
            Kind::SubjectCase => "subjectCase",
            Kind::IssuerTrailingSlash => "issuerTrailingSlash",
            Kind::IssuerOtherTenant => "issuerOtherTenant",
            Kind::IssuerOtherCloud => "issuerOtherCloud",
            Kind::IssuerForm => "issuerForm",
            Kind::AudienceOtherCloud => "audienceOtherCloud",
            Kind::AudienceForm => "audienceForm",
            Kind::Whitespace => "whitespace",
            Kind::FicRule => "ficRule",
            Kind::GithubPullRequest => "githubPullRequest",
            Kind::GithubEnvironmentAsBranch => "githubEnvironmentAsBranch",
            Kind::GithubSubjectForm => "githubSubjectForm",
            Kind::KubernetesSubject => "kubernetesSubject",
            Kind::DuplicateTrust => "duplicateTrust",
            Kind::IdentityTrustedTwice => "identityTrustedTwice",
            Kind::FicLimit => "ficLimit",
            Kind::SecretExpired => "secretExpired",
            Kind::CertificateExpired => "certificateExpired",
            Kind::SecretExpiresWithin30Days => "secretExpiresWithin30Days",
            Kind::CertificateExpiresWithin30Days => "certificateExpiresWithin30Days",
            Kind::LeftoverSecret => "leftoverSecret",
            Kind::SecretExpiresWithin90Days => "secretExpiresWithin90Days",
            Kind::CertificateExpiresWithin90Days => "certificateExpiresWithin90Days",
            Kind::UntrustedIdentity => "untrustedIdentity",
        }
    }

    pub fn parse(code: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(code.trim()))
    }

    /// A heading for the group of findings of this kind.
    pub fn title(self) -> &'static str {
        match self {
            Kind::OrphanedTrust => "Orphaned trusts (the identity was deleted or recreated)",
            Kind::ClientIdAsSubject => "Subject is the identity's client id",
            Kind::SubjectCase => "Subject differs from the principal id in case",
            Kind::IssuerTrailingSlash => "Issuer with a trailing slash",
            Kind::IssuerOtherTenant => "Issuer of another tenant",
            Kind::IssuerOtherCloud => "Issuer of another cloud",
            Kind::IssuerForm => "Issuer spelled differently from the tokens'",
            Kind::AudienceOtherCloud => "Audience of another cloud",
            Kind::AudienceForm => "Audience spelled differently",
            Kind::Whitespace => "Whitespace or invisible characters in a value",
            Kind::FicRule => "Other rule breaks",
            Kind::GithubPullRequest => "GitHub Actions: pull-request instead of pull_request",
            Kind::GithubEnvironmentAsBranch => "GitHub Actions: environment written as a branch",
            Kind::GithubSubjectForm => "GitHub Actions: subject not in GitHub's form",
            Kind::KubernetesSubject => "Kubernetes: subject not system:serviceaccount:NS:NAME",
            Kind::DuplicateTrust => "Duplicate trusts (same issuer and subject twice)",
            Kind::IdentityTrustedTwice => "Same identity trusted twice by one app",
            Kind::FicLimit => "Apps at or near the 20-FIC limit",
            Kind::SecretExpired => "Expired secrets",
            Kind::CertificateExpired => "Expired certificates",
            Kind::SecretExpiresWithin30Days => "Secrets expiring within 30 days",
            Kind::CertificateExpiresWithin30Days => "Certificates expiring within 30 days",
            Kind::LeftoverSecret => "Secrets beside a working Managed Identity FIC",
            Kind::SecretExpiresWithin90Days => "Secrets expiring within 90 days",
            Kind::CertificateExpiresWithin90Days => "Certificates expiring within 90 days",
            Kind::UntrustedIdentity => "Managed identities no app trusts",
        }
    }

    /// The rule behind the kind, in plain words.
    pub fn rule(self) -> &'static str {
        match self {
            Kind::OrphanedTrust => {
                "A Managed Identity FIC must name the principal id of an identity that exists; a deleted or recreated identity leaves a trust that no token matches."
            }
            Kind::ClientIdAsSubject => {
                "A managed identity's tokens carry its principal (object) id as `sub`, not its client id."
            }
            Kind::SubjectCase => {
                "Entra compares the subject exactly, letter case included (AADSTS7002138)."
            }
            Kind::IssuerTrailingSlash => {
                "The issuer must be exactly the token's `iss`; a trailing slash the token lacks never matches (AADSTS700211)."
            }
            Kind::IssuerOtherTenant => {
                "A managed identity's tokens are issued by its own tenant; the issuer must name the app's tenant id."
            }
            Kind::IssuerOtherCloud => {
                "Entra does not accept tokens across clouds; the issuer must be this cloud's."
            }
            Kind::IssuerForm => "The issuer must be the v2 form tokens carry, spelled exactly.",
            Kind::AudienceOtherCloud => {
                "Each cloud has its own exchange audience; another cloud's never matches (AADSTS700212)."
            }
            Kind::AudienceForm => {
                "The audience must be exactly this cloud's exchange audience URI."
            }
            Kind::Whitespace => {
                "Entra saves whitespace and invisible characters, then compares them too: such a value never matches."
            }
            Kind::FicRule => "Graph's and Entra's rules for a federated credential.",
            Kind::GithubPullRequest => {
                "GitHub's subject for pull requests is `repo:OWNER/REPO:pull_request`, with an underscore."
            }
            Kind::GithubEnvironmentAsBranch => {
                "A GitHub environment's subject is `repo:OWNER/REPO:environment:NAME`, not a branch ref."
            }
            Kind::GithubSubjectForm => {
                "GitHub's branch and tag subjects are `repo:OWNER/REPO:ref:refs/heads/BRANCH` or `…:ref:refs/tags/TAG`."
            }
            Kind::KubernetesSubject => {
                "A Kubernetes service account's subject is `system:serviceaccount:NAMESPACE:NAME`."
            }
            Kind::DuplicateTrust => {
                "Graph requires each issuer and subject pair once per app; a second copy is redundant."
            }
            Kind::IdentityTrustedTwice => {
                "One FIC per identity is enough; a second trust for the same identity is a leftover that hides which one works."
            }
            Kind::FicLimit => "Graph allows at most 20 federated credentials per app.",
            Kind::SecretExpired | Kind::CertificateExpired => {
                "An expired credential no longer signs in; remove it, or replace it (better: with a FIC)."
            }
            Kind::SecretExpiresWithin30Days
            | Kind::CertificateExpiresWithin30Days
            | Kind::SecretExpiresWithin90Days
            | Kind::CertificateExpiresWithin90Days => {
                "A credential stops working at its end date; rotate it, or replace it with a FIC, before then."
            }
            Kind::LeftoverSecret => {
                "An app that signs in through a working Managed Identity FIC does not need a secret: removing it is the migration's next step."
            }
            Kind::UntrustedIdentity => {
                "A user-assigned identity that no app's FIC names is unused for federation (or its trust was lost)."
            }
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
