// SPDX-License-Identifier: GPL-2.0-only
//! Exception routing and exception return for an Armv8-R AArch64 core, as pure
//! functions: which EL takes an exception and with which syndrome, the vector offset,
//! the PSTATE on entry, and whether an ERET is legal. The machine reads the registers,
//! asks here, and writes the answer into Unicorn; nothing here touches Unicorn.
//!
//! The rules (Arm ARM D1, the Armv8-R AArch64 supplement): there is no EL3, and
//! EL1 and EL0 are AArch64 only (HCR_EL2.RW is RES1 on the Cortex-R82).
//! - Undefined instructions, SVC, BRK, the illegal-state exception and stage-1
//!   aborts go to the current EL, or to EL1 from EL0 (EL2 when HCR_EL2.TGE = 1).
//! - HVC from EL1 or EL2 goes to EL2 (undefined when HCR_EL2.HCD = 1 or from EL0).
//! - SMC: with no EL3 it is trapped to EL2 by HCR_EL2.TSC from EL1, else undefined.
//! - WFI/WFE from EL0 or EL1 trap to EL2 when HCR_EL2.TWI/TWE are set.
//! - Stage-2 aborts, trapped system-register accesses and HVC go to EL2.
use crate::mpu::Stage;
use crate::syndrome;

pub const EC_WFX: u32 = 0x01;
pub const EC_ILLEGAL_STATE: u32 = 0x0e;
pub const EC_SMC64: u32 = 0x17;
pub const EC_SYSREG: u32 = 0x18;

pub const HCR_VM: u64 = 1 << 0;
pub const HCR_FMO: u64 = 1 << 3;
pub const HCR_IMO: u64 = 1 << 4;
pub const HCR_AMO: u64 = 1 << 5;
pub const HCR_VF: u64 = 1 << 6;
pub const HCR_VI: u64 = 1 << 7;
pub const HCR_VSE: u64 = 1 << 8;
pub const HCR_TWI: u64 = 1 << 13;
pub const HCR_TWE: u64 = 1 << 14;
pub const HCR_TID3: u64 = 1 << 18;
pub const HCR_TSC: u64 = 1 << 19;
pub const HCR_TACR: u64 = 1 << 21;
pub const HCR_TVM: u64 = 1 << 26;
pub const HCR_TGE: u64 = 1 << 27;
pub const HCR_HCD: u64 = 1 << 29;
pub const HCR_TRVM: u64 = 1 << 30;
/// RES1 on the Cortex-R82: EL1 is AArch64.
pub const HCR_RW: u64 = 1 << 31;

/// PSTATE fields used here (SPSR layout).
pub const PSTATE_SP: u64 = 1 << 0;
pub const PSTATE_M_EL_SHIFT: u64 = 2;
pub const PSTATE_NRW: u64 = 1 << 4;
pub const PSTATE_F: u64 = 1 << 6;
pub const PSTATE_I: u64 = 1 << 7;
pub const PSTATE_A: u64 = 1 << 8;
pub const PSTATE_D: u64 = 1 << 9;
pub const PSTATE_IL: u64 = 1 << 20;
pub const PSTATE_SS: u64 = 1 << 21;
pub const DAIF: u64 = PSTATE_D | PSTATE_A | PSTATE_I | PSTATE_F;

/// Which kind of exception: selects the vector within a group of four.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sync,
    Irq,
    Fiq,
    SError,
}

/// What happened, as the machine found out by decoding the instruction or the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    Undefined,
    Svc(u16),
    Hvc(u16),
    Smc(u16),
    /// WFI (`wfe: false`) or WFE that its HCR_EL2 trap bit catches.
    Wfx {
        wfe: bool,
    },
    /// A system-register access trapped to EL2, with its EC 0x18 ISS.
    SysRegTrap(u32),
    Brk(u16),
    IllegalState,
    InstructionAbort {
        stage: Stage,
        fsc: u32,
    },
    /// `iss` without the EC: ISV/SAS/SSE/SRT/SF/AR, WnR and the fault status.
    DataAbort {
        stage: Stage,
        iss: u32,
    },
}

