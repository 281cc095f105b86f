// SPDX-License-Identifier: GPL-2.0-only
//! ESR_EL2 values for the exceptions r82sim takes, and the decoding of the faulting
//! load/store that data-abort syndromes need (ISV, SAS, SSE, SRT, SF, AR). Pure.
use std::fmt::Write;

pub const EC_UNKNOWN: u32 = 0x00;
pub const EC_SVC64: u32 = 0x15;
pub const EC_HVC64: u32 = 0x16;
pub const EC_IABT_LOWER: u32 = 0x20;
pub const EC_IABT_SAME: u32 = 0x21;
pub const EC_DABT_LOWER: u32 = 0x24;
pub const EC_DABT_SAME: u32 = 0x25;
pub const EC_BRK64: u32 = 0x3c;
/// Synchronous external abort (an access no device answers).
pub const FSC_EXTERNAL: u32 = 0b010000;

const IL: u64 = 1 << 25;

pub fn esr(ec: u32, iss: u32) -> u64 {
    ((ec as u64) << 26) | IL | (iss as u64 & 0x1ff_ffff)
}

/// What the syndrome can say about a single-register load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadStore {
    /// log2 of the access size.
    pub sas: u32,
    pub sign_extend: bool,
    pub rt: u32,
    /// The destination is a 64-bit register.
    pub sf: bool,
    pub acquire_release: bool,
}

/// Decode a general-purpose single-register load/store without writeback: the forms
/// for which the architecture reports ISV = 1. Everything else (pairs, SIMD, writeback,
/// exclusives, atomics) gives `None`, and the syndrome then has ISV = 0.
pub fn decode_load_store(insn: u32) -> Option<LoadStore> {
    let size = insn >> 30;
    let rt = insn & 0x1f;
    // Load-acquire / store-release (LDAR*, STLR*): o2=1, o1=0, o0=1.
    // Load/store exclusive and ordered class: only LDAR/STLR have a valid syndrome.
    if insn & 0x3f00_0000 == 0x0800_0000 {
        if (insn >> 23) & 1 == 1 && (insn >> 21) & 1 == 0 && (insn >> 15) & 1 == 1 {
            return Some(LoadStore {
                sas: size,
                sign_extend: false,
                rt,
                sf: size == 3,
                acquire_release: true,
            });
        }
        return None;
    }
    let unsigned_imm = insn & 0x3b00_0000 == 0x3900_0000;
    let unscaled_or_unpriv =
        insn & 0x3b20_0000 == 0x3800_0000 && matches!((insn >> 10) & 3, 0b00 | 0b10);
    let register_offset = insn & 0x3b20_0c00 == 0x3820_0800;
    if !(unsigned_imm || unscaled_or_unpriv || register_offset) || (insn >> 26) & 1 == 1 {
        return None; // writeback forms, SIMD&FP, other classes
    }
    let opc = (insn >> 22) & 3;
    let (sign_extend, sf) = match (size, opc) {
        (_, 0b00) | (_, 0b01) => (false, size == 3),
        (3, _) => return None, // PRFM and unallocated
        (2, 0b11) => return None,
        (_, 0b10) => (true, true),
        (_, _) => (true, false),
    };
    Some(LoadStore {
        sas: size,
        sign_extend,
        rt,
        sf,
        acquire_release: false,
    })
}

/// ISS of a data abort: `insn` is the faulting instruction, `write` its direction.
pub fn data_abort_iss(insn: u32, write: bool, fsc: u32) -> u32 {
    let mut iss = fsc | ((write as u32) << 6);
    if let Some(ls) = decode_load_store(insn) {
        iss |= 1 << 24
            | ls.sas << 22
            | (ls.sign_extend as u32) << 21
            | ls.rt << 16
            | (ls.sf as u32) << 15
            | (ls.acquire_release as u32) << 14;
    }
    iss
}

