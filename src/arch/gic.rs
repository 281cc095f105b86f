// SPDX-License-Identifier: GPL-2.0-only
//! The physical GICv3 through the `arm-gic` crate (feature `el2`), and the EL2 timer.
//!
//! The crate drives the distributor, the redistributor and the EL1/EL2 `ICC_*`
//! registers. What it does not cover is hand-written here and kept small: the
//! Cortex-R82's EL2 physical timer is the Secure one, CNTHPS_* (S3_4_C14_C5_x), which
//! no timer crate names; HCR_EL2's routing bits; and (later, for guests) the ICH_*
//! virtual interface, which arm-gic does not provide.
use core::arch::asm;
use core::ptr::NonNull;

use arm_gic::gicv3::registers::{Gicd, GicrSgi};
use arm_gic::gicv3::{GicCpuInterface, GicV3, SgiTarget, SgiTargetGroup};
use arm_gic::{IntId, InterruptGroup, UniqueMmioPointer};
use spin::mutex::SpinMutex;

use crate::gicd;

static GIC: SpinMutex<Option<GicV3<'static>>> = SpinMutex::new(None);

/// Priority rxen gives the interrupts it uses (mid-range: 0x80).
pub const PRIORITY: u8 = 0x80;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GicInitError {
    #[error("GIC at {gicd:#x}/{gicr:#x}: the redistributor is not usable: {why}")]
    Redistributor {
        gicd: u64,
        gicr: u64,
        why: &'static str,
    },
}

/// What the boot log says about the GIC.
#[derive(Clone, Copy, Debug)]
pub struct GicInfo {
    /// GICD_PIDR2.ArchRev (3 for GICv3).
    pub version: u32,
    pub spis: u32,
    pub list_registers: u32,
}

/// Initialise the GIC for this core (core 0) and route physical interrupts to EL2.
///
/// # Safety
///
/// `gicd` and `gicr` must be the device tree's GICv3 distributor and redistributor,
/// mapped as device memory and used by nothing else.
pub unsafe fn init(gicd: u64, gicr: u64) -> Result<GicInfo, GicInitError> {
    let err = |why| GicInitError::Redistributor { gicd, gicr, why };
    let d = NonNull::new(gicd as *mut Gicd).ok_or(err("null distributor"))?;
    let r = NonNull::new(gicr as *mut GicrSgi).ok_or(err("null redistributor"))?;
    // SAFETY: the caller guarantees `gicd` is this GIC's distributor, mapped as device
    // memory and owned by this driver alone; the crate does not hold it yet.
    unsafe { spi_defaults(gicd) };
    // SAFETY: the caller guarantees both ranges are this GIC's, mapped as device
    // memory and owned by this driver alone.
    let mut gic = unsafe { GicV3::new(UniqueMmioPointer::new(d), r, 1) }
        .map_err(|_| err("GICR_TYPER frames"))?;
    GicCpuInterface::enable_system_register_el2(true);
    // The crate's `setup(0)`, with the SPI defaults above instead of its own (the same
    // values, about 1.4 instructions a register rather than 6).
    gic.init_cpu(0);
    // One core (GicV3::new above was given 1): its redistributor. SMP will loop here.
    gic.redistributor(0)
        .map_err(|_| err("no redistributor for core 0"))?
        .configure_default_settings();
    let dist = gic.distributor();
    dist.enable_affinity_routing_secure(true);
    dist.enable_group1_non_secure(true);
    gic.gicd_barrier();
    GicCpuInterface::enable_group1(true);
    GicCpuInterface::set_priority_mask(0xff);
    let typer = gic.typer();
    let spis = typer.num_spis();
    // SAFETY: PIDR2 is a read-only identification register of the mapped GICD.
    let pidr2 = unsafe { core::ptr::read_volatile((gicd + 0xffe8) as *const u32) };
    let vtr: u64;
    // SAFETY: ICH_VTR_EL2 is an ID register of the virtual interface (read only).
    unsafe {
        asm!("mrs {}, S3_4_C12_C11_1", out(reg) vtr, options(nomem, nostack, preserves_flags))
    };
    *GIC.lock() = Some(gic);
    route_to_el2();
    Ok(GicInfo {
        version: (pidr2 >> 4) & 0xf,
        spis,
        list_registers: (vtr & 0x1f) as u32 + 1,
    })
}

