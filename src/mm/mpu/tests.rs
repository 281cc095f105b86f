// SPDX-License-Identifier: GPL-2.0-only
//! Tests of the MPU core, written from the rules in the module documentation and the
//! boot-image issue: each test names the rule it checks and asserts the table and the
//! exact register writes.
use super::fake::{FakeMpu, HwEvent};
use super::*;
use crate::mm::PhysRange;

const K4: u64 = 0x1000;

fn r(start: u64, end: u64) -> PhysRange {
    PhysRange::new(start, end)
}

fn mpu(count: u8) -> Mpu<FakeMpu> {
    Mpu::new(MpuTable::new(count, 40), FakeMpu::new())
}

use super::model::{never_overlapping, snapshot as state};

/// Assert that `op` fails with `expected` and changes nothing.
fn refused(
    m: &mut Mpu<FakeMpu>,
    expected: MpuError,
    op: impl FnOnce(&mut Mpu<FakeMpu>) -> Result<(), MpuError>,
) {
    let before = state(m);
    assert_eq!(op(m), Err(expected));
    assert_eq!(
        state(m),
        before,
        "a failed operation changed the table or the hardware"
    );
}

#[test]
fn map_new_range_programs_lowest_free_region_with_exact_registers() {
    let mut m = mpu(16);
    assert_eq!(m.map(r(0x8000, 0xa000), Attrs::DATA), Ok(0));
    assert_eq!(m.map(r(0x2000, 0x3000), Attrs::TEXT), Ok(1));
    assert_eq!(
        m.hw().log,
        vec![
            HwEvent::Write {
                index: 0,
                prbar: 0x8000 | 0x30 | 0b10,
                prlar: 0x9fc0 | (3 << 1) | 1
            },
            HwEvent::Sync,
            HwEvent::Write {
                index: 1,
                prbar: 0x2000 | 0x30 | 0b1000,
                prlar: 0x2fc0 | (3 << 1) | 1
            },
            HwEvent::Sync,
        ]
    );
    assert_eq!(m.table().get(0).unwrap().refcount, 0);
}

#[test]
fn map_reuses_freed_slot_first() {
    let mut m = mpu(16);
    m.map(r(0, K4), Attrs::DATA).unwrap();
    m.map(r(K4, 2 * K4), Attrs::DATA).unwrap();
    m.unmap(r(0, K4)).unwrap();
    assert_eq!(m.map(r(8 * K4, 9 * K4), Attrs::RODATA), Ok(0));
}

/// A new region takes the lowest free slot, beyond the first 64 too, and none at or
/// beyond the implemented count (MPUIR_EL2.REGION): 64, 70, 128 and 255 regions.
#[test]
fn map_takes_the_lowest_free_slot_below_the_implemented_count() {
    for count in [64u8, 70, 128, 255] {
        let mut m = mpu(count);
        let page = |i: u64| r(i * K4, (i + 1) * K4);
        for i in 0..count {
            assert_eq!(m.map(page(i.into()), Attrs::DATA), Ok(i), "count {count}");
        }
        refused(
            &mut m,
            MpuError::Exhausted {
                range: page(300),
                count,
            },
            |m| m.map(page(300), Attrs::DATA).map(drop),
        );
        // Free two slots, the higher one first: the lower is taken first.
        let (lo, hi) = (count / 2 - 1, count - 1);
        m.unmap(page(hi.into())).unwrap();
        m.unmap(page(lo.into())).unwrap();
        assert_eq!(m.map(page(301), Attrs::DATA), Ok(lo), "count {count}");
        assert_eq!(m.map(page(302), Attrs::DATA), Ok(hi), "count {count}");
    }
}

#[test]
fn classify_reports_not_found_exact_contained_and_partial() {
    let mut m = mpu(16);
    m.map(r(0x10000, 0x14000), Attrs::DATA).unwrap();
    let t = m.table();
    assert_eq!(t.classify(r(0x20000, 0x21000)), Ok(Match::NotFound));
    assert_eq!(t.classify(r(0x10000, 0x14000)), Ok(Match::Exact(0)));
    // Inclusive: both edges may coincide with the region's.
    assert_eq!(t.classify(r(0x10000, 0x11000)), Ok(Match::Contained(0)));
    assert_eq!(t.classify(r(0x13000, 0x14000)), Ok(Match::Contained(0)));
    // Adjacent ranges do not overlap.
    assert_eq!(t.classify(r(0x14000, 0x15000)), Ok(Match::NotFound));
    assert_eq!(t.classify(r(0xf000, 0x10000)), Ok(Match::NotFound));
    for partial in [r(0xf000, 0x11000), r(0x13000, 0x15000), r(0xf000, 0x15000)] {
        assert_eq!(
            t.classify(partial),
            Err(MpuError::PartialOverlap {
                range: partial,
                index: 0,
                region: r(0x10000, 0x14000)
            })
        );
    }
}

