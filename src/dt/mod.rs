// SPDX-License-Identifier: GPL-2.0-only
//! What setup needs from the device tree, read and checked in one place: memory banks,
//! reserved memory (/memreserve/ and /reserved-memory), the static heap banks
//! (`/chosen/xen,static-heap`), the console (`/chosen/stdout-path`), the devices rxen
//! reads (the console, the GIC) and the command line. Every `reg` is translated
//! through the `ranges` of its parent buses to a CPU physical address. Every rule
//! broken is a `DtError` naming the node, the property and the ranges.
//! Pure: it reads a byte slice and touches nothing else (it never maps memory).
pub mod domains;
pub mod fdt;
pub mod writer;

use crate::bounded::Bounded;
use crate::mm::range::subtract;
use crate::mm::{PhysRange, PAGE_SIZE};
use core::mem::MaybeUninit;
use core::slice;
use fdt::PropValues;
pub use fdt::{Fdt, FdtError, Node, StringError};

/// The most memory banks rxen keeps.
pub const MAX_BANKS: usize = 16;
/// The most `xen,static-heap` banks rxen keeps.
pub const MAX_HEAPS: usize = 8;
/// The most reserved ranges (/memreserve/ entries and /reserved-memory nodes).
pub const MAX_RESERVED: usize = 32;
/// The most device register ranges rxen checks against RAM.
pub const MAX_DEVICES: usize = 16;
/// The largest gap between a GIC's distributor and its redistributors that
/// `BootInfo::gic_window` covers with one region.
pub const GIC_GAP_MAX: u64 = 16 << 20;
/// The PL011 registers the console driver uses: one 4 KiB block from the base. A tree
/// may give the device more (the FVP's published trees give each PL011 64 KiB).
pub const PL011_REGS: u64 = 0x1000;

/// The compatibles `parse` looks for, matched in one pass over each node's list: the
/// interrupt controllers and memory-mapped timers whose `reg` rxen reads (and checks
/// against RAM; the console is added from stdout-path), then the architected timer.
const COMPATIBLES: fdt::StrSet<5> = fdt::StrSet::new([
    "arm,gic-v3",
    "arm,gic-400",
    "arm,cortex-a15-gic",
    "arm,armv7-timer-mem",
    "arm,armv8-timer",
]);
/// Bits of `fdt::list_match_set(_, &COMPATIBLES)`.
const GIC_V3: u32 = 1 << 0;
const DEVICES: u32 = 0b1111;
const ARMV8_TIMER: u32 = 1 << 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DtError<'a> {
    #[error(transparent)]
    Fdt(#[from] FdtError),
    #[error("device tree: {node}: #address-cells = {address}, #size-cells = {size} (rxen reads 1 or 2 cells)")]
    BadCells {
        node: &'a str,
        address: u32,
        size: u32,
    },
    #[error("device tree: {node}: reg is not a whole number of (address, size) pairs")]
    BadReg { node: &'a str },
    #[error("device tree: {node}: reg {addr:#x} + {size:#x} wraps around the address space")]
    RegWraps { node: &'a str, addr: u64, size: u64 },
    #[error("device tree: {node}: reg cannot be translated: its bus {bus} has no ranges property (devicetree spec 2.3.8: no translation)")]
    NoRanges { node: &'a str, bus: &'a str },
    #[error("device tree: {bus}: ranges is not a whole number of (child, parent, size) triples")]
    BadRanges { bus: &'a str },
    #[error(
        "device tree: {node}: reg {regs} (bus address) is in none of the ranges of its bus {bus}"
    )]
    NotInRanges {
        node: &'a str,
        regs: PhysRange,
        bus: &'a str,
    },
    #[error("device tree: {node}: reg {regs} (bus address) runs past the end of the range {window} of its bus {bus}")]
    PartlyInRange {
        node: &'a str,
        regs: PhysRange,
        bus: &'a str,
        window: PhysRange,
    },
    #[error("device tree: no memory node (device_type = \"memory\", status okay)")]
    NoMemory,
    #[error("device tree: memory bank {bank} is empty")]
    EmptyBank { bank: PhysRange },
    #[error("device tree: memory banks {a} and {b} overlap")]
    OverlappingBanks { a: PhysRange, b: PhysRange },
    #[error("device tree: memory bank {bank} is beyond the {pa_bits}-bit physical address range")]
    BankBeyondPhys { bank: PhysRange, pa_bits: u8 },
    #[error("device tree: more than {MAX_BANKS} memory banks")]
    TooManyBanks,
    #[error("device tree: memory bank {bank} overlaps the registers {regs} of {device}")]
    DeviceInRam {
        bank: PhysRange,
        device: &'a str,
        regs: PhysRange,
    },
    #[error(
        "device tree: /memreserve/ entry {addr:#x} + {size:#x} wraps around the address space"
    )]
    BadMemReserve { addr: u64, size: u64 },
    #[error("device tree: more than {MAX_RESERVED} reserved memory ranges")]
    TooManyReserved,
    #[error("device tree: more than {MAX_DEVICES} device register ranges")]
    TooManyDevices,
    #[error("device tree: /chosen has no xen,static-heap (rxen needs at least one heap bank)")]
    NoStaticHeap,
    #[error("device tree: xen,static-heap bank {heap} is not a non-empty, 4 KiB aligned range")]
    BadStaticHeap { heap: PhysRange },
    #[error(
        "device tree: xen,static-heap is not a whole, non-empty list of (address, size) pairs"
    )]
    BadStaticHeapList,
    #[error("device tree: more than {MAX_HEAPS} xen,static-heap banks")]
    TooManyHeaps,
    #[error("device tree: static heap {heap} is not inside one memory bank (after rounding banks inward to 4 KiB)")]
    HeapOutsideMemory { heap: PhysRange },
    #[error("device tree: static heap {heap} overlaps the {what} at {range}")]
    HeapOverlaps {
        heap: PhysRange,
        what: &'a str,
        range: PhysRange,
    },
    #[error("device tree: the {what} at {range} overlaps reserved memory {name} at {reserved}")]
    OverlapsReserved {
        what: &'a str,
        range: PhysRange,
        name: &'a str,
        reserved: PhysRange,
    },
    #[error("device tree: {node}: interrupts gives the hypervisor timer PPI {ppi}: a PPI (type 1) is numbered 0..15 (GIC binding)")]
    BadTimerPpi { node: &'a str, ppi: u32 },
    #[error("device tree: {node}: {prop} {why}")]
    BadString {
        node: &'a str,
        prop: &'a str,
        why: StringError,
    },
    #[error("device tree: stdout-path {path:?} names no node")]
    StdoutMissing { path: &'a str },
    #[error("device tree: console {path} is not an arm,pl011 UART with a reg")]
    ConsoleNotPl011 { path: &'a str },
    #[error("device tree: console {path}: reg {regs} is smaller than the {PL011_REGS:#x}-byte PL011 register block")]
    ConsoleTooSmall { path: &'a str, regs: PhysRange },
}

/// The console the device tree chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Console<'a> {
    pub path: &'a str,
    /// The device's whole range, as the tree gives it, translated.
    pub regs: PhysRange,
}

impl Console<'_> {
    /// The registers the driver uses (the first 4 KiB of `regs`): what rxen maps.
    pub fn driver_window(&self) -> PhysRange {
        PhysRange::new(self.regs.start, self.regs.start + PL011_REGS)
    }
}

/// A memory bank: its range as the tree gives it, and the whole 4 KiB pages inside it
/// that rxen may use (`ram`, empty when the bank holds no whole page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bank {
    pub reg: PhysRange,
    pub ram: PhysRange,
}

