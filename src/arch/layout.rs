// SPDX-License-Identifier: GPL-2.0-only
//! The image layout from xen.ld, as address ranges.
use crate::mm::PhysRange;

extern "C" {
    static _stext: u8;
    static _etext: u8;
    static _srodata: u8;
    static _erodata: u8;
    static _sdata: u8;
    static _edata: u8;
    static __init_begin: u8;
    static __init_data_begin: u8;
    static __init_end: u8;
    static __bss_start: u8;
    static __bss_end: u8;
}

/// The address of a linker symbol (never read: only its address is used).
macro_rules! addr {
    ($sym:ident) => {
        core::ptr::addr_of!($sym) as u64
    };
}

/// The ranges of the image, each one EL2 MPU region at boot.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub text: PhysRange,
    pub rodata: PhysRange,
    pub data: PhysRange,
    pub init_text: PhysRange,
    /// Init data and bss: one region until `free_init_memory`.
    pub init_data_bss: PhysRange,
    /// All init memory: what `free_init_memory` frees.
    pub init: PhysRange,
    pub bss: PhysRange,
}

impl Layout {
    pub fn get() -> Self {
        Self {
            text: PhysRange::new(addr!(_stext), addr!(_etext)),
            rodata: PhysRange::new(addr!(_srodata), addr!(_erodata)),
            data: PhysRange::new(addr!(_sdata), addr!(_edata)),
            init_text: PhysRange::new(addr!(__init_begin), addr!(__init_data_begin)),
            init_data_bss: PhysRange::new(addr!(__init_data_begin), addr!(__bss_end)),
            init: PhysRange::new(addr!(__init_begin), addr!(__init_end)),
            bss: PhysRange::new(addr!(__bss_start), addr!(__bss_end)),
        }
    }

    /// The whole image, text to the end of bss.
    pub fn image(&self) -> PhysRange {
        PhysRange::new(self.text.start, self.bss.end)
    }
}
