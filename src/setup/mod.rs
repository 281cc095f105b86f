// SPDX-License-Identifier: GPL-2.0-only
//! The boot flow in Rust: from the head's call to `start_xen` to a clean stop.
//!
//! `start_xen` (in .text) runs `init_setup` (in .init.text: console, MPU mirror,
//! device tree, heap), then `free_init_memory`, then the requested self-test, then
//! stops with status 0. Nothing after `free_init_memory` may call init code or read
//! init data.
pub mod selftest;

use core::fmt::Write;

use log::{error, info, warn};

use crate::arch::head::BootMpuRecord;
use crate::arch::layout::Layout;
use crate::arch::{mpu as hw, semihosting};
use crate::bootargs;
use crate::drivers::console;
use crate::dt::{self, CmdlineFrom, Fdt};
use crate::mm::heap::MultiHeap;
use crate::mm::mpu::{Attrs, MemType};
use crate::mm::{live, PhysRange};
use crate::numfmt::{Dec, Hex};
use crate::platform::UART0_BASE;

/// Exit statuses a run can end with.
pub mod status {
    pub const OK: u32 = 0;
    /// Setup refused its input (device tree, boot MPU record, MPU operation).
    pub const SETUP_ERROR: u32 = 1;
    /// An exception nobody expected.
    pub const UNEXPECTED_EXCEPTION: u32 = 2;
    /// A Rust panic.
    pub const PANIC: u32 = 3;
    /// A self-test did not end in exactly the abort it expected.
    pub const SELFTEST_FAILED: u32 = 4;
    /// Every domain ended, and at least one did not power off (crashed, rebooted...).
    pub const DOMAIN_FAILED: u32 = 5;
}

/// The heap: every `xen,static-heap` bank, then the freed init memory.
#[global_allocator]
static HEAP: MultiHeap<{ dt::MAX_HEAPS + 1 }> = MultiHeap::new();

/// Give the freed init memory to the heap as its last bank (`free_init_memory`).
/// Returns false if no bank is left (cannot happen: one is kept for it). Unmangled
/// and never inlined: tests stop here to see init memory zeroed and joined before the
/// heap writes its first block header into it.
///
/// # Safety
/// `range` must be mapped read-write and used by nothing else from now on.
#[no_mangle]
#[inline(never)]
pub unsafe fn heap_add_freed(range: PhysRange) -> bool {
    // SAFETY: the caller gives the range to the heap alone, mapped read-write; it is
    // the image's init memory, which overlaps no static heap bank (dt::parse keeps
    // those clear of the image).
    unsafe { HEAP.add(range.start as *mut u8, range.size() as usize) }
}

/// The built-in FVP BaseR device tree (dts/fvp-baser.dts), used when x0 is 0.
#[repr(C, align(8))]
struct Aligned<const N: usize>([u8; N]);
const BUILTIN_DTB_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fvp-baser.dtb"));
static BUILTIN_DTB: Aligned<{ BUILTIN_DTB_BYTES.len() }> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/fvp-baser.dtb")));

/// Larger blobs are refused (Xen's limit too).
const MAX_DTB_SIZE: u64 = 2 << 20;

/// What setup hands to the rest of the boot.
struct Boot {
    selftest: Option<bootargs::SelfTest>,
    bench_mpu: bool,
    /// Domains built from /chosen/domU*.
    domains: usize,
    /// The scheduler's time slice (`rxen.sched_slice_us`, default 1000).
    slice_us: u32,
}

/// The Rust entry point, called by boot/head.S with the MPU on and a stack.
#[no_mangle]
pub extern "C" fn start_xen(dtb: u64, record: &BootMpuRecord) -> ! {
    let boot = init_setup(dtb, record);
    crate::mm::init::free_init_memory();
    setup_complete();
    if let Some(test) = boot.selftest {
        selftest::run(test);
    }
    if boot.bench_mpu {
        bench_mpu();
    }
    if boot.domains == 0 {
        info!("no guests configured; stopping");
        semihosting::exit(status::OK)
    }
    crate::domain::vm::start(boot.slice_us)
}

/// Marks the end of setup for profilers (`r82sim --profile setup_complete`).
#[no_mangle]
#[inline(never)]
pub extern "C" fn setup_complete() {
    info!("setup done");
}

/// A free 4 KiB range for the MPU benchmark (inside DRAM, outside every mapping the
/// default platform makes).
const BENCH_RANGE: PhysRange = PhysRange::new(0x2000_0000, 0x2000_1000);

