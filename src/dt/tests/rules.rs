// SPDX-License-Identifier: GPL-2.0-only
//! The rules of issue 10, each checked on a tree written as device-tree source (so the
//! test reads like the tree a board or a Xen user writes) and compiled with dtc.
use super::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// Compile `src` with dtc (`-V 16` and the like in `args`).
fn dtc(src: &str, args: &[&str]) -> Vec<u8> {
    let mut child = Command::new("dtc")
        .args(["-I", "dts", "-O", "dtb", "-q"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("dtc (Debian package device-tree-compiler)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(src.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dtc refused:\n{src}");
    out.stdout
}

/// A board in the FVP BaseR shape: 2 GiB at 0, the UART with the 64 KiB its published
/// trees give it. `chosen` and `body` are added to /chosen and to the root.
/// Properties `chosen` sets replace the defaults.
fn board(chosen: &str, body: &str) -> String {
    let mut defaults = String::new();
    if !chosen.contains("stdout-path") {
        defaults += "stdout-path = \"serial0:115200n8\";\n";
    }
    if !chosen.contains("xen,static-heap") {
        defaults += "xen,static-heap = <0x0 0x10000000 0x0 0x1000000>;\n";
    }
    format!(
        r#"/dts-v1/;
/ {{
    #address-cells = <2>;
    #size-cells = <2>;
    aliases {{ serial0 = "/uart@9c090000"; }};
    chosen {{
        {defaults}
        {chosen}
    }};
    memory@0 {{
        device_type = "memory";
        reg = <0x0 0x0 0x0 0x80000000>;
    }};
    uart@9c090000 {{
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x0 0x9c090000 0x0 0x10000>;
    }};
    {body}
}};
"#
    )
}

fn parse_src(src: &str) -> Result<BootInfo<'static>, String> {
    parse_blob(dtc(src, &[]))
}

/// The boot information, read as setup reads it (`parse_checked`), which must be
/// what `Fdt::new` and `parse` give.
fn parse_blob(blob: Vec<u8>) -> Result<BootInfo<'static>, String> {
    let blob: &'static [u8] = Box::leak(blob.into_boxed_slice());
    let mut info = BootInfo::new();
    let checked = parse_checked(blob, IMAGE, DTB, 40, &mut info).map(|_| info);
    let apart = Fdt::new(blob)
        .map_err(DtError::from)
        .and_then(|fdt| parse(&fdt, IMAGE, DTB, 40));
    assert_eq!(checked, apart);
    checked.map_err(|e| e.to_string())
}

fn ok(src: &str) -> BootInfo<'static> {
    parse_src(src).unwrap_or_else(|e| panic!("{e}\n{src}"))
}

fn err(src: &str) -> String {
    match parse_src(src) {
        Ok(i) => panic!("accepted: {i:?}\n{src}"),
        Err(e) => e,
    }
}

fn mappable(info: &BootInfo) -> Vec<PhysRange> {
    let mut v = Vec::new();
    info.mappable_ram(|r| v.push(r));
    v
}

/// The Linux FVP Base shape: a chip-select bus, a motherboard bus with empty ranges,
/// an I/O FPGA bus with its own window, the UART at offset 0x90000 inside it. Here
/// chip select 3 is placed at 0x9c000000, where the BaseR map has the UARTs.
const VEXPRESS_BUSES: &str = r#"
    bus@9c000000 {
        compatible = "simple-bus";
        #address-cells = <2>;
        #size-cells = <1>;
        ranges = <0 0 0x0 0x88000000 0x04000000>,
                 <3 0 0x0 0x9c000000 0x00200000>;
        motherboard-bus {
            compatible = "simple-bus";
            #address-cells = <2>;
            #size-cells = <1>;
            ranges;
            iofpga-bus@300000000 {
                compatible = "simple-bus";
                #address-cells = <1>;
                #size-cells = <1>;
                ranges = <0 3 0 0x200000>;
                serial@90000 {
                    compatible = "arm,pl011", "arm,primecell";
                    reg = <0x090000 0x1000>;
                };
            };
        };
    };
"#;

#[test]
fn reg_under_buses_is_translated_through_every_ranges() {
    let src = board(
        r#"stdout-path = "/bus@9c000000/motherboard-bus/iofpga-bus@300000000/serial@90000";"#,
        VEXPRESS_BUSES,
    );
    let info = ok(&src);
    // 0x90000 in the FPGA window (chip select 3, offset 0) -> 0x9c000000 + 0x90000.
    assert_eq!(
        info.console.unwrap().regs,
        PhysRange::new(0x9c09_0000, 0x9c09_1000)
    );
}

