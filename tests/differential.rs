//! The differential test without Python: real Nova's recorded answers
//! (`tests/data/nova-recording.json`, re-recorded by
//! `contrib/differential/record.sh`) replayed against `metaconform serve
//! --dialect nova` spawned on loopback. Fails on any disagreement not in
//! `contrib/differential/known-divergences.yaml`, and on a listed one that
//! no longer occurs as listed.

mod common;

use std::path::Path;
use std::time::Duration;

use metaconform::differential::known;
use metaconform::differential::recording::{Recording, replay};
use metaconform::differential::scenario::Peer;
use metaconform::endpoint::http::Transport;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_mock_agrees_with_recorded_nova_but_for_the_listed_divergences() {
    let serve = common::spawn_serve(&["--dialect", "nova", "--servers", "4"]);
    let line = serde_json::to_string(&serve.info).unwrap();
    let peer = Peer::from_startup_line(&line).unwrap();
    let recording = Recording::load(&repo("tests/data/nova-recording.json")).unwrap();
    let listed = known::load(&repo("contrib/differential/known-divergences.yaml")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let transport = Transport::new(Duration::from_secs(30)).unwrap();
    let replayed = runtime
        .block_on(replay(&recording, &peer, &transport))
        .unwrap();
    let (_, summary) = known::summary(&replayed, &listed);
    println!("{summary}");
    let failures = known::failures(&replayed, &listed);
    assert!(
        failures.is_empty(),
        "{} scenario(s) disagree otherwise than listed:\n{}\n\n{summary}\nserve stderr:\n{}",
        failures.len(),
        failures.join("\n"),
        serve.stderr()
    );
}
