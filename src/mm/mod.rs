// SPDX-License-Identifier: GPL-2.0-only
//! Memory management on the EL2 MPU: the region table (`mpu`) and the address
//! ranges it works with. No page tables exist on this profile: every mapping is an
//! MPU region, identity-mapped.
pub mod heap;
pub mod mpu;
pub mod range;

pub use range::PhysRange;

/// The granule every mapping is aligned to (base and end).
pub const PAGE_SIZE: u64 = 4096;

// The live table and init-memory release, on the firmware target only.
#[cfg(target_os = "none")]
pub mod init;
#[cfg(target_os = "none")]
pub mod live;