#[test]
fn memory_and_gic_under_a_bus_are_translated() {
    let src = board(
        "",
        r#"
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges = <0x0 0x0 0x80000000 0x40000000>, <0x40000000 0x0 0xaf000000 0x400000>;
        memory@0 {
            device_type = "memory";
            reg = <0x0 0x10000000>;
        };
        gic@40000000 {
            compatible = "arm,gic-v3";
            reg = <0x40000000 0x10000>, <0x40100000 0x200000>;
        };
    };"#,
    );
    let info = ok(&src);
    assert_eq!(
        info.ram().collect::<Vec<_>>(),
        [
            PhysRange::new(0, 0x8000_0000),
            PhysRange::new(0x8000_0000, 0x9000_0000)
        ]
    );
    let gic: Vec<_> = info
        .devices()
        .iter()
        .filter(|d| d.name == "gic@40000000")
        .map(|d| d.regs)
        .collect();
    assert_eq!(
        gic,
        [
            PhysRange::new(0xaf00_0000, 0xaf01_0000),
            PhysRange::new(0xaf10_0000, 0xaf30_0000)
        ]
    );
}

#[test]
fn untranslatable_regs_are_refused_naming_node_bus_and_ranges() {
    let uart = |ranges: &str, reg: &str| {
        board(
            r#"stdout-path = "/bus/serial@0";"#,
            &format!(
                r#"bus {{
        #address-cells = <1>;
        #size-cells = <1>;
        {ranges}
        serial@0 {{
            compatible = "arm,pl011";
            reg = <{reg}>;
        }};
    }};"#
            ),
        )
    };
    assert_eq!(
        err(&uart("", "0x0 0x1000")),
        "device tree: /bus/serial@0: reg cannot be translated: its bus bus has no ranges property (devicetree spec 2.3.8: no translation)"
    );
    assert_eq!(
        err(&uart("ranges = <0x0 0x0 0x9c0a0000 0x1000>;", "0x2000 0x1000")),
        "device tree: /bus/serial@0: reg [0x2000, 0x3000) (bus address) is in none of the ranges of its bus bus"
    );
    assert_eq!(
        err(&uart("ranges = <0x0 0x0 0x9c0a0000 0x1000>;", "0x0 0x2000")),
        "device tree: /bus/serial@0: reg [0x0, 0x2000) (bus address) runs past the end of the range [0x0, 0x1000) of its bus bus"
    );
    assert_eq!(
        err(&uart("ranges = <0x0 0x0 0x9c0a0000>;", "0x0 0x1000")),
        "device tree: bus: ranges is not a whole number of (child, parent, size) triples"
    );
    // Empty ranges: identity.
    let info = ok(&uart("ranges;", "0x9c0a0000 0x1000"));
    assert_eq!(info.console.unwrap().regs.start, 0x9c0a_0000);
    // A UART whose bus maps it elsewhere is used where the bus puts it, not at its bus
    // address (which here is inside RAM).
    let info = ok(&uart(
        "ranges = <0x10000000 0x0 0x9c0b0000 0x10000>;",
        "0x10000000 0x1000",
    ));
    assert_eq!(info.console.unwrap().regs.start, 0x9c0b_0000);
}

#[test]
fn a_pl011_reg_larger_than_its_registers_is_kept_whole_and_the_driver_window_is_4k() {
    let info = ok(&board("", ""));
    let c = info.console.unwrap();
    assert_eq!(c.regs, PhysRange::new(0x9c09_0000, 0x9c0a_0000));
    assert_eq!(c.driver_window(), PhysRange::new(0x9c09_0000, 0x9c09_1000));
    let small = board("", "").replace("0x9c090000 0x0 0x10000", "0x9c090000 0x0 0x100");
    assert_eq!(
        err(&small),
        "device tree: console /uart@9c090000: reg [0x9c090000, 0x9c090100) is smaller than the 0x1000-byte PL011 register block"
    );
}

const RESERVED: &str = r#"
    reserved-memory {
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        vram@18000000 {
            reg = <0x0 0x18000000 0x0 0x800000>;
            no-map;
        };
        shared@20000000 {
            reg = <0x0 0x20000000 0x0 0x100000>;
        };
        off@30000000 {
            reg = <0x0 0x30000000 0x0 0x100000>;
            no-map;
            status = "disabled";
        };
        pool {
            size = <0x0 0x100000>;
        };
    };
"#;

