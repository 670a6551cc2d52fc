//! AADSTS errors explained: what went wrong in one sentence, which field is at fault, and
//! what to do; made concrete when the assertion, the app's FICs and the known identities are
//! at hand.
//!
//! [`explain`] accepts what people paste: a bare code (`700213`, `AADSTS700213`), a raw token
//! endpoint error body (JSON), or the text an SDK prints (azure-identity's
//! `ClientAuthenticationError`, MSAL's dict, a log line). Meanings follow
//! `shared/docs/entra-reference.md` §2; codes that source marks as low confidence say so.

use crate::cloud::Cloud;
use crate::fic::aadsts::{parse_sts_message, quoted_after};
use crate::fic::diagnose::{
    Difference, Presented, compare_field, diagnose_presented, effective_audience,
};
use crate::fic::model::{Fic, Field, Identity};
use crate::fic::remedy::{Remedy, TrustContext};
use crate::jwt::{Jwt, TokenKind, classify};

/// Values an AADSTS message quotes, taken out of `entra_message`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentioned {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    pub audience: Option<String>,
    /// 7002137 names the subject the FIC should have.
    pub expected_subject: Option<String>,
    /// 700016 names the client id it did not find; 7000215 the app.
    pub client_id: Option<String>,
    /// 90002 names the tenant it did not find.
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub code: u32,
    /// The OAuth `error` value (`invalid_client`, ...), when the input had one.
    pub error: Option<String>,
    /// What went wrong, in one sentence.
    pub title: String,
    pub field_at_fault: Option<Field>,
    /// What to do next.
    pub fix: String,
    /// Entra's own message, without the code prefix and the trace/correlation tail.
    pub entra_message: Option<String>,
    pub mentioned: Mentioned,
    /// False when the code is not in ficus' catalogue (title and fix are then generic).
    pub known: bool,
}

struct Entry {
    code: u32,
    title: &'static str,
    field: Option<Field>,
    fix: &'static str,
}

