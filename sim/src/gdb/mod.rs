// SPDX-License-Identifier: GPL-2.0-only
//! GDB remote stub.
pub mod points;
