// SPDX-License-Identifier: GPL-2.0-only
//! The running domains on this CPU: building them at init, entering the first one,
//! and the lower-EL trap path (hypercalls, vpl011, WFI/WFE, injected undefined
//! instructions, crashes), with the switch between vCPUs. Decisions come from the pure
//! modules beside this one; registers are reached only through `arch`.
//!
//! Lock order: `VM`, then the MPU table (`mm::live`), then the console.
use core::fmt::Write;

use log::{error, info, warn};
use spin::mutex::SpinMutex;

use super::config::{self, DomainConfig, MAX_DOMAINS};
use super::elf;
use super::guest_dt;
use super::hypercall::{self, Guest, Outcome, ShutdownReason};
use super::sched::{self, RunState};
use super::vpl011::{self, Vpl011, GUEST_PL011_BASE, GUEST_PL011_SIZE};
use crate::arch::gic::timer;
use crate::arch::traps::TrapFrame;
use crate::arch::vcpu::{self, El1Context};
use crate::drivers::console;
use crate::esr::Esr;
use crate::mm::mpu::Attrs;
use crate::mm::{live, PhysRange};

/// HCR_EL2 for a domain: stage 2 on (VM), EL1 AArch64 (RW), physical IRQ/FIQ/SError
/// to EL2 (IMO/FMO/AMO: a guest cannot mask the hypervisor's interrupts), WFI and WFE
/// trapped (block or yield), SMC trapped (TSC: injected as undefined, as Xen does).
const HCR_GUEST: u64 =
    (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 13) | (1 << 14) | (1 << 19) | (1 << 31);
/// SPSR at a vCPU's first entry: EL1h with DAIF masked.
const SPSR_EL1H_MASKED: u64 = 0x3c5;

const EC_UNKNOWN: u8 = 0x00;
const EC_WFX: u8 = 0x01;
const EC_HVC64: u8 = 0x16;
const EC_SMC64: u8 = 0x17;
const EC_SYSREG: u8 = 0x18;
const EC_DABT_LOWER: u8 = 0x24;

/// How a domain ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Shutdown(ShutdownReason),
    Crashed,
}

struct Vcpu {
    el1: El1Context,
    state: RunState,
}

struct Domain {
    id: u16,
    name: [u8; 32],
    name_len: usize,
    banks: [PhysRange; config::MAX_STATIC_BANKS],
    nr_banks: usize,
    vpl011: Option<Vpl011>,
    vcpu: Vcpu,
    end: Option<End>,
    console_line: vpl011::LineBuffer,
}

impl Domain {
    fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("?")
    }
    fn banks(&self) -> &[PhysRange] {
        &self.banks[..self.nr_banks]
    }
}

struct Vm {
    doms: [Option<Domain>; MAX_DOMAINS],
    n: usize,
    current: Option<usize>,
    el1_regions: usize,
    /// The EL2 timer's INTID and the slice in counter ticks, when interrupts exist
    /// (None: cooperative scheduling only).
    tick: Option<(u32, u64)>,
}

static VM: SpinMutex<Vm> = SpinMutex::new(Vm {
    doms: [const { None }; MAX_DOMAINS],
    n: 0,
    current: None,
    el1_regions: 0,
    tick: None,
});

/// The saved registers of each vCPU (index: the domain's slot in `Vm::doms`). The trap
/// entry (boot/entry.S) writes a guest's registers straight into its vCPU's frame:
/// the ERET into a guest leaves SP_EL2 just past that frame (`arch::vcpu::run`), so a
/// switch hands the entry the next vCPU's frame instead of copying frames in and out.
/// Reached through raw pointers only (`frame_ptr`): the trap path holds a `&mut` to
/// the running vCPU's frame while it handles a trap, and nothing else touches that
/// frame meanwhile (one CPU; EL2 runs with interrupts masked).
///
/// Left uninitialised (.bss.noinit: the boot head does not zero it, which would cost
/// every boot a page): `build` writes a domain's frame before anything reads it.
#[repr(C, align(16))]
struct Frames(core::cell::UnsafeCell<core::mem::MaybeUninit<[TrapFrame; MAX_DOMAINS]>>);

