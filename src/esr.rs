// SPDX-License-Identifier: GPL-2.0-only
//! Decoding of ESR_EL2 syndromes into words a person can read. Pure: it never reads
//! a register; trap handlers pass the value in.
use core::fmt;

/// Exception classes rxen reports by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionClass {
    Unknown,
    Wfx,
    Svc64,
    Hvc64,
    Smc64,
    SysReg,
    InstrAbortLower,
    InstrAbortSame,
    PcAlignment,
    DataAbortLower,
    DataAbortSame,
    SpAlignment,
    SError,
    Brk64,
    Other(u8),
}

impl ExceptionClass {
    pub const fn from_ec(ec: u8) -> Self {
        match ec {
            0x00 => Self::Unknown,
            0x01 => Self::Wfx,
            0x15 => Self::Svc64,
            0x16 => Self::Hvc64,
            0x17 => Self::Smc64,
            0x18 => Self::SysReg,
            0x20 => Self::InstrAbortLower,
            0x21 => Self::InstrAbortSame,
            0x22 => Self::PcAlignment,
            0x24 => Self::DataAbortLower,
            0x25 => Self::DataAbortSame,
            0x26 => Self::SpAlignment,
            0x2f => Self::SError,
            0x3c => Self::Brk64,
            other => Self::Other(other),
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown reason (undefined instruction)",
            Self::Wfx => "WFI/WFE",
            Self::Svc64 => "SVC",
            Self::Hvc64 => "HVC",
            Self::Smc64 => "SMC",
            Self::SysReg => "system register access",
            Self::InstrAbortLower => "instruction abort from a lower EL",
            Self::InstrAbortSame => "instruction abort at EL2",
            Self::PcAlignment => "PC alignment fault",
            Self::DataAbortLower => "data abort from a lower EL",
            Self::DataAbortSame => "data abort at EL2",
            Self::SpAlignment => "SP alignment fault",
            Self::SError => "SError",
            Self::Brk64 => "BRK",
            Self::Other(_) => "other",
        }
    }
}

/// The kind of fault an abort's status code reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// No MPU region matched (or more than one did).
    Translation,
    AccessFlag,
    /// A region matched but its permissions forbid the access.
    Permission,
    Alignment,
    SyncExternal,
    Other,
}

/// An ESR_EL2 value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Esr(pub u64);

impl Esr {
    pub const fn ec(self) -> u8 {
        ((self.0 >> 26) & 0x3f) as u8
    }

    pub const fn class(self) -> ExceptionClass {
        ExceptionClass::from_ec(self.ec())
    }

    pub const fn il(self) -> bool {
        self.0 & (1 << 25) != 0
    }

    pub const fn iss(self) -> u32 {
        (self.0 & 0x1ff_ffff) as u32
    }

    pub const fn is_abort(self) -> bool {
        matches!(self.ec(), 0x20 | 0x21 | 0x24 | 0x25)
    }

    pub const fn is_data_abort(self) -> bool {
        matches!(self.ec(), 0x24 | 0x25)
    }

    /// DFSC/IFSC for aborts.
    pub const fn fsc(self) -> u8 {
        (self.0 & 0x3f) as u8
    }

    pub const fn fault_kind(self) -> FaultKind {
        match self.fsc() & 0x3c {
            0x04 => FaultKind::Translation,
            0x08 => FaultKind::AccessFlag,
            0x0c => FaultKind::Permission,
            _ => match self.fsc() {
                0x21 => FaultKind::Alignment,
                0x10 => FaultKind::SyncExternal,
                _ => FaultKind::Other,
            },
        }
    }

    /// Data aborts: the access was a write.
    pub const fn wnr(self) -> bool {
        self.0 & (1 << 6) != 0
    }

    /// Data aborts: ISV, SAS (access size in bytes) and SRT are valid.
    pub const fn isv(self) -> bool {
        self.0 & (1 << 24) != 0
    }

    pub const fn access_size(self) -> u8 {
        1 << ((self.0 >> 22) & 3)
    }

    pub const fn srt(self) -> u8 {
        ((self.0 >> 16) & 0x1f) as u8
    }
}

impl fmt::Display for Esr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ESR {:#010x}: EC {:#04x} {}",
            self.0,
            self.ec(),
            self.class().name()
        )?;
        if self.is_abort() {
            let level = self.fsc() & 3;
            write!(
                f,
                ", {:?} fault (FSC {:#04x}",
                self.fault_kind(),
                self.fsc()
            )?;
            if matches!(
                self.fault_kind(),
                FaultKind::Translation | FaultKind::Permission | FaultKind::AccessFlag
            ) {
                write!(f, ", level {level}")?;
            }
            write!(f, ")")?;
            if self.is_data_abort() {
                write!(f, ", {}", if self.wnr() { "write" } else { "read" })?;
                if self.isv() {
                    write!(
                        f,
                        " of {} bytes, register x{}",
                        self.access_size(),
                        self.srt()
                    )?;
                }
            }
        } else if matches!(
            self.class(),
            ExceptionClass::Svc64 | ExceptionClass::Hvc64 | ExceptionClass::Brk64
        ) {
            write!(f, " #{:#x}", self.iss() & 0xffff)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Esr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_abort_write_permission_fault_decodes() {
        // EC 0x25, IL, ISV, SAS=3 (8 bytes), SRT=1, WnR, DFSC permission level 0.
        let esr =
            Esr((0x25 << 26) | (1 << 25) | (1 << 24) | (3 << 22) | (1 << 16) | (1 << 6) | 0x0c);
        assert_eq!(esr.class(), ExceptionClass::DataAbortSame);
        assert_eq!(esr.fault_kind(), FaultKind::Permission);
        assert!(esr.wnr());
        assert_eq!(esr.access_size(), 8);
        assert_eq!(
            esr.to_string(),
            "ESR 0x97c1004c: EC 0x25 data abort at EL2, Permission fault (FSC 0x0c, level 0), write of 8 bytes, register x1"
        );
    }

    #[test]
    fn instruction_abort_translation_fault_decodes() {
        let esr = Esr((0x21 << 26) | (1 << 25) | 0x04);
        assert_eq!(esr.fault_kind(), FaultKind::Translation);
        assert!(!esr.is_data_abort());
        assert_eq!(esr.to_string(), "ESR 0x86000004: EC 0x21 instruction abort at EL2, Translation fault (FSC 0x04, level 0)");
    }

    #[test]
    fn hvc_and_unknown_decode() {
        assert_eq!(
            Esr((0x16 << 26) | (1 << 25) | 0x42).to_string(),
            "ESR 0x5a000042: EC 0x16 HVC #0x42"
        );
        assert_eq!(Esr(1 << 25).class(), ExceptionClass::Unknown);
    }
}
