// SPDX-License-Identifier: GPL-2.0-only
//! A vCPU's EL1 state on this core, and the way into a guest. Every register the
//! architecture gives EL1 (and EL0's thread registers) is saved and restored on a
//! switch, including the EL1 MPU regions, plus the per-domain EL2 controls (HCR_EL2,
//! VSCTLR_EL2's VMID). Holds no policy: `domain` decides when to switch.
use core::arch::asm;

use super::traps::TrapFrame;

/// EL1 MPU regions this module saves (PMSAv8-64 allows up to 255; the Cortex-R82
/// has at most 32 and the FVP 16). More implemented regions than this are refused at
/// boot by `el1_mpu_regions`.
pub const MAX_EL1_REGIONS: usize = 32;

#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct El1Context {
    pub sctlr: u64,
    pub cpacr: u64,
    pub mair: u64,
    pub vbar: u64,
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
    pub afsr0: u64,
    pub afsr1: u64,
    pub par: u64,
    pub sp_el0: u64,
    pub sp_el1: u64,
    pub tpidr_el0: u64,
    pub tpidrro_el0: u64,
    pub tpidr_el1: u64,
    pub contextidr: u64,
    pub cntkctl: u64,
    pub csselr: u64,
    pub actlr: u64,
    pub prselr: u64,
    pub mpu: [(u64, u64); MAX_EL1_REGIONS],
    /// Per-domain EL2 controls, switched with the vCPU.
    pub hcr_el2: u64,
    pub vsctlr_el2: u64,
}

/// SCTLR_EL1 at a vCPU's first entry: the RES1 bits (29, 28, 23, 22, 20, 11), MMU/MPU,
/// caches and alignment checks off, little-endian.
pub const SCTLR_EL1_RESET: u64 =
    (1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11);

impl El1Context {
    pub const fn new(hcr_el2: u64, vmid: u16) -> Self {
        Self {
            sctlr: SCTLR_EL1_RESET,
            cpacr: 0,
            mair: 0,
            vbar: 0,
            elr: 0,
            spsr: 0,
            esr: 0,
            far: 0,
            afsr0: 0,
            afsr1: 0,
            par: 0,
            sp_el0: 0,
            sp_el1: 0,
            tpidr_el0: 0,
            tpidrro_el0: 0,
            tpidr_el1: 0,
            contextidr: 0,
            cntkctl: 0,
            csselr: 0,
            actlr: 0,
            prselr: 0,
            mpu: [(0, 0); MAX_EL1_REGIONS],
            hcr_el2,
            vsctlr_el2: (vmid as u64) << 48,
        }
    }
}

/// Prepare a synchronous exception for the guest at EL1: ELR_EL1, SPSR_EL1 and
/// ESR_EL1 take the given values; returns VBAR_EL1 (the caller points ELR_EL2 at the
/// vector and sets SPSR_EL2 to EL1h so that the ERET enters it).
pub fn inject_sync_to_el1(elr: u64, spsr: u64, esr: u64, far: Option<u64>) -> u64 {
    let vbar: u64;
    // SAFETY: writes the running guest's EL1 exception registers, as the architecture
    // would on taking the exception; reads VBAR_EL1. No EL2 state changes.
    unsafe {
        asm!(
            "msr elr_el1, {e}",
            "msr spsr_el1, {s}",
            "msr esr_el1, {x}",
            "mrs {v}, vbar_el1",
            e = in(reg) elr, s = in(reg) spsr, x = in(reg) esr, v = out(reg) vbar,
            options(nostack, preserves_flags)
        )
    };
    if let Some(f) = far {
        // SAFETY: FAR_EL1 is the guest's; the architecture sets it for an abort.
        unsafe { asm!("msr far_el1, {}", in(reg) f, options(nostack, preserves_flags)) };
    }
    vbar
}

