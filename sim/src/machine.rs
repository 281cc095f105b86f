// SPDX-License-Identifier: GPL-2.0-only
//! The machine: Unicorn plus the models, wired together.
//!
//! How the architecture is obtained from Unicorn (see shared/docs/UNICORN-NOTES.md):
//! - The EL2 MPU is enforced by the virtual-TLB hook, which grants a page only what
//!   every 64-byte block of it allows. A refused fill stops emulation; the faulting
//!   instruction is then single-stepped with everything granted and its exact accesses
//!   recorded, checked against the MPU byte by byte, and either kept (the access was
//!   allowed: a page cut by a region boundary) or rolled back and turned into an abort.
//! - Synchronous exceptions Unicorn reports through the interrupt hook (and those the
//!   MPU raises) are entered here: ESR/FAR/ELR/SPSR_EL2, PSTATE, SP, VBAR_EL2 offset.
//! - PMSA and ID registers and the counter are served by the MRS/MSR hook. A write to
//!   an MPU register or SCTLR_EL2 stops emulation so that the TLB and translated code
//!   are flushed before the next instruction runs.
use std::io::Write;

use object::{Object, ObjectSymbol};
use std::ffi::c_void;
use unicorn_engine::{
    uc_emu_stop, uc_engine, uc_error, uc_hook, uc_hook_add, uc_mem_read, uc_reg_read, Arch,
    Arm64CpuModel, Arm64Insn, HookType, MemType, Mode, Prot, RegisterARM64, RegisterARM64CP,
    TlbEntry, TlbType, Unicorn,
};

use crate::devices::{Pl011, V2m, V2mRequest, UART_BASES, UART_SIZE, V2M_SIZE, V2M_SYSREGS};
use crate::exception::{self, Cause, Kind};
use crate::gdb::points::{Points, Watch, WatchHit};
use crate::mpu::{self, Access, Controls, Mpu, Stage, SCTLR_M};
pub use crate::stop::{Outcome, StopReason, ADP_STOPPED_APPLICATION_EXIT};
use crate::syndrome::{self, data_abort_iss};
use crate::sysregs::{region_reg, trapped_to_el2, Enc, HCR_EL2, SCTLR_EL1, VTCR_EL2};

pub const DRAM_BASE: u64 = 0;
pub const DRAM_SIZE: u64 = 0x8000_0000;
pub const FLASH0_BASE: u64 = 0x8800_0000;
pub const FLASH0_SIZE: u64 = 0x0400_0000;
/// Where the device tree is placed (x0 points here).
pub const DTB_ADDR: u64 = 0x7f00_0000;
pub const DTB_MAX: u64 = 0x0100_0000;
/// The default `xen,static-heap`: 16 MiB at 256 MiB.
pub const DEFAULT_STATIC_HEAP: (u64, u64) = (0x1000_0000, 0x0100_0000);
/// The generic timer frequency, as on the FVP.
pub const COUNTER_HZ: u64 = 100_000_000;
/// Instructions per counter tick: the counter runs as if one instruction took 1 ns.
pub const INSNS_PER_TICK: u64 = 10;
/// emu_start's `until`: never reached (outside the physical address range).
const UNTIL: u64 = 1 << 48;
const PAGE: u64 = 1024;

const INSN_ISB: u32 = 0xd503_3fdf;
const INSN_WFI: u32 = 0xd503_207f;
const INSN_HLT_SEMIHOSTING: u32 = 0xd45e_0000;

/// Cortex-R82 identification.
const MIDR: u64 = 0x410f_d150;
const MPIDR: u64 = 0x8000_0000;
/// MSA = 0xF (see MSA_frac), MSA_frac = 1 (PMSAv8-64 only), PARange = 40 bits.
const ID_AA64MMFR0: u64 = (1 << 52) | (0xf << 48) | 2;
pub const PA_BITS: u8 = 40;
/// EL0, EL1, EL2 AArch64; no EL3; FP and AdvSIMD; GIC system registers.
const ID_AA64PFR0: u64 = 0x0100_0111;
/// HCR_EL2 at reset on the Cortex-R82: RW is RES1 (EL1 is AArch64), the rest 0.
const HCR_RESET: u64 = exception::HCR_RW;
/// The byte memory that no image or file was loaded into reads as, by default (the
/// FVP does not zero RAM; see `Config::fill`).
pub const DEFAULT_FILL: u8 = 0xa5;
const INSN_ERET: u32 = 0xd69f_03e0;
/// ESR exception class of an SError interrupt.
const EC_SERROR: u32 = 0x2f;
const INSN_WFE: u32 = 0xd503_205f;

/// Options of a run.
pub struct Config {
    pub mpu_regions: u8,
    /// A device tree to pass instead of the generated one.
    pub dtb: Option<Vec<u8>>,
    /// Pass x0 = 0 (no device tree), as the FVP's `-a` does.
    pub no_dtb: bool,
    pub bootargs: Option<String>,
    pub static_heap: Option<(u64, u64)>,
    pub max_insns: u64,
    pub trace_exceptions: bool,
    /// Log each interrupt line change, acknowledge, EOI and deactivation on stderr.
    pub trace_interrupts: bool,
    pub strict: bool,
    pub profile: Vec<String>,
    /// The exception level the core leaves reset in (2 on every Armv8-R core; 1 to
    /// test how an image copes with being started below EL2).
    pub reset_el: u8,
    /// MPIDR_EL1 of the simulated core (0x8000_0000: core 0 of cluster 0).
    pub mpidr: u64,
    /// Where console output (UART0 and semihosting stdout) goes as it is produced (it
    /// is also kept for `console()`).
    pub echo: Option<Box<dyn Write>>,
    /// Where UART1..3 output goes as it is produced (index 0 is UART1); it is also kept
    /// for `uart_output()`. As with the FVP's `bp.pl011_uartN.out_file`, unset means
    /// the output is only kept.
    pub uart_echo: [Option<Box<dyn Write>>; 3],
    /// EL1 MPU regions implemented (MPUIR_EL1).
    pub el1_mpu_regions: u8,
    /// The only host directory semihosting may open files in (None: host files are
    /// refused, as an image must not read the host by default).
    pub semihosting_dir: Option<std::path::PathBuf>,
    /// SYS_GET_CMDLINE's answer (the FVP's cluster0.cpu0.semihosting-cmd_line).
    pub semihosting_cmdline: String,
    /// Where the device tree is loaded (x0 points here); 8-byte aligned.
    pub dtb_addr: u64,
    /// The byte DRAM reads as where nothing was loaded (`None`: zero). Filled lazily,
    /// one TLB page at its first access, so a 2 GiB DRAM costs nothing until used.
    pub fill: Option<u8>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mpu_regions: 16,
            dtb: None,
            no_dtb: false,
            bootargs: None,
            static_heap: Some(DEFAULT_STATIC_HEAP),
            max_insns: 10_000_000_000,
            trace_exceptions: false,
            trace_interrupts: false,
            strict: false,
            profile: Vec::new(),
            reset_el: 2,
            mpidr: MPIDR,
            echo: None,
            uart_echo: [None, None, None],
            el1_mpu_regions: 16,
            fill: Some(DEFAULT_FILL),
            dtb_addr: DTB_ADDR,
            semihosting_dir: None,
            semihosting_cmdline: String::new(),
        }
    }
}

/// One access recorded while single-stepping a faulting instruction.
struct Recorded {
    addr: u64,
    size: usize,
    write: bool,
    old: Vec<u8>,
}

/// Everything the hooks share.
struct State {
    mpu: Mpu,
    /// The EL1 MPU (stage 1 of the EL1&0 regime).
    el1_mpu: Mpu,
    sctlr_el1: u64,
    /// HCR_EL2 as the core sees it (RW forced to 1).
    hcr: u64,
    vtcr: u64,
    /// The instruction count at which the block hook stops emulation so that the run
    /// loop can deliver an interrupt (a timer deadline, or polling while an
    /// interrupt is pending but masked).
    next_event: u64,
    /// Set by the block hook when the block about to run ends in an ERET: the EL it
    /// runs at. The next block checks the return's legality.
    eret_from: Option<u8>,
    /// Direct-mapped cache: (block address, size << 32 | its last instruction).
    last_insn_cache: Box<[(u64, u64); 4096]>,
    /// `--profile-report` / `--folded`: every block, attributed to functions.
    profiler: Option<crate::profile::Profiler>,
    /// An illegal exception return was found: (return address, SPSR, EL of the ERET).
    illegal: Option<(u64, u64, u8)>,
    /// A system-register access the hook refused because HCR_EL2 traps it to EL2:
    /// (PC, ISS). Unicorn then raises an undefined instruction at that PC.
    sysreg_trap: Option<(u64, u32)>,
    fill: Option<u8>,
    /// One bit per TLB page of DRAM: holds the fill pattern or loaded data already.
    touched: Vec<u64>,
    uart_out: [Vec<u8>; 4],
    semihosting: crate::semihosting::Semihosting,
    gic: crate::gic::Gic,
    timers: crate::timer::Timers,
    sys_counter: crate::timer::SystemCounter,
    /// Counter ticks added by WFI fast-forwarding to the next timer deadline.
    time_skip: u64,
    /// Semihosting stderr output.
    stderr: Vec<u8>,
    uart_echo: [Option<Box<dyn Write>>; 3],
    sctlr: u64,
    vbar_set: bool,
    vsctlr: u64,
    insns: u64,
    block_addr: u64,
    insns_before_block: u64,
    max_insns: u64,
    /// The access kind of the last TLB fill the MPU refused.
    refused: Option<MemType>,
    unmapped: Option<(u64, MemType)>,
    permissive: bool,
    recorded: Vec<Recorded>,
    pending: Option<(u32, u64)>,
    mpu_changed: bool,
    stop: Option<StopReason>,
    uarts: [Pl011; 4],
    v2m: V2m,
    console: Vec<u8>,
    echo: Option<Box<dyn Write>>,
    trace: bool,
    strict: Strict,
    profile: Vec<(String, u64, Option<u64>)>,
    /// The instruction count at the last exception entry, to catch exception loops.
    last_entry: Option<u64>,
    mpidr: u64,
    /// The debugger's breakpoints and watchpoints (`crate::gdb`).
    points: Points,
    /// The debugger's run state (see the debugging `impl Machine` at the end).
    dbg: DebugRun,
}

/// A region written with no ISB since: (index, old range, new range, warned already).
type PendingRegion = (u8, (u64, u64), (u64, u64), bool);

/// `--strict` bookkeeping.
#[derive(Default)]
struct Strict {
    on: bool,
    warnings: Vec<String>,
    /// PRSELR was written and no ISB has executed since.
    selr_pending: bool,
    /// A region was written (index, old and new range, warned yet) and no ISB since.
    region_pending: Option<PendingRegion>,
    /// Ranges that lost execute permission with no IC IALLU since.
    stale_exec: Vec<(u64, u64, u8)>,
    reported_overlaps: Vec<(u8, u8)>,
}

