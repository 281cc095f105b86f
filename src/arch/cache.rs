// SPDX-License-Identifier: GPL-2.0-only
//! Cache maintenance and barriers.

/// Invalidate the whole instruction cache to the point of unification, and wait for
/// it: after this, fetches see the current MPU permissions and memory contents.
pub fn invalidate_icache_all() {
    // SAFETY: IC IALLU discards cached instructions only; DSB and ISB order it with
    // what follows. No memory is written.
    unsafe {
        core::arch::asm!(
            "ic iallu",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        );
    }
}
