// SPDX-License-Identifier: GPL-2.0-only
//! Device drivers. Only the console for now (PL011 through arm-pl011-uart).
pub mod console;
