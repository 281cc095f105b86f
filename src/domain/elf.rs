// SPDX-License-Identifier: GPL-2.0-only
//! Reading a guest kernel: an AArch64 ELF64 (its PT_LOAD segments at their physical
//! addresses, entry at e_entry) or a raw binary (run in place from its first byte).
//! Every segment must lie in the domain's own memory and must not overlap the module
//! it is copied from (unless it is already in place). Pure: returns a plan of copies;
//! the builder performs them.
use crate::mm::PhysRange;

pub const MAX_SEGMENTS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Where the bytes are now (inside the module).
    pub src: u64,
    /// Where they go.
    pub dst: u64,
    pub filesz: u64,
    /// Bytes from `dst`: those beyond `filesz` are zeroed.
    pub memsz: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    pub entry: u64,
    pub segments: [Segment; MAX_SEGMENTS],
    pub nr: usize,
}

impl LoadPlan {
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.nr]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("kernel at {module}: ELF is not a little-endian AArch64 ELF64 executable")]
    NotAarch64 { module: PhysRange },
    #[error("kernel at {module}: ELF headers lie outside the module")]
    Truncated { module: PhysRange },
    #[error("kernel at {module}: more than {MAX_SEGMENTS} loadable segments")]
    TooManySegments { module: PhysRange },
    #[error(
        "kernel at {module}: segment [{dst:#x}, +{memsz:#x}) is not inside the domain's memory"
    )]
    SegmentOutside {
        module: PhysRange,
        dst: u64,
        memsz: u64,
    },
    #[error("kernel at {module}: segment [{dst:#x}, +{memsz:#x}) would overwrite the module it is loaded from")]
    SegmentOverModule {
        module: PhysRange,
        dst: u64,
        memsz: u64,
    },
    #[error("kernel at {module}: entry point {entry:#x} is not in a loaded segment")]
    BadEntry { module: PhysRange, entry: u64 },
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// Plan the load of the kernel `image` (the module's bytes, at `module`) into a
/// domain with memory `banks`.
pub fn plan(image: &[u8], module: PhysRange, banks: &[PhysRange]) -> Result<LoadPlan, ElfError> {
    let mut p = LoadPlan {
        entry: module.start,
        segments: [Segment {
            src: 0,
            dst: 0,
            filesz: 0,
            memsz: 0,
        }; MAX_SEGMENTS],
        nr: 0,
    };
    if !image.starts_with(b"\x7fELF") {
        // A raw binary runs where it lies.
        return Ok(p);
    }
    let bad = ElfError::NotAarch64 { module };
    let trunc = ElfError::Truncated { module };
    // ELFCLASS64, ELFDATA2LSB, ET_EXEC, EM_AARCH64 (183).
    if image.get(4) != Some(&2) || image.get(5) != Some(&1) {
        return Err(bad);
    }
    if u16_at(image, 16) != Some(2) || u16_at(image, 18) != Some(183) {
        return Err(bad);
    }
    let entry = u64_at(image, 24).ok_or(trunc)?;
    let phoff = u64_at(image, 32).ok_or(trunc)? as usize;
    let phentsize = u16_at(image, 54).ok_or(trunc)? as usize;
    let phnum = u16_at(image, 56).ok_or(trunc)? as usize;
    if phentsize < 56 {
        return Err(bad);
    }
    for i in 0..phnum {
        let o = phoff
            .checked_add(i.checked_mul(phentsize).ok_or(trunc)?)
            .ok_or(trunc)?;
        if u32_at(image, o).ok_or(trunc)? != 1 {
            continue; // not PT_LOAD
        }
        let offset = u64_at(image, o + 8).ok_or(trunc)?;
        let paddr = u64_at(image, o + 24).ok_or(trunc)?;
        let filesz = u64_at(image, o + 32).ok_or(trunc)?;
        let memsz = u64_at(image, o + 40).ok_or(trunc)?;
        if memsz == 0 {
            continue;
        }
        let file_end = offset.checked_add(filesz).ok_or(trunc)?;
        if file_end > image.len() as u64 || filesz > memsz {
            return Err(trunc);
        }
        let dst = PhysRange::from_size(paddr, memsz).ok_or(ElfError::SegmentOutside {
            module,
            dst: paddr,
            memsz,
        })?;
        if !banks.iter().any(|b| b.contains_range(&dst)) {
            return Err(ElfError::SegmentOutside {
                module,
                dst: paddr,
                memsz,
            });
        }
        let src = module.start + offset;
        let in_place = src == paddr && filesz == memsz;
        if dst.overlaps(&module) && !in_place {
            return Err(ElfError::SegmentOverModule {
                module,
                dst: paddr,
                memsz,
            });
        }
        if p.nr == MAX_SEGMENTS {
            return Err(ElfError::TooManySegments { module });
        }
        p.segments[p.nr] = Segment {
            src,
            dst: paddr,
            filesz,
            memsz,
        };
        p.nr += 1;
    }
    if !p
        .segments()
        .iter()
        .any(|s| entry >= s.dst && entry < s.dst + s.memsz)
    {
        return Err(ElfError::BadEntry { module, entry });
    }
    p.entry = entry;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// A minimal ELF64 with the given (offset, paddr, filesz, memsz) PT_LOADs.
    fn elf(entry: u64, segs: &[(u64, u64, u64, u64)]) -> Vec<u8> {
        let mut b = std::vec![0u8; 0x1000];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[16..18].copy_from_slice(&2u16.to_le_bytes());
        b[18..20].copy_from_slice(&183u16.to_le_bytes());
        b[24..32].copy_from_slice(&entry.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        for (i, &(off, pa, fs, ms)) in segs.iter().enumerate() {
            let o = 64 + 56 * i;
            b[o..o + 4].copy_from_slice(&1u32.to_le_bytes());
            b[o + 8..o + 16].copy_from_slice(&off.to_le_bytes());
            b[o + 24..o + 32].copy_from_slice(&pa.to_le_bytes());
            b[o + 32..o + 40].copy_from_slice(&fs.to_le_bytes());
            b[o + 40..o + 48].copy_from_slice(&ms.to_le_bytes());
        }
        b
    }

    const MODULE: PhysRange = PhysRange::new(0x20f0_0000, 0x20f0_1000);
    const BANKS: [PhysRange; 1] = [PhysRange::new(0x2000_0000, 0x2100_0000)];

    #[test]
    fn elf_segments_are_planned_at_their_physical_addresses() {
        let img = elf(0x2000_0000, &[(0x100, 0x2000_0000, 0x80, 0x200)]);
        let p = plan(&img, MODULE, &BANKS).unwrap();
        assert_eq!(p.entry, 0x2000_0000);
        assert_eq!(
            p.segments(),
            &[Segment {
                src: 0x20f0_0100,
                dst: 0x2000_0000,
                filesz: 0x80,
                memsz: 0x200
            }]
        );
    }

    #[test]
    fn raw_binaries_run_in_place() {
        let p = plan(&[0x1f, 0x20, 0x03, 0xd5], MODULE, &BANKS).unwrap();
        assert_eq!((p.entry, p.nr), (MODULE.start, 0));
    }

    #[test]
    fn segments_outside_the_domain_or_over_the_module_are_refused() {
        let out = elf(0x3000_0000, &[(0x100, 0x3000_0000, 0x80, 0x80)]);
        assert!(matches!(
            plan(&out, MODULE, &BANKS),
            Err(ElfError::SegmentOutside { .. })
        ));
        let over = elf(0x20f0_0000, &[(0x100, 0x20f0_0000, 0x80, 0x80)]);
        assert!(matches!(
            plan(&over, MODULE, &BANKS),
            Err(ElfError::SegmentOverModule { .. })
        ));
        let entry = elf(0x2080_0000, &[(0x100, 0x2000_0000, 0x80, 0x80)]);
        assert!(matches!(
            plan(&entry, MODULE, &BANKS),
            Err(ElfError::BadEntry { .. })
        ));
        let mut x86 = elf(0x2000_0000, &[]);
        x86[18] = 62;
        assert!(matches!(
            plan(&x86, MODULE, &BANKS),
            Err(ElfError::NotAarch64 { .. })
        ));
        let short = &elf(0x2000_0000, &[(0x100, 0x2000_0000, 0x80, 0x80)])[..40];
        assert!(plan(short, MODULE, &BANKS).is_err());
    }
}
