// SPDX-License-Identifier: GPL-2.0-only
//! spinner: says hello, then spins forever with interrupts masked (DAIF stays as the
//! boot protocol left it), making no hypercall and touching no device. It must not
//! starve the other domains: only the hypervisor's own timer (routed to EL2 whatever
//! the guest's PSTATE.I) can take the CPU back.
#![no_std]
#![no_main]

use aarch64_cpu::registers::Readable;
use xenguest::{bootargs, println, Boot};

xenguest::guest_main!(main);

fn main(boot: &Boot) -> ! {
    let daif = aarch64_cpu::registers::DAIF.get();
    println!(
        "spinner: loaded at {:#x}, DAIF={:#x}; spinning forever with interrupts masked",
        boot.load, daif
    );
    // spinner.report=N: print a heartbeat every N iterations (0, the default: never,
    // so the loop makes no hypercall and no MMIO access at all).
    let report = bootargs::get_u64(boot.bootargs, "spinner.report", 0);
    let mut n: u64 = 0;
    loop {
        n = n.wrapping_add(1);
        if report != 0 && n.is_multiple_of(report) {
            println!("spinner: still spinning ({} iterations)", n);
        }
        core::hint::spin_loop();
    }
}