#[test]
fn map_exact_or_contained_with_same_attributes_bumps_refcount_without_writes() {
    let mut m = mpu(16);
    m.map(r(0, 4 * K4), Attrs::RODATA).unwrap();
    let writes = m.hw().log.len();
    assert_eq!(m.map(r(0, 4 * K4), Attrs::RODATA), Ok(0));
    assert_eq!(m.map(r(K4, 2 * K4), Attrs::RODATA), Ok(0));
    assert_eq!(m.table().get(0).unwrap().refcount, 2);
    assert_eq!(m.hw().log.len(), writes);
}

#[test]
fn map_refcount_overflow_at_255_is_refused() {
    let mut m = mpu(4);
    m.map(r(0, K4), Attrs::DATA).unwrap();
    for _ in 0..255 {
        m.map(r(0, K4), Attrs::DATA).unwrap();
    }
    assert_eq!(m.table().get(0).unwrap().refcount, MAX_REFCOUNT);
    refused(
        &mut m,
        MpuError::RefcountOverflow {
            range: r(0, K4),
            index: 0,
        },
        |m| m.map(r(0, K4), Attrs::DATA).map(drop),
    );
}

#[test]
fn map_with_other_attributes_over_existing_region_is_refused() {
    let mut m = mpu(4);
    m.map(r(0, 2 * K4), Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::AttributeMismatch {
            range: r(0, K4),
            index: 0,
            existing: Attrs::DATA,
            requested: Attrs::RODATA,
        },
        |m| m.map(r(0, K4), Attrs::RODATA).map(drop),
    );
}

#[test]
fn map_partial_overlap_is_refused() {
    let mut m = mpu(4);
    m.map(r(K4, 3 * K4), Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::PartialOverlap {
            range: r(0, 2 * K4),
            index: 0,
            region: r(K4, 3 * K4),
        },
        |m| m.map(r(0, 2 * K4), Attrs::DATA).map(drop),
    );
}

#[test]
fn map_with_no_free_region_reports_exhaustion() {
    let mut m = mpu(3);
    for i in 0..3 {
        m.map(r(i * K4, (i + 1) * K4), Attrs::DATA).unwrap();
    }
    refused(
        &mut m,
        MpuError::Exhausted {
            range: r(8 * K4, 9 * K4),
            count: 3,
        },
        |m| m.map(r(8 * K4, 9 * K4), Attrs::DATA).map(drop),
    );
}

#[test]
fn global_rules_reject_bad_ranges_and_wx() {
    let mut m = mpu(4);
    let wx = Attrs::normal(false, false);
    refused(&mut m, MpuError::EmptyRange { range: r(K4, K4) }, |m| {
        m.map(r(K4, K4), Attrs::DATA).map(drop)
    });
    refused(
        &mut m,
        MpuError::EmptyRange {
            range: r(2 * K4, K4),
        },
        |m| m.map(r(2 * K4, K4), Attrs::DATA).map(drop),
    );
    refused(&mut m, MpuError::Misaligned { range: r(0x40, K4) }, |m| {
        m.map(r(0x40, K4), Attrs::DATA).map(drop)
    });
    refused(
        &mut m,
        MpuError::Misaligned {
            range: r(0, 0x1040),
        },
        |m| m.map(r(0, 0x1040), Attrs::DATA).map(drop),
    );
    let high = r(1 << 40, (1 << 40) + K4);
    refused(
        &mut m,
        MpuError::OutOfPhysRange {
            range: high,
            pa_bits: 40,
        },
        |m| m.map(high, Attrs::DATA).map(drop),
    );
    // The last page below the limit is fine.
    assert!(m.map(r((1 << 40) - K4, 1 << 40), Attrs::DATA).is_ok());
    refused(
        &mut m,
        MpuError::WritableExecutable {
            range: r(0, K4),
            attrs: wx,
        },
        |m| m.map(r(0, K4), wx).map(drop),
    );
}