impl State {
    fn exact_insns(&self, pc: u64) -> u64 {
        if pc >= self.block_addr
            && pc < self.block_addr + 4 * (self.insns - self.insns_before_block + 1)
        {
            self.insns_before_block + (pc - self.block_addr) / 4
        } else {
            self.insns
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.console.extend_from_slice(bytes);
        if let Some(w) = self.echo.as_mut() {
            let _ = w.write_all(bytes);
            let _ = w.flush();
        }
    }

    fn warn(&mut self, msg: String) {
        eprintln!("r82sim: strict: {msg}");
        self.strict.warnings.push(msg);
    }

    /// The counter (CNTPCT) at `pc` inside the current block.
    fn now(&self, pc: u64) -> u64 {
        self.exact_insns(pc) / INSNS_PER_TICK + self.time_skip
    }

    fn controls(&self, el: u8) -> Controls {
        Controls {
            el,
            sctlr_el2: self.sctlr,
            sctlr_el1: self.sctlr_el1,
            hcr_el2: self.hcr,
        }
    }

    /// Whether the DRAM page holding `addr` has real contents (loaded, or filled).
    fn is_touched(&self, addr: u64) -> bool {
        let i = ((addr - DRAM_BASE) / PAGE) as usize;
        self.touched
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Mark a DRAM page as holding real contents; returns whether it was untouched.
    fn touch(&mut self, page: u64) -> bool {
        let i = ((page - DRAM_BASE) / PAGE) as usize;
        match self.touched.get_mut(i / 64) {
            Some(w) if *w & (1 << (i % 64)) == 0 => {
                *w |= 1 << (i % 64);
                true
            }
            _ => false,
        }
    }

    fn uart_byte(&mut self, i: usize, b: u8) {
        if i == 0 {
            self.emit(&[b]);
            return;
        }
        self.uart_out[i].push(b);
        if let Some(w) = self.uart_echo[i - 1].as_mut() {
            let _ = w.write_all(&[b]);
            let _ = w.flush();
        }
    }
}

/// The current exception level, from PSTATE.
fn current_el(uc: &Uc) -> u8 {
    ((uc.reg_read(RegisterARM64::PSTATE).unwrap_or(0) >> 2) & 3) as u8
}

fn in_dram(addr: u64) -> bool {
    (DRAM_BASE..DRAM_BASE + DRAM_SIZE).contains(&addr)
}

/// Give a DRAM page its fill pattern at its first use.
fn fill_page(uc: &mut Uc, page: u64) {
    let s = uc.get_data_mut();
    let Some(byte) = s.fill else { return };
    if in_dram(page) && s.touch(page) {
        let _ = uc.mem_write(page, &[byte; PAGE as usize]);
    }
}

fn cp(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> RegisterARM64CP {
    RegisterARM64CP {
        crn,
        crm,
        op0,
        op1,
        op2,
        val: 0,
    }
}

/// A simulated FVP BaseR with one Cortex-R82.
pub struct Machine {
    uc: Unicorn<'static, StateBox>,
    entry: u64,
    x0: u64,
    symbols: Vec<(String, u64)>,
    dtb_addr: u64,
    /// Functions of the image: (name, address, size).
    functions: Vec<(String, u64, u64)>,
}

type Uc<'a> = Unicorn<'a, StateBox>;

/// The machine's `State`, owned through the raw pointer its allocation returned: the
/// engine's data. The block hook registered through the C API (`on_block`) gets the
/// same pointer, and every access, through the binding's `get_data`/`get_data_mut` or
/// the hook, derives from it, so no access invalidates another's pointer (a pointer
/// taken from one `&mut State` would be, by the next `get_data_mut`).
struct StateBox(std::ptr::NonNull<State>);

impl StateBox {
    fn new(state: State) -> Self {
        Self(std::ptr::NonNull::from(Box::leak(Box::new(state))))
    }

    fn as_ptr(&self) -> *mut State {
        self.0.as_ptr()
    }
}

impl std::ops::Deref for StateBox {
    type Target = State;
    fn deref(&self) -> &State {
        // SAFETY: the pointer is the live allocation `new` made (freed only by `drop`);
        // the binding hands out `&StateBox`/`&mut StateBox` with the usual borrow
        // rules, and `on_block` only runs inside `emu_start`, when no reference from
        // here is in use.
        unsafe { self.0.as_ref() }
    }
}

impl std::ops::DerefMut for StateBox {
    fn deref_mut(&mut self) -> &mut State {
        // SAFETY: as `deref`; `&mut self` is unique.
        unsafe { self.0.as_mut() }
    }
}

impl Drop for StateBox {
    fn drop(&mut self) {
        // SAFETY: the allocation `new` leaked, freed once. The engine is closed first
        // (the binding's `UnicornInner::drop` runs before its fields drop), so no hook
        // can use the pointer after this.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

fn host<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

impl Machine {
    pub fn new(cfg: Config) -> Result<Self, String> {
        let state = State {
            mpu: Mpu::new(cfg.mpu_regions),
            el1_mpu: Mpu::new(cfg.el1_mpu_regions),
            sctlr_el1: 0,
            hcr: HCR_RESET,
            vtcr: 0,
            eret_from: None,
            next_event: u64::MAX,
            last_insn_cache: Box::new([(u64::MAX, 0); 4096]),
            profiler: None,
            illegal: None,
            sysreg_trap: None,
            fill: cfg.fill,
            touched: vec![0; (DRAM_SIZE / PAGE / 64) as usize],
            uart_out: Default::default(),
            gic: {
                let mut g = crate::gic::Gic::new(&[cfg.mpidr]);
                g.trace = cfg.trace_interrupts.then(Vec::new);
                g
            },
            timers: crate::timer::Timers::new(COUNTER_HZ),
            sys_counter: crate::timer::SystemCounter::new(COUNTER_HZ as u32),
            time_skip: 0,
            semihosting: crate::semihosting::Semihosting::new(
                cfg.semihosting_dir.clone(),
                cfg.semihosting_cmdline.clone(),
            ),
            stderr: Vec::new(),
            uart_echo: cfg.uart_echo,
            sctlr: 0,
            vbar_set: false,
            vsctlr: 0,
            insns: 0,
            block_addr: 0,
            insns_before_block: 0,
            max_insns: cfg.max_insns,
            refused: None,
            unmapped: None,
            permissive: false,
            recorded: Vec::new(),
            pending: None,
            mpu_changed: false,
            stop: None,
            uarts: Default::default(),
            v2m: V2m::default(),
            console: Vec::new(),
            echo: cfg.echo,
            trace: cfg.trace_exceptions,
            strict: Strict {
                on: cfg.strict,
                ..Default::default()
            },
            profile: Vec::new(),
            last_entry: None,
            mpidr: cfg.mpidr,
            points: Points::default(),
            dbg: DebugRun::default(),
        };
        let mut uc = Unicorn::new_with_data(Arch::ARM64, Mode::LITTLE_ENDIAN, StateBox::new(state))
            .map_err(host("unicorn"))?;
        uc.ctl_set_cpu_model(Arm64CpuModel::MAX as i32)
            .map_err(host("cpu model"))?;
        uc.ctl_set_tlb_type(TlbType::VIRTUAL)
            .map_err(host("tlb type"))?;
        uc.mem_map(DRAM_BASE, DRAM_SIZE, Prot::ALL)
            .map_err(host("map DRAM"))?;
        uc.mem_map(FLASH0_BASE, FLASH0_SIZE, Prot::ALL)
            .map_err(host("map flash"))?;
        for (i, base) in UART_BASES.iter().enumerate() {
            uc.mmio_map(
                *base,
                UART_SIZE,
                Some(move |uc: &mut Uc, off: u64, _size: usize| {
                    uc.get_data().uarts[i].read(off) as u64
                }),
                Some(move |uc: &mut Uc, off: u64, _size: usize, v: u64| {
                    let s = uc.get_data_mut();
                    if let Some(b) = s.uarts[i].write(off, v as u32) {
                        s.uart_byte(i, b);
                    }
                }),
            )
            .map_err(host("map UART"))?;
        }
        // The GICv3 distributor and this core's redistributor (RD + SGI frames).
        for (base, size) in [
            (crate::gic::GICD_BASE, crate::gic::GICD_SIZE),
            (crate::gic::GICR_BASE, crate::gic::GICR_STRIDE),
        ] {
            uc.mmio_map(
                base,
                size,
                Some(move |uc: &mut Uc, off: u64, size: usize| {
                    uc.get_data_mut().gic.mmio_read(base + off, size as u8)
                }),
                Some(move |uc: &mut Uc, off: u64, size: usize, v: u64| {
                    let s = uc.get_data_mut();
                    s.gic.mmio_write(base + off, size as u8, v);
                    // Enables, priorities or pending bits may have changed: stop at
                    // the next block to look (stopping inside an MMIO callback would
                    // make Unicorn run the store again).
                    s.next_event = s.insns;
                }),
            )
            .map_err(host("map GIC"))?;
        }
        // The memory-mapped system counter: CNTControl and its read-only frame.
        for (base, ro) in [
            (crate::timer::CNTCONTROL_BASE, false),
            (crate::timer::CNTREAD_BASE, true),
        ] {
            uc.mmio_map(
                base,
                crate::timer::FRAME_SIZE,
                Some(move |uc: &mut Uc, off: u64, _size: usize| {
                    let s = uc.get_data();
                    let t = s.insns / INSNS_PER_TICK + s.time_skip;
                    s.sys_counter.read(ro, off, t)
                }),
                Some(move |uc: &mut Uc, off: u64, _size: usize, v: u64| {
                    if !ro {
                        let s = uc.get_data_mut();
                        let t = s.insns / INSNS_PER_TICK + s.time_skip;
                        s.sys_counter.write(off, v, t);
                    }
                }),
            )
            .map_err(host("map CNTControl"))?;
        }
        uc.mmio_map(
            V2M_SYSREGS,
            V2M_SIZE,
            Some(|uc: &mut Uc, off: u64, _size: usize| uc.get_data().v2m.read(off) as u64),
            Some(|uc: &mut Uc, off: u64, _size: usize, v: u64| {
                if let Some(req) = uc.get_data_mut().v2m.write(off, v as u32) {
                    uc.get_data_mut().stop = Some(StopReason::Shutdown {
                        reboot: req == V2mRequest::Reboot,
                    });
                    let _ = uc.emu_stop();
                }
            }),
        )
        .map_err(host("map V2M"))?;
        Self::install_hooks(&mut uc)?;

        // Reset: EL2h with DAIF masked (EL1h if asked). The SCR_EL3 write refreshes
        // Unicorn's cached state so EL2 system registers are reachable (its A-profile
        // model has EL3).
        let pstate = if cfg.reset_el == 1 { 0x3c5 } else { 0x3c9 };
        uc.reg_write(RegisterARM64::PSTATE, pstate)
            .map_err(host("pstate"))?;
        let mut scr = cp(3, 6, 1, 1, 0);
        scr.val = (1 << 0) | (1 << 8) | (1 << 10);
        uc.reg_write_arm64_coproc(&scr).map_err(host("SCR_EL3"))?;
        let mut hcr = cp(3, 4, 1, 1, 0);
        hcr.val = HCR_RESET;
        uc.reg_write_arm64_coproc(&hcr).map_err(host("HCR_EL2"))?;
        Ok(Self {
            uc,
            entry: 0,
            x0: 0,
            symbols: Vec::new(),
            dtb_addr: cfg.dtb_addr,
            functions: Vec::new(),
        })
    }

    fn install_hooks(uc: &mut Uc) -> Result<(), String> {
        // The block hook runs for every block executed (tens of millions a second): it
        // is registered through Unicorn's C API with the machine's `State` as its data,
        // not through the binding's closure proxy, whose per-call bookkeeping cost a
        // third of the host time on tight loops.
        let state: *mut State = uc.get_data().as_ptr();
        let mut id: uc_hook = 0;
        // SAFETY: `on_block` has the C signature of a UC_HOOK_BLOCK callback
        // (uc_cb_hookcode_t). `state` points into the engine's own data, which lives
        // (at a fixed heap address, inside the binding's Rc) as long as the engine and
        // so as long as the hook; the hook is called only from inside emu_start, when
        // no other reference to the State is in use (see `on_block`).
        unsafe {
            uc_hook_add(
                uc.get_handle(),
                &mut id,
                HookType::BLOCK.0 as i32,
                on_block as *mut c_void,
                state.cast(),
                1,
                0,
            )
        }
        .and(Ok(()))
        .map_err(host("block hook"))?;

        uc.add_tlb_hook(0, u64::MAX, |uc, addr, ty| {
            let page = addr & !(PAGE - 1);
            if page == (UNTIL - 1) & !(PAGE - 1) {
                return Some(TlbEntry {
                    paddr: page,
                    perms: Prot::ALL,
                });
            }
            fill_page(uc, page);
            let el = current_el(uc);
            let s = uc.get_data_mut();
            if s.permissive {
                return Some(TlbEntry {
                    paddr: page,
                    perms: Prot::ALL,
                });
            }
            let c = s.controls(el);
            let (r, w, x) = mpu::page_perms_at(&s.mpu, &s.el1_mpu, &c, page, PAGE);
            // A debugger's watchpoints: data accesses to a watched page get no TLB
            // entry, so that each one stops here and is checked (`run_until`).
            let (wr, ww) = s.points.page_watched(page, PAGE);
            let (r, w) = (r && !wr, w && !ww);
            if s.strict.on && s.sctlr & SCTLR_M != 0 && el == 2 {
                strict_on_access(s, page, ty);
            }
            let allowed = match ty {
                MemType::WRITE => w,
                MemType::FETCH => x,
                _ => r,
            };
            if !allowed {
                s.refused = Some(ty);
                return None;
            }
            // A fill grants the kind of access it is for: execute for a fetch, read
            // and write for data. Unicorn keeps a TLB entry with code access on its
            // slow store path (a self-modifying-code check on every store), so data
            // accesses must not share an entry with instruction fetches. A page with
            // both refills when the kind changes, which translated code rarely needs.
            let mut perms = Prot::NONE;
            if ty == MemType::FETCH {
                if x {
                    perms |= Prot::EXEC;
                }
            } else {
                if r {
                    perms |= Prot::READ;
                }
                if w {
                    perms |= Prot::WRITE;
                }
            }
            Some(TlbEntry { paddr: page, perms })
        })
        .map_err(host("tlb hook"))?;

        uc.add_insn_sys_hook_arm64(Arm64Insn::UC_ARM64_INS_MRS, 1, 0, |uc, reg, c| {
            let pc = uc.reg_read(RegisterARM64::PC).unwrap_or(0);
            let enc = (c.op0, c.op1, c.crn, c.crm, c.op2);
            let el = current_el(uc);
            if refuse_at_el(uc, enc, el, true, pc) {
                return false;
            }
            match device_sysreg(uc, enc, el, None, pc) {
                Some(Dev::Value(v)) => {
                    let _ = uc.reg_write(reg, v);
                    skip(uc, enc, pc);
                    return true;
                }
                Some(_) => return false,
                None => {}
            }
            let Some(v) = sysreg_read(uc.get_data_mut(), enc, pc) else {
                return false;
            };
            let _ = uc.reg_write(reg, v);
            skip(uc, enc, pc);
            true
        })
        .map_err(host("mrs hook"))?;

        uc.add_insn_sys_hook_arm64(Arm64Insn::UC_ARM64_INS_MSR, 1, 0, |uc, reg, c| {
            let pc = uc.reg_read(RegisterARM64::PC).unwrap_or(0);
            let v = if reg == RegisterARM64::XZR {
                0
            } else {
                uc.reg_read(reg).unwrap_or(c.val)
            };
            let enc = (c.op0, c.op1, c.crn, c.crm, c.op2);
            let el = current_el(uc);
            if refuse_at_el(uc, enc, el, false, pc) {
                return false;
            }
            match device_sysreg(uc, enc, el, Some(v), pc) {
                Some(Dev::Done) => {
                    skip(uc, enc, pc);
                    // The interrupt lines may have changed: stop at the next block to
                    // look.
                    let s = uc.get_data_mut();
                    s.next_event = s.insns;
                    return true;
                }
                Some(_) => return false,
                None => {}
            }
            if enc == HCR_EL2 {
                // RW is RES1 on the Cortex-R82: store the value with RW forced.
                let forced = v | exception::HCR_RW;
                let mut r = cp(3, 4, 1, 1, 0);
                r.val = forced;
                let _ = uc.reg_write_arm64_coproc(&r);
                uc.get_data_mut().hcr = forced;
                uc.get_data_mut().mpu_changed = true;
                let _ = uc.emu_stop();
                return true;
            }
            let (handled, stop) = sysreg_write(uc.get_data_mut(), enc, v, pc);
            if stop {
                uc.get_data_mut().mpu_changed = true;
                let _ = uc.emu_stop();
            }
            if handled {
                skip(uc, enc, pc);
            }
            handled
        })
        .map_err(host("msr hook"))?;

        uc.add_insn_sys_hook_arm64(Arm64Insn::UC_ARM64_INS_SYS, 1, 0, |uc, _reg, c| {
            // IC IALLU / IC IALLUIS: stale instructions are gone.
            if c.op1 == 0 && c.crn == 7 && (c.crm == 5 || c.crm == 1) && c.op2 == 0 {
                uc.get_data_mut().strict.stale_exec.clear();
            }
            // Any instruction-cache invalidation (IC IALLU, IALLUIS, IVAU) drops the
            // translated code at the next stop: the TLB fills keep data stores off
            // Unicorn's self-modifying-code checks, so code that rewrites
            // instructions is seen, as the architecture requires, after the IC
            // invalidation and the ISB that follows it.
            if c.crn == 7 && matches!((c.op1, c.crm, c.op2), (0, 1 | 5, 0) | (3, 5, 1)) {
                uc.get_data_mut().mpu_changed = true;
                let _ = uc.emu_stop();
            }
            false
        })
        .map_err(host("sys hook"))?;

        uc.add_intr_hook(|uc, intno| {
            let pc = uc.reg_read(RegisterARM64::PC).unwrap_or(0);
            uc.get_data_mut().pending = Some((intno, pc));
            let _ = uc.emu_stop();
        })
        .map_err(host("interrupt hook"))?;

        // Bounded to the addresses above DRAM: Unicorn keeps every store to a page
        // that any memory hook covers on its slow path, and DRAM is never unmapped.
        uc.add_mem_hook(
            HookType::MEM_READ_UNMAPPED
                | HookType::MEM_WRITE_UNMAPPED
                | HookType::MEM_FETCH_UNMAPPED,
            DRAM_BASE + DRAM_SIZE,
            u64::MAX,
            |uc, ty, addr, _size, _v| {
                uc.get_data_mut().unmapped = Some((addr, ty));
                false
            },
        )
        .map_err(host("unmapped hook"))?;
        Ok(())
    }

    /// Load an ELF image (PT_LOAD segments at their physical addresses) and the device
    /// tree; the core will start at the entry point with x0 = the tree.
    pub fn load_elf(&mut self, elf: &[u8], cfg_dtb: DtbChoice) -> Result<(), String> {
        use object::elf::{FileHeader64, PT_LOAD};
        use object::read::elf::{FileHeader, ProgramHeader};
        use object::LittleEndian as LE;
        let header = FileHeader64::<LE>::parse(elf).map_err(|e| format!("ELF: {e}"))?;
        if header.e_machine(LE) != object::elf::EM_AARCH64 {
            return Err("ELF: not an AArch64 image".into());
        }
        for ph in header
            .program_headers(LE, elf)
            .map_err(|e| format!("ELF: {e}"))?
        {
            if ph.p_type(LE) != PT_LOAD {
                continue;
            }
            let paddr = ph.p_paddr(LE);
            let memsz = ph.p_memsz(LE);
            let data = ph
                .data(LE, elf)
                .map_err(|_| "ELF: segment outside the file".to_string())?;
            let in_dram = paddr
                .checked_add(memsz)
                .is_some_and(|e| e <= DRAM_BASE + DRAM_SIZE);
            if !in_dram {
                return Err(format!(
                    "ELF: segment at {paddr:#x} (+{memsz:#x}) is outside DRAM"
                ));
            }
            // Only the file's bytes are loaded: the rest of the segment (bss) keeps
            // whatever memory held, the fill pattern, as on the FVP.
            self.load_data(paddr, data)?;
            if self.uc.get_data().fill.is_none() {
                let zeros = vec![0u8; (memsz as usize).saturating_sub(data.len())];
                self.load_data(paddr + data.len() as u64, &zeros)?;
            }
        }
        self.entry = header.e_entry(LE);
        if let Ok(file) = object::File::parse(elf) {
            self.symbols = file
                .symbols()
                .filter_map(|s| Some((s.name().ok()?.to_string(), s.address())))
                .filter(|(n, _)| !n.is_empty())
                .collect();
            self.functions = file
                .symbols()
                .filter(|s| {
                    matches!(
                        s.kind(),
                        object::SymbolKind::Text
                            | object::SymbolKind::Unknown
                            | object::SymbolKind::Label
                    )
                })
                .filter(|s| matches!(s.section(), object::SymbolSection::Section(_)))
                .filter_map(|s| Some((s.name().ok()?.to_string(), s.address(), s.size())))
                .collect();
        }
        self.x0 = 0;
        if let DtbChoice::Blob(blob) = cfg_dtb {
            if blob.len() as u64 > DTB_MAX {
                return Err(format!(
                    "device tree: {} bytes is larger than {DTB_MAX:#x}",
                    blob.len()
                ));
            }
            let at = self.dtb_addr;
            if !at.is_multiple_of(8) {
                return Err(format!("device tree address {at:#x} is not 8-byte aligned"));
            }
            self.load_data(at, &blob)?;
            self.x0 = at;
        }
        self.uc
            .reg_write(RegisterARM64::X0, self.x0)
            .map_err(host("x0"))?;
        self.uc
            .reg_write(RegisterARM64::PC, self.entry)
            .map_err(host("pc"))?;
        Ok(())
    }

    /// Load raw bytes at a physical address, as the FVP's
    /// `--data cluster0.cpu0=FILE@ADDR` does. The pages keep the fill pattern around
    /// the data.
    pub fn load_data(&mut self, addr: u64, data: &[u8]) -> Result<(), String> {
        let end = addr
            .checked_add(data.len() as u64)
            .ok_or_else(|| format!("data at {addr:#x}: the address range wraps"))?;
        let in_flash = addr >= FLASH0_BASE && end <= FLASH0_BASE + FLASH0_SIZE;
        if !(end <= DRAM_BASE + DRAM_SIZE || in_flash) {
            return Err(format!(
                "data at [{addr:#x}, {end:#x}) is outside DRAM [{DRAM_BASE:#x}, {:#x}) and flash",
                DRAM_BASE + DRAM_SIZE
            ));
        }
        let mut page = addr & !(PAGE - 1);
        while page < end {
            fill_page(&mut self.uc, page);
            page += PAGE;
        }
        self.uc.mem_write(addr, data).map_err(host("load data"))
    }

    /// Count instructions up to the first entry of each named symbol.
    pub fn profile(&mut self, names: &[String]) -> Result<(), String> {
        for name in names {
            // A symbol of the image, or an address (0x...): code loaded with --data
            // (a guest) has no symbols here.
            let hex = name
                .strip_prefix("0x")
                .and_then(|h| u64::from_str_radix(&h.replace('_', ""), 16).ok());
            let addr = hex
                .or_else(|| {
                    self.symbols
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, a)| *a)
                })
                .ok_or_else(|| format!("--profile: no symbol {name:?} in the image"))?;
            let idx = self.uc.get_data().profile.len();
            self.uc
                .get_data_mut()
                .profile
                .push((name.clone(), addr, None));
            self.uc
                .add_code_hook(addr, addr, move |uc, a, _| {
                    let s = uc.get_data_mut();
                    if s.profile[idx].2.is_none() {
                        let n = s.exact_insns(a);
                        s.profile[idx].2 = Some(n);
                    }
                })
                .map_err(host("profile hook"))?;
        }
        Ok(())
    }

    /// Attribute every instruction to the functions of the loaded image (call after
    /// `load_elf`); read the result with `profile_report` and `profile_folded`.
    pub fn enable_profiler(&mut self) {
        let p = crate::profile::Profiler::new(&self.functions);
        self.uc.get_data_mut().profiler = Some(p);
    }

    /// The `--profile-report` text, if the profiler is on.
    pub fn profile_report(&self) -> Option<String> {
        self.uc.get_data().profiler.as_ref().map(|p| p.report())
    }

    /// The `--folded` collapsed stacks, if the profiler is on.
    pub fn profile_folded(&self) -> Option<String> {
        self.uc.get_data().profiler.as_ref().map(|p| p.folded())
    }

    /// The symbol table of the loaded image.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
    }

    /// Run until the image stops (or the watchdog does).
    pub fn run(&mut self) -> Outcome {
        let reason = loop {
            if let Some(stop) = self.uc.get_data_mut().stop.take() {
                break stop;
            }
            let pc = self.pc();
            let step = self.strict_step_wanted();
            let insn = self.insn(pc);
            let r = self.uc.emu_start(pc, UNTIL, 0, if step { 1 } else { 0 });
            let now = self.pc();
            self.after_slice(step && r.is_ok(), insn, pc, now);
            let result = match r {
                Ok(()) => self.after_stop(pc, step),
                Err(uc_error::EXCEPTION) => self.on_refused_access(),
                Err(
                    uc_error::READ_UNMAPPED | uc_error::WRITE_UNMAPPED | uc_error::FETCH_UNMAPPED,
                ) => self.on_unmapped(),
                Err(e) => Err(format!("emulator error {e:?} at pc {:#x}", self.pc())),
            };
            if let Err(e) = result {
                break StopReason::HostError(e);
            }
        };
        let insns = self.uc.get_data().insns;
        Outcome {
            status: reason.status(),
            reason,
            insns,
        }
    }

    fn after_stop(&mut self, pc_before: u64, step: bool) -> Result<(), String> {
        if self.uc.get_data().stop.is_some() {
            return Ok(());
        }
        if let Some((target, spsr, from_el)) = self.uc.get_data_mut().illegal.take() {
            return self.on_illegal_return(target, spsr, from_el);
        }
        if let Some((intno, epc)) = self.uc.get_data_mut().pending.take() {
            return self.on_exception(intno, epc);
        }
        let pc = self.pc();
        let mut lines = self.lines();
        // A WFI that executed ends the last block entered, and the core stopped right
        // after it. (Not merely "the instruction before PC is a WFI": an ERET to the
        // instruction after a WFI that trapped to EL2 also stops there, and that WFI
        // did not execute.)
        if !step && self.wfi_done(pc) && pc != pc_before {
            let (el, hcr) = (self.el(), self.uc.get_data().hcr);
            if !exception::wfi_wakes(lines, el, hcr) {
                // Nothing pending: time jumps to the next timer deadline (nothing
                // else runs meanwhile), or nothing can ever wake the core.
                let s = self.uc.get_data_mut();
                let now = s.insns / INSNS_PER_TICK + s.time_skip;
                match s.timers.next_deadline(now) {
                    Some(d) => {
                        s.time_skip += d - now;
                        lines = self.lines();
                    }
                    None => {
                        self.uc.get_data_mut().stop = Some(StopReason::Parked { pc: pc - 4 });
                        return Ok(());
                    }
                }
            }
        }
        self.deliver_interrupts(lines)
    }

    /// The interrupt lines this core sees now.
    fn lines(&mut self) -> exception::Lines {
        let s = self.uc.get_data_mut();
        let now = s.insns / INSNS_PER_TICK + s.time_skip;
        for (intid, level) in s.timers.lines(now) {
            s.gic.set_ppi(0, intid, level);
        }
        let m = s.gic.maintenance(0);
        s.gic.set_ppi(0, crate::gic::INTID_MAINTENANCE, m);
        if s.gic.trace.is_some() {
            for e in s.gic.drain_trace() {
                eprintln!("r82sim: irq: {e:?} at instruction {}", s.insns);
            }
        }
        let sig = s.gic.signals(0);
        exception::Lines {
            irq: sig.irq,
            fiq: sig.fiq,
            virq: sig.virq,
            vfiq: sig.vfiq,
            vserror: s.hcr & exception::HCR_VSE != 0,
        }
    }

    /// The instruction count at which the next timer deadline falls, if any.
    fn next_deadline_insns(&self) -> Option<u64> {
        let s = self.uc.get_data();
        let now = s.insns / INSNS_PER_TICK + s.time_skip;
        let d = s.timers.next_deadline(now)?;
        Some((d - s.time_skip) * INSNS_PER_TICK)
    }

    /// Take the highest-priority deliverable interrupt, if any, at this instruction
    /// boundary. One that is pending but masked is looked at again after a short
    /// quantum of instructions (deterministic: counted, not timed).
    fn deliver_interrupts(&mut self, lines: exception::Lines) -> Result<(), String> {
        const POLL_QUANTUM: u64 = 100;
        let pstate = self.reg(RegisterARM64::PSTATE);
        let el = ((pstate >> 2) & 3) as u8;
        let hcr = self.uc.get_data().hcr;
        let Some((target_el, kind)) = exception::pending_interrupt(lines, el, pstate, hcr) else {
            let any = lines.irq || lines.fiq || lines.virq || lines.vfiq || lines.vserror;
            let deadline = self.next_deadline_insns().unwrap_or(u64::MAX);
            let s = self.uc.get_data_mut();
            let poll = if any {
                s.insns + POLL_QUANTUM
            } else {
                u64::MAX
            };
            s.next_event = poll.min(deadline).max(s.insns + 1);
            if poll == u64::MAX && deadline == u64::MAX {
                s.next_event = u64::MAX;
            }
            return Ok(());
        };
        let mut esr = 0;
        if kind == Kind::SError && target_el == 1 {
            // A virtual SError: ESR_EL1 takes VSESR_EL2's ISS; HCR_EL2.VSE clears.
            let mut vsesr = cp(3, 4, 5, 2, 3);
            let _ = self.uc.reg_read_arm64_coproc(&mut vsesr);
            esr = syndrome::esr(EC_SERROR, vsesr.val as u32 & 0x1ff_ffff);
            let cleared = hcr & !exception::HCR_VSE;
            let mut r = cp(3, 4, 1, 1, 0);
            r.val = cleared;
            self.uc
                .reg_write_arm64_coproc(&r)
                .map_err(host("HCR_EL2"))?;
            self.uc.get_data_mut().hcr = cleared;
        }
        let elr = self.pc();
        // Look again right after the handler's first block: the line may still be
        // asserted, another may be pending, and a timer deadline may be due.
        let s = self.uc.get_data_mut();
        s.next_event = s.insns + 1;
        self.enter(Entry {
            target_el,
            esr,
            far: None,
            hpfar: None,
            elr,
            kind,
            pstate,
        })
    }

    /// Strict MPU mode with a PRSELR or region write not yet synchronised: run one
    /// instruction at a time so the ISB that completes it is seen.
    fn strict_step_wanted(&self) -> bool {
        let st = &self.uc.get_data().strict;
        st.on && (st.selr_pending || st.region_pending.is_some())
    }

    /// After a slice of emulation from `pc` to `now`: a single step that completed an
    /// ISB (`isb_step`: it ran one instruction without error, `insn` is that
    /// instruction) synchronises pending strict-mode MPU writes; an MPU change drops
    /// Unicorn's cached translations.
    fn after_slice(&mut self, isb_step: bool, insn: Option<u32>, pc: u64, now: u64) {
        if isb_step && insn == Some(INSN_ISB) && now == pc + 4 {
            let st = &mut self.uc.get_data_mut().strict;
            st.selr_pending = false;
            st.region_pending = None;
        }
        if self.uc.get_data().mpu_changed {
            self.uc.get_data_mut().mpu_changed = false;
            self.flush_translations();
        }
    }

    fn flush_translations(&mut self) {
        let _ = self.uc.ctl_flush_tlb();
        let _ = self.uc.ctl_flush_tb();
    }

    pub fn pc(&self) -> u64 {
        self.uc.reg_read(RegisterARM64::PC).unwrap_or(0)
    }

    fn insn(&self, addr: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        self.uc.mem_read(addr, &mut b).ok()?;
        Some(u32::from_le_bytes(b))
    }

    fn el(&self) -> u8 {
        current_el(&self.uc)
    }

    fn on_exception(&mut self, intno: u32, epc: u64) -> Result<(), String> {
        let insn_at = |m: &Self, a: u64| m.insn(a).unwrap_or(0);
        let imm = |i: u32| ((i >> 5) & 0xffff) as u16;
        let is_smc = |i: u32| i & 0xffe0_001f == 0xd400_0003;
        match intno {
            // Undefined instruction (Unicorn reports HLT and its own traps to EL2 this
            // way, without a syndrome): PC at the instruction. Decide what it was.
            1 | 16 => {
                let insn = insn_at(self, epc);
                if insn == INSN_HLT_SEMIHOSTING {
                    return self.semihosting(epc);
                }
                let trap = self.uc.get_data_mut().sysreg_trap.take();
                let hcr = self.uc.get_data().hcr;
                let el = self.el();
                let cause = match trap {
                    Some((pc, iss)) if pc == epc => Cause::SysRegTrap(iss),
                    _ if insn == INSN_WFI && el < 2 && hcr & exception::HCR_TWI != 0 => {
                        Cause::Wfx { wfe: false }
                    }
                    _ if insn == INSN_WFE && el < 2 && hcr & exception::HCR_TWE != 0 => {
                        Cause::Wfx { wfe: true }
                    }
                    _ if is_smc(insn) => Cause::Smc(imm(insn)),
                    _ => Cause::Undefined,
                };
                self.take(cause, epc, None)
            }
            // SVC and HVC: PC after the instruction, the preferred return address
            // (unless the instruction turns out to be undefined there).
            2 | 11 => {
                let i = insn_at(self, epc - 4);
                let cause = if intno == 2 {
                    Cause::Svc(imm(i))
                } else {
                    Cause::Hvc(imm(i))
                };
                let r = exception::route(cause, self.el(), self.uc.get_data().hcr);
                if (r.esr >> 26) as u32 == syndrome::EC_UNKNOWN {
                    return self.take(Cause::Undefined, epc - 4, None);
                }
                self.take(cause, epc, None)
            }
            // BRK: the preferred return address is the BRK itself.
            7 => {
                let at = if insn_at(self, epc) & 0xffe0_001f == 0xd420_0000 {
                    epc
                } else {
                    epc - 4
                };
                let cause = Cause::Brk(imm(insn_at(self, at)));
                self.take(cause, at, None)
            }
            // SMC (trapped by HCR_EL2.TSC, or executed): there is no EL3; the
            // preferred return address is the SMC itself in both cases.
            12 | 13 => {
                let at = if is_smc(insn_at(self, epc)) {
                    epc
                } else {
                    epc - 4
                };
                self.take(Cause::Smc(imm(insn_at(self, at))), at, None)
            }
            other => Err(format!(
                "unexpected Unicorn exception {other} at pc {epc:#x}"
            )),
        }
    }

    /// Take a synchronous exception from the current EL: route it (exception.rs),
    /// then enter the target EL. `far` is the faulting address of an abort.
    fn take(&mut self, cause: Cause, elr: u64, far: Option<u64>) -> Result<(), String> {
        let pstate = self
            .uc
            .reg_read(RegisterARM64::PSTATE)
            .map_err(host("pstate"))?;
        let from_el = ((pstate >> 2) & 3) as u8;
        let route = exception::route(cause, from_el, self.uc.get_data().hcr);
        // HPFAR_EL2 holds the faulting IPA (= PA on PMSA) page for stage-2 aborts.
        let stage2 = matches!(
            cause,
            Cause::DataAbort {
                stage: Stage::Two,
                ..
            } | Cause::InstructionAbort {
                stage: Stage::Two,
                ..
            }
        );
        let hpfar = far.filter(|_| stage2).map(|f| (f >> 12) << 4);
        self.enter(Entry {
            target_el: route.target_el,
            esr: route.esr,
            far,
            hpfar,
            elr,
            kind: Kind::Sync,
            pstate,
        })
    }

    /// Enter an exception: bank the SP, write ELR/ESR/FAR/SPSR of the target EL, set
    /// PSTATE (ELxh, DAIF masked) and jump to the vector.
    fn enter(&mut self, e: Entry) -> Result<(), String> {
        let pstate = e.pstate;
        let el = ((pstate >> 2) & 3) as u8;
        let t = e.target_el;
        if self.uc.get_data().trace {
            eprintln!(
                "r82sim: exception at {:#x} (EL{el} -> EL{t}): {}{}",
                e.elr,
                syndrome::describe(e.esr),
                e.far.map(|f| format!(", FAR {f:#x}")).unwrap_or_default()
            );
        }
        self.uc.get_data_mut().eret_from = None;
        if let Some(p) = self.uc.get_data_mut().profiler.as_mut() {
            p.exception();
        }
        if t == 2 && !self.uc.get_data().vbar_set {
            self.uc.get_data_mut().stop = Some(StopReason::NoVector {
                esr: e.esr,
                elr: e.elr,
            });
            return Ok(());
        }
        let insns = self.uc.get_data().insns;
        if self.uc.get_data_mut().last_entry.replace(insns) == Some(insns) {
            self.uc.get_data_mut().stop = Some(StopReason::ExceptionLoop {
                esr: e.esr,
                elr: e.elr,
            });
            return Ok(());
        }
        let sp = self.uc.reg_read(RegisterARM64::SP).map_err(host("sp"))?;
        let banked = match (el, pstate & 1) {
            (0, _) | (_, 0) => RegisterARM64::SP_EL0,
            (1, _) => RegisterARM64::SP_EL1,
            _ => RegisterARM64::SP_EL2,
        };
        self.uc.reg_write(banked, sp).map_err(host("sp save"))?;
        let (elr_r, esr_r, far_r, spsr_cp, sp_r, vbar_r) = if t == 2 {
            (
                RegisterARM64::ELR_EL2,
                RegisterARM64::ESR_EL2,
                RegisterARM64::FAR_EL2,
                cp(3, 4, 4, 0, 0),
                RegisterARM64::SP_EL2,
                RegisterARM64::VBAR_EL2,
            )
        } else {
            (
                RegisterARM64::ELR_EL1,
                RegisterARM64::ESR_EL1,
                RegisterARM64::FAR_EL1,
                cp(3, 0, 4, 0, 0),
                RegisterARM64::SP_EL1,
                RegisterARM64::VBAR_EL1,
            )
        };
        self.uc.reg_write(elr_r, e.elr).map_err(host("elr"))?;
        self.uc.reg_write(esr_r, e.esr).map_err(host("esr"))?;
        if let Some(f) = e.far {
            self.uc.reg_write(far_r, f).map_err(host("far"))?;
        }
        if let Some(h) = e.hpfar {
            let mut r = cp(3, 4, 6, 0, 4);
            r.val = h;
            self.uc.reg_write_arm64_coproc(&r).map_err(host("hpfar"))?;
        }
        self.uc
            .reg_write(RegisterARM64::PSTATE, exception::entry_pstate(t))
            .map_err(host("pstate"))?;
        let mut spsr = spsr_cp;
        spsr.val = pstate;
        self.uc
            .reg_write_arm64_coproc(&spsr)
            .map_err(host("spsr"))?;
        let new_sp = self.uc.reg_read(sp_r).map_err(host("sp_elx"))?;
        self.uc
            .reg_write(RegisterARM64::SP, new_sp)
            .map_err(host("sp"))?;
        let vbar = self.uc.reg_read(vbar_r).map_err(host("vbar"))?;
        let offset = exception::vector_offset(el, t, pstate & 1 != 0, e.kind);
        self.uc
            .reg_write(RegisterARM64::PC, vbar + offset)
            .map_err(host("pc"))?;
        Ok(())
    }

    /// An illegal exception return was found before the first instruction at its
    /// target ran: PSTATE keeps the EL and SP of the ERET, IL is set, and the
    /// instruction at the return address takes the Illegal Execution state exception.
    fn on_illegal_return(&mut self, target: u64, spsr: u64, from_el: u8) -> Result<(), String> {
        let eret_pstate = entry_like_pstate(from_el, self.reg(RegisterARM64::PSTATE));
        let pstate = exception::illegal_return_pstate(spsr, eret_pstate);
        let hcr = self.uc.get_data().hcr;
        let route = exception::route(Cause::IllegalState, from_el, hcr);
        // Put the core back at the ERET's EL and stack pointer before entering.
        if self.el() != from_el {
            self.uc
                .reg_write(RegisterARM64::PSTATE, pstate & !exception::PSTATE_IL)
                .map_err(host("pstate"))?;
        }
        self.enter(Entry {
            target_el: route.target_el,
            esr: route.esr,
            far: None,
            hpfar: None,
            elr: target,
            kind: Kind::Sync,
            pstate,
        })
    }

    /// A TLB fill was refused: find the exact access and raise its abort, or let it
    /// through if only another part of the page was forbidden.
    fn on_refused_access(&mut self) -> Result<(), String> {
        let pc = self.pc();
        let el = self.el();
        let s = self.uc.get_data_mut();
        s.insns = s.exact_insns(pc);
        let ty = s
            .refused
            .take()
            .ok_or_else(|| format!("emulator exception at pc {pc:#x} with no refused access"))?;
        let c = s.controls(el);
        if ty == MemType::FETCH {
            if let Err((stage, f)) = mpu::check_access(&s.mpu, &s.el1_mpu, &c, pc, Access::Fetch) {
                let cause = Cause::InstructionAbort {
                    stage,
                    fsc: f.fsc(),
                };
                return self.take(cause, pc, Some(pc));
            }
        }
        self.step_checked(pc)
    }

    /// Run the one instruction at `pc` with every access granted (the MPU is not
    /// consulted) and each access recorded in `State::recorded`, with the old bytes of
    /// every write so that the caller can undo it. Returns emu_start's result.
    fn step_recording(&mut self, pc: u64) -> Result<Result<(), uc_error>, String> {
        let hook = self
            .uc
            .add_mem_hook(
                HookType::MEM_READ | HookType::MEM_WRITE,
                1,
                0,
                |uc, ty, addr, size, _v| {
                    let mut old = vec![0u8; size];
                    let write = ty == MemType::WRITE;
                    if write {
                        let _ = uc.mem_read(addr, &mut old);
                    }
                    uc.get_data_mut().recorded.push(Recorded {
                        addr,
                        size,
                        write,
                        old,
                    });
                    true
                },
            )
            .map_err(host("record hook"))?;
        self.uc.get_data_mut().permissive = true;
        self.uc.get_data_mut().recorded.clear();
        self.flush_translations();
        let r = self.uc.emu_start(pc, UNTIL, 0, 1);
        self.uc.get_data_mut().permissive = false;
        let _ = self.uc.remove_hook(hook);
        self.flush_translations();
        Ok(r)
    }

    /// Execute the instruction at `pc` with every access granted and recorded, then
    /// check each recorded access exactly; on the first forbidden one, undo the
    /// instruction and raise its data abort.
    fn step_checked(&mut self, pc: u64) -> Result<(), String> {
        let el = self.el();
        let ctx = self.uc.context_init().map_err(host("context save"))?;
        let insns_before = self.uc.get_data().insns;
        let r = self.step_recording(pc)?;

        let mut fault = None;
        {
            let s = self.uc.get_data();
            let c = s.controls(el);
            'outer: for rec in &s.recorded {
                let kind = if rec.write {
                    Access::Write
                } else {
                    Access::Read
                };
                let mut a = rec.addr;
                while a < rec.addr + rec.size as u64 {
                    if let Err(f) = mpu::check_access(&s.mpu, &s.el1_mpu, &c, a, kind) {
                        fault = Some((a.max(rec.addr), rec.write, f));
                        break 'outer;
                    }
                    a = (a | (crate::mpu::GRANULE - 1)) + 1;
                }
            }
        }
        let Some((far, write, (stage, f))) = fault else {
            return match r {
                Ok(()) => {
                    let pending = self.uc.get_data_mut().pending.take();
                    match pending {
                        Some((intno, epc)) => self.on_exception(intno, epc),
                        None => Ok(()),
                    }
                }
                Err(
                    uc_error::READ_UNMAPPED | uc_error::WRITE_UNMAPPED | uc_error::FETCH_UNMAPPED,
                ) => self.on_unmapped(),
                Err(e) => Err(format!("emulator error {e:?} stepping {pc:#x}")),
            };
        };
        let recorded = std::mem::take(&mut self.uc.get_data_mut().recorded);
        for rec in recorded.iter().rev().filter(|r| r.write) {
            let _ = self.uc.mem_write(rec.addr, &rec.old);
        }
        self.uc
            .context_restore(&ctx)
            .map_err(host("context restore"))?;
        self.uc.get_data_mut().insns = insns_before;
        self.uc.get_data_mut().pending = None;
        let insn = self.insn(pc).unwrap_or(0);
        let cause = Cause::DataAbort {
            stage,
            iss: data_abort_iss(insn, write, f.fsc()),
        };
        self.take(cause, pc, Some(far))
    }

    fn on_unmapped(&mut self) -> Result<(), String> {
        let pc = self.pc();
        let (addr, ty) = self
            .uc
            .get_data_mut()
            .unmapped
            .take()
            .ok_or_else(|| format!("unmapped access at pc {pc:#x} with no address"))?;
        // A synchronous external abort: taken like a stage-1 abort (to the EL of the
        // regime), with FAR.
        let cause = if ty == MemType::FETCH_UNMAPPED {
            Cause::InstructionAbort {
                stage: Stage::One,
                fsc: syndrome::FSC_EXTERNAL,
            }
        } else {
            let insn = self.insn(pc).unwrap_or(0);
            let write = ty == MemType::WRITE_UNMAPPED;
            Cause::DataAbort {
                stage: Stage::One,
                iss: data_abort_iss(insn, write, syndrome::FSC_EXTERNAL),
            }
        };
        self.take(cause, pc, Some(addr))
    }

    /// Arm semihosting at `epc` (HLT #0xF000): w0 = operation, x1 = parameter. The
    /// calls themselves are `semihosting::Semihosting`'s; here only the plumbing.
    fn semihosting(&mut self, epc: u64) -> Result<(), String> {
        let op = (self.uc.reg_read(RegisterARM64::X0).map_err(host("x0"))? & 0xffff_ffff) as u32;
        let arg = self.uc.reg_read(RegisterARM64::X1).map_err(host("x1"))?;
        let ticks = self.uc.get_data().insns / INSNS_PER_TICK;
        let clock = crate::semihosting::Clock {
            ticks,
            tick_hz: COUNTER_HZ,
            // Deterministic: the FVP's epoch is the host's; r82sim's is fixed.
            unix_time: 0,
        };
        let mut sh = std::mem::replace(
            &mut self.uc.get_data_mut().semihosting,
            crate::semihosting::Semihosting::new(None, String::new()),
        );
        let effect = sh.call(op, arg, &mut MemView(self), clock);
        self.uc.get_data_mut().semihosting = sh;
        for (stream, bytes) in effect.output {
            match stream {
                crate::semihosting::Stream::Stdout => self.uc.get_data_mut().emit(&bytes),
                crate::semihosting::Stream::Stderr => {
                    self.uc.get_data_mut().stderr.extend_from_slice(&bytes);
                    let mut e = std::io::stderr();
                    let _ = e.write_all(&bytes);
                    let _ = e.flush();
                }
            }
        }
        if let Some(w) = effect.warning {
            eprintln!("r82sim: {w}");
        }
        if let Some(exit) = effect.exit {
            self.uc.get_data_mut().stop = Some(StopReason::Exit {
                status: exit.subcode,
                reason: exit.reason,
            });
        }
        self.uc
            .reg_write(RegisterARM64::X0, effect.ret)
            .map_err(host("x0"))?;
        self.uc
            .reg_write(RegisterARM64::PC, epc + 4)
            .map_err(host("pc"))?;
        Ok(())
    }

    /// What the image wrote to semihosting's stderr handle (also on r82sim's stderr).
    pub fn semihosting_stderr(&self) -> &[u8] {
        &self.uc.get_data().stderr
    }

    /// Everything the image printed (UART0 and semihosting).
    pub fn console(&self) -> &[u8] {
        &self.uc.get_data().console
    }

    pub fn console_text(&self) -> String {
        String::from_utf8_lossy(self.console()).into_owned()
    }

    pub fn strict_warnings(&self) -> &[String] {
        &self.uc.get_data().strict.warnings
    }

    pub fn mpu(&self) -> &Mpu {
        &self.uc.get_data().mpu
    }

    /// (symbol, instructions executed before its first entry) for `--profile`.
    pub fn profile_counts(&self) -> Vec<(String, Option<u64>)> {
        self.uc
            .get_data()
            .profile
            .iter()
            .map(|(n, _, c)| (n.clone(), *c))
            .collect()
    }

    pub fn reg(&self, r: RegisterARM64) -> u64 {
        self.uc.reg_read(r).unwrap_or(0)
    }

    pub fn sysreg(&self, op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u64 {
        let mut c = cp(op0, op1, crn, crm, op2);
        let _ = self.uc.reg_read_arm64_coproc(&mut c);
        c.val
    }

    /// A 32-bit GIC register (distributor or redistributor) at physical `addr`, as a
    /// read by the core would return it (for tests: the GIC's state after a run).
    pub fn gic_read32(&mut self, addr: u64) -> u32 {
        self.uc.get_data_mut().gic.mmio_read(addr, 4) as u32
    }

    /// Write a 32-bit GIC register as the core would (for tests: a GIC state left by
    /// earlier software, before a run).
    pub fn gic_write32(&mut self, addr: u64, v: u32) {
        self.uc.get_data_mut().gic.mmio_write(addr, 4, v.into());
    }

    /// Memory as the debugger sees it (physical, not subject to the MPU). Pages no
    /// access has reached yet read as the fill pattern they will get.
    pub fn read_mem(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        let mut v = self.uc.mem_read_as_vec(addr, len).ok()?;
        let s = self.uc.get_data();
        if let Some(byte) = s.fill {
            for (i, b) in v.iter_mut().enumerate() {
                let a = addr + i as u64;
                if in_dram(a) && !s.is_touched(a) {
                    *b = byte;
                }
            }
        }
        Some(v)
    }

    /// Everything UART`i` (0..=3) transmitted. UART0 is also in `console()`.
    pub fn uart_output(&self, i: usize) -> Vec<u8> {
        let s = self.uc.get_data();
        if i == 0 {
            return s.console.clone();
        }
        s.uart_out.get(i).cloned().unwrap_or_default()
    }

    /// The machine state for `--dump-state`.
    pub fn state_json(&self, outcome: &Outcome) -> serde_json::Value {
        use serde_json::json;
        let x: Vec<String> = (0..29)
            .map(|i| format!("{:#x}", self.reg(xreg(i))))
            .chain([
                format!("{:#x}", self.reg(RegisterARM64::X29)),
                format!("{:#x}", self.reg(RegisterARM64::X30)),
            ])
            .collect();
        let mpu = self.mpu();
        let regions: Vec<_> = (0..mpu.count())
            .map(|i| {
                let r = mpu.region(i);
                json!({
                    "index": i, "enabled": r.enabled(),
                    "base": format!("{:#x}", r.base()), "limit": format!("{:#x}", r.limit()),
                    "ap": (r.prbar >> 2) & 3, "read_only": r.read_only(), "el1_access": r.el1_access(),
                    "xn": r.prbar & 3, "attr_index": r.attr_index(),
                    "prbar": format!("{:#x}", r.prbar), "prlar": format!("{:#x}", r.prlar),
                })
            })
            .collect();
        let s = self.uc.get_data();
        json!({
            "stop": format!("{:?}", outcome.reason),
            "exit_status": outcome.status,
            "instructions": outcome.insns,
            "pc": format!("{:#x}", self.pc()),
            "sp": format!("{:#x}", self.reg(RegisterARM64::SP)),
            "pstate": format!("{:#x}", self.reg(RegisterARM64::PSTATE)),
            "x": x,
            "el2": {
                "sctlr": format!("{:#x}", s.sctlr),
                "vbar": format!("{:#x}", self.reg(RegisterARM64::VBAR_EL2)),
                "elr": format!("{:#x}", self.reg(RegisterARM64::ELR_EL2)),
                "esr": format!("{:#x}", self.reg(RegisterARM64::ESR_EL2)),
                "far": format!("{:#x}", self.reg(RegisterARM64::FAR_EL2)),
                "spsr": format!("{:#x}", self.sysreg(3, 4, 4, 0, 0)),
                "mair": format!("{:#x}", self.sysreg(3, 4, 10, 2, 0)),
                "vsctlr": format!("{:#x}", s.vsctlr),
                "prselr": format!("{:#x}", mpu.prselr),
                "prenr": format!("{:#x}", mpu.prenr()),
            },
            "mpu": { "implemented": mpu.count(), "regions": regions },
            "strict_warnings": s.strict.warnings,
        })
    }
}

/// Physical memory as semihosting sees it: the debugger's view (no MPU), with the
/// fill pattern on pages nothing touched yet.
struct MemView<'m>(&'m mut Machine);

impl crate::semihosting::GuestMemory for MemView<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        match self.0.read_mem(addr, buf.len()) {
            Some(v) => {
                buf.copy_from_slice(&v);
                true
            }
            None => false,
        }
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> bool {
        self.0.load_data(addr, data).is_ok()
    }
}

