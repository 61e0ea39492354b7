//! `run --subunit FILE` end to end: a faulted run against the embedded
//! server writes a subunit v2 stream that parses packet by packet, holds
//! every case of results.json once with a final status, and fails exactly
//! the cases that gate (`.ci/check-subunit.py` and `.ci/check-stestr.sh`
//! read the same kind of stream with python-subunit and stestr).

mod common;

use std::collections::BTreeMap;

use common::{Scratch, command, text};
use subunit::io::sync::iter_stream;
use subunit::types::stream::ScannedItem;
use subunit::types::teststatus::TestStatus;

#[test]
fn a_faulted_run_streams_every_case_with_the_gates_status() {
    let dir = Scratch::new("subunit");
    let out = command()
        .args(["run", "--area", "lengths", "--no-props"])
        .args(["--fault", "key-limit-off-by-one"])
        .arg("--json")
        .arg(dir.join("results.json"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--subunit")
        .arg(dir.join("run.subunit"))
        .output()
        .expect("run the binary");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let bytes = std::fs::read(dir.join("run.subunit")).expect("stream written");
    let mut finals: BTreeMap<String, Vec<TestStatus>> = BTreeMap::new();
    for item in iter_stream(bytes.as_slice()) {
        let ScannedItem::Event(event) = item.expect("every packet parses") else {
            panic!("bytes outside a packet");
        };
        let final_status = !matches!(event.status, TestStatus::InProgress | TestStatus::Undefined);
        if final_status {
            let id = event.test_id.clone().expect("a test id");
            finals.entry(id).or_default().push(event.status);
        }
    }

    let results = common::results(&dir);
    assert_eq!(finals.len(), results.cases.len());
    let mut failed_in_stream = 0;
    for case in &results.cases {
        let statuses = finals.get(&case.id).expect("every case in the stream");
        assert_eq!(statuses.len(), 1, "{}: {statuses:?}", case.id);
        let failed = statuses[0] == TestStatus::Failed;
        assert_eq!(failed, case.gates(), "{}: {statuses:?}", case.id);
        failed_in_stream += usize::from(failed);
    }
    assert!(failed_in_stream > 0, "the fault failed nothing");
}