#[test]
fn modify_changes_permissions_of_exact_region_mapped_once() {
    let mut m = mpu(4);
    m.map(r(0, K4), Attrs::DATA).unwrap();
    m.map(r(K4, 3 * K4), Attrs::TEXT).unwrap();
    m.hw_mut().log.clear();
    // RX -> RW (what free_init_memory does to init text).
    assert_eq!(m.modify(r(K4, 3 * K4), Attrs::DATA), Ok(()));
    assert_eq!(
        m.hw().log,
        vec![
            HwEvent::Write {
                index: 1,
                prbar: K4 | 0x30 | 0b10,
                prlar: 0x2fc0 | (3 << 1) | 1
            },
            HwEvent::Sync
        ]
    );
    assert_eq!(m.table().get(1).unwrap().attrs, Attrs::DATA);
}

#[test]
fn modify_with_equal_attributes_is_a_no_op() {
    let mut m = mpu(4);
    m.map(r(0, K4), Attrs::DATA).unwrap();
    m.map(r(0, K4), Attrs::DATA).unwrap();
    let before = state(&m);
    assert_eq!(m.modify(r(0, K4), Attrs::DATA), Ok(()));
    assert_eq!(
        state(&m),
        before,
        "equal attributes must neither write nor bump the refcount"
    );
}

#[test]
fn modify_refuses_memory_type_change_partial_range_shared_region_and_unmapped() {
    let mut m = mpu(4);
    m.map(r(0, 2 * K4), Attrs::DATA).unwrap();
    let dev = Attrs {
        mem: MemType::DeviceNgnre,
        read_only: false,
        exec_never: true,
    };
    refused(
        &mut m,
        MpuError::MemTypeChange {
            range: r(0, 2 * K4),
            index: 0,
            from: MemType::Normal,
            to: MemType::DeviceNgnre,
        },
        |m| m.modify(r(0, 2 * K4), dev),
    );
    refused(
        &mut m,
        MpuError::PartialRange {
            range: r(0, K4),
            index: 0,
            region: r(0, 2 * K4),
        },
        |m| m.modify(r(0, K4), Attrs::RODATA),
    );
    refused(
        &mut m,
        MpuError::NotMapped {
            range: r(4 * K4, 5 * K4),
        },
        |m| m.modify(r(4 * K4, 5 * K4), Attrs::RODATA),
    );
    m.map(r(0, 2 * K4), Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::SharedRegion {
            range: r(0, 2 * K4),
            index: 0,
            mappings: 2,
        },
        |m| m.modify(r(0, 2 * K4), Attrs::RODATA),
    );
    let wx = Attrs::normal(false, false);
    refused(
        &mut m,
        MpuError::WritableExecutable {
            range: r(0, 2 * K4),
            attrs: wx,
        },
        |m| m.modify(r(0, 2 * K4), wx),
    );
}

#[test]
fn unmap_drops_references_then_disables_exact_region() {
    let mut m = mpu(4);
    m.map(r(0, 2 * K4), Attrs::DATA).unwrap();
    m.map(r(0, K4), Attrs::DATA).unwrap(); // contained: refcount 1
    m.hw_mut().log.clear();
    // A contained range may drop a reference while the region is shared.
    assert_eq!(m.unmap(r(0, K4)), Ok(()));
    assert_eq!(m.table().get(0).unwrap().refcount, 0);
    assert!(m.hw().log.is_empty());
    // Mapped once: only the exact range may unmap it.
    refused(
        &mut m,
        MpuError::PartialRange {
            range: r(0, K4),
            index: 0,
            region: r(0, 2 * K4),
        },
        |m| m.unmap(r(0, K4)),
    );
    assert_eq!(m.unmap(r(0, 2 * K4)), Ok(()));
    assert_eq!(
        m.hw().log,
        vec![
            HwEvent::Write {
                index: 0,
                prbar: 0,
                prlar: 0
            },
            HwEvent::Sync
        ]
    );
    assert!(m.table().get(0).is_none());
    assert_eq!(m.table().used_count(), 0);
}

#[test]
fn unmap_of_unmapped_or_partially_overlapping_range_is_refused() {
    let mut m = mpu(4);
    m.map(r(K4, 3 * K4), Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::NotMapped {
            range: r(8 * K4, 9 * K4),
        },
        |m| m.unmap(r(8 * K4, 9 * K4)),
    );
    refused(
        &mut m,
        MpuError::PartialOverlap {
            range: r(0, 2 * K4),
            index: 0,
            region: r(K4, 3 * K4),
        },
        |m| m.unmap(r(0, 2 * K4)),
    );
}

#[test]
fn ioremap_maps_device_memory_rw_xn_and_refuses_normal_memory() {
    let mut m = mpu(4);
    let uart = r(0x9c09_0000, 0x9c09_1000);
    assert_eq!(m.ioremap(uart, MemType::DeviceNgnrne), Ok(0x9c09_0000));
    assert_eq!(m.hw().regs[0], (0x9c09_0000 | 0b10, 0x9c09_0fc0 | 1));
    refused(
        &mut m,
        MpuError::NotDevice {
            range: uart,
            mem: MemType::Normal,
        },
        |m| m.ioremap(uart, MemType::Normal).map(drop),
    );
}

