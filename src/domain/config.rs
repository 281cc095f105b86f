// SPDX-License-Identifier: GPL-2.0-only
//! A domain's configuration as plain values, and the placement rules every domain
//! must pass before anything is built: its memory lies in RAM and outside the image,
//! the heap, the device tree, reserved memory and every other domain; its kernel lies
//! inside its own memory (direct-mapped guests are loaded in place, as Xen's MPU
//! port expects for dom0less). Pure: no memory is touched here.
use crate::mm::PhysRange;

pub const MAX_DOMAINS: usize = 8;
pub const MAX_STATIC_BANKS: usize = 4;

/// The memory system EL1 has in the domain (`v8r_el1_msa`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msa {
    Mpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainConfig<'a> {
    pub name: &'a str,
    /// The domain ID: 1 for the first domU, as in Xen's "(d1)" prefix.
    pub id: u16,
    pub banks: [PhysRange; MAX_STATIC_BANKS],
    pub nr_banks: usize,
    pub kernel: Option<PhysRange>,
    pub bootargs: &'a str,
    pub vpl011: bool,
    pub direct_map: bool,
    pub msa: Msa,
}

impl<'a> DomainConfig<'a> {
    pub const fn new(name: &'a str, id: u16) -> Self {
        Self {
            name,
            id,
            banks: [PhysRange::new(0, 0); MAX_STATIC_BANKS],
            nr_banks: 0,
            kernel: None,
            bootargs: "",
            vpl011: false,
            direct_map: true,
            msa: Msa::Mpu,
        }
    }

