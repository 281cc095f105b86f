// SPDX-License-Identifier: GPL-2.0-only
//! attacker: tries, one at a time, everything a domain must not be able to do, and
//! prints what happened to each: `refused` (an exception was injected, or the
//! hypercall returned an error), `NOT REFUSED` (the access went through: an isolation
//! bug), or `skipped` (no address for it). Exceptions it can catch it reports and goes
//! on from (the instruction is skipped); the last forbidden access (a write to rxen's
//! text) is made with no handler, so it ends in SHUTDOWN_crash if the hypervisor has
//! not crashed the domain already.
//!
//! Each line "attacker: try N: ..." is printed before the attempt, so a log that stops
//! early shows which attempt the hypervisor answered by crashing the domain.
//!
//! Addresses come from the bootargs, defaults from the FVP BaseR image layout:
//!   attack.text=0x0           rxen's text (its image starts at 0)
//!   attack.data=ADDR          rxen's data        (no default: skipped)
//!   attack.bss=ADDR           rxen's bss         (no default: skipped)
//!   attack.heap=0x10000000    rxen's static heap (xen,static-heap of dts/fvp-baser.dts)
//!   attack.other=ADDR         another domain (default 0x30000000, or 0x20000000 when
//!                             that is our own memory: the demo's two domains)
//!   attack.gic=0xaf000000     GICv3 distributor
//!   attack.uart=0x9c090000    PL011 UART0
#![no_std]
#![no_main]

use core::arch::asm;
use xenguest::exceptions::{self, Action, RETURNED_FROM_FAULT};
use xenguest::hypercall::{self, CONSOLEIO_WRITE, CONSOLE_IO, EFAULT, ENOSYS};
use xenguest::{bootargs, println, Boot};

xenguest::guest_main!(main);

/// Hypercall number no Xen defines (the table has 64 entries).
const UNKNOWN_HYPERCALL: u64 = 1000;
/// SMCCC fast SiP call 0 (SMC64): Xen answers a domU's SiP calls with
/// SMCCC_NOT_SUPPORTED.
const SMC_FID: u64 = 0xc200_0000;
const SMCCC_NOT_SUPPORTED: u64 = u64::MAX; // -1

#[derive(Default)]
struct Tally {
    tries: u32,
    refused: u32,
    not_refused: u32,
    skipped: u32,
}

impl Tally {
    fn start(&mut self, what: &str) {
        self.tries += 1;
        println!("attacker: try {}: {}", self.tries, what);
    }
    fn refused(&mut self, how: core::fmt::Arguments) {
        self.refused += 1;
        println!("attacker:   refused: {}", how);
    }
    fn not_refused(&mut self, how: core::fmt::Arguments) {
        self.not_refused += 1;
        println!("attacker:   NOT REFUSED: {}", how);
    }
    fn skipped(&mut self, why: &str) {
        self.skipped += 1;
        println!("attacker:   skipped: {}", why);
    }
}

/// One 32-bit load; returns (value, whether an exception was taken).
fn read32(addr: u64) -> (u32, bool) {
    let before = exceptions::count();
    let v: u32;
    // SAFETY: a deliberately forbidden load: it either returns a value or takes an
    // exception whose handler skips exactly this `ldr` (policy Skip), leaving v = 0.
    // It reads no memory of ours, so no Rust invariant depends on it.
    unsafe {
        asm!("mov {v:w}, wzr", "ldr {v:w}, [{a}]", a = in(reg) addr, v = out(reg) v, options(nostack))
    };
    (v, exceptions::count() != before)
}

/// One 32-bit store; returns whether an exception was taken.
fn write32(addr: u64, val: u32) -> bool {
    let before = exceptions::count();
    // SAFETY: a deliberately forbidden store outside this domain's memory: it is
    // refused (the handler skips exactly this `str`) or lands in memory no Rust
    // object of ours lives in.
    unsafe { asm!("str {v:w}, [{a}]", a = in(reg) addr, v = in(reg) val, options(nostack)) };
    exceptions::count() != before
}

fn how_refused() -> core::fmt::Arguments<'static> {
    format_args!("exception injected (see the line above)")
}

fn try_read(t: &mut Tally, what: &str, addr: Option<u64>) -> Option<u32> {
    t.start(what);
    let Some(a) = addr else {
        t.skipped("no address (pass it in the bootargs)");
        return None;
    };
    println!("attacker:   load from {:#x}", a);
    let (v, faulted) = read32(a);
    if faulted {
        t.refused(how_refused());
        None
    } else {
        t.not_refused(format_args!("read {:#010x}", v));
        Some(v)
    }
}

