// SPDX-License-Identifier: GPL-2.0-only
//! rxen runs dom0less guests: boot tests with small guests from sim/tests/guests,
//! configured with Xen's bindings, checked on the console, the exit status and the
//! EL2 MPU left behind.
mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use r82sim::machine::{Config, DtbChoice, Machine, Outcome};

/// Assemble a guest (position independent) into a raw binary.
fn guest(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests");
    // One directory per test thread: tests run in parallel and build the same guests.
    let thread =
        format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), "");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("guests")
        .join(thread);
    std::fs::create_dir_all(&out).unwrap();
    let rs = out.join(format!("{name}.rs"));
    let elf = out.join(name);
    common::link_asm(&dir.join(format!("{name}.S")), &rs, &elf);
    let bin = out.join(format!("{name}.bin"));
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = String::from_utf8(sysroot.stdout).unwrap();
    let host = Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8(host.stdout).unwrap();
    let host = host
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap()
        .to_string();
    let objcopy = Path::new(sysroot.trim()).join(format!("lib/rustlib/{host}/bin/llvm-objcopy"));
    let ok = Command::new(objcopy)
        .args(["-O", "binary", "--only-section=.text"])
        .arg(&elf)
        .arg(&bin)
        .status()
        .unwrap()
        .success();
    assert!(ok, "objcopy of guest {name}");
    std::fs::read(bin).unwrap()
}

