// SPDX-License-Identifier: GPL-2.0-only
//! The demos as boot tests: the Rust guests of guests/ (built by `make guests`),
//! configured by scripts/imagebuilder.py from demo/*.cfg, booted by rxen in r82sim.
//! Asserts the exit status, the console contract of each guest and the EL2 MPU left
//! behind.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::rxen;
use r82sim::machine::{Config, DtbChoice, Machine, Outcome};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run imagebuilder on `cfg` and boot rxen with the result.
fn demo(cfg: &str) -> (Machine, Outcome, String) {
    demo_with(cfg, 200_000_000)
}

fn demo_with(cfg: &str, max_insns: u64) -> (Machine, Outcome, String) {
    for g in ["hello.bin", "attacker.bin", "spinner.bin", "mpu-guest.bin"] {
        let p = root().join("guests/build").join(g);
        assert!(
            p.exists(),
            "{} is missing: build the guests with `make guests`",
            p.display()
        );
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(cfg.replace('/', "_"));
    let r = Command::new("python3")
        .arg(root().join("scripts/imagebuilder.py"))
        .arg("-c")
        .arg(root().join(cfg))
        .arg("-o")
        .arg(&out)
        .arg("--json")
        .output()
        .expect("python3");
    assert!(
        r.status.success(),
        "imagebuilder: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let dtb = std::fs::read(plan["dtb"].as_str().unwrap()).unwrap();
    let mut m = Machine::new(Config {
        max_insns,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(&rxen(), DtbChoice::Blob(dtb)).unwrap();
    for d in plan["domains"].as_array().unwrap() {
        let k = std::fs::read(d["kernel"].as_str().unwrap()).unwrap();
        m.load_data(d["addr"].as_u64().unwrap(), &k).unwrap();
    }
    let o = m.run();
    let text = m.console_text().replace('\r', "");
    (m, o, text)
}

fn no_domain_region_enabled(m: &Machine) {
    let mpu = m.mpu();
    for i in 0..mpu.count() {
        let r = mpu.region(i);
        assert!(
            !(r.enabled() && r.el1_access()),
            "region {i} left enabled for EL1"
        );
    }
}

#[test]
fn demo_two_hello_domains_power_off() {
    let (m, o, out) = demo("demo/hello-hello.cfg");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    for d in ["d1", "d2"] {
        assert!(
            out.contains(&format!("({d}) hello: console_io: ok")),
            "{out}"
        );
        assert!(
            out.contains(&format!("({d}) hello: xen_version 4.20")),
            "{out}"
        );
        assert!(
            out.contains(&format!("({d}) hello: yield 3/3 -> 0")),
            "{out}"
        );
        assert!(out.contains(&format!("({d}) hello: powering off")), "{out}");
    }
    assert!(
        out.contains("(d1) hello: memory 0x20000000..0x21000000 (16384 KiB)"),
        "{out}"
    );
    assert!(
        out.contains("(d2) hello: memory 0x30000000..0x31000000 (16384 KiB)"),
        "{out}"
    );
    assert!(
        out.contains("all domains have ended; stopping with status 0"),
        "{out}"
    );
    no_domain_region_enabled(&m);
}

#[test]
fn demo_attacker_is_refused_everything_outside_its_memory_and_crashes_alone() {
    let (m, o, out) = demo("demo/hello-attacker.cfg");
    assert_eq!(o.status, 5, "{:?}\n{out}", o.reason);
    // Every attempt outside its own memory was refused; only executing its own
    // memory (stage 1 off, its RAM is its own) runs.
    assert!(
        out.contains("(d2) attacker: summary: 17 tries, 16 refused, 1 NOT refused, 0 skipped"),
        "{out}"
    );
    assert!(
        out.contains("NOT REFUSED: ran and returned 0x5a (own memory"),
        "{out}"
    );
    for refusal in [
        "console_io(write, 16, 0x0) = -EFAULT (-14)",
        "console_io(write, 16, 0x20000000) = -EFAULT (-14)",
        "hypercall 1000 = -ENOSYS (-38)",
    ] {
        assert!(out.contains(refusal), "{refusal}\n{out}");
    }
    assert!(
        out.contains("(XEN) WARNING: d2 domU1: write of 0x20000000 refused (stage 2)"),
        "{out}"
    );
    assert!(out.contains("domain d2 domU1: crashed"), "{out}");
    assert!(out.contains("domain d1 domU0: powered off"), "{out}");
    assert!(out.contains("(d1) hello: powering off"), "{out}");
    no_domain_region_enabled(&m);
}

#[test]
fn a_guest_spinning_with_interrupts_masked_does_not_starve_the_other() {
    // The spinner never ends: the run stops at the watchdog, after hello is done.
    let (_, o, out) = demo_with("demo/hello-spinner.cfg", 30_000_000);
    assert!(
        matches!(o.reason, r82sim::StopReason::Watchdog { .. }),
        "{:?}\n{out}",
        o.reason
    );
    assert!(
        out.contains("scheduler: round robin, 200 us slices"),
        "{out}"
    );
    assert!(
        out.contains("(d1) spinner: loaded at 0x20000000, DAIF=0x3c0"),
        "{out}"
    );
    assert!(out.contains("(d2) hello: powering off"), "{out}");
    assert!(out.contains("d2 domU1: powered off"), "{out}");
}

#[test]
fn a_guest_with_its_own_el1_mpu_handles_its_stage_1_faults_itself() {
    let (m, o, out) = demo("demo/mpu-guest.cfg");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    assert!(
        out.contains("(d1) mpu-guest: 2/2 stage-1 faults handled at EL1; powering off"),
        "{out}"
    );
    // rxen saw none of them: no stage-2 refusal, no crash report.
    assert!(!out.contains("refused (stage 2)"), "{out}");
    assert!(!out.contains("unhandled exception from the guest"), "{out}");
    // The guest's EL1 MPU regions were its own: the machine's EL1 MPU is as it left
    // them (region 1, the read-only guard page).
    let guard = m.el1_mpu().region(1);
    assert_eq!(guard.base(), 0x2001_8000, "{out}");
    assert!(guard.read_only());
}

#[test]
fn each_guest_s_el1_mpu_survives_switches_to_another_guest_s() {
    // Two mpu-guests with different regions (their memory is at 0x2000_0000 and
    // 0x3000_0000), each yielding 3 times between programming its EL1 MPU and its
    // faults. Were the EL1 MPU not switched with the vCPU, the first would resume with
    // the second's regions: its own code in no region, its checks failing.
    let (m, o, out) = demo("demo/mpu-pair.cfg");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    for d in ["d1", "d2"] {
        assert!(
            out.contains(&format!(
                "({d}) mpu-guest: after 3 yields, the EL1 MPU regions are as programmed"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "({d}) mpu-guest: 2/2 stage-1 faults handled at EL1; powering off"
            )),
            "{out}"
        );
    }
    assert!(!out.contains("WRONG"), "{out}");
    assert!(!out.contains("refused (stage 2)"), "{out}");
    // They overlapped: d2 turned its EL1 MPU on before d1 was done with its faults.
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} missing:\n{out}"));
    assert!(
        at("(d2) mpu-guest: EL1 MPU on") < at("(d1) mpu-guest: 2/2 stage-1 faults"),
        "{out}"
    );
    // The vCPU that powered off last ran last: the EL1 MPU holds its regions, with
    // its own guard page (read-only) in region 1. Which one that is depends on the
    // time slices (so on how long the boot took), not on what this test checks.
    let last_guard = if at("d2 domU1: powered off") > at("d1 domU0: powered off") {
        0x3001_8000
    } else {
        0x2001_8000
    };
    let guard = m.el1_mpu().region(1);
    assert_eq!(guard.base(), last_guard, "{out}");
    assert!(guard.read_only());
}
