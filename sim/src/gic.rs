// SPDX-License-Identifier: GPL-2.0-only
//! A GICv3 with a single security state (GICD_CTLR.DS = 1, as scripts/run-fvp.sh
//! configures the FVP), as a pure model (GICv3 architecture specification, IHI 0069):
//! the distributor, one redistributor per core, the CPU interface system registers
//! (ICC_*) and the virtual CPU interface for a hypervisor (ICH_* and, for EL1 with
//! HCR_EL2.IMO/FMO set, ICV_*). The machine maps the MMIO frames, routes system
//! registers here and asks for the interrupt lines after every change.
//!
//! Implemented: priorities with 5 bits (32 levels, as the FVP's Cortex-R82), the
//! binary point and preemption through the active priorities, PMR, group enables
//! (group 0 signals FIQ, group 1 IRQ), edge and level (a level interrupt is pending
//! while its line is high), the pending/active state machine, EOImode 0 and 1 with
//! DIR, SGIs through ICC_SGI1R_EL1 (target list or IRM), IROUTER for SPIs, the
//! redistributor's WAKER and TYPER.Last; 4 list registers with HW deactivation, the
//! virtual priorities (ICH_AP1R0), EOIcount and the maintenance interrupt (PPI 25).
//! No LPIs/ITS, no extended SPI/PPI ranges, no GICv2 memory-mapped CPU interface.
use crate::sysregs::Enc;

pub const GICD_BASE: u64 = 0xaf00_0000;
pub const GICD_SIZE: u64 = 0x1_0000;
pub const GICR_BASE: u64 = 0xaf10_0000;
/// RD_base + SGI_base: 128 KiB per core.
pub const GICR_STRIDE: u64 = 0x2_0000;
/// SPIs the distributor implements: INTIDs 32..1019 (ITLinesNumber = 31).
pub const NR_INTIDS: usize = 1020;
pub const SPURIOUS: u32 = 1023;
/// List registers of the virtual CPU interface.
pub const NR_LRS: usize = 4;
pub const INTID_MAINTENANCE: u32 = 25;
/// Priority bits implemented (PRIbits = 5): the low 3 bits of a priority read as 0.
const PRI_MASK: u8 = 0xf8;
const IDLE: u8 = 0xff;

/// Interrupt signals to one core.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    pub irq: bool,
    pub fiq: bool,
    pub virq: bool,
    pub vfiq: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Irq {
    group1: bool,
    enabled: bool,
    /// The edge latch / software pending state.
    pending: bool,
    active: bool,
    priority: u8,
    /// ICFGR: edge-triggered.
    edge: bool,
    /// The input line (level interrupts are pending while it is high).
    line: bool,
}

impl Irq {
    fn is_pending(&self) -> bool {
        self.pending || (!self.edge && self.line)
    }
}

/// One core's CPU interface (physical) and virtual CPU interface.
#[derive(Clone, Debug)]
struct Cpu {
    /// SGIs and PPIs (INTIDs 0..31), in the redistributor.
    private: [Irq; 32],
    waker: u32,
    pmr: u8,
    bpr0: u8,
    bpr1: u8,
    igrpen0: bool,
    igrpen1: bool,
    eoimode: bool,
    /// Active priorities, one bit per group priority (32 levels with 5 bits).
    apr: u32,
    // Virtual interface.
    ich_hcr: u64,
    ich_vmcr: u64,
    lrs: [u64; NR_LRS],
    ich_apr: u32,
    affinity: u64,
}

/// An event for `--trace-interrupts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Line {
        core: usize,
        intid: u32,
        level: bool,
    },
    Acknowledge {
        core: usize,
        intid: u32,
        virt: bool,
    },
    Eoi {
        core: usize,
        intid: u32,
        virt: bool,
    },
    Deactivate {
        core: usize,
        intid: u32,
        virt: bool,
    },
}

/// What a system-register access does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Read(u64),
    Written,
    Undefined,
    NotMine,
}

pub struct Gic {
    ctlr: u32,
    spis: Vec<Irq>,
    /// Whether any SPI is enabled (the SPI scan is skipped otherwise).
    any_spi_enabled: bool,
    routes: Vec<u64>,
    cpus: Vec<Cpu>,
    pub trace: Option<Vec<Event>>,
}

// LR fields.
const LR_STATE_SHIFT: u64 = 62;
const LR_PENDING: u64 = 1;
const LR_ACTIVE: u64 = 2;
const LR_HW: u64 = 1 << 61;
const LR_GROUP: u64 = 1 << 60;
const LR_EOI: u64 = 1 << 41;

fn lr_state(lr: u64) -> u64 {
    lr >> LR_STATE_SHIFT
}
fn lr_prio(lr: u64) -> u8 {
    ((lr >> 48) & 0xff) as u8 & PRI_MASK
}
fn lr_vintid(lr: u64) -> u32 {
    lr as u32
}
fn lr_pintid(lr: u64) -> u32 {
    ((lr >> 32) & 0x3ff) as u32
}

/// Group priority of `p` under binary point `bpr` (group 1 uses BPR1 with the
/// minimum of 1 when not shared): the bits above the binary point.
fn group_priority(p: u8, bpr: u8) -> u8 {
    let keep = 7 - bpr.min(7);
    let mask = (0xffu16 << (8 - keep.max(1) as u16).min(8)) as u8;
    p & mask & PRI_MASK
}

impl Gic {
    /// A GIC for `cores` cores with the given MPIDR affinities.
    pub fn new(affinities: &[u64]) -> Self {
        let cpu = |aff: u64| Cpu {
            private: [Irq {
                edge: false,
                ..Irq::default()
            }; 32],
            waker: 0b110, // ProcessorSleep, ChildrenAsleep
            pmr: 0,
            bpr0: 2,
            bpr1: 3,
            igrpen0: false,
            igrpen1: false,
            eoimode: false,
            apr: 0,
            ich_hcr: 0,
            ich_vmcr: 0,
            lrs: [0; NR_LRS],
            ich_apr: 0,
            affinity: aff,
        };
        let mut cpus: Vec<Cpu> = affinities.iter().map(|&a| cpu(a)).collect();
        for c in &mut cpus {
            // SGIs are edge-triggered (ICFGR0 reads as all edge).
            for s in &mut c.private[..16] {
                s.edge = true;
            }
        }
        Self {
            ctlr: 0,
            spis: vec![Irq::default(); NR_INTIDS],
            any_spi_enabled: false,
            routes: vec![0; NR_INTIDS],
            cpus,
            trace: None,
        }
    }

