// SPDX-License-Identifier: GPL-2.0-only
//! Device-tree rules, each tested on a blob built for it.
use super::*;
use vm_fdt::FdtWriter;

const IMAGE: PhysRange = PhysRange::new(0, 0x40000);
/// Where the tests say the blob lies (r82sim's address for it).
const DTB: PhysRange = PhysRange::new(0x7f00_0000, 0x7f01_0000);

/// A platform description in the shape the FVP BaseR DTB has.
struct Tree {
    banks: Vec<(u64, u64)>,
    heap: Option<Vec<u64>>,
    stdout: Option<&'static str>,
    bootargs: &'static str,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            banks: vec![(0, 0x8000_0000)],
            heap: Some(vec![0x1000_0000, 0x100_0000]),
            stdout: Some("serial0:115200n8"),
            bootargs: "rxen.selftest=write-text",
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
        w.property_string("xen,xen-bootargs", self.bootargs)
            .unwrap();
        if let Some(s) = self.stdout {
            w.property_string("stdout-path", s).unwrap();
        }
        if let Some(h) = &self.heap {
            w.property_array_u64("xen,static-heap", h).unwrap();
        }
        w.end_node(chosen).unwrap();
        for (i, &(a, s)) in self.banks.iter().enumerate() {
            let m = w.begin_node(&format!("memory@{i:x}")).unwrap();
            w.property_string("device_type", "memory").unwrap();
            w.property_array_u64("reg", &[a, s]).unwrap();
            w.end_node(m).unwrap();
        }
        let uart = w.begin_node("uart@9c090000").unwrap();
        w.property_string_list(
            "compatible",
            vec!["arm,pl011".into(), "arm,primecell".into()],
        )
        .unwrap();
        w.property_array_u64("reg", &[0x9c09_0000, 0x1000]).unwrap();
        w.end_node(uart).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }
}

fn parse_tree(t: &Tree) -> Result<(PhysRange, usize, Option<Console<'static>>), String> {
    let blob: &'static [u8] = Box::leak(t.build().into_boxed_slice());
    let fdt = Fdt::new(blob).map_err(|e| e.to_string())?;
    let parsed = parse(&fdt, IMAGE, DTB, 40);
    // Setup reads the blob with `parse_checked`: the same answer.
    let mut checked = BootInfo::new();
    let r = parse_checked(blob, IMAGE, DTB, 40, &mut checked).map(|_| checked);
    assert_eq!(r, parsed);
    let info = parsed.map_err(|e| e.to_string())?;
    Ok((info.static_heaps()[0], info.banks().len(), info.console))
}

#[test]
fn fvp_like_tree_gives_banks_heap_console_and_bootargs() {
    let blob = Tree::default().build();
    let fdt = Fdt::new(&blob).unwrap();
    let info = parse(&fdt, IMAGE, DTB, 40).unwrap();
    assert_eq!(
        info.ram().collect::<Vec<_>>(),
        [PhysRange::new(0, 0x8000_0000)]
    );
    assert_eq!(
        info.static_heaps(),
        [PhysRange::new(0x1000_0000, 0x1100_0000)]
    );
    assert_eq!(
        info.console,
        Some(Console {
            path: "/uart@9c090000",
            regs: PhysRange::new(0x9c09_0000, 0x9c09_1000)
        })
    );
    assert_eq!(info.bootargs, "rxen.selftest=write-text");
    assert_eq!(fdt.total_size(), blob.len());
}

#[test]
fn several_banks_with_heap_in_the_second() {
    let t = Tree {
        banks: vec![(0, 0x4000_0000), (0x8_8000_0000, 0x4000_0000)],
        heap: Some(vec![0x8_9000_0000, 0x20_0000]),
        ..Tree::default()
    };
    assert_eq!(
        parse_tree(&t).unwrap().0,
        PhysRange::new(0x8_9000_0000, 0x8_9020_0000)
    );
    assert_eq!(parse_tree(&t).unwrap().1, 2);
}

#[test]
fn absolute_stdout_path_and_no_stdout_path() {
    let t = Tree {
        stdout: Some("/uart@9c090000"),
        ..Tree::default()
    };
    assert_eq!(parse_tree(&t).unwrap().2.unwrap().regs.start, 0x9c09_0000);
    let t = Tree {
        stdout: None,
        ..Tree::default()
    };
    assert_eq!(parse_tree(&t).unwrap().2, None);
}

