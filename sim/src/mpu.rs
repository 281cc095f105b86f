// SPDX-License-Identifier: GPL-2.0-only
//! The PMSAv8-64 MPUs as the architecture defines them (Arm ARM, the Armv8-R AArch64
//! supplement): region registers, the PRSELR selection and PRBAR<n>/PRLAR<n> aliases,
//! PRENR, 64-byte granularity, and the access checks. Pure data: the machine asks it
//! about addresses; it never touches Unicorn.
//!
//! Three checks exist:
//! - the EL2 regime (EL2's own accesses, SCTLR_EL2.{M, BR, WXN}): `Mpu::check`;
//! - stage 1 of the EL1&0 regime, the EL1 MPU (SCTLR_EL1.{M, BR, WXN}, EL0 rights);
//! - stage 2, the EL2 MPU checking EL1 and EL0 accesses when HCR_EL2.VM = 1.
//!
//! `check_access` combines them for an access at a given EL: stage 1 first (its
//! faults go to EL1), then stage 2 (its faults go to EL2). A miss or a multiple hit is
//! a translation fault; AP/XN/WXN refusals are permission faults (both level 0).
//!
//! Permissions (PRBAR AP[2:1] = bits 3:2, XN[1:0] = bits 1:0):
//! - EL2 regime: AP bit 3 read-only; XN[1] execute-never at EL2.
//! - EL1 regime: AP bit 3 read-only, bit 2 EL0 access; stage 2: bit 3 read-only,
//!   bit 2 EL1/EL0 access (clear: no EL1/EL0 access at all).
//! - EL1 regime and stage 2 XN[1:0], with distinct EL1/EL0 controls (as VMSA's stage-2
//!   XN with FEAT_XNX): 0b00 executable at EL1 and EL0, 0b01 not at EL1, 0b10 at
//!   neither, 0b11 not at EL0. Xen's MPU port uses 0b10 (execute-never everywhere).
//! - SCTLR_ELx.WXN makes a region that the accessing EL may write execute-never there.

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

/// Which translation regime checks the access with `Mpu::check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    El2,
}

/// HCR_EL2.VM: the EL2 MPU acts as stage 2 for EL1 and EL0.
pub const HCR_VM: u64 = 1 << 0;

/// The translation stage a fault comes from: stage 1 faults are taken to the EL of
/// the regime (EL1 for EL1&0, EL2 for EL2), stage 2 faults to EL2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    One,
    Two,
}

/// Everything `check_access` needs besides the two MPUs: the accessing EL and the
/// controls in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Controls {
    pub el: u8,
    pub sctlr_el2: u64,
    pub sctlr_el1: u64,
    pub hcr_el2: u64,
}

/// XN[1:0] with separate EL1/EL0 controls: may `el` (0 or 1) execute?
const fn xn_allows(xn: u64, el: u8) -> bool {
    match xn & 3 {
        0b00 => true,
        0b01 => el == 0,
        0b10 => false,
        _ => el == 1,
    }
}

/// What `el` (0 or 1) may do once an address has matched: (read, write, execute).
type Rights = (bool, bool, bool);

/// Rights of an EL1-regime region for an access from `el`.
fn el1_region_rights(r: RegionRegs, el: u8, sctlr_el1: u64) -> Rights {
    let el0_access = r.prbar & (1 << 2) != 0;
    let read = el == 1 || el0_access;
    let write = read && !r.read_only();
    let wxn = write && sctlr_el1 & SCTLR_WXN != 0;
    let exec = read && xn_allows(r.prbar, el) && !wxn;
    (read, write, exec)
}

/// Rights of a stage-2 (EL2 MPU) region for an access from `el` (0 or 1).
fn stage2_region_rights(r: RegionRegs, el: u8) -> Rights {
    if !r.el1_access() {
        return (false, false, false);
    }
    (true, !r.read_only(), xn_allows(r.prbar, el))
}

