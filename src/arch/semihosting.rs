// SPDX-License-Identifier: GPL-2.0-only
//! Arm semihosting (HLT #0xF000), used to end a run with an exit status on the FVP and
//! in r82sim. On a board with no debugger attached HLT is undefined: the trap handler
//! recognises a semihosting call by `IN_CALL` and parks the core instead of crashing.
use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

use super::park;

const SYS_EXIT: u64 = 0x18;
/// ADP_Stopped_ApplicationExit: the subcode is the exit status.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

/// Set while a semihosting call is in flight.
static IN_CALL: AtomicBool = AtomicBool::new(false);

/// Whether an undefined-instruction trap came from a semihosting call.
pub fn trapped_in_call() -> bool {
    IN_CALL.load(Ordering::Relaxed)
}

/// Stop the platform with `status`; where semihosting is not available, park.
pub fn exit(status: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, status as u64];
    IN_CALL.store(true, Ordering::Relaxed);
    // SAFETY: SYS_EXIT reads the two-word block at x1, which lives on this stack
    // frame; the debugger ends the run. Without semihosting, HLT traps to the EL2
    // vectors, which park the core (see traps.rs).
    unsafe {
        asm!("hlt #0xf000", in("x0") SYS_EXIT, in("x1") block.as_ptr(), options(nostack));
    }
    park()
}