/// Where a synchronous exception goes: the target EL and its ESR value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub target_el: u8,
    pub esr: u64,
}

/// The EL that takes exceptions the architecture routes to "the current EL, or EL1
/// from EL0".
fn current_or_el1(from_el: u8, hcr: u64) -> u8 {
    match from_el {
        0 if hcr & HCR_TGE != 0 => 2,
        0 => 1,
        el => el,
    }
}

/// Route a synchronous exception taken from `from_el` under HCR_EL2 = `hcr`.
pub fn route(cause: Cause, from_el: u8, hcr: u64) -> Route {
    let undefined = || Route {
        target_el: current_or_el1(from_el, hcr),
        esr: syndrome::esr(syndrome::EC_UNKNOWN, 0),
    };
    let at = |target_el: u8, ec: u32, iss: u32| Route {
        target_el,
        esr: syndrome::esr(ec, iss),
    };
    match cause {
        Cause::Undefined => undefined(),
        Cause::Svc(imm) => at(current_or_el1(from_el, hcr), syndrome::EC_SVC64, imm as u32),
        Cause::Hvc(imm) => {
            if from_el == 0 || hcr & HCR_HCD != 0 {
                undefined()
            } else {
                at(2, syndrome::EC_HVC64, imm as u32)
            }
        }
        Cause::Smc(imm) => {
            if from_el == 1 && hcr & HCR_TSC != 0 {
                at(2, EC_SMC64, imm as u32)
            } else {
                undefined()
            }
        }
        // ISS: CV = 1, COND = 0b1110 (AArch64), TI = 0 WFI / 1 WFE.
        Cause::Wfx { wfe } => at(2, EC_WFX, 1 << 24 | 0b1110 << 20 | wfe as u32),
        Cause::SysRegTrap(iss) => at(2, EC_SYSREG, iss),
        Cause::Brk(imm) => at(current_or_el1(from_el, hcr), syndrome::EC_BRK64, imm as u32),
        Cause::IllegalState => at(current_or_el1(from_el, hcr), EC_ILLEGAL_STATE, 0),
        Cause::InstructionAbort { stage, fsc } => {
            let target = match stage {
                Stage::One => current_or_el1(from_el, hcr),
                Stage::Two => 2,
            };
            let ec = if target > from_el {
                syndrome::EC_IABT_LOWER
            } else {
                syndrome::EC_IABT_SAME
            };
            at(target, ec, fsc)
        }
        Cause::DataAbort { stage, iss } => {
            let target = match stage {
                Stage::One => current_or_el1(from_el, hcr),
                Stage::Two => 2,
            };
            let ec = if target > from_el {
                syndrome::EC_DABT_LOWER
            } else {
                syndrome::EC_DABT_SAME
            };
            at(target, ec, iss)
        }
    }
}

/// The interrupt lines a core sees: physical IRQ/FIQ from its GIC CPU interface,
/// virtual IRQ/FIQ from the GIC's virtual CPU interface or HCR_EL2.VI/VF, and a
/// virtual SError from HCR_EL2.VSE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lines {
    pub irq: bool,
    pub fiq: bool,
    pub virq: bool,
    pub vfiq: bool,
    pub vserror: bool,
}