    fn log(&mut self, e: Event) {
        if let Some(t) = self.trace.as_mut() {
            t.push(e);
        }
    }

    pub fn drain_trace(&mut self) -> Vec<Event> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn irq(&mut self, core: usize, intid: u32) -> Option<&mut Irq> {
        match intid {
            0..=31 => self
                .cpus
                .get_mut(core)
                .map(|c| &mut c.private[intid as usize]),
            32..=1019 => self.spis.get_mut(intid as usize),
            _ => None,
        }
    }

    fn irq_ref(&self, core: usize, intid: u32) -> Option<&Irq> {
        match intid {
            0..=31 => self.cpus.get(core).map(|c| &c.private[intid as usize]),
            32..=1019 => self.spis.get(intid as usize),
            _ => None,
        }
    }

    /// Drive a PPI's input line on `core`.
    pub fn set_ppi(&mut self, core: usize, intid: u32, level: bool) {
        if !(16..32).contains(&intid) {
            return;
        }
        let changed = self.irq(core, intid).is_some_and(|i| i.line != level);
        if let Some(i) = self.irq(core, intid) {
            if i.edge && level && !i.line {
                i.pending = true;
            }
            i.line = level;
        }
        if changed {
            self.log(Event::Line { core, intid, level });
        }
    }

    /// Drive an SPI's input line.
    pub fn set_spi(&mut self, intid: u32, level: bool) {
        if !(32..NR_INTIDS as u32).contains(&intid) {
            return;
        }
        let i = &mut self.spis[intid as usize];
        let changed = i.line != level;
        if i.edge && level && !i.line {
            i.pending = true;
        }
        i.line = level;
        if changed {
            self.log(Event::Line {
                core: 0,
                intid,
                level,
            });
        }
    }

    /// Whether an SPI is routed to `core` (IROUTER: Interrupt_Routing_Mode or the
    /// core's affinity).
    fn routed(&self, core: usize, intid: u32) -> bool {
        if intid < 32 {
            return true;
        }
        let r = self.routes[intid as usize];
        if r & (1 << 31) != 0 {
            return core == 0; // 1-of-N: delivered to the first core
        }
        let aff = r & 0xff_00ff_ffff;
        self.cpus
            .get(core)
            .is_some_and(|c| c.affinity & 0xff_00ff_ffff == aff)
    }

    fn group_enabled_dist(&self, group1: bool) -> bool {
        if group1 {
            self.ctlr & 0b10 != 0
        } else {
            self.ctlr & 0b01 != 0
        }
    }

    /// The highest-priority pending, enabled, inactive interrupt for `core`:
    /// (INTID, priority, group 1), lowest INTID first among equals.
    fn hppi(&self, core: usize) -> Option<(u32, u8, bool)> {
        let c = self.cpus.get(core)?;
        let mut best: Option<(u32, u8, bool)> = None;
        let mut consider = |intid: u32, i: &Irq| {
            if i.enabled && i.is_pending() && !i.active && self.group_enabled_dist(i.group1) {
                let p = i.priority & PRI_MASK;
                if best.is_none_or(|b| p < b.1) {
                    best = Some((intid, p, i.group1));
                }
            }
        };
        for (n, i) in c.private.iter().enumerate() {
            consider(n as u32, i);
        }
        let spis = if self.any_spi_enabled { NR_INTIDS } else { 32 };
        for n in 32..spis {
            if self.spis[n].enabled && self.routed(core, n as u32) {
                consider(n as u32, &self.spis[n]);
            }
        }
        best
    }

    fn running_priority(c: &Cpu) -> u8 {
        if c.apr == 0 {
            IDLE
        } else {
            (c.apr.trailing_zeros() as u8) << 3
        }
    }

    /// The physical IRQ/FIQ and virtual IRQ/FIQ signals to `core`.
    pub fn signals(&self, core: usize) -> Signals {
        let mut s = Signals::default();
        let Some(c) = self.cpus.get(core) else {
            return s;
        };
        if let Some((_, p, g1)) = self.hppi(core) {
            let rpr = Self::running_priority(c);
            let bpr = if g1 { c.bpr1 } else { c.bpr0 };
            let enabled = if g1 { c.igrpen1 } else { c.igrpen0 };
            if enabled && p < (c.pmr & PRI_MASK) && group_priority(p, bpr) < rpr {
                if g1 {
                    s.irq = true;
                } else {
                    s.fiq = true;
                }
            }
        }
        if let Some((_, p, g1)) = self.virtual_hppi(c) {
            let vpmr = ((c.ich_vmcr >> 24) & 0xff) as u8 & PRI_MASK;
            let ven = if g1 {
                c.ich_vmcr & 2 != 0
            } else {
                c.ich_vmcr & 1 != 0
            };
            let vrpr = if c.ich_apr == 0 {
                IDLE
            } else {
                (c.ich_apr.trailing_zeros() as u8) << 3
            };
            if c.ich_hcr & 1 != 0 && ven && p < vpmr && p < vrpr {
                if g1 {
                    s.virq = true;
                } else {
                    s.vfiq = true;
                }
            }
        }
        s
    }

    /// The highest-priority pending list register: (index, priority, group 1).
    fn virtual_hppi(&self, c: &Cpu) -> Option<(usize, u8, bool)> {
        c.lrs
            .iter()
            .enumerate()
            .filter(|(_, lr)| lr_state(**lr) & LR_PENDING != 0 && lr_state(**lr) & LR_ACTIVE == 0)
            .map(|(i, lr)| (i, lr_prio(*lr), lr & LR_GROUP != 0))
            .min_by_key(|(i, p, _)| (*p, *i))
    }

