// SPDX-License-Identifier: GPL-2.0-only
//! The EL2 MPU registers: the `MpuHw` implementation the firmware's region table
//! writes through, and the reads setup uses to check the boot head's work.
//! PMSA registers are named by encoding so any assembler accepts them.
use core::arch::asm;

use crate::mm::mpu::MpuHw;

/// The hardware EL2 MPU.
pub struct El2Mpu;

impl MpuHw for El2Mpu {
    fn write_region(&mut self, index: u8, prbar: u64, prlar: u64) {
        let index = index as u64;
        if prlar & 1 == 0 {
            // Disabling: clear EN before the base moves, so the region never covers
            // [new base, old limit] while enabled (that could overlap another region).
            // SAFETY: selects and rewrites one MPU region that the region table owns
            // and has decided to disable; the ISB makes PRSELR reach PRLAR/PRBAR.
            unsafe {
                asm!(
                    "msr S3_4_C6_C2_1, {i}",
                    "isb",
                    "msr S3_4_C6_C8_1, {l}",
                    "msr S3_4_C6_C8_0, {b}",
                    i = in(reg) index, b = in(reg) prbar, l = in(reg) prlar,
                    options(nostack, preserves_flags)
                );
            }
        } else {
            // Enabling or changing: the base first. Regions keep their range here (a
            // permission change, a domain switch), and an unused slot still has EN
            // clear while its base changes; `join`, which moves a base, has its own
            // path (`disable_then_program`).
            // SAFETY: as above, for a region the table has decided to program; no
            // access between the writes depends on this region (no stack, no loads).
            unsafe {
                asm!(
                    "msr S3_4_C6_C2_1, {i}",
                    "isb",
                    "msr S3_4_C6_C8_0, {b}",
                    "msr S3_4_C6_C8_1, {l}",
                    i = in(reg) index, b = in(reg) prbar, l = in(reg) prlar,
                    options(nostack, preserves_flags)
                );
            }
        }
    }

    fn sync(&mut self) {
        // SAFETY: barriers only: complete the region writes (DSB) and make every
        // later fetch and access use them (ISB).
        unsafe { asm!("dsb sy", "isb", options(nostack, preserves_flags)) };
    }

    fn disable_then_program(&mut self, disable: u8, index: u8, prbar: u64, prlar: u64) {
        // One asm block from the first write to the barrier: between the writes a range
        // in use (for a join, the image's data) is unmapped, so nothing may load, store
        // or take an exception there. DAIF is masked for the block and restored after.
        // SAFETY: the region table has decided both writes (`Mpu::join`: disable the
        // lower region, then move the upper one's base down over it); the block makes
        // no memory access, masks every exception, selects each region with PRSELR
        // (ISB before its PRBAR/PRLAR writes) and ends with DSB; ISB, so the code after
        // it sees only the final map, in which every range in use is mapped again.
        unsafe {
            asm!(
                "mrs {daif}, daif",
                "msr daifset, #0xf",
                "msr S3_4_C6_C2_1, {d}",
                "isb",
                "msr S3_4_C6_C8_1, xzr",
                "msr S3_4_C6_C8_0, xzr",
                "msr S3_4_C6_C2_1, {i}",
                "isb",
                "msr S3_4_C6_C8_0, {b}",
                "msr S3_4_C6_C8_1, {l}",
                "dsb sy",
                "isb",
                "msr daif, {daif}",
                daif = out(reg) _,
                d = in(reg) disable as u64,
                i = in(reg) index as u64,
                b = in(reg) prbar,
                l = in(reg) prlar,
                options(nostack)
            );
        }
    }

    fn write_prenr(&mut self, value: u32) {
        // SAFETY: PRENR_EL2 sets the EN bits of regions 0..31; the region table has
        // computed `value` so that every hypervisor region stays enabled. The caller
        // follows with `sync` (DSB; ISB) before relying on the new state.
        unsafe {
            asm!("msr S3_4_C6_C1_1, {v}", v = in(reg) value as u64, options(nostack, preserves_flags));
        }
    }
}

/// MPUIR_EL2.REGION: the number of EL2 regions implemented.
pub fn implemented_regions() -> u8 {
    let v: u64;
    // SAFETY: reads an ID register; no side effects.
    unsafe { asm!("mrs {}, S3_4_C0_C0_4", out(reg) v, options(nomem, nostack, preserves_flags)) };
    (v & 0xff) as u8
}

/// Physical address bits from ID_AA64MMFR0_EL1.PARange (an A-profile register that
/// aarch64-cpu provides; the PMSA ones above it does not).
pub fn pa_bits() -> u8 {
    use aarch64_cpu::registers::{Readable, ID_AA64MMFR0_EL1};
    use ID_AA64MMFR0_EL1::PARange::Value as PA;
    match ID_AA64MMFR0_EL1.read_as_enum(ID_AA64MMFR0_EL1::PARange) {
        Some(PA::Bits_32) => 32,
        Some(PA::Bits_36) => 36,
        Some(PA::Bits_40) => 40,
        Some(PA::Bits_42) => 42,
        Some(PA::Bits_44) => 44,
        Some(PA::Bits_48) => 48,
        Some(PA::Bits_52) | None => 52,
    }
}

/// PRBAR_EL2 and PRLAR_EL2 of region `index`, as the hardware holds them.
pub fn read_region(index: u8) -> (u64, u64) {
    let (b, l): (u64, u64);
    // SAFETY: selects a region and reads its registers; PRSELR is only used by the
    // region table under its lock or by fatal-error reporting, which never returns.
    unsafe {
        asm!(
            "msr S3_4_C6_C2_1, {i}",
            "isb",
            "mrs {b}, S3_4_C6_C8_0",
            "mrs {l}, S3_4_C6_C8_1",
            i = in(reg) index as u64, b = out(reg) b, l = out(reg) l,
            options(nostack, preserves_flags)
        );
    }
    (b, l)
}