const CATALOGUE: &[Entry] = &[
    Entry {
        code: 70021,
        title: "No federated credential on the app matches the presented assertion's issuer, subject and audience.",
        field: None,
        fix: "Compare the credential's issuer, subject and audience with the token's iss, sub and aud, character for character. If the credential was created in the last few minutes, wait and retry: new credentials take a while to replicate.",
    },
    Entry {
        code: 700211,
        title: "No federated credential on the app has the assertion's issuer.",
        field: Some(Field::Issuer),
        fix: "Set the credential's issuer to the token's iss claim exactly: for a managed identity https://login.microsoftonline.com/{tenant-id}/v2.0 (your cloud's host), with no trailing slash or whitespace.",
    },
    Entry {
        code: 700212,
        title: "A federated credential has the assertion's issuer and subject, but not its audience.",
        field: Some(Field::Audiences),
        fix: "Set the credential's audience to the audience the token was requested for: for a managed identity your cloud's exchange audience (api://AzureADTokenExchange in the global cloud), and request the token for that same value.",
    },
    Entry {
        code: 700213,
        title: "A federated credential has the assertion's issuer but none has its subject.",
        field: Some(Field::Subject),
        fix: "Set the credential's subject to the token's sub claim exactly: for a managed identity its principal (object) id, not its client id.",
    },
    Entry {
        code: 7002138,
        title: "The credential's subject matches the assertion's only when case is ignored; Entra compares case-sensitively.",
        field: Some(Field::Subject),
        fix: "Set the credential's subject to the token's sub claim with exactly the same letter case.",
    },
    Entry {
        code: 7002137,
        title: "The credential's subject does not match the assertion's; Entra names the subject it expected.",
        field: Some(Field::Subject),
        fix: "Set the credential's subject to the value Entra names in its message (the managed identity's principal id).",
    },
    Entry {
        code: 70025,
        title: "The app has no federated identity credentials at all.",
        field: Some(Field::App),
        fix: "Create a federated credential on this app for the workload's issuer, subject and audience (ficus' Managed Identity wizard fills them in), or check that the client_id names the app you meant.",
    },
    Entry {
        code: 700024,
        title: "The assertion is not within its valid time range: it has expired or is not valid yet.",
        field: None,
        fix: "Get a fresh managed identity token right before the exchange instead of reusing a saved one, and check the machine's clock.",
    },
    Entry {
        code: 700027,
        title: "The assertion's signature does not verify against the issuer's published keys.",
        field: None,
        fix: "Send the token exactly as the issuer returned it (not edited or re-encoded), and check that its issuer really publishes the key it names (a sandbox token is not accepted by real Entra).",
    },
    Entry {
        code: 700016,
        title: "The client_id names no application in this tenant.",
        field: Some(Field::App),
        fix: "Check the client_id is the app's application (client) id, not its object id, and that the request goes to the app's tenant and cloud.",
    },
    Entry {
        code: 700222,
        title: "Entra refused an Entra-issued token as a federated credential assertion.",
        field: Some(Field::Issuer),
        fix: "Present a user-assigned managed identity's token requested for the exchange audience; other Entra tokens (apps, users) cannot be used as assertions.",
    },
    Entry {
        code: 700226,
        title: "Only managed identity tokens may be used as federated credentials for an Entra issuer (reported in the field; not in Microsoft's table).",
        field: Some(Field::Identity),
        fix: "Present a user-assigned managed identity's token, not an app registration's token.",
    },
    Entry {
        code: 700229,
        title: "The assertion is a delegated (user) token; only app-only tokens may be used for an Entra issuer.",
        field: Some(Field::Identity),
        fix: "Present the managed identity's own token (from IMDS or the App Service endpoint), not a token obtained by a signed-in user.",
    },
    Entry {
        code: 700236,
        title: "Entra tokens issued in another tenant may not be used as federated credentials for apps or managed identities registered in this tenant.",
        field: Some(Field::Identity),
        fix: "Use a user-assigned managed identity in the app's own tenant (the app may be multitenant and still reach other tenants' resources).",
    },
    Entry {
        code: 700238,
        title: "Entra refused the federated credential flow by policy: reported when workload identity federation is disabled for the tenant, or for an Entra issuer from another sovereign cloud (low confidence).",
        field: Some(Field::Issuer),
        fix: "Check that the identity and the app are in the same cloud, and ask a tenant administrator whether a policy blocks workload identity federation.",
    },
    Entry {
        code: 700214,
        title: "An Entra issuer was paired with an audience other than the exchange audience (reported in the field, low confidence).",
        field: Some(Field::Audiences),
        fix: "Set the credential's audience to your cloud's exchange audience (api://AzureADTokenExchange in the global cloud) and request the managed identity token for it.",
    },
    Entry {
        code: 500011,
        title: "The scope names a resource that does not exist in the tenant.",
        field: None,
        fix: "Request `{resource}/.default` for a resource that exists in the tenant (for Graph, https://graph.microsoft.com/.default); check for a mangled scope such as 'api://AzureADTokenExchange./default'.",
    },
    Entry {
        code: 90002,
        title: "The tenant in the request does not exist in this cloud.",
        field: None,
        fix: "Check the tenant id, and that you sign in to the cloud (global, US Gov, China) the tenant lives in.",
    },
    Entry {
        code: 7000215,
        title: "The client secret is wrong.",
        field: Some(Field::App),
        fix: "Send the secret's value, not its id; or, to avoid secrets, use a federated credential and send the managed identity's token as client_assertion.",
    },
    Entry {
        code: 7000218,
        title: "The request carries no credential: neither client_assertion nor client_secret.",
        field: None,
        fix: "Send the managed identity's token as client_assertion with client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
    },
    Entry {
        code: 1002012,
        title: "A client credentials request must ask for a scope ending in /.default.",
        field: None,
        fix: "Request `{resource}/.default` (for Graph: https://graph.microsoft.com/.default) instead of individual permissions.",
    },
    Entry {
        code: 70011,
        title: "The scope is not valid.",
        field: None,
        fix: "Request exactly one resource as `{resource}/.default`.",
    },
    Entry {
        code: 700022,
        title: "The scope names more than one resource.",
        field: None,
        fix: "Request tokens for one resource at a time, each as `{resource}/.default`.",
    },
    Entry {
        code: 65002,
        title: "A Microsoft first-party client (such as Azure CLI) asked for individual Graph scopes it is not pre-authorized for.",
        field: None,
        fix: "With the Azure CLI client id request only https://graph.microsoft.com/.default, or sign in with the Microsoft Graph Command Line Tools client (14d82eec-204b-4c2f-b7e8-296a70dab67e), which supports individual scopes.",
    },
    Entry {
        code: 50027,
        title: "The assertion is not a valid JWT.",
        field: None,
        fix: "Send the managed identity's access token itself (three base64url parts separated by dots), without quotes, a 'Bearer ' prefix or line breaks.",
    },
    Entry {
        code: 50013,
        title: "The assertion is invalid (bad signature, audience or lifetime).",
        field: None,
        fix: "Get a fresh token for the right audience and send it unchanged.",
    },
    Entry {
        code: 900144,
        title: "The request is missing a required parameter.",
        field: None,
        fix: "Add the parameter Entra names (grant_type, scope, client_id, client_assertion_type, ...) to the form body.",
    },
];

