// SPDX-License-Identifier: GPL-2.0-only
//! Register layouts of the PMSAv8-64 EL2 MPU, as plain numbers.
//!
//! This module builds and decodes PRBAR_EL2 / PRLAR_EL2 values and owns the MAIR_EL2
//! attribute layout. It never reads or writes a register itself.
use tock_registers::{register_bitfields, LocalRegisterCopy};

use super::{Attrs, MemType};
use crate::mm::PhysRange;

register_bitfields![u64,
    /// Protection Region Base Address Register (EL2).
    pub PRBAR [
        /// Address bits [47:6] of the first byte.
        BASE OFFSET(6) NUMBITS(42) [],
        SH OFFSET(4) NUMBITS(2) [
            NonShareable = 0b00,
            OuterShareable = 0b10,
            InnerShareable = 0b11
        ],
        /// AP[2:1]: bit 1 of the field = read-only, bit 0 = EL1/EL0 access too.
        AP OFFSET(2) NUMBITS(2) [
            RwEl2 = 0b00,
            RwAll = 0b01,
            RoEl2 = 0b10,
            RoAll = 0b11
        ],
        /// XN[1:0]: 0b10 = execute-never at EL2.
        XN OFFSET(0) NUMBITS(2) [
            Executable = 0b00,
            ExecuteNever = 0b10
        ]
    ],
    /// Protection Region Limit Address Register (EL2).
    pub PRLAR [
        /// Address bits [47:6] of the last byte (the region ends at LIMIT:0x3f).
        LIMIT OFFSET(6) NUMBITS(42) [],
        ATTR_INDX OFFSET(1) NUMBITS(3) [],
        EN OFFSET(0) NUMBITS(1) []
    ]
];

/// The MPU's address granularity: regions start and end on 64-byte boundaries.
pub const MPU_GRANULE: u64 = 64;

/// MAIR_EL2 as rxen programs it; `MemType as u8` is the attribute index.
pub const MAIR_EL2_VALUE: u64 = (0x04 << 8) // 1: Device-nGnRE
    | (0x44 << 16) // 2: Normal, inner/outer non-cacheable
    | (0xff << 24); // 3: Normal, inner/outer write-back, read/write-allocate

/// Register values for a domain's region (the EL2 MPU as stage 2): EL1/EL0 access
/// (AP RwAll or RoAll), executable at EL1 and EL0 (XN 0b00) unless `attrs` says
/// execute-never (XN 0b10: nowhere), and EN clear: a domain's regions are enabled
/// only while it runs (PRENR_EL2). At EL2, SCTLR_EL2.WXN keeps every writable region
/// execute-never, so rxen never runs guest memory.
pub fn encode_guest(range: PhysRange, attrs: Attrs) -> (u64, u64) {
    let (prbar, prlar) = encode(range, attrs);
    let mut b: LocalRegisterCopy<u64, PRBAR::Register> = LocalRegisterCopy::new(prbar);
    let ap = if attrs.read_only {
        PRBAR::AP::RoAll
    } else {
        PRBAR::AP::RwAll
    };
    b.modify(ap);
    (b.get(), prlar & !1)
}

/// Register values for an enabled region covering `range` with `attrs`.
/// `range` must be 64-byte aligned and non-empty (the table checks stricter rules).
pub fn encode(range: PhysRange, attrs: Attrs) -> (u64, u64) {
    let mut prbar: LocalRegisterCopy<u64, PRBAR::Register> = LocalRegisterCopy::new(0);
    let sh = if attrs.mem.is_device() {
        PRBAR::SH::NonShareable
    } else {
        PRBAR::SH::InnerShareable
    };
    let ap = if attrs.read_only {
        PRBAR::AP::RoEl2
    } else {
        PRBAR::AP::RwEl2
    };
    let xn = if attrs.exec_never {
        PRBAR::XN::ExecuteNever
    } else {
        PRBAR::XN::Executable
    };
    prbar.modify(PRBAR::BASE.val(range.start >> 6) + sh + ap + xn);

    let mut prlar: LocalRegisterCopy<u64, PRLAR::Register> = LocalRegisterCopy::new(0);
    prlar.modify(
        PRLAR::LIMIT.val((range.end - 1) >> 6)
            + PRLAR::ATTR_INDX.val(attrs.mem as u64)
            + PRLAR::EN::SET,
    );
    (prbar.get(), prlar.get())
}