/// One exception entry, as `Machine::enter` performs it.
struct Entry {
    target_el: u8,
    esr: u64,
    far: Option<u64>,
    hpfar: Option<u64>,
    elr: u64,
    kind: Kind,
    /// PSTATE at the time of the exception: saved to SPSR_ELx.
    pstate: u64,
}

/// PSTATE with the EL (and SP selection, kept from `pstate`) of `el`.
fn entry_like_pstate(el: u8, pstate: u64) -> u64 {
    (pstate & !0xc) | (el as u64) << 2
}

/// Which device tree a run passes in x0.
pub enum DtbChoice {
    None,
    Blob(Vec<u8>),
}

fn xreg(i: u32) -> RegisterARM64 {
    use RegisterARM64::*;
    [
        X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15, X16, X17, X18, X19,
        X20, X21, X22, X23, X24, X25, X26, X27, X28,
    ][i as usize]
}

/// Finish an instruction the hook handled (see `UNICORN_KNOWS`).
fn skip(uc: &mut Uc, enc: Enc, pc: u64) {
    if !crate::sysregs::unicorn_knows(enc) {
        let _ = uc.reg_write(RegisterARM64::PC, pc + 4);
    }
}

/// Decide, before serving a system-register access at `el`, whether it must not
/// complete: an EL2 register below EL2 (undefined), an EL1 register at EL0
/// (undefined), or a trap to EL2. Returning `true` makes the hook decline the
/// access so that Unicorn raises an undefined instruction at this PC; a trap is
/// recorded first so that the exception becomes EC 0x18 at EL2.
fn refuse_at_el(uc: &mut Uc, e: Enc, el: u8, read: bool, pc: u64) -> bool {
    if el >= 2 {
        return false;
    }
    let hcr = uc.get_data().hcr;
    if el == 1 && trapped_to_el2(e, read, hcr) {
        let mut b = [0u8; 4];
        let _ = uc.mem_read(pc, &mut b);
        let rt = u32::from_le_bytes(b) & 0x1f;
        uc.get_data_mut().sysreg_trap = Some((pc, exception::sysreg_iss(e, rt, read)));
        return true;
    }
    // op1 = 4: EL2 registers. At EL0 only op1 = 3 (the counters) is reachable here.
    e.1 == 4 || (el == 0 && e.1 != 3)
}

