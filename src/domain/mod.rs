// SPDX-License-Identifier: GPL-2.0-only
//! Domains and vCPUs: the configuration rules, hypercalls, the scheduler's decisions
//! and the virtual devices, as pure functions and state machines tested on the host.
//! This module must not write system registers: the trap path (arch) decodes a trap
//! and calls in here, then applies the result.
pub mod config;
pub mod elf;
pub mod guest_dt;
pub mod hypercall;
pub mod sched;
#[cfg(target_os = "none")]
pub mod vm;
pub mod vpl011;
