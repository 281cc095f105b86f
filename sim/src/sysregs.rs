// SPDX-License-Identifier: GPL-2.0-only
//! System-register facts r82sim needs, as pure functions of the encoding
//! (op0, op1, CRn, CRm, op2): which encodings Unicorn already implements, the PMSA
//! region-register forms of the EL1 and EL2 MPUs, and which accesses HCR_EL2 traps
//! to EL2. The machine's MRS/MSR hook asks here; nothing here touches Unicorn.
use crate::exception;
use crate::mpu::Mpu;

pub type Enc = (u32, u32, u32, u32, u32);

/// Encodings served here that Unicorn's A-profile model also implements. Returning
/// `true` from the hook skips those by itself; writing PC as well would make Unicorn
/// run the rest of the translation block and then run it again from the new PC. For
/// encodings it does not know (the PMSA registers), the hook must advance PC itself.
pub const UNICORN_KNOWS: [Enc; 10] = [
    (3, 0, 0, 0, 0),  // MIDR_EL1
    (3, 0, 0, 0, 5),  // MPIDR_EL1
    (3, 0, 0, 7, 0),  // ID_AA64MMFR0_EL1
    (3, 0, 0, 4, 0),  // ID_AA64PFR0_EL1
    (3, 3, 14, 0, 0), // CNTFRQ_EL0
    (3, 3, 14, 0, 1), // CNTPCT_EL0
    (3, 3, 14, 0, 2), // CNTVCT_EL0
    (3, 4, 2, 0, 0),  // VSCTLR_EL2 (TTBR0_EL2 to Unicorn)
    VTCR_EL2,
    HCR_EL2,
];

/// Whether Unicorn's A-profile model implements `e` itself (see `UNICORN_KNOWS`): the
/// listed registers and the generic-timer registers of EL0/EL1 and the non-secure EL2
/// timer (the Secure EL2 timer CNTHPS_* is unknown to it).
pub fn unicorn_knows(e: Enc) -> bool {
    UNICORN_KNOWS.contains(&e)
        || matches!(
            e,
            (3, 3, 14, 2 | 3, 0..=2)   // CNTP_*, CNTV_*
                | (3, 4, 14, 1, 0)     // CNTHCTL_EL2
                | (3, 4, 14, 0, 3)     // CNTVOFF_EL2
                | (3, 0, 14, 1, 0)     // CNTKCTL_EL1
                | (3, 4, 14, 2, 0..=2) // CNTHP_*
        )
}

pub const HCR_EL2: Enc = (3, 4, 1, 1, 0);
pub const SCTLR_EL1: Enc = (3, 0, 1, 0, 0);
pub const VTCR_EL2: Enc = (3, 4, 2, 1, 2);

/// PRBAR/PRLAR forms of the MPU of EL`op1 = 4` (EL2) or `op1 = 0` (EL1):
/// Some((region, is_limit, through PRSELR)).
pub fn region_reg(mpu: &Mpu, e: Enc, op1: u32) -> Option<(Option<u8>, bool, bool)> {
    match e {
        (3, o, 6, 8, op2 @ (0 | 1)) if o == op1 => Some((mpu.selected(), op2 == 1, true)),
        (3, o, 6, crm @ 8..=15, op2 @ (0 | 1 | 4 | 5)) if o == op1 => {
            let n = ((crm - 8) * 2 + op2 / 4) as u8;
            Some((mpu.alias(n), op2 & 1 == 1, false))
        }
        _ => None,
    }
}

/// The EL1 MPU's registers: PRSELR_EL1, PRENR_EL1, PRBAR/PRLAR_EL1 and aliases.
pub fn is_el1_mpu_reg(e: Enc) -> bool {
    matches!(
        e,
        (3, 0, 6, 1, 1) | (3, 0, 6, 2, 1) | (3, 0, 6, 8..=15, 0 | 1 | 4 | 5)
    )
}

/// Registers HCR_EL2 traps to EL2 from EL1 (EC 0x18), for the encodings Unicorn
/// cannot trap itself: TVM (writes) and TRVM (reads) of the EL1 MPU registers and
/// SCTLR_EL1/MAIR_EL1, TID3 (the ID register group), TACR (ACTLR_EL1).
pub fn trapped_to_el2(e: Enc, read: bool, hcr: u64) -> bool {
    let vm_reg = is_el1_mpu_reg(e) || e == SCTLR_EL1 || e == (3, 0, 10, 2, 0);
    let vm_trap = if read {
        exception::HCR_TRVM
    } else {
        exception::HCR_TVM
    };
    (vm_reg && hcr & vm_trap != 0)
        || (matches!(e, (3, 0, 0, 1..=7, _)) && read && hcr & exception::HCR_TID3 != 0)
        || (e == (3, 0, 1, 0, 1) && hcr & exception::HCR_TACR != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_register_forms_of_both_mpus() {
        let mut m = Mpu::new(32);
        m.prselr = 0x13;
        // PRBAR_EL2 / PRLAR_EL2 reach the selected region.
        assert_eq!(
            region_reg(&m, (3, 4, 6, 8, 0), 4),
            Some((Some(0x13), false, true))
        );
        assert_eq!(
            region_reg(&m, (3, 4, 6, 8, 1), 4),
            Some((Some(0x13), true, true))
        );
        // PRBAR3_EL1 (CRm 9, op2 4) reaches region (PRSELR[7:4] << 4) + 3.
        assert_eq!(
            region_reg(&m, (3, 0, 6, 9, 4), 0),
            Some((Some(0x13), false, false))
        );
        assert_eq!(
            region_reg(&m, (3, 0, 6, 9, 5), 0),
            Some((Some(0x13), true, false))
        );
        // An EL1 form is not an EL2 one.
        assert_eq!(region_reg(&m, (3, 0, 6, 8, 0), 4), None);
    }

    #[test]
    fn hcr_el2_traps_of_el1_accesses() {
        let prbar_el1 = (3, 0, 6, 8, 0);
        assert!(trapped_to_el2(prbar_el1, false, exception::HCR_TVM));
        assert!(!trapped_to_el2(prbar_el1, true, exception::HCR_TVM));
        assert!(trapped_to_el2(prbar_el1, true, exception::HCR_TRVM));
        assert!(trapped_to_el2(SCTLR_EL1, false, exception::HCR_TVM));
        let mmfr0 = (3, 0, 0, 7, 0);
        assert!(trapped_to_el2(mmfr0, true, exception::HCR_TID3));
        assert!(!trapped_to_el2(mmfr0, true, 0));
        assert!(trapped_to_el2((3, 0, 1, 0, 1), true, exception::HCR_TACR));
        assert!(
            !trapped_to_el2((3, 0, 0, 0, 0), true, exception::HCR_TID3),
            "MIDR is not in the TID3 group"
        );
    }
}