#[test]
fn reserved_memory_and_memreserve_are_read_and_no_map_is_never_mappable() {
    let src = format!(
        "/memreserve/ 0x40000000 0x10000;\n{}",
        board("", RESERVED).replace("/dts-v1/;", "")
    );
    let info = ok(&format!("/dts-v1/;\n{src}"));
    let r: Vec<_> = info
        .reserved()
        .iter()
        .map(|r| (r.name, r.range, r.no_map))
        .collect();
    assert_eq!(
        r,
        [
            (
                "/memreserve/",
                PhysRange::new(0x4000_0000, 0x4001_0000),
                false
            ),
            (
                "vram@18000000",
                PhysRange::new(0x1800_0000, 0x1880_0000),
                true
            ),
            (
                "shared@20000000",
                PhysRange::new(0x2000_0000, 0x2010_0000),
                false
            ),
        ]
    );
    // Only the no-map range is cut out of what may be mapped.
    assert_eq!(
        mappable(&info),
        [
            PhysRange::new(0, 0x1800_0000),
            PhysRange::new(0x1880_0000, 0x8000_0000)
        ]
    );
}

#[test]
fn nothing_may_sit_on_reserved_memory() {
    let with = |heap: &str, memreserve: &str| {
        let b = board(&format!("xen,static-heap = <{heap}>;"), RESERVED);
        format!("/dts-v1/;\n{memreserve}\n{}", b.replace("/dts-v1/;", ""))
    };
    // A heap over no-map memory, over mapped reserved memory, over a /memreserve/.
    assert_eq!(
        err(&with("0x0 0x18400000 0x0 0x1000000", "")),
        "device tree: the static heap at [0x18400000, 0x19400000) overlaps reserved memory vram@18000000 at [0x18000000, 0x18800000)"
    );
    assert_eq!(
        err(&with("0x0 0x20000000 0x0 0x1000", "")),
        "device tree: the static heap at [0x20000000, 0x20001000) overlaps reserved memory shared@20000000 at [0x20000000, 0x20100000)"
    );
    assert_eq!(
        err(&with("0x0 0x50000000 0x0 0x1000", "/memreserve/ 0x50000800 0x10;")),
        "device tree: the static heap at [0x50000000, 0x50001000) overlaps reserved memory /memreserve/ at [0x50000800, 0x50000810)"
    );
    // A disabled reserved node reserves nothing.
    assert!(parse_src(&with("0x0 0x30000000 0x0 0x1000", "")).is_ok());
    // The image may not sit on reserved memory.
    assert_eq!(
        err(&with("0x0 0x10000000 0x0 0x1000", "/memreserve/ 0x1000 0x1000;")),
        "device tree: the image at [0x0, 0x40000) overlaps reserved memory /memreserve/ at [0x1000, 0x2000)"
    );
    // The blob may be reserved (boot loaders reserve it), but not as no-map.
    assert!(parse_src(&with(
        "0x0 0x10000000 0x0 0x1000",
        "/memreserve/ 0x7f000000 0x10000;"
    ))
    .is_ok());
    let no_map_dtb = board(
        "",
        r#"reserved-memory {
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        fw@7f000000 { reg = <0x0 0x7f000000 0x0 0x1000>; no-map; };
    };"#,
    );
    assert_eq!(
        err(&no_map_dtb),
        "device tree: the device tree at [0x7f000000, 0x7f010000) overlaps reserved memory fw@7f000000 at [0x7f000000, 0x7f001000)"
    );
}