/// A one-line decode of an ESR, for `--trace-exceptions`.
pub fn describe(esr: u64) -> String {
    let ec = (esr >> 26) & 0x3f;
    let iss = esr & 0x1ff_ffff;
    let mut s = format!("ESR {esr:#010x} EC {ec:#04x} ");
    let _ = match ec as u32 {
        EC_UNKNOWN => write!(s, "unknown/undefined instruction"),
        EC_SVC64 => write!(s, "SVC #{:#x}", iss & 0xffff),
        EC_HVC64 => write!(s, "HVC #{:#x}", iss & 0xffff),
        EC_BRK64 => write!(s, "BRK #{:#x}", iss & 0xffff),
        EC_IABT_LOWER | EC_IABT_SAME | EC_DABT_LOWER | EC_DABT_SAME => {
            let kind = if ec as u32 & 0x4 != 0 {
                "data abort"
            } else {
                "instruction abort"
            };
            let fsc = iss & 0x3f;
            let f = match fsc & 0x3c {
                0x04 => "translation fault",
                0x0c => "permission fault",
                _ if fsc == FSC_EXTERNAL as u64 => "synchronous external abort",
                _ => "fault",
            };
            let _ = write!(s, "{kind}, {f} (FSC {fsc:#04x})");
            if ec as u32 & 0x4 != 0 {
                let _ = write!(
                    s,
                    ", {}",
                    if iss & (1 << 6) != 0 { "write" } else { "read" }
                );
                if iss & (1 << 24) != 0 {
                    let _ = write!(
                        s,
                        ", {} bytes, x{}",
                        1 << ((iss >> 22) & 3),
                        (iss >> 16) & 0x1f
                    );
                }
            }
            Ok(())
        }
        _ => write!(s, "ISS {iss:#x}"),
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_x1_unsigned_offset_gives_full_syndrome() {
        // str x1, [x0]
        assert_eq!(
            decode_load_store(0xf900_0001),
            Some(LoadStore {
                sas: 3,
                sign_extend: false,
                rt: 1,
                sf: true,
                acquire_release: false
            })
        );
        assert_eq!(
            data_abort_iss(0xf900_0001, true, 0b001100),
            1 << 24 | 3 << 22 | 1 << 16 | 1 << 15 | 1 << 6 | 0b001100
        );
    }

    #[test]
    fn sign_extending_and_narrow_loads() {
        // ldrsb w2, [x3]  (size 0, opc 11): SSE, 32-bit
        assert_eq!(
            decode_load_store(0x39c0_0062).map(|l| (l.sas, l.sign_extend, l.sf, l.rt)),
            Some((0, true, false, 2))
        );
        // ldrsw x4, [x5, #4] (size 2, opc 10): SSE, 64-bit
        assert_eq!(
            decode_load_store(0xb980_04a4).map(|l| (l.sas, l.sign_extend, l.sf)),
            Some((2, true, true))
        );
        // ldrh w6, [x7, x8] register offset
        assert_eq!(
            decode_load_store(0x7868_68e6).map(|l| (l.sas, l.rt)),
            Some((1, 6))
        );
        // ldur w0, [x1, #-4] unscaled
        assert_eq!(decode_load_store(0xb85f_c020).map(|l| l.sas), Some(2));
    }

    #[test]
    fn writeback_pairs_simd_have_no_valid_syndrome() {
        assert_eq!(decode_load_store(0xf840_8c20), None); // ldr x0, [x1, #8]!
        assert_eq!(decode_load_store(0xf840_8420), None); // ldr x0, [x1], #8
        assert_eq!(decode_load_store(0xa900_07e0), None); // stp x0, x1, [sp]
        assert_eq!(decode_load_store(0x3d80_0000), None); // str q0, [x0]
        assert_eq!(data_abort_iss(0xa900_07e0, true, 4), (1 << 6) | 4);
    }

    #[test]
    fn acquire_release_sets_ar() {
        // ldar x0, [x1]
        let l = decode_load_store(0xc8df_fc20).unwrap();
        assert!(l.acquire_release && l.sf && l.sas == 3);
    }

    #[test]
    fn describe_names_class_fault_and_direction() {
        let e = esr(EC_DABT_SAME, data_abort_iss(0xf900_0001, true, 0b001100));
        assert_eq!(
            describe(e),
            "ESR 0x97c1804c EC 0x25 data abort, permission fault (FSC 0x0c), write, 8 bytes, x1"
        );
        assert_eq!(
            describe(esr(EC_HVC64, 0x42)),
            "ESR 0x5a000042 EC 0x16 HVC #0x42"
        );
    }
}
