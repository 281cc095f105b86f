// SPDX-License-Identifier: GPL-2.0-only
//! hello: the smallest well-behaved guest. Prints through the vpl011 and through
//! console_io, asks for the Xen version, yields a few times (SCHEDOP_yield), prints
//! the memory its device tree gives it, and powers off (SCHEDOP_shutdown,
//! SHUTDOWN_poweroff).
//!
//! Bootargs: `hello.yields=N` (default 3).
#![no_std]
#![no_main]

use aarch64_cpu::registers::{CurrentEL, Readable};
use xenguest::hypercall::{self, ShutdownReason};
use xenguest::{bootargs, println, xprintln, Boot};

xenguest::guest_main!(main);

fn main(boot: &Boot) -> ! {
    println!(
        "hello: running at EL{} from {:#x}..{:#x}",
        CurrentEL.read(CurrentEL::EL),
        boot.load,
        boot.image_end
    );
    match &boot.fdt {
        Ok(_) => println!("hello: device tree at {:#x}", boot.dtb),
        Err(e) => println!("hello: no usable device tree at {:#x}: {:?}", boot.dtb, e),
    }
    println!("hello: vpl011 at {:#x} ({:?})", boot.uart, boot.uart_source);
    println!("hello: bootargs \"{}\"", boot.bootargs);
    match xprintln!("hello: this line went through console_io (CONSOLEIO_write)") {
        Ok(()) => println!("hello: console_io: ok"),
        Err(_) => println!("hello: console_io: refused"),
    }
    match hypercall::xen_version() {
        Ok((major, minor)) => println!("hello: xen_version {}.{}", major, minor),
        Err(rc) => println!("hello: xen_version failed: {}", rc),
    }
    let yields = bootargs::get_u64(boot.bootargs, "hello.yields", 3);
    for i in 1..=yields {
        let rc = hypercall::sched_yield();
        println!("hello: yield {}/{} -> {}", i, yields, rc);
    }
    if boot.memory().is_empty() {
        println!("hello: memory: none in the device tree");
    }
    for &(base, size) in boot.memory() {
        println!(
            "hello: memory {:#x}..{:#x} ({} KiB)",
            base,
            base.wrapping_add(size),
            size / 1024
        );
    }
    println!("hello: powering off");
    hypercall::shutdown_or_park(ShutdownReason::Poweroff)
}
