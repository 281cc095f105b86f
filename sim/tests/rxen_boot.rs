// SPDX-License-Identifier: GPL-2.0-only
//! Boot tests of the rxen image in r82sim: the image boots to a clean exit, the final
//! EL2 MPU map is the one free_init_memory must leave, and every self-check ends in
//! exactly its abort. The image comes from $RXEN_IMAGE (`make test` sets it) or
//! build/rxen.
mod common;

use common::rxen;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use r82sim::machine::{Config, DebugStop, DtbChoice, Machine, Outcome};
use r82sim::{dtb, exit_status, RegisterARM64, StopReason};

/// r82sim's generated tree with rxen's command line in /chosen/xen,xen-bootargs.
fn platform_dtb(bootargs: &str) -> Vec<u8> {
    platform_dtb_with_heap(bootargs, r82sim::machine::DEFAULT_STATIC_HEAP)
}

/// `platform_dtb` with the static heap (base, size) elsewhere.
fn platform_dtb_with_heap(bootargs: &str, static_heap: (u64, u64)) -> Vec<u8> {
    dtb::generate(&dtb::Platform {
        dram_base: 0,
        dram_size: 0x8000_0000,
        static_heap: Some(static_heap),
        bootargs: String::new(),
        xen_bootargs: bootargs.into(),
    })
    .unwrap()
}

/// A machine with rxen and `dtb` loaded, not started.
fn loaded(cfg: Config, dtb: DtbChoice) -> Machine {
    let mut m = Machine::new(Config {
        max_insns: 200_000_000,
        ..cfg
    })
    .unwrap();
    m.load_elf(&rxen(), dtb).unwrap();
    m
}

fn boot_with(cfg: Config, dtb: DtbChoice) -> (Machine, Outcome) {
    let mut m = loaded(cfg, dtb);
    let o = m.run();
    (m, o)
}

fn boot(bootargs: &str) -> (Machine, Outcome) {
    boot_with(Config::default(), DtbChoice::Blob(platform_dtb(bootargs)))
}

/// The regions enabled at the end: (base, last byte, PRBAR low bits, AttrIndx).
fn enabled_regions(m: &Machine) -> Vec<(u64, u64, u64, u8)> {
    let mpu = m.mpu();
    (0..mpu.count())
        .map(|i| mpu.region(i))
        .filter(|r| r.enabled())
        .map(|r| (r.base(), r.limit(), r.prbar & 0x3f, r.attr_index()))
        .collect()
}