    /// The maintenance interrupt's level for `core` (ICH_MISR_EL2 != 0 with En).
    pub fn maintenance(&self, core: usize) -> bool {
        self.cpus
            .get(core)
            .is_some_and(|c| c.ich_hcr & 1 != 0 && Self::misr(c) != 0)
    }

    fn eisr(c: &Cpu) -> u64 {
        c.lrs
            .iter()
            .enumerate()
            .filter(|(_, lr)| lr_state(**lr) == 0 && **lr & LR_HW == 0 && **lr & LR_EOI != 0)
            .fold(0, |a, (i, _)| a | 1 << i)
    }

    fn elrsr(c: &Cpu) -> u64 {
        c.lrs
            .iter()
            .enumerate()
            .filter(|(_, lr)| lr_state(**lr) == 0 && (**lr & LR_HW != 0 || **lr & LR_EOI == 0))
            .fold(0, |a, (i, _)| a | 1 << i)
    }

    fn misr(c: &Cpu) -> u64 {
        let hcr = c.ich_hcr;
        let valid = c.lrs.iter().filter(|lr| lr_state(**lr) != 0).count();
        let pending = c.lrs.iter().any(|lr| lr_state(*lr) & LR_PENDING != 0);
        let mut m = 0;
        if Self::eisr(c) != 0 {
            m |= 1; // EOI
        }
        if hcr & 0b10 != 0 && valid <= 1 {
            m |= 1 << 1; // U: underflow
        }
        if hcr & 0b100 != 0 && (hcr >> 27) != 0 {
            m |= 1 << 2; // LRENP
        }
        if hcr & 0b1000 != 0 && !pending {
            m |= 1 << 3; // NP
        }
        m
    }

    // ---- MMIO ----------------------------------------------------------------

    /// A read of the distributor or a redistributor (`addr` absolute, `size` 1..8).
    pub fn mmio_read(&mut self, addr: u64, size: u8) -> u64 {
        if (GICD_BASE..GICD_BASE + GICD_SIZE).contains(&addr) {
            return self.dist_read(addr - GICD_BASE, size);
        }
        let off = addr.wrapping_sub(GICR_BASE);
        let core = (off / GICR_STRIDE) as usize;
        if core < self.cpus.len() {
            return self.redist_read(core, off % GICR_STRIDE, size);
        }
        0
    }

    pub fn mmio_write(&mut self, addr: u64, size: u8, v: u64) {
        if (GICD_BASE..GICD_BASE + GICD_SIZE).contains(&addr) {
            return self.dist_write(addr - GICD_BASE, size, v);
        }
        let off = addr.wrapping_sub(GICR_BASE);
        let core = (off / GICR_STRIDE) as usize;
        if core < self.cpus.len() {
            self.redist_write(core, off % GICR_STRIDE, size, v);
        }
    }

    /// Bit-per-INTID registers (IGROUPR, ISENABLER, ...): 32 bits at `base + 4n`.
    fn bits_read(&self, core: usize, first: u32, f: impl Fn(&Irq) -> bool) -> u64 {
        (0..32).fold(0, |a, b| {
            let on = self.irq_ref(core, first + b).is_some_and(&f);
            a | (on as u64) << b
        })
    }

    fn bits_write(&mut self, core: usize, first: u32, v: u64, f: impl Fn(&mut Irq, bool)) {
        for b in 0..32 {
            if let Some(i) = self.irq(core, first + b) {
                f(i, v & (1 << b) != 0);
            }
        }
    }

    /// Offsets shared by GICD (SPIs) and the SGI frame (SGIs/PPIs): Some(value).
    fn irq_regs_read(&self, core: usize, off: u64, size: u8, spi_frame: bool) -> Option<u64> {
        let n = ((off & 0x7f) / 4) as u32;
        let first = n * 32;
        let ok = |first: u32| if spi_frame { first >= 32 } else { first == 0 };
        Some(match off {
            0x080..=0x0fc if ok(first) => self.bits_read(core, first, |i| i.group1),
            0x100..=0x17c | 0x180..=0x1fc if ok(first) => {
                self.bits_read(core, first, |i| i.enabled)
            }
            0x200..=0x27c | 0x280..=0x2fc if ok(first) => {
                self.bits_read(core, first, |i| i.is_pending())
            }
            0x300..=0x37c | 0x380..=0x3fc if ok(first) => self.bits_read(core, first, |i| i.active),
            0x400..=0x7f8 => {
                let intid = (off - 0x400) as u32;
                if spi_frame && intid < 32 || !spi_frame && intid >= 32 {
                    return Some(0);
                }
                (0..size as u32).fold(0, |a, k| {
                    let p = self
                        .irq_ref(core, intid + k)
                        .map_or(0, |i| i.priority & PRI_MASK);
                    a | (p as u64) << (8 * k)
                })
            }
            0xc00..=0xcfc => {
                let first = ((off - 0xc00) / 4) as u32 * 16;
                if spi_frame && first < 32 || !spi_frame && first >= 32 {
                    return Some(0);
                }
                (0..16).fold(0, |a, k| {
                    let edge = self.irq_ref(core, first + k).is_some_and(|i| i.edge);
                    a | ((edge as u64) << 1) << (2 * k)
                })
            }
            _ => return None,
        })
    }