#[test]
fn memory_rules_are_enforced_with_named_errors() {
    let cases: &[(Vec<(u64, u64)>, &str)] = &[
        (vec![], "device tree: no memory node (device_type = \"memory\", status okay)"),
        (vec![(0, 0x8000_0000), (0x9000_0000, 0)], "device tree: memory bank [0x90000000, 0x90000000) is empty"),
        (
            vec![(0, 0x8000_0000), (0x7000_0000, 0x2000_0000)],
            "device tree: memory banks [0x0, 0x80000000) and [0x70000000, 0x90000000) overlap",
        ),
        (
            vec![(0, 0x8000_0000), (0x100_0000_0000, 0x1000)],
            "device tree: memory bank [0x10000000000, 0x10000001000) is beyond the 40-bit physical address range",
        ),
    ];
    for (banks, msg) in cases {
        let t = Tree {
            banks: banks.clone(),
            ..Tree::default()
        };
        assert_eq!(parse_tree(&t).unwrap_err(), *msg);
    }
    let many: Vec<_> = (0..17).map(|i| (i * 0x1000_0000, 0x1000_0000)).collect();
    assert_eq!(
        parse_tree(&Tree {
            banks: many,
            ..Tree::default()
        })
        .unwrap_err(),
        "device tree: more than 16 memory banks"
    );
}

#[test]
fn static_heap_rules_are_enforced_with_named_errors() {
    let heap = |h: Option<Vec<u64>>| {
        parse_tree(&Tree {
            heap: h,
            ..Tree::default()
        })
        .unwrap_err()
    };
    assert_eq!(
        heap(None),
        "device tree: /chosen has no xen,static-heap (rxen needs at least one heap bank)"
    );
    assert_eq!(
        heap(Some(vec![0x20000, 0x40000])),
        "device tree: static heap [0x20000, 0x60000) overlaps the image at [0x0, 0x40000)"
    );
    assert_eq!(
        heap(Some(vec![0x7ff0_0000, 0x20_0000])),
        "device tree: static heap [0x7ff00000, 0x80100000) is not inside one memory bank (after rounding banks inward to 4 KiB)"
    );
    assert_eq!(
        heap(Some(vec![0x1000_0800, 0x1000])),
        "device tree: xen,static-heap bank [0x10000800, 0x10001800) is not a non-empty, 4 KiB aligned range"
    );
    assert_eq!(
        heap(Some(vec![0x1000_0000, 0])),
        "device tree: xen,static-heap bank [0x10000000, 0x10000000) is not a non-empty, 4 KiB aligned range"
    );
    assert_eq!(
        heap(Some(vec![0x1000_0000, 0x2000, 0x1000_1000, 0x1000])),
        "device tree: static heap [0x10001000, 0x10002000) overlaps the static heap at [0x10000000, 0x10002000)"
    );
    assert_eq!(
        heap(Some(vec![0x7f00_8000, 0x1000])),
        "device tree: static heap [0x7f008000, 0x7f009000) overlaps the device tree at [0x7f000000, 0x7f010000)"
    );
    assert_eq!(
        heap(Some(vec![0x1000_0000])),
        "device tree: xen,static-heap is not a whole, non-empty list of (address, size) pairs"
    );
}

#[test]
fn stdout_path_to_missing_node_is_an_error() {
    let t = Tree {
        stdout: Some("/uart@1c090000"),
        ..Tree::default()
    };
    assert_eq!(
        parse_tree(&t).unwrap_err(),
        "device tree: stdout-path \"/uart@1c090000\" names no node"
    );
    let t = Tree {
        stdout: Some("serial7"),
        ..Tree::default()
    };
    assert_eq!(
        parse_tree(&t).unwrap_err(),
        "device tree: stdout-path \"serial7\" names no node"
    );
}