/// Memory that nothing of rxen's may use: a /memreserve/ entry or a /reserved-memory
/// node. `no_map` ranges are never mapped either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reserved<'a> {
    /// The node's name, or "/memreserve/".
    pub name: &'a str,
    pub range: PhysRange,
    pub no_map: bool,
}

/// A device register range rxen reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device<'a> {
    pub name: &'a str,
    pub regs: PhysRange,
}

/// Which /chosen property rxen's command line came from (Xen's rules, see `parse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineFrom {
    XenBootargs,
    Bootargs,
    /// Neither: `bootargs`, if present, is the (absent) dom0's.
    Nothing,
}

/// Everything setup takes from the device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfo<'a> {
    banks: Bounded<Bank, MAX_BANKS>,
    heaps: Bounded<PhysRange, MAX_HEAPS>,
    reserved: Bounded<Reserved<'a>, MAX_RESERVED>,
    devices: Bounded<Device<'a>, MAX_DEVICES>,
    pub console: Option<Console<'a>>,
    /// stdout-path named this node, but it (or a bus above it) is disabled.
    pub disabled_console: Option<&'a str>,
    pub bootargs: &'a str,
    pub bootargs_from: CmdlineFrom,
    /// `bootargs` that Xen's rules give to dom0, not to rxen (for a warning).
    pub dom0_bootargs: Option<&'a str>,
    /// The GICv3 ("arm,gic-v3"): distributor and redistributor ranges (CPU addresses).
    pub gic: Option<(PhysRange, PhysRange)>,
    /// The EL2 physical timer's INTID: the fourth interrupt of the "arm,armv8-timer"
    /// node (a PPI: 16 + its number), as Xen and Linux read it.
    pub hyp_timer_intid: Option<u32>,
}

impl Default for BootInfo<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> BootInfo<'a> {
    /// Nothing read yet: what `parse_into` fills. Built in place at run time (the
    /// lists' unused slots are left uninitialised: nothing to copy).
    pub const fn new() -> Self {
        Self {
            banks: Bounded::new(),
            heaps: Bounded::new(),
            reserved: Bounded::new(),
            devices: Bounded::new(),
            console: None,
            disabled_console: None,
            bootargs: "",
            bootargs_from: CmdlineFrom::Nothing,
            dom0_bootargs: None,
            gic: None,
            hyp_timer_intid: None,
        }
    }

    pub fn banks(&self) -> &[Bank] {
        self.banks.as_slice()
    }

    /// The usable RAM of each bank: whole pages only; banks without one are left out.
    pub fn ram(&self) -> impl Iterator<Item = PhysRange> + '_ {
        self.banks().iter().map(|b| b.ram).filter(|r| !r.is_empty())
    }

    pub fn static_heaps(&self) -> &[PhysRange] {
        self.heaps.as_slice()
    }

    pub fn reserved(&self) -> &[Reserved<'a>] {
        self.reserved.as_slice()
    }

    pub fn devices(&self) -> &[Device<'a>] {
        self.devices.as_slice()
    }

    /// The GIC's registers as one range for one EL2 MPU region: the distributor, the
    /// redistributors and the gap between them, page-aligned, when the gap is at most
    /// `GIC_GAP_MAX` and the span holds no memory bank, no reserved memory and no
    /// device rxen reads other than the GIC's own frames. None when there is no GICv3
    /// or the span is not clear: the two ranges are then mapped on their own. rxen
    /// never touches the gap (EL2-only device memory, never accessed speculatively)
    /// and guests cannot reach it, so the GIC costs one region instead of two. (A
    /// device rxen does not read could sit in the gap; the bound keeps that to the
    /// GIC's own neighbourhood, where SoCs put the GIC's other frames.) The GIC's own
    /// ranges are those whose name is the very string its distributor's entry holds
    /// (the node's name in the blob), not merely an equal one.
    pub fn gic_window(&self) -> Option<PhysRange> {
        let (gicd, gicr) = self.gic?;
        let (lo, hi) = if gicd.start <= gicr.start {
            (gicd, gicr)
        } else {
            (gicr, gicd)
        };
        if hi.start.saturating_sub(lo.end) > GIC_GAP_MAX {
            return None;
        }
        let span = PhysRange::new(lo.start, lo.end.max(hi.end)).page_aligned();
        let gic_name = self
            .devices()
            .iter()
            .find(|d| d.regs == gicd)
            .map(|d| d.name);
        let clear = !self.banks().iter().any(|b| b.reg.overlaps(&span))
            && !self.reserved().iter().any(|r| r.range.overlaps(&span))
            && !self.devices().iter().any(|d| {
                !gic_name.is_some_and(|g| core::ptr::eq(d.name, g)) && d.regs.overlaps(&span)
            });
        clear.then_some(span)
    }

    /// The RAM rxen may map: every bank's whole pages minus the no-map reserved ranges
    /// (rounded out to whole pages), in order, each piece passed to `f`.
    pub fn mappable_ram(&self, mut f: impl FnMut(PhysRange)) {
        // A `Bounded` list: its unused slots are not filled first.
        let mut holes = Bounded::<PhysRange, MAX_RESERVED>::new();
        for r in self.reserved().iter().filter(|r| r.no_map) {
            // Cannot fail: `reserved` is a list of at most MAX_RESERVED too.
            let pushed = holes.push(r.range.page_aligned());
            debug_assert!(pushed.is_ok(), "holes has room for every reserved range");
        }
        for ram in self.ram() {
            subtract(ram, holes.as_slice(), &mut f);
        }
    }
}