    pub fn banks(&self) -> &[PhysRange] {
        &self.banks[..self.nr_banks]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError<'a> {
    #[error("domain {domain}: memory bank {bank} is not 4 KiB aligned")]
    Unaligned { domain: &'a str, bank: PhysRange },
    #[error("domain {domain}: memory bank {bank} is empty")]
    Empty { domain: &'a str, bank: PhysRange },
    #[error("domain {domain}: memory bank {bank} is not inside one RAM bank")]
    OutsideRam { domain: &'a str, bank: PhysRange },
    #[error("domain {domain}: memory bank {bank} overlaps the {what} at {range}")]
    Overlaps {
        domain: &'a str,
        bank: PhysRange,
        what: &'a str,
        range: PhysRange,
    },
    #[error("domain {domain}: memory bank {bank} overlaps domain {other}'s memory at {range}")]
    OverlapsDomain {
        domain: &'a str,
        bank: PhysRange,
        other: &'a str,
        range: PhysRange,
    },
    #[error("domain {domain}: the kernel at {kernel} is not inside the domain's memory")]
    KernelOutside { domain: &'a str, kernel: PhysRange },
    #[error("domain {domain}: memory bank {bank} covers the vpl011's page {vpl011} (Xen's GUEST_PL011_BASE): move the memory or drop vpl011")]
    OverVpl011 {
        domain: &'a str,
        bank: PhysRange,
        vpl011: PhysRange,
    },
}

/// Check `d` against the RAM banks, the ranges that belong to someone else
/// (`taken`: the image, the heap, the device tree, reserved memory, each named) and
/// the domains placed before it.
pub fn check_placement<'a>(
    d: &DomainConfig<'a>,
    ram: &[PhysRange],
    taken: &[(&'a str, PhysRange)],
    others: &[DomainConfig<'a>],
) -> Result<(), PlacementError<'a>> {
    let domain = d.name;
    for &bank in d.banks() {
        if bank.is_empty() {
            return Err(PlacementError::Empty { domain, bank });
        }
        if bank.start % crate::mm::PAGE_SIZE != 0 || bank.end % crate::mm::PAGE_SIZE != 0 {
            return Err(PlacementError::Unaligned { domain, bank });
        }
        if !ram.iter().any(|r| r.contains_range(&bank)) {
            return Err(PlacementError::OutsideRam { domain, bank });
        }
        if let Some(&(what, range)) = taken.iter().find(|(_, r)| r.overlaps(&bank)) {
            return Err(PlacementError::Overlaps {
                domain,
                bank,
                what,
                range,
            });
        }
        for o in others {
            if let Some(&range) = o.banks().iter().find(|r| r.overlaps(&bank)) {
                return Err(PlacementError::OverlapsDomain {
                    domain,
                    bank,
                    other: o.name,
                    range,
                });
            }
        }
    }
    if d.vpl011 {
        let vpl011 = PhysRange::new(
            super::vpl011::GUEST_PL011_BASE,
            super::vpl011::GUEST_PL011_BASE + super::vpl011::GUEST_PL011_SIZE,
        );
        if let Some(&bank) = d.banks().iter().find(|b| b.overlaps(&vpl011)) {
            return Err(PlacementError::OverVpl011 {
                domain,
                bank,
                vpl011,
            });
        }
    }
    if let Some(kernel) = d.kernel {
        if !d.banks().iter().any(|b| b.contains_range(&kernel)) {
            return Err(PlacementError::KernelOutside { domain, kernel });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dom(name: &'static str, start: u64, size: u64) -> DomainConfig<'static> {
        let mut d = DomainConfig::new(name, 1);
        d.banks[0] = PhysRange::new(start, start + size);
        d.nr_banks = 1;
        d.kernel = Some(PhysRange::new(start, start + 0x1000));
        d
    }

    const RAM: [PhysRange; 1] = [PhysRange::new(0, 0x8000_0000)];

    #[test]
    fn memory_must_be_ram_aligned_and_nobody_elses() {
        let taken = [
            ("image", PhysRange::new(0, 0x40000)),
            ("heap", PhysRange::new(0x1000_0000, 0x1100_0000)),
        ];
        let d1 = dom("domU1", 0x2000_0000, 0x100_0000);
        assert_eq!(check_placement(&d1, &RAM, &taken, &[]), Ok(()));
        let over_heap = dom("domU2", 0x10ff_0000, 0x2_0000);
        assert!(matches!(
            check_placement(&over_heap, &RAM, &taken, &[]),
            Err(PlacementError::Overlaps { what: "heap", .. })
        ));
        let over_d1 = dom("domU2", 0x20ff_f000, 0x2000);
        let e = check_placement(&over_d1, &RAM, &taken, &[d1]).unwrap_err();
        assert!(matches!(
            e,
            PlacementError::OverlapsDomain { other: "domU1", .. }
        ));
        assert!(e.to_string().contains("[0x20fff000, 0x21001000)"), "{e}");
        let beyond = dom("domU3", 0x7fff_f000, 0x2000);
        assert!(matches!(
            check_placement(&beyond, &RAM, &taken, &[]),
            Err(PlacementError::OutsideRam { .. })
        ));
        let odd = dom("domU4", 0x3000_0800, 0x1000);
        assert!(matches!(
            check_placement(&odd, &RAM, &taken, &[]),
            Err(PlacementError::Unaligned { .. })
        ));
    }

    #[test]
    fn memory_over_the_vpl011_page_is_refused_when_the_domain_has_one() {
        let mut d = dom("domU1", 0x2000_0000, 0x400_0000); // covers 0x2200_0000
        assert_eq!(
            check_placement(&d, &RAM, &[], &[]),
            Ok(()),
            "no vpl011: fine"
        );
        d.vpl011 = true;
        let e = check_placement(&d, &RAM, &[], &[]).unwrap_err();
        assert!(matches!(e, PlacementError::OverVpl011 { .. }));
        assert!(e.to_string().contains("[0x22000000, 0x22001000)"), "{e}");
    }

    #[test]
    fn the_kernel_must_lie_in_the_domains_memory() {
        let mut d = dom("domU1", 0x2000_0000, 0x10_0000);
        d.kernel = Some(PhysRange::new(0x4000_0000, 0x4000_1000));
        assert!(matches!(
            check_placement(&d, &RAM, &[], &[]),
            Err(PlacementError::KernelOutside { .. })
        ));
    }
}