/// The PRBAR_EL2 bits below BASE for `attrs` (SH, AP, XN), for the boot head, which
/// builds its regions in assembly. Agrees with `encode` (tested).
pub const fn prbar_flags(attrs: Attrs) -> u64 {
    let sh: u64 = if attrs.mem.is_device() { 0b00 } else { 0b11 };
    let ap: u64 = if attrs.read_only { 0b10 } else { 0b00 };
    let xn: u64 = if attrs.exec_never { 0b10 } else { 0b00 };
    (sh << 4) | (ap << 2) | xn
}

/// The PRLAR_EL2 bits below LIMIT for `mem` (AttrIndx, EN).
pub const fn prlar_flags(mem: MemType) -> u64 {
    ((mem as u64) << 1) | 1
}

/// Why a pair of register values is not a region rxen could have programmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Disabled,
    UnknownAttrIndex(u8),
    ForeignPermissions,
    LimitBelowBase,
}

/// The range and attributes of an enabled region, for values that `encode` produces
/// (EL2-only access, XN 0b00 or 0b10, a MAIR index rxen defines).
pub fn decode(prbar: u64, prlar: u64) -> Result<(PhysRange, Attrs), DecodeError> {
    let b: LocalRegisterCopy<u64, PRBAR::Register> = LocalRegisterCopy::new(prbar);
    let l: LocalRegisterCopy<u64, PRLAR::Register> = LocalRegisterCopy::new(prlar);
    if !l.is_set(PRLAR::EN) {
        return Err(DecodeError::Disabled);
    }
    let idx = l.read(PRLAR::ATTR_INDX) as u8;
    let mem = MemType::from_index(idx).ok_or(DecodeError::UnknownAttrIndex(idx))?;
    let read_only = match b.read_as_enum(PRBAR::AP) {
        Some(PRBAR::AP::Value::RwEl2) => false,
        Some(PRBAR::AP::Value::RoEl2) => true,
        _ => return Err(DecodeError::ForeignPermissions),
    };
    let exec_never = match b.read(PRBAR::XN) {
        0b00 => false,
        0b10 => true,
        _ => return Err(DecodeError::ForeignPermissions),
    };
    let start = b.read(PRBAR::BASE) << 6;
    let end = (l.read(PRLAR::LIMIT) << 6) + MPU_GRANULE;
    if end <= start {
        return Err(DecodeError::LimitBelowBase);
    }
    Ok((
        PhysRange::new(start, end),
        Attrs {
            mem,
            read_only,
            exec_never,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_region_encodes_read_only_executable_normal() {
        let (b, l) = encode(PhysRange::new(0x1000, 0x3000), Attrs::TEXT);
        // BASE=0x1000, SH=inner (0b11 << 4), AP=RO at EL2 (0b10 << 2), XN=0.
        assert_eq!(b, 0x1000 | 0x30 | 0x8);
        // LIMIT = 0x2fc0 (last byte 0x2fff), AttrIndx 3, EN.
        assert_eq!(l, 0x2fc0 | (3 << 1) | 1);
    }

    #[test]
    fn device_region_is_non_shareable_rw_xn() {
        let (b, l) = encode(PhysRange::new(0x9c09_0000, 0x9c09_1000), Attrs::DEVICE);
        assert_eq!(b, 0x9c09_0000 | 0b10);
        assert_eq!(l, 0x9c09_0fc0 | 1);
    }

    #[test]
    fn boot_head_flags_agree_with_encode() {
        for attrs in [Attrs::TEXT, Attrs::RODATA, Attrs::DATA, Attrs::DEVICE] {
            let (b, l) = encode(PhysRange::new(0x10000, 0x20000), attrs);
            assert_eq!(b & 0x3f, prbar_flags(attrs));
            assert_eq!(l & 0x3f, prlar_flags(attrs.mem));
        }
    }

    #[test]
    fn decode_inverts_encode() {
        for attrs in [Attrs::TEXT, Attrs::RODATA, Attrs::DATA, Attrs::DEVICE] {
            let r = PhysRange::new(0x4_0000, 0x4_4000);
            let (b, l) = encode(r, attrs);
            assert_eq!(decode(b, l), Ok((r, attrs)));
        }
    }

    #[test]
    fn decode_rejects_disabled_and_foreign_values() {
        let (b, l) = encode(PhysRange::new(0, 0x1000), Attrs::DATA);
        assert_eq!(decode(b, l & !1), Err(DecodeError::Disabled));
        assert_eq!(decode(b | 0b0100, l), Err(DecodeError::ForeignPermissions));
        assert_eq!(decode(b | 0b01, l), Err(DecodeError::ForeignPermissions));
        assert_eq!(
            decode(b, l | (7 << 1)),
            Err(DecodeError::UnknownAttrIndex(7))
        );
    }
}
