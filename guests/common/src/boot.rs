// SPDX-License-Identifier: GPL-2.0-only
//! What the guest learns at boot: where it was loaded, its device tree (x0), its
//! memory banks, its console and its bootargs. `init` also selects the console.
use crate::console::{self, GUEST_PL011_BASE};
use crate::fdt::{Fdt, FdtError};

/// Memory banks kept from /memory (Xen gives a domU one or two).
pub const MAX_BANKS: usize = 4;

extern "C" {
    static __image_start: u8;
    static __image_end: u8;
}

/// Where the console came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleSource {
    /// /chosen/stdout-path.
    StdoutPath,
    /// The first "arm,pl011" or "arm,sbsa-uart" node.
    Compatible,
    /// Xen's GUEST_PL011_BASE: the device tree named none.
    XenDefault,
}

pub struct Boot {
    /// Device tree address (x0 at entry).
    pub dtb: usize,
    /// Where this image runs: [load, image_end) covers code, data, bss and stack.
    pub load: usize,
    pub image_end: usize,
    /// The parsed tree, or why it could not be read.
    pub fdt: Result<Fdt<'static>, FdtError>,
    pub banks: [(u64, u64); MAX_BANKS],
    pub nbanks: usize,
    pub uart: usize,
    pub uart_source: ConsoleSource,
    pub bootargs: &'static str,
}

impl Boot {
    /// Memory banks as (base, size).
    pub fn memory(&self) -> &[(u64, u64)] {
        self.banks.get(..self.nbanks).unwrap_or(&[])
    }

    /// The bank holding `addr`, if any.
    pub fn bank_of(&self, addr: u64) -> Option<(u64, u64)> {
        self.memory()
            .iter()
            .copied()
            .find(|&(b, s)| addr >= b && addr - b < s)
    }
}

fn read_fdt(dtb: usize) -> Result<Fdt<'static>, FdtError> {
    if dtb == 0 || !dtb.is_multiple_of(8) {
        return Err(FdtError::BadAddress);
    }
    // SAFETY: the boot protocol puts a device tree at x0, inside this domain's memory,
    // and nothing writes it while we run; the header is 40 bytes.
    let header = unsafe { core::slice::from_raw_parts(dtb as *const u8, 40) };
    let size = Fdt::total_size(header)?;
    // SAFETY: as above; totalsize was bounded by fdt::MAX_SIZE.
    let blob = unsafe { core::slice::from_raw_parts(dtb as *const u8, size) };
    Fdt::new(blob)
}

/// The console node: /chosen/stdout-path (a path or an alias, options after ':'),
/// else the first PL011/SBSA UART node.
fn find_uart(fdt: &Fdt<'static>) -> Option<(u64, ConsoleSource)> {
    let cells = fdt.root_cells();
    let from_path = || {
        let sp = fdt.find_path("/chosen")?.prop_str("stdout-path")?;
        let sp = sp.split(':').next()?;
        let node = if sp.starts_with('/') {
            fdt.find_path(sp)?
        } else {
            fdt.find_path(fdt.find_path("/aliases")?.prop_str(sp)?)?
        };
        node.reg(0, cells)
    };
    if let Some((base, _)) = from_path() {
        return Some((base, ConsoleSource::StdoutPath));
    }
    let node = fdt.find(|n| n.is_compatible("arm,pl011") || n.is_compatible("arm,sbsa-uart"))?;
    Some((node.reg(0, cells)?.0, ConsoleSource::Compatible))
}

/// Reads the device tree at `dtb` and selects the console. Called once, by
/// `guest_main!`, before `main`.
pub fn init(dtb: usize, load: usize) -> Boot {
    // SAFETY: only the address of the linker symbol is taken.
    let image_end = unsafe { &__image_end as *const u8 as usize };
    // SAFETY: as above.
    let image_start = unsafe { &__image_start as *const u8 as usize };
    let mut boot = Boot {
        dtb,
        load,
        image_end: image_end.max(image_start),
        fdt: read_fdt(dtb),
        banks: [(0, 0); MAX_BANKS],
        nbanks: 0,
        uart: GUEST_PL011_BASE,
        uart_source: ConsoleSource::XenDefault,
        bootargs: "",
    };
    if let Ok(fdt) = boot.fdt {
        let cells = fdt.root_cells();
        fdt.walk(|depth, n| {
            let is_mem = depth == 1
                && (n.prop_str("device_type") == Some("memory") || n.name.starts_with(b"memory"));
            let mut i = 0;
            while is_mem && boot.nbanks < MAX_BANKS {
                match n.reg(i, cells) {
                    Some(bank) if bank.1 > 0 => {
                        boot.banks[boot.nbanks] = bank;
                        boot.nbanks += 1;
                    }
                    Some(_) => {}
                    None => break,
                }
                i += 1;
            }
            None::<()>
        });
        if let Some((base, src)) = find_uart(&fdt) {
            boot.uart = base as usize;
            boot.uart_source = src;
        }
        boot.bootargs = fdt
            .find_path("/chosen")
            .and_then(|c| c.prop_str("bootargs"))
            .unwrap_or("");
    }
    console::set_vpl011(Some(boot.uart));
    boot
}