fn entry(code: u32) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.code == code)
}

/// Every code ficus explains.
pub fn known_codes() -> Vec<u32> {
    CATALOGUE.iter().map(|e| e.code).collect()
}

/// The explanation of a code alone.
pub fn explain_code(code: u32) -> Explanation {
    match entry(code) {
        Some(e) => Explanation {
            code,
            error: None,
            title: e.title.to_string(),
            field_at_fault: e.field,
            fix: e.fix.to_string(),
            entra_message: None,
            mentioned: Mentioned::default(),
            known: true,
        },
        None => Explanation {
            code,
            error: None,
            title: format!(
                "AADSTS{code} is not one of the federated credential errors ficus knows."
            ),
            field_at_fault: None,
            fix: format!(
                "Read Entra's message, and look the code up at https://login.microsoftonline.com/error?code={code}."
            ),
            entra_message: None,
            mentioned: Mentioned::default(),
            known: false,
        },
    }
}

fn mentioned_in(message: &str) -> Mentioned {
    let pick = |markers: &[&str]| markers.iter().find_map(|m| quoted_after(message, m));
    Mentioned {
        issuer: pick(&["Assertion Issuer:", "assertion issuer", "issued by issuer"]),
        subject: pick(&["Assertion Subject:", "assertion subject"]),
        audience: pick(&["Assertion Audience:", "assertion audience"]),
        expected_subject: pick(&["federated identity credential Subject is"]),
        client_id: pick(&["Application with identifier", "secret added to app"]),
        tenant: pick(&["Tenant"]),
    }
}

/// Explains an AADSTS error from a bare code, a JSON error body, or SDK/log text. `None` when
/// the input names no code. The text is read by [`parse_sts_message`].
pub fn explain(input: &str) -> Option<Explanation> {
    let text = input.trim();
    if text.is_empty() {
        return None;
    }
    if text.len() <= 9 && text.chars().all(|c| c.is_ascii_digit()) {
        return text.parse().ok().map(explain_code);
    }
    let parsed = parse_sts_message(text);
    let mut explanation = explain_code(parsed.code()?);
    explanation.error = parsed.error;
    explanation.mentioned = parsed
        .message
        .as_deref()
        .map(mentioned_in)
        .unwrap_or_default();
    explanation.entra_message = parsed.message;
    Some(explanation)
}

fn identity_by_principal<'a>(identities: &'a [Identity], id: &str) -> Option<&'a Identity> {
    identities.iter().find(|i| i.principal_id.trim() == id)
}

fn identity_by_client<'a>(identities: &'a [Identity], id: &str) -> Option<&'a Identity> {
    identities
        .iter()
        .find(|i| i.client_id.trim().eq_ignore_ascii_case(id.trim()))
}

fn short_id(id: &str) -> String {
    if id.len() > 12 && id.is_ascii() {
        format!("{}…", &id[..8])
    } else {
        id.to_string()
    }
}

