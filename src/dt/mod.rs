// SPDX-License-Identifier: GPL-2.0-only
//! What setup needs from the device tree, read and checked in one place: memory banks,
//! the static heap (`/chosen/xen,static-heap`), the console (`/chosen/stdout-path`) and
//! the command line. Every rule broken is a `DtError` naming the node and the range.
//! Pure: it reads a byte slice and touches nothing else.
pub mod domains;
pub mod fdt;
pub mod writer;

use crate::mm::{PhysRange, PAGE_SIZE};
pub use fdt::{Fdt, FdtError, Node};

/// The most memory banks rxen keeps.
pub const MAX_BANKS: usize = 16;

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
    #[error("device tree: no memory node (device_type = \"memory\")")]
    NoMemory,
    #[error("device tree: memory bank {bank} is empty")]
    EmptyBank { bank: PhysRange },
    #[error("device tree: memory banks {a} and {b} overlap")]
    OverlappingBanks { a: PhysRange, b: PhysRange },
    #[error("device tree: memory bank {bank} is beyond the {pa_bits}-bit physical address range")]
    BankBeyondPhys { bank: PhysRange, pa_bits: u8 },
    #[error("device tree: more than {MAX_BANKS} memory banks")]
    TooManyBanks,
    #[error("device tree: /chosen has no xen,static-heap (rxen needs one heap range)")]
    NoStaticHeap,
    #[error("device tree: xen,static-heap must be exactly one non-empty, 4 KiB aligned range")]
    BadStaticHeap,
    #[error("device tree: static heap {heap} is not inside one memory bank")]
    HeapOutsideMemory { heap: PhysRange },
    #[error("device tree: static heap {heap} overlaps the {what} at {range}")]
    HeapOverlaps {
        heap: PhysRange,
        what: &'a str,
        range: PhysRange,
    },
    #[error("device tree: stdout-path {path:?} names no node")]
    StdoutMissing { path: &'a str },
    #[error("device tree: console {path} is not an arm,pl011 UART with a reg")]
    ConsoleNotPl011 { path: &'a str },
}

/// The console the device tree chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Console<'a> {
    pub path: &'a str,
    pub regs: PhysRange,
}

/// Everything setup takes from the device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInfo<'a> {
    banks: [PhysRange; MAX_BANKS],
    nr_banks: usize,
    pub static_heap: PhysRange,
    pub console: Option<Console<'a>>,
    pub bootargs: &'a str,
}

impl BootInfo<'_> {
    pub fn banks(&self) -> &[PhysRange] {
        &self.banks[..self.nr_banks]
    }
}

/// (#address-cells, #size-cells) that `node` sets for its children.
fn cells<'a>(node: &Node<'a>, path: &'a str) -> Result<(u32, u32), DtError<'a>> {
    let address = node.prop_u32("#address-cells").unwrap_or(2);
    let size = node.prop_u32("#size-cells").unwrap_or(1);
    if !(1..=2).contains(&address) || !(1..=2).contains(&size) {
        return Err(DtError::BadCells {
            node: path,
            address,
            size,
        });
    }
    Ok((address, size))
}

/// The (address, size) pairs of a reg-like property.
fn reg_pairs<'a>(
    value: &'a [u8],
    (ac, sc): (u32, u32),
    node: &'a str,
) -> Result<impl Iterator<Item = (u64, u64)> + 'a, DtError<'a>> {
    let pair = 4 * (ac + sc) as usize;
    if value.is_empty() || !value.len().is_multiple_of(pair) {
        return Err(DtError::BadReg { node });
    }
    Ok(value.chunks_exact(pair).map(move |c| {
        let mut i = 0;
        // Cannot fail: the chunk holds exactly ac + sc cells of 1 or 2 each.
        let a = fdt::read_cells(c, &mut i, ac).unwrap_or(0);
        let s = fdt::read_cells(c, &mut i, sc).unwrap_or(0);
        (a, s)
    }))
}

fn range_of(a: u64, s: u64) -> PhysRange {
    // A range that would wrap is clamped to the top; the bank checks then refuse it.
    PhysRange::new(a, a.saturating_add(s))
}