#[test]
fn xen_bootargs_is_the_command_line_and_bootargs_follows_xens_rules() {
    let cmd = |chosen: &str| {
        let i = ok(&board(chosen, ""));
        (i.bootargs, i.bootargs_from, i.dom0_bootargs)
    };
    // xen,xen-bootargs is Xen's; bootargs is then dom0's.
    assert_eq!(
        cmd(r#"xen,xen-bootargs = "rxen.loglevel=debug"; bootargs = "console=ttyAMA0";"#),
        (
            "rxen.loglevel=debug",
            CmdlineFrom::XenBootargs,
            Some("console=ttyAMA0")
        )
    );
    // Only bootargs: dom0's, not the hypervisor's.
    assert_eq!(
        cmd(r#"bootargs = "console=ttyAMA0 rxen.loglevel=debug";"#),
        (
            "",
            CmdlineFrom::Nothing,
            Some("console=ttyAMA0 rxen.loglevel=debug")
        )
    );
    // bootargs is the hypervisor's when dom0 has its own: xen,dom0-bootargs ...
    assert_eq!(
        cmd(r#"bootargs = "rxen.loglevel=warn"; xen,dom0-bootargs = "console=hvc0";"#),
        ("rxen.loglevel=warn", CmdlineFrom::Bootargs, None)
    );
    // ... or a kernel module with a bootargs.
    assert_eq!(
        cmd(r#"bootargs = "rxen.loglevel=warn";
        #address-cells = <2>;
        #size-cells = <2>;
        module@20000000 {
            compatible = "multiboot,kernel", "multiboot,module";
            reg = <0x0 0x20000000 0x0 0x100000>;
            bootargs = "console=hvc0";
        };"#),
        ("rxen.loglevel=warn", CmdlineFrom::Bootargs, None)
    );
    assert_eq!(cmd(""), ("", CmdlineFrom::Nothing, None));
}

#[test]
fn malformed_command_lines_are_errors_naming_the_property() {
    assert_eq!(
        err(&board("xen,xen-bootargs = [72 78 65 6e];", "")),
        "device tree: chosen: xen,xen-bootargs is not NUL-terminated"
    );
    assert_eq!(
        err(&board("bootargs = [72 ff fe 00];", "")),
        "device tree: chosen: bootargs is not valid UTF-8"
    );
    assert_eq!(
        err(&board(r#"xen,xen-bootargs = "a", "b";"#, "")),
        "device tree: chosen: xen,xen-bootargs holds more than one string"
    );
    assert_eq!(
        err(&board("xen,xen-bootargs;", "")),
        "device tree: chosen: xen,xen-bootargs is not NUL-terminated"
    );
}

#[test]
fn disabled_nodes_are_not_used() {
    // A disabled memory node is not RAM.
    let src = board(
        "",
        r#"memory@880000000 {
        device_type = "memory";
        reg = <0x8 0x80000000 0x0 0x80000000>;
        status = "disabled";
    };
    memory@900000000 {
        device_type = "memory";
        reg = <0x9 0x0 0x0 0x1000000>;
        status = "okay";
    };"#,
    );
    assert_eq!(
        ok(&src).ram().collect::<Vec<_>>(),
        [
            PhysRange::new(0, 0x8000_0000),
            PhysRange::new(0x9_0000_0000, 0x9_0100_0000)
        ]
    );
    // A disabled console is not used, and said so.
    let src = board("", "").replace(
        "reg = <0x0 0x9c090000 0x0 0x10000>;",
        "reg = <0x0 0x9c090000 0x0 0x10000>; status = \"disabled\";",
    );
    let info = ok(&src);
    assert_eq!(info.console, None);
    assert_eq!(info.disabled_console, Some("/uart@9c090000"));
    // Nor one under a disabled bus.
    let src = board(
        r#"stdout-path = "/bus@9c000000/motherboard-bus/iofpga-bus@300000000/serial@90000";"#,
        &VEXPRESS_BUSES.replace("ranges;", "ranges; status = \"disabled\";"),
    );
    let info = ok(&src);
    assert_eq!(info.console, None);
    assert!(info.disabled_console.is_some());
}

#[test]
fn an_empty_stdout_path_is_an_absent_one() {
    let info = ok(&board(r#"stdout-path = "";"#, ""));
    assert_eq!((info.console, info.disabled_console), (None, None));
}

#[test]
fn unaligned_banks_are_rounded_inward_to_whole_pages() {
    let src = board(
        "",
        r#"memory@880000800 {
        device_type = "memory";
        reg = <0x8 0x80000800 0x0 0x10000000>, <0x9 0x100 0x0 0x800>;
    };"#,
    );
    let info = ok(&src);
    assert_eq!(
        info.banks()[1],
        Bank {
            reg: PhysRange::new(0x8_8000_0800, 0x8_9000_0800),
            ram: PhysRange::new(0x8_8000_1000, 0x8_9000_0000)
        }
    );
    // No whole page: no RAM at all from that bank.
    assert!(info.banks()[2].ram.is_empty());
    assert_eq!(info.ram().count(), 2);
    assert!(mappable(&info).iter().all(|r| {
        r.start % PAGE_SIZE == 0
            && r.end % PAGE_SIZE == 0
            && info.banks().iter().any(|b| b.reg.contains_range(r))
    }));
    // A heap in the part rounding removed is outside memory.
    let src = board("xen,static-heap = <0x8 0x80000000 0x0 0x1000>;", "").replace(
        "reg = <0x0 0x0 0x0 0x80000000>;",
        "reg = <0x0 0x0 0x0 0x80000000>, <0x8 0x80000800 0x0 0x10000000>;",
    );
    assert_eq!(
        err(&src),
        "device tree: static heap [0x880000000, 0x880001000) is not inside one memory bank (after rounding banks inward to 4 KiB)"
    );
}

#[test]
fn ram_over_device_registers_is_refused_naming_both() {
    let src = board("", "").replace(
        "reg = <0x0 0x0 0x0 0x80000000>;",
        "reg = <0x0 0x0 0x0 0x80000000>, <0x0 0x9c000000 0x0 0x100000>;",
    );
    assert_eq!(
        err(&src),
        "device tree: memory bank [0x9c000000, 0x9c100000) overlaps the registers [0x9c090000, 0x9c0a0000) of /uart@9c090000"
    );
    let src = board(
        "",
        r#"interrupt-controller@af000000 {
        compatible = "arm,gic-v3";
        reg = <0x0 0xaf000000 0x0 0x10000>, <0x0 0x7ff00000 0x0 0x200000>;
    };"#,
    );
    assert_eq!(
        err(&src),
        "device tree: memory bank [0x0, 0x80000000) overlaps the registers [0x7ff00000, 0x80100000) of interrupt-controller@af000000"
    );
}

#[test]
fn several_static_heap_banks_are_all_kept() {
    let info = ok(&board(
        "xen,static-heap = <0x0 0x10000000 0x0 0x100000>, <0x0 0x30000000 0x0 0x200000>;",
        "",
    ));
    assert_eq!(
        info.static_heaps(),
        [
            PhysRange::new(0x1000_0000, 0x1010_0000),
            PhysRange::new(0x3000_0000, 0x3020_0000)
        ]
    );
    let nine: Vec<String> = (0..9)
        .map(|i| format!("0x0 {:#x} 0x0 0x1000", 0x1000_0000 + i * 0x10_0000))
        .collect();
    assert_eq!(
        err(&board(
            &format!("xen,static-heap = <{}>;", nine.join(" ")),
            ""
        )),
        "device tree: more than 8 xen,static-heap banks"
    );
}

#[test]
fn the_header_window_covers_40_bytes_from_any_8_byte_aligned_x0() {
    for x0 in [
        0x7f00_0000u64,
        0x7f00_0ff8,
        0x7f00_0fd8,
        0x7f00_0fe0,
        0x1234_5678,
    ] {
        let w = header_window(x0);
        assert!(
            w.contains_range(&PhysRange::new(x0, x0 + 40)),
            "{x0:#x}: {w}"
        );
        assert_eq!((w.start % PAGE_SIZE, w.end % PAGE_SIZE), (0, 0));
        assert!(w.size() <= 2 * PAGE_SIZE);
    }
    assert_eq!(
        header_window(0x7f00_0ff8),
        PhysRange::new(0x7f00_0000, 0x7f00_2000)
    );
    assert_eq!(
        header_window(0x7f00_0fd8),
        PhysRange::new(0x7f00_0000, 0x7f00_1000)
    );
}

#[test]
fn version_16_blobs_read_like_version_17() {
    let src = format!(
        "/dts-v1/;\n/memreserve/ 0x40000000 0x10000;\n{}",
        board(r#"xen,xen-bootargs = "rxen.loglevel=debug";"#, RESERVED).replace("/dts-v1/;", "")
    );
    let v16 = dtc(&src, &["-V", "16"]);
    assert_eq!(u32::from_be_bytes(v16[20..24].try_into().unwrap()), 16);
    let a = parse_blob(v16).unwrap();
    let b = parse_blob(dtc(&src, &[])).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.bootargs, "rxen.loglevel=debug");
}

#[test]
fn a_memreserve_list_without_terminator_is_refused() {
    let mut blob = dtc(&board("", ""), &[]);
    let rsv = u32::from_be_bytes(blob[16..20].try_into().unwrap()) as usize;
    let strct = u32::from_be_bytes(blob[8..12].try_into().unwrap()) as usize;
    // Fill everything from the list to the structure block with non-zero entries, so
    // the list runs into the structure block and then past totalsize.
    for b in &mut blob[rsv..strct] {
        *b = 0x11;
    }
    let total = blob.len();
    for b in &mut blob[strct..total] {
        if *b == 0 {
            *b = 0x22;
        }
    }
    assert_eq!(
        Fdt::new(&blob).err(),
        Some(FdtError::BadMemReserve { off: rsv as u32 })
    );
}

/// `parse` finds the console during its one walk when /aliases and /chosen come first;
/// whatever the order, the console is the node a path lookup finds (the first child
/// that matches, available or not).
#[test]
fn the_console_is_the_first_node_its_path_names_in_any_tree_order() {
    let uart = |at: &str, status: &str| {
        format!(
            r#"uart@{at} {{ compatible = "arm,pl011"; reg = <0x0 0x{at} 0x0 0x1000>; {status} }};"#
        )
    };
    let head = r#"/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <2>;"#;
    let chosen = r#"aliases { serial0 = "/uart"; };
    chosen { stdout-path = "serial0"; xen,static-heap = <0x0 0x10000000 0x0 0x1000000>; };"#;
    let memory = r#"memory@0 { device_type = "memory"; reg = <0x0 0x0 0x0 0x80000000>; };"#;
    let a = uart("9c090000", "");
    let b = uart("9c0a0000", "");
    let off = uart("9c0b0000", r#"status = "disabled";"#);
    // (root children in order, the console found: Some(path) or disabled)
    let cases = [
        (vec![chosen, memory, &a, &b], Some("/uart")),
        (vec![&a, chosen, memory, &b], Some("/uart")),
        (vec![memory, chosen, &a, &b], Some("/uart")),
        (vec![chosen, memory, &off, &a], None),
    ];
    for (children, console) in cases {
        let src = format!("{head}\n{}\n}};\n", children.join("\n"));
        let info = ok(&src);
        match console {
            Some(path) => {
                let c = info.console.unwrap_or_else(|| panic!("no console:\n{src}"));
                assert_eq!(c.path, path, "{src}");
                assert_eq!(c.regs.start, 0x9c09_0000, "{src}");
            }
            None => {
                assert_eq!(info.console, None, "{src}");
                assert_eq!(info.disabled_console, Some("/uart"), "{src}");
            }
        }
    }
}

/// The GIC in one EL2 MPU region: its distributor, redistributors and the gap between
/// them, when nothing else rxen knows of lies in that span and the gap is small.
#[test]
fn the_gic_gets_one_region_when_its_span_is_clear() {
    let gic = |regs: &str, extra: &str| {
        board(
            "",
            &format!(
                r#"interrupt-controller@af000000 {{
        compatible = "arm,gic-v3";
        reg = {regs};
    }};
    {extra}"#
            ),
        )
    };
    let fvp = "<0x0 0xaf000000 0x0 0x10000>, <0x0 0xaf100000 0x0 0x200000>";
    assert_eq!(
        ok(&gic(fvp, "")).gic_window(),
        Some(PhysRange::new(0xaf00_0000, 0xaf30_0000))
    );
    // Redistributors below the distributor, and the GIC's other (GICv2-compatible)
    // frames inside the span: still one.
    let below =
        "<0x0 0xaf200000 0x0 0x10000>, <0x0 0xaf000000 0x0 0x100000>, <0x0 0xaf110000 0x0 0x2000>";
    assert_eq!(
        ok(&gic(below, "")).gic_window(),
        Some(PhysRange::new(0xaf00_0000, 0xaf21_0000))
    );
    // A device rxen reads, in the gap: two regions.
    let timer = r#"timer@af020000 {
        compatible = "arm,armv7-timer-mem";
        reg = <0x0 0xaf020000 0x0 0x1000>;
    };"#;
    assert_eq!(ok(&gic(fvp, timer)).gic_window(), None);
    // A device of the same name as the GIC's node, elsewhere in the tree (another bus),
    // in the gap: still another device, two regions.
    let namesake = r#"bus {
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        interrupt-controller@af000000 {
            compatible = "arm,armv7-timer-mem";
            reg = <0x0 0xaf020000 0x0 0x1000>;
        };
    };"#;
    assert_eq!(ok(&gic(fvp, namesake)).gic_window(), None);
    // Reserved memory in the gap: two regions.
    let reserved = r#"reserved-memory {
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        sram@af080000 { reg = <0x0 0xaf080000 0x0 0x1000>; };
    };"#;
    assert_eq!(ok(&gic(fvp, reserved)).gic_window(), None);
    // A gap larger than GIC_GAP_MAX: two regions.
    let far = "<0x0 0xaf000000 0x0 0x10000>, <0x0 0xb0100000 0x0 0x200000>";
    const { assert!(0xb010_0000 - 0xaf01_0000 > GIC_GAP_MAX) };
    assert_eq!(ok(&gic(far, "")).gic_window(), None);
    // No GICv3: nothing to map.
    assert_eq!(ok(&board("", "")).gic_window(), None);
}

#[test]
fn the_hypervisor_timer_is_a_ppi_numbered_0_to_15() {
    // The architected timer's fourth interrupt (GIC binding: <type number flags>,
    // type 1 = PPI, INTID 16 + number).
    let timer = |ppi: &str| {
        format!(
            r#"timer {{
        compatible = "arm,armv8-timer";
        interrupts = <1 13 0xf08>, <1 14 0xf08>, <1 11 0xf08>, <1 {ppi} 0xf08>;
    }};"#
        )
    };
    assert_eq!(ok(&board("", &timer("10"))).hyp_timer_intid, Some(26));
    assert_eq!(ok(&board("", &timer("15"))).hyp_timer_intid, Some(31));
    let e = err(&board("", &timer("16")));
    assert!(
        e.contains("timer: interrupts gives the hypervisor timer PPI 16"),
        "{e}"
    );
    // A hostile number does not wrap into a small INTID.
    let e = err(&board("", &timer("0xfffffff0")));
    assert!(e.contains("PPI 4294967280"), "{e}");
}

