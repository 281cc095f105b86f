// SPDX-License-Identifier: GPL-2.0-only
//! Built-in self-checks of the final MPU map (`rxen.selftest=NAME`): after
//! `free_init_memory`, make one forbidden access and require exactly the matching
//! abort. The trap handler calls `on_abort`; the run ends with status 0 only for the
//! expected abort at the expected address.
use core::arch::asm;

use log::{error, info};
use spin::mutex::SpinMutex;

use super::{fatal_stop, status};
use crate::arch::layout::Layout;
use crate::arch::semihosting;
use crate::bootargs::SelfTest;
use crate::drivers::console;
use crate::esr::{Esr, FaultKind};

#[derive(Clone, Copy, Debug)]
struct Expected {
    test: SelfTest,
    /// ESR_EL2.EC: 0x21 instruction abort, 0x25 data abort (both at EL2).
    ec: u8,
    kind: FaultKind,
    /// Data aborts: whether the access was a write.
    write: bool,
    far: u64,
}

static EXPECTED: SpinMutex<Option<Expected>> = SpinMutex::new(None);

fn expectation(test: SelfTest, l: &Layout) -> Expected {
    let (ec, kind, write, far) = match test {
        SelfTest::ExecInit => (0x21, FaultKind::Translation, false, l.init_text.start),
        SelfTest::WriteText => (0x25, FaultKind::Permission, true, l.text.start),
        // The first byte of what was init data: no region covers it any more.
        SelfTest::ReadFreedInit => (0x25, FaultKind::Translation, false, l.init_text.end),
        SelfTest::WriteRodata => (0x25, FaultKind::Permission, true, l.rodata.start),
        SelfTest::ExecData => (0x21, FaultKind::Permission, false, l.data.start),
    };
    Expected {
        test,
        ec,
        kind,
        write,
        far,
    }
}

/// Make the forbidden access of `test`. Returns only through the trap handler.
pub fn run(test: SelfTest) -> ! {
    let e = expectation(test, &Layout::get());
    info!(
        "selftest {}: expecting {} ({:?} fault) at {:#x}",
        test.name(),
        if e.ec == 0x21 {
            "an instruction abort"
        } else {
            "a data abort"
        },
        e.kind,
        e.far
    );
    *EXPECTED.lock() = Some(e);
    let target = e.far;
    match test {
        SelfTest::ExecInit | SelfTest::ExecData => {
            // SAFETY: the branch is meant to fault on fetch: the MPU refuses it before
            // anything runs there, and the trap handler ends the run without returning.
            unsafe { asm!("blr {t}", t = in(reg) target, clobber_abi("C")) }
        }
        SelfTest::WriteText | SelfTest::WriteRodata => {
            // SAFETY: the store is meant to fault: the MPU refuses it before memory
            // changes, and the trap handler ends the run without returning.
            unsafe { asm!("str xzr, [{t}]", t = in(reg) target, options(nostack)) }
        }
        SelfTest::ReadFreedInit => {
            // SAFETY: the load is meant to fault (no region covers the address); it
            // reads nothing and the trap handler ends the run without returning.
            unsafe { asm!("ldr {v}, [{t}]", t = in(reg) target, v = out(reg) _, options(nostack)) }
        }
    }
    error!(
        "selftest {}: the access at {target:#x} did not fault",
        test.name()
    );
    fatal_stop(&mut console::emergency(), status::SELFTEST_FAILED)
}

/// Called by the trap handler for a synchronous exception at EL2. Returns only when
/// no self-test is waiting for an abort.
pub fn on_abort(esr: Esr, far: u64, elr: u64) {
    let Some(e) = EXPECTED.lock().take() else {
        return;
    };
    let matches = esr.ec() == e.ec
        && esr.fault_kind() == e.kind
        && far == e.far
        && (e.ec != 0x25 || esr.wnr() == e.write);
    if matches {
        info!(
            "selftest {}: got the expected abort: {esr}, FAR {far:#x}, ELR {elr:#x}",
            e.test.name()
        );
        semihosting::exit(status::OK);
    }
    error!("selftest {}: expected EC {:#04x} {:?} fault at {:#x}, got {esr}, FAR {far:#x}, ELR {elr:#x}", e.test.name(), e.ec, e.kind, e.far);
    fatal_stop(&mut console::emergency(), status::SELFTEST_FAILED)
}