/// Read and check the boot information. `reserved` names ranges the heap must not
/// touch (the image, the device tree itself); `pa_bits` is the implemented range.
pub fn parse<'a>(
    fdt: &Fdt<'a>,
    reserved: &[(&'a str, PhysRange)],
    pa_bits: u8,
) -> Result<BootInfo<'a>, DtError<'a>> {
    let root = fdt.root();
    let root_cells = cells(&root, "/")?;
    let limit = if pa_bits >= 64 {
        u64::MAX
    } else {
        1u64 << pa_bits
    };

    let mut info = BootInfo {
        banks: [PhysRange::new(0, 0); MAX_BANKS],
        nr_banks: 0,
        static_heap: PhysRange::new(0, 0),
        console: None,
        bootargs: "",
    };
    for node in root.children() {
        let is_memory = node.prop_str("device_type") == Some("memory");
        if !is_memory {
            continue;
        }
        let Some(reg) = node.prop("reg") else {
            continue;
        };
        for (a, s) in reg_pairs(reg, root_cells, node.name)? {
            let bank = range_of(a, s);
            if s == 0 {
                return Err(DtError::EmptyBank { bank });
            }
            if bank.end > limit || a.checked_add(s).is_none() {
                return Err(DtError::BankBeyondPhys { bank, pa_bits });
            }
            if let Some(other) = info.banks().iter().find(|b| b.overlaps(&bank)) {
                return Err(DtError::OverlappingBanks { a: *other, b: bank });
            }
            if info.nr_banks == MAX_BANKS {
                return Err(DtError::TooManyBanks);
            }
            info.banks[info.nr_banks] = bank;
            info.nr_banks += 1;
        }
    }
    if info.nr_banks == 0 {
        return Err(DtError::NoMemory);
    }

    let chosen = fdt.find("/chosen").ok_or(DtError::NoStaticHeap)?;
    info.bootargs = chosen.prop_str("bootargs").unwrap_or("");

    let heap_prop = chosen
        .prop("xen,static-heap")
        .ok_or(DtError::NoStaticHeap)?;
    let mut heaps =
        reg_pairs(heap_prop, root_cells, "/chosen").map_err(|_| DtError::BadStaticHeap)?;
    let (a, s) = heaps.next().ok_or(DtError::BadStaticHeap)?;
    let heap = range_of(a, s);
    if heaps.next().is_some() || heap.is_empty() || a % PAGE_SIZE != 0 || s % PAGE_SIZE != 0 {
        return Err(DtError::BadStaticHeap);
    }
    if !info.banks().iter().any(|b| b.contains_range(&heap)) {
        return Err(DtError::HeapOutsideMemory { heap });
    }
    if let Some((what, range)) = reserved.iter().find(|(_, r)| r.overlaps(&heap)) {
        return Err(DtError::HeapOverlaps {
            heap,
            what,
            range: *range,
        });
    }
    info.static_heap = heap;

    if let Some(stdout) = chosen
        .prop_str("stdout-path")
        .or_else(|| chosen.prop_str("linux,stdout-path"))
    {
        let path = stdout.split(':').next().unwrap_or(stdout);
        // An alias first, then an absolute path.
        let full = if path.starts_with('/') {
            path
        } else {
            fdt.find("/aliases")
                .and_then(|a| a.prop_str(path))
                .unwrap_or(path)
        };
        let node = fdt
            .find(full)
            .filter(|_| full.starts_with('/'))
            .ok_or(DtError::StdoutMissing { path })?;
        if !node.has_str("compatible", "arm,pl011") {
            return Err(DtError::ConsoleNotPl011 { path: full });
        }
        let parent_path = full.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let parent = fdt
            .find(parent_path)
            .ok_or(DtError::StdoutMissing { path })?;
        let reg = node
            .prop("reg")
            .ok_or(DtError::ConsoleNotPl011 { path: full })?;
        let (a, s) = reg_pairs(reg, cells(&parent, full)?, full)?
            .next()
            .ok_or(DtError::ConsoleNotPl011 { path: full })?;
        info.console = Some(Console {
            path: full,
            regs: range_of(a, s),
        });
    }
    Ok(info)
}

#[cfg(test)]
mod tests;