#[test]
fn property_names_are_found_at_every_offset_of_the_strings_block_and_at_its_end() {
    // The strings block holds each name once, in the order the structure block first
    // uses them (dtc), and comes last in the blob: a leading property whose name is
    // 1..=16 bytes moves every later name to another offset and alignment, and
    // "status", used first by the last node, is the blob's last string.
    for k in 1..=16 {
        let pad = "a".repeat(k);
        let src = format!(
            r#"/dts-v1/;
/ {{
    {pad} = <1>;
    #address-cells = <2>;
    #size-cells = <2>;
    chosen {{
        stdout-path = "/uart@9c090000";
        xen,static-heap = <0x0 0x10000000 0x0 0x1000000>;
    }};
    memory@0 {{
        device_type = "memory";
        reg = <0x0 0x0 0x0 0x80000000>;
    }};
    uart@9c090000 {{
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x0 0x9c090000 0x0 0x1000>;
    }};
    uart@9c0a0000 {{
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x0 0x9c0a0000 0x0 0x1000>;
        status = "disabled";
    }};
}};
"#
        );
        let info = ok(&src);
        let banks: Vec<PhysRange> = info.banks().iter().map(|b| b.reg).collect();
        assert_eq!(banks, [PhysRange::new(0, 0x8000_0000)], "pad {k}");
        assert_eq!(
            info.console.map(|c| (c.path, c.regs)),
            Some(("/uart@9c090000", PhysRange::new(0x9c09_0000, 0x9c09_1000))),
            "pad {k}"
        );
        assert_eq!(
            info.static_heaps(),
            [PhysRange::new(0x1000_0000, 0x1100_0000)]
        );
        // The disabled UART's status was read: it is no device of rxen's.
        let names: Vec<&str> = info.devices().iter().map(|d| d.name).collect();
        assert_eq!(names, ["/uart@9c090000"], "pad {k}");
    }
}

