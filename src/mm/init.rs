// SPDX-License-Identifier: GPL-2.0-only
//! `free_init_memory`: give back the init sections once setup is done. Lives in
//! .text (it zeroes init text, so it must not run from there).
use log::info;

use super::live;
use super::mpu::Attrs;
use crate::arch::cache::invalidate_icache_all;
use crate::arch::layout::Layout;
use crate::numfmt::Dec;
use crate::setup::fatal;

/// Relax init text RX to RW, invalidate the instruction cache, zero all init memory,
/// then join data, the freed init memory and bss into one EL2 MPU region (RW, XN) and
/// give the freed init memory to the heap, as Xen gives its freed init pages to its
/// heap. Init text can never run again (execute-never, and zeroed); one region fewer
/// is left for rxen, one more for the domains. Any failed step is fatal.
/// Unmangled and never inlined so profilers and debuggers can find it.
#[no_mangle]
#[inline(never)]
pub extern "C" fn free_init_memory() {
    let l = Layout::get();
    info!(
        "free_init_memory: init text {}, init data {}",
        l.init_text,
        super::PhysRange::new(l.init_text.end, l.init.end)
    );
    live::with(|m| info!("MPU before freeing init memory:\n{}", m.table()));

    if let Err(e) = live::with(|m| m.modify(l.init_text, Attrs::DATA)) {
        fatal("free_init_memory: relax init text to RW", &e);
    }
    // No stale instructions from init text may be fetched after this point.
    invalidate_icache_all();
    // SAFETY: [init.start, init.end) is the image's init text and data: mapped
    // read-write now, used by nothing from here on (setup's init code has returned and
    // the boot MPU record was consumed), and no Rust reference points into it.
    // (init is 4 KiB aligned at both ends: whole 1 KiB blocks.)
    unsafe { crate::arch::mem::zero_blocks(l.init.start, l.init.end) };
    // data | init text | init data + bss: three adjacent RW XN regions by now.
    let data_init_text = super::PhysRange::new(l.data.start, l.init_text.end);
    if let Err(e) = live::with(|m| {
        m.join(l.data, l.init_text)?;
        m.join(data_init_text, l.init_data_bss)
    }) {
        fatal("free_init_memory: join data, init memory and bss", &e);
    }
    // SAFETY: the init memory is mapped read-write (inside the region just joined),
    // zeroed, and nothing uses it any more: it is the heap's alone from here on.
    if !unsafe { crate::setup::heap_add_freed(l.init) } {
        fatal(
            "free_init_memory: give init memory to the heap",
            &"no heap bank left",
        );
    }
    info!(
        "free_init_memory: freed {} bytes ({} KiB) of init memory into the heap",
        Dec(l.init.size()),
        Dec(l.init.size() / 1024)
    );
    live::with(|m| info!("MPU after freeing init memory:\n{}", m.table()));
}
