// SPDX-License-Identifier: GPL-2.0-only
//! The one table of fixed platform facts (FVP_BaseR_AEMv8R, Cortex-R82). Anything a
//! device tree can say comes from the device tree; these are what the boot head needs
//! before one is read, and the defaults when a board gives none.

/// PL011 UART0: the early console the boot head maps.
pub const UART0_BASE: u64 = 0x9c09_0000;
/// The size of a PL011 register block (one 4 KiB MPU granule).
pub const UART_SIZE: u64 = 0x1000;
/// The UART reference clock on the FVP.
pub const UART_CLOCK_HZ: u32 = 24_000_000;
pub const UART_BAUD: u32 = 115_200;
/// The boot core's MPIDR affinity (Aff3..Aff0 all zero).
pub const BOOT_CPU_AFFINITY: u64 = 0;
/// EL2 MPU regions the boot head programs: text, rodata, data, init text,
/// init data + bss, early UART.
pub const NR_BOOT_REGIONS: usize = 6;
/// The boot stack (in bss).
pub const BOOT_STACK_SIZE: usize = 64 * 1024;
