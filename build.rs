// SPDX-License-Identifier: GPL-2.0-only
//! For the firmware target: link with xen.ld and compile the built-in device tree.
//! Host builds (tests) need neither.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for dep in ["xen.ld", "boot/head.S", "boot/entry.S", "dts/fvp-baser.dts"] {
        println!("cargo:rerun-if-changed={}", root.join(dep).display());
    }
    println!(
        "cargo:rustc-link-arg-bins=-T{}",
        root.join("xen.ld").display()
    );
    println!(
        "cargo:rustc-link-arg-bins=-Map={}",
        out.join("rxen.map").display()
    );

    let dts = root.join("dts/fvp-baser.dts");
    let dtb = out.join("fvp-baser.dtb");
    let status = Command::new("dtc")
        .args(["-I", "dts", "-O", "dtb", "-o"])
        .arg(&dtb)
        .arg(&dts)
        .status()
        .unwrap_or_else(|e| panic!("running dtc (Debian package device-tree-compiler): {e}"));
    assert!(status.success(), "dtc failed on {}", dts.display());
}