/// One domU node: 16 MiB of static memory at `base`, the kernel at its start.
fn domu(n: usize, base: u64, kernel_size: usize, extra: &str) -> String {
    format!(
        r#"
        domU{n} {{
            compatible = "xen,domain";
            #address-cells = <2>;
            #size-cells = <1>;
            memory = <0 0x4000>;
            cpus = <1>;
            vpl011;
            direct-map;
            v8r_el1_msa = "mpu";
            #xen,static-mem-address-cells = <1>;
            #xen,static-mem-size-cells = <1>;
            xen,static-mem = <{base:#x} 0x1000000>;
            {extra}
            module@{base:x} {{
                compatible = "multiboot,kernel", "multiboot,module";
                reg = <0 {base:#x} {kernel_size:#x}>;
                bootargs = "guest {n}";
            }};
        }};"#
    )
}

fn tree(domains: &str) -> Vec<u8> {
    tree_with(domains, "", "")
}

/// The FVP's GICv3 and architected timer (rxen then preempts on its EL2 timer), and
/// rxen's command line.
fn tree_with_interrupts(domains: &str, xen_bootargs: &str) -> Vec<u8> {
    tree_with(
        domains,
        r#"interrupt-controller@af000000 {
        compatible = "arm,gic-v3";
        #interrupt-cells = <3>;
        interrupt-controller;
        reg = <0 0xaf000000 0 0x10000>, <0 0xaf100000 0 0x200000>;
    };
    timer {
        compatible = "arm,armv8-timer";
        interrupts = <1 13 0xf08>, <1 14 0xf08>, <1 11 0xf08>, <1 10 0xf08>;
    };"#,
        &format!("xen,xen-bootargs = \"{xen_bootargs}\";"),
    )
}

fn tree_with(domains: &str, devices: &str, chosen: &str) -> Vec<u8> {
    let dts = format!(
        r#"/dts-v1/;
/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    memory@0 {{ device_type = "memory"; reg = <0 0 0 0x80000000>; }};
    uart@9c090000 {{ compatible = "arm,pl011", "arm,primecell"; reg = <0 0x9c090000 0 0x1000>; }};
    {devices}
    chosen {{
        stdout-path = "/uart@9c090000";
        xen,static-heap = <0 0x10000000 0 0x1000000>;
        {chosen}
        {domains}
    }};
}};
"#
    );
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "domains-{}.dts",
        format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), "")
    ));
    std::fs::write(&out, dts).unwrap();
    let r = Command::new("dtc")
        .args(["-I", "dts", "-O", "dtb"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        r.status.success(),
        "dtc: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    r.stdout
}

fn boot(dtb: Vec<u8>, kernels: &[(u64, &[u8])]) -> (Machine, Outcome) {
    let mut m = Machine::new(Config {
        max_insns: 50_000_000,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(&rxen(), DtbChoice::Blob(dtb)).unwrap();
    for (addr, k) in kernels {
        m.load_data(*addr, k).unwrap();
    }
    let o = m.run();
    (m, o)
}

#[test]
fn two_guests_print_with_their_prefix_and_power_off() {
    let g = guest("tiny");
    let dtb = tree(&(domu(1, 0x2000_0000, g.len(), "") + &domu(2, 0x3000_0000, g.len(), "")));
    let (m, o) = boot(dtb, &[(0x2000_0000, &g), (0x3000_0000, &g)]);
    let out = m.console_text().replace('\r', "");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    for d in ["(d1)", "(d2)"] {
        assert!(
            out.contains(&format!("{d} hello through the vpl011\n")),
            "{out}"
        );
        assert!(
            out.contains(&format!("{d} hello through console_io\n")),
            "{out}"
        );
        assert!(out.contains(&format!("{d} hypercalls ok\n")), "{out}");
    }
    assert!(out.contains("domain d1 domU1: powered off"), "{out}");
    assert!(out.contains("domain d2 domU2: powered off"), "{out}");
    // The guests took turns: d2 printed before d1 was done (yield switches).
    let first_d2 = out.find("(d2)").unwrap();
    let last_d1 = out.rfind("(d1)").unwrap();
    assert!(first_d2 < last_d1, "yield switched domains:\n{out}");
    // At the end no domain region is enabled and every enabled region is EL2-only.
    let mpu = m.mpu();
    for i in 0..mpu.count() {
        let r = mpu.region(i);
        if r.enabled() {
            assert!(
                !r.el1_access(),
                "region {i} still gives EL1 access at the end"
            );
        }
    }
}

#[test]
fn a_hostile_guest_is_refused_contained_and_crashed_while_the_other_powers_off() {
    let hello = guest("tiny");
    let attack = guest("attack");
    let dtb =
        tree(&(domu(1, 0x2000_0000, hello.len(), "") + &domu(2, 0x3000_0000, attack.len(), "")));
    let (m, o) = boot(dtb, &[(0x2000_0000, &hello), (0x3000_0000, &attack)]);
    let out = m.console_text().replace('\r', "");
    assert_eq!(o.status, 5, "a domain crashed: status 5\n{out}");
    // The SMC became an undefined instruction in the guest (EC 0x00), which it caught.
    assert!(out.contains("(d2) caught EC 00\n"), "{out}");
    // Buffers in rxen and in d1 were refused without printing them.
    assert_eq!(
        out.matches("(d2) console_io: -EFAULT\n").count(),
        2,
        "{out}"
    );
    assert!(out.contains("(d2) unknown hypercall: -ENOSYS\n"), "{out}");
    // The read of rxen's text was refused by stage 2 and came back as an external
    // abort (EC 0x25, as Xen injects it), which the guest caught.
    assert!(out.contains("(d2) caught EC 25\n"), "{out}");
    assert!(
        out.contains("WARNING: d2 domU2: read of 0x100 refused (stage 2)"),
        "{out}"
    );
    // The jump into rxen's text was a stage-2 instruction abort: d2 crashed with a
    // report naming the address, and never ran again.
    assert!(out.contains("(d2) jumping into rxen's text"), "{out}");
    assert!(
        out.contains("d2 domU2: unhandled exception from the guest"),
        "{out}"
    );
    assert!(out.contains("instruction abort"), "{out}");
    assert!(out.contains("FAR 0x100 "), "{out}");
    assert!(!out.contains("SURVIVED"), "{out}");
    assert!(!out.contains("WRONG RESULT"), "{out}");
    assert!(out.contains("domain d2 domU2: crashed"), "{out}");
    assert!(out.contains("(d1) hypercalls ok"), "{out}");
    assert!(out.contains("domain d1 domU1: powered off"), "{out}");
}

/// Two copies of the `regs` guest at different addresses, so their registers hold
/// different values, with the EL2 timer preempting every 100 us: each checks that its
/// registers, SP_EL1 and flags come back intact after SCHEDOP_yield, SCHEDOP_block, a
/// trapped WFI (block) and WFE (yield) and preemption in a long loop. With both
/// blocked at once, rxen idles in WFI until the next tick (its level-sensitive
/// interrupt must be re-armed there, or the idle loop never ends).
#[test]
fn every_register_survives_yield_block_wfi_wfe_and_preemption() {
    let g = guest("regs");
    let dtb = tree_with_interrupts(
        &(domu(1, 0x2000_0000, g.len(), "") + &domu(2, 0x3000_0000, g.len(), "")),
        "rxen.sched_slice_us=100",
    );
    let (m, o) = boot(dtb, &[(0x2000_0000, &g), (0x3000_0000, &g)]);
    let out = m.console_text().replace('\r', "");
    assert_eq!(o.status, 0, "{:?}\n{out}", o.reason);
    assert!(!out.contains("REGS BAD"), "{out}");
    for d in ["(d1)", "(d2)"] {
        assert!(
            out.contains(&format!(
                "{d} regs ok across yield, block, wfi, wfe, preemption\n"
            )),
            "{out}"
        );
    }
    assert!(out.contains("domain d1 domU1: powered off"), "{out}");
    assert!(out.contains("domain d2 domU2: powered off"), "{out}");
    // The loop ran long enough to be preempted: the scheduler was the timer's.
    assert!(
        out.contains("scheduler: round robin, 100 us slices"),
        "{out}"
    );
}
