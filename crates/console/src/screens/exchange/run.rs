//! One run of the exchange: starting it (with what it needs, or saying what is missing), the
//! steps and verdict as they arrive, and the retries after a replication delay.

use super::state::*;
use crate::component::ToastLevel;
use crate::error::DirectoryError;
use crate::keymap::{Action, Context};
use crate::model::IdentityKind;
use crate::msg::{Cmd, RequestId};
use crate::token_effects::*;
use ficus_core::text::sanitize;

pub(super) fn start_run(here: &mut Here, attempt: usize) -> Vec<Cmd> {
    let request = here.new_request();
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    let Some(app) = screen.app.clone() else {
        screen.focus = FormField::App;
        let choose = here.key(Context::Exchange, Action::Open);
        here.toast(
            ToastLevel::Warning,
            format!("Pick the app first: {choose} on App lists the app registrations."),
        );
        return Vec::new();
    };
    if screen.source_choice == SourceChoice::PasteOrFile && screen.pasted.is_none() {
        let (paste, file, switch) = (
            here.key(Context::Exchange, Action::PasteToken),
            here.key(Context::Exchange, Action::TokenFromFile),
            here.key(Context::Exchange, Action::TokenSource),
        );
        here.toast(
            ToastLevel::Warning,
            format!(
                "The token source is a pasted token or file: {paste} pastes one, {file} reads one from a file ({switch} switches the source)."
            ),
        );
        return Vec::new();
    }
    if screen.pasted.is_none() {
        match &screen.identity {
            None => {
                screen.focus = FormField::Identity;
                let (choose, paste) = (
                    here.key(Context::Exchange, Action::Open),
                    here.key(Context::Exchange, Action::PasteToken),
                );
                here.toast(
                    ToastLevel::Warning,
                    format!(
                        "Pick the managed identity ({choose} on Identity), or paste its token with {paste}."
                    ),
                );
                return Vec::new();
            }
            Some(identity) if identity.kind == IdentityKind::SystemAssigned => {
                here.toast(
                    ToastLevel::Warning,
                    "A system-assigned identity cannot be a FIC's subject; pick a user-assigned one.",
                );
                return Vec::new();
            }
            Some(_) => {}
        }
        if let SourceState::Unavailable(why) = &screen.source {
            let why = why.clone();
            let (paste, file, switch) = (
                here.key(Context::Exchange, Action::PasteToken),
                here.key(Context::Exchange, Action::TokenFromFile),
                here.key(Context::Exchange, Action::TokenSource),
            );
            here.toast(
                ToastLevel::Warning,
                format!(
                    "{why} — {switch} switches the source; {paste} pastes a token, {file} reads one from a file."
                ),
            );
            return Vec::new();
        }
    }
    if screen.scope.trim().is_empty() || screen.tenant.trim().is_empty() {
        let choose = here.key(Context::Exchange, Action::Open);
        here.toast(
            ToastLevel::Warning,
            format!(
                "The resource tenant and the scope cannot be empty; {choose} on them to choose."
            ),
        );
        return Vec::new();
    }
    let spec = ExchangeSpec {
        app_object_id: app.object_id.clone(),
        app_id: app.app_id.clone(),
        identity_client_id: screen.identity.as_ref().map(|i| i.client_id.clone()),
        identity_principal_id: screen.identity.as_ref().map(|i| i.principal_id.clone()),
        resource_tenant: screen.tenant.trim().to_string(),
        scope: screen.scope.trim().to_string(),
        pasted: screen.pasted.clone(),
        msi: screen.source_choice.msi(),
    };
    screen.run = Some(Run {
        request,
        attempt,
        steps: Vec::new(),
        result: None,
        remedies: Vec::new(),
        retry: None,
    });
    screen.scroll = 0;
    let scope = spec.scope.clone();
    here.out.remember_scope = Some(scope);
    vec![Cmd::Exchange(ExchangeCmd::Run {
        request,
        spec: Box::new(spec),
    })]
}