#[test]
fn join_grows_the_upper_region_over_the_lower_after_disabling_it() {
    // free_init_memory's shape: data, init text (RW by now), init data + bss.
    let mut m = mpu(4);
    let (data, init_text, init_data_bss) = (
        r(0x20000, 0x24000),
        r(0x24000, 0x2a000),
        r(0x2a000, 0x30000),
    );
    for range in [data, init_text, init_data_bss] {
        m.map(range, Attrs::DATA).unwrap();
    }
    let regs = m.hw().regs.to_vec();
    m.hw_mut().log.clear();
    assert_eq!(m.join(data, init_text), Ok(1));
    let rw_xn = 0x30 | 0b10;
    assert_eq!(
        m.hw().log,
        vec![
            HwEvent::Write {
                index: 0,
                prbar: 0,
                prlar: 0
            },
            HwEvent::Write {
                index: 1,
                prbar: 0x20000 | rw_xn,
                prlar: 0x29fc0 | (3 << 1) | 1
            },
            HwEvent::Sync
        ]
    );
    never_overlapping(regs, &m.hw().log);
    assert_eq!(m.table().get(0), None, "the lower slot is free");
    assert_eq!(m.table().get(1).unwrap().range, r(0x20000, 0x2a000));

    let regs = m.hw().regs.to_vec();
    m.hw_mut().log.clear();
    assert_eq!(m.join(r(0x20000, 0x2a000), init_data_bss), Ok(2));
    never_overlapping(regs, &m.hw().log);
    let joined = *m.table().get(2).unwrap();
    assert_eq!(
        (joined.range, joined.attrs, joined.refcount),
        (r(0x20000, 0x30000), Attrs::DATA, 0)
    );
    assert_eq!(m.table().used_count(), 1);
    assert_eq!(m.hw().regs[2], encode(r(0x20000, 0x30000), Attrs::DATA));
    assert_eq!(m.hw().enabled().collect::<Vec<_>>(), vec![2]);
    // The freed slot is the next one a map takes.
    assert_eq!(m.map(r(0x40000, 0x41000), Attrs::RODATA), Ok(0));
}

#[test]
fn join_refuses_gaps_other_attributes_shared_partial_and_unmapped_ranges() {
    let mut m = mpu(8);
    let (a, b, c) = (
        r(0x20000, 0x24000),
        r(0x24000, 0x28000),
        r(0x28000, 0x2c000),
    );
    m.map(a, Attrs::DATA).unwrap();
    m.map(b, Attrs::DATA).unwrap();
    m.map(c, Attrs::RODATA).unwrap();
    m.map(r(0x30000, 0x34000), Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::NotAdjacent {
            lower: a,
            upper: r(0x30000, 0x34000),
        },
        |m| m.join(a, r(0x30000, 0x34000)).map(drop),
    );
    // Upper before lower is not adjacent either.
    refused(&mut m, MpuError::NotAdjacent { lower: b, upper: a }, |m| {
        m.join(b, a).map(drop)
    });
    refused(
        &mut m,
        MpuError::JoinAttributes {
            lower: b,
            lower_attrs: Attrs::DATA,
            upper: c,
            upper_attrs: Attrs::RODATA,
        },
        |m| m.join(b, c).map(drop),
    );
    refused(
        &mut m,
        MpuError::NotMapped {
            range: r(0x2c000, 0x30000),
        },
        |m| m.join(c, r(0x2c000, 0x30000)).map(drop),
    );
    refused(
        &mut m,
        MpuError::PartialRange {
            range: r(0x24000, 0x26000),
            index: 1,
            region: b,
        },
        |m| m.join(a, r(0x24000, 0x26000)).map(drop),
    );
    refused(
        &mut m,
        MpuError::Misaligned {
            range: r(0x24000, 0x24040),
        },
        |m| m.join(r(0x20000, 0x24000), r(0x24000, 0x24040)).map(drop),
    );
    // A region mapped twice keeps its shape: the other mapping relies on it.
    m.map(b, Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::SharedRegion {
            range: b,
            index: 1,
            mappings: 2,
        },
        |m| m.join(a, b).map(drop),
    );
    // A domain's region is never joined with rxen's.
    let d = m.map_domain(1, r(0x34000, 0x38000), Attrs::DATA).unwrap();
    refused(
        &mut m,
        MpuError::OwnedByDomain {
            range: r(0x34000, 0x38000),
            index: d,
            domain: 1,
        },
        |m| m.join(r(0x30000, 0x34000), r(0x34000, 0x38000)).map(drop),
    );
}

