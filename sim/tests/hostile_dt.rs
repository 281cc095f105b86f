// SPDX-License-Identifier: GPL-2.0-only
//! Hostile and unusual device trees booted in r82sim. Each broken tree must end with
//! a clear error naming the problem and exit status 1: never a hang, a silent fault,
//! or a corrupted MPU map. A valid tree with several banks and the heap in the second
//! must boot.
mod common;

use common::boot_blob;
use vm_fdt::FdtWriter;

/// A tree in the FVP BaseR shape, with every part a test may change.
struct Tree {
    banks: Vec<(u64, u64)>,
    heap: Option<(u64, u64)>,
    stdout: &'static str,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            banks: vec![(0, 0x8000_0000)],
            heap: Some((0x1000_0000, 0x100_0000)),
            stdout: "serial0:115200n8",
        }
    }
}

impl Tree {
    fn build(&self) -> Vec<u8> {
        let mut w = FdtWriter::new().unwrap();
        let root = w.begin_node("").unwrap();
        w.property_u32("#address-cells", 2).unwrap();
        w.property_u32("#size-cells", 2).unwrap();
        let aliases = w.begin_node("aliases").unwrap();
        w.property_string("serial0", "/uart@9c090000").unwrap();
        w.end_node(aliases).unwrap();
        let chosen = w.begin_node("chosen").unwrap();
        w.property_string("bootargs", "").unwrap();
        w.property_string("stdout-path", self.stdout).unwrap();
        if let Some((a, s)) = self.heap {
            w.property_array_u64("xen,static-heap", &[a, s]).unwrap();
        }
        w.end_node(chosen).unwrap();
        for (i, (a, s)) in self.banks.iter().enumerate() {
            let m = w.begin_node(&format!("memory@{i}")).unwrap();
            w.property_string("device_type", "memory").unwrap();
            w.property_array_u64("reg", &[*a, *s]).unwrap();
            w.end_node(m).unwrap();
        }
        let u = w.begin_node("uart@9c090000").unwrap();
        w.property_string_list(
            "compatible",
            vec!["arm,pl011".into(), "arm,primecell".into()],
        )
        .unwrap();
        w.property_array_u64("reg", &[0x9c09_0000, 0x1000]).unwrap();
        w.end_node(u).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }
}

/// The run stopped with status 1 and `msg` on the console, and the MPU map is sane:
/// no two enabled regions overlap and the boot head's text region is intact.
fn refused(blob: Vec<u8>, regions: u8, msg: &str) {
    let (m, o) = boot_blob(blob, regions);
    let out = m.console_text();
    assert_eq!(
        o.status, 1,
        "expected status 1 for {msg:?}, got {:?}:\n{out}",
        o.reason
    );
    assert!(out.contains(msg), "expected {msg:?} on the console:\n{out}");
    assert!(out.contains("stopping with status 1"), "{out}");
    assert!(
        m.mpu().overlaps().is_empty(),
        "overlapping regions after {msg:?}"
    );
    let text = m.mpu().region(0);
    assert!(text.enabled() && text.base() == 0 && text.limit() == m.symbol("_etext").unwrap() - 1);
}

#[test]
fn truncated_tree() {
    let blob = Tree::default().build();
    let cut = blob[..blob.len() * 3 / 5].to_vec();
    // What lies past the cut is whatever RAM holds (r82sim's fill pattern, as RAM is
    // not zero on the FVP): the error names the device tree, whichever check fails.
    refused(cut, 16, "ERROR: device tree: ");
}

#[test]
fn bad_magic_and_bad_version() {
    let mut blob = Tree::default().build();
    blob[0] = 0xde;
    refused(blob, 16, "device tree: bad magic 0xde0dfeed");
    let mut blob = Tree::default().build();
    blob[20..24].copy_from_slice(&1u32.to_be_bytes());
    refused(
        blob,
        16,
        "device tree: version 1 (last compatible 16) is not supported",
    );
}

#[test]
fn no_memory_node() {
    refused(
        Tree {
            banks: vec![],
            ..Tree::default()
        }
        .build(),
        16,
        "device tree: no memory node",
    );
}

