// SPDX-License-Identifier: GPL-2.0-only
//! The PMSAv8-64 EL2 MPU as the architecture defines it: region registers, the
//! PRSELR selection and PRBAR<n>/PRLAR<n> aliases, PRENR, 64-byte granularity, and the
//! access check (no match with BR clear, or more than one match: translation fault;
//! AP/XN/WXN: permission fault). Pure data: the machine asks it about addresses.
//!
//! Built for the EL2 regime now; `Regime` leaves room for the EL1 MPU and for the
//! EL2 MPU acting as stage 2 when guests arrive.

pub const MAX_REGIONS: usize = 255;
pub const GRANULE: u64 = 64;
const ADDR_MASK: u64 = 0x0000_ffff_ffff_ffc0;

/// SCTLR_EL2 bits the MPU obeys.
pub const SCTLR_M: u64 = 1 << 0;
pub const SCTLR_BR: u64 = 1 << 17;
pub const SCTLR_WXN: u64 = 1 << 19;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Fetch,
}

/// The fault an access takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No region matched (BR clear) or several did. FSC 0b000100 (level 0).
    Translation,
    /// The matching region forbids the access. FSC 0b001100 (level 0).
    Permission,
}

impl Fault {
    pub const fn fsc(self) -> u32 {
        match self {
            Fault::Translation => 0b000100,
            Fault::Permission => 0b001100,
        }
    }
}

/// Which translation regime checks the access (only EL2 is modelled yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    El2,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegionRegs {
    pub prbar: u64,
    pub prlar: u64,
}

impl RegionRegs {
    pub const fn enabled(&self) -> bool {
        self.prlar & 1 != 0
    }
    pub const fn base(&self) -> u64 {
        self.prbar & ADDR_MASK
    }
    /// The last byte of the region.
    pub const fn limit(&self) -> u64 {
        (self.prlar & ADDR_MASK) | 0x3f
    }
    pub const fn read_only(&self) -> bool {
        self.prbar & (1 << 3) != 0
    }
    pub const fn el1_access(&self) -> bool {
        self.prbar & (1 << 2) != 0
    }
    /// XN[1]: execute-never at EL2.
    pub const fn xn_el2(&self) -> bool {
        self.prbar & (1 << 1) != 0
    }
    pub const fn attr_index(&self) -> u8 {
        ((self.prlar >> 1) & 7) as u8
    }
    /// Whether EL2 may execute from this region under SCTLR_EL2 = `sctlr` (XN, and WXN
    /// for writable regions).
    pub const fn executable(&self, sctlr: u64) -> bool {
        let wxn_forbids = !self.read_only() && sctlr & SCTLR_WXN != 0;
        self.enabled() && !self.xn_el2() && !wxn_forbids
    }

    pub const fn contains(&self, addr: u64) -> bool {
        self.enabled() && addr >= self.base() && addr <= self.limit()
    }
}

/// The EL2 MPU's registers.
#[derive(Clone, Debug)]
pub struct Mpu {
    count: u8,
    pub prselr: u64,
    regions: Vec<RegionRegs>,
}

/// The outcome of looking an address up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    None,
    One(u8),
    Several(u8, u8),
}

impl Mpu {
    pub fn new(count: u8) -> Self {
        Self {
            count,
            prselr: 0,
            regions: vec![RegionRegs::default(); count as usize],
        }
    }

    pub fn count(&self) -> u8 {
        self.count
    }

    pub fn region(&self, i: u8) -> RegionRegs {
        self.regions.get(i as usize).copied().unwrap_or_default()
    }

    /// The region PRBAR_EL2/PRLAR_EL2 reach: PRSELR.REGION, if implemented.
    pub fn selected(&self) -> Option<u8> {
        let r = (self.prselr & 0xff) as u8;
        (r < self.count).then_some(r)
    }

    /// The region alias PRBAR<n>/PRLAR<n> reaches (n = 1..15).
    pub fn alias(&self, n: u8) -> Option<u8> {
        let r = ((self.prselr & 0xf0) as u8).checked_add(n)?;
        (r < self.count).then_some(r)
    }