// SAFETY: one CPU runs rxen, and the frames are only reached through `frame_ptr` by
// the trap path and setup, never concurrently (see above).
unsafe impl Sync for Frames {}

#[link_section = ".bss.noinit"]
static FRAMES: Frames = Frames(core::cell::UnsafeCell::new(core::mem::MaybeUninit::uninit()));

/// The frame of vCPU `i`. Panics when `i` is out of range (a bug).
fn frame_ptr(i: usize) -> *mut TrapFrame {
    assert!(i < MAX_DOMAINS, "vCPU {i} has no frame");
    // SAFETY: in bounds (just checked); only a raw pointer is made, no reference to
    // the whole array.
    unsafe { FRAMES.0.get().cast::<TrapFrame>().add(i) }
}

/// The frame to resume after a trap from a guest: the running vCPU's, which a switch
/// may have changed.
pub fn current_frame() -> *mut TrapFrame {
    CURRENT_FRAME.load(core::sync::atomic::Ordering::Relaxed)
}

/// `frame_ptr(vm.current)`, kept for `current_frame` (reading it under the `VM` lock
/// would cost every trap a lock).
static CURRENT_FRAME: core::sync::atomic::AtomicPtr<TrapFrame> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// Make vCPU `i` the running one.
fn set_current(vm: &mut Vm, i: usize) {
    vm.current = Some(i);
    CURRENT_FRAME.store(frame_ptr(i), core::sync::atomic::Ordering::Relaxed);
}

/// Print one guest console line with Xen's "(dN) " prefix.
fn print_line(id: u16, line: &[u8]) {
    let mut c = console::emergency();
    let _ = write!(c, "(d{id}) ");
    for &b in line {
        let ch = if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        };
        let _ = c.write_char(ch);
    }
    let _ = writeln!(c);
}

/// Guest memory for hypercalls: the domain's banks, reached directly (the running
/// domain's regions are enabled and EL2 may read and write them).
struct GuestView<'a> {
    d: &'a mut Domain,
}

impl Guest for GuestView<'_> {
    fn memory(&self) -> &[PhysRange] {
        self.d.banks()
    }
    fn copy_from(&self, addr: u64, buf: &mut [u8]) {
        // SAFETY: `hypercall` called `check_buffer` first: [addr, addr + len) lies in
        // this domain's own RAM, which is mapped (its regions are enabled while it
        // runs) and is nobody else's. Byte copies: any alignment is fine.
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
    }
    fn copy_to(&mut self, addr: u64, data: &[u8]) {
        // SAFETY: as for `copy_from`; the range was checked against the domain's RAM.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
    }
    fn console_write(&mut self, bytes: &[u8]) {
        let id = self.d.id;
        for &b in bytes {
            self.d.console_line.push(b, &mut |l| print_line(id, l));
        }
    }
}