/// What the timer or GIC model did with a system-register access.
enum Dev {
    Value(u64),
    Done,
    /// Decline: Unicorn raises the undefined instruction (or, with `sysreg_trap` set,
    /// the machine turns it into a trap to EL2).
    Refuse,
}

/// Serve the generic-timer and GIC CPU-interface registers from their models.
fn device_sysreg(uc: &mut Uc, e: Enc, el: u8, write: Option<u64>, pc: u64) -> Option<Dev> {
    let s = uc.get_data_mut();
    let now = s.now(pc);
    let access = crate::timer::Access {
        el,
        write: write.is_some(),
        value: write.unwrap_or(0),
        now,
    };
    let timer = match s.timers.access(e, access) {
        crate::timer::Outcome::Read(v) => Some(Dev::Value(v)),
        crate::timer::Outcome::Written => Some(Dev::Done),
        crate::timer::Outcome::Undefined => Some(Dev::Refuse),
        crate::timer::Outcome::TrapToEl2 => {
            let mut b = [0u8; 4];
            let _ = uc.mem_read(pc, &mut b);
            let rt = u32::from_le_bytes(b) & 0x1f;
            let iss = exception::sysreg_iss(e, rt, write.is_none());
            uc.get_data_mut().sysreg_trap = Some((pc, iss));
            Some(Dev::Refuse)
        }
        crate::timer::Outcome::NotMine => None,
    };
    if timer.is_some() {
        return timer;
    }
    let s = uc.get_data_mut();
    // ICC_*/ICV_* (op1 0) and ICH_* (op1 4) live at CRn 12, CRm 8..13 (VBAR and ISR
    // share CRn 12 below CRm 8); ICC_PMR_EL1 is (3, 0, 4, 6, 0).
    let gic_reg = e.0 == 3 && ((e.2 == 12 && e.3 >= 8) || e == (3, 0, 4, 6, 0));
    if !gic_reg {
        return None;
    }
    // EL1 with HCR_EL2.IMO (or FMO) set reaches the virtual CPU interface (ICV_*).
    let virt = el < 2 && s.hcr & (exception::HCR_IMO | exception::HCR_FMO) != 0;
    Some(match s.gic.sysreg(0, e, el, virt, write) {
        crate::gic::Outcome::Read(v) => Dev::Value(v),
        crate::gic::Outcome::Written => Dev::Done,
        crate::gic::Outcome::Undefined | crate::gic::Outcome::NotMine => Dev::Refuse,
    })
}

