//! The kill -9 soak (issue 12): rounds of a child `ficus sandbox` on one state file, several
//! clients streaming FIC creates, `kill -9` mid-stream, a restart, and a check that every
//! create answered 201 in any round is still there. It reports requests, kills, acknowledged
//! writes, writes lost (must be 0), the sandbox's peak RSS and its slowest restart.
//!
//! `cargo test --test all soak` runs one short round (the machinery itself is tested in CI
//! time); `FICUS_SOAK=1 cargo test --test all soak -- --nocapture` runs the long soak
//! (`FICUS_SOAK_ROUNDS`, default 25, and `FICUS_SOAK_WRITERS`, default 6).

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sandbox_durability::{Sandbox, client, create_fic, ficus, sandbox_args};

/// FICs one writer creates on its app in a round, below Entra's 20 per app (a `large:N`
/// app may hold one already).
const CREATES_PER_WRITER: usize = 18;

struct Plan {
    rounds: usize,
    writers: usize,
}

impl Plan {
    fn from_env() -> Plan {
        let number = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        if std::env::var("FICUS_SOAK").is_ok_and(|v| v == "1") {
            Plan {
                rounds: number("FICUS_SOAK_ROUNDS", 25),
                writers: number("FICUS_SOAK_WRITERS", 6),
            }
        } else {
            Plan {
                rounds: 1,
                writers: 3,
            }
        }
    }

    /// After how many acknowledged creates round `round` is killed: varied over the rounds,
    /// never before the stream runs and never after it could have ended.
    fn kill_after(&self, round: usize) -> usize {
        let most = self.writers * CREATES_PER_WRITER;
        5 + (round * 37 + 11) % (most - 10)
    }
}

/// The peak resident set of a process so far (`VmHWM`), in KiB.
fn peak_rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[derive(Default)]
struct Figures {
    requests: AtomicU64,
    kills: u64,
    acknowledged: u64,
    lost: Vec<String>,
    peak_rss_kib: u64,
    slowest_start: Duration,
}

/// Starts the sandbox on `state` (a large seed, so every writer of every round has an app of
/// its own) and notes how long it took to answer.
fn start(state: &std::path::Path, apps_needed: usize, figures: &mut Figures) -> Sandbox {
    let mut command: Command = ficus();
    command
        .args(sandbox_args(state))
        .args(["--seed", &format!("large:{}", apps_needed + 10)]);
    let started = Instant::now();
    let sb = Sandbox::spawn(command);
    figures.slowest_start = figures.slowest_start.max(started.elapsed());
    sb
}

/// Every acknowledged create is present after the restart; the missing ones are recorded.
async fn verify(
    sb: &Sandbox,
    http: &reqwest::Client,
    token: &str,
    acknowledged: &BTreeMap<String, Vec<String>>,
    figures: &mut Figures,
) {
    for (app, names) in acknowledged {
        figures.requests.fetch_add(1, Ordering::Relaxed);
        let present = sb.fic_names(http, token, app).await;
        for name in names {
            if !present.contains(name) {
                figures.lost.push(format!("{app}/{name}"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_kill_9_rounds_lose_no_acknowledged_write() {
    let plan = Plan::from_env();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let apps_needed = plan.rounds * plan.writers;
    let mut figures = Figures::default();
    // App -> FIC names acknowledged (201) so far, over every round.
    let mut acknowledged: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut apps: Vec<String> = Vec::new();

    for round in 0..=plan.rounds {
        let sb = start(&state, apps_needed, &mut figures);
        let http = client();
        let token = sb.admin_token(&http).await;
        if apps.is_empty() {
            apps = sb.apps(&http, &token, apps_needed).await;
            assert_eq!(apps.len(), apps_needed, "the seed has an app per writer");
        }
        verify(&sb, &http, &token, &acknowledged, &mut figures).await;
        if round == plan.rounds {
            // The last restart only verifies, then stops cleanly.
            sb.signal("TERM");
            assert!(sb.wait().0.success(), "a clean stop after the soak");
            break;
        }

        let this_round = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let requests = Arc::new(AtomicU64::new(0));
        let mut writers = Vec::new();
        for w in 0..plan.writers {
            let app = apps[round * plan.writers + w].clone();
            let (http, token, authority) = (client(), token.clone(), sb.authority.clone());
            let (this_round, requests) = (this_round.clone(), requests.clone());
            writers.push(tokio::spawn(async move {
                for i in 0..CREATES_PER_WRITER {
                    let name = format!("soak-{round}-{w}-{i}");
                    requests.fetch_add(1, Ordering::Relaxed);
                    match create_fic(&http, &authority, &token, &app, &name).await {
                        Ok((201, _)) => this_round.lock().expect("lock").push((app.clone(), name)),
                        Ok((status, body)) => panic!("{name}: {status} {body}"),
                        Err(_) => return, // killed
                    }
                }
            }));
        }
        let kill_after = plan.kill_after(round);
        let deadline = Instant::now() + Duration::from_secs(60);
        while this_round.lock().expect("lock").len() < kill_after {
            assert!(Instant::now() < deadline, "round {round}: creates too slow");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if let Some(peak) = peak_rss_kib(&sb.pid()) {
            figures.peak_rss_kib = figures.peak_rss_kib.max(peak);
        }
        sb.signal("KILL");
        let (status, _) = sb.wait();
        assert!(!status.success(), "round {round}: killed");
        figures.kills += 1;
        for w in writers {
            w.await.expect("writer");
        }
        figures
            .requests
            .fetch_add(requests.load(Ordering::Relaxed), Ordering::Relaxed);
        for (app, name) in this_round.lock().expect("lock").drain(..) {
            figures.acknowledged += 1;
            acknowledged.entry(app).or_default().push(name);
        }
    }

    eprintln!(
        "soak: {} rounds x {} writers: {} requests (creates and verifying reads), {} kills, {} acknowledged writes, {} lost, \
         sandbox peak RSS {:.1} MiB, slowest start {} ms",
        plan.rounds,
        plan.writers,
        figures.requests.load(Ordering::Relaxed),
        figures.kills,
        figures.acknowledged,
        figures.lost.len(),
        figures.peak_rss_kib as f64 / 1024.0,
        figures.slowest_start.as_millis()
    );
    assert_eq!(figures.kills, plan.rounds as u64);
    assert!(
        figures.acknowledged >= (5 * plan.rounds) as u64,
        "every round acknowledged writes before its kill"
    );
    assert!(
        figures.lost.is_empty(),
        "acknowledged (201) before kill -9 and gone after the restart: {:?}",
        figures.lost
    );
    if cfg!(target_os = "linux") {
        assert!(figures.peak_rss_kib > 0, "the sandbox's peak RSS was read");
    }
}