#[test]
fn header_errors_name_the_problem() {
    let blob = Tree::default().build();
    assert_eq!(
        Fdt::new(&blob[..20]).err(),
        Some(FdtError::Truncated { len: 20 })
    );
    assert_eq!(
        Fdt::new(&blob[..100]).err(),
        Some(FdtError::BadTotalSize {
            total: blob.len() as u32,
            len: 100
        })
    );
    let mut bad = blob.clone();
    bad[0] = 0;
    assert_eq!(Fdt::new(&bad).err(), Some(FdtError::BadMagic(0x000d_feed)));
    let mut bad = blob.clone();
    bad[20..24].copy_from_slice(&1u32.to_be_bytes());
    assert_eq!(
        Fdt::new(&bad).err(),
        Some(FdtError::BadVersion {
            version: 1,
            last_comp: 16
        })
    );
    // A later version is read when it declares itself compatible with 16 or 17
    // (devicetree spec 5.2); one that is not compatible is refused.
    let mut later = blob.clone();
    later[20..24].copy_from_slice(&18u32.to_be_bytes());
    assert!(Fdt::new(&later).is_ok());
    later[24..28].copy_from_slice(&18u32.to_be_bytes());
    assert_eq!(
        Fdt::new(&later).err(),
        Some(FdtError::BadVersion {
            version: 18,
            last_comp: 18
        })
    );
    // Structure block running past totalsize.
    let mut bad = blob.clone();
    bad[36..40].copy_from_slice(&(blob.len() as u32).to_be_bytes());
    assert!(matches!(
        Fdt::new(&bad).err(),
        Some(FdtError::BadBlock {
            block: "structure",
            ..
        })
    ));
}

#[test]
fn structure_errors_are_found_before_any_query() {
    let blob = Tree::default().build();
    let off_struct = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
    // A property token whose length runs off the block.
    let mut bad = blob.clone();
    let root_prop = off_struct + 8; // BEGIN_NODE "" (8 bytes), then the first PROP
    assert_eq!(
        u32::from_be_bytes(bad[root_prop..root_prop + 4].try_into().unwrap()),
        3
    );
    bad[root_prop + 4..root_prop + 8].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
    assert_eq!(
        Fdt::new(&bad).err(),
        Some(FdtError::BadStructure(root_prop))
    );
    // An unknown token.
    let mut bad = blob.clone();
    bad[root_prop..root_prop + 4].copy_from_slice(&7u32.to_be_bytes());
    assert_eq!(
        Fdt::new(&bad).err(),
        Some(FdtError::BadStructure(root_prop))
    );
}

/// A blob that breaks a rule of the format is refused whole, with the format's
/// error, even when a node before the fault breaks a rule of its own: nothing read
/// from a malformed blob counts.
#[test]
fn a_malformed_blob_is_refused_with_its_format_error_whatever_it_holds() {
    let t = Tree {
        banks: vec![(0, 0)],
        ..Tree::default()
    };
    let blob = t.build();
    let mut info = BootInfo::new();
    assert_eq!(
        parse_checked(&blob, IMAGE, DTB, 40, &mut info).err(),
        Some(DtError::EmptyBank {
            bank: PhysRange::new(0, 0)
        })
    );
    // The same tree with its last token (FDT_END) unknown.
    let off_struct = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
    let size_struct = u32::from_be_bytes(blob[36..40].try_into().unwrap()) as usize;
    let end = off_struct + size_struct - 4;
    assert_eq!(
        u32::from_be_bytes(blob[end..end + 4].try_into().unwrap()),
        9
    );
    let mut bad = blob.clone();
    bad[end..end + 4].copy_from_slice(&0x10u32.to_be_bytes());
    let mut info = BootInfo::new();
    let want = DtError::Fdt(FdtError::BadStructure(end));
    assert_eq!(
        parse_checked(&bad, IMAGE, DTB, 40, &mut info).err(),
        Some(want)
    );
    assert_eq!(Fdt::new(&bad).err().map(DtError::from), Some(want));
    // A name offset outside the strings block in the last property.
    let mut bad = blob.clone();
    let last_prop = (off_struct..end)
        .step_by(4)
        .rfind(|&o| u32::from_be_bytes(bad[o..o + 4].try_into().unwrap()) == 3)
        .unwrap();
    bad[last_prop + 8..last_prop + 12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    let mut info = BootInfo::new();
    assert_eq!(
        parse_checked(&bad, IMAGE, DTB, 40, &mut info).err(),
        Some(DtError::Fdt(FdtError::BadString(0xffff_fff0)))
    );
}

mod rules;

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever bytes change, reading answers Ok or a typed error; it never panics.
        #[test]
        fn corrupted_blobs_never_panic(edits in proptest::collection::vec((0usize..2000, any::<u8>()), 1..8), cut in 0usize..2000) {
            let mut blob = Tree::default().build();
            for (i, b) in edits {
                let n = blob.len();
                blob[i % n] = b;
            }
            let blob = &blob[..blob.len().min(cut.max(1) + 200)];
            if let Ok(fdt) = Fdt::new(blob) {
                let _ = parse(&fdt, IMAGE, DTB, 40);
                for n in fdt.root().children() {
                    let _ = n.props().count();
                }
            }
        }
    }
}

