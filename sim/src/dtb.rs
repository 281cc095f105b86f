// SPDX-License-Identifier: GPL-2.0-only
//! Device trees for the image: one generated from the modelled platform (so it always
//! matches), or a user's blob with /chosen/bootargs replaced. Written with vm-fdt and
//! read with the fdt crate.
use vm_fdt::{FdtWriter, FdtWriterNode};

use crate::devices::UART_BASES;

/// What the generated tree describes.
#[derive(Clone, Debug)]
pub struct Platform {
    pub dram_base: u64,
    pub dram_size: u64,
    /// `/chosen/xen,static-heap`, if any.
    pub static_heap: Option<(u64, u64)>,
    pub bootargs: String,
    /// /chosen/xen,xen-bootargs: the hypervisor's command line under Xen's bindings
    /// (empty: not written).
    pub xen_bootargs: String,
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("device tree: {e:?}")
}

/// The FVP BaseR tree for `p`: memory, one Cortex-R82, GICv3, timer, UART0 as the
/// console (aliases serial0), and /chosen.
pub fn generate(p: &Platform) -> Result<Vec<u8>, String> {
    let mut w = FdtWriter::new().map_err(err)?;
    let root = w.begin_node("").map_err(err)?;
    w.property_string("model", "FVP BaseR AEMv8R (r82sim)")
        .map_err(err)?;
    w.property_string_list(
        "compatible",
        vec!["arm,fvp-baser-aemv8r".into(), "arm,vexpress".into()],
    )
    .map_err(err)?;
    w.property_u32("#address-cells", 2).map_err(err)?;
    w.property_u32("#size-cells", 2).map_err(err)?;
    w.property_u32("interrupt-parent", 1).map_err(err)?;

    let aliases = w.begin_node("aliases").map_err(err)?;
    w.property_string("serial0", &format!("/uart@{:x}", UART_BASES[0]))
        .map_err(err)?;
    w.end_node(aliases).map_err(err)?;

    let chosen = w.begin_node("chosen").map_err(err)?;
    w.property_string("bootargs", &p.bootargs).map_err(err)?;
    if !p.xen_bootargs.is_empty() {
        w.property_string("xen,xen-bootargs", &p.xen_bootargs)
            .map_err(err)?;
    }
    w.property_string("stdout-path", "serial0:115200n8")
        .map_err(err)?;
    if let Some((a, s)) = p.static_heap {
        w.property_array_u64("xen,static-heap", &[a, s])
            .map_err(err)?;
    }
    w.end_node(chosen).map_err(err)?;

    let cpus = w.begin_node("cpus").map_err(err)?;
    w.property_u32("#address-cells", 2).map_err(err)?;
    w.property_u32("#size-cells", 0).map_err(err)?;
    let cpu = w.begin_node("cpu@0").map_err(err)?;
    w.property_string("device_type", "cpu").map_err(err)?;
    w.property_string_list(
        "compatible",
        vec!["arm,cortex-r82".into(), "arm,armv8".into()],
    )
    .map_err(err)?;
    w.property_array_u32("reg", &[0, 0]).map_err(err)?;
    w.end_node(cpu).map_err(err)?;
    w.end_node(cpus).map_err(err)?;

    let mem = w
        .begin_node(&format!("memory@{:x}", p.dram_base))
        .map_err(err)?;
    w.property_string("device_type", "memory").map_err(err)?;
    w.property_array_u64("reg", &[p.dram_base, p.dram_size])
        .map_err(err)?;
    w.end_node(mem).map_err(err)?;

    let gic = w.begin_node("interrupt-controller@af000000").map_err(err)?;
    w.property_string("compatible", "arm,gic-v3").map_err(err)?;
    w.property_u32("#interrupt-cells", 3).map_err(err)?;
    w.property_null("interrupt-controller").map_err(err)?;
    w.property_array_u64("reg", &[0xaf00_0000, 0x1_0000, 0xaf10_0000, 0x20_0000])
        .map_err(err)?;
    w.property_phandle(1).map_err(err)?;
    w.end_node(gic).map_err(err)?;

    let timer = w.begin_node("timer").map_err(err)?;
    w.property_string("compatible", "arm,armv8-timer")
        .map_err(err)?;
    w.property_array_u32(
        "interrupts",
        &[1, 13, 0xf08, 1, 14, 0xf08, 1, 11, 0xf08, 1, 10, 0xf08],
    )
    .map_err(err)?;
    w.property_u32("clock-frequency", 100_000_000)
        .map_err(err)?;
    w.end_node(timer).map_err(err)?;

    for (i, base) in UART_BASES.iter().enumerate() {
        let u = w.begin_node(&format!("uart@{base:x}")).map_err(err)?;
        w.property_string_list(
            "compatible",
            vec!["arm,pl011".into(), "arm,primecell".into()],
        )
        .map_err(err)?;
        w.property_array_u64("reg", &[*base, 0x1000]).map_err(err)?;
        w.property_array_u32("interrupts", &[0, 5 + i as u32, 4])
            .map_err(err)?;
        w.property_u32("clock-frequency", 24_000_000).map_err(err)?;
        w.end_node(u).map_err(err)?;
    }
    w.end_node(root).map_err(err)?;
    w.finish().map_err(err)
}