#[test]
fn boots_to_a_clean_exit_and_frees_init_memory() {
    let mut m = loaded(Config::default(), DtbChoice::Blob(platform_dtb("")));
    let s = |m: &Machine, n: &str| m.symbol(n).unwrap_or_else(|| panic!("symbol {n}"));
    // Stop where free_init_memory hands the init memory to the heap: it must be zeroed
    // by then (nothing of setup's code or data is left), and already inside the joined
    // data + init + bss region, before the heap writes its first block header there.
    let handover = s(&m, "heap_add_freed");
    m.set_breakpoint(handover, false).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    match m.run_until(&flag) {
        DebugStop::Breakpoint { addr, .. } => assert_eq!(addr, handover),
        other => panic!("{other:?}\n{}", m.console_text()),
    }
    let (init_begin, freed) = (
        s(&m, "__init_begin"),
        s(&m, "__init_end") - s(&m, "__init_begin"),
    );
    let init = m
        .read_mem(init_begin, freed as usize)
        .expect("init memory is RAM");
    let left = init.iter().position(|&b| b != 0);
    assert_eq!(
        left.map(|i| init_begin + i as u64),
        None,
        "init memory not zeroed"
    );
    assert!(
        enabled_regions(&m).contains(&(s(&m, "_sdata"), s(&m, "__bss_end") - 1, 0x32, 3)),
        "{:x?}",
        enabled_regions(&m)
    );
    assert!(m.clear_breakpoint(handover, false));
    let o = match m.run_until(&flag) {
        DebugStop::Ended(o) => o,
        other => panic!("{other:?}\n{}", m.console_text()),
    };
    let s = |n: &str| s(&m, n);
    let out = m.console_text();
    assert_eq!(
        o.reason,
        StopReason::Exit {
            status: 0,
            reason: 0x20026
        },
        "{out}"
    );
    assert!(
        out.contains("rxen v0.1.0 for Armv8-R AArch64 (EL2 MPU, 16 regions, 40-bit PA)"),
        "{out}"
    );
    assert!(
        out.contains("boot head mapped 6 EL2 MPU regions of 16"),
        "{out}"
    );
    assert!(
        out.contains("MPU before freeing init memory")
            && out.contains("MPU after freeing init memory")
    );
    assert!(out.contains("setup done"), "{out}");

    let regions = enabled_regions(&m);
    // Data, the freed init memory (the heap's now) and bss are one region: RW, XN,
    // normal memory. Nothing else covers any of it.
    assert!(
        regions.contains(&(s("_sdata"), s("__bss_end") - 1, 0x32, 3)),
        "{regions:x?}"
    );
    for (b, l, _, _) in &regions {
        assert!(
            (*b, *l) == (s("_sdata"), s("__bss_end") - 1)
                || *l < s("_sdata")
                || *b >= s("__bss_end"),
            "region [{b:#x}..{l:#x}] overlaps the data + init + bss region"
        );
    }
    // The heap took it: its bank starts with one free hole of the whole size
    // (linked_list_allocator keeps a hole's size in its first word).
    assert_eq!(
        m.read_mem(init_begin, 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap())),
        Some(freed),
        "the freed init memory is not a heap bank"
    );
    assert!(
        out.contains(&format!(
            "freed {freed} bytes ({} KiB) of init memory into the heap",
            freed / 1024
        )),
        "{out}"
    );
    // Text is RO and executable, rodata RO XN, UART device RW XN.
    assert!(
        regions.contains(&(s("_stext"), s("_etext") - 1, 0x38, 3)),
        "{regions:x?}"
    );
    assert!(
        regions.contains(&(s("_srodata"), s("_erodata") - 1, 0x3a, 3)),
        "{regions:x?}"
    );
    assert!(
        regions.contains(&(0x9c09_0000, 0x9c09_0fff, 0x02, 0)),
        "{regions:x?}"
    );
    // The static heap is mapped RW XN.
    assert!(
        regions.contains(&(0x1000_0000, 0x10ff_ffff, 0x32, 3)),
        "{regions:x?}"
    );
    // MPU on, caches on, WXN, no background region.
    let sctlr = m.sysreg(3, 4, 1, 0, 0);
    assert_eq!(
        sctlr & ((1 << 0) | (1 << 2) | (1 << 12) | (1 << 19) | (1 << 17)),
        (1 << 0) | (1 << 2) | (1 << 12) | (1 << 19)
    );
}

#[test]
fn the_device_tree_is_unmapped_once_setup_is_done() {
    let (m, o) = boot("");
    let out = m.console_text();
    assert_eq!(o.status, 0, "{out}");
    let regions = enabled_regions(&m);
    // Text, rodata, data + init + bss (one region since free_init_memory), UART and
    // heap, plus one region for the GIC (its distributor at 0xaf000000 and
    // redistributors up to 0xaf300000, nothing else between them): the tree's region
    // is gone. Six in all, as issue 12 asks.
    assert_eq!(regions.len(), 6, "{regions:x?}");
    let gic: Vec<_> = regions.iter().filter(|r| r.0 >= 0xaf00_0000).collect();
    assert_eq!(gic.len(), 1, "{regions:x?}");
    assert_eq!(
        (gic[0].0, gic[0].1),
        (0xaf00_0000, 0xaf2f_ffff),
        "{regions:x?}"
    );
    let dtb = r82sim::machine::DTB_ADDR;
    assert!(
        regions.iter().all(|&(b, l, _, _)| dtb < b || dtb > l),
        "a region still covers the device tree at {dtb:#x}: {regions:x?}"
    );
}