/// Build every configured domain (init time, before `free_init_memory`): check its
/// placement, give it its EL2 MPU regions, load its kernel and write its device tree.
/// `taken` names what domains must avoid (the image, heap, device tree, reserved
/// memory). Errors end the boot with the reason (see `setup::fatal`).
#[link_section = ".init.text"]
pub fn build(
    configs: &[Option<DomainConfig<'_>>],
    ram: &[PhysRange],
    taken: &[(&str, PhysRange)],
) -> Result<usize, &'static str> {
    let mut vm = VM.lock();
    vm.el1_regions = vcpu::el1_mpu_regions();
    if vm.el1_regions > vcpu::MAX_EL1_REGIONS {
        crate::setup::fatal(
            "domains",
            &format_args!(
                "the EL1 MPU has {} regions; rxen saves at most {}",
                vm.el1_regions,
                vcpu::MAX_EL1_REGIONS
            ),
        );
    }
    let mut placed: [DomainConfig<'_>; MAX_DOMAINS] = [DomainConfig::new("", 0); MAX_DOMAINS];
    let mut n = 0;
    for cfg in configs.iter().flatten() {
        if let Err(e) = config::check_placement(cfg, ram, taken, &placed[..n]) {
            crate::setup::fatal("domains", &e);
        }
        placed[n] = *cfg;
        n += 1;
    }
    for (k, cfg) in placed[..n].iter().enumerate() {
        for &bank in cfg.banks() {
            live::with(|m| m.map_domain(cfg.id, bank, Attrs::normal(false, false))).unwrap_or_else(
                |e| crate::setup::fatal("domains", &format_args!("{}: {e}", cfg.name)),
            );
        }
        let entry = load_kernel(cfg);
        let dtb = write_device_tree(cfg);
        let mut frame = TrapFrame {
            x: [0; 31],
            elr: entry,
            spsr: SPSR_EL1H_MASKED,
            esr: 0,
            far: 0,
            sp: 0,
        };
        frame.x[0] = dtb;
        // SAFETY: k < MAX_DOMAINS; no vCPU runs yet, so nothing else reads or writes
        // the frames. Written whole before anything reads it (see `Frames`).
        unsafe { frame_ptr(k).write(frame) };
        let mut name = [0u8; 32];
        let name_len = cfg.name.len().min(32);
        name[..name_len].copy_from_slice(&cfg.name.as_bytes()[..name_len]);
        vm.doms[k] = Some(Domain {
            id: cfg.id,
            name,
            name_len,
            banks: cfg.banks,
            nr_banks: cfg.nr_banks,
            vpl011: cfg.vpl011.then(Vpl011::default),
            vcpu: Vcpu {
                el1: El1Context::new(HCR_GUEST, cfg.id),
                state: RunState::Runnable,
            },
            end: None,
            console_line: vpl011::LineBuffer::default(),
        });
        info!(
            "d{} {}: memory {}, entry {entry:#x}, device tree at {dtb:#x}{}",
            cfg.id,
            cfg.name,
            cfg.banks[0],
            if cfg.vpl011 { ", vpl011" } else { "" }
        );
    }
    vm.n = n;
    Ok(n)
}

/// Copy the kernel's segments (ELF) or leave it in place (raw): returns the entry.
#[link_section = ".init.text"]
fn load_kernel(cfg: &DomainConfig<'_>) -> u64 {
    let Some(module) = cfg.kernel else {
        crate::setup::fatal("domains", &format_args!("{}: no kernel", cfg.name));
    };
    // The domain's regions are programmed but disabled: enable them for the copy.
    live::with(|m| m.switch_domain(Some(cfg.id)));
    // SAFETY: the module lies inside the domain's RAM (`check_placement`), which is
    // mapped now and belongs to nobody else; it is only read here.
    let image =
        unsafe { core::slice::from_raw_parts(module.start as *const u8, module.size() as usize) };
    let plan = elf::plan(image, module, cfg.banks())
        .unwrap_or_else(|e| crate::setup::fatal("domains", &format_args!("{}: {e}", cfg.name)));
    for s in plan.segments() {
        // SAFETY: `plan` checked that each destination lies in the domain's RAM and
        // does not overlap the module (unless already in place, where the copy is
        // skipped); sources lie inside the module.
        unsafe {
            if s.src != s.dst {
                core::ptr::copy(s.src as *const u8, s.dst as *mut u8, s.filesz as usize);
            }
            core::ptr::write_bytes(
                (s.dst + s.filesz) as *mut u8,
                0,
                (s.memsz - s.filesz) as usize,
            );
        }
    }
    crate::arch::cache::invalidate_icache_all();
    live::with(|m| m.switch_domain(None));
    plan.entry
}

/// Generate the domain's device tree into its memory: returns its address.
#[link_section = ".init.text"]
fn write_device_tree(cfg: &DomainConfig<'_>) -> u64 {
    let at = guest_dt::placement(cfg).unwrap_or_else(|| {
        crate::setup::fatal(
            "domains",
            &format_args!(
                "{}: no room for its {}-byte device tree at the end of its first bank",
                cfg.name,
                guest_dt::GUEST_DT_MAX
            ),
        )
    });
    let mut buf = [0u8; guest_dt::GUEST_DT_MAX];
    let size = guest_dt::build(cfg, &mut buf)
        .unwrap_or_else(|e| crate::setup::fatal("domains", &format_args!("{}: {e}", cfg.name)));
    live::with(|m| m.switch_domain(Some(cfg.id)));
    // SAFETY: `placement` chose [at, at + GUEST_DT_MAX) inside the domain's first bank,
    // clear of its kernel; the domain's regions are enabled for this copy.
    unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), at.start as *mut u8, size) };
    live::with(|m| m.switch_domain(None));
    at.start
}

