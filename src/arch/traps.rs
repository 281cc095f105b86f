// SPDX-License-Identifier: GPL-2.0-only
//! EL2 exception entry (boot/entry.S) and the Rust handler it calls. Exceptions from
//! a guest go to `domain::vm`, which may switch the frame to another vCPU before the
//! ERET; at EL2 an exception is either an expected self-test abort, a semihosting
//! call on a board without a debugger, or fatal and reported with the syndrome
//! decoded and the MPU map.
use core::fmt::Write;

use crate::drivers::console;
use crate::esr::Esr;

/// The context entry.S saves; the layout is shared with the assembly.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct TrapFrame {
    pub x: [u64; 31],
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
    /// SP_EL2 before the entry pushed the frame (for an exception from a guest: just
    /// past the vCPU's frame; the guest's own SP is SP_EL1 or SP_EL0).
    pub sp: u64,
}

core::arch::global_asm!(
    include_str!("../../boot/entry.S"),
    FRAME_SIZE = const core::mem::size_of::<TrapFrame>(),
);

const VECTOR_NAMES: [&str; 16] = [
    "EL2t sync",
    "EL2t IRQ",
    "EL2t FIQ",
    "EL2t SError",
    "EL2h sync",
    "EL2h IRQ",
    "EL2h FIQ",
    "EL2h SError",
    "lower EL (AArch64) sync",
    "lower EL (AArch64) IRQ",
    "lower EL (AArch64) FIQ",
    "lower EL (AArch64) SError",
    "lower EL (AArch32) sync",
    "lower EL (AArch32) IRQ",
    "lower EL (AArch32) FIQ",
    "lower EL (AArch32) SError",
];

/// Handle the exception `vector` (0..15, the vector table's order) whose context the
/// entry saved in `frame`, and return the frame to resume: `frame` itself for an
/// exception at EL2; for one from a guest, the running vCPU's frame, which a switch
/// may have changed (see `domain::vm`'s frames).
#[no_mangle]
extern "C" fn el2_trap(frame: &mut TrapFrame, vector: u64) -> *mut TrapFrame {
    // From a guest first (the hot path): a synchronous exception (lower EL, AArch64)
    // or an IRQ taken while a guest ran; then an IRQ at EL2 (current EL, SP_ELx).
    match vector {
        8 => return crate::domain::vm::on_guest_sync(frame),
        9 => {
            super::gic::dispatch(true);
            return crate::domain::vm::current_frame();
        }
        5 => {
            super::gic::dispatch(false);
            return frame;
        }
        _ => {}
    }
    // Else at EL2: a semihosting call without a debugger (HLT is undefined: EC 0), an
    // expected self-test abort; anything else is fatal.
    let esr = Esr(frame.esr);
    if esr.ec() == 0 && super::semihosting::trapped_in_call() {
        let _ = writeln!(
            console::emergency(),
            "(XEN) semihosting is not available: parking the core"
        );
        super::park();
    }
    if vector == 4 {
        crate::setup::selftest::on_abort(esr, frame.far, frame.elr);
    }
    let mut c = console::emergency();
    let name = VECTOR_NAMES.get(vector as usize).copied().unwrap_or("?");
    let _ = writeln!(c, "(XEN) FATAL: unexpected exception ({name})");
    let _ = writeln!(c, "(XEN)   {esr}");
    let _ = writeln!(
        c,
        "(XEN)   ELR_EL2 {:#018x}  FAR_EL2 {:#018x}  SPSR_EL2 {:#010x}  SP_EL2 {:#x}",
        frame.elr, frame.far, frame.spsr, frame.sp
    );
    for (i, pair) in frame.x.chunks(2).enumerate() {
        let _ = write!(c, "(XEN)   x{:<2} {:#018x}", 2 * i, pair[0]);
        if let Some(v) = pair.get(1) {
            let _ = write!(c, "  x{:<2} {v:#018x}", 2 * i + 1);
        }
        let _ = writeln!(c);
    }
    crate::setup::fatal_stop(&mut c, 2);
}