/// A copy of `blob` with /chosen/bootargs set to `bootargs` (and /chosen created if
/// missing). Every other node and property is kept as it was.
pub fn with_bootargs(blob: &[u8], bootargs: &str) -> Result<Vec<u8>, String> {
    with_chosen_string(blob, "bootargs", bootargs)
}

/// A copy of `blob` with the string property /chosen/`prop` set to `value`.
pub fn with_chosen_string(blob: &[u8], prop: &str, value: &str) -> Result<Vec<u8>, String> {
    // The fdt crate panics on some malformed blobs: report those as errors.
    let copied = std::panic::catch_unwind(|| -> Result<Vec<u8>, String> {
        let fdt = fdt::Fdt::new(blob)
            .map_err(|e| format!("device tree: cannot read it to set bootargs: {e:?}"))?;
        let mut w = FdtWriter::new().map_err(err)?;
        let root = fdt.find_node("/").ok_or("device tree: no root node")?;
        copy_node(&mut w, &root, "", (prop, value), true)?;
        w.finish().map_err(err)
    });
    copied.unwrap_or_else(|_| Err("device tree: malformed blob (cannot set bootargs)".into()))
}

fn copy_node(
    w: &mut FdtWriter,
    n: &fdt::node::FdtNode,
    name: &str,
    (prop, value): (&str, &str),
    is_root: bool,
) -> Result<(), String> {
    let node: FdtWriterNode = w.begin_node(name).map_err(err)?;
    let is_chosen = name == "chosen";
    for p in n.properties() {
        if is_chosen && p.name == prop {
            continue;
        }
        w.property(p.name, p.value).map_err(err)?;
    }
    if is_chosen {
        w.property_string(prop, value).map_err(err)?;
    }
    let mut saw_chosen = false;
    for c in n.children() {
        saw_chosen |= is_root && c.name == "chosen";
        copy_node(w, &c, c.name, (prop, value), false)?;
    }
    if is_root && !saw_chosen {
        let c = w.begin_node("chosen").map_err(err)?;
        w.property_string(prop, value).map_err(err)?;
        w.end_node(c).map_err(err)?;
    }
    w.end_node(node).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform() -> Platform {
        Platform {
            dram_base: 0,
            dram_size: 0x8000_0000,
            static_heap: Some((0x1000_0000, 0x100_0000)),
            bootargs: "a=b".into(),
            xen_bootargs: "rxen.loglevel=warn".into(),
        }
    }

    #[test]
    fn generated_tree_describes_the_platform() {
        let blob = generate(&platform()).unwrap();
        let fdt = fdt::Fdt::new(&blob).unwrap();
        let mem = fdt.memory().regions().next().unwrap();
        assert_eq!(
            (mem.starting_address as u64, mem.size),
            (0, Some(0x8000_0000))
        );
        assert_eq!(fdt.chosen().bootargs(), Some("a=b"));
        assert_eq!(
            fdt.find_node("/chosen")
                .and_then(|c| c.property("xen,xen-bootargs"))
                .and_then(|p| p.as_str()),
            Some("rxen.loglevel=warn")
        );
        let chosen = fdt.find_node("/chosen").unwrap();
        assert_eq!(
            chosen.property("stdout-path").unwrap().as_str(),
            Some("serial0:115200n8")
        );
        let alias = fdt
            .find_node("/aliases")
            .unwrap()
            .property("serial0")
            .unwrap()
            .as_str()
            .unwrap();
        assert!(fdt
            .find_node(alias)
            .unwrap()
            .compatible()
            .unwrap()
            .all()
            .any(|c| c == "arm,pl011"));
        let heap = fdt
            .find_node("/chosen")
            .unwrap()
            .property("xen,static-heap")
            .unwrap()
            .value;
        assert_eq!(heap, [0u8, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn bootargs_are_replaced_and_the_rest_kept() {
        let blob = generate(&platform()).unwrap();
        let patched = with_bootargs(&blob, "rxen.selftest=exec-init").unwrap();
        let fdt = fdt::Fdt::new(&patched).unwrap();
        assert_eq!(fdt.chosen().bootargs(), Some("rxen.selftest=exec-init"));
        assert!(fdt
            .find_node("/chosen")
            .unwrap()
            .property("xen,static-heap")
            .is_some());
        assert_eq!(
            fdt.all_nodes().count(),
            fdt::Fdt::new(&blob).unwrap().all_nodes().count()
        );
    }

    #[test]
    fn malformed_blob_is_an_error_not_a_crash() {
        assert!(with_bootargs(b"not a device tree at all, really not", "x").is_err());
    }
}
