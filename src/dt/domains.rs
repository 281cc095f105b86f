// SPDX-License-Identifier: GPL-2.0-only
//! The dom0less configuration: `/chosen/domU*` nodes with compatible "xen,domain",
//! read as plain values (`DomainConfig`) with Xen's bindings
//! (docs/misc/arm/device-tree/booting.txt). Every property rxen does not support is
//! refused with the node and the property named, never ignored. Pure: reads the tree
//! and decides nothing about memory layout (see `domain::config` for those rules).
use super::fdt::{self, Fdt, Node};
use crate::domain::config::{DomainConfig, Msa, MAX_DOMAINS, MAX_STATIC_BANKS};
use crate::mm::PhysRange;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainDtError<'a> {
    #[error("device tree: /chosen/{node}: property {prop:?} is not supported by rxen")]
    Unsupported { node: &'a str, prop: &'a str },
    #[error("device tree: /chosen/{node}: {prop} is malformed ({rule})")]
    Malformed {
        node: &'a str,
        prop: &'a str,
        rule: &'static str,
    },
    #[error("device tree: /chosen/{node}: {prop} is missing ({rule})")]
    Missing {
        node: &'a str,
        prop: &'a str,
        rule: &'static str,
    },
    #[error("device tree: /chosen/{node}: cpus = {cpus}: one vCPU per domain until rxen runs SMP")]
    TooManyCpus { node: &'a str, cpus: u32 },
    #[error("device tree: /chosen/{node}: v8r_el1_msa = \"mmu\": EL1 with an MMU is not supported yet (use \"mpu\")")]
    MmuNotSupported { node: &'a str },
    #[error("device tree: /chosen/{node}: module {module}: {what} modules are not supported by rxen (only multiboot,kernel)")]
    UnsupportedModule {
        node: &'a str,
        module: &'a str,
        what: &'a str,
    },
    #[error("device tree: /chosen/{node}: memory = {memory_kib} KiB but xen,static-mem gives {static_kib} KiB (they must match)")]
    MemoryMismatch {
        node: &'a str,
        memory_kib: u64,
        static_kib: u64,
    },
    #[error("device tree: more than {MAX_DOMAINS} domains under /chosen")]
    TooManyDomains,
}

/// Properties of a domain node rxen reads (anything else is refused).
const DOMAIN_PROPS: &[&str] = &[
    "compatible",
    "#address-cells",
    "#size-cells",
    "memory",
    "cpus",
    "vpl011",
    "direct-map",
    "v8r_el1_msa",
    "xen,static-mem",
    "#xen,static-mem-address-cells",
    "#xen,static-mem-size-cells",
];

const MODULE_PROPS: &[&str] = &["compatible", "reg", "bootargs"];

fn cells_prop<'a>(node: &Node<'a>, name: &'a str, default: u32) -> Result<u32, DomainDtError<'a>> {
    match node.prop(name) {
        None => Ok(default),
        Some(_) => match node.prop_u32(name) {
            Some(v @ 1..=2) => Ok(v),
            _ => Err(DomainDtError::Malformed {
                node: node.name(),
                prop: name,
                rule: "1 or 2 cells",
            }),
        },
    }
}

/// (address, size) pairs of `value`, with `ac`/`sc` cells each.
fn pairs(value: &[u8], ac: u32, sc: u32) -> Option<impl Iterator<Item = (u64, u64)> + '_> {
    let pair = 4 * (ac + sc) as usize;
    if value.is_empty() || !value.len().is_multiple_of(pair) {
        return None;
    }
    Some(value.chunks_exact(pair).map(move |c| {
        let mut i = 0;
        let a = fdt::read_cells(c, &mut i, ac).unwrap_or(0);
        let s = fdt::read_cells(c, &mut i, sc).unwrap_or(0);
        (a, s)
    }))
}

