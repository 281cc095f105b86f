// SPDX-License-Identifier: GPL-2.0-only
//! The device tree rxen generates for a domain, in the shape Xen gives dom0less
//! guests: /memory with the domain's banks, /cpus with one cpu, /chosen with the
//! kernel's bootargs, /hypervisor (compatible "xen,xen"), and the vpl011 as an
//! "arm,sbsa-uart" node that stdout-path names. The GIC and timer nodes come with
//! interrupts for guests. Pure: writes into a caller's buffer.
use super::config::DomainConfig;
use super::hypercall::{XEN_MAJOR, XEN_MINOR};
use super::vpl011::{GUEST_PL011_BASE, GUEST_PL011_SIZE};
use crate::dt::writer::{FdtWriteError, FdtWriter};
use crate::mm::PhysRange;

/// The most a generated tree may take; it is placed in the domain's memory.
pub const GUEST_DT_MAX: usize = 4096;

/// Write the domain's tree into `buf`; returns its size.
pub fn build(d: &DomainConfig<'_>, buf: &mut [u8]) -> Result<usize, FdtWriteError> {
    let mut w = FdtWriter::new(buf)?;
    let mut name = [0u8; 40];
    w.begin_node("")?;
    w.prop_strs("compatible", &["xen,xenvm-4.20", "xen,xenvm"])?;
    w.prop_str("model", "XENVM-4.20")?;
    w.prop_u32("#address-cells", 2)?;
    w.prop_u32("#size-cells", 2)?;

    w.begin_node("chosen")?;
    if !d.bootargs.is_empty() {
        w.prop_str("bootargs", d.bootargs)?;
    }
    if d.vpl011 {
        w.prop_str(
            "stdout-path",
            node_name(&mut name, "/sbsa-uart", GUEST_PL011_BASE),
        )?;
    }
    w.end_node()?;

    w.begin_node("cpus")?;
    w.prop_u32("#address-cells", 1)?;
    w.prop_u32("#size-cells", 0)?;
    w.begin_node("cpu@0")?;
    w.prop_str("device_type", "cpu")?;
    w.prop_str("compatible", "arm,armv8")?;
    w.prop_u32("reg", 0)?;
    w.end_node()?;
    w.end_node()?;

    let first = d.banks().first().copied().unwrap_or(PhysRange::new(0, 0));
    w.begin_node(node_name(&mut name, "memory", first.start))?;
    w.prop_str("device_type", "memory")?;
    let mut reg = [0u64; 8];
    for (i, b) in d.banks().iter().enumerate() {
        reg[2 * i] = b.start;
        reg[2 * i + 1] = b.size();
    }
    w.prop_u64s("reg", &reg[..2 * d.banks().len()])?;
    w.end_node()?;

    w.begin_node("hypervisor")?;
    let mut version = [0u8; 16];
    w.prop_strs("compatible", &[xen_compatible(&mut version), "xen,xen"])?;
    w.end_node()?;

    if d.vpl011 {
        w.begin_node(node_name(&mut name, "sbsa-uart", GUEST_PL011_BASE))?;
        w.prop_str("compatible", "arm,sbsa-uart")?;
        w.prop_u64s("reg", &[GUEST_PL011_BASE, GUEST_PL011_SIZE])?;
        w.end_node()?;
    }
    w.end_node()?;
    w.finish()
}

/// "prefix@hex" in `buf`.
fn node_name<'b>(buf: &'b mut [u8; 40], prefix: &'static str, addr: u64) -> &'b str {
    let mut n = 0;
    for &c in prefix.as_bytes().iter().chain(b"@") {
        buf[n] = c;
        n += 1;
    }
    let digits = if addr == 0 {
        1
    } else {
        (67 - addr.leading_zeros() as usize) / 4
    };
    for k in (0..digits).rev() {
        buf[n] = b"0123456789abcdef"[((addr >> (4 * k)) & 0xf) as usize];
        n += 1;
    }
    core::str::from_utf8(&buf[..n]).unwrap_or(prefix)
}

fn xen_compatible(buf: &mut [u8; 16]) -> &str {
    let s = b"xen,xen-";
    buf[..s.len()].copy_from_slice(s);
    let mut n = s.len();
    for v in [XEN_MAJOR, XEN_MINOR] {
        if n > s.len() {
            buf[n] = b'.';
            n += 1;
        }
        if v >= 10 {
            buf[n] = b'0' + (v / 10) as u8;
            n += 1;
        }
        buf[n] = b'0' + (v % 10) as u8;
        n += 1;
    }
    core::str::from_utf8(&buf[..n]).unwrap_or("xen,xen")
}

/// Where the tree goes: the last 4 KiB-aligned `GUEST_DT_MAX` bytes of the first bank
/// that do not overlap the kernel (Xen also puts a direct-mapped domU's tree high in
/// its first bank). `None` if the bank has no such room.
pub fn placement(d: &DomainConfig<'_>) -> Option<PhysRange> {
    let bank = *d.banks().first()?;
    let size = GUEST_DT_MAX as u64;
    let start = (bank.end.checked_sub(size)?) & !0xfff;
    let r = PhysRange::new(start, start + size);
    let clear = d.kernel.is_none_or(|k| !k.overlaps(&r));
    (bank.contains_range(&r) && clear).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::Fdt;

    fn domain() -> DomainConfig<'static> {
        let mut d = DomainConfig::new("domU1", 1);
        d.banks[0] = PhysRange::new(0x2000_0000, 0x2100_0000);
        d.nr_banks = 1;
        d.kernel = Some(PhysRange::new(0x2000_0000, 0x2001_0000));
        d.bootargs = "console=hvc0 hello";
        d.vpl011 = true;
        d
    }

    #[test]
    fn the_guest_tree_describes_memory_cpus_console_and_xen() {
        // On the heap: 8-byte aligned, as the reader requires of a blob.
        let mut buf = std::vec![0u8; GUEST_DT_MAX];
        let n = build(&domain(), &mut buf).unwrap();
        let fdt = Fdt::new(&buf[..n]).unwrap();
        let mem = fdt.find("/memory@20000000").unwrap();
        assert_eq!(
            mem.prop("reg").unwrap(),
            [0x2000_0000u64.to_be_bytes(), 0x100_0000u64.to_be_bytes()].concat()
        );
        let chosen = fdt.find("/chosen").unwrap();
        assert_eq!(chosen.prop_str("bootargs"), Some("console=hvc0 hello"));
        assert_eq!(chosen.prop_str("stdout-path"), Some("/sbsa-uart@22000000"));
        let uart = fdt.find("/sbsa-uart@22000000").unwrap();
        assert!(uart.has_str("compatible", "arm,sbsa-uart"));
        assert!(fdt
            .find("/hypervisor")
            .unwrap()
            .has_str("compatible", "xen,xen-4.20"));
        assert_eq!(fdt.find("/cpus/cpu@0").unwrap().prop_u32("reg"), Some(0));
    }

    #[test]
    fn the_tree_goes_high_in_the_first_bank_clear_of_the_kernel() {
        let d = domain();
        assert_eq!(
            placement(&d),
            Some(PhysRange::new(0x20ff_f000, 0x2100_0000))
        );
        let mut tiny = d;
        tiny.banks[0] = PhysRange::new(0x2000_0000, 0x2001_0000);
        assert_eq!(placement(&tiny), None, "the kernel fills the bank");
    }
}
