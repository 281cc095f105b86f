// SPDX-License-Identifier: GPL-2.0-only
//! Arbitrary MPU operation sequences against the reference model (rxen::fuzzing::mpu_ops).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rxen::fuzzing::mpu_ops(data));