#[test]
fn a_string_set_matches_what_list_match_matches() {
    const LONG: &str = "a-compatible-string-of-more-than-sixty-three-bytes-to-fill-entry-63";
    const WANTED: [&str; 6] = ["arm,gic-v3", "arm,gic-400", "", "a", "ab", LONG];
    const SET: fdt::StrSet<6> = fdt::StrSet::new(WANTED);
    // Values 4-byte aligned in memory (as in a tree) and not, with and without a
    // final NUL.
    let mut buf = vec![0u8; 256];
    let aligned = buf.as_ptr().align_offset(4);
    for v in [
        &b"arm,gic-v3\0"[..],
        b"x\0arm,gic-400\0arm,gic-v3\0",
        b"arm,gic-v3",
        b"\0\0a\0ab\0abc",
        b"",
        b"a",
        b"arm,gic-v\0arm,gic-v33\0",
        LONG.as_bytes(),
        b"a-compatible-string-of-more-than-sixty-three-bytes-to-fill-entry-64\0",
    ] {
        for shift in 0..4 {
            let at = aligned + shift;
            buf[at..at + v.len()].copy_from_slice(v);
            let s = &buf[at..at + v.len()];
            assert_eq!(
                fdt::list_match_set(s, &SET),
                fdt::list_match(s, &WANTED),
                "{v:?}"
            );
        }
    }
}

/// `one_string` gives the same answer whether the value starts 4-byte aligned (read a
/// word at a time) or not (byte by byte), a NUL inside the string counting before
/// invalid UTF-8.
#[test]
fn one_string_rules_hold_at_every_alignment() {
    #[repr(C, align(8))]
    struct Buf([u8; 40]);
    let cases: [(&[u8], Result<&str, StringError>); 9] = [
        (b"", Err(StringError::NotTerminated)),
        (b"abc", Err(StringError::NotTerminated)),
        (b"\0", Ok("")),
        (b"console=ttyAMA0\0", Ok("console=ttyAMA0")),
        ("caf\u{e9} au lait\0".as_bytes(), Ok("caf\u{e9} au lait")),
        (b"ab\0cdefghijk\0", Err(StringError::SeveralStrings)),
        (b"abcdefghijk\0\0", Err(StringError::SeveralStrings)),
        (b"abc\xffdefgh\0ij\0", Err(StringError::SeveralStrings)),
        (b"abcdefg\xc3\0", Err(StringError::NotUtf8)),
    ];
    for (v, want) in cases {
        for shift in 0..4 {
            let mut buf = Buf([0xaa; 40]);
            buf.0[shift..shift + v.len()].copy_from_slice(v);
            let got = fdt::one_string(&buf.0[shift..shift + v.len()]);
            assert_eq!(got, want, "{v:?} at offset {shift}");
        }
    }
}

/// A node's properties and children start after its BEGIN_NODE token and name, found
/// from the name's length; the root (at offset 0, its name taken as empty) is read
/// where its token's name really ends, whatever that name is.
#[test]
fn a_root_with_a_name_still_has_its_properties_and_children() {
    let blob = Tree::default().build();
    let be = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let off_struct = be(&blob, 8) as usize;
    // BEGIN_NODE "" and its padding (one word) become BEGIN_NODE "abc" (one word) or
    // BEGIN_NODE "abcdefg" (two words: the blob grows by 4 bytes, and the header's
    // total size, structure size and any block offset past the name move with it).
    let mut short = blob.clone();
    short[off_struct + 4..off_struct + 8].copy_from_slice(b"abc\0");
    let mut long = blob.clone();
    long.splice(off_struct + 4..off_struct + 8, *b"abcdefg\0");
    for field in [4, 12, 16, 36] {
        let v = be(&long, field);
        let moved = field == 4 || field == 36 || v as usize > off_struct;
        if moved {
            long[field..field + 4].copy_from_slice(&(v + 4).to_be_bytes());
        }
    }
    for b in [&blob, &short, &long] {
        let fdt = Fdt::new(b).unwrap();
        let root = fdt.root();
        assert_eq!(root.prop("#address-cells"), Some(&[0, 0, 0, 2][..]));
        assert_eq!(root.prop_u32("#size-cells"), Some(2));
        let names: Vec<_> = root.children().map(|c| c.name()).collect();
        assert_eq!(
            names,
            ["aliases", "chosen", "memory@0", "uart@9c090000"],
            "{:?}",
            names
        );
        let uart = root.child("uart@9c090000").unwrap();
        assert!(uart.has_str("compatible", "arm,pl011"));
        assert!(uart.prop("status").is_none());
    }
}