/// The engine, inside a hook registered through the C API (`on_block`). Only
/// `on_block` makes one, from the engine pointer Unicorn passes it: every method
/// relies on that engine being live.
#[derive(Clone, Copy)]
struct RawUc(*mut uc_engine);

impl RawUc {
    fn reg(self, reg: RegisterARM64) -> u64 {
        let mut v = 0u64;
        // SAFETY: the engine is live (we are inside its hook) and reads one 64-bit
        // register into `v`.
        let _ = unsafe { uc_reg_read(self.0, reg.into(), (&raw mut v).cast()) };
        v
    }

    fn sysreg(self, mut r: RegisterARM64CP) -> u64 {
        // SAFETY: as `reg`; CP_REG reads the register `r` names into `r.val`.
        let _ = unsafe { uc_reg_read(self.0, RegisterARM64::CP_REG.into(), (&raw mut r).cast()) };
        r.val
    }

    fn read_u32(self, addr: u64) -> u32 {
        let mut b = [0u8; 4];
        // SAFETY: reads 4 bytes of guest memory into `b` (an error leaves zeros).
        let _ = unsafe { uc_mem_read(self.0, addr, b.as_mut_ptr().cast(), 4) };
        u32::from_le_bytes(b)
    }

    fn stop(self) {
        // SAFETY: asks the live engine to stop; allowed from inside a hook.
        let _ = unsafe { uc_emu_stop(self.0) };
    }
}