#[test]
fn from_programmed_rebuilds_mirror_and_rejects_bad_boot_regions() {
    let (tb, tl) = encode(r(0, 0x4000), Attrs::TEXT);
    let (db, dl) = encode(r(0x4000, 0x8000), Attrs::DATA);
    let t = MpuTable::from_programmed(16, 40, [(0, tb, tl), (3, db, dl)]).unwrap();
    assert_eq!(t.used_count(), 2);
    assert_eq!(t.get(3).unwrap().range, r(0x4000, 0x8000));
    assert_eq!(t.get(3).unwrap().attrs, Attrs::DATA);
    assert_eq!(
        MpuTable::from_programmed(16, 40, [(16, tb, tl)]).err(),
        Some(MpuError::BootIndexOutOfRange {
            index: 16,
            count: 16
        })
    );
    assert_eq!(
        MpuTable::from_programmed(16, 40, [(0, tb, tl & !1)]).err(),
        Some(MpuError::BadBootRegion {
            index: 0,
            prbar: tb,
            prlar: tl & !1,
            reason: DecodeError::Disabled
        })
    );
    assert_eq!(
        MpuTable::from_programmed(16, 40, [(0, tb, tl), (1, tb, tl)]).err(),
        Some(MpuError::PartialOverlap {
            range: r(0, 0x4000),
            index: 0,
            region: r(0, 0x4000)
        })
    );
}

#[test]
fn dump_lists_index_range_permissions_type_and_refcount() {
    let mut m = mpu(16);
    m.map(r(0, 0x5000), Attrs::TEXT).unwrap();
    m.ioremap(r(0x9c09_0000, 0x9c09_1000), MemType::DeviceNgnrne)
        .unwrap();
    m.ioremap(r(0x9c09_0000, 0x9c09_1000), MemType::DeviceNgnrne)
        .unwrap();
    let dump = format!("{}", m.table());
    assert_eq!(
        dump,
        "EL2 MPU: 2 of 16 regions in use\n\
         \x20 #0   0x0000000000..0x0000004fff  RO X  Normal-WB  refcount 0\n\
         \x20 #1   0x009c090000..0x009c090fff  RW XN Device-nGnRnE  refcount 1\n"
    );
}

#[test]
fn dump_header_counts_as_core_fmt_prints_them() {
    // One to three digits on each side, including none in use and all in use.
    for count in [1u8, 9, 10, 16, 99, 100, 255] {
        let mut m = mpu(count);
        for used in 0..=count as u64 {
            let dump = format!("{}", m.table());
            let head = dump.lines().next().unwrap();
            assert_eq!(head, format!("EL2 MPU: {used} of {count} regions in use"));
            if used < count as u64 {
                m.map(r(used * 0x1000, (used + 1) * 0x1000), Attrs::DATA)
                    .unwrap();
            }
        }
    }
}

#[test]
fn errors_name_the_range_and_the_rule() {
    let e = MpuError::PartialOverlap {
        range: r(0, 0x2000),
        index: 3,
        region: r(0x1000, 0x3000),
    };
    assert_eq!(
        e.to_string(),
        "range [0x0, 0x2000) partially overlaps MPU region 3 [0x1000, 0x3000)"
    );
    let e = MpuError::Exhausted {
        range: r(0, 0x1000),
        count: 16,
    };
    assert_eq!(
        e.to_string(),
        "range [0x0, 0x1000): all 16 MPU regions are in use"
    );
}

mod model {
    //! Property tests: random operation sequences against the reference model.
    use super::*;
    use crate::mm::mpu::model::{run_sequence, Model, Op};
    use proptest::prelude::*;

    fn range() -> impl Strategy<Value = PhysRange> {
        prop_oneof![
            8 => (0u64..8, 1u64..3).prop_map(|(p, n)| r(p * K4, (p + n) * K4)),
            1 => (0u64..0x18000, 0u64..0x4000).prop_map(|(s, n)| r(s, s + n)),
            1 => (250u64..256, 1u64..12).prop_map(|(p, n)| r(p * K4, (p + n) * K4)),
        ]
    }