fn stage1_rights<'a>(el1: &'a Mpu, c: &Controls) -> impl Fn(u64) -> Result<Rights, Fault> + 'a {
    let (sctlr, el) = (c.sctlr_el1, c.el);
    move |addr| {
        if sctlr & SCTLR_M == 0 {
            return Ok((true, true, true));
        }
        match el1.lookup(addr) {
            // The background region serves EL1 only; EL0 misses fault.
            Lookup::None if sctlr & SCTLR_BR != 0 && el == 1 => Ok((true, true, true)),
            Lookup::None | Lookup::Several(..) => Err(Fault::Translation),
            Lookup::One(i) => Ok(el1_region_rights(el1.region(i), el, sctlr)),
        }
    }
}

fn stage2_rights(el2: &Mpu, c: &Controls, addr: u64) -> Result<Rights, Fault> {
    if c.hcr_el2 & HCR_VM == 0 {
        return Ok((true, true, true));
    }
    // SCTLR_EL2.BR does not apply to stage 2: a miss always faults.
    match el2.lookup(addr) {
        Lookup::None | Lookup::Several(..) => Err(Fault::Translation),
        Lookup::One(i) => Ok(stage2_region_rights(el2.region(i), c.el)),
    }
}

fn allowed(rights: Rights, access: Access) -> bool {
    match access {
        Access::Read => rights.0,
        Access::Write => rights.1,
        Access::Fetch => rights.2,
    }
}

/// Check one access from `c.el`: at EL2 the EL2 regime; at EL1 and EL0 stage 1 (the
/// EL1 MPU) and then stage 2 (the EL2 MPU, when HCR_EL2.VM = 1). On Armv8-R the
/// intermediate address is the physical address (PMSA has no translation).
pub fn check_access(
    el2: &Mpu,
    el1: &Mpu,
    c: &Controls,
    addr: u64,
    access: Access,
) -> Result<(), (Stage, Fault)> {
    if c.el >= 2 {
        return el2
            .check(addr, access, c.sctlr_el2, Regime::El2)
            .map_err(|f| (Stage::One, f));
    }
    let s1 = stage1_rights(el1, c)(addr).map_err(|f| (Stage::One, f))?;
    if !allowed(s1, access) {
        return Err((Stage::One, Fault::Permission));
    }
    let s2 = stage2_rights(el2, c, addr).map_err(|f| (Stage::Two, f))?;
    if !allowed(s2, access) {
        return Err((Stage::Two, Fault::Permission));
    }
    Ok(())
}

