// SPDX-License-Identifier: GPL-2.0-only
//! Physical address ranges, half-open: `[start, end)`.
use core::fmt;

/// A half-open physical address range `[start, end)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhysRange {
    pub start: u64,
    pub end: u64,
}

impl PhysRange {
    /// The range `[start, end)`; no rule is checked here (see the MPU table for that).
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// The range of `size` bytes from `start`, or `None` when it would wrap.
    pub const fn from_size(start: u64, size: u64) -> Option<Self> {
        match start.checked_add(size) {
            Some(end) => Some(Self { start, end }),
            None => None,
        }
    }

    pub const fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// The smallest range of whole 4 KiB pages that covers `self`.
    pub const fn page_aligned(&self) -> Self {
        let mask = super::PAGE_SIZE - 1;
        Self {
            start: self.start & !mask,
            end: (self.end + mask) & !mask,
        }
    }

    /// Whether `other` lies entirely inside `self`.
    pub const fn contains_range(&self, other: &PhysRange) -> bool {
        other.start >= self.start && other.end <= self.end
    }

    pub const fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end
    }

    /// Whether the two ranges share at least one byte.
    pub const fn overlaps(&self, other: &PhysRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As `write!(f, "[{:#x}, {:#x})", ..)`, without core::fmt's padding code, built
        // in place and written once.
        let mut line = crate::numfmt::Line::<48>::new();
        line.push("[")
            .hex(self.start, 0)
            .push(", ")
            .hex(self.end, 0)
            .push(")");
        line.write_to(f)
    }
}

impl fmt::Debug for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `range` minus every hole, as the ordered pieces left, each passed to `out`.
pub fn subtract(range: PhysRange, holes: &[PhysRange], out: &mut impl FnMut(PhysRange)) {
    if range.is_empty() {
        return;
    }
    match holes.iter().position(|h| h.overlaps(&range)) {
        None => out(range),
        Some(i) => {
            // The holes before i miss `range`, so they miss both pieces too.
            let (hole, rest) = (holes[i], &holes[i + 1..]);
            subtract(PhysRange::new(range.start, hole.start), rest, out);
            subtract(PhysRange::new(hole.end, range.end), rest, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{subtract, PhysRange};

    fn pieces(r: PhysRange, holes: &[PhysRange]) -> Vec<PhysRange> {
        let mut v = Vec::new();
        subtract(r, holes, &mut |p| v.push(p));
        v
    }

    #[test]
    fn subtract_leaves_exactly_the_bytes_outside_every_hole_in_order() {
        let r = PhysRange::new(0x1000, 0x9000);
        assert_eq!(pieces(r, &[]), vec![r]);
        // A hole inside, one over an edge, one outside, one covering all.
        assert_eq!(
            pieces(
                r,
                &[
                    PhysRange::new(0x3000, 0x4000),
                    PhysRange::new(0x8000, 0xa000),
                    PhysRange::new(0xb000, 0xc000),
                ]
            ),
            vec![
                PhysRange::new(0x1000, 0x3000),
                PhysRange::new(0x4000, 0x8000)
            ]
        );
        assert_eq!(pieces(r, &[PhysRange::new(0, 0x10000)]), vec![]);
        // Every byte: in a piece exactly when in the range and in no hole.
        let holes = [
            PhysRange::new(0x2800, 0x3000),
            PhysRange::new(0x2000, 0x2900),
        ];
        let got = pieces(r, &holes);
        for a in (0..0xa000).step_by(0x100) {
            let want = r.contains(a) && !holes.iter().any(|h| h.contains(a));
            assert_eq!(
                got.iter().filter(|p| p.contains(a)).count(),
                want as usize,
                "{a:#x}"
            );
        }
    }

    #[test]
    fn page_aligned_rounds_out_to_whole_pages() {
        assert_eq!(
            PhysRange::new(0x1234, 0x2001).page_aligned(),
            PhysRange::new(0x1000, 0x3000)
        );
        assert_eq!(
            PhysRange::new(0x1000, 0x2000).page_aligned(),
            PhysRange::new(0x1000, 0x2000)
        );
    }
}