/// Answers from the effects runner.
pub fn on_msg(here: &mut Here, msg: ExchangeMsg) -> Vec<Cmd> {
    match msg {
        ExchangeMsg::SourceDetected { request, result } => {
            if let Some(screen) = top(here)
                && screen.source_request == request
            {
                screen.source = match result {
                    Ok(mut info) => {
                        info.label = sanitize(&info.label).into_owned();
                        info.endpoint = sanitize(&info.endpoint).into_owned();
                        SourceState::Found(info)
                    }
                    Err(why) => SourceState::Unavailable(sanitize(&why.message).into_owned()),
                };
            }
            Vec::new()
        }
        ExchangeMsg::TokenFileRead {
            request,
            label,
            result,
        } => {
            if let Some(screen) = top(here)
                && screen.file_request == request
            {
                match result {
                    Ok(token) => {
                        screen.pasted = Some(PastedToken {
                            label: sanitize(&label).into_owned(),
                            token,
                        });
                        screen.source_choice = SourceChoice::PasteOrFile;
                        // A new assertion: the previous run's steps are not its.
                        screen.run = None;
                        screen.scroll = 0;
                        let run = here.key(Context::Exchange, Action::RunExchange);
                        here.toast(
                            ToastLevel::Success,
                            format!(
                                "Token loaded; {run} runs the exchange with it as the assertion."
                            ),
                        );
                    }
                    Err(error) => {
                        let file = here.key(Context::Exchange, Action::TokenFromFile);
                        here.toast(
                            ToastLevel::Error,
                            format!("{} — press {file} to try another path", sanitize(&error)),
                        )
                    }
                }
            }
            Vec::new()
        }
        ExchangeMsg::Step { request, step } => {
            if let Some(run) = top(here).and_then(|s| s.run.as_mut())
                && run.request == request
            {
                run.steps.push(clean_step(step));
            }
            Vec::new()
        }
        ExchangeMsg::Finished { request, result } => finished(here, request, result),
        ExchangeMsg::RetryDue { request } => {
            let due = top(here)
                .and_then(|s| s.run.as_ref())
                .filter(|r| r.request == request)
                .and_then(|r| r.retry.as_ref())
                .map(|r| r.attempt);
            match due {
                Some(attempt) => start_run(here, attempt),
                None => Vec::new(),
            }
        }
        // The inspector's answers.
        ExchangeMsg::TokenVerified { .. } | ExchangeMsg::AppFicsLoaded { .. } => Vec::new(),
    }
}

pub(super) fn clean_step(mut step: StepView) -> StepView {
    step.name = sanitize(&step.name).into_owned();
    step.endpoint = sanitize(&step.endpoint).into_owned();
    step.outcome = match step.outcome {
        StepOutcome::Ok(s) => StepOutcome::Ok(sanitize(&s).into_owned()),
        StepOutcome::Failed(s) => StepOutcome::Failed(sanitize(&s).into_owned()),
        StepOutcome::Skipped(s) => StepOutcome::Skipped(sanitize(&s).into_owned()),
    };
    step
}

/// A refusal that is Entra's replication delay: AADSTS70021 while a FIC matches the token, or
/// right after one was created.
pub fn is_replication_delay(result: &ExchangeResult, just_created: bool) -> bool {
    let code = result.refusal.as_ref().and_then(|r| r.code);
    code == Some(70021)
        && (just_created
            || result
                .comparison
                .as_ref()
                .is_some_and(|c| c.matched.is_some()))
}

pub(super) fn finished(
    here: &mut Here,
    request: RequestId,
    result: Result<Box<ExchangeResult>, DirectoryError>,
) -> Vec<Cmd> {
    let now = here.now;
    let remedies = match &result {
        Ok(result) => super::remedy::remedies(here.ctx, here.screen.app.as_ref(), result),
        Err(_) => Vec::new(),
    };
    let Some(screen) = top(here) else {
        return Vec::new();
    };
    let just_created = screen.just_created;
    let Some(run) = screen.run.as_mut().filter(|r| r.request == request) else {
        return Vec::new();
    };
    let mut result = match result {
        Ok(result) => result,
        Err(error) => {
            let error = sanitize(&error.message).into_owned();
            run.result = Some(Box::new(ExchangeResult {
                source: String::new(),
                token_endpoint: String::new(),
                steps: run.steps.clone(),
                assertion: None,
                assertion_raw: None,
                app_token: None,
                app_token_raw: None,
                refusal: None,
                failure: Some(error),
                explanation: None,
                fics: Vec::new(),
                comparison: None,
                assertion_signature: Signature::NotChecked(String::new()),
                app_token_signature: Signature::NotChecked(String::new()),
            }));
            return Vec::new();
        }
    };
    sanitize_result(&mut result);
    run.steps = result.steps.clone();
    let retry = is_replication_delay(&result, just_created);
    run.result = Some(result);
    run.remedies = remedies;
    if retry && run.attempt <= RETRY_BACKOFF.len() {
        let seconds = RETRY_BACKOFF[run.attempt - 1];
        run.retry = Some(RetryPlan {
            due: now + time::Duration::seconds(seconds),
            attempt: run.attempt + 1,
        });
        return vec![Cmd::Exchange(ExchangeCmd::RetryAfter {
            request,
            seconds: seconds as u64,
        })];
    }
    Vec::new()
}

pub(super) fn sanitize_result(result: &mut ExchangeResult) {
    result.source = sanitize(&result.source).into_owned();
    result.token_endpoint = sanitize(&result.token_endpoint).into_owned();
    result.steps = std::mem::take(&mut result.steps)
        .into_iter()
        .map(clean_step)
        .collect();
    if let Some(refusal) = &mut result.refusal {
        refusal.error = sanitize(&refusal.error).into_owned();
        refusal.message = sanitize(&refusal.message).into_owned();
    }
    if let Some(failure) = &mut result.failure {
        *failure = sanitize(failure).into_owned();
    }
    if let Some(explanation) = &mut result.explanation {
        explanation.summary = sanitize(&explanation.summary).into_owned();
        explanation.fix = explanation.fix.as_deref().map(|f| sanitize(f).into_owned());
    }
}