    /// Write PRBAR (`limit = false`) or PRLAR of region `i`; writes to regions not
    /// implemented are ignored (RES0 behaviour).
    pub fn write(&mut self, i: u8, limit: bool, value: u64) {
        if let Some(r) = self.regions.get_mut(i as usize) {
            // Only the architected fields are kept.
            if limit {
                r.prlar = value & (ADDR_MASK | 0b1111);
            } else {
                r.prbar = value & (ADDR_MASK | 0b11_1111);
            }
        }
    }

    pub fn read(&self, i: u8, limit: bool) -> u64 {
        let r = self.region(i);
        if limit {
            r.prlar
        } else {
            r.prbar
        }
    }

    /// PRENR_EL2: the EN bits of regions 0..31.
    pub fn prenr(&self) -> u64 {
        (0..self.count.min(32))
            .filter(|&i| self.region(i).enabled())
            .fold(0, |acc, i| acc | 1 << i)
    }

    pub fn write_prenr(&mut self, v: u64) {
        for i in 0..self.count.min(32) {
            let r = &mut self.regions[i as usize];
            r.prlar = (r.prlar & !1) | ((v >> i) & 1);
        }
    }

    pub fn lookup(&self, addr: u64) -> Lookup {
        let mut hit = None;
        for i in 0..self.count {
            if self.region(i).contains(addr) {
                match hit {
                    None => hit = Some(i),
                    Some(first) => return Lookup::Several(first, i),
                }
            }
        }
        hit.map_or(Lookup::None, Lookup::One)
    }

    /// What the EL2 regime may do at `addr` once an address matches: (write, execute).
    /// Reading is allowed wherever this is `Ok`. One lookup serves every access kind.
    fn rights(&self, addr: u64, sctlr: u64) -> Result<(bool, bool), Fault> {
        if sctlr & SCTLR_M == 0 {
            return Ok((true, true));
        }
        match self.lookup(addr) {
            Lookup::None if sctlr & SCTLR_BR != 0 => Ok((true, true)),
            Lookup::None | Lookup::Several(..) => Err(Fault::Translation),
            Lookup::One(i) => {
                let r = self.region(i);
                Ok((!r.read_only(), r.executable(sctlr)))
            }
        }
    }

    /// Check one access by the EL2 regime with SCTLR_EL2 = `sctlr`.
    pub fn check(
        &self,
        addr: u64,
        access: Access,
        sctlr: u64,
        _regime: Regime,
    ) -> Result<(), Fault> {
        let (write, exec) = self.rights(addr, sctlr)?;
        let allowed = match access {
            Access::Read => true,
            Access::Write => write,
            Access::Fetch => exec,
        };
        if allowed {
            Ok(())
        } else {
            Err(Fault::Permission)
        }
    }

    /// What every byte of `[page, page + size)` allows: (read, write, execute).
    /// The TLB grants only that; an access refused here is re-checked exactly.
    pub fn page_perms(&self, page: u64, size: u64, sctlr: u64) -> (bool, bool, bool) {
        let (r, mut w, mut x) = (true, true, true);
        let mut a = page;
        while a < page + size {
            match self.rights(a, sctlr) {
                Ok((bw, bx)) => {
                    w &= bw;
                    x &= bx;
                }
                Err(_) => return (false, false, false),
            }
            a += GRANULE;
        }
        (r, w, x)
    }