#[test]
fn the_log_level_applies_from_the_first_line() {
    let (m, o) = boot("rxen.loglevel=warn");
    let out = m.console_text();
    assert_eq!(o.status, 0, "{out}");
    // Nothing at info level, not even what was logged before the command line was read.
    assert!(!out.contains("(XEN) rxen v"), "{out}");
    assert!(!out.contains("boot head mapped"), "{out}");
    assert!(!out.contains("setup done"), "{out}");
    // A command line refused before the level is known: the held lines come out at the
    // default level, before the error.
    let (m, o) = boot("rxen.loglevel=loud");
    let out = m.console_text().replace('\r', "");
    assert_eq!(o.status, 1, "{out}");
    // In the order logged, each with its values: the exact text is the point here,
    // as these lines are held as values and formatted only on release.
    let at = |s: &str| {
        out.find(s)
            .unwrap_or_else(|| panic!("{s:?} missing:\n{out}"))
    };
    let banner = at("(XEN) rxen v0.1.0 for Armv8-R AArch64 (EL2 MPU, 16 regions, 40-bit PA)\n");
    let head = at("(XEN) boot head mapped 6 EL2 MPU regions of 16\n");
    let dtb = at("(XEN) device tree: ");
    assert!(
        out[dtb..].starts_with(&format!(
            "(XEN) device tree: {} bytes at 0x7f000000\n",
            u32::from_be_bytes(m.read_mem(0x7f00_0004, 4).unwrap().try_into().unwrap())
        )),
        "{out}"
    );
    let error = at("(XEN) ERROR: bootargs: bootargs: unknown log level \"loud\"");
    assert!(banner < head && head < dtb && dtb < error, "{out}");
}

#[test]
fn boot_is_deterministic() {
    let (a, oa) = boot("");
    let (b, ob) = boot("");
    assert_eq!(oa.insns, ob.insns);
    assert_eq!(a.console_text(), b.console_text());
}

#[test]
fn boot_follows_the_architecture_strictly() {
    let (m, o) = boot_with(
        Config {
            strict: true,
            ..Config::default()
        },
        DtbChoice::Blob(platform_dtb("")),
    );
    assert_eq!(o.status, 0, "{}", m.console_text());
    assert!(m.strict_warnings().is_empty(), "{:#?}", m.strict_warnings());
}

#[test]
fn every_selftest_ends_in_exactly_its_abort() {
    // (name, EC, fault status class, write, symbol the fault address must be)
    let cases = [
        // Freed init text is heap memory: mapped, execute-never.
        ("exec-init", 0x21, 0x0c, false, "__init_begin"),
        ("write-text", 0x25, 0x0c, true, "_stext"),
        ("read-past-image", 0x25, 0x04, false, "_end"),
        ("write-rodata", 0x25, 0x0c, true, "_srodata"),
        ("exec-data", 0x21, 0x0c, false, "_sdata"),
    ];
    for (name, ec, fsc, write, sym) in cases {
        let (m, o) = boot(&format!("rxen.selftest={name}"));
        let out = m.console_text();
        assert_eq!(o.status, 0, "{name}: {out}");
        assert!(
            out.contains(&format!("selftest {name}: got the expected abort")),
            "{name}: {out}"
        );
        let esr = m.reg(RegisterARM64::ESR_EL2);
        assert_eq!((esr >> 26) & 0x3f, ec, "{name}: ESR {esr:#x}");
        assert_eq!(esr & 0x3c, fsc, "{name}: ESR {esr:#x}");
        if ec == 0x25 {
            assert_eq!(esr & (1 << 6) != 0, write, "{name}: WnR");
        }
        assert_eq!(
            m.reg(RegisterARM64::FAR_EL2),
            m.symbol(sym).unwrap(),
            "{name}: FAR"
        );
    }
}