    fn attrs() -> impl Strategy<Value = Attrs> {
        // Mostly read-write data, as most of rxen's mappings are (and so that
        // neighbours often share attributes and can be joined).
        prop_oneof![
            1 => Just(Attrs::TEXT),
            1 => Just(Attrs::RODATA),
            4 => Just(Attrs::DATA),
            1 => Just(Attrs::DEVICE),
            1 => Just(Attrs::normal(false, false)),
            1 => Just(Attrs {
                mem: MemType::NormalNc,
                read_only: false,
                exec_never: true
            }),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (range(), attrs()).prop_map(|(r, a)| Op::Map(r, a)),
            3 => range().prop_map(Op::Unmap),
            2 => (range(), attrs()).prop_map(|(r, a)| Op::Modify(r, a)),
            // Adjacent by construction: only the table decides whether they join.
            1 => (0u64..8, 1u64..4, 1u64..3)
                .prop_map(|(p, n, k)| Op::Join(r(p * K4, (p + n) * K4), r((p + n) * K4, (p + n + k) * K4))),
        ]
    }

    /// Sequences that join for real: the window from page 16 on, cut into chunks of
    /// `sizes` pages, each mapped with its attributes (mostly RW data) and, where
    /// `shared` says, mapped twice; then joins of neighbours picked by `picks` from
    /// the regions as they stand (a shadow model tracks them), so joins of joins come
    /// up as in free_init_memory. Refusals (other attributes, shared regions) are in
    /// the mix; `run_sequence` checks every step against the model all the same.
    fn neighbour_ops(sizes: &[u64], attrs: &[bool], shared: &[bool], picks: &[usize]) -> Vec<Op> {
        let mut shadow = Model::new(16, 20);
        let mut ops = Vec::new();
        let mut push = |op: Op, shadow: &mut Model| {
            shadow.apply(op);
            ops.push(op);
        };
        let mut page = 16;
        for (i, &n) in sizes.iter().enumerate() {
            let range = r(page * K4, (page + n) * K4);
            let a = if attrs[i] { Attrs::DATA } else { Attrs::RODATA };
            push(Op::Map(range, a), &mut shadow);
            if shared[i] {
                push(Op::Map(range, a), &mut shadow);
            }
            page += n;
        }
        for &p in picks {
            let mut maps: Vec<PhysRange> = shadow.maps.iter().map(|m| m.0).collect();
            if maps.len() < 2 {
                break;
            }
            maps.sort_by_key(|m| m.start);
            let i = p % (maps.len() - 1);
            push(Op::Join(maps[i], maps[i + 1]), &mut shadow);
        }
        ops
    }

    fn neighbours() -> impl Strategy<Value = Vec<Op>> {
        (
            proptest::collection::vec(1u64..4, 2..12),
            proptest::collection::vec(prop_oneof![5 => Just(true), 1 => Just(false)], 12),
            proptest::collection::vec(prop_oneof![7 => Just(false), 1 => Just(true)], 12),
            proptest::collection::vec(0usize..16, 1..12),
        )
            .prop_map(|(sizes, attrs, shared, picks)| {
                neighbour_ops(&sizes, &attrs, &shared, &picks)
            })
    }

    /// The sequences the property tests draw must reach the successful paths too:
    /// checked on the same strategies with a fixed seed.
    #[test]
    fn the_random_sequences_map_modify_unmap_and_join_for_real() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let general = proptest::collection::vec(op(), 1..60);
        let mut done = [0; 4];
        for _ in 0..512 {
            let ops = general.new_tree(&mut runner).unwrap().current();
            for (d, n) in done.iter_mut().zip(run_sequence(16, 20, &ops)) {
                *d += n;
            }
        }
        assert!(done[..3].iter().all(|&n| n >= 100), "{done:?}");
        let mut joins = [0; 2];
        for _ in 0..256 {
            let ops = neighbours().new_tree(&mut runner).unwrap().current();
            let tried = ops.iter().filter(|o| matches!(o, Op::Join(..))).count();
            let done = run_sequence(16, 20, &ops)[3];
            joins[0] += done;
            joins[1] += tried - done;
        }
        assert!(
            joins.iter().all(|&n| n >= 100),
            "joins (done, refused): {joins:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        #[test]
        fn random_operations_agree_with_model(count in prop_oneof![Just(4u8), Just(8), Just(16)], ops in proptest::collection::vec(op(), 1..60)) {
            run_sequence(count, 20, &ops);
        }

        #[test]
        fn joins_of_neighbours_agree_with_model(ops in neighbours()) {
            run_sequence(16, 20, &ops);
        }
    }
}

mod ownership {
    //! Domain regions (the EL2 MPU as stage 2): ownership and the switch rules.
    use super::super::fake::{FakeMpu, HwEvent};
    use super::super::*;
    use crate::mm::PhysRange;

    const GUEST: Attrs = Attrs::normal(false, true); // RW, XN
    const GUEST_CODE: Attrs = Attrs::normal(true, false); // RO, executable