    fn irq_regs_write(&mut self, core: usize, off: u64, size: u8, v: u64, spi_frame: bool) -> bool {
        let n = ((off & 0x7f) / 4) as u32;
        let first = n * 32;
        let ok = if spi_frame { first >= 32 } else { first == 0 };
        match off {
            0x080..=0x0fc if ok => self.bits_write(core, first, v, |i, b| i.group1 = b),
            0x100..=0x17c if ok => self.bits_write(core, first, v, |i, b| i.enabled |= b),
            0x180..=0x1fc if ok => self.bits_write(core, first, v, |i, b| i.enabled &= !b),
            0x200..=0x27c if ok => self.bits_write(core, first, v, |i, b| i.pending |= b),
            0x280..=0x2fc if ok => self.bits_write(core, first, v, |i, b| i.pending &= !b),
            0x300..=0x37c if ok => self.bits_write(core, first, v, |i, b| i.active |= b),
            0x380..=0x3fc if ok => self.bits_write(core, first, v, |i, b| i.active &= !b),
            0x400..=0x7f8 => {
                let intid = (off - 0x400) as u32;
                if spi_frame && intid < 32 || !spi_frame && intid >= 32 {
                    return true;
                }
                for k in 0..size as u32 {
                    if let Some(i) = self.irq(core, intid + k) {
                        i.priority = (v >> (8 * k)) as u8 & PRI_MASK;
                    }
                }
            }
            0xc00..=0xcfc => {
                let first = ((off - 0xc00) / 4) as u32 * 16;
                // SGIs are always edge; PPIs and SPIs take Int_config[1].
                let writable = if spi_frame { first >= 32 } else { first == 16 };
                if !writable {
                    return true;
                }
                for k in 0..16 {
                    if let Some(i) = self.irq(core, first + k) {
                        i.edge = (v >> (2 * k + 1)) & 1 != 0;
                    }
                }
            }
            _ => return false,
        }
        true
    }

    fn dist_read(&mut self, off: u64, size: u8) -> u64 {
        match off {
            0x0000 => (self.ctlr | 1 << 6 | 1 << 4) as u64, // DS and ARE read as one
            0x0004 => {
                // ITLinesNumber 31 (INTIDs up to 1019), IDbits 9 (10 bits), no LPIs,
                // no Security Extensions (DS = 1), CPUNumber unused with ARE.
                31 | (9 << 19)
            }
            0x0008 => 0x0200_043b, // IIDR: Arm
            0x6000..=0x7fd8 => {
                let intid = ((off - 0x6000) / 8) as usize;
                if (32..NR_INTIDS).contains(&intid) {
                    let r = self.routes[intid];
                    if size == 4 && off % 8 == 4 {
                        r >> 32
                    } else {
                        r
                    }
                } else {
                    0
                }
            }
            0xffe8 => 0x3b, // PIDR2: ArchRev 3 (GICv3)
            _ => self.irq_regs_read(0, off, size, true).unwrap_or(0),
        }
    }

    fn dist_write(&mut self, off: u64, size: u8, v: u64) {
        match off {
            0x0000 => self.ctlr = (v as u32) & 0b11, // EnableGrp0, EnableGrp1
            0x6000..=0x7fd8 => {
                let intid = ((off - 0x6000) / 8) as usize;
                if (32..NR_INTIDS).contains(&intid) {
                    let mask = 0xff_8000_00ff_ffffu64 & !(0x7f << 24);
                    let r = &mut self.routes[intid];
                    *r = match (size, off % 8) {
                        (4, 0) => (*r & !0xffff_ffff) | (v & 0xffff_ffff),
                        (4, _) => (*r & 0xffff_ffff) | (v << 32),
                        _ => v,
                    } & (mask | 1 << 31);
                }
            }
            _ => {
                self.irq_regs_write(0, off, size, v, true);
                self.any_spi_enabled = self.spis.iter().any(|i| i.enabled);
            }
        }
    }

    fn redist_read(&mut self, core: usize, off: u64, size: u8) -> u64 {
        let last = core + 1 == self.cpus.len();
        let c = &self.cpus[core];
        match off {
            0x0000 => 0,           // GICR_CTLR
            0x0004 => 0x0200_043b, // GICR_IIDR
            0x0008 => {
                // GICR_TYPER: Affinity_Value, Processor_Number, Last.
                let aff = c.affinity;
                let aff32 = (aff & 0xff_ffff) | ((aff >> 32) & 0xff) << 24;
                (aff32 << 32) | (core as u64) << 8 | (last as u64) << 4
            }
            0x000c if size == 4 => {
                let aff = c.affinity;
                (aff & 0xff_ffff) | ((aff >> 32) & 0xff) << 24
            }
            0x0014 => c.waker as u64,
            0xffe8 => 0x3b,
            o if o >= 0x1_0000 => self
                .irq_regs_read(core, o - 0x1_0000, size, false)
                .unwrap_or(0),
            _ => 0,
        }
    }

    fn redist_write(&mut self, core: usize, off: u64, size: u8, v: u64) {
        match off {
            0x0014 => {
                // ProcessorSleep (bit 1); ChildrenAsleep (bit 2) follows it.
                let sleep = v & 0b10 != 0;
                self.cpus[core].waker = if sleep { 0b110 } else { 0 };
            }
            o if o >= 0x1_0000 => {
                self.irq_regs_write(core, o - 0x1_0000, size, v, false);
            }
            _ => {}
        }
    }

    // ---- system registers -----------------------------------------------------