/// (#address-cells, #size-cells) that `node` sets for its children.
fn cells<'a>(node: &Node<'a>) -> Result<(u32, u32), DtError<'a>> {
    let [address, size] = node.props_of(["#address-cells", "#size-cells"]);
    check_cells(node, raw_cells(address, size))
}

/// #address-cells and #size-cells as a node sets them (2 and 1 when absent or not one
/// cell), not yet checked.
#[inline(always)]
fn raw_cells(address: Option<&[u8]>, size: Option<&[u8]>) -> (u32, u32) {
    let u32_of = |v: Option<&[u8]>| v.filter(|v| v.len() == 4).and_then(fdt::one_cell);
    (u32_of(address).unwrap_or(2), u32_of(size).unwrap_or(1))
}

/// The cells `node` sets, when rxen reads them (1 or 2 each).
fn check_cells<'a>(
    node: &Node<'a>,
    (address, size): (u32, u32),
) -> Result<(u32, u32), DtError<'a>> {
    if !(1..=2).contains(&address) || !(1..=2).contains(&size) {
        return Err(DtError::BadCells {
            node: display_name(node),
            address,
            size,
        });
    }
    Ok((address, size))
}

fn display_name<'a>(node: &Node<'a>) -> &'a str {
    if node.name().is_empty() {
        "/"
    } else {
        node.name()
    }
}

/// The (address, size) pairs of a reg-like property.
fn reg_pairs<'a>(
    value: &'a [u8],
    (ac, sc): (u32, u32),
    node: &'a str,
) -> Result<RegPairs<'a>, DtError<'a>> {
    let pair = 4 * (ac + sc) as usize;
    if value.is_empty() || !value.len().is_multiple_of(pair) {
        return Err(DtError::BadReg { node });
    }
    Ok(RegPairs {
        value,
        off: 0,
        pair,
        ac,
        sc,
    })
}

/// The pairs of `reg_pairs`: what `value.chunks_exact(pair)` gives, each read as
/// (address, size). Its own iterator, so that each caller's loop has it inline.
struct RegPairs<'a> {
    value: &'a [u8],
    off: usize,
    pair: usize,
    ac: u32,
    sc: u32,
}

impl Iterator for RegPairs<'_> {
    type Item = (u64, u64);

    #[inline(always)]
    fn next(&mut self) -> Option<(u64, u64)> {
        let c = self.value.get(self.off..)?.get(..self.pair)?;
        self.off += self.pair;
        let mut i = 0;
        // Cannot fail: the chunk holds exactly ac + sc cells of 1 or 2 each.
        let a = fdt::read_cells(c, &mut i, self.ac).unwrap_or(0);
        let s = fdt::read_cells(c, &mut i, self.sc).unwrap_or(0);
        Some((a, s))
    }
}

/// Translate `(addr, size)`, in the address space of `chain`'s last node (the parent
/// of `node`), to a CPU physical range through the `ranges` of every bus up to the
/// root (devicetree spec 2.3.8): an empty `ranges` is identity, an absent one means
/// the bus's children have no CPU address, and the whole range must fall in one
/// window of each bus.
pub fn translate<'a>(
    chain: &[Node<'a>],
    node: &'a str,
    addr: u64,
    size: u64,
) -> Result<PhysRange, DtError<'a>> {
    let mut r = PhysRange::from_size(addr, size).ok_or(DtError::RegWraps { node, addr, size })?;
    for i in (1..chain.len()).rev() {
        let (bus, parent) = (&chain[i], &chain[i - 1]);
        let bus_name = display_name(bus);
        let ranges = bus.prop("ranges").ok_or(DtError::NoRanges {
            node,
            bus: bus_name,
        })?;
        if ranges.is_empty() {
            continue;
        }
        let (cac, csc) = cells(bus)?;
        let (pac, _) = cells(parent)?;
        let triple = 4 * (cac + pac + csc) as usize;
        if !ranges.len().is_multiple_of(triple) {
            return Err(DtError::BadRanges { bus: bus_name });
        }
        let mut hit = None;
        for t in ranges.chunks_exact(triple) {
            let mut j = 0;
            // Cannot fail: the chunk holds exactly cac + pac + csc cells.
            let child = fdt::read_cells(t, &mut j, cac).unwrap_or(0);
            let to = fdt::read_cells(t, &mut j, pac).unwrap_or(0);
            let len = fdt::read_cells(t, &mut j, csc).unwrap_or(0);
            let Some(window) = PhysRange::from_size(child, len) else {
                return Err(DtError::BadRanges { bus: bus_name });
            };
            if !window.contains(r.start) {
                continue;
            }
            if r.end > window.end {
                return Err(DtError::PartlyInRange {
                    node,
                    regs: r,
                    bus: bus_name,
                    window,
                });
            }
            let start = to.checked_add(r.start - child);
            hit = start.and_then(|s| PhysRange::from_size(s, r.size()));
            if hit.is_none() {
                return Err(DtError::BadRanges { bus: bus_name });
            }
            break;
        }
        r = hit.ok_or(DtError::NotInRanges {
            node,
            regs: r,
            bus: bus_name,
        })?;
    }
    Ok(r)
}