/// The SPI defaults of `gicd::spi_defaults` (disabled, inactive, Group 1, priority
/// `PRIORITY`, level-sensitive; Xen's distributor init does the same, the `arm-gic`
/// crate's defaults are these values without the disable and deactivate), after
/// turning affinity routing on: the extended SPIs' registers are RES0 until it is.
///
/// # Safety
/// `gicd` is a GICv3 distributor, mapped as device memory, that nothing else uses.
unsafe fn spi_defaults(gicd: u64) {
    let reg = |off: u64| (gicd + off) as *mut u32;
    // SAFETY: GICD_CTLR and GICD_TYPER are registers of the distributor the caller
    // owns. Setting ARE_S is what the crate's setup does first; RWP clears once the
    // change has taken effect.
    unsafe {
        let ctlr = core::ptr::read_volatile(reg(gicd::CTLR));
        core::ptr::write_volatile(reg(gicd::CTLR), ctlr | gicd::CTLR_ARE_S);
        while core::ptr::read_volatile(reg(gicd::CTLR)) & gicd::CTLR_RWP != 0 {
            core::hint::spin_loop();
        }
    }
    // SAFETY: as above; GICD_TYPER is read-only.
    let typer = unsafe { core::ptr::read_volatile(reg(gicd::TYPER)) };
    for f in gicd::spi_defaults(typer, PRIORITY) {
        // SAFETY: the fill lies in one of the distributor's per-interrupt arrays,
        // within the interrupts GICD_TYPER says it implements.
        unsafe { fill_words(gicd + f.from, gicd + f.to, f.value) };
    }
}

/// Write `value` to each 32-bit register in [from, to): sixteen a step, then eight,
/// then one by one.
///
/// # Safety
/// [from, to) is 4-byte aligned device memory (registers) that writing `value` to is
/// allowed and that nothing else uses.
unsafe fn fill_words(from: u64, to: u64, value: u32) {
    // One 32-bit store per register: GICD registers take 32-bit accesses.
    let len = to.saturating_sub(from);
    let sixteens = from + (len & !63);
    if sixteens > from {
        // SAFETY: [from, sixteens) is whole 64-byte steps inside [from, to) (the
        // caller's contract); the loop stores exactly those registers.
        unsafe {
            asm!(
                "2:",
                "str {v:w}, [{p}]",
                "str {v:w}, [{p}, #4]",
                "str {v:w}, [{p}, #8]",
                "str {v:w}, [{p}, #12]",
                "str {v:w}, [{p}, #16]",
                "str {v:w}, [{p}, #20]",
                "str {v:w}, [{p}, #24]",
                "str {v:w}, [{p}, #28]",
                "str {v:w}, [{p}, #32]",
                "str {v:w}, [{p}, #36]",
                "str {v:w}, [{p}, #40]",
                "str {v:w}, [{p}, #44]",
                "str {v:w}, [{p}, #48]",
                "str {v:w}, [{p}, #52]",
                "str {v:w}, [{p}, #56]",
                "str {v:w}, [{p}, #60]",
                "add {p}, {p}, #64",
                "cmp {p}, {e}",
                "b.lo 2b",
                p = inout(reg) from => _,
                e = in(reg) sixteens,
                v = in(reg) value,
                options(nostack)
            )
        };
    }
    let mut p = sixteens;
    if len & 32 != 0 {
        // SAFETY: eight registers [p, p + 32) inside [from, to): `len` has a 32-byte
        // part past the 64-byte steps.
        unsafe {
            asm!(
                "str {v:w}, [{p}]",
                "str {v:w}, [{p}, #4]",
                "str {v:w}, [{p}, #8]",
                "str {v:w}, [{p}, #12]",
                "str {v:w}, [{p}, #16]",
                "str {v:w}, [{p}, #20]",
                "str {v:w}, [{p}, #24]",
                "str {v:w}, [{p}, #28]",
                p = in(reg) p,
                v = in(reg) value,
                options(nostack)
            )
        };
        p += 32;
    }
    while p < to {
        // SAFETY: one register inside [from, to).
        unsafe { core::ptr::write_volatile(p as *mut u32, value) };
        p += 4;
    }
}

/// HCR_EL2.{IMO, FMO, AMO}: physical IRQ, FIQ and SError go to EL2, even from a guest
/// that masks them; RW stays set (EL1 is AArch64).
fn route_to_el2() {
    // SAFETY: sets routing bits only; the guest-specific bits (VM, traps) are set per
    // vCPU on entry. The ISB makes the routing take effect before interrupts unmask.
    unsafe {
        asm!(
            "mrs {t}, hcr_el2",
            "orr {t}, {t}, #(1 << 3)",
            "orr {t}, {t}, #(1 << 4)",
            "orr {t}, {t}, #(1 << 5)",
            "orr {t}, {t}, #(1 << 31)",
            "msr hcr_el2, {t}",
            "isb",
            t = out(reg) _,
            options(nostack, preserves_flags)
        )
    };
}

/// The crate's IntId for a raw INTID.
fn intid(raw: u32) -> IntId {
    match raw {
        0..=15 => IntId::sgi(raw),
        16..=31 => IntId::ppi(raw - 16),
        _ => IntId::spi(raw - 32),
    }
}