/// Enter the first runnable domain. `slice_us` is the round-robin time slice,
/// enforced by the EL2 timer when the GIC is up.
pub fn start(slice_us: u32) -> ! {
    let frame = {
        let mut vm = VM.lock();
        if let Some(intid) = crate::setup::hyp_timer_intid() {
            let ticks = (timer::frequency() * slice_us as u64 / 1_000_000).max(1);
            if crate::arch::gic::register(intid, on_tick) {
                vm.tick = Some((intid, ticks));
                info!("scheduler: round robin, {slice_us} us slices (EL2 timer INTID {intid})");
                timer::arm(timer::now() + ticks);
            }
        }
        if vm.tick.is_none() {
            warn!("scheduler: no EL2 timer interrupt: cooperative only (a guest that never yields keeps the CPU)");
        }
        let states = states(&vm);
        let Some(first) = sched::pick_next(&states[..vm.n], None) else {
            drop(vm);
            finish();
        };
        let regions = vm.el1_regions;
        let d = vm.doms[first].as_ref().map(|d| (d.id, d.vcpu.el1));
        let Some((id, el1)) = d else {
            drop(vm);
            finish()
        };
        set_current(&mut vm, first);
        live::with(|m| m.switch_domain(Some(id)));
        vcpu::restore(&el1, regions);
        frame_ptr(first)
    };
    // SAFETY: the frame holds the vCPU's first context (entry point, x0 = its device
    // tree, SPSR for EL1h with DAIF masked), and the domain's stage 2 and EL1 state
    // are in force (just restored).
    unsafe { vcpu::run(frame) }
}

/// The EL2 timer's tick: the slice is over. Blocked vCPUs wake (no event channels
/// yet: a block lasts at most a slice) and the running one goes to the back of the
/// queue, whatever it was doing and even with its interrupts masked (HCR_EL2.IMO
/// routes the tick to EL2).
fn on_tick(_intid: u32, from_guest: bool) {
    let mut vm = VM.lock();
    let Some((_, ticks)) = vm.tick else { return };
    timer::arm(timer::now() + ticks);
    let n = vm.n;
    for d in vm.doms[..n].iter_mut().flatten() {
        if d.vcpu.state == RunState::Blocked {
            d.vcpu.state = RunState::Runnable;
        }
    }
    if from_guest {
        switch(&mut vm, RunState::Runnable);
    }
}

/// Nothing can run but some vCPU is blocked: wait in WFI for the next tick (IRQs stay
/// masked: WFI wakes on the pending interrupt, which is handled here, inside the
/// scheduler, rather than by the registered handler).
fn idle_until_tick(vm: &mut Vm) {
    let Some((intid, ticks)) = vm.tick else {
        return;
    };
    loop {
        crate::arch::gic::wfi();
        let mut ticked = false;
        while let Some(id) = crate::arch::gic::acknowledge() {
            if id >= 1020 {
                break;
            }
            if id == intid {
                // The timer's interrupt is level-sensitive: it stays asserted until
                // the timer is re-armed, so re-arm before ending it (else it is
                // acknowledged again at once, forever), as `on_tick` does.
                timer::arm(timer::now() + ticks);
                ticked = true;
            }
            crate::arch::gic::end(id);
        }
        if ticked {
            return;
        }
    }
}

