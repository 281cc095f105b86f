// SPDX-License-Identifier: GPL-2.0-only
//! Device trees in the shapes boards publish and Xen users write, booted in r82sim:
//! each rule of issue 10 that shows at boot, asserted on the exit status, the EL2 MPU
//! regions left enabled and, for refusals, the error text.
//!
//! Where the shapes come from (the trees below are written for these tests, trimmed,
//! not copied):
//! - `yocto_baser`: the Yocto BSP's machine fvp-baser-aemv8r64 (meta-arm-bsp,
//!   recipes-kernel/linux/files/fvp-baser-aemv8r64/fvp-baser-aemv8r64.dts): one
//!   memory node with banks at 0 (2 GiB) and 0x8_8000_0000, a GICv3 with `ranges;` and
//!   an ITS child, four PL011s at 0x9c09_0000.. with 64 KiB each, a timer node without
//!   reg, aliases by path, and `bootargs` written for Linux.
//! - `vexpress_shape`: Linux's fvp-base-revc.dts with rtsm_ve-motherboard.dtsi: a
//!   /memreserve/, /reserved-memory with a no-map child, and the UART three buses down
//!   (chip-select bus with `ranges`, motherboard bus with `ranges;`, I/O FPGA bus with
//!   its own window). The chip-select window is placed where the BaseR map has the
//!   UARTs (0x9c00_0000), since r82sim models BaseR.
mod common;

use common::{boot_blob, dtc};
use r82sim::machine::{Machine, Outcome};

/// (base, last byte) of every enabled EL2 MPU region.
fn regions(m: &Machine) -> Vec<(u64, u64)> {
    let mpu = m.mpu();
    (0..mpu.count())
        .map(|i| mpu.region(i))
        .filter(|r| r.enabled())
        .map(|r| (r.base(), r.limit()))
        .collect()
}

fn mapped(m: &Machine, addr: u64) -> bool {
    regions(m).iter().any(|&(b, l)| b <= addr && addr <= l)
}

fn boot_src(src: &str) -> (Machine, Outcome) {
    boot_blob(dtc(src, &[]), 16)
}

fn booted(src: &str) -> Machine {
    let (m, o) = boot_src(src);
    let out = m.console_text();
    assert_eq!(o.status, 0, "{:?}\n{out}\n{src}", o.reason);
    assert!(m.mpu().overlaps().is_empty());
    m
}

fn refused(src: &str, msg: &str) {
    let (m, o) = boot_src(src);
    let out = m.console_text();
    assert_eq!(o.status, 1, "{:?}\n{out}", o.reason);
    assert!(out.contains(msg), "expected {msg:?}:\n{out}");
    assert!(m.mpu().overlaps().is_empty());
}

