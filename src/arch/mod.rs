// SPDX-License-Identifier: GPL-2.0-only
//! Everything that executes AArch64 system instructions: the boot head and vectors
//! (assembly in boot/), the EL2 MPU registers, cache maintenance, semihosting and the
//! linker-script symbols. Decisions live elsewhere (mm, setup); this module only
//! carries them out.
pub mod cache;
pub mod gic;
pub mod head;
pub mod layout;
pub mod mem;
pub mod mpu;
pub mod semihosting;
pub mod traps;
pub mod vcpu;

/// Stop this core for good: WFI in a loop (interrupts stay masked).
pub fn park() -> ! {
    loop {
        // SAFETY: WFI only waits; it touches no memory and no register we rely on.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
    }
}
