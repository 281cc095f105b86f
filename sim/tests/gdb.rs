// SPDX-License-Identifier: GPL-2.0-only
//! The debugger: the machine's debugging controls on the rxen image (breakpoints,
//! steps, watchpoints and interrupts change nothing the image can observe), and a
//! real GDB (`gdb-multiarch`, batch mode) attached to `r82sim --gdb`.
mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::rxen;
use object::{Object, ObjectSymbol};
use r82sim::gdb::points::{Watch, WatchKind};
use r82sim::machine::{Config, DebugStop, DtbChoice, Machine, Outcome};
use r82sim::{dtb, StopReason};

fn machine() -> Machine {
    let mut m = Machine::new(Config {
        max_insns: 200_000_000,
        ..Config::default()
    })
    .unwrap();
    let blob = dtb::generate(&dtb::Platform {
        dram_base: 0,
        dram_size: 0x8000_0000,
        static_heap: Some(r82sim::machine::DEFAULT_STATIC_HEAP),
        bootargs: String::new(),
        xen_bootargs: String::new(),
    })
    .unwrap();
    m.load_elf(&rxen(), DtbChoice::Blob(blob)).unwrap();
    m
}

/// The plain run: (outcome, console).
fn reference() -> (Outcome, String) {
    let mut m = machine();
    let o = m.run();
    (o, m.console_text())
}

/// The address of the first symbol whose name contains `part`.
fn symbol_containing(part: &str) -> u64 {
    let elf = rxen();
    let file = object::File::parse(&*elf).unwrap();
    let found = file
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.contains(part)))
        .unwrap_or_else(|| panic!("no symbol containing {part}"));
    found.address()
}

fn continue_to_end(m: &mut Machine) -> Outcome {
    let flag = Arc::new(AtomicBool::new(false));
    loop {
        match m.run_until(&flag) {
            DebugStop::Ended(o) => return o,
            DebugStop::Breakpoint { .. } | DebugStop::Watchpoint(_) => {}
            other => panic!("unexpected stop {other:?}"),
        }
    }
}

#[test]
fn breakpoints_stop_before_their_instruction_and_change_nothing() {
    let (reference, console) = reference();
    let mut m = machine();
    let fim = m.symbol("free_init_memory").unwrap();
    let done = m.symbol("setup_complete").unwrap();
    m.set_breakpoint(fim, false).unwrap();
    m.set_breakpoint(done, true).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    match m.run_until(&flag) {
        DebugStop::Breakpoint { addr, hw: false } => assert_eq!(addr, fim),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.pc(), fim);
    let at_fim = m.insns();
    match m.run_until(&flag) {
        DebugStop::Breakpoint { addr, hw: true } => assert_eq!(addr, done),
        other => panic!("{other:?}"),
    }
    assert!(m.insns() > at_fim);
    // The image itself is unchanged: no BRK was planted.
    let mut word = [0u8; 4];
    assert_eq!(m.read_phys(fim, &mut word), 4);
    assert_ne!(u32::from_le_bytes(word) & 0xffe0_001f, 0xd420_0000);
    assert!(m.clear_breakpoint(done, true));
    assert!(!m.clear_breakpoint(done, true));
    let o = continue_to_end(&mut m);
    assert_eq!(o.reason, reference.reason);
    assert_eq!(o.insns, reference.insns);
    assert_eq!(m.console_text(), console);
}

#[test]
fn breakpoints_everywhere_keep_the_count_exact() {
    let (reference, console) = reference();
    let mut m = machine();
    let elf = rxen();
    let file = object::File::parse(&*elf).unwrap();
    // Every function entry, and an instruction in the middle of each.
    let mut addrs = Vec::new();
    for s in file.symbols() {
        if s.kind() == object::SymbolKind::Text && s.size() >= 8 {
            addrs.push(s.address());
            addrs.push((s.address() + s.size() / 2) & !3);
        }
    }
    assert!(addrs.len() > 50, "{}", addrs.len());
    for a in &addrs {
        m.set_breakpoint(*a, false).unwrap();
    }
    let mut hits = 0;
    let flag = Arc::new(AtomicBool::new(false));
    let o = loop {
        match m.run_until(&flag) {
            DebugStop::Ended(o) => break o,
            DebugStop::Breakpoint { addr, .. } => {
                assert_eq!(m.pc(), addr);
                hits += 1;
            }
            other => panic!("{other:?}"),
        }
    };
    assert!(hits > 100, "{hits}");
    assert_eq!(o.insns, reference.insns, "after {hits} breakpoint stops");
    assert_eq!(o.reason, reference.reason);
    assert_eq!(m.console_text(), console);
}