    /// An ICC_*/ICV_*/ICH_* access by `core` at `el`; `virt`: EL1 with HCR_EL2.IMO
    /// (or FMO) set, so the ICV_* view applies.
    pub fn sysreg(
        &mut self,
        core: usize,
        e: Enc,
        el: u8,
        virt: bool,
        write: Option<u64>,
    ) -> Outcome {
        if core >= self.cpus.len() {
            return Outcome::NotMine;
        }
        let rd = |v: u64| Outcome::Read(v);
        match (e, write) {
            // ICC_SRE_EL2 / ICC_SRE_EL1: SRE (and DIB/DFB) read as one (RAO/WI).
            ((3, 4, 12, 9, 5), _) if el >= 2 => match write {
                None => rd(0b1111),
                Some(_) => Outcome::Written,
            },
            ((3, 0, 12, 12, 5), w) => match w {
                None => rd(0b111),
                Some(_) => Outcome::Written,
            },
            ((3, 4, 12, ..), _) if el >= 2 => self.ich(core, e, write),
            ((3, 4, 12, ..), _) => Outcome::Undefined,
            ((3, 0, 4, 6, 0), w) => {
                // ICC_PMR_EL1 (ICV: ICH_VMCR.VPMR)
                let c = &mut self.cpus[core];
                if virt {
                    match w {
                        None => rd((c.ich_vmcr >> 24) & 0xf8),
                        Some(v) => {
                            c.ich_vmcr = (c.ich_vmcr & !(0xff << 24)) | ((v & 0xf8) << 24);
                            Outcome::Written
                        }
                    }
                } else {
                    match w {
                        None => rd(c.pmr as u64),
                        Some(v) => {
                            c.pmr = v as u8 & PRI_MASK;
                            Outcome::Written
                        }
                    }
                }
            }
            ((3, 0, 12, 12, 0), None) => rd(self.ack(core, virt, true) as u64), // IAR1
            ((3, 0, 12, 8, 0), None) => rd(self.ack(core, virt, false) as u64), // IAR0
            ((3, 0, 12, 12, 1), Some(v)) => self.eoi(core, v as u32, virt),     // EOIR1
            ((3, 0, 12, 8, 1), Some(v)) => self.eoi(core, v as u32, virt),      // EOIR0
            ((3, 0, 12, 11, 1), Some(v)) => self.dir(core, v as u32, virt),     // DIR
            ((3, 0, 12, 12, 2), None) | ((3, 0, 12, 8, 2), None) => {
                // HPPIR1 / HPPIR0
                let v = if virt {
                    self.virtual_hppi(&self.cpus[core])
                        .map_or(SPURIOUS, |(i, ..)| lr_vintid(self.cpus[core].lrs[i]))
                } else {
                    self.hppi(core).map_or(SPURIOUS, |(id, ..)| id)
                };
                rd(v as u64)
            }
            ((3, 0, 12, 11, 3), None) => {
                // RPR
                let c = &self.cpus[core];
                let apr = if virt { c.ich_apr } else { c.apr };
                rd(if apr == 0 {
                    IDLE as u64
                } else {
                    (apr.trailing_zeros() as u64) << 3
                })
            }
            ((3, 0, 12, 12, 3), w) | ((3, 0, 12, 8, 3), w) => {
                // BPR1 / BPR0
                let g1 = e.3 == 12;
                let c = &mut self.cpus[core];
                match w {
                    None => rd(if g1 { c.bpr1 } else { c.bpr0 } as u64),
                    Some(v) => {
                        let v = (v & 7) as u8;
                        if g1 {
                            c.bpr1 = v.max(1);
                        } else {
                            c.bpr0 = v;
                        }
                        Outcome::Written
                    }
                }
            }
            ((3, 0, 12, 12, 4), w) => {
                // CTLR: EOImode (bit 1); PRIbits (10:8) = 4, IDbits 0 (16-bit).
                let c = &mut self.cpus[core];
                match w {
                    None => {
                        let eoim = if virt {
                            c.ich_vmcr >> 9 & 1 != 0
                        } else {
                            c.eoimode
                        };
                        rd((4 << 8) | (eoim as u64) << 1)
                    }
                    Some(v) => {
                        if virt {
                            c.ich_vmcr = (c.ich_vmcr & !(1 << 9)) | (v >> 1 & 1) << 9;
                        } else {
                            c.eoimode = v & 0b10 != 0;
                        }
                        Outcome::Written
                    }
                }
            }
            ((3, 0, 12, 12, 7), w) | ((3, 0, 12, 12, 6), w) => {
                // IGRPEN1 / IGRPEN0
                let g1 = e.4 == 7;
                let c = &mut self.cpus[core];
                match w {
                    None => {
                        let on = if virt {
                            c.ich_vmcr >> (g1 as u64) & 1 != 0
                        } else if g1 {
                            c.igrpen1
                        } else {
                            c.igrpen0
                        };
                        rd(on as u64)
                    }
                    Some(v) => {
                        if virt {
                            let bit = 1u64 << (g1 as u64);
                            c.ich_vmcr = (c.ich_vmcr & !bit) | if v & 1 != 0 { bit } else { 0 };
                        } else if g1 {
                            c.igrpen1 = v & 1 != 0;
                        } else {
                            c.igrpen0 = v & 1 != 0;
                        }
                        Outcome::Written
                    }
                }
            }
            ((3, 0, 12, 9, 0), w) => {
                // ICC_AP1R0_EL1 (ICV: ICH_AP1R0)
                let c = &mut self.cpus[core];
                let r = if virt { &mut c.ich_apr } else { &mut c.apr };
                match w {
                    None => rd(*r as u64),
                    Some(v) => {
                        *r = v as u32;
                        Outcome::Written
                    }
                }
            }
            ((3, 0, 12, 11, 5), Some(v)) => {
                self.sgi(core, v);
                Outcome::Written
            }
            ((3, 0, 12, ..), _) => Outcome::Undefined,
            _ => Outcome::NotMine,
        }
    }

    fn ich(&mut self, core: usize, e: Enc, write: Option<u64>) -> Outcome {
        let c = &mut self.cpus[core];
        match (e, write) {
            ((3, 4, 12, 11, 0), None) => Outcome::Read(c.ich_hcr),
            ((3, 4, 12, 11, 0), Some(v)) => {
                c.ich_hcr = v & 0xf800_00ff;
                Outcome::Written
            }
            // ICH_VTR_EL2: ListRegs = 3 (4 LRs), PRIbits 4, PREbits 4, IDbits 0, A3V.
            ((3, 4, 12, 11, 1), None) => {
                Outcome::Read((NR_LRS as u64 - 1) | 4 << 29 | 4 << 26 | 1 << 21)
            }
            ((3, 4, 12, 11, 2), None) => Outcome::Read(Self::misr(c)),
            ((3, 4, 12, 11, 3), None) => Outcome::Read(Self::eisr(c)),
            ((3, 4, 12, 11, 5), None) => Outcome::Read(Self::elrsr(c)),
            ((3, 4, 12, 11, 7), None) => Outcome::Read(c.ich_vmcr),
            ((3, 4, 12, 11, 7), Some(v)) => {
                c.ich_vmcr = v & 0xff7c_0203;
                Outcome::Written
            }
            ((3, 4, 12, 9, 0), None) => Outcome::Read(c.ich_apr as u64),
            ((3, 4, 12, 9, 0), Some(v)) => {
                c.ich_apr = v as u32;
                Outcome::Written
            }
            ((3, 4, 12, 12 | 13, n), w) => {
                let i = ((e.3 - 12) * 8 + n) as usize;
                match (c.lrs.get_mut(i), w) {
                    (Some(lr), None) => Outcome::Read(*lr),
                    (Some(lr), Some(v)) => {
                        *lr = v & !(0x3f << 42); // RES0 [47:42]
                        Outcome::Written
                    }
                    (None, _) => Outcome::Undefined,
                }
            }
            ((3, 4, 12, 8 | 9, _), None) => Outcome::Read(0), // other AP registers
            ((3, 4, 12, 8 | 9, _), Some(_)) => Outcome::Written,
            _ => Outcome::Undefined,
        }
    }

