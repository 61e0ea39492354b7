//! The fuzzer's concurrent steps end to end, with the real binary: mixed
//! concurrent writes on the fault-free embedded mock are explained by the
//! model (zero findings over several seeds), the `lost-update` fault is
//! reported as lost acknowledged writes with the writes and the map, and a
//! campaign against `serve --fault reset=0.2` runs its whole budget,
//! connecting afresh after each reset (its setup resends idempotent
//! requests: with this serve seed, the pre-flight's own reads are reset).

mod common;

use common::{Scratch, command, spawn_serve, text};

fn fuzz(args: &[&str]) -> (Option<i32>, String) {
    let out = command().arg("fuzz").args(args).output().expect("run fuzz");
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (out.status.code(), shown)
}

/// Seeds whose 40 sequences hold concurrent steps: each finds `lost-update`.
const SEEDS: [&str; 4] = ["1", "2", "3", "4"];

#[test]
fn concurrent_writes_on_the_fault_free_mock_give_no_finding() {
    for seed in SEEDS {
        for extra in [&[][..], &["--state-changes"][..]] {
            let mut args = vec!["--seed", seed, "--sequences", "40"];
            args.extend_from_slice(extra);
            let (code, out) = fuzz(&args);
            assert_eq!(code, Some(0), "seed {seed} {extra:?}: {out}");
            assert!(out.contains("findings: 0"), "seed {seed}: {out}");
        }
    }
}

#[test]
fn lost_update_is_reported_as_lost_acknowledged_writes() {
    for seed in SEEDS {
        let args = [
            "--seed",
            seed,
            "--sequences",
            "40",
            "--fault",
            "lost-update",
        ];
        let (code, out) = fuzz(&args);
        assert_eq!(code, Some(1), "seed {seed}: {out}");
        assert!(
            out.contains("finding: concurrent: lost-writes"),
            "seed {seed}: {out}"
        );
        assert!(
            out.contains("no order of the concurrent writes leaves the stored map"),
            "seed {seed}: {out}"
        );
        assert!(out.contains("acknowledged: "), "seed {seed}: {out}");
    }
}

#[test]
fn a_campaign_against_resets_runs_its_budget_on_fresh_connections() {
    let served = spawn_serve(&["--servers", "2", "--fault", "reset=0.2", "--seed", "3"]);
    let info = &served.info;
    let journal = Scratch::new("fuzz-reset");
    let mut args = vec![
        "--seed",
        "3",
        "--sequences",
        "20",
        "--endpoint",
        &info.endpoint,
        "--token",
        &info.token,
        "--journal-dir",
        journal.to_str().expect("utf-8 path"),
    ];
    for s in &info.servers {
        args.extend(["--server", s.as_str()]);
    }
    let (code, out) = fuzz(&args);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("20 sequence(s)"), "{out}");
    assert!(!out.contains("stopped early"), "{out}");
    // The resets are findings of the steps they hit.
    assert!(out.contains(": transport-error"), "{out}");
    assert!(
        out.contains("fresh connection(s) after transport errors"),
        "{out}"
    );
}