fn try_write(t: &mut Tally, what: &str, addr: Option<u64>, old: Option<u32>) {
    t.start(what);
    let Some(a) = addr else {
        t.skipped("no address (pass it in the bootargs)");
        return;
    };
    // Write back what a successful read saw, so that a broken isolation at least
    // does not change the victim's memory; otherwise a recognisable pattern.
    let val = old.unwrap_or(0xa77a_c4e2);
    println!("attacker:   store {:#x} to {:#x}", val, a);
    if write32(a, val) {
        t.refused(how_refused());
    } else {
        t.not_refused(format_args!("store completed"));
    }
}

fn try_console_io(t: &mut Tally, what: &str, addr: Option<u64>) {
    t.start(what);
    let Some(a) = addr else {
        t.skipped("no address (pass it in the bootargs)");
        return;
    };
    // SAFETY: CONSOLEIO_write only reads the buffer; this one is not ours, and the
    // hypervisor must refuse it (-EFAULT) without touching anything of ours.
    let rc = unsafe { hypercall::hypercall(CONSOLE_IO, CONSOLEIO_WRITE, 16, a, 0, 0) };
    if rc == EFAULT {
        t.refused(format_args!(
            "console_io(write, 16, {:#x}) = -EFAULT ({})",
            a, rc
        ));
    } else if rc < 0 {
        t.refused(format_args!(
            "console_io(write, 16, {:#x}) = {} (expected -EFAULT = {})",
            a, rc, EFAULT
        ));
    } else {
        t.not_refused(format_args!("console_io(write, 16, {:#x}) = {}", a, rc));
    }
}

fn main(boot: &Boot) -> ! {
    let args = boot.bootargs;
    let own = boot.bank_of(boot.load as u64);
    let in_own = |a: u64| own.is_some_and(|(b, s)| a >= b && a - b < s);
    let opt = |k: &str| bootargs::get(args, k).and_then(bootargs::parse_u64);
    let text = opt("attack.text").unwrap_or(0x0);
    let data = opt("attack.data");
    let bss = opt("attack.bss");
    let heap = opt("attack.heap").unwrap_or(0x1000_0000);
    let other = opt("attack.other").unwrap_or(if in_own(0x3000_0000) {
        0x2000_0000
    } else {
        0x3000_0000
    });
    let gic = opt("attack.gic").unwrap_or(0xaf00_0000);
    let uart = opt("attack.uart").unwrap_or(0x9c09_0000);
    println!(
        "attacker: loaded at {:#x}; own memory {:?}; targets: text {:#x} data {:?} bss {:?} heap {:#x} other {:#x} gic {:#x} uart {:#x}",
        boot.load, own, text, data, bss, heap, other, gic, uart
    );

    exceptions::set_policy(Action::Skip);
    let mut t = Tally::default();

    for (name, addr) in [
        ("text", Some(text)),
        ("data", data),
        ("bss", bss),
        ("heap", Some(heap)),
    ] {
        let mut what = Buf::new();
        let _ = core::fmt::write(&mut what, format_args!("read rxen's {}", name));
        let v = try_read(&mut t, what.as_str(), addr);
        let mut what = Buf::new();
        let _ = core::fmt::write(&mut what, format_args!("write rxen's {}", name));
        try_write(&mut t, what.as_str(), addr, v);
    }

    if in_own(other) {
        t.start("read another domain's memory");
        t.skipped("attack.other is inside this domain's memory");
    } else {
        let v = try_read(&mut t, "read another domain's memory", Some(other));
        try_write(&mut t, "write another domain's memory", Some(other), v);
    }

    try_read(
        &mut t,
        "read the physical GIC distributor (GICD_CTLR)",
        Some(gic),
    );
    if uart == boot.uart as u64 {
        t.start("read the physical UART0 (UARTFR)");
        t.skipped("UART0's address is this domain's vpl011 (a direct-mapped domain's vpl011 sits at the physical UART's address)");
    } else {
        try_read(
            &mut t,
            "read the physical UART0 (UARTFR)",
            Some(uart + 0x18),
        );
    }

    t.start("execute from its own data (a stack buffer: mov w0, #0x5a; ret)");
    exceptions::set_policy(Action::ReturnFromCall);
    let r = exec_data();
    exceptions::set_policy(Action::Skip);
    if r == RETURNED_FROM_FAULT {
        t.refused(how_refused());
    } else {
        // Not an isolation bug: it is the domain's own memory, and stage 1 is off.
        t.not_refused(format_args!(
            "ran and returned {:#x} (own memory; stage 1 is off)",
            r
        ));
    }

    try_console_io(
        &mut t,
        "console_io with a buffer in rxen's text",
        Some(text),
    );
    try_console_io(
        &mut t,
        "console_io with a buffer in another domain",
        Some(other),
    );

    t.start("unknown hypercall");
    // SAFETY: no buffer is passed; the hypervisor must answer -ENOSYS.
    let rc = unsafe { hypercall::hypercall(UNKNOWN_HYPERCALL, 0, 0, 0, 0, 0) };
    if rc == ENOSYS {
        t.refused(format_args!(
            "hypercall {} = -ENOSYS ({})",
            UNKNOWN_HYPERCALL, rc
        ));
    } else {
        t.not_refused(format_args!(
            "hypercall {} = {} (expected -ENOSYS = {})",
            UNKNOWN_HYPERCALL, rc, ENOSYS
        ));
    }

    t.start("SMC (SMCCC SiP fast call 0xc2000000)");
    let before = exceptions::count();
    let x0 = smc(SMC_FID);
    if exceptions::count() != before {
        t.refused(how_refused());
    } else if x0 == SMCCC_NOT_SUPPORTED {
        t.refused(format_args!("x0 = SMCCC_NOT_SUPPORTED (-1)"));
    } else {
        t.not_refused(format_args!("x0 = {:#x}", x0));
    }

    println!(
        "attacker: summary: {} tries, {} refused, {} NOT refused, {} skipped",
        t.tries, t.refused, t.not_refused, t.skipped
    );
    println!(
        "attacker: last: write rxen's text with no handler; this domain should now be crashed"
    );
    exceptions::set_policy(Action::Stop);
    let _ = write32(text, 0);
    println!("attacker: NOT REFUSED: the last write went through; crashing myself");
    hypercall::crash()
}