/// Rewrites the fix of `explanation` with the values at hand: the assertion (preferred) or
/// the values Entra's message quotes, the app's FICs, and the identities ficus knows.
pub fn explain_with_context(
    explanation: &Explanation,
    assertion: Option<&Jwt>,
    fics: &[Fic],
    identities: &[Identity],
    cloud: &Cloud,
) -> Explanation {
    let mut out = explanation.clone();
    let m = &explanation.mentioned;
    let mut presented = assertion
        .map(|jwt| Presented::from_jwt(jwt, cloud))
        .unwrap_or_default();
    if presented.issuer.is_empty()
        && let Some(iss) = &m.issuer
    {
        presented.issuer = iss.clone();
    }
    if presented.subject.is_empty()
        && let Some(sub) = &m.subject
    {
        presented.subject = sub.clone();
    }
    if presented.audiences.is_empty()
        && let Some(aud) = &m.audience
    {
        presented.audiences = vec![aud.clone()];
        presented.effective_audiences = vec![effective_audience(aud, cloud)];
    }
    if presented.client_id.is_none()
        && let Some(identity) = identity_by_principal(identities, &presented.subject)
    {
        presented.client_id = Some(identity.client_id.clone());
    }
    // FICs that are working trusts for another identity or issuer are never "corrected" to
    // this token; when every FIC is one, the token belongs to a workload the app does not
    // trust. Judged only when the token's issuer and subject are both known.
    let trust = TrustContext::new(cloud).with_identities(identities);
    let diagnosis = (!presented.issuer.is_empty() && !presented.subject.is_empty())
        .then(|| diagnose_presented(presented.clone(), fics, cloud));
    let for_others = diagnosis
        .as_ref()
        .map(|d| d.trusts_for_others(fics, &trust))
        .unwrap_or_default();
    let candidates: Vec<Fic> = fics
        .iter()
        .enumerate()
        .filter(|(i, _)| !for_others.contains(i))
        .map(|(_, f)| f.clone())
        .collect();
    let concrete = match explanation.code {
        70021 | 700211 | 700212 | 700213 | 7002138 | 7002137
            if !fics.is_empty() && candidates.is_empty() =>
        {
            out.field_at_fault = Some(Field::Identity);
            diagnosis.map(|d| {
                d.remedies(fics, &trust)
                    .iter()
                    .map(Remedy::sentence)
                    .collect::<Vec<_>>()
                    .join(" Or: ")
            })
        }
        70021 | 700211 | 700212 | 700213 | 7002138 | 7002137 => {
            matching_fix(explanation, &presented, &candidates, identities, cloud)
        }
        70025 => no_fics_fix(&presented, identities, cloud),
        700024 => assertion.and_then(time_fix),
        700222 | 700226 | 700229 => assertion.map(kind_fix),
        700236 => presented
            .tenant_id
            .clone()
            .or_else(|| cloud.recognise_entra_issuer(&presented.issuer).map(|i| i.tenant))
            .map(|tid| {
                let who = identity_by_principal(identities, &presented.subject)
                    .map(|i| format!("{} ", i.name))
                    .unwrap_or_default();
                format!(
                    "The token of {who}was issued in tenant {tid}, not in the app's tenant. Use a user-assigned identity created in the app's tenant, or move the app registration to tenant {tid}."
                )
            }),
        _ => None,
    };
    if let Some(fix) = concrete {
        out.fix = fix;
    }
    out
}

fn matching_fix(
    explanation: &Explanation,
    presented: &Presented,
    fics: &[Fic],
    identities: &[Identity],
    cloud: &Cloud,
) -> Option<String> {
    if fics.is_empty() {
        return no_fics_fix(presented, identities, cloud);
    }
    if explanation.code == 7002137
        && let Some(expected) = &explanation.mentioned.expected_subject
    {
        let who = identity_by_principal(identities, expected)
            .map(|i| format!(" (principal id of {})", i.name))
            .unwrap_or_default();
        return Some(format!("Set the credential's subject to {expected}{who}."));
    }
    let fields: Vec<Field> = match explanation.code {
        700211 => vec![Field::Issuer],
        700212 => vec![Field::Audiences],
        700213 | 7002138 | 7002137 => vec![Field::Subject],
        _ => vec![Field::Issuer, Field::Subject, Field::Audiences],
    };
    let known = |field: Field| match field {
        Field::Issuer => !presented.issuer.is_empty(),
        Field::Subject => !presented.subject.is_empty(),
        _ => !presented.effective_audiences.is_empty(),
    };
    // Entra looks for the subject (and audience) only among FICs with the right issuer.
    let candidates: Vec<&Fic> = if fields != [Field::Issuer] && !presented.issuer.is_empty() {
        let same: Vec<&Fic> = fics
            .iter()
            .filter(|f| f.issuer == presented.issuer)
            .collect();
        if same.is_empty() {
            fics.iter().collect()
        } else {
            same
        }
    } else {
        fics.iter().collect()
    };
    let mut sentences = Vec::new();
    let mut compared = 0;
    for field in fields.into_iter().filter(|f| known(*f)) {
        compared += 1;
        let token_value = match field {
            Field::Issuer => presented.issuer.clone(),
            Field::Subject => presented.subject.clone(),
            _ => presented
                .effective_audiences
                .first()
                .cloned()
                .unwrap_or_default(),
        };
        let nearest = candidates
            .iter()
            .map(|fic| {
                let fic_value = match field {
                    Field::Issuer => fic.issuer.clone(),
                    Field::Subject => fic.subject.clone(),
                    _ => fic.audiences.first().cloned().unwrap_or_default(),
                };
                (
                    fic,
                    compare_field(field, &fic_value, &token_value, presented, cloud),
                )
            })
            .min_by_key(|(_, c)| c.difference.distance());
        let Some((fic, comparison)) = nearest else {
            continue;
        };
        if comparison.matches() {
            continue;
        }
        let mut sentence = format!(
            "In the credential '{}', set the {} to {}",
            fic.name,
            field.label(),
            token_value
        );
        if field == Field::Subject {
            if let Some(owner) = identity_by_principal(identities, &token_value) {
                sentence.push_str(&format!(" (principal id of {})", owner.name));
            }
            match (
                &comparison.difference,
                identity_by_client(identities, &comparison.fic_value),
            ) {
                (_, Some(owner)) => {
                    sentence.push_str(&format!("; it is now the client id of {}", owner.name))
                }
                (Difference::ClientIdAsSubject, None) => {
                    sentence.push_str("; it is now the identity's client id (the token's azp)")
                }
                (Difference::CaseOnly { .. }, None) => {
                    sentence.push_str("; it now differs only in letter case")
                }
                _ => sentence.push_str(&format!("; it is now {}", short_id(&comparison.fic_value))),
            }
        } else if field == Field::Audiences
            && presented.audiences.first() != presented.effective_audiences.first()
        {
            sentence.push_str(&format!(
                "; the token's aud {} is the exchange app's id, which Entra maps to {}",
                presented.audiences.first().cloned().unwrap_or_default(),
                token_value
            ));
            sentence.push_str(&format!(" ({})", comparison.explanation));
        } else {
            sentence.push_str(&format!(" ({})", comparison.explanation));
        }
        sentence.push('.');
        sentences.push(sentence);
    }
    if sentences.is_empty() {
        // Every field Entra could have meant matches: most likely replication delay.
        if explanation.code == 70021 && compared == 3 {
            return Some(
                "The credential matches the token now; if it was created in the last few minutes, wait for replication and retry.".into(),
            );
        }
        return None;
    }
    Some(sentences.join(" "))
}