/// Every `reg` range of a node (named `name`, whose ancestors are `chain`, the parent
/// last, setting `parent_cells`), translated.
fn regs_of<'a>(
    chain: &[Node<'a>],
    name: &'a str,
    reg: Option<&'a [u8]>,
    parent_cells: (u32, u32),
    mut f: impl FnMut(PhysRange, u64) -> Result<(), DtError<'a>>,
) -> Result<(), DtError<'a>> {
    let Some(reg) = reg else {
        return Ok(());
    };
    let cells = match chain.last() {
        Some(parent) => check_cells(parent, parent_cells)?,
        None => parent_cells,
    };
    for (a, s) in reg_pairs(reg, cells, name)? {
        f(translate(chain, name, a, s)?, s)?;
    }
    Ok(())
}

/// The properties `walk` reads for every node, in its one pass.
#[derive(Clone, Copy)]
struct Common<'a> {
    name: &'a str,
    device_type: Option<&'a [u8]>,
    /// `compatible` (empty when absent).
    compatible: &'a [u8],
    reg: Option<&'a [u8]>,
    interrupts: Option<&'a [u8]>,
    /// #address-cells and #size-cells of the parent, unchecked (see `regs_of`).
    parent_cells: (u32, u32),
    /// Whether the node's ancestor below the root is named `reserved-memory`.
    under_reserved: bool,
}

/// The properties of /chosen that `parse` reads, found in one pass over the node.
#[derive(Clone, Copy)]
struct Chosen<'a> {
    node: Node<'a>,
    xen_bootargs: Option<&'a [u8]>,
    dom0_bootargs: Option<&'a [u8]>,
    bootargs: Option<&'a [u8]>,
    stdout_path: Option<&'a [u8]>,
    linux_stdout_path: Option<&'a [u8]>,
    static_heap: Option<&'a [u8]>,
}

impl<'a> Chosen<'a> {
    /// A string property of /chosen (`prop` names it in an error), checked.
    fn string(&self, prop: &'a str, v: Option<&'a [u8]>) -> Result<Option<&'a str>, DtError<'a>> {
        v.map(fdt::one_string)
            .transpose()
            .map_err(|why| DtError::BadString {
                node: display_name(&self.node),
                prop,
                why,
            })
    }
}

/// What `walk` calls for each node: (its ancestors, the node, its common properties).
/// A trait bound, not `dyn`, as `fdt::NodeFn`.
trait NodeVisitor<'a>: FnMut(&[Node<'a>], &Node<'a>, &Common<'a>) -> Result<(), DtError<'a>> {}

impl<'a, F> NodeVisitor<'a> for F where
    F: FnMut(&[Node<'a>], &Node<'a>, &Common<'a>) -> Result<(), DtError<'a>>
{
}

/// The root's children that `parse` reads, found by `walk` as `Fdt::find` would (the
/// first one whose name matches, a unit address allowed; available or not).
#[derive(Clone, Copy, Default)]
struct TopNodes<'a> {
    /// The root's #address-cells and #size-cells, checked.
    root_cells: (u32, u32),
    chosen: Option<Chosen<'a>>,
    aliases: Option<Node<'a>>,
    reserved_memory: Option<Node<'a>>,
    /// `console_path`, when `walk` could read it early (see there).
    console_path: Option<Option<(&'a str, &'a str)>>,
    /// The console when it is a child of the root (see `walk`): `read_console` then
    /// needs no second search, nor a second read of its properties.
    console: Option<ConsoleNode<'a>>,
    /// The root's `status`, as `Node::prop` reads it.
    root_status: Option<&'a [u8]>,
    /// What `read_cmdline` reads of /chosen's children, when `walk` saw them all
    /// (/chosen is available): whether one is a `multiboot,kernel` with a non-empty
    /// `bootargs`, or the first such `bootargs` that is not one string (the child's
    /// name as errors give it, and why). None: not seen, `read_cmdline` lists them.
    kernel_args: Option<Result<bool, (&'a str, StringError)>>,
}

/// The console node as `walk` found it, with its absolute path and the properties
/// `read_console` reads (the first of each name, as `Node::props_of` gives them).
#[derive(Clone, Copy)]
struct ConsoleNode<'a> {
    path: &'a str,
    status: Option<&'a [u8]>,
    compatible: Option<&'a [u8]>,
    reg: Option<&'a [u8]>,
}

/// The properties `walk` reads of every node (`Fdt::visit` gives their values in this
/// order): those of `Common`, the timer's `interrupts`, and those of `Chosen`.
const PROPS: fdt::PropNameSet<13> = fdt::PropNameSet::new([
    "status",
    "device_type",
    "compatible",
    "reg",
    "#address-cells",
    "#size-cells",
    "interrupts",
    "xen,xen-bootargs",
    "xen,dom0-bootargs",
    "bootargs",
    "stdout-path",
    "linux,stdout-path",
    "xen,static-heap",
]);

/// Check the whole structure block and call `f(ancestors, node, common)` for every
/// available node below the root, depth first, in that one pass; a disabled node's
/// subtree is skipped (its children are not usable either). Fills `top` (which must be
/// `TopNodes::default()`) with the root's children `parse` needs. A malformed
/// structure block is its `FdtError`, whatever `f` returned before the walk reached
/// the fault.
#[inline(never)]
fn walk<'a>(
    fdt: &Fdt<'a>,
    top: &mut TopNodes<'a>,
    f: &mut impl NodeVisitor<'a>,
) -> Result<(), DtError<'a>> {
    // Not in `Walk`: they live here (building a `Walk` holding them copies them, a
    // memcpy call). Only the entries the walk has reached are written (`filled`):
    // filling all 33 of each up front costs more than the walk itself reads.
    let mut chain = [const { MaybeUninit::<Node<'a>>::uninit() }; fdt::MAX_DEPTH + 1];
    let mut cells = [const { MaybeUninit::<(u32, u32)>::uninit() }; fdt::MAX_DEPTH + 1];
    chain[0].write(fdt.root());
    cells[0].write((0, 0));
    let mut w = Walk {
        chain: &mut chain,
        cells: &mut cells,
        filled: 1,
        top,
        console_want: None,
        depth1_seen: 0,
        reserved_at_1: false,
        in_chosen: false,
        f,
    };
    fdt.visit(&PROPS, &mut |depth, node, name, v| {
        w.node(depth, node, name, v)
    })?;
    Ok(())
}

/// What `walk` keeps from node to node.
struct Walk<'a, 'r, F> {
    /// The ancestors of the node being read: the root first.
    chain: &'r mut [MaybeUninit<Node<'a>>; fdt::MAX_DEPTH + 1],
    /// The cells each node of the chain sets for its children.
    cells: &'r mut [MaybeUninit<(u32, u32)>; fdt::MAX_DEPTH + 1],
    /// `chain[..filled]` and `cells[..filled]` are written (the root's at the start,
    /// deeper ones as the walk first reaches their depth).
    filled: usize,
    top: &'r mut TopNodes<'a>,
    /// The console's path, once /chosen (and /aliases, for an alias) are read: set
    /// only when they were the first children of the root, so that no earlier child
    /// could be the one `find_with_ancestors` returns (it takes the first match).
    console_want: Option<(&'a str, &'a str)>,
    depth1_seen: usize,
    /// Whether `chain[1]` is named `reserved-memory`.
    reserved_at_1: bool,
    /// Whether `chain[1]` is /chosen (`top.chosen`).
    in_chosen: bool,
    f: &'r mut F,
}

