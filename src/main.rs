// SPDX-License-Identifier: GPL-2.0-only
//! The rxen image. Everything lives in the library (boot head, vectors, setup); this
//! binary only links it for the bare-metal target with xen.ld (see build.rs).
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
use rxen as _;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "rxen is firmware for aarch64-unknown-none-softfloat: build it with `make` (see README.md)"
    );
    std::process::exit(2);
}