/// One map and one unmap on the live table, each between marker symbols.
fn bench_mpu() {
    let index = bench_mpu_map(BENCH_RANGE.start, BENCH_RANGE.end);
    bench_mpu_unmap(BENCH_RANGE.start, BENCH_RANGE.end);
    bench_mpu_done();
    info!("bench: mapped {BENCH_RANGE} as MPU region {index} and unmapped it");
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_mpu_map(start: u64, end: u64) -> u8 {
    live::with(|m| m.map(PhysRange::new(start, end), Attrs::DATA))
        .unwrap_or_else(|e| fatal("bench: map", &e))
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_mpu_unmap(start: u64, end: u64) {
    live::with(|m| m.unmap(PhysRange::new(start, end)))
        .unwrap_or_else(|e| fatal("bench: unmap", &e))
}

#[no_mangle]
#[inline(never)]
pub extern "C" fn bench_mpu_done() {
    // SAFETY: an empty asm statement: it keeps this marker from being merged away.
    unsafe { core::arch::asm!("", options(nomem, nostack)) };
}

/// Report a setup step that failed, with the MPU map, and stop with status 1.
pub fn fatal(step: &str, err: &dyn core::fmt::Display) -> ! {
    error!("{step}: {err}");
    fatal_stop(&mut console::emergency(), status::SETUP_ERROR)
}

/// Print the MPU map and stop the run with `status`.
pub fn fatal_stop(w: &mut impl Write, status: u32) -> ! {
    live::dump(w);
    let _ = writeln!(w, "(XEN) stopping with status {status}");
    semihosting::exit(status)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut c = console::emergency();
    let _ = writeln!(c, "(XEN) PANIC: {info}");
    fatal_stop(&mut c, status::PANIC)
}

#[link_section = ".init.text"]
#[inline(never)]
fn init_setup(dtb: u64, record: &BootMpuRecord) -> Boot {
    // SAFETY: UART0 is mapped as device memory by the boot head (region 5) and only
    // the console drives it.
    unsafe { console::init(UART0_BASE) };
    // Lines are held until the command line gives the level (`release_held` below).
    console::init_logger();

    let implemented = hw::implemented_regions();
    let pa_bits = hw::pa_bits();
    // The lines before the command line is read are deferred: formatted only if the
    // level it gives lets them through.
    console::log_deferred(
        log::Level::Info,
        [implemented as u64, pa_bits as u64, 0, 0],
        |w, v| {
            write!(
                w,
                "rxen v{} for Armv8-R AArch64 (EL2 MPU, {} regions, {}-bit PA)",
                env!("CARGO_PKG_VERSION"),
                Dec(v[0]),
                Dec(v[1])
            )
        },
    );

    // The mirror is rebuilt from the head's record and checked against the hardware.
    if record.implemented != implemented as u64 {
        fatal(
            "boot MPU record",
            &format_args!(
                "records {} regions, MPUIR_EL2 says {}",
                record.implemented, implemented
            ),
        );
    }
    for (i, b, l) in record.regions() {
        if hw::read_region(i) != (b, l) {
            fatal(
                "boot MPU record",
                &format_args!(
                    "region {i} holds {:x?}, the record says ({b:#x}, {l:#x})",
                    hw::read_region(i)
                ),
            );
        }
    }
    live::install(implemented, pa_bits, record.regions())
        .unwrap_or_else(|e| fatal("boot MPU record", &e));
    console::log_deferred(
        log::Level::Info,
        [record.regions().count() as u64, implemented as u64, 0, 0],
        |w, v| {
            write!(
                w,
                "boot head mapped {} EL2 MPU regions of {}",
                Dec(v[0]),
                Dec(v[1])
            )
        },
    );

    let layout = Layout::get();
    let dtb = find_dtb(dtb);
    let dtb_range = dtb.range;
    // Filled where it lives: a BootInfo is large, and a returned one is copied.
    let mut info = dt::BootInfo::new();
    let fdt = dt::parse_checked(dtb.blob(), layout.image(), dtb_range, pa_bits, &mut info)
        .unwrap_or_else(|e| fatal("device tree", &e));
    let opts = bootargs::parse(info.bootargs).unwrap_or_else(|e| fatal("bootargs", &e));
    console::release_held(opts.log_level.unwrap_or(log::LevelFilter::Info));
    match info.bootargs_from {
        CmdlineFrom::XenBootargs => info!("command line (xen,xen-bootargs): {:?}", info.bootargs),
        CmdlineFrom::Bootargs => info!("command line (bootargs): {:?}", info.bootargs),
        CmdlineFrom::Nothing => info!("command line: none (no /chosen/xen,xen-bootargs)"),
    }
    if let Some(args) = info.dom0_bootargs.filter(|a| !a.is_empty()) {
        warn!("/chosen/bootargs {args:?} is dom0's under Xen's rules and not read: put rxen's options in xen,xen-bootargs");
    }

    match (info.console, info.disabled_console) {
        (Some(c), _) => {
            // The driver uses the first 4 KiB; the tree may give the device more.
            let regs = c.driver_window().page_aligned();
            let base = live::with(|m| m.ioremap(regs, MemType::DeviceNgnrne))
                .unwrap_or_else(|e| fatal("console", &e));
            if base != UART0_BASE {
                // SAFETY: the range was just mapped as device memory; the device tree
                // names it as the console, so nothing else drives it.
                unsafe { console::init(c.regs.start) };
            }
            info!(
                "console: {} at {} (device range {}, {} mapped)",
                c.path,
                Hex(c.regs.start),
                c.regs,
                regs
            );
        }
        (None, Some(path)) => warn!(
            "console {path} is disabled (status): not used; keeping the early console on UART0 at {UART0_BASE:#x}"
        ),
        (None, None) => {
            warn!("device tree has no stdout-path: keeping the console on UART0 at {UART0_BASE:#x}")
        }
    }

    for r in info.reserved() {
        info!(
            "reserved memory: {} {}{}",
            r.name,
            r.range,
            if r.no_map {
                " (no-map: never mapped)"
            } else {
                ""
            }
        );
    }
    init_interrupts(&info);
    let domains = build_domains(&fdt, &info, layout.image(), dtb_range);
    map_ram_banks(&info);
    for (i, &heap) in info.static_heaps().iter().enumerate() {
        live::with(|m| m.map(heap, Attrs::DATA)).unwrap_or_else(|e| fatal("static heap", &e));
        // SAFETY: the bank is inside RAM, overlaps neither the image, the device tree,
        // reserved memory nor another bank (checked by dt::parse), is now mapped
        // read-write, and is given to the allocator alone.
        let added = unsafe { HEAP.add(heap.start as *mut u8, heap.size() as usize) };
        if !added {
            fatal(
                "static heap",
                &format_args!("bank {i} {heap}: no heap slot left"),
            );
        }
        info!(
            "heap bank {}: {heap} ({} KiB)",
            Dec(i as u64),
            Dec(heap.size() >> 10)
        );
    }
    let probe: alloc::vec::Vec<PhysRange> = info.ram().collect();
    let (banks, free) = HEAP.stats();
    info!(
        "heap: {} ({} banks), {} bytes free after a first allocation",
        info.static_heaps()[0],
        Dec(banks as u64),
        Dec(free as u64)
    );
    drop(probe);

    let boot = Boot {
        selftest: opts.selftest,
        bench_mpu: opts.bench_mpu,
        domains,
        slice_us: opts.sched_slice_us.unwrap_or(1000),
    };
    // Nothing read from the tree is used after this (domains copied what they keep).
    dtb.release();
    boot
}

/// The BSA's PPI for the Secure EL2 physical timer (CNTHPS on the Cortex-R82).
const SECURE_EL2_TIMER_INTID: u32 = 20;

/// The EL2 timer's INTID, once the GIC is up (None: no interrupts on this board).
static HYP_TIMER_INTID: spin::Once<u32> = spin::Once::new();

pub fn hyp_timer_intid() -> Option<u32> {
    HYP_TIMER_INTID.get().copied()
}

/// Map and initialise the GICv3 the device tree names, and route interrupts to EL2.
/// A tree without a GIC boots without interrupts (a warning): nothing preempts then.
#[link_section = ".init.text"]
fn init_interrupts(info: &dt::BootInfo<'_>) {
    let Some((gicd, gicr)) = info.gic else {
        warn!("device tree has no arm,gic-v3: running without interrupts");
        return;
    };
    // One region for both when nothing else lies between them (dt::BootInfo::gic_window),
    // else one each.
    let one = info
        .gic_window()
        .filter(|w| live::with(|m| m.ioremap(*w, MemType::DeviceNgnrne)).is_ok());
    if one.is_none() {
        for r in [gicd, gicr] {
            live::with(|m| m.ioremap(r.page_aligned(), MemType::DeviceNgnrne))
                .unwrap_or_else(|e| fatal("GIC", &e));
        }
    }
    // SAFETY: both ranges come from the tree's GICv3 node, were just mapped as device
    // memory, and nothing else in rxen drives the GIC.
    let gic = unsafe { crate::arch::gic::init(gicd.start, gicr.start) }
        .unwrap_or_else(|e| fatal("GIC", &e));
    // The Cortex-R82's EL2 timer is the Secure one (CNTHPS), on the BSA's PPI for it,
    // INTID 20, as the FVP BaseR wires it. The tree's fourth timer interrupt names the
    // non-secure EL2 timer, which this core does not have: logged, not used.
    let timer = SECURE_EL2_TIMER_INTID;
    if let Some(tree) = info.hyp_timer_intid.filter(|&t| t != timer) {
        info!(
            "timer: the tree's hyp timer INTID {} is the non-secure EL2 timer (absent on Armv8-R); using CNTHPS on INTID {}",
            Dec(tree.into()),
            Dec(timer.into())
        );
    }
    HYP_TIMER_INTID.call_once(|| timer);
    info!(
        "GICv{} at {} (redistributors at {}): {} SPIs, {} list registers; timer {} Hz, EL2 timer INTID {}",
        Dec(gic.version.into()),
        Hex(gicd.start),
        Hex(gicr.start),
        Dec(gic.spis.into()),
        Dec(gic.list_registers.into()),
        Dec(crate::arch::gic::timer::frequency()),
        Dec(timer.into())
    );
}

/// Read /chosen/domU* and build the domains, before the RAM is mapped for rxen (a
/// domain's memory must stay out of rxen's own regions). Domains must avoid the
/// image, the device tree, every heap bank and reserved memory.
#[link_section = ".init.text"]
fn build_domains(
    fdt: &Fdt<'_>,
    info: &dt::BootInfo<'_>,
    image: PhysRange,
    dtb: PhysRange,
) -> usize {
    let mut configs = [None; crate::domain::config::MAX_DOMAINS];
    let n = dt::domains::parse_domains(fdt, &mut configs).unwrap_or_else(|e| fatal("domains", &e));
    if n == 0 {
        return 0;
    }
    let mut taken = [("", PhysRange::new(0, 0)); 48];
    let mut k = 0;
    let mut add = |what, r| {
        if k < taken.len() {
            taken[k] = (what, r);
            k += 1;
        }
    };
    add("image", image);
    add("device tree", dtb);
    for &h in info.static_heaps() {
        add("static heap", h);
    }
    for r in info.reserved() {
        add("reserved memory", r.range);
    }
    let mut ram = [PhysRange::new(0, 0); dt::MAX_BANKS];
    let mut nr = 0;
    for r in info.ram().take(ram.len()) {
        ram[nr] = r;
        nr += 1;
    }
    crate::domain::vm::build(&configs[..n], &ram[..nr], &taken[..k])
        .unwrap_or_else(|e| fatal("domains", &e))
}

/// Map the RAM read-write, execute-never: every bank's whole pages (a bank that is not
/// 4 KiB aligned is rounded inward), minus no-map reserved memory. A piece that already
/// holds a mapping (the image's, the device tree's) is reached through the regions
/// already there. A piece that cannot get a region stops the boot with the reason.
#[link_section = ".init.text"]
fn map_ram_banks(info: &dt::BootInfo) {
    for (i, bank) in info.banks().iter().enumerate() {
        if bank.ram != bank.reg {
            warn!(
                "memory bank {i}: {} is not 4 KiB aligned: using {} (no whole page: nothing)",
                bank.reg, bank.ram
            );
        }
    }
    let mut piece = 0;
    info.mappable_ram(|range| {
        let bank = info
            .banks()
            .iter()
            .position(|b| b.ram.contains_range(&range))
            .unwrap_or(piece);
        piece += 1;
        let occupied = live::with(|m| m.table().iter().any(|(_, r)| r.range.overlaps(&range)));
        if occupied {
            info!(
                "memory bank {}: {range} ({} MiB), holds the image or device tree: not mapped whole",
                Dec(bank as u64),
                Dec(range.size() >> 20)
            );
            return;
        }
        match live::with(|m| m.map(range, Attrs::DATA)) {
            Ok(index) => info!(
                "memory bank {bank}: {range} ({} MiB) mapped as MPU region {index}",
                range.size() >> 20
            ),
            Err(e) => fatal("memory banks", &format_args!("memory bank {bank} {range}: {e}")),
        }
    });
}

/// Where a loader without a way to set x0 (the FVP's --data) puts the device tree.
const LOADED_DTB_ADDR: u64 = 0x7f00_0000;

/// Whether `addr` holds the FDT magic (0xd00dfeed, big-endian); the page is mapped
/// only for the look and unmapped again.
#[link_section = ".init.text"]
fn has_fdt_magic(addr: u64) -> bool {
    let page = PhysRange::new(addr, addr + crate::mm::PAGE_SIZE);
    if live::with(|m| m.map(page, Attrs::RODATA)).is_err() {
        return false;
    }
    // SAFETY: the page at `addr` was just mapped read-only; one aligned word is read.
    let magic = unsafe { core::ptr::read_volatile(addr as *const u32) };
    let _ = live::with(|m| m.unmap(page));
    u32::from_be(magic) == 0xd00d_feed
}

/// The device tree setup reads. The blob is borrowed from this value, so it cannot
/// outlive `release`, which unmaps the tree's MPU region once setup is done with it.
struct Dtb {
    range: PhysRange,
    /// The region mapping it (a tree passed in x0); None for the built-in tree (rodata).
    mapped: Option<PhysRange>,
}

impl Dtb {
    fn blob(&self) -> &[u8] {
        // SAFETY: `range` is the blob: either the built-in tree (in rodata, mapped for
        // the run) or the tree at x0, mapped read-only by `find_dtb` until `release`,
        // which takes `self` and so ends every borrow of this slice first.
        unsafe {
            core::slice::from_raw_parts(self.range.start as *const u8, self.range.size() as usize)
        }
    }

    /// Unmap the tree (setup has copied out what must survive: domain names).
    #[link_section = ".init.text"]
    fn release(self) {
        if let Some(r) = self.mapped {
            live::with(|m| m.unmap(r)).unwrap_or_else(|e| fatal("device tree", &e));
        }
    }
}

#[link_section = ".init.text"]
fn find_dtb(x0: u64) -> Dtb {
    if x0 == 0 {
        // The FVP cannot pass x0: a tree loaded at the conventional address with
        // --data cluster0.cpu0=FILE@0x7f000000 is used when it has the FDT magic.
        if has_fdt_magic(LOADED_DTB_ADDR) {
            info!("device tree: x0 is 0; using the tree loaded at {LOADED_DTB_ADDR:#x}");
            return find_dtb(LOADED_DTB_ADDR);
        }
        let b: &'static [u8] = &BUILTIN_DTB.0;
        info!("device tree: x0 is 0, using the built-in FVP BaseR tree");
        return Dtb {
            range: PhysRange::new(b.as_ptr() as u64, b.as_ptr() as u64 + b.len() as u64),
            mapped: None,
        };
    }
    if !x0.is_multiple_of(8) {
        fatal(
            "device tree",
            &format_args!("x0 = {x0:#x} is not 8-byte aligned"),
        );
    }
    // The 40-byte header may cross into the next page.
    let header = dt::header_window(x0);
    live::with(|m| m.map(header, Attrs::RODATA))
        .unwrap_or_else(|e| fatal("device tree header", &e));
    // SAFETY: [x0, x0 + 40) lies in the pages just mapped read-only; it is only read.
    let head = unsafe { core::slice::from_raw_parts(x0 as *const u8, 40) };
    let total = match Fdt::new(head) {
        Err(dt::FdtError::BadTotalSize { total, .. }) => total as u64,
        Err(e) => fatal("device tree", &format_args!("at x0 = {x0:#x}: {e}")),
        Ok(_) => 40,
    };
    if total > MAX_DTB_SIZE {
        fatal(
            "device tree",
            &format_args!("at x0 = {x0:#x}: totalsize {total} exceeds {MAX_DTB_SIZE}"),
        );
    }
    // The whole tree read-only; when it lies in the header's pages (a small tree),
    // the header's region already is that mapping.
    let range = PhysRange::new(x0, x0 + total).page_aligned();
    if range != header {
        live::with(|m| m.unmap(header)).unwrap_or_else(|e| fatal("device tree header", &e));
        live::with(|m| m.map(range, Attrs::RODATA)).unwrap_or_else(|e| fatal("device tree", &e));
    }
    console::log_deferred(log::Level::Info, [total as u64, x0, 0, 0], |w, v| {
        write!(w, "device tree: {} bytes at {}", Dec(v[0]), Hex(v[1]))
    });
    Dtb {
        range: PhysRange::new(x0, x0 + total),
        mapped: Some(range),
    }
}