/// Copies `mov w0, #0x5a; ret` into a stack buffer and calls it. Returns 0x5a, or
/// RETURNED_FROM_FAULT when the fetch was refused (policy ReturnFromCall).
fn exec_data() -> u64 {
    let code = [0x5280_0b40u32, 0xd65f_03c0]; // mov w0, #0x5a; ret
    let buf = core::hint::black_box(code);
    let addr = buf.as_ptr() as u64;
    let r: u64;
    // SAFETY: the two words are a complete function (mov, ret) that touches only x0
    // and returns through x30; the cache maintenance makes the stores visible to
    // instruction fetch. If the fetch is refused, the handler resumes at x30 (the
    // instruction after `blr`) with x0 = RETURNED_FROM_FAULT. x30 is clobbered.
    unsafe {
        asm!(
            "dc cvau, {a}", "dsb ish", "ic ivau, {a}", "dsb ish", "isb",
            "blr {a}",
            a = in(reg) addr,
            out("x0") r,
            out("x30") _,
            options(nostack),
        );
    }
    core::hint::black_box(&buf);
    r
}

/// `smc #0` with x0 = `fid`; SMCCC lets the callee change x0..x17.
fn smc(fid: u64) -> u64 {
    let r: u64;
    // SAFETY: no memory is passed; every register SMCCC lets the callee change is
    // declared clobbered. If SMC is undefined here, the handler skips it.
    unsafe {
        asm!(
            "smc #0",
            inout("x0") fid => r,
            out("x1") _, out("x2") _, out("x3") _, out("x4") _, out("x5") _,
            out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _,
            out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
            out("x16") _, out("x17") _,
            options(nostack),
        );
    }
    r
}

/// A 64-byte line buffer for the attempt names.
struct Buf {
    b: [u8; 64],
    n: usize,
}

impl Buf {
    fn new() -> Self {
        Self { b: [0; 64], n: 0 }
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(self.b.get(..self.n).unwrap_or(&[])).unwrap_or("")
    }
}

impl core::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &c in s.as_bytes() {
            *self.b.get_mut(self.n).ok_or(core::fmt::Error)? = c;
            self.n += 1;
        }
        Ok(())
    }
}