impl<'a, F: NodeVisitor<'a>> Walk<'a, '_, F> {
    /// One node of `walk`, with the values of `PROPS`: whether to visit its subtree.
    #[inline(always)]
    fn node(
        &mut self,
        depth: usize,
        node: Node<'a>,
        name: &'a str,
        v: &PropValues<'a, 13>,
    ) -> Result<bool, DtError<'a>> {
        // Read one by one: destructuring the array copies all of it.
        let (status, device_type, compatible, reg) = (v[0], v[1], v[2], v[3]);
        let (ac, sc, interrupts) = (v[4], v[5], v[6]);
        if depth == 0 {
            let raw = raw_cells(ac, sc);
            self.top.root_cells = check_cells(&node, raw)?;
            self.top.root_status = status;
            self.cells[0].write(raw);
            return Ok(true);
        }
        if depth == 1 {
            if let Some((full, part)) = self.console_want {
                if self.top.console.is_none() && fdt::component_is(name, part) {
                    self.top.console = Some(ConsoleNode {
                        path: full,
                        status,
                        compatible,
                        reg,
                    });
                }
            }
            // (`component_is`: the name, or the name and a unit address.) The three
            // names start with different letters: only one can match.
            self.in_chosen = false;
            match name.as_bytes().first() {
                Some(b'c') if self.top.chosen.is_none() && fdt::component_is(name, "chosen") => {
                    self.in_chosen = true;
                    let [xen_bootargs, dom0_bootargs, bootargs, stdout_path, linux_stdout_path, static_heap] =
                        [v[7], v[8], v[9], v[10], v[11], v[12]];
                    self.top.chosen = Some(Chosen {
                        node,
                        xen_bootargs,
                        dom0_bootargs,
                        bootargs,
                        stdout_path,
                        linux_stdout_path,
                        static_heap,
                    });
                }
                Some(b'a') if self.top.aliases.is_none() && fdt::component_is(name, "aliases") => {
                    self.top.aliases = Some(node);
                }
                Some(b'r')
                    if self.top.reserved_memory.is_none()
                        && fdt::component_is(name, "reserved-memory") =>
                {
                    self.top.reserved_memory = Some(node);
                }
                _ => {}
            }
            self.depth1_seen += 1;
            let early = self.depth1_seen
                == self.top.chosen.is_some() as usize + self.top.aliases.is_some() as usize;
            // /chosen by reference: a copy of `Chosen` is a memcpy call.
            if let (true, None, Some(chosen)) =
                (early, self.top.console_path, self.top.chosen.as_ref())
            {
                // An error is left for `read_console` to report, in its turn.
                self.top.console_path = console_path(chosen, self.top.aliases).ok();
                // An alias not yet resolvable: try again once /aliases is read.
                if matches!(self.top.console_path, Some(Some((_, full))) if !full.starts_with('/'))
                    && self.top.aliases.is_none()
                {
                    self.top.console_path = None;
                }
                self.console_want = self.top.console_path.flatten().and_then(|(_, full)| {
                    let part = full.strip_prefix('/')?;
                    let seen = [self.top.chosen.as_ref().map(|c| c.node), self.top.aliases];
                    let one = !part.is_empty() && !part.contains('/');
                    let before = seen
                        .iter()
                        .flatten()
                        .any(|n| fdt::component_is(n.name(), part));
                    (one && !before).then_some((full, part))
                });
            }
        }
        if depth == 2 && self.in_chosen {
            // A child of /chosen, read as `read_cmdline` reads each (see there).
            if let Some(Ok(has)) = &mut self.top.kernel_args {
                if compatible.is_some_and(|c| fdt::list_has(c, "multiboot,kernel")) {
                    // (v[9]: `bootargs`.)
                    match v[9].map(fdt::one_string).transpose() {
                        Ok(a) => *has |= a.is_some_and(|a| !a.is_empty()),
                        Err(why) => {
                            self.top.kernel_args = Some(Err((display_name(&node), why)));
                        }
                    }
                }
            }
        }
        // (`depth > filled` cannot happen: a node is visited only below one whose
        // subtree was, which wrote its entry; checked, as the reads below rely on it.)
        if !fdt::status_ok(status) || depth > fdt::MAX_DEPTH || depth > self.filled {
            return Ok(false);
        }
        // SAFETY: `depth <= filled` (checked above), and `cells[..filled]` are written.
        let parent_cells = unsafe { self.cells[depth - 1].assume_init() };
        // SAFETY: `chain[..filled]` are written, and `depth <= filled` (checked above);
        // `MaybeUninit<Node>` has the layout of `Node`.
        let chain = unsafe { slice::from_raw_parts(self.chain.as_ptr().cast::<Node<'a>>(), depth) };
        let common = Common {
            name,
            device_type,
            compatible: compatible.unwrap_or(&[]),
            reg,
            interrupts,
            parent_cells,
            under_reserved: depth > 1 && self.reserved_at_1,
        };
        (self.f)(chain, &node, &common)?;
        if depth == 1 {
            self.reserved_at_1 = fdt::bytes_eq(name.as_bytes(), b"reserved-memory");
            // /chosen is available: the walk sees each of its children.
            if self.in_chosen {
                self.top.kernel_args = Some(Ok(false));
            }
        }
        self.chain[depth].write(node);
        self.cells[depth].write(raw_cells(ac, sc));
        self.filled = self.filled.max(depth + 1);
        Ok(true)
    }
}

fn string_prop<'a>(node: &Node<'a>, prop: &'a str) -> Result<Option<&'a str>, DtError<'a>> {
    node.prop_string(prop)
        .transpose()
        .map_err(|why| DtError::BadString {
            node: if node.name().is_empty() {
                "/"
            } else {
                node.name()
            },
            prop,
            why,
        })
}

