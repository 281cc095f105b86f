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
        // Freed init text is heap memory now: mapped, but execute-never.
        SelfTest::ExecInit => (0x21, FaultKind::Permission, false, l.init_text.start),
        SelfTest::WriteText => (0x25, FaultKind::Permission, true, l.text.start),
        // The first byte past the image: no region covers it.
        SelfTest::ReadPastImage => (0x25, FaultKind::Translation, false, l.bss.end),
        SelfTest::WriteRodata => (0x25, FaultKind::Permission, true, l.rodata.start),
        SelfTest::ExecData => (0x21, FaultKind::Permission, false, l.data.start),
        // Not abort checks: `run` sends them to `run_interrupt` first.
        SelfTest::Timer | SelfTest::Sgi => (0, FaultKind::Translation, false, 0),
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
    if matches!(test, SelfTest::Timer | SelfTest::Sgi) {
        run_interrupt(test);
    }
    let e = expectation(test, &Layout::get());
    // A translation fault needs an unmapped address: on a platform that maps what
    // follows the image (a static heap bank starting at `_end`, say) there is nothing
    // to check, and the run says so instead of reporting a wrong abort.
    if e.kind == FaultKind::Translation {
        if let Some(index) = crate::mm::live::with(|m| m.table().find_addr(e.far)) {
            error!(
                "selftest {}: {:#x} is mapped on this platform (EL2 MPU region {index}), so it cannot fault",
                test.name(),
                e.far
            );
            fatal_stop(&mut console::emergency(), status::SELFTEST_FAILED)
        }
    }
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
        SelfTest::ReadPastImage => {
            // SAFETY: the load is meant to fault (no region covers the address); it
            // reads nothing and the trap handler ends the run without returning.
            unsafe { asm!("ldr {v}, [{t}]", t = in(reg) target, v = out(reg) _, options(nostack)) }
        }
        SelfTest::Timer | SelfTest::Sgi => run_interrupt(test),
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

/// What the interrupt self-check's handler saw: (times handled, counter at entry).
static IRQ_SEEN: SpinMutex<(u32, u64)> = SpinMutex::new((0, 0));

fn on_selftest_irq(_intid: u32, _from_guest: bool) {
    let now = crate::arch::gic::timer::now();
    crate::arch::gic::timer::disarm();
    let mut seen = IRQ_SEEN.lock();
    seen.0 += 1;
    if seen.0 == 1 {
        seen.1 = now;
    }
}

/// `rxen.selftest=timer`: arm the EL2 timer 10 µs ahead, wait in WFI; the interrupt
/// must arrive at or after the deadline and be handled exactly once.
/// `rxen.selftest=sgi`: send SGI 1 to this core; it must be handled exactly once.
fn run_interrupt(test: SelfTest) -> ! {
    use crate::arch::gic;
    let Some(timer_intid) = super::hyp_timer_intid() else {
        error!(
            "selftest {}: no GIC or timer in the device tree",
            test.name()
        );
        fatal_stop(&mut console::emergency(), status::SELFTEST_FAILED)
    };
    let intid = if test == SelfTest::Timer {
        timer_intid
    } else {
        1
    };
    if !gic::register(intid, on_selftest_irq) {
        error!("selftest {}: INTID {intid} cannot be enabled", test.name());
        fatal_stop(&mut console::emergency(), status::SELFTEST_FAILED)
    }
    let freq = gic::timer::frequency();
    let deadline = gic::timer::now() + freq / 100_000;
    info!("selftest {}: waiting for INTID {intid}", test.name());
    gic::irq_disable();
    if test == SelfTest::Timer {
        gic::timer::arm(deadline);
    } else {
        gic::sgi_to_self(1);
    }
    // Wait (WFI wakes even with IRQs masked), then take it with IRQs unmasked.
    for _ in 0..1000 {
        if IRQ_SEEN.lock().0 > 0 {
            break;
        }
        gic::wfi();
        gic::irq_enable();
        gic::irq_disable();
    }
    // Anything further would arrive now: give it the chance to be (wrongly) handled.
    gic::irq_enable();
    for _ in 0..100 {
        core::hint::spin_loop();
    }
    gic::irq_disable();
    let (times, at) = *IRQ_SEEN.lock();
    let on_time = test == SelfTest::Sgi || at >= deadline;
    if times == 1 && on_time {
        if test == SelfTest::Timer {
            info!(
                "selftest timer: INTID {intid} at counter {at} (deadline {deadline}), handled once"
            );
        } else {
            info!("selftest sgi: SGI 1 handled once");
        }
        semihosting::exit(status::OK)
    }
    error!(
        "selftest {}: INTID {intid} handled {times} times, at counter {at} (deadline {deadline})",
        test.name()
    );
    fatal_stop(&mut console::emergency(), status::SELFTEST_FAILED)
}