fn states(vm: &Vm) -> [RunState; MAX_DOMAINS] {
    let mut s = [RunState::Ended; MAX_DOMAINS];
    for (i, d) in vm.doms[..vm.n].iter().enumerate() {
        if let Some(d) = d {
            s[i] = d.vcpu.state;
        }
    }
    s
}

/// What the trap handler wants the scheduler to do next.
enum Next {
    Resume,
    Yield,
    Block,
    End(End),
}

/// A synchronous exception from EL1/EL0 of the current domain, whose registers are
/// in `frame` (its vCPU's): returns the frame to resume (another vCPU's after a
/// switch).
pub fn on_guest_sync(frame: &mut TrapFrame) -> *mut TrapFrame {
    let mut vm = VM.lock();
    let Some(cur) = vm.current else {
        drop(vm);
        crate::setup::fatal("trap", &"a lower-EL exception with no domain running");
    };
    let next = {
        let Some(d) = vm.doms[cur].as_mut() else {
            return frame;
        };
        handle(d, frame)
    };
    match next {
        // The same vCPU goes on: its own frame.
        Next::Resume => return frame,
        Next::Yield => switch(&mut vm, RunState::Runnable),
        Next::Block => switch(&mut vm, RunState::Blocked),
        Next::End(end) => {
            if let Some(d) = vm.doms[cur].as_mut() {
                d.end = Some(end);
                d.console_line.flush(&mut |l| print_line(d.id, l));
                if let Some(u) = d.vpl011.as_mut() {
                    u.line.flush(&mut |l| print_line(d.id, l));
                }
                info!("d{} {}: {}", d.id, d.name(), end_name(end));
            }
            switch(&mut vm, RunState::Ended);
        }
    }
    current_frame()
}

fn end_name(end: End) -> &'static str {
    match end {
        End::Shutdown(r) => r.name(),
        End::Crashed => "crashed",
    }
}

/// Decide what one trap of domain `d` means and apply it to `frame`.
fn handle(d: &mut Domain, frame: &mut TrapFrame) -> Next {
    let esr = Esr(frame.esr);
    match esr.ec() {
        EC_HVC64 if esr.iss() & 0xffff == hypercall::XEN_HVC_IMM as u32 => {
            let args = [frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4]];
            let nr = frame.x[16];
            match hypercall::dispatch(nr, args, &mut GuestView { d }) {
                Outcome::Return(v) => {
                    frame.x[0] = v as u64;
                    Next::Resume
                }
                Outcome::Yield => {
                    frame.x[0] = 0;
                    Next::Yield
                }
                Outcome::Block => {
                    frame.x[0] = 0;
                    Next::Block
                }
                Outcome::Shutdown(r) => Next::End(End::Shutdown(r)),
            }
        }
        EC_WFX => {
            frame.elr += 4;
            if esr.iss() & 1 == 0 {
                Next::Block // WFI: wait for an interrupt (the next tick)
            } else {
                Next::Yield // WFE: a spin-wait, let the others run
            }
        }
        EC_DABT_LOWER if in_vpl011(d, frame.far) => emulate_vpl011(d, frame, esr),
        // A stage-2 data abort nothing emulates: as Xen does, the guest takes a
        // synchronous external abort for the access (its own handler decides), and
        // the refusal is logged. A guest with no vector table in its own memory
        // cannot take it (it would fault again fetching the vector): it crashes.
        EC_DABT_LOWER if vector_in_own_memory(d, frame) => {
            warn!(
                "d{} {}: {} of {:#x} refused (stage 2): external abort injected",
                d.id,
                d.name(),
                if esr.iss() & (1 << 6) != 0 {
                    "write"
                } else {
                    "read"
                },
                frame.far
            );
            inject_abort(frame, esr);
            Next::Resume
        }
        // HVC with another immediate, SMC, trapped system registers, undefined:
        // the guest gets an undefined-instruction exception, as Xen does.
        EC_HVC64 | EC_SMC64 | EC_SYSREG | EC_UNKNOWN => {
            inject_undef(frame);
            Next::Resume
        }
        _ => {
            crash_report(d, frame, esr);
            Next::End(End::Crashed)
        }
    }
}

