//! The live test exchange in the real binary in a pseudo-terminal (tmux, 120×60):
//! `ficus --sandbox`, the palette's `exchange payments-api id-payments` works end to end, and
//! `exchange inventory-sync id-inventory` fails with the subject named as the fault.

use crate::tmux_support;
use tmux_support::Tmux;

#[test]
fn sandbox_exchange_succeeds_for_payments_api_and_names_the_subject_for_inventory_sync() {
    let dirs = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_ficus");
    let script = format!(
        "env XDG_STATE_HOME={d}/state XDG_CONFIG_HOME={d}/config XDG_DATA_HOME={d}/data XDG_CACHE_HOME={d}/cache {binary} --sandbox; echo ficus-exit=$?; exec cat",
        d = dirs.path().display()
    );
    let tmux = Tmux::new(format!("ficus-x2e-{}", std::process::id()), "x2e");
    tmux.start(120, 60, &script);
    tmux.wait_for("payments-api");
    tmux.wait_for("Identities 5");

    // Success: both tokens decoded, signatures verified, the FIC that matched named.
    tmux.keys(&[":"]);
    tmux.text("exchange payments-api id-payments");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the sandbox's emulated host");
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("✓ WORKS");
    assert!(screen.contains("through FIC 'mi-id-payments'"), "{screen}");
    assert!(
        screen.contains("Managed identity token (the assertion)"),
        "{screen}"
    );
    assert!(screen.contains("App token"), "{screen}");
    assert!(
        screen.contains("✓ verified with the issuer's published key"),
        "{screen}"
    );
    assert!(
        screen.contains("(v reveals)"),
        "tokens are masked:\n{screen}"
    );

    // Failure: AADSTS700213, the subject at fault, the nearest FIC and the fix.
    tmux.keys(&["Escape"]);
    tmux.wait_for("/ to filter");
    tmux.keys(&[":"]);
    tmux.text("exchange inventory-sync id-inventory");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the sandbox's emulated host");
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("✗ FAILS");
    assert!(screen.contains("AADSTS700213"), "{screen}");
    assert!(screen.contains("At fault    ✗ the subject"), "{screen}");
    assert!(screen.contains("Nearest FIC mi-id-inventory"), "{screen}");
    assert!(
        screen.contains("F opens FIC 'mi-id-inventory' in the wizard with subject = "),
        "{screen}"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("ficus-exit=0");
}