/// VBAR_EL1 of the running guest.
pub fn vbar_el1() -> u64 {
    let v: u64;
    // SAFETY: reads a guest register; no side effects.
    unsafe { asm!("mrs {}, vbar_el1", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// HPFAR_EL2: the faulting IPA page of the last stage-2 abort (bits [43:4] = IPA[51:12]).
pub fn hpfar() -> u64 {
    let v: u64;
    // SAFETY: reads a syndrome register; no side effects.
    unsafe { asm!("mrs {}, hpfar_el2", out(reg) v, options(nomem, nostack, preserves_flags)) };
    v
}

/// MPUIR_EL1.REGION: EL1 MPU regions implemented.
pub fn el1_mpu_regions() -> usize {
    let v: u64;
    // SAFETY: reads an ID register (MPUIR_EL1); no side effects.
    unsafe { asm!("mrs {}, S3_0_C0_C0_4", out(reg) v, options(nomem, nostack, preserves_flags)) };
    (v & 0xff) as usize
}

macro_rules! save {
    ($c:ident . $f:ident, $reg:literal) => {
        // SAFETY: reads an EL1 (or EL0 thread) system register at EL2; no side effects.
        unsafe { asm!(concat!("mrs {}, ", $reg), out(reg) $c.$f, options(nomem, nostack, preserves_flags)) };
    };
}

macro_rules! restore {
    ($c:ident . $f:ident, $reg:literal) => {
        // SAFETY: writes an EL1 (or EL0 thread) register that only the guest about to
        // run uses; EL2's own state is untouched. The ISB at the end of `restore`
        // synchronizes it before the ERET.
        unsafe { asm!(concat!("msr ", $reg, ", {}"), in(reg) $c.$f, options(nostack, preserves_flags)) };
    };
}

/// Save the EL1 state of the vCPU that was running into `c`.
pub fn save(c: &mut El1Context, regions: usize) {
    save!(c.sctlr, "sctlr_el1");
    save!(c.cpacr, "cpacr_el1");
    save!(c.mair, "mair_el1");
    save!(c.vbar, "vbar_el1");
    save!(c.elr, "elr_el1");
    save!(c.spsr, "spsr_el1");
    save!(c.esr, "esr_el1");
    save!(c.far, "far_el1");
    save!(c.afsr0, "afsr0_el1");
    save!(c.afsr1, "afsr1_el1");
    save!(c.par, "par_el1");
    save!(c.sp_el0, "sp_el0");
    save!(c.sp_el1, "sp_el1");
    save!(c.tpidr_el0, "tpidr_el0");
    save!(c.tpidrro_el0, "tpidrro_el0");
    save!(c.tpidr_el1, "tpidr_el1");
    save!(c.contextidr, "contextidr_el1");
    save!(c.cntkctl, "cntkctl_el1");
    save!(c.csselr, "csselr_el1");
    save!(c.actlr, "actlr_el1");
    save!(c.prselr, "S3_0_C6_C2_1");
    save_el1_mpu(&mut c.mpu, regions.min(MAX_EL1_REGIONS));
}

/// The EL1 MPU regions of a group of 16 (region 16g + n through PRBAR<n>_EL1 and
/// PRLAR<n>_EL1, n = 0..15, once PRSELR_EL1 holds 16g), as (PRBAR, PRLAR) pairs: one
/// PRSELR write and one ISB per 16 regions, instead of one per region. The aliases
/// are encoded op0 3, op1 0, CRn 6, CRm 0b1:n[3:1], op2 n[0]:0b0:(0 base, 1 limit)
/// (Armv8-R AArch64); n = 0 is PRBAR_EL1/PRLAR_EL1 themselves.
macro_rules! el1_group {
    ($m:ident, $body:ident) => {
        $m!($body, 0, "S3_0_C6_C8_0", "S3_0_C6_C8_1");
        $m!($body, 1, "S3_0_C6_C8_4", "S3_0_C6_C8_5");
        $m!($body, 2, "S3_0_C6_C9_0", "S3_0_C6_C9_1");
        $m!($body, 3, "S3_0_C6_C9_4", "S3_0_C6_C9_5");
        $m!($body, 4, "S3_0_C6_C10_0", "S3_0_C6_C10_1");
        $m!($body, 5, "S3_0_C6_C10_4", "S3_0_C6_C10_5");
        $m!($body, 6, "S3_0_C6_C11_0", "S3_0_C6_C11_1");
        $m!($body, 7, "S3_0_C6_C11_4", "S3_0_C6_C11_5");
        $m!($body, 8, "S3_0_C6_C12_0", "S3_0_C6_C12_1");
        $m!($body, 9, "S3_0_C6_C12_4", "S3_0_C6_C12_5");
        $m!($body, 10, "S3_0_C6_C13_0", "S3_0_C6_C13_1");
        $m!($body, 11, "S3_0_C6_C13_4", "S3_0_C6_C13_5");
        $m!($body, 12, "S3_0_C6_C14_0", "S3_0_C6_C14_1");
        $m!($body, 13, "S3_0_C6_C14_4", "S3_0_C6_C14_5");
        $m!($body, 14, "S3_0_C6_C15_0", "S3_0_C6_C15_1");
        $m!($body, 15, "S3_0_C6_C15_4", "S3_0_C6_C15_5");
    };
}

macro_rules! read_alias {
    ($g:ident, $n:literal, $prbar:literal, $prlar:literal) => {
        // SAFETY: reads EL1 MPU region 16g + n through its alias (the caller selected
        // the group in PRSELR_EL1 and synchronized it with an ISB); no side effects.
        unsafe {
            asm!(
                concat!("mrs {b}, ", $prbar),
                concat!("mrs {l}, ", $prlar),
                b = out(reg) $g[$n].0, l = out(reg) $g[$n].1,
                options(nomem, nostack, preserves_flags)
            )
        };
    };
}

macro_rules! write_alias {
    ($g:ident, $n:literal, $prbar:literal, $prlar:literal) => {
        // SAFETY: programs EL1 MPU region 16g + n (EL1 stage 1 of the guest about to
        // run; EL2 does not use the EL1 MPU) through its alias; the caller selected the
        // group in PRSELR_EL1, and `restore` ends with an ISB before the ERET.
        unsafe {
            asm!(
                concat!("msr ", $prbar, ", {b}"),
                concat!("msr ", $prlar, ", {l}"),
                b = in(reg) $g[$n].0, l = in(reg) $g[$n].1,
                options(nostack, preserves_flags)
            )
        };
    };
}

/// Select the group of 16 EL1 MPU regions starting at `first` (a multiple of 16) for
/// the aliases, or region `first` alone for PRBAR_EL1/PRLAR_EL1.
fn select_el1_region(first: usize) {
    // SAFETY: PRSELR_EL1 only selects which EL1 MPU region the PRBAR/PRLAR forms
    // reach; the guest's own value is saved before and restored after (`save`,
    // `restore`). The ISB makes the selection reach those registers.
    unsafe {
        asm!(
            "msr S3_0_C6_C2_1, {r}",
            "isb",
            r = in(reg) first as u64,
            options(nostack, preserves_flags)
        )
    };
}

/// Read EL1 MPU regions `0..n` into `mpu`: whole groups of 16 through the aliases,
/// a partial last group one region at a time (aliases past the last implemented
/// region are not used).
fn save_el1_mpu(mpu: &mut [(u64, u64); MAX_EL1_REGIONS], n: usize) {
    let mut first = 0;
    while first < n {
        if first + 16 <= n {
            let g = &mut mpu[first..first + 16];
            select_el1_region(first);
            el1_group!(read_alias, g);
            first += 16;
        } else {
            let g = core::slice::from_mut(&mut mpu[first]);
            select_el1_region(first);
            read_alias!(g, 0, "S3_0_C6_C8_0", "S3_0_C6_C8_1");
            first += 1;
        }
    }
}

/// Program EL1 MPU regions `0..n` from `mpu` (as `save_el1_mpu` reads them).
fn restore_el1_mpu(mpu: &[(u64, u64); MAX_EL1_REGIONS], n: usize) {
    let mut first = 0;
    while first < n {
        if first + 16 <= n {
            let g = &mpu[first..first + 16];
            select_el1_region(first);
            el1_group!(write_alias, g);
            first += 16;
        } else {
            let g = core::slice::from_ref(&mpu[first]);
            select_el1_region(first);
            write_alias!(g, 0, "S3_0_C6_C8_0", "S3_0_C6_C8_1");
            first += 1;
        }
    }
}

/// Load `c` into the EL1 registers and the per-domain EL2 controls.
pub fn restore(c: &El1Context, regions: usize) {
    restore_el1_mpu(&c.mpu, regions.min(MAX_EL1_REGIONS));
    restore!(c.prselr, "S3_0_C6_C2_1");
    restore!(c.sctlr, "sctlr_el1");
    restore!(c.cpacr, "cpacr_el1");
    restore!(c.mair, "mair_el1");
    restore!(c.vbar, "vbar_el1");
    restore!(c.elr, "elr_el1");
    restore!(c.spsr, "spsr_el1");
    restore!(c.esr, "esr_el1");
    restore!(c.far, "far_el1");
    restore!(c.afsr0, "afsr0_el1");
    restore!(c.afsr1, "afsr1_el1");
    restore!(c.par, "par_el1");
    restore!(c.sp_el0, "sp_el0");
    restore!(c.sp_el1, "sp_el1");
    restore!(c.tpidr_el0, "tpidr_el0");
    restore!(c.tpidrro_el0, "tpidrro_el0");
    restore!(c.tpidr_el1, "tpidr_el1");
    restore!(c.contextidr, "contextidr_el1");
    restore!(c.cntkctl, "cntkctl_el1");
    restore!(c.csselr, "csselr_el1");
    restore!(c.actlr, "actlr_el1");
    // SAFETY: the domain's stage-2 controls (HCR_EL2: VM, traps, routing; VSCTLR_EL2:
    // VMID) take effect for EL1 only after the ERET; the ISB orders every write above
    // before it.
    unsafe {
        asm!(
            "msr hcr_el2, {h}",
            "msr S3_4_C2_C0_0, {v}",
            "isb",
            h = in(reg) c.hcr_el2, v = in(reg) c.vsctlr_el2,
            options(nostack, preserves_flags)
        )
    };
}

extern "C" {
    /// boot/entry.S: restore the TrapFrame at x0, leave SP_EL2 just past it, ERET.
    fn trap_return(frame: *mut TrapFrame) -> !;
}

/// Leave EL2 for the guest whose registers are in `frame` (EL1 state already
/// restored). The EL2 stack is abandoned: the guest's next trap saves its registers
/// into `frame` (SP_EL2 is left just past it) and runs Rust from the stack's top.
///
/// # Safety
/// `frame` is a vCPU's frame (16-byte aligned, never on the EL2 stack) holding a
/// complete guest context: x0-x30, ELR at a guest entry or resume point, SPSR for
/// EL1/EL0, with the domain's stage 2 in force; nothing of the current call chain is
/// needed afterwards. Interrupts are masked at EL2 (PSTATE.DAIF, as at reset and on
/// every exception entry): an exception taken between the restore and the ERET would
/// save its context over `frame`.
pub unsafe fn run(frame: *mut TrapFrame) -> ! {
    // SAFETY: the caller's contract.
    unsafe { trap_return(frame) }
}