/// Whether the exception vectors the guest would be sent to lie in its own memory.
fn vector_in_own_memory(d: &Domain, frame: &TrapFrame) -> bool {
    let vbar = crate::arch::vcpu::vbar_el1();
    let target = vbar.wrapping_add(vector_offset(frame.spsr));
    d.banks()
        .iter()
        .any(|b| b.contains(target) && b.contains(target + 0x7f))
}

/// The vector offset for an exception taken to EL1 from the state in `spsr`.
fn vector_offset(spsr: u64) -> u64 {
    let from_el0 = (spsr >> 2) & 3 == 0;
    let spx = spsr & 1 != 0;
    match (from_el0, spx) {
        (true, _) => 0x400,
        (false, true) => 0x200,
        (false, false) => 0x000,
    }
}

/// Make the guest take a synchronous external abort at EL1 for the data access at
/// ELR_EL2 (ESR_EL1: data abort from the same or a lower EL, DFSC 0x10, WnR kept;
/// FAR_EL1 the address).
fn inject_abort(frame: &mut TrapFrame, esr: Esr) {
    let from_el0 = (frame.spsr >> 2) & 3 == 0;
    let ec: u64 = if from_el0 { 0x24 } else { 0x25 };
    let iss = 0x10 | (esr.iss() as u64 & (1 << 6));
    let far = frame.far;
    inject_sync(frame, (ec << 26) | (1 << 25) | iss, Some(far));
}

/// Make the guest take a synchronous exception at EL1 with `esr_el1` (and FAR_EL1) for
/// the instruction at ELR_EL2: EL1's exception registers as the architecture sets
/// them, then ELR_EL2/SPSR_EL2 aimed at VBAR_EL1 plus the vector for where it came from.
fn inject_sync(frame: &mut TrapFrame, esr_el1: u64, far: Option<u64>) {
    let vbar = crate::arch::vcpu::inject_sync_to_el1(frame.elr, frame.spsr, esr_el1, far);
    frame.elr = vbar + vector_offset(frame.spsr);
    frame.spsr = SPSR_EL1H_MASKED;
}

fn in_vpl011(d: &Domain, far: u64) -> bool {
    d.vpl011.is_some() && (GUEST_PL011_BASE..GUEST_PL011_BASE + GUEST_PL011_SIZE).contains(&far)
}

/// A stage-2 data abort on the vpl011's page: decode the access (it must have a valid
/// syndrome), emulate it, write a load's result and step past the instruction.
fn emulate_vpl011(d: &mut Domain, frame: &mut TrapFrame, esr: Esr) -> Next {
    let iss = esr.iss();
    let isv = iss & (1 << 24) != 0;
    if !isv {
        crash_report(d, frame, esr);
        return Next::End(End::Crashed);
    }
    let size = 1u8 << ((iss >> 22) & 3);
    let srt = ((iss >> 16) & 0x1f) as usize;
    let sse = iss & (1 << 21) != 0;
    let sf = iss & (1 << 15) != 0;
    let write = iss & (1 << 6) != 0;
    let value = if srt == 31 { 0 } else { frame.x[srt] };
    let access = vpl011::Access {
        offset: frame.far - GUEST_PL011_BASE,
        size,
        write: write.then_some(value),
    };
    let id = d.id;
    let Some(u) = d.vpl011.as_mut() else {
        return Next::Resume;
    };
    match u.mmio(access, &mut |l| print_line(id, l)) {
        Ok(v) => {
            if !write && srt != 31 {
                let bits = 8 * size as u32;
                let mut v = v;
                if sse && bits < 64 {
                    let shift = 64 - bits;
                    v = (((v << shift) as i64) >> shift) as u64;
                }
                if !sf {
                    v &= 0xffff_ffff;
                }
                frame.x[srt] = v;
            }
            frame.elr += 4;
            Next::Resume
        }
        Err(e) => {
            error!("d{id}: {e}");
            crash_report(d, frame, esr);
            Next::End(End::Crashed)
        }
    }
}