fn no_fics_fix(presented: &Presented, identities: &[Identity], cloud: &Cloud) -> Option<String> {
    let identity = identity_by_principal(identities, &presented.subject);
    let issuer = if presented.issuer.is_empty() {
        return identity.map(|i| {
            format!("Create a federated credential for {} with ficus' Managed Identity wizard: subject {}, audience {}.", i.name, i.principal_id, cloud.exchange_audience)
        });
    } else {
        presented.issuer.clone()
    };
    let who = identity
        .map(|i| format!(" for {}", i.name))
        .unwrap_or_default();
    let audience = presented
        .effective_audiences
        .first()
        .cloned()
        .unwrap_or_else(|| cloud.exchange_audience.clone());
    Some(format!(
        "Create a federated credential{who} on the app with issuer {issuer}, subject {}, audience {audience}.",
        presented.subject
    ))
}

fn utc(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

fn time_fix(jwt: &Jwt) -> Option<String> {
    let exp = jwt.time_claim("exp");
    let nbf = jwt.time_claim("nbf");
    let mut parts = Vec::new();
    if let Some(nbf) = nbf {
        parts.push(format!("is valid from {}", utc(nbf)));
    }
    if let Some(exp) = exp {
        parts.push(format!("expires at {}", utc(exp)));
    }
    if parts.is_empty() {
        return Some("The assertion carries no exp claim; get a fresh token from the managed identity endpoint.".into());
    }
    Some(format!(
        "The assertion {}. Compare with the current UTC time: get a fresh token right before the exchange, and fix the clock if it is off.",
        parts.join(" and ")
    ))
}

fn kind_fix(jwt: &Jwt) -> String {
    let kind = classify(jwt);
    match &kind {
        TokenKind::ManagedIdentity {
            user_assigned: false,
            ..
        } => "The assertion is a system-assigned identity's token; only user-assigned identities can be federated. Attach a user-assigned identity to the workload and request its token (pass its client id).".into(),
        TokenKind::ManagedIdentity { .. } => format!(
            "The assertion is a user-assigned identity's token, as it should be; check that it was requested for the exchange audience (its aud is {}).",
            jwt.audiences().join(", ")
        ),
        other => format!(
            "The assertion is a {}; present the user-assigned managed identity's own token, requested for the exchange audience.",
            other.label()
        ),
    }
}
