// SPDX-License-Identifier: GPL-2.0-only
//! The checks the fuzz targets run (fuzz/), kept here so the normal test suite can
//! replay the committed corpus with exactly the same code. A panic is a finding.
use crate::domain::config::{DomainConfig, MAX_DOMAINS};
use crate::dt::{self, Fdt, Node};
use crate::mm::mpu::model::{ops_from_bytes, run_sequence};
use crate::mm::PhysRange;

/// Arbitrary bytes as the device tree setup reads: never a panic, whatever they are.
pub fn device_tree(data: &[u8]) {
    let image = PhysRange::new(0, 0x40000);
    let blob = PhysRange::new(0x7f00_0000, 0x7f00_0000 + data.len() as u64);
    // Setup's one pass gives what checking the blob and then reading it gives.
    let mut checked = dt::BootInfo::new();
    let one_fdt = dt::parse_checked(data, image, blob, 40, &mut checked);
    let one_pass = one_fdt.map(|_| checked);
    let two_passes = Fdt::new(data)
        .map_err(dt::DtError::from)
        .and_then(|fdt| dt::parse(&fdt, image, blob, 40));
    assert_eq!(one_pass, two_passes);
    let Ok(fdt) = Fdt::new(data) else { return };
    if let Ok(one) = one_fdt {
        // The /chosen the one pass kept is the one a search finds.
        assert_eq!(domains(&one), domains(&fdt));
    }
    if let Ok(info) = dt::parse(&fdt, image, blob, 40) {
        // Whatever was accepted obeys the rules setup relies on.
        let mut pieces = 0;
        info.mappable_ram(|r| {
            pieces += 1;
            assert!(info.ram().any(|b| b.contains_range(&r)), "{r} outside RAM");
            for res in info.reserved().iter().filter(|x| x.no_map) {
                assert!(!res.range.overlaps(&r), "{r} maps no-map {}", res.range);
            }
        });
        for h in info.static_heaps() {
            assert!(info.reserved().iter().all(|x| !x.range.overlaps(h)));
            assert!(!h.overlaps(&image) && !h.overlaps(&blob));
        }
        let _ = pieces;
    }
    let _ = fdt.memreserve().count();
    walk(&fdt.root(), 0);
    for path in [
        "/chosen",
        "/aliases",
        "/memory",
        "/cpus/cpu@0",
        "//",
        "/a/b/c",
    ] {
        if let Some(n) = fdt.find(path) {
            let _ = n.prop_str("stdout-path");
            let _ = n.has_str("compatible", "arm,pl011");
            let _ = n.prop_u32("#address-cells");
        }
    }
}

fn domains<'a>(
    fdt: &Fdt<'a>,
) -> (
    Result<usize, dt::domains::DomainDtError<'a>>,
    [Option<DomainConfig<'a>>; MAX_DOMAINS],
) {
    let mut out = [None; MAX_DOMAINS];
    (dt::domains::parse_domains(fdt, &mut out), out)
}

fn walk(node: &Node, depth: usize) {
    assert!(
        depth <= dt::fdt::MAX_DEPTH,
        "walk deeper than the validated depth"
    );
    for (name, value) in node.props() {
        let _ = (name.len(), value.len());
    }
    for child in node.children() {
        walk(&child, depth + 1);
    }
}

/// Arbitrary bytes as a sequence of MPU operations, checked against the reference
/// model and the invariants after every step.
pub fn mpu_ops(data: &[u8]) {
    let (count, ops) = ops_from_bytes(data);
    run_sequence(count, 20, &ops);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Replays every committed corpus file through its check.
    fn replay(target: &str, check: fn(&[u8])) -> usize {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let r = std::panic::catch_unwind(|| check(&data));
            assert!(
                r.is_ok(),
                "corpus file {} makes {target} panic",
                path.display()
            );
            n += 1;
        }
        n
    }

    #[test]
    fn device_tree_corpus_replays() {
        assert!(
            replay("device_tree", super::device_tree) >= 8,
            "the device-tree seed corpus is missing"
        );
    }

    #[test]
    fn mpu_ops_corpus_replays() {
        assert!(
            replay("mpu_ops", super::mpu_ops) >= 4,
            "the MPU seed corpus is missing"
        );
    }
}