    /// Acknowledge (IAR): the highest-priority pending interrupt of the group becomes
    /// active and its group priority active; 1023 when none can be taken.
    fn ack(&mut self, core: usize, virt: bool, group1: bool) -> u32 {
        if virt {
            let c = &self.cpus[core];
            let Some((i, p, g1)) = self.virtual_hppi(c) else {
                return SPURIOUS;
            };
            let vpmr = ((c.ich_vmcr >> 24) & 0xff) as u8 & PRI_MASK;
            let vrpr = if c.ich_apr == 0 {
                IDLE
            } else {
                (c.ich_apr.trailing_zeros() as u8) << 3
            };
            if g1 != group1 || p >= vpmr || p >= vrpr {
                return SPURIOUS;
            }
            let c = &mut self.cpus[core];
            let lr = &mut c.lrs[i];
            *lr = (*lr & !(3 << LR_STATE_SHIFT)) | LR_ACTIVE << LR_STATE_SHIFT;
            c.ich_apr |= 1 << (p >> 3);
            let id = lr_vintid(c.lrs[i]);
            self.log(Event::Acknowledge {
                core,
                intid: id,
                virt: true,
            });
            return id;
        }
        let Some((id, p, g1)) = self.hppi(core) else {
            return SPURIOUS;
        };
        let c = &self.cpus[core];
        let enabled = if g1 { c.igrpen1 } else { c.igrpen0 };
        let bpr = if g1 { c.bpr1 } else { c.bpr0 };
        if g1 != group1
            || !enabled
            || p >= (c.pmr & PRI_MASK)
            || group_priority(p, bpr) >= Self::running_priority(c)
        {
            return SPURIOUS;
        }
        if let Some(i) = self.irq(core, id) {
            i.active = true;
            i.pending = false;
        }
        let gp = group_priority(p, bpr);
        self.cpus[core].apr |= 1 << (gp >> 3);
        self.log(Event::Acknowledge {
            core,
            intid: id,
            virt: false,
        });
        id
    }

    /// EOI: drop the running priority; with EOImode 0 also deactivate the INTID.
    fn eoi(&mut self, core: usize, intid: u32, virt: bool) -> Outcome {
        if virt {
            let c = &mut self.cpus[core];
            if c.ich_apr != 0 {
                c.ich_apr &= c.ich_apr - 1; // clear the highest active priority
            }
            self.log(Event::Eoi {
                core,
                intid,
                virt: true,
            });
            if self.cpus[core].ich_vmcr & (1 << 9) == 0 {
                self.virtual_deactivate(core, intid);
            }
            return Outcome::Written;
        }
        let c = &mut self.cpus[core];
        if c.apr != 0 {
            c.apr &= c.apr - 1;
        }
        self.log(Event::Eoi {
            core,
            intid,
            virt: false,
        });
        if !self.cpus[core].eoimode {
            self.deactivate(core, intid);
        }
        Outcome::Written
    }

    fn dir(&mut self, core: usize, intid: u32, virt: bool) -> Outcome {
        if virt {
            self.virtual_deactivate(core, intid);
        } else {
            self.deactivate(core, intid);
        }
        Outcome::Written
    }

    fn deactivate(&mut self, core: usize, intid: u32) {
        if let Some(i) = self.irq(core, intid) {
            i.active = false;
            self.log(Event::Deactivate {
                core,
                intid,
                virt: false,
            });
        }
    }

    /// Deactivate the list register holding `intid`: an LR with HW = 1 deactivates
    /// its physical INTID too; none holding it counts in ICH_HCR_EL2.EOIcount.
    fn virtual_deactivate(&mut self, core: usize, intid: u32) {
        let c = &mut self.cpus[core];
        let found = c
            .lrs
            .iter()
            .position(|lr| lr_vintid(*lr) == intid && lr_state(*lr) & LR_ACTIVE != 0);
        match found {
            Some(i) => {
                let lr = c.lrs[i];
                c.lrs[i] = lr & !(LR_ACTIVE << LR_STATE_SHIFT);
                let hw = lr & LR_HW != 0;
                self.log(Event::Deactivate {
                    core,
                    intid,
                    virt: true,
                });
                if hw {
                    self.deactivate(core, lr_pintid(lr));
                }
            }
            None => {
                let count = ((c.ich_hcr >> 27) + 1) & 0x1f;
                c.ich_hcr = (c.ich_hcr & 0x07ff_ffff) | count << 27;
            }
        }
    }

