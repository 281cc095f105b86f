// SPDX-License-Identifier: GPL-2.0-only
//! Helpers for r82sim's tests: build the assembly test images (with the project's own
//! rustc, for the firmware target, with `global_asm!`) and run images.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use r82sim::machine::{Config, DtbChoice, Machine, Outcome};

const TARGET: &str = "aarch64-unknown-none-softfloat";

/// The rxen image: $RXEN_IMAGE (`make test` sets it) or build/rxen.
pub fn rxen_path() -> PathBuf {
    std::env::var_os("RXEN_IMAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../build/rxen"))
}

pub fn rxen() -> Vec<u8> {
    let path = rxen_path();
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("rxen image {}: {e} (build it with `make`)", path.display()))
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Assemble and link `sim/tests/images/NAME.S` (after prelude.S unless it is
/// `bare`) at address 0, and return the ELF.
pub fn image(name: &str) -> Vec<u8> {
    let dir = manifest_dir().join("tests/images");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("images");
    std::fs::create_dir_all(&out).unwrap();
    let wrapper = out.join(format!("{name}.rs"));
    let src = std::fs::read_to_string(dir.join(format!("{name}.S"))).unwrap();
    let prelude = std::fs::read_to_string(dir.join("prelude.S")).unwrap();
    let asm = format!("{prelude}\n{src}\n");
    std::fs::write(out.join(format!("{name}.s")), &asm).unwrap();
    let elf = out.join(name);
    link_asm(&out.join(format!("{name}.s")), &wrapper, &elf);
    std::fs::read(elf).unwrap()
}

/// Assemble `asm` (through a `global_asm!` wrapper written at `wrapper`) with the
/// project's rustc for the firmware target, linked at 0 with images/link.ld, to `elf`.
pub fn link_asm(asm: &Path, wrapper: &Path, elf: &Path) {
    std::fs::write(
        wrapper,
        format!(
            "#![no_std]\n#![no_main]\ncore::arch::global_asm!(include_str!({asm:?}), options(raw));\n\
             #[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! {{ loop {{}} }}\n"
        ),
    )
    .unwrap();
    let link = manifest_dir().join("tests/images/link.ld");
    let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .current_dir(manifest_dir())
        .args(["--edition", "2021", "--target", TARGET])
        .args([
            "-C",
            "panic=abort",
            "-C",
            "target-cpu=cortex-r82",
            "-C",
            "opt-level=0",
        ])
        .arg(format!("-Clink-arg=-T{}", link.display()))
        .arg("-o")
        .arg(elf)
        .arg(wrapper)
        .status()
        .expect("running rustc to build a test image");
    assert!(status.success(), "building {} failed", asm.display());
}

/// Run `elf` without a device tree and return the machine and the outcome.
pub fn run(elf: &[u8], cfg: Config) -> (Machine, Outcome) {
    let mut m = Machine::new(cfg).expect("machine");
    m.load_elf(elf, DtbChoice::None).expect("load");
    let o = m.run();
    (m, o)
}

pub fn small() -> Config {
    Config {
        max_insns: 10_000_000,
        ..Config::default()
    }
}

/// The exception log the test vectors keep at 0x20000: (ESR, FAR, ELR, SPSR, offset).
pub fn exception_log(m: &Machine) -> Vec<[u64; 5]> {
    let q = |a: u64| u64::from_le_bytes(m.read_mem(a, 8).unwrap().try_into().unwrap());
    let n = q(0x20000);
    (0..n)
        .map(|i| {
            let e = 0x20008 + 48 * i;
            [q(e), q(e + 8), q(e + 16), q(e + 24), q(e + 32)]
        })
        .collect()
}

pub fn u64_at(m: &Machine, a: u64) -> u64 {
    u64::from_le_bytes(m.read_mem(a, 8).unwrap().try_into().unwrap())
}

/// Compile device-tree source with dtc (`-V 16` and the like in `args`).
pub fn dtc(src: &str, args: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("dtc")
        .args(["-I", "dts", "-O", "dtb", "-q"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("dtc (Debian package device-tree-compiler)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(src.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dtc refused:\n{src}");
    out.stdout
}

/// Decompile a blob to source.
pub fn dts_of(blob: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("dtc")
        .args(["-I", "dtb", "-O", "dts", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("dtc (Debian package device-tree-compiler)");
    child.stdin.take().unwrap().write_all(blob).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// `blob` with `/chosen/xen,xen-bootargs = args` added: rxen's command line under
/// Xen's bindings (r82sim's `--bootargs` sets `/chosen/bootargs`, dom0's).
pub fn with_xen_bootargs(blob: &[u8], args: &str) -> Vec<u8> {
    let src = dts_of(blob);
    let quoted = args.replace('\\', "\\\\").replace('"', "\\\"");
    let src = src.replacen(
        "chosen {",
        &format!("chosen {{\n\t\txen,xen-bootargs = \"{quoted}\";"),
        1,
    );
    assert!(src.contains("xen,xen-bootargs"), "no /chosen in\n{src}");
    dtc(&src, &[])
}

/// Boot rxen with `blob` at x0 on a machine with `regions` EL2 MPU regions.
pub fn boot_blob(blob: Vec<u8>, regions: u8) -> (Machine, Outcome) {
    let mut m = Machine::new(Config {
        mpu_regions: regions,
        max_insns: 200_000_000,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(&rxen(), DtbChoice::Blob(blob)).unwrap();
    let o = m.run();
    (m, o)
}