/// UC_HOOK_BLOCK: a block of `size` bytes at `addr` is about to run. Counts it, stops
/// when an event is due or the watchdog fires, checks the ERET that ended the previous
/// block, and feeds the profiler. A stop requested here happens before the block runs:
/// its instructions are then not counted (the block runs, and is counted, on the next
/// start).
///
/// # Safety
/// `data` is the `State` of the engine `uc` (see `install_hooks`), and no reference to
/// it is live while the engine runs a hook.
unsafe extern "C" fn on_block(uc: *mut uc_engine, addr: u64, size: u32, data: *mut c_void) {
    // SAFETY: the caller's contract: `data` is this engine's State, not otherwise
    // borrowed during the hook.
    let s = unsafe { &mut *data.cast::<State>() };
    let before = s.insns;
    let after = before + size as u64 / 4;
    s.block_addr = addr;
    s.insns_before_block = before;
    // The common case, a few comparisons and no call: no event due, the watchdog far,
    // the previous block not an ERET, no profiler, and this block known (cached) not
    // to end in one.
    let slot = ((addr >> 2) & 4095) as usize;
    let cached = s.last_insn_cache[slot];
    if before < s.next_event
        && after < s.max_insns
        && s.eret_from.is_none()
        && s.profiler.is_none()
        && cached.0 == addr
        && cached.1 >> 32 == size as u64
        && cached.1 as u32 != INSN_ERET
    {
        s.insns = after;
        return;
    }
    on_block_slow(s, RawUc(uc), addr, size, before, after);
}

/// Everything else `on_block` does: stops for events and the watchdog, the check of
/// an ERET that ended the previous block, the last-instruction cache, the profiler.
#[cold]
#[inline(never)]
fn on_block_slow(s: &mut State, uc: RawUc, addr: u64, size: u32, before: u64, after: u64) {
    let mut stopping = false;
    // `next_event` is reached once that many instructions have run: the stop comes at
    // the first block boundary at or after it, so at least one block runs between two
    // such stops.
    if before >= s.next_event {
        // An interrupt may have become deliverable or a deadline is due: stop at this
        // block boundary so that the run loop looks.
        s.next_event = u64::MAX;
        stopping = true;
    }
    if after >= s.max_insns && s.stop.is_none() {
        s.stop = Some(StopReason::Watchdog { insns: before });
        stopping = true;
    }
    // The previous block ended in an ERET: was the return legal? (Unicorn sets
    // PSTATE.IL on an illegal return but goes on executing.)
    if let Some(from_el) = s.eret_from.take() {
        stopping |= check_eret(s, uc, addr, from_el);
    }
    if stopping {
        uc.stop();
        return;
    }
    s.insns = after;
    let slot = ((addr >> 2) & 4095) as usize;
    let cached = s.last_insn_cache[slot];
    let last = if cached.0 == addr && cached.1 >> 32 == size as u64 {
        cached.1 as u32
    } else {
        let last = uc.read_u32(addr + (size as u64).saturating_sub(4));
        s.last_insn_cache[slot] = (addr, (size as u64) << 32 | last as u64);
        last
    };
    if let Some(p) = s.profiler.as_mut() {
        p.block(addr, size as u64 / 4, last);
    }
    if last == INSN_ERET {
        s.eret_from = Some(((uc.reg(RegisterARM64::PSTATE) >> 2) & 3) as u8);
    }
}

/// The block before the one at `target` ended in an ERET from `from_el`: record an
/// illegal return (PSTATE.IL set, or an SPSR the architecture forbids) for the run
/// loop, and say whether to stop before `target` runs.
fn check_eret(s: &mut State, uc: RawUc, target: u64, from_el: u8) -> bool {
    let pstate = uc.reg(RegisterARM64::PSTATE);
    let spsr = uc.sysreg(match from_el {
        1 => cp(3, 0, 4, 0, 0),
        _ => cp(3, 4, 4, 0, 0),
    });
    if pstate & exception::PSTATE_IL != 0 || !exception::eret_is_legal(spsr, from_el) {
        s.illegal = Some((target, spsr, from_el));
        true
    } else {
        // An interrupt is pending: the ERET may have unmasked it (a new EL, new PSTATE
        // masks). Look before the first instruction at the return address.
        s.next_event != u64::MAX
    }
}

fn sysreg_read(s: &mut State, e: Enc, pc: u64) -> Option<u64> {
    if let Some((region, limit, _)) = region_reg(&s.el1_mpu, e, 0) {
        return Some(region.map_or(0, |r| s.el1_mpu.read(r, limit)));
    }
    if let Some((region, limit, selected)) = region_reg(&s.mpu, e, 4) {
        if selected && s.strict.on && s.strict.selr_pending {
            s.warn(format!(
                "PC {pc:#x}: PRBAR/PRLAR_EL2 read after a PRSELR_EL2 write without an ISB"
            ));
        }
        return Some(region.map_or(0, |r| s.mpu.read(r, limit)));
    }
    Some(match e {
        (3, 0, 0, 0, 4) => s.el1_mpu.count() as u64, // MPUIR_EL1
        (3, 0, 6, 2, 1) => s.el1_mpu.prselr,         // PRSELR_EL1
        (3, 0, 6, 1, 1) => s.el1_mpu.prenr(),        // PRENR_EL1
        VTCR_EL2 => s.vtcr,
        (3, 4, 0, 0, 4) => s.mpu.count() as u64, // MPUIR_EL2
        (3, 4, 6, 2, 1) => s.mpu.prselr,         // PRSELR_EL2
        (3, 4, 6, 1, 1) => s.mpu.prenr(),        // PRENR_EL2
        (3, 4, 2, 0, 0) => s.vsctlr,             // VSCTLR_EL2
        (3, 0, 0, 0, 0) => MIDR,
        (3, 0, 0, 0, 5) => s.mpidr,
        (3, 0, 0, 7, 0) => ID_AA64MMFR0,
        (3, 0, 0, 4, 0) => ID_AA64PFR0,
        _ => return None,
    })
}