#[test]
fn stepping_counts_one_instruction_each_and_changes_nothing() {
    let (reference, console) = reference();
    let mut m = machine();
    // From reset, through the boot head's MPU programming and SCTLR write.
    for i in 0..3000 {
        let before = m.insns();
        match m.step_one() {
            DebugStop::Stepped => {}
            other => panic!("step {i}: {other:?}"),
        }
        assert_eq!(m.insns(), before + 1, "step {i}");
    }
    // Then all of free_init_memory, instruction by instruction (MPU writes, IC IALLU).
    let fim = m.symbol("free_init_memory").unwrap();
    let done = m.symbol("setup_complete").unwrap();
    m.set_breakpoint(fim, false).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    assert!(matches!(m.run_until(&flag), DebugStop::Breakpoint { .. }));
    let mut steps = 0;
    while m.pc() != done {
        assert!(matches!(m.step_one(), DebugStop::Stepped));
        steps += 1;
        assert!(steps < 2_000_000);
    }
    let o = continue_to_end(&mut m);
    assert_eq!(o.insns, reference.insns, "after {steps} steps");
    assert_eq!(m.console_text(), console);
}

#[test]
fn an_interrupt_stops_at_a_block_and_resuming_changes_nothing() {
    let (reference, console) = reference();
    let mut m = machine();
    let flag = Arc::new(AtomicBool::new(true));
    let mut stops = 0;
    let o = loop {
        match m.run_until(&flag) {
            DebugStop::Ended(o) => break o,
            DebugStop::Interrupted => {
                stops += 1;
                // Let a few blocks run, then interrupt again.
                flag.store(false, std::sync::atomic::Ordering::Relaxed);
                let f = flag.clone();
                if stops < 200 {
                    for _ in 0..3 {
                        if let DebugStop::Ended(o) = m.step_one() {
                            panic!("ended while stepping: {o:?}");
                        }
                    }
                    f.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            other => panic!("{other:?}"),
        }
    };
    assert!(stops >= 200, "{stops}");
    assert_eq!(o.insns, reference.insns);
    assert_eq!(m.console_text(), console);
}

#[test]
fn a_write_watchpoint_stops_before_the_store_and_changes_nothing() {
    let (reference, console) = reference();
    let mut m = machine();
    let in_call = symbol_containing("IN_CALL");
    // After setup (the boot head's bss clear writes it first).
    m.set_breakpoint(m.symbol("setup_complete").unwrap(), false)
        .unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    assert!(matches!(m.run_until(&flag), DebugStop::Breakpoint { .. }));
    let w = Watch {
        addr: in_call,
        len: 1,
        kind: WatchKind::Write,
    };
    m.set_watchpoint(w);
    let hit = match m.run_until(&flag) {
        DebugStop::Watchpoint(h) => h,
        other => panic!("{other:?}"),
    };
    assert_eq!(hit.watch, w);
    assert_eq!(hit.addr, in_call);
    let pc = m.pc();
    let mut b = [0u8; 4];
    m.read_phys(pc, &mut b);
    let insn = u32::from_le_bytes(b);
    // A store (STRB / STLRB): bits 27:25 = 1x0 and L clear.
    assert_eq!(insn & 0x0a00_0000, 0x0800_0000, "{insn:#x} at {pc:#x}");
    let mut v = [0u8; 1];
    m.read_phys(in_call, &mut v);
    assert_eq!(v[0], 0, "the store has not happened");
    // As GDB does: remove the watchpoint, step over, continue.
    assert!(m.clear_watchpoint(w));
    assert!(matches!(m.step_one(), DebugStop::Stepped));
    m.read_phys(in_call, &mut v);
    assert_eq!(v[0], 1);
    let o = continue_to_end(&mut m);
    assert_eq!(
        o.reason,
        StopReason::Exit {
            status: 0,
            reason: 0x20026
        }
    );
    assert_eq!(o.insns, reference.insns);
    assert_eq!(m.console_text(), console);
}

#[test]
fn watching_a_busy_page_changes_nothing() {
    let (reference, console) = reference();
    let mut m = machine();
    // A read watchpoint on a byte nothing reads, next to statics used all the time.
    let in_call = symbol_containing("IN_CALL");
    m.set_watchpoint(Watch {
        addr: in_call,
        len: 1,
        kind: WatchKind::Read,
    });
    let o = continue_to_end(&mut m);
    assert_eq!(o.insns, reference.insns);
    assert_eq!(m.console_text(), console);
}

/// `r82sim --gdb 0 rxen`, waiting for a client: the process and its port.
fn spawn_stub() -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_r82sim"))
        .args(["--gdb", "0", "--max-insns", "200000000"])
        .arg(common::rxen_path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("r82sim");
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    // Keep draining stderr so the simulator never blocks on it.
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
    });
    (child, port)
}