/// Xen's rule on a `multiboot,kernel` module under /chosen (booting.txt): one with a
/// non-empty `bootargs` makes `bootargs` the hypervisor's. Every child of /chosen
/// counts, available or not; a grandchild or a child of a second /chosen does not; a
/// malformed `bootargs` of such a module is an error naming the module, found after
/// those of /chosen's own command lines.
#[test]
fn kernel_modules_under_chosen_decide_whose_bootargs_is_whose() {
    let module = |status: &str, args: &str| {
        format!(
            r#"module@20000000 {{
            compatible = "multiboot,kernel", "multiboot,module";
            reg = <0x0 0x20000000 0x0 0x100000>;
            {status} {args}
        }};"#
        )
    };
    let cmd = |chosen: &str| {
        let i = ok(&board(
            &format!("bootargs = \"rxen.loglevel=warn\"; #address-cells = <2>; #size-cells = <2>; {chosen}"),
            "",
        ));
        (i.bootargs_from, i.dom0_bootargs)
    };
    let xen = (CmdlineFrom::Bootargs, None);
    let dom0 = (CmdlineFrom::Nothing, Some("rxen.loglevel=warn"));
    assert_eq!(cmd(&module("", r#"bootargs = "console=hvc0";"#)), xen);
    assert_eq!(
        cmd(&module(
            r#"status = "disabled";"#,
            r#"bootargs = "console=hvc0";"#
        )),
        xen
    );
    assert_eq!(cmd(&module("", r#"bootargs = "";"#)), dom0);
    assert_eq!(cmd(&module("", "")), dom0);
    // A module that is not a kernel, and a kernel one level down.
    assert_eq!(
        cmd(
            r#"ramdisk@30000000 { compatible = "multiboot,ramdisk"; bootargs = "x"; };
        domU1 { kernel { compatible = "multiboot,kernel"; bootargs = "x"; }; };"#
        ),
        dom0
    );
    // The first of two kernels has none, the second has some.
    assert_eq!(
        cmd(&format!(
            "{} k2 {{ compatible = \"multiboot,kernel\"; bootargs = \"y\"; }};",
            module("", "")
        )),
        xen
    );
    // /chosen disabled: its modules still count (the reader lists them itself).
    let i = ok(&board(
        &format!("status = \"disabled\"; bootargs = \"rxen.loglevel=warn\"; #address-cells = <2>; #size-cells = <2>; {}", module("", r#"bootargs = "console=hvc0";"#)),
        "",
    ));
    assert_eq!((i.bootargs_from, i.dom0_bootargs), xen);
    // A second /chosen's module does not count.
    let i = ok(&board(
        r#"bootargs = "rxen.loglevel=warn";"#,
        r#"chosen@1 { k { compatible = "multiboot,kernel"; bootargs = "x"; }; };"#,
    ));
    assert_eq!((i.bootargs_from, i.dom0_bootargs), dom0);
    // Malformed bootargs of a kernel module; of a non-kernel one, ignored.
    assert_eq!(
        err(&board(
            &format!(
                "#address-cells = <2>; #size-cells = <2>; {}",
                module("", r#"bootargs = "a", "b";"#)
            ),
            ""
        )),
        "device tree: module@20000000: bootargs holds more than one string"
    );
    assert_eq!(
        err(&board(
            &format!(
                r#"status = "disabled"; #address-cells = <2>; #size-cells = <2>; {}"#,
                module("", "bootargs = [61 62];")
            ),
            ""
        )),
        "device tree: module@20000000: bootargs is not NUL-terminated"
    );
    ok(&board(
        r#"m { compatible = "multiboot,ramdisk"; bootargs = [61 62]; };"#,
        "",
    ));
    // /chosen's own command lines are checked first.
    assert_eq!(
        err(&board(
            &format!(
                "bootargs = [ff 00]; #address-cells = <2>; #size-cells = <2>; {}",
                module("", r#"bootargs = "a", "b";"#)
            ),
            ""
        )),
        "device tree: chosen: bootargs is not valid UTF-8"
    );
}

/// An alias's path is the first string of its value (up to the first NUL), which must
/// be UTF-8; stdout-path's options after ':' are dropped before the alias is looked up.
#[test]
fn stdout_aliases_resolve_through_the_first_string_of_the_alias() {
    let with_alias = |alias: &str, stdout: &str| {
        let src = board(&format!("stdout-path = {stdout};"), "").replace(
            r#"aliases { serial0 = "/uart@9c090000"; };"#,
            &format!("aliases {{ {alias} }};"),
        );
        parse_src(&src).map(|i| i.console.map(|c| c.path))
    };
    let uart = Ok(Some("/uart@9c090000"));
    assert_eq!(
        with_alias(r#"serial0 = "/uart@9c090000";"#, r#""serial0:115200n8""#),
        uart
    );
    assert_eq!(
        with_alias(r#"serial0 = "/uart@9c090000";"#, r#""serial0""#),
        uart
    );
    assert_eq!(
        with_alias(r#"serial0 = "/uart@9c090000", "/x";"#, r#""serial0""#),
        uart
    );
    assert_eq!(
        with_alias(r#"s = "/uart@9c090000"; serial0 = "/x";"#, r#""s:9600""#),
        uart
    );
    // The first string only: "/uart", which names uart@9c090000 (a unit address may
    // be left out); what follows its NUL is not read.
    assert_eq!(
        with_alias("ser = [2f 75 61 72 74 00 ff];", r#""ser""#),
        Ok(Some("/uart"))
    );
    // No NUL, or not UTF-8 before it: no alias; the name is then not a path.
    for bad in ["[2f 75 61 72 74]", "[2f ff 00]"] {
        assert_eq!(
            with_alias(&format!("serial0 = {bad};"), r#""serial0:115200""#),
            Err("device tree: stdout-path \"serial0\" names no node".into())
        );
    }
    // A non-ASCII alias target: read, and not found.
    assert_eq!(
        with_alias("serial0 = \"/caf\u{e9}\";", r#""serial0""#),
        Err("device tree: stdout-path \"serial0\" names no node".into())
    );
}