fn str_prop<'a>(node: &Node<'a>, name: &'a str) -> Result<Option<&'a str>, DomainDtError<'a>> {
    match node.prop(name) {
        None => Ok(None),
        Some(v) => {
            let s = v.strip_suffix(&[0]).ok_or(DomainDtError::Malformed {
                node: node.name(),
                prop: name,
                rule: "a NUL-terminated string",
            })?;
            core::str::from_utf8(s)
                .map(Some)
                .map_err(|_| DomainDtError::Malformed {
                    node: node.name(),
                    prop: name,
                    rule: "UTF-8 text",
                })
        }
    }
}

/// Read one `xen,domain` node.
pub fn parse_domain<'a>(node: &Node<'a>, id: u16) -> Result<DomainConfig<'a>, DomainDtError<'a>> {
    let name = node.name();
    if let Some((prop, _)) = node.props().find(|(p, _)| !DOMAIN_PROPS.contains(p)) {
        return Err(DomainDtError::Unsupported { node: name, prop });
    }
    let cpus = match node.prop("cpus") {
        None => 1,
        Some(_) => node.prop_u32("cpus").ok_or(DomainDtError::Malformed {
            node: name,
            prop: "cpus",
            rule: "one 32-bit cell",
        })?,
    };
    if cpus != 1 {
        return Err(DomainDtError::TooManyCpus { node: name, cpus });
    }
    let msa = match str_prop(node, "v8r_el1_msa")? {
        None | Some("mpu") => Msa::Mpu,
        Some("mmu") => return Err(DomainDtError::MmuNotSupported { node: name }),
        Some(_) => {
            return Err(DomainDtError::Malformed {
                node: name,
                prop: "v8r_el1_msa",
                rule: "\"mpu\" or \"mmu\"",
            })
        }
    };
    let memory = node.prop("memory").ok_or(DomainDtError::Missing {
        node: name,
        prop: "memory",
        rule: "the domain's RAM in KiB",
    })?;
    let mut i = 0;
    let memory_kib = match memory.len() {
        4 => fdt::read_cells(memory, &mut i, 1),
        8 => fdt::read_cells(memory, &mut i, 2),
        _ => None,
    }
    .ok_or(DomainDtError::Malformed {
        node: name,
        prop: "memory",
        rule: "a 32- or 64-bit KiB count",
    })?;

    let sac = cells_prop(node, "#xen,static-mem-address-cells", 2)?;
    let ssc = cells_prop(node, "#xen,static-mem-size-cells", 2)?;
    let static_mem = node.prop("xen,static-mem").ok_or(DomainDtError::Missing {
        node: name,
        prop: "xen,static-mem",
        rule: "domains on the MPU are direct-mapped in static memory",
    })?;
    let mut cfg = DomainConfig::new(name, id);
    cfg.msa = msa;
    cfg.vpl011 = node.prop("vpl011").is_some();
    cfg.direct_map = node.prop("direct-map").is_some();
    let banks = pairs(static_mem, sac, ssc).ok_or(DomainDtError::Malformed {
        node: name,
        prop: "xen,static-mem",
        rule: "(address, size) pairs",
    })?;
    let mut total = 0u64;
    for (a, s) in banks {
        if cfg.nr_banks == MAX_STATIC_BANKS {
            return Err(DomainDtError::Malformed {
                node: name,
                prop: "xen,static-mem",
                rule: "at most 4 banks",
            });
        }
        let bank = PhysRange::from_size(a, s).ok_or(DomainDtError::Malformed {
            node: name,
            prop: "xen,static-mem",
            rule: "a bank that does not wrap",
        })?;
        cfg.banks[cfg.nr_banks] = bank;
        cfg.nr_banks += 1;
        total = total.saturating_add(s);
    }
    if total / 1024 != memory_kib || !total.is_multiple_of(1024) {
        return Err(DomainDtError::MemoryMismatch {
            node: name,
            memory_kib,
            static_kib: total / 1024,
        });
    }

    let ac = cells_prop(node, "#address-cells", 2)?;
    let sc = cells_prop(node, "#size-cells", 1)?;
    for module in node.children() {
        let mname = module.name();
        if let Some((prop, _)) = module.props().find(|(p, _)| !MODULE_PROPS.contains(p)) {
            return Err(DomainDtError::Unsupported { node: name, prop });
        }
        if !module.has_str("compatible", "multiboot,kernel") {
            let what = module
                .prop_str("compatible")
                .unwrap_or("untyped (no compatible)");
            return Err(DomainDtError::UnsupportedModule {
                node: name,
                module: mname,
                what,
            });
        }
        if cfg.kernel.is_some() {
            return Err(DomainDtError::Malformed {
                node: name,
                prop: "multiboot,kernel",
                rule: "one kernel module per domain",
            });
        }
        let reg = module.prop("reg").ok_or(DomainDtError::Missing {
            node: mname,
            prop: "reg",
            rule: "where the loader put the kernel",
        })?;
        let (a, s) =
            pairs(reg, ac, sc)
                .and_then(|mut p| p.next())
                .ok_or(DomainDtError::Malformed {
                    node: mname,
                    prop: "reg",
                    rule: "one (address, size) pair",
                })?;
        cfg.kernel = Some(PhysRange::from_size(a, s).ok_or(DomainDtError::Malformed {
            node: mname,
            prop: "reg",
            rule: "a range that does not wrap",
        })?);
        cfg.bootargs = str_prop(&module, "bootargs")?.unwrap_or("");
    }
    if cfg.kernel.is_none() {
        return Err(DomainDtError::Missing {
            node: name,
            prop: "multiboot,kernel module",
            rule: "every domain needs a kernel",
        });
    }
    Ok(cfg)
}

