// SPDX-License-Identifier: GPL-2.0-only
//! rxen: a small hypervisor for Armv8-R AArch64 (Cortex-R82) built on the EL2 MPU.
//!
//! This library holds everything that can be decided without touching hardware: the
//! MPU region table and its rules, device-tree reading, boot-argument parsing and
//! exception-syndrome decoding. It compiles for the host (where it is unit- and
//! property-tested) and for the firmware target. Nothing here writes a system
//! register; the firmware binary (`src/main.rs`) owns all hardware access.
#![cfg_attr(not(test), no_std)]

pub mod bootargs;
pub mod bounded;
pub mod domain;
pub mod dt;
pub mod esr;
#[cfg(any(test, feature = "fake-hw"))]
pub mod fuzzing;
pub mod gicd;
pub mod mm;
pub mod numfmt;
pub mod platform;
pub mod txfifo;

// The firmware proper: hardware access, console and boot flow. Built only for the
// bare-metal target; everything above is host-testable.
#[cfg(target_os = "none")]
extern crate alloc;
#[cfg(target_os = "none")]
pub mod arch;
#[cfg(target_os = "none")]
pub mod drivers;
#[cfg(target_os = "none")]
pub mod setup;