/// Enable a private interrupt (SGI or PPI) of this core at rxen's priority, group 1.
pub fn enable_private(raw: u32) -> bool {
    let id = intid(raw);
    let mut g = GIC.lock();
    let Some(gic) = g.as_mut() else { return false };
    gic.set_interrupt_priority(id, Some(0), PRIORITY).is_ok()
        && gic.enable_interrupt(id, Some(0), true).is_ok()
}

/// Acknowledge the highest-priority pending group-1 interrupt (ICC_IAR1_EL1).
pub fn acknowledge() -> Option<u32> {
    GicCpuInterface::get_and_acknowledge_interrupt(InterruptGroup::Group1).map(u32::from)
}

/// Drop its priority and deactivate it (EOImode 0).
pub fn end(intid: u32) {
    GicCpuInterface::end_interrupt(self::intid(intid), InterruptGroup::Group1);
}

/// Send SGI `sgi` to this core (affinity 0.0.0.0).
pub fn sgi_to_self(sgi: u32) {
    GicCpuInterface::send_sgi(
        IntId::sgi(sgi),
        SgiTarget::List {
            affinity3: 0,
            affinity2: 0,
            affinity1: 0,
            target_list: 0b1,
        },
        SgiTargetGroup::CurrentGroup1,
    )
    .ok();
}

/// Unmask IRQs at EL2 (PSTATE.I).
pub fn irq_enable() {
    // SAFETY: unmasking IRQs is safe once the vectors and the handler registry exist.
    unsafe { asm!("msr daifclr, #2", options(nomem, nostack, preserves_flags)) };
}

pub fn irq_disable() {
    // SAFETY: masking IRQs has no memory effect.
    unsafe { asm!("msr daifset, #2", options(nomem, nostack, preserves_flags)) };
}

/// Wait for an interrupt.
pub fn wfi() {
    // SAFETY: WFI only waits.
    unsafe { asm!("wfi", options(nomem, nostack, preserves_flags)) };
}

/// The EL2 physical timer of the Cortex-R82 (CNTHPS_*, the Secure EL2 timer).
pub mod timer {
    use core::arch::asm;

    /// CNTPCT_EL0: the counter now.
    pub fn now() -> u64 {
        let v: u64;
        // SAFETY: reads the counter after an ISB (so it is not read early).
        unsafe {
            asm!("isb", "mrs {}, cntpct_el0", out(reg) v, options(nomem, nostack, preserves_flags))
        };
        v
    }

    /// CNTFRQ_EL0.
    pub fn frequency() -> u64 {
        let v: u64;
        // SAFETY: reads an ID-like register.
        unsafe { asm!("mrs {}, cntfrq_el0", out(reg) v, options(nomem, nostack, preserves_flags)) };
        v
    }

    /// Fire at counter value `deadline` (CNTHPS_CVAL_EL2, CTL.ENABLE, unmasked).
    pub fn arm(deadline: u64) {
        // SAFETY: programs the EL2 timer, which only rxen uses.
        unsafe {
            asm!(
                "msr S3_4_C14_C5_2, {d}",
                "msr S3_4_C14_C5_1, {e}",
                "isb",
                d = in(reg) deadline, e = in(reg) 1u64,
                options(nomem, nostack, preserves_flags)
            )
        };
    }

    /// Stop it (CTL.ENABLE clear: the interrupt line drops).
    pub fn disarm() {
        // SAFETY: as `arm`.
        unsafe {
            asm!(
                "msr S3_4_C14_C5_1, xzr",
                "isb",
                options(nomem, nostack, preserves_flags)
            )
        };
    }
}

/// An interrupt handler: the INTID, and whether a guest was running (else rxen was, at
/// EL2). No frame: a handler may switch vCPUs (`domain::vm`), after which the
/// interrupted frame is no longer the one the trap path resumes.
pub type Handler = fn(intid: u32, from_guest: bool);

static HANDLERS: SpinMutex<[Option<Handler>; 32]> = SpinMutex::new([None; 32]);

/// Register the handler of a private interrupt (SGI/PPI) and enable it.
pub fn register(intid: u32, h: Handler) -> bool {
    if intid >= 32 {
        return false;
    }
    HANDLERS.lock()[intid as usize] = Some(h);
    enable_private(intid)
}

/// The IRQ vector's work: acknowledge, run the handler, end, until nothing is pending.
/// An interrupt with no handler is ended and reported once.
pub fn dispatch(from_guest: bool) {
    while let Some(id) = acknowledge() {
        if id >= 1020 {
            break;
        }
        let h = HANDLERS.lock().get(id as usize).copied().flatten();
        match h {
            Some(h) => h(id, from_guest),
            None => log::warn!("interrupt {id} has no handler: ignored"),
        }
        end(id);
    }
}