fn yocto_baser(chosen: &str, uart0_extra: &str) -> String {
    format!(
        r#"/dts-v1/;
/ {{
    #address-cells = <0x2>;
    #size-cells = <0x2>;
    interrupt-parent = <0x1>;
    model = "FVP BaseR, Yocto BSP shape";
    compatible = "arm,base";
    memory@0 {{
        #address-cells = <0x2>;
        #size-cells = <0x2>;
        device_type = "memory";
        reg = <0x0 0x0 0x0 0x80000000>, <0x8 0x80000000 0x1 0x80000000>;
    }};
    cpus {{
        #address-cells = <0x2>;
        #size-cells = <0x0>;
        cpu@0 {{ device_type = "cpu"; compatible = "arm,armv8"; reg = <0x0 0x0>;
                 enable-method = "spin-table"; cpu-release-addr = <0x0 0x7f800>; }};
    }};
    interrupt-controller@af000000 {{
        compatible = "arm,gic-v3";
        #interrupt-cells = <0x3>;
        #address-cells = <0x2>;
        #size-cells = <0x2>;
        ranges;
        interrupt-controller;
        reg = <0x0 0xaf000000 0x0 0x10000>, <0x0 0xaf100000 0x0 0x100000>,
              <0x0 0xac000000 0x0 0x2000>, <0x0 0xac010000 0x0 0x2000>,
              <0x0 0xac02f000 0x0 0x2000>;
        interrupts = <0x1 9 0x4>;
        phandle = <0x1>;
        msi-controller@af020000 {{
            compatible = "arm,gic-v3-its";
            reg = <0x0 0xaf020000 0x0 0x20000>;
            msi-controller;
        }};
    }};
    uart@9c090000 {{
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x0 0x9c090000 0x0 0x10000>;
        interrupts = <0x0 5 0x4>;
        {uart0_extra}
    }};
    uart@9c0a0000 {{
        compatible = "arm,pl011", "arm,primecell";
        reg = <0x0 0x9c0a0000 0x0 0x10000>;
        interrupts = <0x0 6 0x4>;
    }};
    timer {{
        compatible = "arm,armv8-timer";
        interrupts = <0x1 13 0xff08>, <0x1 14 0xff08>, <0x1 11 0xff08>, <0x1 10 0xff08>;
        clock-frequency = <100000000>;
    }};
    aliases {{
        serial0 = "/uart@9c090000";
        serial1 = "/uart@9c0a0000";
    }};
    chosen {{
        bootargs = "earlycon console=ttyAMA0 loglevel=8 root=/dev/vda1 rw";
        stdout-path = "serial0";
        {chosen}
    }};
}};
"#
    )
}

const HEAP: &str = "xen,static-heap = <0x0 0x10000000 0x0 0x1000000>;";

#[test]
fn the_yocto_fvp_baser_tree_boots_once_a_static_heap_is_added() {
    // As published: no xen,static-heap, so rxen refuses it, saying what it needs.
    refused(&yocto_baser("", ""), "/chosen has no xen,static-heap");
    let m = booted(&yocto_baser(HEAP, ""));
    let out = m.console_text();
    // The 64 KiB UART: only the driver's 4 KiB is mapped, shared with the head's region.
    assert!(mapped(&m, 0x9c09_0000) && mapped(&m, 0x9c09_0fff));
    assert!(!mapped(&m, 0x9c09_1000), "{:x?}", regions(&m));
    // Linux's bootargs are dom0's, not rxen's: a warning, and no option read from them.
    assert!(out.contains("is dom0's under Xen's rules"), "{out}");
    // The second bank (no memory behind it in r82sim) is mapped as RAM, whole.
    assert!(
        regions(&m).contains(&(0x8_8000_0000, 0x9_ffff_ffff)),
        "{:x?}",
        regions(&m)
    );
}