/// Read and check the boot information. `image` is where rxen itself is loaded and
/// `dtb` where the blob is; `pa_bits` is the implemented physical address range.
pub fn parse<'a>(
    fdt: &Fdt<'a>,
    image: PhysRange,
    dtb: PhysRange,
    pa_bits: u8,
) -> Result<BootInfo<'a>, DtError<'a>> {
    let mut info = BootInfo::new();
    parse_into(fdt, image, dtb, pa_bits, &mut info)?;
    Ok(info)
}

/// `parse` into `info`, which must be `BootInfo::new()` (setup fills its own where it
/// lives: a `BootInfo` is about 2.5 KiB, and every move of one is a copy).
pub fn parse_into<'a>(
    fdt: &Fdt<'a>,
    image: PhysRange,
    dtb: PhysRange,
    pa_bits: u8,
    info: &mut BootInfo<'a>,
) -> Result<(), DtError<'a>> {
    read_boot_info(fdt, image, dtb, pa_bits, info).map(|_| ())
}

/// `Fdt::new(blob)` and `parse_into` in one pass over the structure block: the blob's
/// `Fdt` once both succeed, else the error the first that fails gives (a malformed
/// blob is its `FdtError`, whatever the tree holds). On an error, `info` holds
/// whatever was read before it, and must not be used.
pub fn parse_checked<'a>(
    blob: &'a [u8],
    image: PhysRange,
    dtb: PhysRange,
    pa_bits: u8,
    info: &mut BootInfo<'a>,
) -> Result<Fdt<'a>, DtError<'a>> {
    let fdt = Fdt::header(blob)?;
    // The walk checks the whole structure block before anything else reads the tree.
    let chosen = read_boot_info(&fdt, image, dtb, pa_bits, info)?;
    Ok(fdt.with_chosen(chosen))
}