    fn mpu() -> Mpu<FakeMpu> {
        let mut m = Mpu::new(MpuTable::new(40, 40), FakeMpu::new());
        m.map(PhysRange::new(0, 0x10000), Attrs::TEXT).unwrap();
        m
    }

    #[test]
    fn domain_regions_give_el1_access_and_start_disabled() {
        let mut m = mpu();
        let i = m
            .map_domain(1, PhysRange::new(0x2000_0000, 0x2100_0000), GUEST)
            .unwrap();
        let (prbar, prlar) = m.hw().regs[i as usize];
        assert_eq!((prbar >> 2) & 3, 0b01, "AP: RW at EL2 and EL1/EL0");
        assert_eq!(prbar & 3, 0b10, "XN everywhere for a data region");
        assert_eq!(prlar & 1, 0, "disabled until the domain runs");
        assert_eq!(m.table().owner(i), Owner::Domain(1));
        let code = m
            .map_domain(1, PhysRange::new(0x2100_0000, 0x2101_0000), GUEST_CODE)
            .unwrap();
        let (prbar, _) = m.hw().regs[code as usize];
        assert_eq!(
            ((prbar >> 2) & 3, prbar & 3),
            (0b11, 0b00),
            "RO at all ELs, executable at EL1/EL0"
        );
    }