#[test]
fn overlapping_and_zero_sized_banks() {
    let t = Tree {
        banks: vec![(0, 0x8000_0000), (0x7000_0000, 0x2000_0000)],
        ..Tree::default()
    };
    refused(
        t.build(),
        16,
        "memory banks [0x0, 0x80000000) and [0x70000000, 0x90000000) overlap",
    );
    let t = Tree {
        banks: vec![(0, 0x8000_0000), (0x88_0000_0000, 0)],
        ..Tree::default()
    };
    refused(
        t.build(),
        16,
        "memory bank [0x8800000000, 0x8800000000) is empty",
    );
}

#[test]
fn static_heap_over_the_image_or_outside_memory() {
    let t = Tree {
        heap: Some((0x4000, 0x10_0000)),
        ..Tree::default()
    };
    refused(
        t.build(),
        16,
        "static heap [0x4000, 0x104000) overlaps the image",
    );
    let t = Tree {
        heap: Some((0x9000_0000, 0x10_0000)),
        ..Tree::default()
    };
    refused(
        t.build(),
        16,
        "static heap [0x90000000, 0x90100000) is not inside one memory bank",
    );
    let t = Tree {
        heap: None,
        ..Tree::default()
    };
    refused(t.build(), 16, "/chosen has no xen,static-heap");
}

#[test]
fn stdout_path_to_a_missing_node() {
    let t = Tree {
        stdout: "/uart@1c090000",
        ..Tree::default()
    };
    refused(
        t.build(),
        16,
        "stdout-path \"/uart@1c090000\" names no node",
    );
}

#[test]
fn memory_above_the_physical_address_range() {
    let t = Tree {
        banks: vec![(0, 0x8000_0000), (1 << 40, 0x1000_0000)],
        ..Tree::default()
    };
    refused(t.build(), 16, "is beyond the 40-bit physical address range");
}

#[test]
fn more_banks_than_free_mpu_regions() {
    // 10 regions: six for the boot map and one for the device tree leave three.
    let mut banks = vec![(0, 0x8000_0000)];
    banks.extend((0..5).map(|i| (0x80_0000_0000 + i * 0x1_0000_0000, 0x1000_0000)));
    refused(Tree { banks, ..Tree::default() }.build(), 10, "memory bank 4 [0x8300000000, 0x8310000000): range [0x8300000000, 0x8310000000): all 10 MPU regions are in use");
}

#[test]
fn several_banks_with_the_heap_in_the_second_boot() {
    // r82sim models DRAM at [0, 2 GiB): three banks inside it, the image in the first,
    // the device tree (at 0x7f000000) in none.
    let t = Tree {
        banks: vec![
            (0, 0x2000_0000),
            (0x4000_0000, 0x2000_0000),
            (0x6000_0000, 0x1000_0000),
        ],
        heap: Some((0x4800_0000, 0x20_0000)),
        ..Tree::default()
    };
    let (m, o) = boot_blob(t.build(), 16);
    let out = m.console_text();
    assert_eq!(o.status, 0, "{out}");
    assert!(
        out.contains("memory bank 1: [0x40000000, 0x60000000) (512 MiB) mapped as MPU region"),
        "{out}"
    );
    assert!(out.contains("heap: [0x48000000, 0x48200000)"), "{out}");
    // The heap shares the second bank's region (one more reference), not a new one.
    assert!(
        out.contains("0x0040000000..0x005fffffff  RW XN Normal-WB  refcount 1"),
        "{out}"
    );
    assert!(m.mpu().overlaps().is_empty());
}

#[test]
fn a_heap_in_memory_that_does_not_answer_is_reported_as_an_unexpected_abort() {
    // r82sim has no memory at 0x80_0000_0000: the first heap write takes a synchronous
    // external abort, which the vectors report with the syndrome and the MPU map.
    let t = Tree {
        banks: vec![(0, 0x8000_0000), (0x80_0000_0000, 0x4000_0000)],
        heap: Some((0x80_1000_0000, 0x20_0000)),
        ..Tree::default()
    };
    let (m, o) = boot_blob(t.build(), 16);
    let out = m.console_text();
    assert_eq!(o.status, 2, "{out}");
    assert!(
        out.contains("FATAL: unexpected exception (EL2h sync)"),
        "{out}"
    );
    assert!(
        out.contains("EC 0x25 data abort at EL2, SyncExternal fault (FSC 0x10), write"),
        "{out}"
    );
    assert!(out.contains("FAR_EL2 0x0000008010000000"), "{out}");
    assert!(
        out.contains("EL2 MPU: ") && out.contains("stopping with status 2"),
        "{out}"
    );
}
