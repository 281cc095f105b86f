// SPDX-License-Identifier: GPL-2.0-only
//! mpu-guest: programs its own EL1 MPU (PMSAv8-64 stage 1, as a `v8r_el1_msa = "mpu"`
//! domain may) and handles its own stage-1 faults at EL1. The hypervisor must neither
//! see nor need to see them: a stage-1 fault is taken to EL1 before any stage-2 check.
//!
//! Regions (MAIR_EL1 attr 0 = Normal write-back, attr 1 = Device-nGnRnE):
//!   0: memory start .. guard page       RW, EL1 only
//!   1: the guard page (after the image) read-only
//!   2: after the guard .. memory end    RW, EL1 only
//!   3: the vpl011's 4 KiB               RW, device, execute-never
//! SCTLR_EL1.M = 1 and BR = 0: anything else faults at stage 1.
//! Then: read the guard (fine), write it (stage-1 permission fault), read just past
//! our memory (stage-1 translation fault: no region). Each fault is reported by the
//! EL1 vector, skipped, and checked; then the guest powers off.
//!
//! Bootargs: `mpu-guest.yields=N` (default 0): between turning the EL1 MPU on and the
//! faults, yield the CPU N times (SCHEDOP_yield), then read the regions back and check
//! they are still the ones programmed. With another domain that programs the EL1 MPU
//! differently, this checks the hypervisor saves and restores each vCPU's EL1 MPU.
#![no_std]
#![no_main]

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{ReadWriteable, Readable, Writeable, MAIR_EL1, SCTLR_EL1};
use core::arch::asm;
use xenguest::exceptions::{self, Action, Syndrome, EC_DABT_SAME};
use xenguest::hypercall::{self, ShutdownReason};
use xenguest::{bootargs, println, Boot};

xenguest::guest_main!(main);

const PAGE: u64 = 4096;

/// The EL1 PMSA registers (Armv8-R AArch64 supplement), by encoding.
mod pmsa {
    use core::arch::asm;

    pub fn mpuir() -> u64 {
        let v: u64;
        // SAFETY: MPUIR_EL1 (S3_0_C0_C0_4) is a read-only ID register at EL1.
        unsafe { asm!("mrs {}, S3_0_C0_C0_4", out(reg) v, options(nomem, nostack)) };
        v
    }

    /// Programs region `n` (PRSELR_EL1, then PRBAR_EL1/PRLAR_EL1).
    pub fn set_region(n: u64, prbar: u64, prlar: u64) {
        // SAFETY: EL1 MPU registers of this domain's own stage 1; the MPU is off while
        // they are written (main enables it afterwards with the barriers it needs).
        // The ISB after PRSELR makes PRBAR/PRLAR address the new region.
        unsafe {
            asm!(
                "msr S3_0_C6_C2_1, {n}",
                "isb",
                "msr S3_0_C6_C8_0, {b}",
                "msr S3_0_C6_C8_1, {l}",
                n = in(reg) n, b = in(reg) prbar, l = in(reg) prlar,
                options(nostack),
            )
        };
    }

    pub fn region(n: u64) -> (u64, u64) {
        let (b, l): (u64, u64);
        // SAFETY: selecting and reading back region `n`; PRSELR only steers the reads.
        unsafe {
            asm!(
                "msr S3_0_C6_C2_1, {n}",
                "isb",
                "mrs {b}, S3_0_C6_C8_0",
                "mrs {l}, S3_0_C6_C8_1",
                n = in(reg) n, b = out(reg) b, l = out(reg) l,
                options(nostack),
            )
        };
        (b, l)
    }
}

/// PRBAR: base, SH = inner shareable (0b11), AP (bit 3 read-only), XN (bit 1).
fn prbar(base: u64, read_only: bool, xn: bool) -> u64 {
    (base & !0x3f) | (0b11 << 4) | (u64::from(read_only) << 3) | (u64::from(xn) << 1)
}

/// PRLAR: inclusive limit, AttrIndx, EN.
fn prlar(end: u64, attr: u64) -> u64 {
    ((end - 1) & !0x3f) | (attr << 1) | 1
}

fn load(addr: u64) -> u64 {
    let v: u64;
    // SAFETY: a probe the EL1 MPU may refuse: the fault handler (policy Skip) steps
    // over exactly this instruction; v starts at 0.
    unsafe {
        asm!("mov {v}, xzr", "ldr {v}, [{a}]", a = in(reg) addr, v = out(reg) v, options(nostack))
    };
    v
}

fn store(addr: u64, v: u64) {
    // SAFETY: a store into our own guard page (read-only at stage 1: it faults and is
    // skipped) or into memory no Rust object uses.
    unsafe { asm!("str {v}, [{a}]", a = in(reg) addr, v = in(reg) v, options(nostack)) };
}

/// Runs `f` and returns the syndrome of the one exception it took, if any.
fn expect_fault(f: impl FnOnce()) -> Option<Syndrome> {
    let before = exceptions::count();
    f();
    (exceptions::count() != before).then(|| Syndrome::new(exceptions::last().0))
}

