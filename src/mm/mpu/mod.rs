// SPDX-License-Identifier: GPL-2.0-only
//! The EL2 MPU mapping core: a software mirror of the EL2 region table with a
//! refcount per region and a bitmap of used slots, and the operations Xen's MPU port
//! offers (map, modify, unmap, ioremap) plus the join that `free_init_memory` needs.
//!
//! Every rule is decided here on plain data. The only way out to hardware is the
//! [`MpuHw`] trait, called after an operation has decided to succeed: a failed
//! operation leaves both the table and the hardware exactly as they were.
//! This module must not contain inline assembly or touch memory it does not own.
mod regs;
mod table;

pub use regs::{
    decode, encode, encode_guest, prbar_flags, prlar_flags, DecodeError, MAIR_EL2_VALUE,
    MPU_GRANULE, PRBAR, PRLAR,
};
pub use table::{Match, Mpu, MpuError, MpuTable, Owner, Region, MAX_REFCOUNT, MAX_REGIONS};

use core::fmt;

/// Memory types, each the MAIR_EL2 attribute index rxen programs (see `MAIR_EL2_VALUE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MemType {
    DeviceNgnrne = 0,
    DeviceNgnre = 1,
    NormalNc = 2,
    Normal = 3,
}

impl MemType {
    pub const fn from_index(i: u8) -> Option<Self> {
        match i {
            0 => Some(Self::DeviceNgnrne),
            1 => Some(Self::DeviceNgnre),
            2 => Some(Self::NormalNc),
            3 => Some(Self::Normal),
            _ => None,
        }
    }

    pub const fn is_device(self) -> bool {
        matches!(self, Self::DeviceNgnrne | Self::DeviceNgnre)
    }

    const fn name(self) -> &'static str {
        match self {
            Self::DeviceNgnrne => "Device-nGnRnE",
            Self::DeviceNgnre => "Device-nGnRE",
            Self::NormalNc => "Normal-NC",
            Self::Normal => "Normal-WB",
        }
    }
}

/// The attributes of a mapping: memory type and EL2 permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Attrs {
    pub mem: MemType,
    pub read_only: bool,
    pub exec_never: bool,
}

impl Attrs {
    /// Hypervisor code: read-only, executable.
    pub const TEXT: Self = Self::normal(true, false);
    /// Read-only data.
    pub const RODATA: Self = Self::normal(true, true);
    /// Read-write data (also the heap and init-data+bss).
    pub const DATA: Self = Self::normal(false, true);
    /// Device registers: Device-nGnRnE, read-write, execute-never.
    pub const DEVICE: Self = Self {
        mem: MemType::DeviceNgnrne,
        read_only: false,
        exec_never: true,
    };

    pub const fn normal(read_only: bool, exec_never: bool) -> Self {
        Self {
            mem: MemType::Normal,
            read_only,
            exec_never,
        }
    }

    /// Writable and executable at once: refused by every operation (W^X).
    pub const fn is_writable_executable(&self) -> bool {
        !self.read_only && !self.exec_never
    }
}

impl Attrs {
    /// What `Display` prints ("RW XN Normal-WB"), appended to a line being built.
    #[inline(always)]
    pub fn push_to(&self, line: &mut crate::numfmt::Text) {
        line.push(if self.read_only { "RO " } else { "RW " })
            .push(if self.exec_never { "XN " } else { "X  " })
            .push(self.mem.name());
    }
}

impl fmt::Display for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = crate::numfmt::Line::<32>::new();
        self.push_to(&mut line);
        line.write_to(f)
    }
}

/// The only door to the EL2 MPU registers. The firmware implements it with
/// PRSELR/PRBAR/PRLAR writes; tests implement it with a recorder.
pub trait MpuHw {
    /// Program region `index` with these register values. A `prlar` with EN clear
    /// disables the region.
    fn write_region(&mut self, index: u8, prbar: u64, prlar: u64);
    /// Make the writes so far visible to every later access and fetch (DSB; ISB).
    fn sync(&mut self);
    /// Disable region `disable`, then program region `index` with these values, then
    /// synchronise (DSB; ISB), with no memory access and no exception taken from the
    /// first write to the barrier: for `Mpu::join`, whose first write leaves a range
    /// that is in use unmapped until the second write covers it again.
    fn disable_then_program(&mut self, disable: u8, index: u8, prbar: u64, prlar: u64);
    /// Write PRENR_EL2: the EN bits of regions 0..31 in one write (how a domain
    /// switch turns one domain's regions off and the next one's on).
    fn write_prenr(&mut self, value: u32);
}

#[cfg(any(test, feature = "fake-hw"))]
pub mod fake;
#[cfg(any(test, feature = "fake-hw"))]
pub mod model;
#[cfg(test)]
mod tests;
