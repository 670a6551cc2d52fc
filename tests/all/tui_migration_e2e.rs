//! The secretless migration to its end, in the real binary in a real pseudo-terminal (tmux,
//! 120×40, `ficus --sandbox` with its seeded sign-in history; no real waiting): billing-worker
//! gets a Managed Identity FIC through the wizard, the exchange proves it, App detail shows the
//! evidence (the FIC used, the secret quiet since it expired 35 days ago) and `X` removes the
//! secret on one `y`; payments-api's secret, used yesterday, is refused with its last use;
//! Failing workloads names inventory-sync's FIC at fault.

use std::time::Duration;

use crate::tmux_support;
use tmux_support::Tmux;

#[test]
fn the_migration_runs_to_the_secrets_removal() {
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    let script = format!(
        "env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache {binary} --sandbox; echo ficus-exit=$?; exec cat",
        d = dirs.path().display()
    );
    let mut tmux = Tmux::new(format!("ficus-migration-{}", std::process::id()), "mig");
    tmux.key_delay = Duration::from_millis(80);
    tmux.timeout = Duration::from_secs(40);
    tmux.start(120, 40, &script);
    tmux.wait_for("billing-worker");

    // The FIC, through the wizard.
    tmux.keys(&["/", "billing"]);
    tmux.wait_for("/ billing");
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("No FICs yet");
    tmux.keys(&["a"]);
    tmux.wait_for("Which user-assigned managed identity");
    tmux.keys(&["/", "id-payments", "Enter"]);
    tmux.wait_for("[2 Fields]");
    tmux.keys(&["Enter"]);
    tmux.wait_for("[3 Review]");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Created and read back");

    // The exchange proves it.
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("WORKS");
    assert!(screen.contains("billing-worker"), "{screen}");

    // The evidence: the FIC in use, the secret quiet.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Created and read back");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Federated credentials (1 of 20 allowed)");
    let screen = if screen.contains("1 in 30 d") {
        screen
    } else {
        tmux.wait_for("1 in 30 d")
    };
    assert!(
        screen.contains("sign-ins  used"),
        "the FIC in use:\n{screen}"
    );
    tmux.keys(&["Tab"]);
    tmux.wait_for("Secrets and certificates (1) ◀");
    let screen = tmux.screen();
    assert!(
        screen.contains("not used in 30 d"),
        "the secret quiet:\n{screen}"
    );

    // Its removal: the exact request, allowed on one y.
    tmux.keys(&["X"]);
    let screen = tmux.wait_for("Remove secret");
    assert!(screen.contains("/removePassword"), "{screen}");
    assert!(screen.contains("✓ Quiet"), "{screen}");
    assert!(screen.contains("cannot come back"), "{screen}");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("removed. It cannot come back");
    let screen = if screen.contains("Secrets and certificates (0)") {
        screen
    } else {
        tmux.wait_for("Secrets and certificates (0)")
    };
    assert!(screen.contains("None: this app has no secret"), "{screen}");

    // payments-api's secret, used yesterday beside its FIC: refused with its last use.
    tmux.keys(&["Escape", "Escape", "Escape"]);
    tmux.wait_for("/ to filter");
    tmux.keys(&["/", "payments"]);
    tmux.wait_for("/ payments");
    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for("mi-id-payments");
    tmux.keys(&["Tab"]);
    tmux.wait_for("Secrets and certificates (1) ◀");
    tmux.keys(&["X"]);
    let screen = tmux.wait_for("Refused: it was used");
    assert!(
        screen.contains("within the quiet period of 7 days"),
        "{screen}"
    );
    tmux.keys(&["n"]);
    tmux.wait_for("Not removed.");

    // Failing workloads: inventory-sync's FIC at fault.
    tmux.keys(&["Escape"]);
    tmux.wait_for("/ payments");
    tmux.keys(&["F"]);
    let screen = tmux.wait_for("inventory-sync has failed");
    assert!(screen.contains("AADSTS700213"), "{screen}");
    assert!(screen.contains("mi-id-inventory"), "{screen}");

    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
}
