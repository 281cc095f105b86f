// SPDX-License-Identifier: GPL-2.0-only
//! The smoke-test stand-in hypervisor (stub.S); see run.sh.
#![no_std]
#![no_main]
core::arch::global_asm!(include_str!("stub.S"));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
