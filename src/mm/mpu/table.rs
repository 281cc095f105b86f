// SPDX-License-Identifier: GPL-2.0-only
//! The region table and its operations. See the module documentation in `mod.rs`.
use core::fmt::{self, Write};

use super::{decode, encode, encode_guest, Attrs, DecodeError, MemType, MpuHw};
use crate::mm::{PhysRange, PAGE_SIZE};

/// PMSAv8-64 allows at most 255 EL2 regions (MPUIR_EL2.REGION is 8 bits).
pub const MAX_REGIONS: usize = 255;
/// Slots in the table's arrays: one per u8 index, so that an index (a u8, or a bit of
/// the 256-bit slot bitmap) needs no bounds check. Slot 255 is never used.
const SLOTS: usize = 256;
/// A region's refcount counts the mappings beyond the first; it saturates here.
pub const MAX_REFCOUNT: u8 = u8::MAX;

/// One used slot of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub range: PhysRange,
    pub attrs: Attrs,
    /// Mappings beyond the first: 0 means mapped once.
    pub refcount: u8,
}

impl Region {
    const UNUSED: Self = Self {
        range: PhysRange::new(0, 0),
        attrs: Attrs::DATA,
        refcount: 0,
    };
}

/// Who a region belongs to. Hypervisor regions are EL2-only and always enabled;
/// a domain's regions give EL1/EL0 access and are enabled only while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Hypervisor,
    Domain(u16),
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hypervisor => write!(f, "rxen"),
            Self::Domain(d) => write!(f, "d{d}"),
        }
    }
}

/// Where a range stands against the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// No region shares a byte with the range.
    NotFound,
    /// Region `.0` covers exactly the range.
    Exact(u8),
    /// Region `.0` covers the range and more.
    Contained(u8),
}

/// Why an MPU operation was refused. Every message names the range and the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MpuError {
    #[error("range {range}: base is not below limit")]
    EmptyRange { range: PhysRange },
    #[error("range {range}: base and limit must be 4 KiB aligned")]
    Misaligned { range: PhysRange },
    #[error("range {range}: outside the {pa_bits}-bit physical address range")]
    OutOfPhysRange { range: PhysRange, pa_bits: u8 },
    #[error("range {range}: {attrs} is writable and executable (W^X)")]
    WritableExecutable { range: PhysRange, attrs: Attrs },
    #[error("range {range} partially overlaps MPU region {index} {region}")]
    PartialOverlap {
        range: PhysRange,
        index: u8,
        region: PhysRange,
    },
    #[error("range {range}: all {count} MPU regions are in use")]
    Exhausted { range: PhysRange, count: u8 },
    #[error("range {range}: MPU region {index} refcount is at its limit ({MAX_REFCOUNT})")]
    RefcountOverflow { range: PhysRange, index: u8 },
    #[error("range {range}: MPU region {index} is mapped {existing}, not {requested}")]
    AttributeMismatch {
        range: PhysRange,
        index: u8,
        existing: Attrs,
        requested: Attrs,
    },
    #[error("range {range} is not mapped")]
    NotMapped { range: PhysRange },
    #[error("range {range} is only part of MPU region {index} {region}")]
    PartialRange {
        range: PhysRange,
        index: u8,
        region: PhysRange,
    },
    #[error("range {range}: MPU region {index} may not change memory type ({from:?} to {to:?})")]
    MemTypeChange {
        range: PhysRange,
        index: u8,
        from: MemType,
        to: MemType,
    },
    #[error("range {range}: MPU region {index} is mapped {mappings} times; its permissions may not change")]
    SharedRegion {
        range: PhysRange,
        index: u8,
        mappings: u16,
    },
    #[error("range {range}: {mem:?} is not device memory")]
    NotDevice { range: PhysRange, mem: MemType },
    #[error("cannot join {lower} and {upper}: the first must end where the second starts")]
    NotAdjacent { lower: PhysRange, upper: PhysRange },
    #[error(
        "cannot join {lower} ({lower_attrs}) and {upper} ({upper_attrs}): their attributes differ"
    )]
    JoinAttributes {
        lower: PhysRange,
        lower_attrs: Attrs,
        upper: PhysRange,
        upper_attrs: Attrs,
    },
    #[error("boot MPU region {index}: {reason:?} (PRBAR {prbar:#x}, PRLAR {prlar:#x})")]
    BadBootRegion {
        index: u8,
        prbar: u64,
        prlar: u64,
        reason: DecodeError,
    },
    #[error("boot MPU region {index} is beyond the {count} implemented regions")]
    BootIndexOutOfRange { index: u8, count: u8 },
    #[error("range {range} for d{domain} overlaps MPU region {index} {region} of {owner}")]
    DomainOverlap {
        range: PhysRange,
        domain: u16,
        index: u8,
        region: PhysRange,
        owner: Owner,
    },
    #[error("range {range}: MPU region {index} belongs to d{domain}, not to rxen")]
    OwnedByDomain {
        range: PhysRange,
        index: u8,
        domain: u16,
    },
}