/// What every byte of `[page, page + size)` allows an access from `c.el` through
/// every stage: (read, write, execute). The TLB grants only that; an access refused
/// here is re-checked exactly with `check_access`.
pub fn page_perms_at(el2: &Mpu, el1: &Mpu, c: &Controls, page: u64, size: u64) -> Rights {
    if c.el >= 2 {
        return el2.page_perms(page, size, c.sctlr_el2);
    }
    let s1 = stage1_rights(el1, c);
    let (mut r, mut w, mut x) = (true, true, true);
    let mut a = page;
    while a < page + size && (r || w || x) {
        let both = s1(a).and_then(|one| Ok((one, stage2_rights(el2, c, a)?)));
        match both {
            Ok((one, two)) => {
                r &= one.0 && two.0;
                w &= one.1 && two.1;
                x &= one.2 && two.2;
            }
            Err(_) => return (false, false, false),
        }
        a += GRANULE;
    }
    (r, w, x)
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

    fn el1(el: u8, sctlr_el1: u64, hcr_el2: u64) -> Controls {
        Controls {
            el,
            sctlr_el2: ON,
            sctlr_el1,
            hcr_el2,
        }
    }

    /// AP bit 2 (EL1/EL0 access) and bit 3 (read-only); XN values.
    const EL1_ACCESS: u64 = 0b0100;
    const RO: u64 = 0b1000;

    #[test]
    fn stage2_requires_one_enabled_el2_region_with_el1_access() {
        let mut el2 = Mpu::new(16);
        let l1 = Mpu::new(16);
        region(&mut el2, 0, 0x0, 0xfff, 0, 1); // EL2-only: no EL1/EL0 access
        region(&mut el2, 1, 0x1000, 0x1fff, EL1_ACCESS, 1);
        let c = el1(1, 0, HCR_VM);
        assert_eq!(
            check_access(&el2, &l1, &c, 0x10, Access::Read),
            Err((Stage::Two, Fault::Permission))
        );
        assert_eq!(check_access(&el2, &l1, &c, 0x1010, Access::Write), Ok(()));
        // A miss faults at stage 2 even with SCTLR_EL2.BR set: the background
        // region is the EL2 regime's only.
        let c_br = Controls {
            sctlr_el2: ON | SCTLR_BR,
            ..c
        };
        assert_eq!(
            check_access(&el2, &l1, &c_br, 0x5000, Access::Read),
            Err((Stage::Two, Fault::Translation))
        );
        // With HCR_EL2.VM clear there is no stage 2.
        assert_eq!(
            check_access(&el2, &l1, &el1(1, 0, 0), 0x5000, Access::Read),
            Ok(())
        );
        // Disabling the region (PRENR) takes the access away.
        el2.write_prenr(0b01);
        assert_eq!(
            check_access(&el2, &l1, &c, 0x1010, Access::Read),
            Err((Stage::Two, Fault::Translation))
        );
    }

    #[test]
    fn stage2_read_only_and_xn_apply_per_el() {
        let mut el2 = Mpu::new(16);
        let l1 = Mpu::new(16);
        region(&mut el2, 0, 0x0, 0xfff, EL1_ACCESS | RO | 0b01, 1); // not executable at EL1
        let (c1, c0) = (el1(1, 0, HCR_VM), el1(0, 0, HCR_VM));
        assert_eq!(
            check_access(&el2, &l1, &c1, 0x10, Access::Write),
            Err((Stage::Two, Fault::Permission))
        );
        assert_eq!(
            check_access(&el2, &l1, &c1, 0x10, Access::Fetch),
            Err((Stage::Two, Fault::Permission))
        );
        assert_eq!(check_access(&el2, &l1, &c0, 0x10, Access::Fetch), Ok(()));
        region(&mut el2, 0, 0x0, 0xfff, EL1_ACCESS | 0b10, 1); // XN everywhere
        assert!(check_access(&el2, &l1, &c0, 0x10, Access::Fetch).is_err());
        assert!(check_access(&el2, &l1, &c1, 0x10, Access::Fetch).is_err());
        region(&mut el2, 0, 0x0, 0xfff, EL1_ACCESS | 0b11, 1); // not at EL0
        assert!(check_access(&el2, &l1, &c0, 0x10, Access::Fetch).is_err());
        assert_eq!(check_access(&el2, &l1, &c1, 0x10, Access::Fetch), Ok(()));
    }

    #[test]
    fn stage1_faults_come_before_stage2_and_follow_el0_rights() {
        let el2 = Mpu::new(16); // no region at all: every stage-2 lookup misses
        let mut l1 = Mpu::new(16);
        region(&mut l1, 0, 0x0, 0xfff, 0, 1); // RW at EL1, no EL0 access
        let c1 = el1(1, ON, HCR_VM);
        let c0 = el1(0, ON, HCR_VM);
        assert_eq!(
            check_access(&el2, &l1, &c0, 0x10, Access::Read),
            Err((Stage::One, Fault::Permission)),
            "EL0 without AP[1] is refused at stage 1"
        );
        assert_eq!(
            check_access(&el2, &l1, &c1, 0x10, Access::Read),
            Err((Stage::Two, Fault::Translation)),
            "stage 1 allows EL1; stage 2 then misses"
        );
        assert_eq!(
            check_access(&el2, &l1, &c1, 0x2000, Access::Read),
            Err((Stage::One, Fault::Translation)),
            "a stage-1 miss with SCTLR_EL1.BR clear"
        );
        let c1_br = el1(1, ON | SCTLR_BR, 0);
        assert_eq!(
            check_access(&el2, &l1, &c1_br, 0x2000, Access::Read),
            Ok(())
        );
        let c0_br = el1(0, ON | SCTLR_BR, 0);
        assert_eq!(
            check_access(&el2, &l1, &c0_br, 0x2000, Access::Read),
            Err((Stage::One, Fault::Translation)),
            "the background region is for EL1 only"
        );
        // SCTLR_EL1.WXN: writable means execute-never.
        let plain = el1(1, ON, 0);
        let wxn = el1(1, ON | SCTLR_WXN, 0);
        assert_eq!(check_access(&el2, &l1, &plain, 0x10, Access::Fetch), Ok(()));
        assert_eq!(
            check_access(&el2, &l1, &wxn, 0x10, Access::Fetch),
            Err((Stage::One, Fault::Permission))
        );
        // EL2's own accesses never look at the EL1 MPU or stage 2.
        let at_el2 = Controls {
            el: 2,
            sctlr_el2: 0,
            ..c1
        };
        assert_eq!(
            check_access(&el2, &l1, &at_el2, 0x9000, Access::Write),
            Ok(())
        );
    }

    #[test]
    fn two_stage_page_perms_are_the_intersection_of_both_stages() {
        let mut el2 = Mpu::new(16);
        let mut l1 = Mpu::new(16);
        region(&mut el2, 0, 0x0, 0x7ff, EL1_ACCESS, 1); // RW, executable for EL1
        region(&mut l1, 0, 0x0, 0xfff, RO, 1); // RO at stage 1
        let c = el1(1, ON, HCR_VM);
        assert_eq!(page_perms_at(&el2, &l1, &c, 0, 0x400), (true, false, true));
        region(&mut el2, 0, 0x0, 0x43f, EL1_ACCESS, 1); // ends 64 bytes into page 1
        assert_eq!(
            page_perms_at(&el2, &l1, &c, 0x400, 0x400),
            (false, false, false)
        );
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

#[cfg(test)]
mod two_stage_props {
    //! The TLB path (`page_perms_at`, one answer per page) must agree with the exact
    //! check (`check_access`, per address): a page grants an access exactly when every
    //! 64-byte block of it allows that access through both stages.
    use super::*;
    use proptest::prelude::*;

    const SPAN: u64 = 0x4000; // regions and pages within 16 KiB

    fn regions() -> impl Strategy<Value = Vec<(u64, u64, u64, bool)>> {
        prop::collection::vec(
            (
                0..SPAN / GRANULE,
                1..SPAN / GRANULE / 4,
                0u64..16,
                any::<bool>(),
            ),
            0..6,
        )
    }

    fn build(count: u8, rs: &[(u64, u64, u64, bool)]) -> Mpu {
        let mut m = Mpu::new(count);
        for (i, &(base, len, flags, en)) in rs.iter().enumerate() {
            let b = base * GRANULE;
            let last = b + len * GRANULE - 1;
            m.write(i as u8, false, b | flags);
            m.write(i as u8, true, (last & !0x3f) | en as u64);
        }
        m
    }

    proptest! {
        #[test]
        fn page_perms_match_the_exact_check_on_every_block(
            r2 in regions(), r1 in regions(),
            el in 0u8..3, s2 in 0u64..4, s1 in 0u64..4, vm in any::<bool>(),
            page in 0..SPAN / 0x400,
        ) {
            let el2 = build(16, &r2);
            let el1 = build(16, &r1);
            let bits = |b: u64| ((b & 1) * SCTLR_M) | ((b >> 1) * SCTLR_BR);
            let c = Controls {
                el,
                sctlr_el2: bits(s2),
                sctlr_el1: bits(s1),
                hcr_el2: vm as u64 * HCR_VM,
            };
            let base = page * 0x400;
            let (r, w, x) = page_perms_at(&el2, &el1, &c, base, 0x400);
            for (granted, access) in [(r, Access::Read), (w, Access::Write), (x, Access::Fetch)] {
                let every = (0..0x400 / GRANULE)
                    .all(|k| check_access(&el2, &el1, &c, base + k * GRANULE, access).is_ok());
                // The page path may be stricter only where a block faults for another
                // access kind (it refuses the whole page then); never more lenient.
                if granted {
                    prop_assert!(every, "{access:?} granted on page {base:#x} but a block faults");
                }
                let any_fault = (0..0x400 / GRANULE).any(|k| {
                    [Access::Read, Access::Write, Access::Fetch]
                        .iter()
                        .any(|&a| matches!(check_access(&el2, &el1, &c, base + k * GRANULE, a), Err((_, Fault::Translation))))
                });
                if every && !any_fault {
                    prop_assert!(granted, "{access:?} refused on page {base:#x} though every block allows it");
                }
            }
        }
    }
}