/// Which asynchronous exception, if any, is taken now at `el` with PSTATE = `pstate`
/// and HCR_EL2 = `hcr` (Arm ARM D1.3.6 and the routing tables): (target EL, kind).
/// - A physical interrupt routed to EL2 (HCR_EL2.IMO/FMO) is taken from EL0/EL1
///   whatever PSTATE.I/F say; at EL2 it is masked by PSTATE.I/F.
/// - Not routed to EL2, it targets EL1: taken at EL0/EL1 unless masked, never at EL2
///   (a lower target EL waits for the return).
/// - Virtual interrupts exist only with the routing bit set and only at EL0/EL1, masked
///   by PSTATE.I/F/A, and are taken to EL1.
///
/// Priority when several are pending: physical FIQ, IRQ, then virtual SError, FIQ, IRQ.
pub fn pending_interrupt(lines: Lines, el: u8, pstate: u64, hcr: u64) -> Option<(u8, Kind)> {
    let physical = |line: bool, route: u64, mask: u64, kind: Kind| {
        if !line {
            return None;
        }
        let to_el2 = hcr & route != 0;
        match (el, to_el2) {
            (2, true) => (pstate & mask == 0).then_some((2, kind)),
            (2, false) => None,
            (_, true) => Some((2, kind)),
            (_, false) => (pstate & mask == 0).then_some((1, kind)),
        }
    };
    let virt = |line: bool, route: u64, mask: u64, kind: Kind| {
        (line && el < 2 && hcr & route != 0 && pstate & mask == 0).then_some((1, kind))
    };
    physical(lines.fiq, HCR_FMO, PSTATE_F, Kind::Fiq)
        .or_else(|| physical(lines.irq, HCR_IMO, PSTATE_I, Kind::Irq))
        .or_else(|| virt(lines.vserror, HCR_AMO, PSTATE_A, Kind::SError))
        .or_else(|| virt(lines.vfiq, HCR_FMO, PSTATE_F, Kind::Fiq))
        .or_else(|| virt(lines.virq, HCR_IMO, PSTATE_I, Kind::Irq))
}

/// Whether WFI completes at once: any interrupt that would be taken were it not
/// masked by PSTATE (the architecture wakes WFI on a pending interrupt even when
/// PSTATE masks it).
pub fn wfi_wakes(lines: Lines, el: u8, hcr: u64) -> bool {
    pending_interrupt(lines, el, 0, hcr).is_some() || (el == 2 && (lines.irq || lines.fiq))
}

/// The vector offset from VBAR_EL<target>: the group (current EL with SP_EL0,
/// current EL with SP_ELx, lower EL using AArch64) plus 0x80 per kind.
pub fn vector_offset(from_el: u8, target_el: u8, spsel: bool, kind: Kind) -> u64 {
    let group = if from_el < target_el {
        0x400
    } else if spsel {
        0x200
    } else {
        0x000
    };
    group
        + match kind {
            Kind::Sync => 0x000,
            Kind::Irq => 0x080,
            Kind::Fiq => 0x100,
            Kind::SError => 0x180,
        }
}

/// PSTATE on entry to `target_el`: ELxh, DAIF masked, IL and SS clear.
pub fn entry_pstate(target_el: u8) -> u64 {
    DAIF | (target_el as u64) << PSTATE_M_EL_SHIFT | PSTATE_SP
}

/// Is an ERET from `current_el` with SPSR = `spsr` legal (Arm ARM, "Illegal return
/// events from AArch64 state")? On this core: the target must be AArch64 (M[4] = 0),
/// not a higher EL than the current one, not EL3 (none), and M[1] must be 0.
pub fn eret_is_legal(spsr: u64, current_el: u8) -> bool {
    let m = spsr & 0x1f;
    let target_el = ((m >> 2) & 3) as u8;
    if m & 0x10 != 0 || m & 0b10 != 0 {
        return false; // AArch32, or a reserved M[1]
    }
    if target_el > current_el || target_el == 3 {
        return false;
    }
    // EL0 has a single stack pointer: M[0] must be 0 for EL0t.
    !(target_el == 0 && m & 1 != 0)
}

/// PSTATE after an illegal exception return: EL, SP and nRW are unchanged; IL is
/// set; the other fields (NZCV, DAIF, ...) come from the SPSR.
pub fn illegal_return_pstate(spsr: u64, current_pstate: u64) -> u64 {
    let keep = 0x1f; // M[4:0]: EL, SP, nRW
    (spsr & !keep & !PSTATE_SS) | (current_pstate & keep) | PSTATE_IL
}