#[test]
fn read_past_image_refuses_a_platform_that_maps_what_follows_the_image() {
    // A static heap bank right after the image: `_end` is mapped, so the self-check
    // cannot expect a translation fault there and must say why it fails.
    let probe = loaded(Config::default(), DtbChoice::Blob(platform_dtb("")));
    let end = probe.symbol("_end").unwrap();
    let blob = platform_dtb_with_heap("rxen.selftest=read-past-image", (end, 0x10_0000));
    let (m, o) = boot_with(Config::default(), DtbChoice::Blob(blob));
    let out = m.console_text();
    assert_eq!(o.status, 4, "{out}");
    assert!(
        out.contains(&format!(
            "selftest read-past-image: {end:#x} is mapped on this platform (EL2 MPU region"
        )),
        "{out}"
    );
    assert!(!out.contains("expecting a data abort"), "{out}");
}

#[test]
fn unknown_selftest_is_refused_with_status_1() {
    let (m, o) = boot("rxen.selftest=nonsense");
    assert_eq!(o.status, 1);
    assert!(
        m.console_text()
            .contains("bootargs: unknown self-test \"nonsense\""),
        "{}",
        m.console_text()
    );
}

#[test]
fn x0_zero_boots_with_the_built_in_device_tree() {
    let (m, o) = boot_with(Config::default(), DtbChoice::None);
    let out = m.console_text();
    assert_eq!(o.status, 0, "{out}");
    assert!(
        out.contains("x0 is 0, using the built-in FVP BaseR tree"),
        "{out}"
    );
    assert!(out.contains("heap: [0x10000000, 0x11000000)"), "{out}");
}

#[test]
fn other_mpu_sizes_boot_and_too_few_regions_stop_in_the_head() {
    // 12 regions: the boot head's 6, the device tree, the GIC's distributor and
    // redistributors, the heap, with room to spare.
    let (m, o) = boot_with(
        Config {
            mpu_regions: 12,
            ..Config::default()
        },
        DtbChoice::Blob(platform_dtb("")),
    );
    assert_eq!(o.status, 0, "{}", m.console_text());
    assert!(m.console_text().contains("(EL2 MPU, 12 regions"));
    // 8 regions cannot hold them: a named error, status 1.
    let (m, o) = boot_with(
        Config {
            mpu_regions: 8,
            ..Config::default()
        },
        DtbChoice::Blob(platform_dtb("")),
    );
    assert_eq!(o.status, 1, "{}", m.console_text());
    assert!(
        m.console_text().contains("all 8 MPU regions are in use"),
        "{}",
        m.console_text()
    );
    let (m, o) = boot_with(
        Config {
            mpu_regions: 255,
            ..Config::default()
        },
        DtbChoice::Blob(platform_dtb("")),
    );
    assert_eq!(o.status, 0, "{}", m.console_text());

    let (m, o) = boot_with(
        Config {
            mpu_regions: 5,
            ..Config::default()
        },
        DtbChoice::Blob(platform_dtb("")),
    );
    // The head says so and, semihosting being available, stops with status 1.
    assert!(
        matches!(
            o.reason,
            StopReason::Exit {
                reason: 0x20026,
                status: 1
            }
        ),
        "{:?}\n{}",
        o.reason,
        m.console_text()
    );
    assert_eq!(o.status, 1);
    assert!(
        m.console_text()
            .contains("too few regions for the boot map"),
        "{}",
        m.console_text()
    );
}

#[test]
fn profile_counts_are_deterministic_and_ordered() {
    let names: Vec<String> = ["_start", "start_xen", "free_init_memory"]
        .map(String::from)
        .to_vec();
    let run = || {
        let mut m = loaded(Config::default(), DtbChoice::Blob(platform_dtb("")));
        m.profile(&names).unwrap();
        let o = m.run();
        (m.profile_counts(), o.insns)
    };
    let (a, ta) = run();
    let (b, tb) = run();
    assert_eq!((a.clone(), ta), (b, tb));
    let counts: Vec<u64> = a
        .iter()
        .map(|(_, c)| c.expect("every symbol is entered"))
        .collect();
    assert_eq!(counts[0], 0);
    assert!(
        counts[0] < counts[1] && counts[1] < counts[2] && counts[2] < ta,
        "{counts:?} {ta}"
    );
}