/// The software mirror of the EL2 MPU.
#[derive(Clone)]
pub struct MpuTable {
    regions: [Region; SLOTS],
    /// Bit `i` set: slot `i` holds a region (a domain's may be disabled just now).
    used: [u64; 4],
    /// The domain owning each slot; 0 is the hypervisor (domain IDs start at 1).
    owner: [u16; SLOTS],
    /// Bit `i` set: slot `i` holds a domain's region (`owner[i] != 0`), so that a
    /// domain switch visits only those.
    guest: [u64; 4],
    /// Regions the hardware implements (MPUIR_EL2.REGION).
    count: u8,
    /// Implemented physical address bits.
    pa_bits: u8,
}

impl MpuTable {
    /// An empty table for hardware with `count` regions and `pa_bits` address bits.
    pub const fn new(count: u8, pa_bits: u8) -> Self {
        Self {
            regions: [Region::UNUSED; SLOTS],
            used: [0; 4],
            owner: [0; SLOTS],
            guest: [0; 4],
            count,
            pa_bits,
        }
    }

    /// Rebuild the mirror from regions already programmed (by the boot head), given as
    /// (index, PRBAR, PRLAR). Values are checked: each must be a region rxen could have
    /// made, within the implemented count, and no two may overlap.
    pub fn from_programmed(
        count: u8,
        pa_bits: u8,
        programmed: impl IntoIterator<Item = (u8, u64, u64)>,
    ) -> Result<Self, MpuError> {
        let mut t = Self::new(count, pa_bits);
        t.load_programmed(count, pa_bits, programmed)?;
        Ok(t)
    }

    /// `from_programmed` in place: empty this table, then fill it from the regions
    /// already programmed. The firmware's table is 255 slots (about 8 KiB): rebuilding
    /// it where it lives spares the copies a returned table costs. On an error the
    /// table holds the regions read before the bad one.
    pub fn load_programmed(
        &mut self,
        count: u8,
        pa_bits: u8,
        programmed: impl IntoIterator<Item = (u8, u64, u64)>,
    ) -> Result<(), MpuError> {
        // Only used slots hold anything: clearing them empties the table.
        for w in 0..self.used.len() {
            while self.used[w] != 0 {
                let i = w * 64 + self.used[w].trailing_zeros() as usize;
                self.clear(i as u8);
            }
        }
        self.count = count;
        self.pa_bits = pa_bits;
        let t = self;
        for (index, prbar, prlar) in programmed {
            if index >= count {
                return Err(MpuError::BootIndexOutOfRange { index, count });
            }
            let (range, attrs) =
                decode(prbar, prlar).map_err(|reason| MpuError::BadBootRegion {
                    index,
                    prbar,
                    prlar,
                    reason,
                })?;
            t.check_range(range)?;
            t.check_wx(range, attrs)?;
            if let Some((other, r)) = t.iter().find(|(_, r)| r.range.overlaps(&range)) {
                return Err(MpuError::PartialOverlap {
                    range,
                    index: other,
                    region: r.range,
                });
            }
            t.set(
                index,
                Region {
                    range,
                    attrs,
                    refcount: 0,
                },
            );
        }
        Ok(())
    }

    pub const fn count(&self) -> u8 {
        self.count
    }

    pub const fn pa_bits(&self) -> u8 {
        self.pa_bits
    }

    pub fn is_used(&self, index: u8) -> bool {
        (index as usize) < MAX_REGIONS && self.used[index as usize / 64] & (1 << (index % 64)) != 0
    }

