// SPDX-License-Identifier: GPL-2.0-only
//! What `monitor` commands print: the decoded MPU regions (in the layout of rxen's
//! own MPU dump), the system registers with the syndromes decoded, the instruction
//! count. Pure text from plain values.
use std::fmt::Write;

use crate::mpu::{Mpu, RegionRegs, SCTLR_BR, SCTLR_M, SCTLR_WXN};

pub const HELP: &str = "r82sim monitor commands:
  mpu      the EL2 and EL1 MPU regions, decoded
  regs     the EL2 and EL1 exception and control registers, ESR decoded
  icount   instructions executed so far, and the counter (CNTPCT_EL0)
  status   how the run stands (why it ended, if it did)
  help     this text
";

/// The memory type a MAIR attribute byte selects, named as rxen names it.
pub fn mem_type(attr: u8) -> String {
    match attr {
        0x00 => "Device-nGnRnE".into(),
        0x04 => "Device-nGnRE".into(),
        0x08 => "Device-nGRE".into(),
        0x0c => "Device-GRE".into(),
        0x44 => "Normal-NC".into(),
        0xff => "Normal-WB".into(),
        a => format!("MAIR {a:#04x}"),
    }
}

fn flags(sctlr: u64) -> String {
    let b = |m: u64| u8::from(sctlr & m != 0);
    format!("M={} BR={} WXN={}", b(SCTLR_M), b(SCTLR_BR), b(SCTLR_WXN))
}

/// XN[1:0] with separate EL1/EL0 controls (EL1 regime and stage 2).
fn xn_el1_el0(xn: u64) -> &'static str {
    match xn & 3 {
        0b00 => "X EL1+EL0",
        0b01 => "X EL0 only",
        0b10 => "XN",
        _ => "X EL1 only",
    }
}

fn attr(r: RegionRegs, mair: u64) -> String {
    mem_type((mair >> (8 * r.attr_index())) as u8)
}

/// The enabled regions of an MPU and the dump's first line (EL`el`: 1 or 2).
fn enabled_regions(mpu: &Mpu, el: u8, sctlr: u64) -> (Vec<u8>, String) {
    let enabled: Vec<u8> = (0..mpu.count())
        .filter(|i| mpu.region(*i).enabled())
        .collect();
    let head = format!(
        "EL{el} MPU: {} of {} regions enabled (SCTLR_EL{el} {}, PRENR_EL{el} {:#x})\n",
        enabled.len(),
        mpu.count(),
        flags(sctlr),
        mpu.prenr()
    );
    (enabled, head)
}

/// The enabled regions of the EL2 MPU, one line each: index, first..last byte, EL2
/// permissions, memory type; for a region open to EL1 (AP[1], stage 2), its EL1/EL0
/// rights.
pub fn el2_mpu(mpu: &Mpu, mair: u64, sctlr: u64) -> String {
    let (enabled, mut out) = enabled_regions(mpu, 2, sctlr);
    for i in enabled {
        let r = mpu.region(i);
        let rw = if r.read_only() { "RO" } else { "RW" };
        let x = if r.xn_el2() { "XN" } else { "X " };
        let _ = write!(
            out,
            "  #{i:<3} {:#012x}..{:#012x}  {rw} {x} {}",
            r.base(),
            r.limit(),
            attr(r, mair)
        );
        if r.el1_access() {
            let _ = write!(out, "  stage 2: EL1/EL0 {rw} {}", xn_el1_el0(r.prbar));
        }
        out.push('\n');
    }
    out
}

/// The enabled regions of the EL1 MPU (stage 1 of EL1&0): EL1 permissions, EL0
/// access, execute rights, memory type.
pub fn el1_mpu(mpu: &Mpu, mair: u64, sctlr: u64) -> String {
    let (enabled, mut out) = enabled_regions(mpu, 1, sctlr);
    for i in enabled {
        let r = mpu.region(i);
        let rw = if r.read_only() { "RO" } else { "RW" };
        let el0 = if r.el1_access() {
            "EL0 too"
        } else {
            "EL1 only"
        };
        let _ = writeln!(
            out,
            "  #{i:<3} {:#012x}..{:#012x}  {rw} {}  {}  {el0}",
            r.base(),
            r.limit(),
            xn_el1_el0(r.prbar),
            attr(r, mair)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIR: u64 = 0xff44_0400; // attr 0 Device-nGnRnE, 1 nGnRE, 2 NC, 3 WB

    fn mpu_with(regions: &[(u8, u64, u64)]) -> Mpu {
        let mut m = Mpu::new(16);
        for (i, prbar, prlar) in regions {
            m.write(*i, false, *prbar);
            m.write(*i, true, *prlar);
        }
        m
    }

    #[test]
    fn el2_regions_read_like_rxens_dump() {
        // Text RO X (AP 0b10, XN 0), data RW XN (XN[1]), a UART (device), one disabled.
        let m = mpu_with(&[
            (0, 0x0000_0008, 0x0000_4fc0 | (3 << 1) | 1),
            (1, 0x0001_0002, 0x0001_0fc0 | (3 << 1) | 1),
            (2, 0x9c09_0002, 0x9c09_0fc0 | 1),
            (3, 0x2000_0000, 0x2000_0fc0),
        ]);
        let text = el2_mpu(&m, MAIR, SCTLR_M | SCTLR_WXN);
        assert_eq!(
            text,
            "EL2 MPU: 3 of 16 regions enabled (SCTLR_EL2 M=1 BR=0 WXN=1, PRENR_EL2 0x7)\n\
             \x20 #0   0x0000000000..0x0000004fff  RO X  Normal-WB\n\
             \x20 #1   0x0000010000..0x0000010fff  RW XN Normal-WB\n\
             \x20 #2   0x009c090000..0x009c090fff  RW XN Device-nGnRnE\n"
        );
    }

    #[test]
    fn stage_2_rights_and_el1_regions_are_spelt_out() {
        // A guest region: EL1 access (AP[1]), RW, executable at EL1 and EL0.
        let m = mpu_with(&[(4, 0x4000_0000 | (1 << 2), 0x400f_ffc0 | (3 << 1) | 1)]);
        assert!(el2_mpu(&m, MAIR, 0).ends_with(
            "  #4   0x0040000000..0x00400fffff  RW X  Normal-WB  stage 2: EL1/EL0 RW X EL1+EL0\n"
        ));
        let el1 = mpu_with(&[(0, 0x4000_0000 | (1 << 3) | 0b10, 0x4000_0fc0 | (2 << 1) | 1)]);
        assert_eq!(
            el1_mpu(&el1, MAIR, SCTLR_M),
            "EL1 MPU: 1 of 16 regions enabled (SCTLR_EL1 M=1 BR=0 WXN=0, PRENR_EL1 0x1)\n\
             \x20 #0   0x0040000000..0x0040000fff  RO XN  Normal-NC  EL1 only\n"
        );
    }

    #[test]
    fn unknown_mair_attributes_show_their_value() {
        assert_eq!(mem_type(0xbb), "MAIR 0xbb");
        assert_eq!(mem_type(0x04), "Device-nGnRE");
    }
}