#[test]
fn xen_bootargs_carries_rxens_options() {
    let (m, o) = boot_src(&yocto_baser(
        &format!(r#"{HEAP} xen,xen-bootargs = "rxen.selftest=write-text";"#),
        "",
    ));
    // The self-test ran: it ends in its abort and stops with status 0.
    assert_eq!(o.status, 0, "{}", m.console_text());
    assert!(
        m.console_text().contains("write-text"),
        "{}",
        m.console_text()
    );
    refused(
        &yocto_baser(&format!("{HEAP} xen,xen-bootargs = [72 ff 00];"), ""),
        "device tree: chosen: xen,xen-bootargs is not valid UTF-8",
    );
    refused(
        &yocto_baser(&format!("{HEAP} xen,xen-bootargs = [72 78];"), ""),
        "device tree: chosen: xen,xen-bootargs is not NUL-terminated",
    );
}

#[test]
fn a_disabled_console_is_warned_about_and_the_early_uart_kept() {
    let m = booted(&yocto_baser(HEAP, r#"status = "disabled";"#));
    let out = m.console_text();
    assert!(
        out.contains("console /uart@9c090000 is disabled (status): not used"),
        "{out}"
    );
    // An empty stdout-path is an absent one.
    let m = booted(
        &yocto_baser(HEAP, "").replace(r#"stdout-path = "serial0";"#, r#"stdout-path = "";"#),
    );
    assert!(m.console_text().contains("device tree has no stdout-path"));
}

#[test]
fn several_static_heap_banks_are_mapped_and_used() {
    let m = booted(&yocto_baser(
        "xen,static-heap = <0x0 0x10000000 0x0 0x100000>, <0x0 0x30000000 0x0 0x200000>;",
        "",
    ));
    let out = m.console_text();
    assert!(out.contains("(2 banks)"), "{out}");
    assert!(mapped(&m, 0x1000_0000) && mapped(&m, 0x3000_0000));
}

#[test]
fn version_16_blobs_boot() {
    let blob = dtc(&yocto_baser(HEAP, ""), &["-V", "16"]);
    assert_eq!(u32::from_be_bytes(blob[20..24].try_into().unwrap()), 16);
    let (m, o) = boot_blob(blob, 16);
    assert_eq!(o.status, 0, "{}", m.console_text());
}

#[test]
fn ram_over_a_uart_is_refused_naming_both() {
    let src = yocto_baser(HEAP, "").replace(
        "<0x8 0x80000000 0x1 0x80000000>",
        "<0x0 0x9c000000 0x0 0x100000>",
    );
    refused(
        &src,
        "memory bank [0x9c000000, 0x9c100000) overlaps the registers [0x9c090000, 0x9c0a0000) of /uart@9c090000",
    );
}

#[test]
fn unaligned_banks_are_rounded_inward() {
    let src = yocto_baser(HEAP, "").replace(
        "<0x8 0x80000000 0x1 0x80000000>",
        "<0x8 0x80000800 0x0 0x10000000>",
    );
    let m = booted(&src);
    assert!(
        regions(&m).contains(&(0x8_8000_1000, 0x8_8fff_ffff)),
        "{:x?}",
        regions(&m)
    );
    assert!(!mapped(&m, 0x8_8000_0fff) && !mapped(&m, 0x8_9000_0000));
}

fn vexpress_shape(chosen: &str, reserved: &str) -> String {
    format!(
        r#"/dts-v1/;
/memreserve/ 0x7e000000 0x00010000;
/ {{
    model = "FVP BaseR, Linux vexpress shape";
    #address-cells = <2>;
    #size-cells = <2>;
    chosen {{
        stdout-path = "serial0:115200n8";
        {chosen}
    }};
    aliases {{
        serial0 = "/bus@9c000000/motherboard-bus@9c000000/iofpga-bus@300000000/serial@90000";
    }};
    memory@0 {{
        device_type = "memory";
        reg = <0x0 0x0 0x0 0x80000000>, <0x8 0x80000000 0x0 0x40000000>;
    }};
    reserved-memory {{
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        vram@60000000 {{
            compatible = "shared-dma-pool";
            reg = <0x0 0x60000000 0x0 0x00800000>;
            no-map;
        }};
        fw@890000000 {{
            reg = <0x8 0x90000000 0x0 0x00100000>;
            no-map;
        }};
        {reserved}
    }};
    bus@9c000000 {{
        compatible = "simple-bus";
        #address-cells = <2>;
        #size-cells = <1>;
        ranges = <0 0 0 0x88000000 0x04000000>,
                 <3 0 0 0x9c000000 0x00200000>;
        motherboard-bus@9c000000 {{
            compatible = "arm,vexpress,v2m-p1", "simple-bus";
            #address-cells = <2>;
            #size-cells = <1>;
            ranges;
            iofpga-bus@300000000 {{
                compatible = "simple-bus";
                #address-cells = <1>;
                #size-cells = <1>;
                ranges = <0 3 0 0x200000>;
                serial@90000 {{
                    compatible = "arm,pl011", "arm,primecell";
                    reg = <0x090000 0x1000>;
                }};
            }};
        }};
    }};
}};
"#
    )
}

#[test]
fn the_vexpress_shape_boots_with_the_uart_three_buses_down_and_no_map_unmapped() {
    let m = booted(&vexpress_shape(HEAP, ""));
    let out = m.console_text();
    // The console is the UART where the buses put it, and it carried the log.
    assert!(out.contains("console: /bus@9c000000/"), "{out}");
    assert!(out.contains("at 0x9c090000"), "{out}");
    assert!(out.contains("setup done"), "{out}");
    // no-map memory is never mapped; the rest of its bank is. (The first bank holds
    // the image and the blob, reached through their own regions.)
    let r = regions(&m);
    assert!(
        !mapped(&m, 0x6000_0000) && !mapped(&m, 0x607f_ffff),
        "{r:x?}"
    );
    assert!(
        !mapped(&m, 0x8_9000_0000) && !mapped(&m, 0x8_900f_ffff),
        "{r:x?}"
    );
    assert!(
        mapped(&m, 0x8_8fff_ffff) && mapped(&m, 0x8_9010_0000),
        "{r:x?}"
    );
}

#[test]
fn a_uart_under_a_bus_that_moves_it_is_not_mapped_at_its_bus_address() {
    // The UART's bus address, 0x10000000 + 0x90000, is RAM in r82sim; the bus puts it
    // at 0x9c090000. Before translation, the console wrote into RAM and the boot
    // "succeeded" with an empty UART.
    let src = vexpress_shape(HEAP, "")
        .replace(
            "ranges = <0 3 0 0x200000>;",
            "ranges = <0x10000000 3 0 0x200000>;",
        )
        .replace("reg = <0x090000 0x1000>;", "reg = <0x10090000 0x1000>;");
    let m = booted(&src);
    assert!(m.console_text().contains("setup done"));
    // The log after the console switch reached UART0 (r82sim shows UART0 only).
    let uart: Vec<_> = regions(&m)
        .into_iter()
        .filter(|&(b, _)| b == 0x9c09_0000)
        .collect();
    assert_eq!(uart, [(0x9c09_0000, 0x9c09_0fff)]);
}

#[test]
fn heaps_on_reserved_memory_are_refused_naming_both() {
    refused(
        &vexpress_shape("xen,static-heap = <0x0 0x60400000 0x0 0x100000>;", ""),
        "the static heap at [0x60400000, 0x60500000) overlaps reserved memory vram@60000000 at [0x60000000, 0x60800000)",
    );
    refused(
        &vexpress_shape("xen,static-heap = <0x0 0x7e000000 0x0 0x1000>;", ""),
        "the static heap at [0x7e000000, 0x7e001000) overlaps reserved memory /memreserve/ at [0x7e000000, 0x7e010000)",
    );
    refused(
        &vexpress_shape(
            HEAP,
            "fw@10000000 { reg = <0x0 0x10800000 0x0 0x1000>; };",
        ),
        "the static heap at [0x10000000, 0x11000000) overlaps reserved memory fw@10000000 at [0x10800000, 0x10801000)",
    );
}

/// A tree at any 8-byte-aligned x0: here 8 bytes before the end of a page, so that the
/// header itself crosses into the next page (rxen maps both).
#[test]
fn a_device_tree_whose_header_crosses_a_page_boots() {
    use r82sim::machine::{Config, DtbChoice};
    let blob = dtc(&yocto_baser(HEAP, ""), &[]);
    for at in [0x7f00_0ff8u64, 0x7f00_1008] {
        let mut m = Machine::new(Config {
            dtb_addr: at,
            max_insns: 200_000_000,
            ..Config::default()
        })
        .unwrap();
        m.load_elf(&common::rxen(), DtbChoice::Blob(blob.clone()))
            .unwrap();
        let o = m.run();
        let out = m.console_text();
        assert_eq!(o.status, 0, "x0 = {at:#x}: {:?}\n{out}", o.reason);
        assert!(
            out.contains(&format!("device tree: {} bytes at {at:#x}", blob.len())),
            "{out}"
        );
    }
}