    /// Pairs of enabled regions that overlap.
    pub fn overlaps(&self) -> Vec<(u8, u8)> {
        let mut v = Vec::new();
        for i in 0..self.count {
            for j in i + 1..self.count {
                let (a, b) = (self.region(i), self.region(j));
                if a.enabled() && b.enabled() && a.base() <= b.limit() && b.base() <= a.limit() {
                    v.push((i, j));
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: u64 = SCTLR_M;

    fn region(m: &mut Mpu, i: u8, base: u64, last: u64, bar_flags: u64, lar_flags: u64) {
        m.write(i, false, base | bar_flags);
        m.write(i, true, (last & !0x3f) | lar_flags);
    }

    #[test]
    fn regions_match_at_64_byte_edges_inclusive_limit() {
        let mut m = Mpu::new(16);
        region(&mut m, 0, 0x1040, 0x10bf, 0, 1); // [0x1040, 0x10bf]
        assert_eq!(m.lookup(0x103f), Lookup::None);
        assert_eq!(m.lookup(0x1040), Lookup::One(0));
        assert_eq!(m.lookup(0x10bf), Lookup::One(0));
        assert_eq!(m.lookup(0x10c0), Lookup::None);
    }

    #[test]
    fn no_match_faults_only_with_br_clear_and_mpu_on() {
        let m = Mpu::new(16);
        assert_eq!(m.check(0x5000, Access::Read, 0, Regime::El2), Ok(()));
        assert_eq!(
            m.check(0x5000, Access::Read, ON, Regime::El2),
            Err(Fault::Translation)
        );
        assert_eq!(
            m.check(0x5000, Access::Fetch, ON | SCTLR_BR, Regime::El2),
            Ok(())
        );
    }

    #[test]
    fn overlapping_enabled_regions_fault_disabled_ones_do_not() {
        let mut m = Mpu::new(16);
        region(&mut m, 0, 0x0, 0xfff, 0, 1);
        region(&mut m, 3, 0x800, 0x1fff, 0, 1);
        assert_eq!(m.lookup(0x900), Lookup::Several(0, 3));
        assert_eq!(
            m.check(0x900, Access::Read, ON, Regime::El2),
            Err(Fault::Translation)
        );
        assert_eq!(m.overlaps(), vec![(0, 3)]);
        m.write(3, true, 0x1fc0); // EN clear
        assert_eq!(m.check(0x900, Access::Read, ON, Regime::El2), Ok(()));
    }

    #[test]
    fn ap_xn_and_wxn_decide_permissions() {
        let mut m = Mpu::new(16);
        region(&mut m, 0, 0x0, 0xfff, 0b1000, 1); // RO, executable
        region(&mut m, 1, 0x1000, 0x1fff, 0b0010, 1); // RW, XN
        region(&mut m, 2, 0x2000, 0x2fff, 0b0000, 1); // RW, executable
        assert_eq!(
            m.check(0x10, Access::Write, ON, Regime::El2),
            Err(Fault::Permission)
        );
        assert_eq!(m.check(0x10, Access::Fetch, ON, Regime::El2), Ok(()));
        assert_eq!(
            m.check(0x1010, Access::Fetch, ON, Regime::El2),
            Err(Fault::Permission)
        );
        assert_eq!(m.check(0x2010, Access::Fetch, ON, Regime::El2), Ok(()));
        assert_eq!(
            m.check(0x2010, Access::Fetch, ON | SCTLR_WXN, Regime::El2),
            Err(Fault::Permission)
        );
    }

    #[test]
    fn aliases_follow_prselr_high_bits_and_prenr_mirrors_en() {
        let mut m = Mpu::new(40);
        m.prselr = 0x21;
        assert_eq!(m.selected(), Some(0x21));
        assert_eq!(m.alias(3), Some(0x23));
        m.prselr = 0x30;
        assert_eq!(m.alias(15), None, "region 0x3f is not implemented");
        region(&mut m, 5, 0, 0xfff, 0, 1);
        assert_eq!(m.prenr(), 1 << 5);
        m.write_prenr(1 << 7);
        assert!(!m.region(5).enabled());
        assert!(m.region(7).enabled());
    }

    #[test]
    fn page_perms_are_the_intersection_over_64_byte_blocks() {
        let mut m = Mpu::new(16);
        region(&mut m, 0, 0x0, 0x3ff, 0b1000, 1); // RO X covering the page
        assert_eq!(m.page_perms(0, 0x400, ON), (true, false, true));
        region(&mut m, 1, 0x400, 0x43f, 0b0010, 1); // only the first 64 bytes of the next page
        assert_eq!(m.page_perms(0x400, 0x400, ON), (false, false, false));
    }
}