/// The ISS of a trapped MSR/MRS (EC 0x18): Op0, Op2, Op1, CRn, Rt, CRm, direction.
pub fn sysreg_iss(enc: (u32, u32, u32, u32, u32), rt: u32, read: bool) -> u32 {
    let (op0, op1, crn, crm, op2) = enc;
    op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 | read as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syndrome::{EC_BRK64, EC_DABT_LOWER, EC_DABT_SAME, EC_HVC64, EC_IABT_LOWER};

    fn ec(r: Route) -> u32 {
        (r.esr >> 26) as u32
    }

    #[test]
    fn hvc_goes_to_el2_from_el1_and_is_undefined_from_el0_or_with_hcd() {
        let r = route(Cause::Hvc(0xea1), 1, HCR_RW);
        assert_eq!((r.target_el, ec(r), r.esr & 0xffff), (2, EC_HVC64, 0xea1));
        let r = route(Cause::Hvc(1), 0, HCR_RW);
        assert_eq!((r.target_el, ec(r)), (1, 0));
        let r = route(Cause::Hvc(1), 1, HCR_RW | HCR_HCD);
        assert_eq!((r.target_el, ec(r)), (1, 0));
    }

    #[test]
    fn smc_without_el3_is_trapped_by_tsc_or_undefined() {
        let r = route(Cause::Smc(7), 1, HCR_TSC);
        assert_eq!((r.target_el, ec(r), r.esr & 0xffff), (2, EC_SMC64, 7));
        let r = route(Cause::Smc(7), 1, 0);
        assert_eq!((r.target_el, ec(r)), (1, 0));
        let r = route(Cause::Smc(7), 2, HCR_TSC);
        assert_eq!((r.target_el, ec(r)), (2, 0));
    }

    #[test]
    fn stage1_aborts_stay_in_the_el1_regime_stage2_aborts_go_to_el2() {
        let s1 = Cause::DataAbort {
            stage: Stage::One,
            iss: 0x4c,
        };
        let s2 = Cause::DataAbort {
            stage: Stage::Two,
            iss: 0x4c,
        };
        assert_eq!(
            (route(s1, 1, 0).target_el, ec(route(s1, 1, 0))),
            (1, EC_DABT_SAME)
        );
        assert_eq!(
            (route(s1, 0, 0).target_el, ec(route(s1, 0, 0))),
            (1, EC_DABT_LOWER)
        );
        assert_eq!(
            (route(s2, 1, 0).target_el, ec(route(s2, 1, 0))),
            (2, EC_DABT_LOWER)
        );
        let i2 = Cause::InstructionAbort {
            stage: Stage::Two,
            fsc: 0xc,
        };
        assert_eq!(ec(route(i2, 0, 0)), EC_IABT_LOWER);
        // TGE sends EL0's EL1-bound exceptions to EL2.
        assert_eq!(route(Cause::Brk(1), 0, HCR_TGE).target_el, 2);
        assert_eq!(ec(route(Cause::Brk(1), 0, 0)), EC_BRK64);
    }

    #[test]
    fn wfx_trap_syndrome_has_cv_cond_and_ti() {
        let r = route(Cause::Wfx { wfe: true }, 1, HCR_TWE);
        assert_eq!(r.target_el, 2);
        assert_eq!(r.esr & 0x1ff_ffff, 1 << 24 | 0xe << 20 | 1);
    }

    #[test]
    fn vector_offsets_follow_the_four_groups() {
        assert_eq!(vector_offset(2, 2, false, Kind::Sync), 0x000);
        assert_eq!(vector_offset(2, 2, true, Kind::Irq), 0x280);
        assert_eq!(vector_offset(1, 2, true, Kind::Sync), 0x400);
        assert_eq!(vector_offset(0, 1, false, Kind::Fiq), 0x500);
        assert_eq!(vector_offset(1, 1, true, Kind::SError), 0x380);
    }

    #[test]
    fn eret_legality_on_an_aarch64_only_core_without_el3() {
        assert!(eret_is_legal(0x3c5, 2)); // EL1h from EL2
        assert!(eret_is_legal(0x3c4, 2)); // EL1t
        assert!(eret_is_legal(0x3c0, 1)); // EL0t from EL1
        assert!(eret_is_legal(0x3c9, 2)); // EL2h from EL2
        assert!(!eret_is_legal(0x3c9, 1), "EL1 cannot return to EL2");
        assert!(!eret_is_legal(0x3cd, 2), "no EL3");
        assert!(
            !eret_is_legal(0x3d3, 2),
            "AArch32 (M[4] = 1) is not implemented"
        );
        assert!(!eret_is_legal(0x3c1, 2), "EL0 has no SP_EL0/SP_ELx choice");
        assert!(!eret_is_legal(0x3c6, 2), "M[1] is reserved");
    }

    #[test]
    fn illegal_return_keeps_el_and_sp_sets_il_and_takes_flags() {
        let p = illegal_return_pstate(0x6000_03cd, 0x3c9);
        assert_eq!(p & 0x1f, 0x9, "still EL2h");
        assert_ne!(p & PSTATE_IL, 0);
        assert_eq!(p & 0xf000_0000, 0x6000_0000, "NZCV from the SPSR");
        assert_eq!(entry_pstate(1), 0x3c5);
    }

    #[test]
    fn physical_interrupts_follow_imo_and_pstate_masks() {
        let irq = Lines {
            irq: true,
            ..Lines::default()
        };
        // At EL2, masked by PSTATE.I; unmasked, taken at EL2 when routed there.
        assert_eq!(pending_interrupt(irq, 2, DAIF, HCR_IMO), None);
        assert_eq!(pending_interrupt(irq, 2, 0, HCR_IMO), Some((2, Kind::Irq)));
        // From EL1 with IMO: to EL2 even with PSTATE.I set.
        assert_eq!(
            pending_interrupt(irq, 1, DAIF, HCR_IMO),
            Some((2, Kind::Irq))
        );
        // Without IMO: to EL1 from EL1/EL0 if unmasked; never taken at EL2.
        assert_eq!(pending_interrupt(irq, 0, 0, 0), Some((1, Kind::Irq)));
        assert_eq!(pending_interrupt(irq, 1, PSTATE_I, 0), None);
        assert_eq!(pending_interrupt(irq, 2, 0, 0), None);
    }

    #[test]
    fn virtual_interrupts_need_routing_and_reach_only_el1_and_el0() {
        let v = Lines {
            virq: true,
            ..Lines::default()
        };
        assert_eq!(pending_interrupt(v, 1, 0, HCR_IMO), Some((1, Kind::Irq)));
        assert_eq!(pending_interrupt(v, 1, 0, 0), None);
        assert_eq!(pending_interrupt(v, 1, PSTATE_I, HCR_IMO), None);
        assert_eq!(pending_interrupt(v, 2, 0, HCR_IMO), None);
        let se = Lines {
            vserror: true,
            virq: true,
            ..Lines::default()
        };
        assert_eq!(
            pending_interrupt(se, 0, 0, HCR_IMO | HCR_AMO),
            Some((1, Kind::SError)),
            "SError before IRQ"
        );
        // A masked interrupt still wakes WFI.
        assert!(wfi_wakes(v, 1, HCR_IMO));
        assert!(!wfi_wakes(v, 1, 0));
        assert!(wfi_wakes(
            Lines {
                irq: true,
                ..Lines::default()
            },
            2,
            0
        ));
    }

    #[test]
    fn sysreg_iss_packs_the_encoding_rt_and_direction() {
        // MRS x3, CNTP_CTL_EL0: op0 3, op1 3, CRn 14, CRm 2, op2 1.
        let iss = sysreg_iss((3, 3, 14, 2, 1), 3, true);
        assert_eq!(
            iss,
            3 << 20 | 1 << 17 | 3 << 14 | 14 << 10 | 3 << 5 | 2 << 1 | 1
        );
    }
}
