// SPDX-License-Identifier: GPL-2.0-only
//! The GICv3 distributor's per-interrupt register arrays (GICv3 architecture
//! specification, IHI 0069, 12.9) and the defaults rxen gives every SPI, as pure
//! functions: `arch::gic` writes what `spi_defaults` lists.

/// GICD_CTLR, and its bits with one Security state (GICD_CTLR.DS = 1, the FVP as
/// rxen runs it): ARE (bit 4, ARE_S in the two-state view) and RWP (bit 31).
pub const CTLR: u64 = 0x0000;
pub const CTLR_ARE_S: u32 = 1 << 4;
pub const CTLR_RWP: u32 = 1 << 31;
/// GICD_TYPER: ITLinesNumber [4:0], ESPI [8], ESPI_range [31:27].
pub const TYPER: u64 = 0x0004;

/// The arrays (byte offset in the distributor) for SPIs, and for extended SPIs
/// (INTIDs 4096 up; the `<n>E` registers, RES0 until affinity routing is enabled).
const IGROUPR: u64 = 0x0080;
const ICENABLER: u64 = 0x0180;
const ICACTIVER: u64 = 0x0380;
const IPRIORITYR: u64 = 0x0400;
const ICFGR: u64 = 0x0c00;
const IGROUPR_E: u64 = 0x1000;
const ICENABLER_E: u64 = 0x1400;
const ICACTIVER_E: u64 = 0x1c00;
const IPRIORITYR_E: u64 = 0x2000;
const ICFGR_E: u64 = 0x3000;

/// Write `value` to every 32-bit register in [from, to) (byte offsets in the
/// distributor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub from: u64,
    pub to: u64,
    pub value: u32,
}

/// The SPIs a distributor implements: INTIDs [32, end), from GICD_TYPER.ITLinesNumber
/// (the largest INTID is 32 * (ITLinesNumber + 1) - 1, and 1019 at most: 1020..1023
/// are special).
pub fn spi_end(typer: u32) -> u32 {
    (32 * ((typer & 0x1f) + 1)).min(1020)
}

/// The extended SPIs it implements: 32 * (ESPI_range + 1) from INTID 4096 when
/// GICD_TYPER.ESPI is set, else none.
pub fn espi_count(typer: u32) -> u32 {
    if typer & (1 << 8) != 0 {
        32 * ((typer >> 27) + 1)
    } else {
        0
    }
}

/// The registers of the array at `array` that hold interrupts [first, end) of that
/// array, at `bits` bits each (interrupt n's field starts at bit n * bits).
fn words(array: u64, first: u32, end: u32, bits: u32) -> (u64, u64) {
    let from = u64::from(first * bits / 32) * 4;
    let to = u64::from((end * bits).div_ceil(32)) * 4;
    (array + from, array + to)
}

/// Every SPI and extended SPI disabled (ICENABLER), inactive (ICACTIVER), Group 1
/// (IGROUPR), at `priority` (IPRIORITYR) and level-sensitive (ICFGR 0b00), for a
/// distributor whose GICD_TYPER is `typer`: the fills, in that order (disabled first,
/// so nothing is delivered half-configured). Empty ranges are left out.
pub fn spi_defaults(typer: u32, priority: u8) -> impl Iterator<Item = Fill> {
    let prio = u32::from_le_bytes([priority; 4]);
    let (spis, espis) = (spi_end(typer), espi_count(typer));
    let table = [
        (ICENABLER, 32, spis, 1, u32::MAX),
        (ICACTIVER, 32, spis, 1, u32::MAX),
        (IGROUPR, 32, spis, 1, u32::MAX),
        (IPRIORITYR, 32, spis, 8, prio),
        (ICFGR, 32, spis, 2, 0),
        (ICENABLER_E, 0, espis, 1, u32::MAX),
        (ICACTIVER_E, 0, espis, 1, u32::MAX),
        (IGROUPR_E, 0, espis, 1, u32::MAX),
        (IPRIORITYR_E, 0, espis, 8, prio),
        (ICFGR_E, 0, espis, 2, 0),
    ];
    table
        .into_iter()
        .filter(|&(_, first, end, _, _)| end > first)
        .map(|(array, first, end, bits, value)| {
            let (from, to) = words(array, first, end, bits);
            Fill { from, to, value }
        })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn fills(typer: u32) -> Vec<(u64, u64, u32)> {
        spi_defaults(typer, 0x80)
            .map(|f| (f.from, f.to, f.value))
            .collect()
    }

    #[test]
    fn no_spis_no_writes() {
        // ITLinesNumber 0: INTIDs 0..31 only (SGIs and PPIs, the redistributor's).
        assert!(fills(0).is_empty());
    }

    #[test]
    fn one_line_of_32_spis() {
        // INTIDs 32..63: bit 32.. of IGROUPR/ICENABLER/ICACTIVER (register 1), bytes
        // 32..63 of IPRIORITYR (registers 8..15), 2-bit fields 32..63 of ICFGR
        // (registers 2 and 3).
        assert_eq!(
            fills(1),
            [
                (0x184, 0x188, u32::MAX),
                (0x384, 0x388, u32::MAX),
                (0x84, 0x88, u32::MAX),
                (0x420, 0x440, 0x8080_8080),
                (0xc08, 0xc10, 0),
            ]
        );
    }

    #[test]
    fn the_largest_spi_range_stops_at_1019() {
        // ITLinesNumber 31 would reach INTID 1023, but 1020..1023 are special: the
        // last IPRIORITYR word is 0x7f8 (INTIDs 1016..1019), the last ICFGR 0xcfc.
        assert_eq!(spi_end(31), 1020);
        let f = fills(31);
        assert_eq!(f[2], (0x84, 0x100, u32::MAX));
        assert_eq!(f[3], (0x420, 0x7fc, 0x8080_8080));
        assert_eq!(f[4], (0xc08, 0xd00, 0));
        assert_eq!(f.len(), 5, "no extended SPIs without GICD_TYPER.ESPI");
    }

    #[test]
    fn extended_spis_follow_espi_range() {
        // ESPI set, ESPI_range 0: INTIDs 4096..4127, register 0 of each <n>E array.
        let f = fills(1 | 1 << 8);
        assert_eq!(
            f[5..],
            [
                (0x1400, 0x1404, u32::MAX),
                (0x1c00, 0x1c04, u32::MAX),
                (0x1000, 0x1004, u32::MAX),
                (0x2000, 0x2020, 0x8080_8080),
                (0x3000, 0x3008, 0),
            ]
        );
        // ESPI_range 31: 1024 extended SPIs, the whole of each array.
        let f = fills(1 | 1 << 8 | 31 << 27);
        assert_eq!(espi_count(1 | 1 << 8 | 31 << 27), 1024);
        assert_eq!(f[7], (0x1000, 0x1080, u32::MAX));
        assert_eq!(f[8], (0x2000, 0x2400, 0x8080_8080));
        assert_eq!(f[9], (0x3000, 0x3100, 0));
        // ESPI_range without ESPI: nothing.
        assert_eq!(espi_count(31 << 27), 0);
    }
}
