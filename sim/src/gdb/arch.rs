// SPDX-License-Identifier: GPL-2.0-only
//! The architecture GDB is told about: AArch64's core and FP/SIMD registers (as
//! `gdbstub_arch` defines them) and, instead of every A-profile system register,
//! the ones a hypervisor developer needs on a Cortex-R82, in group "system". Pure
//! data: the register numbers are the 16-bit system-register encodings, as
//! `gdbstub_arch`'s `AArch64RegId::System` expects.
use std::sync::OnceLock;

use gdbstub::arch::Arch;
use gdbstub_arch::aarch64::reg::id::AArch64RegId;
use gdbstub_arch::aarch64::reg::AArch64CoreRegs;
use gdbstub_arch::aarch64::AArch64;

use crate::sysregs::Enc;

/// The system registers in the target description: (name, encoding).
pub const SYSREGS: &[(&str, Enc)] = &[
    ("SCTLR_EL2", (3, 4, 1, 0, 0)),
    ("HCR_EL2", (3, 4, 1, 1, 0)),
    ("VBAR_EL2", (3, 4, 12, 0, 0)),
    ("ESR_EL2", (3, 4, 5, 2, 0)),
    ("ELR_EL2", (3, 4, 4, 0, 1)),
    ("FAR_EL2", (3, 4, 6, 0, 0)),
    ("HPFAR_EL2", (3, 4, 6, 0, 4)),
    ("SPSR_EL2", (3, 4, 4, 0, 0)),
    ("SP_EL2", (3, 6, 4, 1, 0)),
    ("MAIR_EL2", (3, 4, 10, 2, 0)),
    ("TPIDR_EL2", (3, 4, 13, 0, 2)),
    ("VTCR_EL2", (3, 4, 2, 1, 2)),
    ("VSCTLR_EL2", (3, 4, 2, 0, 0)),
    ("MPUIR_EL2", (3, 4, 0, 0, 4)),
    ("PRSELR_EL2", (3, 4, 6, 2, 1)),
    ("PRENR_EL2", (3, 4, 6, 1, 1)),
    ("SCTLR_EL1", (3, 0, 1, 0, 0)),
    ("VBAR_EL1", (3, 0, 12, 0, 0)),
    ("ESR_EL1", (3, 0, 5, 2, 0)),
    ("ELR_EL1", (3, 0, 4, 0, 1)),
    ("FAR_EL1", (3, 0, 6, 0, 0)),
    ("SPSR_EL1", (3, 0, 4, 0, 0)),
    ("SP_EL1", (3, 4, 4, 1, 0)),
    ("SP_EL0", (3, 0, 4, 1, 0)),
    ("MAIR_EL1", (3, 0, 10, 2, 0)),
    ("TPIDR_EL1", (3, 0, 13, 0, 4)),
    ("MPUIR_EL1", (3, 0, 0, 0, 4)),
    ("PRSELR_EL1", (3, 0, 6, 2, 1)),
    ("PRENR_EL1", (3, 0, 6, 1, 1)),
    ("CNTPCT_EL0", (3, 3, 14, 0, 1)),
    ("CNTFRQ_EL0", (3, 3, 14, 0, 0)),
    ("MIDR_EL1", (3, 0, 0, 0, 0)),
    ("MPIDR_EL1", (3, 0, 0, 0, 5)),
];

/// The GDB register number of a system register: op0:op1:CRn:CRm:op2 in 16 bits.
pub const fn regnum(e: Enc) -> u16 {
    ((e.0 << 14) | (e.1 << 11) | (e.2 << 7) | (e.3 << 3) | e.4) as u16
}

/// The encoding of a system-register number.
pub const fn encoding(n: u16) -> Enc {
    let n = n as u32;
    (
        n >> 14,
        (n >> 11) & 7,
        (n >> 7) & 0xf,
        (n >> 3) & 0xf,
        n & 7,
    )
}

/// Armv8-R AArch64 as r82sim presents it to GDB.
pub enum R82 {}

impl Arch for R82 {
    type Usize = u64;
    type Registers = AArch64CoreRegs;
    type RegId = AArch64RegId;
    type BreakpointKind = usize;

    fn target_description_xml() -> Option<&'static str> {
        static XML: OnceLock<String> = OnceLock::new();
        Some(XML.get_or_init(description).as_str())
    }
}

/// gdbstub_arch's AArch64 description with its system-register feature replaced by
/// ours.
fn description() -> String {
    let full = AArch64::target_description_xml().unwrap_or("");
    let cut = full
        .find("<feature name=\"org.rust.gdb.arm.sys.regs\">")
        .or_else(|| full.find("</target>"))
        .unwrap_or(full.len());
    let mut xml = full[..cut].to_string();
    xml.push_str("<feature name=\"org.rxen.r82sim.sysregs\">");
    for (name, e) in SYSREGS {
        xml.push_str(&format!(
            "<reg name=\"{name}\" bitsize=\"64\" regnum=\"{}\" group=\"system\"/>",
            regnum(*e)
        ));
    }
    xml.push_str("</feature></target>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_numbers_are_the_encodings_gdbstub_arch_uses() {
        assert_eq!(
            AArch64RegId::MIDR_EL1,
            AArch64RegId::System(regnum((3, 0, 0, 0, 0)))
        );
        assert_eq!(
            AArch64RegId::FPSR,
            AArch64RegId::System(regnum((3, 3, 4, 4, 1)))
        );
        for (_, e) in SYSREGS {
            assert_eq!(encoding(regnum(*e)), *e);
            assert!(regnum(*e) >= 0x8000, "op0 is 2 or 3");
        }
    }

    #[test]
    fn the_description_keeps_the_core_and_fpu_and_lists_our_registers() {
        let xml = R82::target_description_xml().unwrap();
        assert!(xml.starts_with("<target version=\"1.0\">"));
        assert!(xml.contains("<architecture>aarch64</architecture>"));
        assert!(xml.contains("org.gnu.gdb.aarch64.core"));
        assert!(xml.contains("org.gnu.gdb.aarch64.fpu"));
        assert!(!xml.contains("org.rust.gdb.arm.sys.regs"));
        assert!(xml.contains("<reg name=\"ESR_EL2\" bitsize=\"64\" regnum=\"58000\""));
        assert!(xml.ends_with("</feature></target>"));
        assert_eq!(xml.matches("<reg name=\"SCTLR_EL1\"").count(), 1);
    }
}