    /// The owner of slot `index` (meaningful for used slots).
    pub fn owner(&self, index: u8) -> Owner {
        match self.owner.get(index as usize) {
            Some(&d) if d != 0 => Owner::Domain(d),
            _ => Owner::Hypervisor,
        }
    }

    /// The slots domain `d` owns.
    pub fn domain_slots(&self, d: u16) -> impl Iterator<Item = u8> + '_ {
        self.iter()
            .filter(move |(i, _)| self.owner[*i as usize] == d)
            .map(|(i, _)| i)
    }

    pub fn get(&self, index: u8) -> Option<&Region> {
        self.is_used(index).then(|| &self.regions[index as usize])
    }

    pub fn used_count(&self) -> usize {
        self.used.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The used regions, by index. Walks the set bits of the bitmap only, so the
    /// cost follows the regions in use, not the regions implemented.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &Region)> + '_ {
        self.used.iter().enumerate().flat_map(move |(word, &bits)| {
            let mut rest = bits;
            core::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                let i = word * 64 + bit;
                Some((i as u8, &self.regions[i]))
            })
        })
    }

    /// Where `range` stands: not found, an exact match, contained in one region, or a
    /// partial overlap (an error). The range must pass the global rules.
    pub fn classify(&self, range: PhysRange) -> Result<Match, MpuError> {
        self.check_range(range)?;
        self.lookup(range)
    }

    /// `classify` for a range the caller has already checked.
    fn lookup(&self, range: PhysRange) -> Result<Match, MpuError> {
        match self.iter().find(|(_, r)| r.range.overlaps(&range)) {
            None => Ok(Match::NotFound),
            Some((i, r)) if r.range == range => Ok(Match::Exact(i)),
            Some((i, r)) if r.range.contains_range(&range) => Ok(Match::Contained(i)),
            Some((i, r)) => Err(MpuError::PartialOverlap {
                range,
                index: i,
                region: r.range,
            }),
        }
    }

    /// The index of the region that covers `addr`, if any.
    pub fn find_addr(&self, addr: u64) -> Option<u8> {
        self.iter()
            .find(|(_, r)| r.range.contains(addr))
            .map(|(i, _)| i)
    }

    fn check_range(&self, range: PhysRange) -> Result<(), MpuError> {
        if range.is_empty() {
            return Err(MpuError::EmptyRange { range });
        }
        if !range.start.is_multiple_of(PAGE_SIZE) || !range.end.is_multiple_of(PAGE_SIZE) {
            return Err(MpuError::Misaligned { range });
        }
        if self.pa_bits < 64 && range.end > 1u64 << self.pa_bits {
            return Err(MpuError::OutOfPhysRange {
                range,
                pa_bits: self.pa_bits,
            });
        }
        Ok(())
    }

    fn check_wx(&self, range: PhysRange, attrs: Attrs) -> Result<(), MpuError> {
        if attrs.is_writable_executable() {
            return Err(MpuError::WritableExecutable { range, attrs });
        }
        Ok(())
    }

    /// The lowest unused slot below `count`: the lowest clear bit of the bitmap, a
    /// word at a time (the first unused slot of all, when it is below `count`).
    fn free_slot(&self) -> Option<u8> {
        let (w, free) = self
            .used
            .iter()
            .enumerate()
            .find_map(|(w, &bits)| (bits != u64::MAX).then_some((w, !bits)))?;
        let i = w * 64 + free.trailing_zeros() as usize;
        (i < self.count as usize).then_some(i as u8)
    }

    fn set(&mut self, index: u8, region: Region) {
        self.regions[index as usize] = region;
        self.used[index as usize / 64] |= 1 << (index % 64);
    }

    fn clear(&mut self, index: u8) {
        self.regions[index as usize] = Region::UNUSED;
        self.owner[index as usize] = 0;
        self.used[index as usize / 64] &= !(1 << (index % 64));
        self.guest[index as usize / 64] &= !(1 << (index % 64));
    }
}