/// Every `xen,domain` node under /chosen, in tree order, numbered from 1 (domain 0
/// is the hypervisor's own console prefix in Xen; dom0less domUs start at 1).
pub fn parse_domains<'a>(
    fdt: &Fdt<'a>,
    out: &mut [Option<DomainConfig<'a>>; MAX_DOMAINS],
) -> Result<usize, DomainDtError<'a>> {
    let Some(chosen) = fdt.chosen() else {
        return Ok(0);
    };
    let mut n = 0;
    for node in chosen
        .children()
        .filter(|c| c.has_str("compatible", "xen,domain"))
    {
        if n == MAX_DOMAINS {
            return Err(DomainDtError::TooManyDomains);
        }
        out[n] = Some(parse_domain(&node, n as u16 + 1)?);
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;
    use vm_fdt::FdtWriter;

    /// A tree with one domain node built by `dom` and its kernel module by `module`.
    fn tree(dom: impl Fn(&mut FdtWriter), module: impl Fn(&mut FdtWriter)) -> Vec<u8> {
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        let chosen = w.begin_node("chosen").unwrap();
        let d = w.begin_node("domU1").unwrap();
        w.property_string("compatible", "xen,domain").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 1).unwrap();
        dom(&mut w);
        let m = w.begin_node("module@20000000").unwrap();
        w.property_string_list(
            "compatible",
            std::vec!["multiboot,kernel".into(), "multiboot,module".into()],
        )
        .unwrap();
        w.property_array_u32("reg", &[0, 0x2000_0000, 0x8000])
            .unwrap();
        module(&mut w);
        w.end_node(m).unwrap();
        w.end_node(d).unwrap();
        w.end_node(chosen).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }

    fn good(w: &mut FdtWriter) {
        w.property_array_u32("memory", &[0, 0x4000]).unwrap(); // 16 MiB in KiB
        w.property_u32("cpus", 1).unwrap();
        w.property_null("vpl011").unwrap();
        w.property_null("direct-map").unwrap();
        w.property_string("v8r_el1_msa", "mpu").unwrap();
        w.property_u32("#xen,static-mem-address-cells", 1).unwrap();
        w.property_u32("#xen,static-mem-size-cells", 1).unwrap();
        w.property_array_u32("xen,static-mem", &[0x2000_0000, 0x100_0000])
            .unwrap();
    }

    fn parse(blob: &[u8]) -> Result<DomainConfig<'_>, std::string::String> {
        let fdt = Fdt::new(blob).unwrap();
        let mut out = [None; MAX_DOMAINS];
        let n = parse_domains(&fdt, &mut out).map_err(|e| std::format!("{e}"))?;
        assert_eq!(n, 1);
        Ok(out[0].unwrap())
    }

    #[test]
    fn xen_dom0less_bindings_are_read_as_plain_values() {
        let blob = tree(good, |w| {
            w.property_string("bootargs", "console=hvc0").unwrap()
        });
        let d = parse(&blob).unwrap();
        assert_eq!((d.name, d.id), ("domU1", 1));
        assert_eq!(d.banks(), &[PhysRange::new(0x2000_0000, 0x2100_0000)]);
        assert_eq!(d.kernel, Some(PhysRange::new(0x2000_0000, 0x2000_8000)));
        assert_eq!(d.bootargs, "console=hvc0");
        assert!(d.vpl011 && d.direct_map);
    }

    #[test]
    fn unsupported_properties_and_values_are_refused_by_name() {
        let with = |extra: &'static dyn Fn(&mut FdtWriter)| {
            tree(
                |w| {
                    good(w);
                    extra(w)
                },
                |_| {},
            )
        };
        let e = parse(&with(&|w| w.property_u32("nr_spis", 4).unwrap())).unwrap_err();
        assert_eq!(
            e,
            "device tree: /chosen/domU1: property \"nr_spis\" is not supported by rxen"
        );
        let e = parse(&tree(
            |w| {
                good(w);
            },
            |w| w.property_null("xen,uefi-binary").unwrap(),
        ))
        .unwrap_err();
        assert!(e.contains("\"xen,uefi-binary\" is not supported"), "{e}");
        let cpus2 = tree(
            |w| {
                w.property_array_u32("memory", &[0, 0x4000]).unwrap();
                w.property_u32("cpus", 2).unwrap();
                w.property_array_u32("xen,static-mem", &[0, 0x2000_0000, 0, 0x100_0000])
                    .unwrap();
            },
            |_| {},
        );
        assert!(parse(&cpus2)
            .unwrap_err()
            .contains("cpus = 2: one vCPU per domain"));
        let mmu = tree(
            |w| {
                w.property_array_u32("memory", &[0, 0x4000]).unwrap();
                w.property_string("v8r_el1_msa", "mmu").unwrap();
                w.property_array_u32("xen,static-mem", &[0, 0x2000_0000, 0, 0x100_0000])
                    .unwrap();
            },
            |_| {},
        );
        assert!(parse(&mmu)
            .unwrap_err()
            .contains("\"mmu\": EL1 with an MMU is not supported yet"));
    }

    #[test]
    fn memory_must_match_static_memory_and_static_memory_is_required() {
        let mismatch = tree(
            |w| {
                w.property_array_u32("memory", &[0, 0x8000]).unwrap();
                w.property_array_u32("xen,static-mem", &[0, 0x2000_0000, 0, 0x100_0000])
                    .unwrap();
            },
            |_| {},
        );
        assert!(parse(&mismatch)
            .unwrap_err()
            .contains("memory = 32768 KiB but xen,static-mem gives 16384 KiB"));
        let none = tree(
            |w| w.property_array_u32("memory", &[0, 0x4000]).unwrap(),
            |_| {},
        );
        assert!(parse(&none)
            .unwrap_err()
            .contains("xen,static-mem is missing"));
    }

    #[test]
    fn bootargs_must_be_a_terminated_utf8_string() {
        let bad = tree(good, |w| w.property("bootargs", &[0xff, 0xfe, 0]).unwrap());
        assert!(parse(&bad)
            .unwrap_err()
            .contains("bootargs is malformed (UTF-8 text)"));
        let unterminated = tree(good, |w| w.property("bootargs", b"abc").unwrap());
        assert!(parse(&unterminated).unwrap_err().contains("NUL-terminated"));
    }
}
