// SPDX-License-Identifier: GPL-2.0-only
//! Arbitrary bytes as the device tree rxen's setup reads (rxen::fuzzing::device_tree).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxen::fuzzing::device_tree(data));