#[test]
fn command_line_passes_status_writes_uart_state_and_profile() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let (uart, state) = (dir.join("uart.txt"), dir.join("state.json"));
    let tree = dir.join("nonsense.dtb");
    std::fs::write(&tree, platform_dtb("rxen.selftest=nonsense")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_r82sim"))
        .arg(common::rxen_path())
        .arg("--dtb")
        .arg(&tree)
        .args(["--profile", "_start,start_xen"])
        .arg("--uart")
        .arg(&uart)
        .arg("--dump-state")
        .arg(&state)
        .output()
        .unwrap();
    // The image's semihosting status is the process's, and its own exit prints no reason.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("profile: start_xen"), "{stderr}");
    assert!(!stderr.contains("r82sim: simulator error"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "--uart sends the console to the file"
    );
    let console = std::fs::read_to_string(&uart).unwrap();
    assert!(
        console.contains("unknown self-test \"nonsense\""),
        "{console}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(json["exit_status"], 1);
    assert_eq!(json["mpu"]["implemented"], 16);
    let text = &json["mpu"]["regions"][0];
    assert_eq!(
        (
            text["enabled"].as_bool(),
            text["base"].as_str(),
            text["read_only"].as_bool()
        ),
        (Some(true), Some("0x0"), Some(true))
    );

    // A stop that is not the image's own says why on stderr, with its own status.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_r82sim"))
        .arg(common::rxen_path())
        .args(["--max-insns", "1000", "--uart", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit_status::WATCHDOG));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("r82sim: watchdog: ") && stderr.contains("(--max-insns)"),
        "{stderr}"
    );
}

#[test]
fn a_core_started_below_el2_reports_it_and_stops() {
    let (m, o) = boot_with(
        Config {
            reset_el: 1,
            ..Config::default()
        },
        DtbChoice::Blob(platform_dtb("")),
    );
    assert_eq!(
        m.console_text(),
        "rxen: entered at EL1, not EL2: stopping\r\n"
    );
    assert_eq!(
        o.reason,
        StopReason::Parked {
            pc: m.symbol("park").unwrap()
        }
    );
}

#[test]
fn secondary_cores_wait_in_the_pen_and_touch_nothing() {
    // Core 1 of cluster 0: it must wait for a published entry point, print nothing and
    // leave the MPU off.
    let cfg = Config {
        mpidr: 0x8000_0001,
        max_insns: 100_000,
        ..Config::default()
    };
    let mut m = Machine::new(cfg).unwrap();
    m.load_elf(&rxen(), DtbChoice::Blob(platform_dtb("")))
        .unwrap();
    let o = m.run();
    assert!(
        matches!(o.reason, StopReason::Watchdog { .. }),
        "{:?}",
        o.reason
    );
    assert_eq!(m.console_text(), "");
    let pen = m.symbol("secondary_pen").unwrap();
    assert!(
        (pen..pen + 0x20).contains(&m.pc()),
        "pc {:#x} outside the pen at {pen:#x}",
        m.pc()
    );
    assert_eq!(
        m.sysreg(3, 4, 1, 0, 0) & 1,
        0,
        "a secondary core enabled the MPU"
    );
}

#[test]
fn every_spi_is_disabled_inactive_group_1_level_sensitive_at_rxen_s_priority_after_setup() {
    // The distributor's defaults for SPIs (Xen's distributor init; the arm-gic crate's
    // values): rxen routes no SPI to itself yet, so none may stay enabled or active,
    // whatever earlier software left. Leave every SPI enabled, active, Group 0,
    // edge-triggered and at priority 0x10 before the boot.
    const GICD: u64 = 0xaf00_0000;
    const IGROUPR: u64 = 0x80;
    const ISENABLER: u64 = 0x100;
    const ISACTIVER: u64 = 0x300;
    const IPRIORITYR: u64 = 0x400;
    const ICFGR: u64 = 0xc00;
    let mut m = loaded(Config::default(), DtbChoice::Blob(platform_dtb("")));
    let spi_end = (32 * ((m.gic_read32(GICD + 0x4) & 0x1f) + 1)).min(1020);
    assert!(spi_end > 32);
    for word in 1..spi_end.div_ceil(32) {
        let at = u64::from(word) * 4;
        m.gic_write32(GICD + ISENABLER + at, u32::MAX);
        m.gic_write32(GICD + ISACTIVER + at, u32::MAX);
        m.gic_write32(GICD + IGROUPR + at, 0);
    }
    for word in 8..spi_end.div_ceil(4) {
        m.gic_write32(GICD + IPRIORITYR + u64::from(word) * 4, 0x1010_1010);
    }
    for word in 2..spi_end.div_ceil(16) {
        m.gic_write32(GICD + ICFGR + u64::from(word) * 4, 0xaaaa_aaaa);
    }
    assert_eq!(m.gic_read32(GICD + ISACTIVER + 4), u32::MAX, "dirtied");
    let o = m.run();
    assert_eq!(o.status, 0, "{}", m.console_text());
    for intid in 32..spi_end {
        let (word, bit) = (u64::from(intid / 32) * 4, intid % 32);
        let bit_of = |m: &mut Machine, array: u64| m.gic_read32(GICD + array + word) >> bit & 1;
        assert_eq!(bit_of(&mut m, ISENABLER), 0, "SPI {intid} enabled");
        assert_eq!(bit_of(&mut m, ISACTIVER), 0, "SPI {intid} active");
        assert_eq!(bit_of(&mut m, IGROUPR), 1, "SPI {intid} not Group 1");
        let prio =
            m.gic_read32(GICD + IPRIORITYR + u64::from(intid / 4) * 4) >> (8 * (intid % 4)) & 0xff;
        assert_eq!(prio, 0x80, "SPI {intid} priority");
        let cfg = m.gic_read32(GICD + ICFGR + u64::from(intid / 16) * 4) >> (2 * (intid % 16)) & 3;
        assert_eq!(cfg & 2, 0, "SPI {intid} edge-triggered");
    }
}

/// The head zeroes bss from `__bss_zero_start` to `__bss_end` before any Rust code
/// runs (Rust's statics start at zero), and leaves the boot stack below it alone:
/// stopped at `start_xen`'s first instruction, the zeroed part reads as zero and the
/// stack's lowest bytes still hold r82sim's RAM fill (0xa5).
#[test]
fn the_head_zeroes_bss_but_the_boot_stack_before_rust_runs() {
    let to_rust = {
        let mut m = loaded(Config::default(), DtbChoice::Blob(platform_dtb("")));
        m.profile(&["start_xen".to_string()]).unwrap();
        m.run();
        m.profile_counts()[0].1.expect("start_xen is entered")
    };
    // The watchdog stops before the first block that would run past the limit: the
    // block ending at `to_rust` runs, start_xen's first does not.
    let mut m = Machine::new(Config {
        max_insns: to_rust + 1,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(&rxen(), DtbChoice::Blob(platform_dtb("")))
        .unwrap();
    let o = m.run();
    assert_eq!(o.insns, to_rust, "stopped at start_xen's entry");
    let s = |n: &str| m.symbol(n).unwrap_or_else(|| panic!("symbol {n}"));
    assert_eq!(m.pc(), s("start_xen"));
    let (zero_start, end) = (s("__bss_zero_start"), s("__bss_end"));
    assert!(s("__bss_start") < zero_start && zero_start < end);
    let zeroed = m.read_mem(zero_start, (end - zero_start) as usize).unwrap();
    let left = zeroed.iter().position(|&b| b != 0);
    assert_eq!(left.map(|i| zero_start + i as u64), None, "bss not zeroed");
    // Nothing has run deep enough to reach the stack's bottom.
    assert_eq!(m.read_mem(s("__bss_start"), 64).unwrap(), vec![0xa5; 64]);
}