impl fmt::Display for MpuTable {
    /// The table dump for logs and panics: index, range, permissions, type, refcount.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "EL2 MPU: {} of {} regions in use\n", built in place and written once.
        let mut head = crate::numfmt::Line::<48>::new();
        head.push("EL2 MPU: ")
            .dec(self.used_count() as u64, 0)
            .push(" of ")
            .dec(self.count.into(), 0)
            .push(" regions in use\n");
        head.write_to(f)?;
        for (i, r) in self.iter() {
            // "  #{i:<3} {:#012x}..{:#012x}  {attrs}  refcount {}", built in place and
            // written once (this dump is most of the boot log).
            let mut line = crate::numfmt::Line::<96>::new();
            line.push("  #")
                .dec(i.into(), 3)
                .push(" ")
                .hex(r.range.start, 12)
                .push("..")
                .hex(r.range.end - 1, 12)
                .push("  ");
            r.attrs.push_to(&mut line);
            line.push("  refcount ").dec(r.refcount.into(), 0);
            match self.owner(i) {
                Owner::Hypervisor => {}
                d => {
                    let _ = write!(line.push("  "), "{d}");
                    line.push(" (EL1)");
                }
            }
            line.push("\n");
            line.write_to(f)?;
        }
        Ok(())
    }
}

/// The table together with the hardware it mirrors. Every operation decides on the
/// table first and writes the hardware only once it is sure to succeed. Callers hold
/// one lock around the whole `Mpu` (see the firmware's `mm` module).
pub struct Mpu<H: MpuHw> {
    table: MpuTable,
    hw: H,
}

impl<H: MpuHw> Mpu<H> {
    pub const fn new(table: MpuTable, hw: H) -> Self {
        Self { table, hw }
    }

    pub fn table(&self) -> &MpuTable {
        &self.table
    }

    /// Adopt what the hardware already holds (the boot head's regions), rebuilding the
    /// table in place (`MpuTable::load_programmed`); writes no register.
    pub fn adopt_programmed(
        &mut self,
        count: u8,
        pa_bits: u8,
        programmed: impl IntoIterator<Item = (u8, u64, u64)>,
    ) -> Result<(), MpuError> {
        self.table.load_programmed(count, pa_bits, programmed)
    }

    pub fn hw(&self) -> &H {
        &self.hw
    }

    /// Tests reset the fake's log through this; the firmware never needs it.
    #[cfg(test)]
    pub(crate) fn hw_mut(&mut self) -> &mut H {
        &mut self.hw
    }

    pub fn classify(&self, range: PhysRange) -> Result<Match, MpuError> {
        self.table.classify(range)
    }

    /// Map `range` with `attrs`: an exact or containing region with the same attributes
    /// gains a reference; otherwise a free region is programmed.
    pub fn map(&mut self, range: PhysRange, attrs: Attrs) -> Result<u8, MpuError> {
        self.table.check_range(range)?;
        self.table.check_wx(range, attrs)?;
        match self.table.lookup(range)? {
            Match::NotFound => self.program_new(range, attrs, 0, encode(range, attrs)),
            Match::Exact(index) | Match::Contained(index) => {
                self.hypervisor_owned(range, index)?;
                let region = &mut self.table.regions[index as usize];
                if region.attrs != attrs {
                    return Err(MpuError::AttributeMismatch {
                        range,
                        index,
                        existing: region.attrs,
                        requested: attrs,
                    });
                }
                region.refcount = region
                    .refcount
                    .checked_add(1)
                    .ok_or(MpuError::RefcountOverflow { range, index })?;
                Ok(index)
            }
        }
    }

    /// Map device registers (read-write, execute-never) and return their address.
    pub fn ioremap(&mut self, range: PhysRange, mem: MemType) -> Result<u64, MpuError> {
        if !mem.is_device() {
            return Err(MpuError::NotDevice { range, mem });
        }
        self.map(
            range,
            Attrs {
                mem,
                read_only: false,
                exec_never: true,
            },
        )?;
        Ok(range.start)
    }

    /// Change the permissions of an exactly matching region mapped once
    /// (`modify_xen_mappings`). The memory type never changes; equal attributes are a
    /// no-op (the refcount is left alone).
    pub fn modify(&mut self, range: PhysRange, attrs: Attrs) -> Result<(), MpuError> {
        self.table.check_range(range)?;
        self.table.check_wx(range, attrs)?;
        let index = self.exact(range)?;
        let region = self.table.regions[index as usize];
        if region.attrs.mem != attrs.mem {
            return Err(MpuError::MemTypeChange {
                range,
                index,
                from: region.attrs.mem,
                to: attrs.mem,
            });
        }
        if region.attrs == attrs {
            return Ok(());
        }
        self.mapped_once(range, index)?;
        let (prbar, prlar) = encode(range, attrs);
        self.hw.write_region(index, prbar, prlar);
        self.hw.sync();
        self.table.regions[index as usize].attrs = attrs;
        Ok(())
    }