/// `parse_into` on a blob whose header `Fdt::header` checked: `walk` checks the
/// structure block (again, for a `Fdt::new` one) before anything else reads it.
/// Returns /chosen, found as `Fdt::find` finds it (see `TopNodes`).
#[inline(never)]
fn read_boot_info<'a>(
    fdt: &Fdt<'a>,
    image: PhysRange,
    dtb: PhysRange,
    pa_bits: u8,
    info: &mut BootInfo<'a>,
) -> Result<Node<'a>, DtError<'a>> {
    let root = fdt.root();
    let limit = if pa_bits >= 64 {
        u64::MAX
    } else {
        1u64 << pa_bits
    };

    // Memory banks and the devices rxen reads, anywhere in the tree.
    let mut top = TopNodes::default();
    // The last `compatible` the walk matched against `COMPATIBLES`, and its bits.
    let mut last_compatible: (&[u8], u32) = (&[], 0);
    walk(fdt, &mut top, &mut |chain, _, common| {
        let (name, reg, cells) = (common.name, common.reg, common.parent_cells);
        // What `prop_str("device_type") == Some("memory")` reads, without a copy.
        let memory = common
            .device_type
            .is_some_and(|v| v.len() >= 7 && fdt::bytes_eq(&v[..7], b"memory\0"));
        if memory && !common.under_reserved {
            regs_of(chain, name, reg, cells, |bank, size| {
                if size == 0 {
                    return Err(DtError::EmptyBank { bank });
                }
                if bank.end > limit {
                    return Err(DtError::BankBeyondPhys { bank, pa_bits });
                }
                if let Some(other) = info.banks().iter().find(|b| b.reg.overlaps(&bank)) {
                    return Err(DtError::OverlappingBanks {
                        a: other.reg,
                        b: bank,
                    });
                }
                let mask = PAGE_SIZE - 1;
                let start = bank.start.checked_add(mask).map_or(u64::MAX, |s| s & !mask);
                let end = (bank.end & !mask).max(start);
                info.banks
                    .push(Bank {
                        reg: bank,
                        ram: PhysRange::new(start, end),
                    })
                    .map_err(|_| DtError::TooManyBanks)
            })?;
            return Ok(());
        }
        // Sibling devices often share a compatible (UARTs, CPUs): the last one's
        // match is kept, and a value equal to it is not scanned again.
        let found = if fdt::values_eq(common.compatible, last_compatible.0) {
            last_compatible.1
        } else {
            let found = fdt::list_match_set(common.compatible, &COMPATIBLES);
            last_compatible = (common.compatible, found);
            found
        };
        if found & DEVICES != 0 {
            let gic_v3 = found & GIC_V3 != 0;
            let mut k = 0;
            let mut gicd = PhysRange::new(0, 0);
            regs_of(chain, name, reg, cells, |regs, _| {
                if gic_v3 && k == 0 {
                    gicd = regs;
                } else if gic_v3 && k == 1 && info.gic.is_none() {
                    info.gic = Some((gicd, regs));
                }
                k += 1;
                add_device(info, name, regs)
            })?;
        } else if found & ARMV8_TIMER != 0 {
            // interrupts = <type number flags> x 4: secure phys, phys, virt, hyp.
            if let Some(v) = common.interrupts.filter(|v| v.len() >= 48) {
                let cell = |i: usize| {
                    u32::from_be_bytes([v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]])
                };
                if cell(9) == 1 {
                    // PPI n is INTID 16 + n, for n = 0..15.
                    let ppi = cell(10);
                    if ppi > 15 {
                        return Err(DtError::BadTimerPpi { node: name, ppi });
                    }
                    info.hyp_timer_intid = Some(16 + ppi);
                }
            }
        }
        Ok(())
    })?;
    let root_cells = top.root_cells;
    if info.banks().is_empty() {
        return Err(DtError::NoMemory);
    }

    // Reserved memory: the header's /memreserve/ list and /reserved-memory's children.
    for (addr, size) in fdt.memreserve() {
        if size == 0 {
            continue;
        }
        let range =
            PhysRange::from_size(addr, size).ok_or(DtError::BadMemReserve { addr, size })?;
        add_reserved(info, "/memreserve/", range, false)?;
    }
    if let Some(rm) = top.reserved_memory.filter(|n| n.is_available()) {
        let rchain = [root, rm];
        let [a, s] = rm.props_of(["#address-cells", "#size-cells"]);
        let rm_cells = raw_cells(a, s);
        for child in rm.children() {
            let [status, reg, no_map] = child.props_of(["status", "reg", "no-map"]);
            if !fdt::status_ok(status) {
                continue;
            }
            let name = child.name();
            regs_of(&rchain, name, reg, rm_cells, |range, _| {
                add_reserved(info, name, range, no_map.is_some())
            })?;
        }
    }

    // By reference: a copy of `Chosen` is a memcpy call.
    let chosen = top.chosen.as_ref().ok_or(DtError::NoStaticHeap)?;
    read_cmdline(chosen, top.kernel_args, info)?;

    // The static heap: one or more banks, each in RAM and clear of everything else.
    let heap_prop = chosen.static_heap.ok_or(DtError::NoStaticHeap)?;
    let heaps =
        reg_pairs(heap_prop, root_cells, "/chosen").map_err(|_| DtError::BadStaticHeapList)?;
    for (a, s) in heaps {
        let heap = PhysRange::from_size(a, s).ok_or(DtError::BadStaticHeap {
            heap: PhysRange::new(a, u64::MAX),
        })?;
        if heap.is_empty() || a % PAGE_SIZE != 0 || s % PAGE_SIZE != 0 {
            return Err(DtError::BadStaticHeap { heap });
        }
        if !info.ram().any(|b| b.contains_range(&heap)) {
            return Err(DtError::HeapOutsideMemory { heap });
        }
        let loaded = [("image", image), ("device tree", dtb)];
        let earlier = info.static_heaps().iter().map(|h| ("static heap", *h));
        if let Some((what, range)) = loaded
            .into_iter()
            .chain(earlier)
            .find(|(_, r)| r.overlaps(&heap))
        {
            return Err(DtError::HeapOverlaps { heap, what, range });
        }
        check_reserved(info, "static heap", heap, false)?;
        info.heaps.push(heap).map_err(|_| DtError::TooManyHeaps)?;
    }
    // The image must not sit on reserved memory; the blob may (boot loaders often
    // reserve it), but not on memory that must never be mapped.
    check_reserved(info, "image", image, false)?;
    check_reserved(info, "device tree", dtb, true)?;

    read_console(fdt, chosen, &top, info)?;

    for d in info.devices() {
        if let Some(b) = info.banks().iter().find(|b| b.reg.overlaps(&d.regs)) {
            return Err(DtError::DeviceInRam {
                bank: b.reg,
                device: d.name,
                regs: d.regs,
            });
        }
    }
    Ok(chosen.node)
}

fn add_device<'a>(
    info: &mut BootInfo<'a>,
    name: &'a str,
    regs: PhysRange,
) -> Result<(), DtError<'a>> {
    info.devices
        .push(Device { name, regs })
        .map_err(|_| DtError::TooManyDevices)
}

fn add_reserved<'a>(
    info: &mut BootInfo<'a>,
    name: &'a str,
    range: PhysRange,
    no_map: bool,
) -> Result<(), DtError<'a>> {
    info.reserved
        .push(Reserved {
            name,
            range,
            no_map,
        })
        .map_err(|_| DtError::TooManyReserved)
}

/// `range` (the `what`) must not overlap reserved memory (only no-map reserved memory
/// when `only_no_map`).
fn check_reserved<'a>(
    info: &BootInfo<'a>,
    what: &'a str,
    range: PhysRange,
    only_no_map: bool,
) -> Result<(), DtError<'a>> {
    match info
        .reserved()
        .iter()
        .find(|r| (r.no_map || !only_no_map) && r.range.overlaps(&range))
    {
        Some(r) => Err(DtError::OverlapsReserved {
            what,
            range,
            name: r.name,
            reserved: r.range,
        }),
        None => Ok(()),
    }
}

/// Xen's command-line rules (docs/misc/arm/device-tree/booting.txt, "Command lines"):
/// `xen,xen-bootargs` is the hypervisor's. Without it, `bootargs` is the hypervisor's
/// only when dom0 has its own command line elsewhere (`xen,dom0-bootargs`, or a
/// `multiboot,kernel` module under /chosen with a `bootargs`); otherwise `bootargs` is
/// dom0's. Every one of these that is present must be one NUL-terminated UTF-8 string.
/// `kernel_args`: what `walk` read of /chosen's children (see `TopNodes`), if it did.
fn read_cmdline<'a>(
    chosen: &Chosen<'a>,
    kernel_args: Option<Result<bool, (&'a str, StringError)>>,
    info: &mut BootInfo<'a>,
) -> Result<(), DtError<'a>> {
    let xen = chosen.string("xen,xen-bootargs", chosen.xen_bootargs)?;
    let dom0 = chosen.string("xen,dom0-bootargs", chosen.dom0_bootargs)?;
    let plain = chosen.string("bootargs", chosen.bootargs)?;
    let kernel_has_args = match kernel_args {
        Some(Ok(has)) => has,
        Some(Err((node, why))) => {
            return Err(DtError::BadString {
                node,
                prop: "bootargs",
                why,
            })
        }
        None => {
            let mut has = false;
            for m in chosen.node.children() {
                if m.has_str("compatible", "multiboot,kernel") {
                    has |= string_prop(&m, "bootargs")?.is_some_and(|a| !a.is_empty());
                }
            }
            has
        }
    };
    (info.bootargs, info.bootargs_from, info.dom0_bootargs) = match (xen, plain) {
        (Some(x), _) => (
            x,
            CmdlineFrom::XenBootargs,
            plain.filter(|_| dom0.is_none()),
        ),
        (None, Some(b)) if dom0.is_some() || kernel_has_args => (b, CmdlineFrom::Bootargs, None),
        (None, b) => ("", CmdlineFrom::Nothing, b),
    };
    Ok(())
}

