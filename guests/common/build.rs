// SPDX-License-Identifier: GPL-2.0-only
//! Puts guest.ld on the link search path of every guest binary (each links with
//! `-Tguest.ld`, see guests/.cargo/config.toml): a search path set by a dependency's
//! build script reaches the final link, a link argument would not.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("guest.ld", out.join("guest.ld")).expect("copy guest.ld to OUT_DIR");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rerun-if-changed=guest.ld");
    println!("cargo:rerun-if-changed=src/start.S");
}