    /// Drop one mapping of `range` (`destroy_xen_mappings`): a shared region loses a
    /// reference; an exactly matching region mapped once is disabled.
    pub fn unmap(&mut self, range: PhysRange) -> Result<(), MpuError> {
        let m = self.table.classify(range)?;
        if let Match::Exact(index) | Match::Contained(index) = m {
            self.hypervisor_owned(range, index)?;
        }
        match m {
            Match::NotFound => Err(MpuError::NotMapped { range }),
            Match::Exact(index) | Match::Contained(index)
                if self.table.regions[index as usize].refcount > 0 =>
            {
                self.table.regions[index as usize].refcount -= 1;
                Ok(())
            }
            Match::Exact(index) => {
                self.hw.write_region(index, 0, 0);
                self.hw.sync();
                self.table.clear(index);
                Ok(())
            }
            Match::Contained(index) => Err(MpuError::PartialRange {
                range,
                index,
                region: self.table.regions[index as usize].range,
            }),
        }
    }

    /// Join the regions that are exactly `lower` and `upper`, adjacent (`lower` ends
    /// where `upper` starts), each mapped once and with the same attributes, into one
    /// region over both; returns its index. `upper`'s slot grows down over `lower`,
    /// whose slot is freed. Used by `free_init_memory`: data, the freed init memory and
    /// bss become one region.
    ///
    /// No two enabled regions overlap at any moment: `MpuHw::disable_then_program`
    /// disables `lower` and then moves `upper`'s base down, with no memory access and
    /// no exception between the two writes (for that instant `lower` is unmapped).
    pub fn join(&mut self, lower: PhysRange, upper: PhysRange) -> Result<u8, MpuError> {
        self.table.check_range(lower)?;
        self.table.check_range(upper)?;
        if lower.end != upper.start {
            return Err(MpuError::NotAdjacent { lower, upper });
        }
        let lo = self.exact(lower)?;
        let up = self.exact(upper)?;
        let lower_attrs = self.table.regions[lo as usize].attrs;
        let upper_attrs = self.table.regions[up as usize].attrs;
        if lower_attrs != upper_attrs {
            return Err(MpuError::JoinAttributes {
                lower,
                lower_attrs,
                upper,
                upper_attrs,
            });
        }
        self.mapped_once(lower, lo)?;
        self.mapped_once(upper, up)?;
        let joined = PhysRange::new(lower.start, upper.end);
        let (prbar, prlar) = encode(joined, upper_attrs);
        self.hw.disable_then_program(lo, up, prbar, prlar);
        self.table.clear(lo);
        self.table.regions[up as usize].range = joined;
        Ok(up)
    }

    /// The index of the region that is exactly `range` (already checked), or the error
    /// that says why not.
    fn exact(&self, range: PhysRange) -> Result<u8, MpuError> {
        match self.table.lookup(range)? {
            Match::Exact(index) => {
                self.hypervisor_owned(range, index)?;
                Ok(index)
            }
            Match::NotFound => Err(MpuError::NotMapped { range }),
            Match::Contained(index) => Err(MpuError::PartialRange {
                range,
                index,
                region: self.table.regions[index as usize].range,
            }),
        }
    }

    /// Refuse to change region `index` (found for `range`) while it is mapped more
    /// than once: the other mappings rely on its shape and permissions.
    fn mapped_once(&self, range: PhysRange, index: u8) -> Result<(), MpuError> {
        match self.table.regions[index as usize].refcount {
            0 => Ok(()),
            n => Err(MpuError::SharedRegion {
                range,
                index,
                mappings: n as u16 + 1,
            }),
        }
    }

    /// Refuse a hypervisor operation on a domain's region.
    fn hypervisor_owned(&self, range: PhysRange, index: u8) -> Result<(), MpuError> {
        match self.table.owner(index) {
            Owner::Hypervisor => Ok(()),
            Owner::Domain(domain) => Err(MpuError::OwnedByDomain {
                range,
                index,
                domain,
            }),
        }
    }