/// Returns (handled here, stop so translations are flushed).
fn sysreg_write(s: &mut State, e: Enc, v: u64, pc: u64) -> (bool, bool) {
    if let Some((region, limit, _)) = region_reg(&s.el1_mpu, e, 0) {
        if let Some(r) = region {
            s.el1_mpu.write(r, limit, v);
        }
        return (true, true);
    }
    if let Some((region, limit, selected)) = region_reg(&s.mpu, e, 4) {
        if selected && s.strict.on && s.strict.selr_pending {
            s.warn(format!(
                "PC {pc:#x}: PRBAR/PRLAR_EL2 written after a PRSELR_EL2 write without an ISB"
            ));
        }
        if let Some(r) = region {
            let old = s.mpu.region(r);
            s.mpu.write(r, limit, v);
            strict_on_region_write(s, r, old, pc);
        }
        return (true, true);
    }
    match e {
        (3, 0, 6, 2, 1) => {
            s.el1_mpu.prselr = v & 0xff;
            (true, false)
        }
        (3, 0, 6, 1, 1) => {
            s.el1_mpu.write_prenr(v);
            (true, true)
        }
        SCTLR_EL1 => {
            // Unicorn keeps it too; the EL1 MPU obeys M, BR and WXN.
            s.sctlr_el1 = v;
            (false, true)
        }
        VTCR_EL2 => {
            // VTCR_EL2.MSA (bit 31) would select VMSA at EL1, which this core (as
            // the FVP with VMSA_supported=0) does not have: it stays 0.
            s.vtcr = v & !(1 << 31);
            (true, false)
        }
        (3, 4, 6, 2, 1) => {
            s.mpu.prselr = v & 0xff;
            s.strict.selr_pending = s.strict.on;
            (true, s.strict.on)
        }
        (3, 4, 6, 1, 1) => {
            let before: Vec<_> = (0..s.mpu.count().min(32))
                .map(|i| s.mpu.region(i))
                .collect();
            s.mpu.write_prenr(v);
            for (i, old) in before.into_iter().enumerate() {
                strict_on_region_write(s, i as u8, old, pc);
            }
            (true, true)
        }
        (3, 4, 2, 0, 0) => {
            s.vsctlr = v;
            (true, false)
        }
        (3, 4, 1, 0, 0) => {
            // SCTLR_EL2: Unicorn keeps it too; the MPU model obeys M, BR and WXN.
            let was_on = s.sctlr & SCTLR_M != 0;
            s.sctlr = v;
            if s.strict.on && !was_on && v & SCTLR_M != 0 {
                report_overlaps(s, pc);
            }
            (false, true)
        }
        (3, 4, 12, 0, 0) => {
            s.vbar_set = true;
            (false, false)
        }
        _ => (false, false),
    }
}

fn report_overlaps(s: &mut State, pc: u64) {
    for (a, b) in s.mpu.overlaps() {
        if !s.strict.reported_overlaps.contains(&(a, b)) {
            s.strict.reported_overlaps.push((a, b));
            let (ra, rb) = (s.mpu.region(a), s.mpu.region(b));
            s.warn(format!(
                "PC {pc:#x}: enabled EL2 MPU regions {a} [{:#x}..{:#x}] and {b} [{:#x}..{:#x}] overlap",
                ra.base(), ra.limit(), rb.base(), rb.limit()
            ));
        }
    }
    let current = s.mpu.overlaps();
    s.strict.reported_overlaps.retain(|p| current.contains(p));
}

fn strict_on_region_write(s: &mut State, r: u8, old: crate::mpu::RegionRegs, pc: u64) {
    if !s.strict.on {
        return;
    }
    let new = s.mpu.region(r);
    if old == new {
        return;
    }
    s.strict.region_pending = Some((
        r,
        (old.base(), old.limit()),
        (new.base(), new.limit()),
        false,
    ));
    if s.sctlr & SCTLR_M == 0 {
        return;
    }
    if new.enabled() {
        report_overlaps(s, pc);
    }
    if old.executable(s.sctlr) {
        // Whatever part of the old executable range is no longer executable.
        if !new.executable(s.sctlr) || new.base() > old.base() || new.limit() < old.limit() {
            s.strict.stale_exec.push((old.base(), old.limit(), r));
        }
    }
}

fn strict_on_access(s: &mut State, page: u64, ty: MemType) {
    let end = page + PAGE - 1;
    if let Some((r, old, new, warned)) = s.strict.region_pending {
        let hits = |(b, l): (u64, u64)| b <= end && page <= l;
        if !warned && (hits(old) || hits(new)) {
            s.strict.region_pending = Some((r, old, new, true));
            s.warn(format!("access ({ty:?}) to page {page:#x} through EL2 MPU region {r} after it was written, before an ISB"));
        }
    }
    if ty == MemType::FETCH {
        if let Some(&(b, l, r)) = s
            .strict
            .stale_exec
            .iter()
            .find(|(b, l, _)| *b <= end && page <= *l)
        {
            s.warn(format!(
                "instruction fetch from page {page:#x} of [{b:#x}..{l:#x}], which EL2 MPU region {r} made non-executable, without an IC IALLU since"
            ));
            s.strict.stale_exec.retain(|x| x.0 != b || x.1 != l);
        }
    }
}

// The debugger's control of the machine (`crate::gdb`): stepping, breakpoints checked
// by the simulator (nothing is written into guest memory), watchpoints, physical
// memory, registers by name. A stop the debugger causes leaves the instruction count
// exact, and a run resumed from it counts on as if it had never stopped: the image
// reads the same counter, sees the same timer deadlines and faults at the same
// instruction with and without a debugger.

/// Why a debugger-driven run handed control back.
#[derive(Clone, Debug)]
pub enum DebugStop {
    /// The run is over: the image's exit, or one of r82sim's own stops.
    Ended(Outcome),
    /// Before the instruction at `addr`, which holds a breakpoint (`hw`: only a
    /// hardware one).
    Breakpoint { addr: u64, hw: bool },
    /// Before the instruction whose access hit a watchpoint; the access is not done.
    Watchpoint(WatchHit),
    /// One instruction executed (or one exception taken instead).
    Stepped,
    /// The interrupt flag was raised.
    Interrupted,
}

/// The debugger's run state, in `State`.
#[derive(Default)]
struct DebugRun {
    /// The code hook of each breakpoint address.
    hooks: std::collections::BTreeMap<u64, unicorn_engine::UcHookId>,
    /// The breakpoint the code hook stopped before.
    hit: Option<u64>,
    /// A breakpoint at this address does not stop the first instruction of a run
    /// (the one the debugger resumes from).
    skip: Option<u64>,
    /// Raised (from another thread) to stop a run at the start of the next block.
    interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    poll_hook: bool,
}

/// How many bytes from `addr` (at most `len`) lie in RAM or flash: what the debugger
/// may read and write. Devices are left alone (a read can change a device).
fn phys_span(addr: u64, len: usize) -> usize {
    let end = addr.saturating_add(len as u64);
    for (base, size) in [(DRAM_BASE, DRAM_SIZE), (FLASH0_BASE, FLASH0_SIZE)] {
        if (base..base + size).contains(&addr) {
            return (end.min(base + size) - addr) as usize;
        }
    }
    0
}

/// The SP_ELx registers by encoding: (SP_EL0, SP_EL1, SP_EL2).
const SP_EL0_ENC: Enc = (3, 0, 4, 1, 0);
const SP_EL1_ENC: Enc = (3, 4, 4, 1, 0);
const SP_EL2_ENC: Enc = (3, 6, 4, 1, 0);
const FPCR_ENC: Enc = (3, 3, 4, 4, 0);
const FPSR_ENC: Enc = (3, 3, 4, 4, 1);

impl Machine {
    /// Instructions executed so far (exact at every debugger stop).
    pub fn insns(&self) -> u64 {
        self.uc.get_data().insns
    }

    /// The EL1 MPU (stage 1 of the EL1&0 regime).
    pub fn el1_mpu(&self) -> &Mpu {
        &self.uc.get_data().el1_mpu
    }

    /// The current exception level.
    pub fn exception_level(&self) -> u8 {
        self.el()
    }

    fn ended(&self, reason: StopReason) -> DebugStop {
        DebugStop::Ended(Outcome {
            status: reason.status(),
            reason,
            insns: self.uc.get_data().insns,
        })
    }

    /// Set a breakpoint: the simulator stops before executing the instruction at
    /// `addr`. Guest memory is not changed.
    pub fn set_breakpoint(&mut self, addr: u64, hw: bool) -> Result<(), String> {
        self.uc.get_data_mut().points.add_breakpoint(addr, hw);
        if self.uc.get_data().dbg.hooks.contains_key(&addr) {
            return Ok(());
        }
        let id = self
            .uc
            .add_code_hook(addr, addr, |uc, a, _| {
                let s = uc.get_data_mut();
                if s.dbg.skip.take() == Some(a) || s.points.breakpoint_at(a).is_none() {
                    return;
                }
                s.dbg.hit = Some(a);
                let _ = uc.emu_stop();
            })
            .map_err(host("breakpoint hook"))?;
        self.uc.get_data_mut().dbg.hooks.insert(addr, id);
        // Code translated before has no call to the new hook.
        let _ = self.uc.ctl_remove_cache(addr, addr + 4);
        Ok(())
    }

    /// Remove one breakpoint of this kind at `addr`; false if there was none.
    pub fn clear_breakpoint(&mut self, addr: u64, hw: bool) -> bool {
        let s = self.uc.get_data_mut();
        if !s.points.remove_breakpoint(addr, hw) {
            return false;
        }
        if s.points.breakpoint_at(addr).is_none() {
            if let Some(id) = s.dbg.hooks.remove(&addr) {
                let _ = self.uc.remove_hook(id);
                let _ = self.uc.ctl_remove_cache(addr, addr + 4);
            }
        }
        true
    }

    /// Set a watchpoint. Accesses to its TLB pages are then checked one by one.
    pub fn set_watchpoint(&mut self, w: Watch) {
        self.uc.get_data_mut().points.add_watch(w);
        let _ = self.uc.ctl_flush_tlb();
    }

    /// Remove one watchpoint equal to `w`; false if there was none.
    pub fn clear_watchpoint(&mut self, w: Watch) -> bool {
        let removed = self.uc.get_data_mut().points.remove_watch(w);
        let _ = self.uc.ctl_flush_tlb();
        removed
    }

    /// Physical memory as the debugger reads it (not subject to the MPU): RAM and
    /// flash. Returns how many bytes from `addr` were read into `buf`.
    pub fn read_phys(&self, addr: u64, buf: &mut [u8]) -> usize {
        let n = phys_span(addr, buf.len());
        match self.read_mem(addr, n) {
            Some(v) if n > 0 => {
                buf[..n].copy_from_slice(&v);
                n
            }
            _ => 0,
        }
    }

    /// Write physical memory for the debugger (RAM and flash only). Translated code
    /// of the range is dropped.
    pub fn write_phys(&mut self, addr: u64, data: &[u8]) -> Result<(), String> {
        if data.is_empty() {
            return Ok(());
        }
        if phys_span(addr, data.len()) != data.len() {
            return Err(format!(
                "[{addr:#x}, +{:#x}) is not all RAM or flash",
                data.len()
            ));
        }
        let end = addr + data.len() as u64;
        let mut page = addr & !(PAGE - 1);
        while page < end {
            fill_page(&mut self.uc, page);
            page += PAGE;
        }
        self.uc.mem_write(addr, data).map_err(host("write"))?;
        let _ = self.uc.ctl_remove_cache(addr, end);
        Ok(())
    }

    /// Write a core register (X0..X30, SP, PC, PSTATE, FPCR, FPSR) as a debugger
    /// does. A PSTATE write takes effect at once (EL, SP selection, the MPU regime).
    pub fn set_reg(&mut self, r: RegisterARM64, v: u64) -> Result<(), String> {
        self.uc.reg_write(r, v).map_err(host("register"))?;
        if r == RegisterARM64::PSTATE {
            // A PSTATE write alone leaves Unicorn's cached state stale; a
            // coprocessor write refreshes it (see UNICORN-NOTES.md).
            let mut spsr = cp(3, 4, 4, 0, 0);
            let _ = self.uc.reg_read_arm64_coproc(&mut spsr);
            self.uc
                .reg_write_arm64_coproc(&spsr)
                .map_err(host("refresh"))?;
            self.flush_translations();
        }
        Ok(())
    }

    /// SIMD&FP register V`i` (0..=31).
    pub fn vreg(&self, i: u8) -> u128 {
        let id = RegisterARM64::Q0 as i32 + i.min(31) as i32;
        let b = self.uc.reg_read_long(id).unwrap_or_default();
        let mut a = [0u8; 16];
        let n = b.len().min(16);
        a[..n].copy_from_slice(&b[..n]);
        u128::from_le_bytes(a)
    }

    pub fn set_vreg(&mut self, i: u8, v: u128) -> Result<(), String> {
        let id = RegisterARM64::Q0 as i32 + i.min(31) as i32;
        self.uc
            .reg_write_long(id, &v.to_le_bytes())
            .map_err(host("vector register"))
    }