    /// ICC_SGI1R_EL1: INTID [27:24], IRM [40], Aff3 [55:48], Aff2 [39:32], Aff1
    /// [23:16], TargetList [15:0] (Aff0 values).
    fn sgi(&mut self, from: usize, v: u64) {
        let intid = ((v >> 24) & 0xf) as u32;
        let irm = v & (1 << 40) != 0;
        let aff321 = ((v >> 48) & 0xff) << 32 | ((v >> 32) & 0xff) << 16 | ((v >> 16) & 0xff) << 8;
        for core in 0..self.cpus.len() {
            let a = self.cpus[core].affinity;
            let hit = if irm {
                core != from
            } else {
                let mine = (a >> 32 & 0xff) << 32 | (a >> 16 & 0xff) << 16 | (a >> 8 & 0xff) << 8;
                mine == aff321 && (v & 0xffff) & (1 << (a & 0xf)) != 0 && (a & 0xff) < 16
            };
            if hit {
                self.cpus[core].private[intid as usize].pending = true;
                self.log(Event::Line {
                    core,
                    intid,
                    level: true,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IAR1: Enc = (3, 0, 12, 12, 0);
    const EOIR1: Enc = (3, 0, 12, 12, 1);
    const DIR: Enc = (3, 0, 12, 11, 1);
    const PMR: Enc = (3, 0, 4, 6, 0);
    const IGRPEN1: Enc = (3, 0, 12, 12, 7);
    const CTLR: Enc = (3, 0, 12, 12, 4);
    const RPR: Enc = (3, 0, 12, 11, 3);
    const SGI1R: Enc = (3, 0, 12, 11, 5);
    const ICH_HCR: Enc = (3, 4, 12, 11, 0);
    const ICH_VMCR: Enc = (3, 4, 12, 11, 7);
    const ICH_LR0: Enc = (3, 4, 12, 12, 0);
    const ICH_MISR: Enc = (3, 4, 12, 11, 2);
    const ICH_EISR: Enc = (3, 4, 12, 11, 3);
    const ICH_ELRSR: Enc = (3, 4, 12, 11, 5);

    /// One core at affinity 0, the distributor and CPU interface enabled for group 1,
    /// PMR open.
    fn gic() -> Gic {
        let mut g = Gic::new(&[0x8000_0000]);
        g.mmio_write(GICD_BASE, 4, 0b10);
        g.sysreg(0, PMR, 2, false, Some(0xff));
        g.sysreg(0, IGRPEN1, 2, false, Some(1));
        g
    }

    fn sgi_frame(off: u64) -> u64 {
        GICR_BASE + 0x1_0000 + off
    }

    /// Configure a PPI/SGI as group 1, enabled, with `prio`.
    fn setup_private(g: &mut Gic, intid: u32, prio: u8) {
        let bit = 1u64 << intid;
        let group = g.mmio_read(sgi_frame(0x080), 4);
        g.mmio_write(sgi_frame(0x080), 4, group | bit);
        g.mmio_write(sgi_frame(0x100), 4, bit);
        g.mmio_write(sgi_frame(0x400 + intid as u64), 1, prio as u64);
    }

    fn read(g: &mut Gic, e: Enc) -> u64 {
        match g.sysreg(0, e, 2, false, None) {
            Outcome::Read(v) => v,
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn a_level_ppi_signals_is_acknowledged_and_re_pends_while_its_line_is_high() {
        let mut g = gic();
        setup_private(&mut g, 26, 0x80);
        assert!(!g.signals(0).irq);
        g.set_ppi(0, 26, true);
        assert!(g.signals(0).irq);
        assert_eq!(read(&mut g, IAR1), 26);
        assert!(!g.signals(0).irq, "active: not signalled again");
        assert_eq!(read(&mut g, RPR), 0x80);
        g.sysreg(0, EOIR1, 2, false, Some(26));
        assert_eq!(read(&mut g, RPR), 0xff);
        assert!(g.signals(0).irq, "the line is still high: pending again");
        g.set_ppi(0, 26, false);
        assert!(!g.signals(0).irq);
        assert_eq!(read(&mut g, IAR1), SPURIOUS as u64);
    }

    #[test]
    fn edge_interrupts_latch_and_stay_pending_after_the_line_drops() {
        let mut g = gic();
        setup_private(&mut g, 20, 0x40);
        g.mmio_write(sgi_frame(0xc04), 4, 0b10 << ((20 - 16) * 2)); // PPI 20 edge
        g.set_ppi(0, 20, true);
        g.set_ppi(0, 20, false);
        assert!(g.signals(0).irq);
        assert_eq!(read(&mut g, IAR1), 20);
    }

    #[test]
    fn pmr_masks_and_a_higher_priority_preempts_an_active_one() {
        let mut g = gic();
        setup_private(&mut g, 26, 0x80);
        setup_private(&mut g, 27, 0x40);
        g.sysreg(0, PMR, 2, false, Some(0x80));
        g.set_ppi(0, 26, true);
        assert!(
            !g.signals(0).irq,
            "priority 0x80 is not higher than PMR 0x80"
        );
        g.sysreg(0, PMR, 2, false, Some(0xf0));
        assert_eq!(read(&mut g, IAR1), 26);
        g.set_ppi(0, 27, true);
        assert!(g.signals(0).irq, "0x40 preempts running priority 0x80");
        assert_eq!(read(&mut g, IAR1), 27);
        assert_eq!(read(&mut g, RPR), 0x40);
        g.sysreg(0, EOIR1, 2, false, Some(27));
        assert_eq!(read(&mut g, RPR), 0x80, "back to the preempted priority");
    }

    #[test]
    fn equal_priority_does_not_preempt_and_binary_point_groups_priorities() {
        let mut g = gic();
        setup_private(&mut g, 26, 0x80);
        setup_private(&mut g, 27, 0x88);
        g.set_ppi(0, 26, true);
        assert_eq!(read(&mut g, IAR1), 26);
        g.set_ppi(0, 27, true);
        assert!(!g.signals(0).irq, "0x88 is lower priority than 0x80");
        // With BPR1 = 4, 0x80 and 0x88 share group priority 0x80: still no preemption
        // of a lower sub-priority by a higher one of the same group.
        g.sysreg(0, (3, 0, 12, 12, 3), 2, false, Some(4));
        assert!(!g.signals(0).irq);
    }

    #[test]
    fn eoimode_1_splits_priority_drop_and_deactivation() {
        let mut g = gic();
        setup_private(&mut g, 26, 0x80);
        g.sysreg(0, CTLR, 2, false, Some(0b10));
        g.set_ppi(0, 26, true);
        assert_eq!(read(&mut g, IAR1), 26);
        g.set_ppi(0, 26, false);
        g.sysreg(0, EOIR1, 2, false, Some(26));
        assert_eq!(read(&mut g, RPR), 0xff, "priority dropped");
        assert_ne!(
            g.mmio_read(sgi_frame(0x300), 4) & (1 << 26),
            0,
            "still active"
        );
        g.sysreg(0, DIR, 2, false, Some(26));
        assert_eq!(
            g.mmio_read(sgi_frame(0x300), 4) & (1 << 26),
            0,
            "deactivated by DIR"
        );
    }

    #[test]
    fn sgi_to_self_and_spi_routing() {
        let mut g = Gic::new(&[0x8000_0000, 0x8000_0001]);
        g.mmio_write(GICD_BASE, 4, 0b10);
        for core in 0..2 {
            g.sysreg(core, PMR, 2, false, Some(0xff));
            g.sysreg(core, IGRPEN1, 2, false, Some(1));
        }
        setup_private(&mut g, 3, 0x10);
        g.sysreg(0, SGI1R, 2, false, Some(3 << 24 | 1)); // target list: Aff0 = 0
        assert_eq!(read(&mut g, IAR1), 3);
        // SPI 40 routed to core 1 only.
        g.mmio_write(GICD_BASE + 0x84, 4, 1 << 8); // IGROUPR1: INTID 40
        g.mmio_write(GICD_BASE + 0x104, 4, 1 << 8); // ISENABLER1
        g.mmio_write(GICD_BASE + 0x6000 + 40 * 8, 8, 1);
        g.set_spi(40, true);
        assert!(!g.signals(0).irq || read(&mut g, IAR1) != 40);
        assert!(g.signals(1).irq);
        // The last redistributor says so.
        assert_eq!(g.mmio_read(GICR_BASE + 0x8, 8) & 0x10, 0);
        assert_eq!(g.mmio_read(GICR_BASE + GICR_STRIDE + 0x8, 8) & 0x10, 0x10);
    }

    #[test]
    fn waker_and_ids() {
        let mut g = gic();
        assert_eq!(g.mmio_read(GICR_BASE + 0x14, 4), 0b110);
        g.mmio_write(GICR_BASE + 0x14, 4, 0);
        assert_eq!(
            g.mmio_read(GICR_BASE + 0x14, 4),
            0,
            "awake: ChildrenAsleep clears"
        );
        assert_eq!(g.mmio_read(GICD_BASE + 0xffe8, 4) >> 4 & 0xf, 3, "GICv3");
        assert_eq!(g.mmio_read(GICD_BASE + 4, 4) & 0x1f, 31);
    }

    #[test]
    fn a_list_register_injects_a_virtual_irq_that_eoi_deactivates_with_its_physical() {
        let mut g = gic();
        setup_private(&mut g, 27, 0x80);
        g.set_ppi(0, 27, true);
        assert_eq!(read(&mut g, IAR1), 27); // the hypervisor takes the physical timer
        g.sysreg(0, ICH_HCR, 2, false, Some(1)); // En
        g.sysreg(0, ICH_VMCR, 2, false, Some(0xf8 << 24 | 0b10)); // VPMR, VENG1
        let lr = LR_PENDING << 62 | LR_HW | LR_GROUP | 0xa0 << 48 | 27 << 32 | 27;
        g.sysreg(0, ICH_LR0, 2, false, Some(lr));
        assert!(g.signals(0).virq);
        assert_eq!(
            g.sysreg(0, IAR1, 1, true, None),
            Outcome::Read(27),
            "ICV_IAR1_EL1"
        );
        assert!(!g.signals(0).virq);
        g.sysreg(0, EOIR1, 1, true, Some(27));
        assert_eq!(
            g.sysreg(0, ICH_LR0, 2, false, None),
            Outcome::Read(lr & !(3 << 62))
        );
        assert_eq!(
            g.mmio_read(sgi_frame(0x300), 4) & (1 << 27),
            0,
            "HW: physical deactivated"
        );
        assert_eq!(read(&mut g, ICH_ELRSR) & 1, 1, "LR 0 is empty");
    }

    #[test]
    fn maintenance_interrupt_on_eoi_with_the_eoi_bit_and_on_underflow() {
        let mut g = gic();
        g.sysreg(0, ICH_HCR, 2, false, Some(1));
        g.sysreg(0, ICH_VMCR, 2, false, Some(0xf8 << 24 | 0b10));
        let lr = LR_PENDING << 62 | LR_EOI | LR_GROUP | 0x80 << 48 | 40;
        g.sysreg(0, ICH_LR0, 2, false, Some(lr));
        assert!(!g.maintenance(0));
        assert_eq!(g.sysreg(0, IAR1, 1, true, None), Outcome::Read(40));
        g.sysreg(0, EOIR1, 1, true, Some(40));
        assert_eq!(read(&mut g, ICH_EISR), 1);
        assert_eq!(read(&mut g, ICH_MISR) & 1, 1, "MISR.EOI");
        assert!(g.maintenance(0));
        g.sysreg(0, ICH_LR0, 2, false, Some(0));
        assert!(!g.maintenance(0));
        g.sysreg(0, ICH_HCR, 2, false, Some(0b11)); // En, UIE
        assert!(g.maintenance(0), "underflow: no more than one valid LR");
        // An EOI with no matching LR counts in EOIcount.
        g.sysreg(0, EOIR1, 1, true, Some(99));
        assert_eq!(read(&mut g, ICH_HCR) >> 27, 1);
    }

    #[test]
    fn out_of_range_intids_and_odd_offsets_are_ignored() {
        let mut g = gic();
        g.set_spi(5000, true);
        g.set_ppi(0, 3, true); // SGIs have no line
        g.mmio_write(GICD_BASE + 0x9999, 2, 0xffff);
        assert_eq!(g.mmio_read(GICD_BASE + 0x9999, 2), 0);
        g.sysreg(0, EOIR1, 2, false, Some(0xffff_ffff));
        assert_eq!(read(&mut g, IAR1), SPURIOUS as u64);
        assert_eq!(g.sysreg(0, ICH_HCR, 1, false, None), Outcome::Undefined);
    }
}
