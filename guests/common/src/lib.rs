// SPDX-License-Identifier: GPL-2.0-only
//! What rxen's test guests share: the start code (`start.S`: Image header,
//! self-relocation, bss, stack, EL1 vectors), Xen hypercalls, the console (vpl011 and
//! console_io), a panic-free device-tree reader, boot-argument parsing, and EL1
//! exception reporting with a per-guest policy.
//!
//! It is written against Xen's documented guest ABI (xen/include/public/*.h and
//! docs/misc/arm/device-tree/booting.txt), never against rxen's code: a guest that
//! runs here should run on Xen's MPU port too. Single vCPU: the statics here are
//! atomics used only with plain loads and stores (no exclusives: with the EL1 MPU off,
//! memory is Device-nGnRnE, where exclusive accesses are not guaranteed to work).
#![no_std]

pub mod boot;
pub mod bootargs;
pub mod console;
pub mod exceptions;
pub mod fdt;
pub mod hypercall;

core::arch::global_asm!(include_str!("start.S"));

pub use boot::Boot;

/// Defines the guest's entry: `guest_main!(main)` with `fn main(boot: &Boot) -> !`.
/// The start code calls `guest_entry(dtb, load)`, which reads the device tree, sets
/// up the console and calls `main`.
#[macro_export]
macro_rules! guest_main {
    ($main:path) => {
        #[no_mangle]
        extern "C" fn guest_entry(dtb: usize, load: usize) -> ! {
            let boot = $crate::boot::init(dtb, load);
            $main(&boot)
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("panic: {}", info);
    hypercall::crash()
}