    /// The stack pointer register of SPSel/EL `bank` (0, 1, 2): the live SP when
    /// the core uses that one now.
    fn sp_of(&self, bank: u8) -> u64 {
        let pstate = self.reg(RegisterARM64::PSTATE);
        let el = ((pstate >> 2) & 3) as u8;
        let current = if pstate & 1 == 0 { 0 } else { el };
        if current == bank {
            return self.reg(RegisterARM64::SP);
        }
        self.reg(match bank {
            0 => RegisterARM64::SP_EL0,
            1 => RegisterARM64::SP_EL1,
            _ => RegisterARM64::SP_EL2,
        })
    }

    /// A system register by encoding (op0, op1, CRn, CRm, op2), as the image would
    /// read it at EL2: the models' registers (MPU, PMSA, ID, the counter) first,
    /// then Unicorn's.
    pub fn sysreg_value(&mut self, e: Enc) -> u64 {
        match e {
            SP_EL0_ENC => return self.sp_of(0),
            SP_EL1_ENC => return self.sp_of(1),
            SP_EL2_ENC => return self.sp_of(2),
            FPCR_ENC => return self.reg(RegisterARM64::FPCR),
            FPSR_ENC => return self.reg(RegisterARM64::FPSR),
            _ => {}
        }
        let pc = self.pc();
        let s = self.uc.get_data_mut();
        if let Some((region, limit, _)) = region_reg(&s.el1_mpu, e, 0) {
            return region.map_or(0, |r| s.el1_mpu.read(r, limit));
        }
        if let Some((region, limit, _)) = region_reg(&s.mpu, e, 4) {
            return region.map_or(0, |r| s.mpu.read(r, limit));
        }
        match sysreg_read(s, e, pc) {
            Some(v) => v,
            None => self.sysreg(e.0, e.1, e.2, e.3, e.4),
        }
    }

    /// Write a system register by encoding for the debugger, as an MSR at EL2
    /// would (the MPU and control registers reach the models), without `--strict`
    /// bookkeeping. Translations are dropped.
    pub fn set_sysreg(&mut self, e: Enc, v: u64) -> Result<(), String> {
        let direct = match e {
            SP_EL0_ENC | SP_EL1_ENC | SP_EL2_ENC => {
                let bank = match e {
                    SP_EL0_ENC => 0,
                    SP_EL1_ENC => 1,
                    _ => 2,
                };
                let pstate = self.reg(RegisterARM64::PSTATE);
                let current = if pstate & 1 == 0 {
                    0
                } else {
                    (pstate >> 2) & 3
                };
                Some(if current == bank {
                    RegisterARM64::SP
                } else {
                    [
                        RegisterARM64::SP_EL0,
                        RegisterARM64::SP_EL1,
                        RegisterARM64::SP_EL2,
                    ][bank as usize]
                })
            }
            FPCR_ENC => Some(RegisterARM64::FPCR),
            FPSR_ENC => Some(RegisterARM64::FPSR),
            _ => None,
        };
        if let Some(r) = direct {
            return self.uc.reg_write(r, v).map_err(host("register"));
        }
        let pc = self.pc();
        let mut value = v;
        let handled = if e == HCR_EL2 {
            value |= exception::HCR_RW;
            self.uc.get_data_mut().hcr = value;
            false
        } else {
            let s = self.uc.get_data_mut();
            let strict = std::mem::replace(&mut s.strict.on, false);
            let (handled, _) = sysreg_write(s, e, v, pc);
            s.strict.on = strict;
            handled
        };
        if !handled {
            let mut r = cp(e.0, e.1, e.2, e.3, e.4);
            r.val = value;
            self.uc
                .reg_write_arm64_coproc(&r)
                .map_err(host("system register"))?;
        }
        self.flush_translations();
        Ok(())
    }

    fn ensure_poll_hook(&mut self) -> Result<(), String> {
        if self.uc.get_data().dbg.poll_hook {
            return Ok(());
        }
        // After the counting block hook: a stop requested here takes effect before
        // the block's first instruction.
        self.uc
            .add_block_hook(1, 0, |uc, _, _| {
                let s = uc.get_data();
                let raised = !s.permissive
                    && s.dbg
                        .interrupt
                        .as_ref()
                        .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed));
                if raised {
                    let _ = uc.emu_stop();
                }
            })
            .map_err(host("interrupt hook"))?;
        self.uc.get_data_mut().dbg.poll_hook = true;
        Ok(())
    }

    /// After a stop before the instruction at `pc` inside the last block entered (a
    /// breakpoint, an interrupt, a step): count exactly the instructions executed,
    /// and forget an ERET at the block's end that has not run yet.
    fn settle_at(&mut self, pc: u64) {
        let s = self.uc.get_data_mut();
        let block_end = s.block_addr + 4 * (s.insns - s.insns_before_block);
        if pc >= s.block_addr && pc < block_end {
            s.eret_from = None;
        }
        s.insns = s.exact_insns(pc);
    }

    /// Whether the last block entered ended with a WFI that has executed (the core
    /// stopped right after it): the WFI lies in that block. (A stop at the very start
    /// of a block, with none of it run, may follow a WFI that did not run: one that
    /// trapped to EL2 and was skipped by the ERET that leads here.)
    fn wfi_done(&self, pc: u64) -> bool {
        let s = self.uc.get_data();
        let block_end = s.block_addr + 4 * (s.insns - s.insns_before_block);
        pc >= s.block_addr + 4 && pc == block_end && self.insn(pc - 4) == Some(INSN_WFI)
    }

    /// Execute the instruction at `pc` with every access allowed and recorded, then
    /// undo it entirely; return the first watchpoint its accesses hit.
    fn probe_watch(&mut self, pc: u64) -> Result<Option<WatchHit>, String> {
        let ctx = self.uc.context_init().map_err(host("context save"))?;
        let saved = {
            let s = self.uc.get_data();
            (
                s.insns,
                s.block_addr,
                s.insns_before_block,
                s.eret_from,
                s.stop.clone(),
            )
        };
        let _ = self.step_recording(pc)?;
        let recorded = std::mem::take(&mut self.uc.get_data_mut().recorded);
        for rec in recorded.iter().rev().filter(|r| r.write) {
            let _ = self.uc.mem_write(rec.addr, &rec.old);
        }
        self.uc
            .context_restore(&ctx)
            .map_err(host("context restore"))?;
        let s = self.uc.get_data_mut();
        (
            s.insns,
            s.block_addr,
            s.insns_before_block,
            s.eret_from,
            s.stop,
        ) = saved;
        s.pending = None;
        s.illegal = None;
        s.unmapped = None;
        s.mpu_changed = false;
        let points = &s.points;
        Ok(recorded
            .iter()
            .find_map(|r| points.hit(r.addr, r.size as u64, r.write)))
    }

    /// A refused TLB fill while the debugger may watch: a watchpoint hit stops before
    /// the instruction; anything else goes on as in `run`.
    fn debug_refused(&mut self) -> Result<Option<WatchHit>, String> {
        if !self.uc.get_data().points.watches().is_empty() {
            let pc = self.pc();
            let s = self.uc.get_data_mut();
            s.insns = s.exact_insns(pc);
            if let Some(hit) = self.probe_watch(pc)? {
                self.uc.get_data_mut().refused = None;
                return Ok(Some(hit));
            }
            // The access goes on as in `run`; when it is allowed, exactly the one
            // instruction ran (`step_checked` leaves its block's count).
            let before = self.insns();
            self.on_refused_access()?;
            if self.pc() == pc + 4 {
                self.settle_at(pc + 4);
                self.uc.get_data_mut().insns = before + 1;
            }
            return Ok(None);
        }
        self.on_refused_access().map(|()| None)
    }

    /// Execute one instruction (or take the exception it raises) and stop.
    pub fn step_one(&mut self) -> DebugStop {
        if let Some(stop) = self.uc.get_data_mut().stop.take() {
            return self.ended(stop);
        }
        let pc = self.pc();
        let before = self.uc.get_data().insns;
        let insn = self.insn(pc);
        self.uc.get_data_mut().dbg.skip = Some(pc);
        // Unicorn adds its counting hook without dropping translated code, and code
        // translated without it would run to the end of its block.
        self.flush_translations();
        let r = self.uc.emu_start(pc, UNTIL, 0, 1);
        let after = self.pc();
        {
            let s = self.uc.get_data_mut();
            s.dbg.skip = None;
            s.dbg.hit = None;
            // Unicorn's count stops before the second instruction, after its block
            // hook may have counted the next block: one instruction ran.
            let block_end = s.block_addr + 4 * (s.insns - s.insns_before_block);
            if after >= s.block_addr && after < block_end {
                s.eret_from = None;
            }
            s.insns = before + 1;
        }
        self.after_slice(r.is_ok(), insn, pc, after);
        let result = match r {
            Ok(()) => {
                let s = self.uc.get_data();
                let event = s.stop.is_some() || s.illegal.is_some() || s.pending.is_some();
                let res = self.after_stop(pc, true);
                if res.is_ok()
                    && !event
                    && insn == Some(INSN_WFI)
                    && after == pc + 4
                    && self.uc.get_data().stop.is_none()
                {
                    self.uc.get_data_mut().stop = Some(StopReason::Parked { pc });
                }
                res
            }
            Err(uc_error::EXCEPTION) => {
                self.uc.get_data_mut().insns = before;
                match self.debug_refused() {
                    Ok(Some(hit)) => return DebugStop::Watchpoint(hit),
                    Ok(None) => {
                        // The access was allowed (it executed) or aborted (it did not).
                        if self.pc() == pc + 4 {
                            self.uc.get_data_mut().insns = before + 1;
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Err(uc_error::READ_UNMAPPED | uc_error::WRITE_UNMAPPED | uc_error::FETCH_UNMAPPED) => {
                self.uc.get_data_mut().insns = before;
                self.on_unmapped()
            }
            Err(e) => Err(format!("emulator error {e:?} at pc {:#x}", self.pc())),
        };
        if let Err(e) = result {
            return self.ended(StopReason::HostError(e));
        }
        match self.uc.get_data_mut().stop.take() {
            Some(stop) => self.ended(stop),
            None => DebugStop::Stepped,
        }
    }

    /// Run until the image stops, a breakpoint or watchpoint is reached, or
    /// `interrupt` is raised (checked at every block, from any thread). A breakpoint
    /// at the current PC does not stop the first instruction.
    pub fn run_until(
        &mut self,
        interrupt: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> DebugStop {
        use std::sync::atomic::Ordering::Relaxed;
        if let Err(e) = self.ensure_poll_hook() {
            return self.ended(StopReason::HostError(e));
        }
        let (start_pc, start_insns) = (self.pc(), self.insns());
        self.uc.get_data_mut().dbg.interrupt = Some(interrupt.clone());
        let stop = loop {
            if let Some(stop) = self.uc.get_data_mut().stop.take() {
                break self.ended(stop);
            }
            if interrupt.load(Relaxed) {
                break DebugStop::Interrupted;
            }
            let pc = self.pc();
            let step = self.strict_step_wanted();
            let insn = self.insn(pc);
            if pc == start_pc && self.insns() == start_insns {
                self.uc.get_data_mut().dbg.skip = Some(pc);
            }
            let r = self.uc.emu_start(pc, UNTIL, 0, if step { 1 } else { 0 });
            let now = self.pc();
            let s = self.uc.get_data_mut();
            s.dbg.skip = None;
            let hit = s.dbg.hit.take();
            let other = s.stop.is_some()
                || s.pending.is_some()
                || s.illegal.is_some()
                || s.mpu_changed
                || r.is_err();
            let polled = r.is_ok() && interrupt.load(Relaxed);
            // A stop only the debugger caused: count exactly what ran.
            let ours = (hit.is_some() || polled) && !other;
            if ours || (hit.is_some() && r.is_ok()) {
                self.settle_at(now);
            }
            self.after_slice(step && r.is_ok(), insn, pc, now);
            let result = match r {
                Ok(()) if ours => {
                    if !step && self.wfi_done(now) {
                        self.uc.get_data_mut().stop = Some(StopReason::Parked { pc: now - 4 });
                    }
                    Ok(())
                }
                Ok(()) => self.after_stop(pc, step),
                Err(uc_error::EXCEPTION) => match self.debug_refused() {
                    Ok(Some(w)) => break DebugStop::Watchpoint(w),
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                },
                Err(
                    uc_error::READ_UNMAPPED | uc_error::WRITE_UNMAPPED | uc_error::FETCH_UNMAPPED,
                ) => self.on_unmapped(),
                Err(e) => Err(format!("emulator error {e:?} at pc {:#x}", self.pc())),
            };
            if let Err(e) = result {
                break self.ended(StopReason::HostError(e));
            }
            if let Some(addr) = hit {
                let s = self.uc.get_data();
                if s.stop.is_none() && self.pc() == addr {
                    let hw = s.points.breakpoint_at(addr) == Some(true);
                    break DebugStop::Breakpoint { addr, hw };
                }
            }
        };
        self.uc.get_data_mut().dbg.interrupt = None;
        stop
    }
}