/// The console from `stdout-path` (or `linux,stdout-path`): an alias or an absolute
/// path, options after ':' ignored. An empty one is treated as absent. A console that
/// is disabled (or under a disabled bus) is left unused and reported in
/// `disabled_console`, as Xen does (it warns and goes on without that UART).
/// The console `stdout-path` (or `linux,stdout-path`) names: (the path as written,
/// options after ':' dropped; the absolute path, an alias resolved). None when absent
/// or empty.
fn console_path<'a>(
    chosen: &Chosen<'a>,
    aliases: Option<Node<'a>>,
) -> Result<Option<(&'a str, &'a str)>, DtError<'a>> {
    let stdout = match chosen.string("stdout-path", chosen.stdout_path)? {
        Some(s) => Some(s),
        None => chosen.string("linux,stdout-path", chosen.linux_stdout_path)?,
    };
    let Some(stdout) = stdout.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // What `stdout.split(':').next()` gives, without the splitter's machinery.
    let path = match stdout.bytes().position(|c| c == b':') {
        Some(i) => stdout.get(..i).unwrap_or(stdout),
        None => stdout,
    };
    // An alias first, then an absolute path.
    let full = if path.starts_with('/') {
        path
    } else {
        aliases.and_then(|a| a.prop_str(path)).unwrap_or(path)
    };
    Ok(Some((path, full)))
}

fn read_console<'a>(
    fdt: &Fdt<'a>,
    chosen: &Chosen<'a>,
    top: &TopNodes<'a>,
    info: &mut BootInfo<'a>,
) -> Result<(), DtError<'a>> {
    let computed = match top.console_path {
        Some(p) => p,
        None => console_path(chosen, top.aliases)?,
    };
    let Some((path, full)) = computed else {
        return Ok(());
    };
    if !full.starts_with('/') {
        return Err(DtError::StdoutMissing { path });
    }
    match top.console {
        // `walk` found it as `find_with_ancestors` would: a child of the root.
        Some(c) if core::ptr::eq(c.path, full) || c.path == full => console_at(
            &fdt.root(),
            &[fdt.root()],
            full,
            [c.status, c.compatible, c.reg],
            fdt::status_ok(top.root_status),
            top.root_cells,
            info,
        ),
        _ => find_console(fdt, path, full, top.root_cells, info),
    }
}

/// `read_console` for a console `walk` did not find: a search from the root.
#[inline(never)]
fn find_console<'a>(
    fdt: &Fdt<'a>,
    path: &'a str,
    full: &'a str,
    root_cells: (u32, u32),
    info: &mut BootInfo<'a>,
) -> Result<(), DtError<'a>> {
    let mut chain = [fdt.root(); fdt::MAX_DEPTH + 1];
    let (node, n) = fdt
        .find_with_ancestors(full, &mut chain)
        .ok_or(DtError::StdoutMissing { path })?;
    let chain = &chain[..n];
    let props = node.props_of(["status", "compatible", "reg"]);
    let ancestors_ok = chain.iter().all(|a| a.is_available());
    console_at(&node, chain, full, props, ancestors_ok, root_cells, info)
}

/// The console `node` at `full`, whose ancestors are `chain` (the root first; all
/// available when `ancestors_ok`), with its `status`, `compatible` and `reg`.
fn console_at<'a>(
    node: &Node<'a>,
    chain: &[Node<'a>],
    full: &'a str,
    [status, compatible, reg]: [Option<&'a [u8]>; 3],
    ancestors_ok: bool,
    root_cells: (u32, u32),
    info: &mut BootInfo<'a>,
) -> Result<(), DtError<'a>> {
    if !fdt::status_ok(status) || !ancestors_ok {
        info.disabled_console = Some(full);
        return Ok(());
    }
    if !compatible.is_some_and(|c| fdt::list_has(c, "arm,pl011")) {
        return Err(DtError::ConsoleNotPl011 { path: full });
    }
    let reg = reg.ok_or(DtError::ConsoleNotPl011 { path: full })?;
    // The root's cells are already read (and checked); a deeper parent's are read now.
    let parent_cells = match chain {
        [_] => root_cells,
        [.., parent] => cells(parent)?,
        // The root itself (stdout-path "/"): its own cells.
        [] => cells(node)?,
    };
    let (a, s) = reg_pairs(reg, parent_cells, full)?
        .next()
        .ok_or(DtError::ConsoleNotPl011 { path: full })?;
    let regs = translate(chain, full, a, s)?;
    if regs.size() < PL011_REGS {
        return Err(DtError::ConsoleTooSmall { path: full, regs });
    }
    add_device(info, full, regs)?;
    info.console = Some(Console { path: full, regs });
    Ok(())
}

/// The bytes setup must map to read a blob's header at `x0`: the header may cross a
/// page boundary when the blob starts a few bytes before the end of a page.
pub fn header_window(x0: u64) -> PhysRange {
    let end = x0.saturating_add(40);
    let end = end
        .checked_next_multiple_of(PAGE_SIZE)
        .unwrap_or(!(PAGE_SIZE - 1));
    PhysRange::new(x0 & !(PAGE_SIZE - 1), end)
}

#[cfg(test)]
mod tests;