/// Wait for `child` at most `secs` seconds; kill it past that.
fn wait_bounded(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("process still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn gdb_debugs_rxen_from_reset_to_exit() {
    // Where the watchpoint must fire: found through the machine directly.
    let in_call = symbol_containing("IN_CALL");
    let store_pc = {
        let mut m = machine();
        m.set_breakpoint(m.symbol("setup_complete").unwrap(), false)
            .unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        m.run_until(&flag);
        m.set_watchpoint(Watch {
            addr: in_call,
            len: 1,
            kind: WatchKind::Write,
        });
        assert!(matches!(m.run_until(&flag), DebugStop::Watchpoint(_)));
        m.pc()
    };
    let m = machine();
    let fim = m.symbol("free_init_memory").unwrap();
    let init_begin = m.symbol("__init_begin").unwrap();
    let (mut sim, port) = spawn_stub();
    let script = format!(
        "set pagination off\n\
         set confirm off\n\
         set language c\n\
         target remote 127.0.0.1:{port}\n\
         break *free_init_memory\n\
         continue\n\
         printf \"PC=%#lx\\n\", $pc\n\
         printf \"SCTLR.M=%d\\n\", $SCTLR_EL2 & 1\n\
         printf \"X30=%#lx\\n\", $x30\n\
         monitor mpu\n\
         hbreak *setup_complete\n\
         continue\n\
         monitor mpu\n\
         monitor icount\n\
         watch *(unsigned char *){in_call:#x}\n\
         continue\n\
         printf \"WATCH-PC=%#lx\\n\", $pc\n\
         delete\n\
         continue\n"
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let cmds = dir.join(format!("gdb-{port}.cmds"));
    std::fs::write(&cmds, script).unwrap();
    let mut gdb = std::process::Command::new("gdb-multiarch")
        .args(["-nx", "-batch", "-x"])
        .arg(&cmds)
        .arg(common::rxen_path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("gdb-multiarch (scripts/install-deps.sh installs it)");
    // Drained while GDB runs, so that it never blocks on a full pipe.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = drain(gdb.stdout.take().map(|r| Box::new(r) as _));
    let err = drain(gdb.stderr.take().map(|r| Box::new(r) as _));
    let status = wait_bounded(&mut gdb, 120);
    let text = out.join().unwrap() + &err.join().unwrap();
    assert!(status.success(), "{text}");
    assert!(text.contains(&format!("PC={fim:#x}")), "{text}");
    assert!(text.contains("SCTLR.M=1"), "{text}");
    assert!(!text.contains("X30=0x0\n"), "{text}");
    // The init text region, RO and executable, before free_init_memory; gone after.
    let init_text = format!("{init_begin:#012x}..");
    let mpus: Vec<&str> = text.split("EL2 MPU: ").skip(1).collect();
    assert_eq!(mpus.len(), 2, "{text}");
    assert!(
        mpus[0]
            .lines()
            .any(|l| l.contains(&init_text) && l.contains("RO X ")),
        "{text}"
    );
    assert!(!mpus[1].contains(&init_text), "{text}");
    assert!(text.contains(" instructions (CNTPCT_EL0 "), "{text}");
    // GDB steps over the store and reports the change there.
    assert!(text.contains("Old value = 0"), "{text}");
    assert!(text.contains("New value = 1"), "{text}");
    assert!(
        text.contains(&format!("WATCH-PC={:#x}", store_pc + 4)),
        "{text}"
    );
    assert!(text.contains("exited normally"), "{text}");
    let sim_status = wait_bounded(&mut sim, 60);
    assert_eq!(sim_status.code(), Some(0));
}

#[test]
fn the_stub_takes_one_client_on_localhost_only() {
    let (mut sim, port) = spawn_stub();
    let first = std::net::TcpStream::connect(("127.0.0.1", port)).expect("first client");
    // Give the stub time to accept and stop listening.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let second = std::net::TcpStream::connect(("127.0.0.1", port));
    assert!(second.is_err(), "a second client was accepted");
    // The first client leaves without a word: the run goes on to the image's exit.
    drop(first);
    let status = wait_bounded(&mut sim, 60);
    assert_eq!(status.code(), Some(0));
}
