//! The port against the original implementation's reference outputs, from the checkpoint in
//! `../shared/networks/efficientat-mn04/` (converted by the project's own Python tool).

use std::process::Command;

use super::parity::{self, Tolerance};
use super::*;

#[test]
fn the_port_matches_the_original_front_end_and_network() {
    let dir = network_dir();
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tools/efficientat/export_weights.py"
        ))
        .arg(dir.join("mn04_as_mAP_432.pt"))
        .arg(out.path())
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let weights = Weights::load(out.path()).unwrap();
    // 983 599 trained parameters (the network's published count) and the batch norms'
    // 9 840 running statistics.
    assert_eq!(weights.parameters(), 983_599 + 9_840);
    let report = parity::check(&weights, &dir.join("reference")).unwrap();
    println!("{report}");
    assert_eq!(report.clips, 4);
    report.ensure_within(Tolerance::default()).unwrap();
}

#[test]
fn class_names_follow_the_output_order() {
    let names = class_names(&network_dir()).unwrap();
    assert_eq!(names[0], "Speech");
    assert_eq!(names[137], "Music");
    assert!(names.iter().any(|n| n == "Drum and bass"));
}
