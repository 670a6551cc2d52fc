//! What the wizard offers on each step (and in its input modes), enabled or not and why: the
//! table its footer, `?` help and key dispatch read.

use super::state::{Step, Wizard};
use crate::component::{Command, Ctx};
use crate::keymap::{Action, Context};

pub(super) fn commands(wizard: &Wizard, ctx: &Ctx) -> Vec<Command> {
    if wizard.confirm_quit {
        return vec![
            Command::answer(Action::Confirm, "quit ficus"),
            Command::note("any key", "stay"),
        ];
    }
    if wizard.confirm_discard {
        return vec![
            Command::answer(Action::Confirm, "discard the values"),
            Command::note("any key", "stay"),
        ];
    }
    if wizard.editing {
        return vec![
            Command::typing(Action::Open, "done (keeps it)").with(Action::Back),
            Command::typing(Action::NextPane, "next field"),
        ];
    }
    if wizard.picker_editing {
        return vec![
            Command::typing(Action::Open, "choose"),
            Command::typing(Action::Back, "stop filtering"),
            Command::typing(Action::Up, "move").with(Action::Down),
        ];
    }
    let mut commands = Vec::new();
    match &wizard.step {
        Step::Pick(_) => {
            commands.push(Command::new(Action::Open, "choose"));
            commands.push(Command::new(Action::Filter, "filter"));
            commands.push(Command::new(Action::Down, "move").with(Action::Up));
            commands.push(Command::new(Action::Back, "back"));
        }
        Step::Loading | Step::Full => commands.push(Command::new(Action::Back, "back")),
        Step::AlreadyTrusted { .. } => {
            commands.push(Command::new(Action::TestExchange, "test it"));
            commands.push(Command::new(Action::EditFic, "change it"));
            commands.push(Command::new(Action::Back, "pick another"));
        }
        Step::Fields => {
            commands.push(Command::new(Action::EditField, "edit field"));
            commands.push(
                Command::new(Action::ApplyFix, "apply fix")
                    .disabled_unless(wizard.next_fix().is_some(), "no finding has a fix to apply"),
            );
            commands.push(
                Command::new(Action::AcknowledgeWarnings, "accept warnings").disabled_unless(
                    !wizard.warnings_acknowledged(),
                    "there are no warnings to accept",
                ),
            );
            commands.push(Command::new(Action::Open, "review"));
            commands.push(Command::new(Action::Down, "field").with(Action::Up));
            commands.push(Command::new(Action::Back, "back"));
        }
        Step::Review => {
            let label = if wizard.is_edit() { "save" } else { "create" };
            commands.push(Command::new(Action::Open, label).disabled_unless(
                !ctx.read_only(),
                format!(
                    "Saving is off (--read-only): {} copies a snippet to run elsewhere.",
                    ctx.key(Context::Wizard, Action::Copy)
                ),
            ));
            commands.push(Command::new(Action::Copy, "copy"));
            commands.push(Command::new(Action::NextPane, "format"));
            commands.push(Command::new(Action::Down, "scroll").with(Action::Up));
            commands.push(Command::new(Action::Back, "fields"));
        }
        Step::Saving { .. } => commands.push(Command::note("…", "waiting for Graph")),
        Step::Failed { .. } => {
            commands.push(Command::new(Action::Refresh, "retry"));
            commands.push(Command::new(Action::Back, "review"));
            commands.push(Command::new(Action::Copy, "copy request"));
        }
        Step::Done { .. } => {
            commands.push(Command::new(Action::TestExchange, "test exchange"));
            commands.push(Command::new(Action::WorkloadCode, "workload code"));
            commands.push(Command::new(Action::Open, "back to the app"));
            commands.push(Command::new(Action::Copy, "copy id"));
        }
    }
    commands.push(Command::new(Action::Help, "help"));
    commands
}