/// Make the guest take an undefined-instruction exception at EL1 for the instruction
/// at ELR_EL2, the way the architecture would have (ESR_EL1 EC 0, ELR_EL1, SPSR_EL1,
/// VBAR_EL1 plus the vector for where it came from).
fn inject_undef(frame: &mut TrapFrame) {
    // ESR_EL1: EC 0 (unknown reason), IL set.
    inject_sync(frame, 1 << 25, None);
}

fn crash_report(d: &Domain, frame: &TrapFrame, esr: Esr) {
    let mut c = console::emergency();
    let _ = writeln!(
        c,
        "(XEN) d{} {}: unhandled exception from the guest: crashing the domain",
        d.id,
        d.name()
    );
    let _ = writeln!(c, "(XEN)   {esr}");
    let _ = writeln!(
        c,
        "(XEN)   ELR {:#x}  FAR {:#x}  HPFAR {:#x}  SPSR {:#x}",
        frame.elr,
        frame.far,
        crate::arch::vcpu::hpfar(),
        frame.spsr
    );
    for b in d.banks() {
        let _ = writeln!(c, "(XEN)   d{} memory {b}", d.id);
    }
}

/// Switch from the running vCPU (whose registers the trap entry saved in its frame),
/// leaving it in `state`, to the next one, which `current_frame` then gives the trap
/// path to resume; with none left, stop.
fn switch(vm: &mut Vm, state: RunState) {
    let Some(cur) = vm.current else { return };
    let regions = vm.el1_regions;
    if let Some(d) = vm.doms[cur].as_mut() {
        d.vcpu.state = state;
        vcpu::save(&mut d.vcpu.el1, regions);
    }
    let state = |i: usize| {
        vm.doms[i]
            .as_ref()
            .map_or(RunState::Ended, |d| d.vcpu.state)
    };
    let next = match sched::pick_next_of(vm.n, Some(cur), state) {
        Some(next) => next,
        None => {
            let mut states = states(vm);
            // Nothing runnable: blocked vCPUs wake at the next tick (at once without a
            // timer), unless every vCPU has ended.
            if !sched::all_ended(&states[..vm.n]) {
                idle_until_tick(vm);
            }
            sched::wake_all(&mut states[..vm.n]);
            for (i, s) in states[..vm.n].iter().enumerate() {
                if let Some(d) = vm.doms[i].as_mut() {
                    d.vcpu.state = *s;
                }
            }
            let Some(next) = sched::pick_next(&states[..vm.n], Some(cur)) else {
                finish_locked(vm);
            };
            next
        }
    };
    let Some(d) = vm.doms[next].as_ref() else {
        return;
    };
    live::with(|m| m.switch_domain(Some(d.id)));
    // Restored in place: the EL1 context is 700 bytes, not worth a copy.
    vcpu::restore(&d.vcpu.el1, regions);
    set_current(vm, next);
}

fn finish() -> ! {
    let vm = VM.lock();
    finish_locked(&vm)
}

/// Every domain has ended: one line each, then stop with 0 when all powered off and
/// 5 when any crashed or ended otherwise.
fn finish_locked(vm: &Vm) -> ! {
    live::with(|m| m.switch_domain(None));
    let mut status = crate::setup::status::OK;
    for d in vm.doms[..vm.n].iter().flatten() {
        let end = d.end.unwrap_or(End::Crashed);
        info!("domain d{} {}: {}", d.id, d.name(), end_name(end));
        if end != End::Shutdown(ShutdownReason::Poweroff) {
            status = crate::setup::status::DOMAIN_FAILED;
        }
    }
    info!("all domains have ended; stopping with status {status}");
    crate::arch::semihosting::exit(status)
}