    #[test]
    fn a_domain_region_never_overlaps_rxen_or_another_domain() {
        let mut m = mpu();
        m.map_domain(1, PhysRange::new(0x2000_0000, 0x2100_0000), GUEST)
            .unwrap();
        let before = m.hw().regs;
        let e = m
            .map_domain(2, PhysRange::new(0x20ff_0000, 0x2200_0000), GUEST)
            .unwrap_err();
        assert!(
            matches!(
                e,
                MpuError::DomainOverlap {
                    owner: Owner::Domain(1),
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "range [0x20ff0000, 0x22000000) for d2 overlaps MPU region 1 [0x20000000, 0x21000000) of d1"
        );
        let e = m
            .map_domain(2, PhysRange::new(0x8000, 0x9000), GUEST)
            .unwrap_err();
        assert!(matches!(
            e,
            MpuError::DomainOverlap {
                owner: Owner::Hypervisor,
                ..
            }
        ));
        assert_eq!(m.hw().regs, before, "refusals write nothing");
        // Guest RAM is RW and executable at EL1 (XN 0b00); EL2 cannot run it since
        // rxen keeps SCTLR_EL2.WXN set.
        let i = m
            .map_domain(
                2,
                PhysRange::new(0x3000_0000, 0x3100_0000),
                Attrs::normal(false, false),
            )
            .unwrap();
        let (prbar, _) = m.hw().regs[i as usize];
        assert_eq!(((prbar >> 2) & 3, prbar & 3), (0b01, 0b00));
    }

    #[test]
    fn rxen_operations_cannot_touch_a_domains_region() {
        let mut m = mpu();
        let r = PhysRange::new(0x2000_0000, 0x2100_0000);
        m.map_domain(1, r, GUEST).unwrap();
        assert!(matches!(
            m.map(r, GUEST),
            Err(MpuError::OwnedByDomain { domain: 1, .. })
        ));
        assert!(matches!(m.unmap(r), Err(MpuError::OwnedByDomain { .. })));
        assert!(matches!(
            m.modify(r, Attrs::RODATA),
            Err(MpuError::OwnedByDomain { .. })
        ));
    }

    #[test]
    fn switching_enables_only_the_running_domains_regions_with_one_prenr_write() {
        let mut m = mpu();
        let a = m
            .map_domain(1, PhysRange::new(0x2000_0000, 0x2100_0000), GUEST)
            .unwrap();
        let b = m
            .map_domain(2, PhysRange::new(0x3000_0000, 0x3100_0000), GUEST)
            .unwrap();
        m.hw_mut().log.clear();
        m.switch_domain(Some(2));
        assert_eq!(m.hw().log, [HwEvent::Prenr(0b1 | (1 << b)), HwEvent::Sync]);
        assert_eq!(m.hw().regs[a as usize].1 & 1, 0);
        assert_eq!(m.hw().regs[b as usize].1 & 1, 1);
        assert_eq!(m.hw().regs[0].1 & 1, 1, "rxen's text stays enabled");
        m.switch_domain(None);
        assert_eq!(
            m.hw().regs[b as usize].1 & 1,
            0,
            "idle: no domain region enabled"
        );
    }

    #[test]
    fn regions_beyond_31_are_switched_by_rewriting_them() {
        let mut m = mpu();
        for k in 1..32u64 {
            m.map(
                PhysRange::new(0x1_0000 * (k + 1), 0x1_0000 * (k + 1) + 0x1000),
                Attrs::DATA,
            )
            .unwrap();
        }
        let hi = m
            .map_domain(3, PhysRange::new(0x4000_0000, 0x4100_0000), GUEST)
            .unwrap();
        assert!(hi >= 32);
        m.hw_mut().log.clear();
        m.switch_domain(Some(3));
        assert_eq!(m.hw().regs[hi as usize].1 & 1, 1);
        assert!(m.hw().log.contains(&HwEvent::Prenr(u32::MAX)));
        m.unmap_domain(3);
        assert_eq!(m.table().domain_slots(3).count(), 0);
        assert_eq!(m.hw().regs[hi as usize], (0, 0));
    }
}

mod ownership_props {
    //! Random sequences of rxen and domain mappings and switches: after every step no
    //! two regions share a byte, rxen's regions are enabled and EL2-only, and a
    //! domain's regions give EL1 access and are enabled exactly while it is current.
    //! A refused operation changes neither the table nor the hardware.
    use super::super::fake::FakeMpu;
    use super::super::*;
    use crate::mm::PhysRange;
    use proptest::prelude::*;

    #[derive(Clone, Copy, Debug)]
    enum Step {
        MapRxen(PhysRange),
        UnmapRxen(PhysRange),
        MapDomain(u16, PhysRange),
        UnmapDomain(u16),
        Switch(Option<u16>),
    }

    fn range() -> impl Strategy<Value = PhysRange> {
        (0u64..64, 1u64..8).prop_map(|(p, n)| PhysRange::new(p * 0x1000, (p + n) * 0x1000))
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => range().prop_map(Step::MapRxen),
            1 => range().prop_map(Step::UnmapRxen),
            4 => (1u16..4, range()).prop_map(|(d, r)| Step::MapDomain(d, r)),
            1 => (1u16..4).prop_map(Step::UnmapDomain),
            3 => prop::option::of(1u16..4).prop_map(Step::Switch),
        ]
    }

    fn check(m: &Mpu<FakeMpu>, current: Option<u16>) -> Result<(), TestCaseError> {
        let t = m.table();
        let used: std::vec::Vec<_> = t.iter().collect();
        for (k, (i, a)) in used.iter().enumerate() {
            for (j, b) in &used[k + 1..] {
                prop_assert!(!a.range.overlaps(&b.range), "regions {i} and {j} overlap");
            }
            let (prbar, prlar) = m.hw().regs[*i as usize];
            let el1 = prbar & (1 << 2) != 0;
            match t.owner(*i) {
                Owner::Hypervisor => {
                    prop_assert!(!el1, "rxen region {i} gives EL1 access");
                    prop_assert!(prlar & 1 == 1, "rxen region {i} disabled");
                }
                Owner::Domain(d) => {
                    prop_assert!(el1, "d{d} region {i} has no EL1 access");
                    prop_assert_eq!(
                        prlar & 1 == 1,
                        Some(d) == current,
                        "d{} region {} enable",
                        d,
                        i
                    );
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn ownership_and_switching_keep_their_invariants(
            count in prop_oneof![Just(8u8), Just(16), Just(40)],
            steps in proptest::collection::vec(step(), 1..40),
        ) {
            let mut m = Mpu::new(MpuTable::new(count, 40), FakeMpu::new());
            let mut current = None;
            for s in steps {
                let (before_regs, before_used) = (m.hw().regs, m.table().used_count());
                let ok = match s {
                    Step::MapRxen(r) => m.map(r, Attrs::DATA).is_ok(),
                    // Often refused (not mapped, or a domain's): that changes nothing.
                    Step::UnmapRxen(r) => m.unmap(r).is_ok(),
                    Step::MapDomain(d, r) => {
                        let ok = m.map_domain(d, r, Attrs::normal(false, false)).is_ok();
                        // A new region starts disabled; the running domain's is switched on.
                        if ok && current == Some(d) {
                            m.switch_domain(current);
                        }
                        ok
                    }
                    Step::UnmapDomain(d) => {
                        m.unmap_domain(d);
                        true
                    }
                    Step::Switch(to) => {
                        m.switch_domain(to);
                        current = to;
                        true
                    }
                };
                if !ok {
                    prop_assert_eq!(m.hw().regs, before_regs, "a refusal wrote the hardware");
                    prop_assert_eq!(m.table().used_count(), before_used);
                }
                check(&m, current)?;
            }
        }
    }
}