    /// Give domain `domain` (>= 1) a region over `range` with EL1/EL0 access
    /// (`encode_guest`), programmed disabled: `switch_domain` enables it while the
    /// domain runs. The range passes the global rules and may not share a byte with
    /// any region, whoever owns it. A domain's RAM is writable and executable at EL1
    /// (the guest's own stage 1 decides within it); EL2 never executes it, because
    /// rxen runs with SCTLR_EL2.WXN set (every writable region is execute-never at
    /// EL2). Slots are taken lowest first, so with few hypervisor regions a domain's
    /// regions sit below 32 and switch with one PRENR_EL2 write.
    pub fn map_domain(
        &mut self,
        domain: u16,
        range: PhysRange,
        attrs: Attrs,
    ) -> Result<u8, MpuError> {
        self.table.check_range(range)?;
        if let Some((index, r)) = self.table.iter().find(|(_, r)| r.range.overlaps(&range)) {
            return Err(MpuError::DomainOverlap {
                range,
                domain,
                index,
                region: r.range,
                owner: self.table.owner(index),
            });
        }
        self.program_new(range, attrs, domain.max(1), encode_guest(range, attrs))
    }

    /// Program the lowest free slot with `regs` for a new region of `owner` (0: rxen),
    /// once every check has passed.
    fn program_new(
        &mut self,
        range: PhysRange,
        attrs: Attrs,
        owner: u16,
        (prbar, prlar): (u64, u64),
    ) -> Result<u8, MpuError> {
        let index = self.table.free_slot().ok_or(MpuError::Exhausted {
            range,
            count: self.table.count,
        })?;
        self.hw.write_region(index, prbar, prlar);
        self.hw.sync();
        self.table.set(
            index,
            Region {
                range,
                attrs,
                refcount: 0,
            },
        );
        self.table.owner[index as usize] = owner;
        if owner != 0 {
            self.table.guest[index as usize / 64] |= 1 << (index % 64);
        }
        Ok(index)
    }

    /// Remove every region of `domain` (when it is destroyed).
    pub fn unmap_domain(&mut self, domain: u16) {
        let mut slots = [0u8; MAX_REGIONS];
        let mut n = 0;
        for i in self.table.domain_slots(domain) {
            slots[n] = i;
            n += 1;
        }
        for &i in &slots[..n] {
            self.hw.write_region(i, 0, 0);
            self.table.clear(i);
        }
        if n > 0 {
            self.hw.sync();
        }
    }

    /// Make `to`'s regions the enabled ones (and nobody else's): one PRENR_EL2 write for
    /// regions 0..31 (every hypervisor region stays on), and a PRLAR rewrite for each
    /// domain region beyond 31. `None`: no domain (idle).
    pub fn switch_domain(&mut self, to: Option<u16>) {
        // Straight from the slot bitmaps and the owner array (this runs at every vCPU
        // switch): the hypervisor's regions below 32 are the used slots that hold no
        // domain's region; of the domains' regions, only `to`'s are enabled.
        let t = &self.table;
        let is_to = |i: usize| Some(t.owner[i]) == to;
        let mut prenr = (t.used[0] & !t.guest[0]) as u32;
        let mut low = t.guest[0] as u32;
        while low != 0 {
            let i = low.trailing_zeros() as usize;
            low &= low - 1;
            if is_to(i) {
                prenr |= 1 << i;
            }
        }
        self.hw.write_prenr(prenr);
        // Domain regions beyond 31 are rare (slots are taken lowest first): one test.
        let beyond = (t.guest[0] >> 32) | t.guest[1] | t.guest[2] | t.guest[3];
        if beyond != 0 {
            for word in 0..t.guest.len() {
                let bits = t.guest[word];
                let mut rest = if word == 0 { bits & !0xffff_ffff } else { bits };
                while rest != 0 {
                    let i = word * 64 + rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    let r = t.regions[i];
                    let (prbar, prlar) = encode_guest(r.range, r.attrs);
                    self.hw
                        .write_region(i as u8, prbar, prlar | is_to(i) as u64);
                }
            }
        }
        self.hw.sync();
    }
}
