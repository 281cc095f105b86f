// SPDX-License-Identifier: GPL-2.0-only
//! The boot head (boot/head.S), with its constants supplied from the one place each
//! is defined, and the record it leaves for Rust.
use crate::mm::mpu::{prbar_flags, prlar_flags, Attrs, MAIR_EL2_VALUE};
use crate::platform::{BOOT_STACK_SIZE, NR_BOOT_REGIONS, UART0_BASE, UART_SIZE};

/// SCTLR_EL2 bits the head sets: M (MPU), C (data cache), I (instruction cache), WXN.
pub const SCTLR_SET: u64 = (1 << 0) | (1 << 2) | (1 << 12) | (1 << 19);
/// SCTLR_EL2 bits the head clears: A (alignment checks), BR (background region),
/// EE (big-endian data).
pub const SCTLR_CLEAR: u64 = (1 << 1) | (1 << 17) | (1 << 25);

core::arch::global_asm!(
    include_str!("../../boot/head.S"),
    NR_BOOT_REGIONS = const NR_BOOT_REGIONS,
    MAIR = const MAIR_EL2_VALUE,
    TEXT_BAR = const prbar_flags(Attrs::TEXT),
    RO_BAR = const prbar_flags(Attrs::RODATA),
    RW_BAR = const prbar_flags(Attrs::DATA),
    DEV_BAR = const prbar_flags(Attrs::DEVICE),
    NORMAL_LAR = const prlar_flags(Attrs::DATA.mem),
    DEV_LAR = const prlar_flags(Attrs::DEVICE.mem),
    UART_BASE = const UART0_BASE,
    UART_SIZE = const UART_SIZE,
    SCTLR_SET = const SCTLR_SET,
    SCTLR_CLEAR = const SCTLR_CLEAR,
    STACK_SIZE = const BOOT_STACK_SIZE,
);

/// What the head programmed: the implemented region count and, per boot region,
/// (index, PRBAR, PRLAR). Lives in .init.data; read once by setup.
#[repr(C)]
pub struct BootMpuRecord {
    pub implemented: u64,
    pub entries: u64,
    pub regions: [[u64; 3]; NR_BOOT_REGIONS],
}

impl BootMpuRecord {
    /// The recorded regions, as the MPU table wants them.
    pub fn regions(&self) -> impl Iterator<Item = (u8, u64, u64)> + '_ {
        let n = (self.entries as usize).min(NR_BOOT_REGIONS);
        self.regions[..n].iter().map(|r| (r[0] as u8, r[1], r[2]))
    }
}
