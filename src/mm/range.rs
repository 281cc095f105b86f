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
        write!(f, "[{:#x}, {:#x})", self.start, self.end)
    }
}

impl fmt::Debug for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::PhysRange;

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
