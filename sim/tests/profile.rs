// SPDX-License-Identifier: GPL-2.0-only
//! The profiler behind `--profile-report` and `--folded`, on the real rxen boot.
mod common;

use common::*;
use r82sim::machine::{Config, DtbChoice, Machine};

fn profiled() -> Machine {
    let mut m = Machine::new(Config::default()).unwrap();
    m.load_elf(&rxen(), DtbChoice::None).unwrap();
    m.enable_profiler();
    let o = m.run();
    assert_eq!(o.status, 0, "{:?}", o.reason);
    m
}

#[test]
fn the_report_attributes_every_instruction_and_is_deterministic() {
    let (a, b) = (profiled(), profiled());
    let report = a.profile_report().unwrap();
    assert_eq!(
        report,
        b.profile_report().unwrap(),
        "same image, same report"
    );
    assert_eq!(a.profile_folded(), b.profile_folded());
    // The total in the report is the run's instruction count.
    let total: u64 = report
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let mut again = Machine::new(Config::default()).unwrap();
    again.load_elf(&rxen(), DtbChoice::None).unwrap();
    assert_eq!(total, again.run().insns);
    // Functions are named (demangled), with call counts.
    let line = report
        .lines()
        .find(|l| l.ends_with(" free_init_memory"))
        .unwrap_or_else(|| panic!("free_init_memory in the report:\n{report}"));
    let calls: u64 = line.split_whitespace().nth(4).unwrap().parse().unwrap();
    assert_eq!(calls, 1);
    // Collapsed stacks: every line is "frame;frame;... count", rooted at the entry,
    // and the counts add up to the total.
    let folded = a.profile_folded().unwrap();
    let mut sum = 0;
    for l in folded.lines() {
        let (stack, n) = l.rsplit_once(' ').unwrap();
        assert!(stack.starts_with("_start"), "{l}");
        sum += n.parse::<u64>().unwrap();
    }
    assert_eq!(sum, total);
    assert!(folded.contains("_start;start_xen;"));
}
