// SPDX-License-Identifier: GPL-2.0-only
//! r82sim: a simulator of Arm's FVP_BaseR_AEMv8R platform (one Cortex-R82 core,
//! Armv8-R AArch64) built on the unicorn-engine crate.
//!
//! Unicorn provides the A64 instruction set; this crate provides what makes it an
//! Armv8-R machine: the PMSAv8-64 EL2 MPU (enforced through Unicorn's virtual TLB),
//! the PMSA and ID system registers, synchronous exception entry with the syndromes
//! the architecture defines, the PL011 UART, the V2M shutdown register, Arm
//! semihosting and a deterministic counter.
//!
//! The pure models (`mpu`, `syndrome`, `devices`, `dtb`) are host-tested on their own;
//! `machine` wires them to Unicorn.
pub mod devices;
pub mod dtb;
pub mod exception;
pub mod gdb;
pub mod gic;
pub mod machine;
pub mod mpu;
pub mod profile;
pub mod semihosting;
pub mod stop;
pub mod syndrome;
pub mod sysregs;
pub mod timer;

pub use machine::{Config, Machine, Outcome, StopReason};
pub use unicorn_engine::RegisterARM64;

/// Exit statuses r82sim uses for stops that are not the image's own.
pub mod exit_status {
    /// An exception was taken again before any instruction ran (its vector faults).
    pub const EXCEPTION_LOOP: i32 = 122;
    /// The core waits in WFI with nothing that could wake it.
    pub const PARKED: i32 = 123;
    /// `--max-insns` ran out.
    pub const WATCHDOG: i32 = 124;
    /// The simulator itself failed (bad ELF, an emulator error).
    pub const HOST_ERROR: i32 = 125;
    /// An exception was taken before the image installed VBAR_EL2.
    pub const NO_VECTOR: i32 = 126;
    /// GDB killed the target (`kill`, or quitting while attached).
    pub const KILLED: i32 = 137;
}