/// `list_has` finds `s` among the pieces `split` at NULs gives (an unterminated tail
/// is a piece, and so is the empty piece after a final NUL), at every alignment.
#[test]
fn list_has_is_membership_in_the_nul_separated_pieces() {
    #[repr(C, align(8))]
    struct Buf([u8; 48]);
    let values: [&[u8]; 9] = [
        b"",
        b"arm,pl011\0arm,primecell\0",
        b"arm,primecell\0arm,pl011\0",
        b"arm,pl011",
        b"arm,pl0111\0",
        b"xarm,pl011\0",
        b"a\0\0arm,pl011",
        b"arm,pl01\0arm,pl011x\0",
        b"multiboot,kernel\0multiboot,module\0",
    ];
    let wanted = ["arm,pl011", "arm,primecell", "", "multiboot,kernel", "a"];
    for v in values {
        for s in wanted {
            let want = v.split(|&c| c == 0).any(|p| p == s.as_bytes());
            for shift in 0..4 {
                let mut buf = Buf([0xaa; 48]);
                buf.0[shift..shift + v.len()].copy_from_slice(v);
                let got = fdt::list_has(&buf.0[shift..shift + v.len()], s);
                assert_eq!(got, want, "{s:?} in {v:?} at offset {shift}");
            }
        }
    }
}

/// `values_eq` is `==` whether the values start 4-byte aligned (compared a word at a
/// time) or not.
#[test]
fn values_eq_is_byte_equality_at_every_alignment() {
    #[repr(C, align(8))]
    struct Buf([u8; 40]);
    let values: [&[u8]; 6] = [
        b"",
        b"a",
        b"arm,pl011\0arm,primecell\0",
        b"arm,pl011\0arm,primecelm\0",
        b"brm,pl011\0arm,primecell\0",
        b"arm,pl011\0arm,primecell",
    ];
    for a in values {
        for b in values {
            for (sa, sb) in [(0, 0), (0, 4), (1, 1), (2, 3), (4, 0)] {
                let (mut x, mut y) = (Buf([0x55; 40]), Buf([0x55; 40]));
                x.0[sa..sa + a.len()].copy_from_slice(a);
                y.0[sb..sb + b.len()].copy_from_slice(b);
                let got = fdt::values_eq(&x.0[sa..sa + a.len()], &y.0[sb..sb + b.len()]);
                assert_eq!(got, a == b, "{a:?} {b:?} at {sa}, {sb}");
            }
        }
    }
}

/// `read_cells` reads 1 or 2 big-endian cells as one number wherever they lie (and
/// other counts in the loop), None when they run past the value.
#[test]
fn read_cells_reads_big_endian_cells_at_every_alignment() {
    #[repr(C, align(8))]
    struct Buf([u8; 24]);
    let cells = [0x0000_0001u32, 0x2345_6789, 0xabcd_ef01, 0x0000_0000];
    let bytes: Vec<u8> = cells.iter().flat_map(|c| c.to_be_bytes()).collect();
    for shift in 0..4 {
        let mut buf = Buf([0; 24]);
        buf.0[shift..shift + 16].copy_from_slice(&bytes);
        let v = &buf.0[shift..shift + 16];
        let mut i = 0;
        assert_eq!(fdt::read_cells(v, &mut i, 1), Some(1));
        assert_eq!(fdt::read_cells(v, &mut i, 2), Some(0x2345_6789_abcd_ef01));
        assert_eq!(i, 12);
        assert_eq!(fdt::read_cells(v, &mut 12, 2), None, "runs past the end");
        assert_eq!(fdt::read_cells(v, &mut i, 1), Some(0));
        assert_eq!(fdt::read_cells(v, &mut i, 1), None);
        let mut i = 12;
        assert_eq!(fdt::read_cells(v, &mut i, 0), Some(0));
        let mut i = 8;
        assert_eq!(
            fdt::read_cells(&v[..16], &mut i, 3),
            None,
            "runs past the end"
        );
    }
    let mut three = [0u8; 12];
    three[4..].copy_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
    assert_eq!(
        fdt::read_cells(&three, &mut 0, 3),
        Some(0x0102_0304_0506_0708)
    );
}