/// Checks that `fault` is a same-EL data abort with an FSC in `fsc`, and says so.
fn check_dabt(fault: Option<Syndrome>, fsc: core::ops::RangeInclusive<u8>, access: &str) -> bool {
    match fault {
        Some(s) if s.ec == EC_DABT_SAME && fsc.contains(&s.fsc()) => {
            println!(
                "mpu-guest:   handled at EL1: {} ({})",
                s.ec_name(),
                s.fsc_name()
            );
            true
        }
        Some(s) => {
            println!(
                "mpu-guest:   WRONG fault: EC={:#x} FSC={:#x}",
                s.ec,
                s.fsc()
            );
            false
        }
        None => {
            println!("mpu-guest:   WRONG: the {} went through", access);
            false
        }
    }
}

fn main(boot: &Boot) -> ! {
    let (mem_base, mem_size) = boot
        .bank_of(boot.load as u64)
        .unwrap_or((boot.load as u64, 16 << 20));
    let mem_end = mem_base + mem_size;
    let regions = pmsa::mpuir() & 0xff;
    println!(
        "mpu-guest: memory {:#x}..{:#x}, EL1 MPU has {} regions",
        mem_base, mem_end, regions
    );
    if regions < 4 {
        println!("mpu-guest: need 4 EL1 MPU regions; powering off");
        hypercall::shutdown_or_park(ShutdownReason::Poweroff);
    }
    let guard = (boot.image_end as u64).next_multiple_of(PAGE) + PAGE;
    let uart = boot.uart as u64;

    MAIR_EL1.write(
        MAIR_EL1::Attr0_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr0_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr1_Device::nonGathering_nonReordering_noEarlyWriteAck,
    );
    let table = [
        (prbar(mem_base, false, false), prlar(guard, 0)),
        (prbar(guard, true, true), prlar(guard + PAGE, 0)),
        (prbar(guard + PAGE, false, false), prlar(mem_end, 0)),
        (prbar(uart, false, true), prlar(uart + PAGE, 1)),
    ];
    for (n, &(b, l)) in table.iter().enumerate() {
        pmsa::set_region(n as u64, b, l);
    }
    for n in table.len() as u64..regions {
        pmsa::set_region(n, 0, 0); // disabled
    }
    barrier::dsb(barrier::SY);
    SCTLR_EL1.modify(SCTLR_EL1::M::Enable);
    // SAFETY: BR (bit 17) clear: no background region at EL1. aarch64-cpu names no BR
    // field; this read-modify-write of SCTLR_EL1 changes only that bit.
    unsafe {
        asm!("mrs {t}, sctlr_el1", "bic {t}, {t}, #(1 << 17)", "msr sctlr_el1, {t}", t = out(reg) _, options(nostack))
    };
    barrier::isb(barrier::SY);
    println!("mpu-guest: EL1 MPU on (SCTLR_EL1={:#x})", SCTLR_EL1.get());
    for n in 0..table.len() as u64 {
        let (b, l) = pmsa::region(n);
        println!("mpu-guest:   region {}: PRBAR={:#x} PRLAR={:#x}", n, b, l);
    }

    let yields = bootargs::get_u64(boot.bootargs, "mpu-guest.yields", 0);
    if yields != 0 {
        for _ in 0..yields {
            hypercall::sched_yield();
        }
        let changed = table
            .iter()
            .enumerate()
            .filter(|&(n, &want)| pmsa::region(n as u64) != want)
            .inspect(|&(n, &(b, l))| {
                let (rb, rl) = pmsa::region(n as u64);
                println!(
                    "mpu-guest:   WRONG: region {} is PRBAR={:#x} PRLAR={:#x}, programmed {:#x} {:#x}",
                    n, rb, rl, b, l
                );
            })
            .count();
        if changed == 0 {
            println!(
                "mpu-guest: after {} yields, the EL1 MPU regions are as programmed",
                yields
            );
        }
    }

    exceptions::set_policy(Action::Skip);
    let mut ok = 0;
    let v = load(guard);
    println!(
        "mpu-guest: read the read-only guard page at {:#x}: {:#x}",
        guard, v
    );

    println!("mpu-guest: write the guard page (expect a stage-1 permission fault at EL1)");
    // FSC 0b0011xx: permission fault, levels 0-3.
    ok += check_dabt(expect_fault(|| store(guard, 0x5a)), 0x0c..=0x0f, "write") as i32;

    println!(
        "mpu-guest: read {:#x}, just past our memory, in no region (expect a stage-1 translation fault at EL1)",
        mem_end
    );
    // FSC 0b0001xx: translation fault, levels 0-3.
    let fault = expect_fault(|| {
        load(mem_end);
    });
    ok += check_dabt(fault, 0x04..=0x07, "read") as i32;

    println!(
        "mpu-guest: {}/2 stage-1 faults handled at EL1; powering off",
        ok
    );
    hypercall::shutdown_or_park(ShutdownReason::Poweroff)
}
