// SPDX-License-Identifier: GPL-2.0-only
//! A reference model of the MPU core's rules and the invariants the real table must
//! keep, shared by the property tests, the fuzz target and its corpus replay.
//!
//! The model restates the rules as simply as possible: a list of mappings, each with
//! a total mapping count, no slots, no bitmap. After every operation the real table,
//! the fake hardware and the model must agree.
extern crate alloc;
use alloc::vec::Vec;

use super::fake::{FakeMpu, HwEvent};
use super::{decode, encode, Attrs, MemType, Mpu, MpuTable};
use crate::mm::{PhysRange, PAGE_SIZE};

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub maps: Vec<(PhysRange, Attrs, u16)>,
    pub count: u8,
    pub pa_bits: u8,
}

/// One operation of a random sequence.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Map(PhysRange, Attrs),
    Unmap(PhysRange),
    Modify(PhysRange, Attrs),
    Join(PhysRange, PhysRange),
}

impl Model {
    pub fn new(count: u8, pa_bits: u8) -> Self {
        Self {
            maps: Vec::new(),
            count,
            pa_bits,
        }
    }

    fn valid(&self, r: PhysRange) -> bool {
        r.start < r.end
            && r.start.is_multiple_of(PAGE_SIZE)
            && r.end.is_multiple_of(PAGE_SIZE)
            && (self.pa_bits >= 64 || r.end <= 1 << self.pa_bits)
    }

    fn hit(&self, r: PhysRange) -> Option<usize> {
        self.maps.iter().position(|m| m.0.overlaps(&r))
    }

    /// Apply `op` to the model; whether it succeeds.
    pub fn apply(&mut self, op: Op) -> bool {
        match op {
            Op::Map(r, a) => {
                if !self.valid(r) || a.is_writable_executable() {
                    return false;
                }
                match self.hit(r) {
                    None if self.maps.len() < self.count as usize => {
                        self.maps.push((r, a, 1));
                        true
                    }
                    None => false,
                    Some(i) => {
                        let m = &mut self.maps[i];
                        let ok = m.0.contains_range(&r) && m.1 == a && m.2 < 256;
                        if ok {
                            m.2 += 1;
                        }
                        ok
                    }
                }
            }
            Op::Unmap(r) => {
                if !self.valid(r) {
                    return false;
                }
                match self.hit(r) {
                    Some(i) if self.maps[i].0.contains_range(&r) => {
                        if self.maps[i].2 > 1 {
                            self.maps[i].2 -= 1;
                            true
                        } else if self.maps[i].0 == r {
                            self.maps.remove(i);
                            true
                        } else {
                            false
                        }
                    }
                    _ => false,
                }
            }
            Op::Modify(r, a) => {
                if !self.valid(r) || a.is_writable_executable() {
                    return false;
                }
                match self.hit(r) {
                    Some(i) if self.maps[i].0 == r && self.maps[i].1.mem == a.mem => {
                        if self.maps[i].1 == a {
                            true
                        } else if self.maps[i].2 == 1 {
                            self.maps[i].1 = a;
                            true
                        } else {
                            false
                        }
                    }
                    _ => false,
                }
            }
            Op::Join(lower, upper) => {
                if !self.valid(lower) || !self.valid(upper) || lower.end != upper.start {
                    return false;
                }
                let exact = |r: PhysRange| self.maps.iter().position(|m| m.0 == r && m.2 == 1);
                match (exact(lower), exact(upper)) {
                    (Some(l), Some(u)) if self.maps[l].1 == self.maps[u].1 => {
                        self.maps[u].0 = PhysRange::new(lower.start, upper.end);
                        self.maps.remove(l);
                        true
                    }
                    _ => false,
                }
            }
        }
    }
}

/// Run `op` on the real table; whether it succeeds.
pub fn apply(m: &mut Mpu<FakeMpu>, op: Op) -> bool {
    match op {
        Op::Map(r, a) => m.map(r, a).is_ok(),
        Op::Unmap(r) => m.unmap(r).is_ok(),
        Op::Modify(r, a) => m.modify(r, a).is_ok(),
        Op::Join(a, b) => m.join(a, b).is_ok(),
    }
}

/// Everything an operation may change: table entries, region registers, log length.
pub type Snapshot = (Vec<(u8, super::Region)>, Vec<(u64, u64)>, usize);

pub fn snapshot(m: &Mpu<FakeMpu>) -> Snapshot {
    (
        m.table().iter().map(|(i, r)| (i, *r)).collect(),
        m.hw().regs.to_vec(),
        m.hw().log.len(),
    )
}

/// Panics, naming the broken invariant, unless table, hardware and model agree, no two
/// enabled regions overlap and none is writable and executable.
pub fn check_invariants(m: &Mpu<FakeMpu>, model: &Model) {
    let t = m.table();
    let mut got: Vec<_> = t
        .iter()
        .map(|(_, r)| (r.range, r.attrs, r.refcount as u16 + 1))
        .collect();
    let mut want = model.maps.clone();
    got.sort_by_key(|x| x.0);
    want.sort_by_key(|x| x.0);
    assert_eq!(got, want, "table and model disagree");
    for i in 0..t.count() {
        let (b, l) = m.hw().regs[i as usize];
        match t.get(i) {
            Some(reg) => assert_eq!(
                (b, l),
                encode(reg.range, reg.attrs),
                "region {i}: hardware differs from the table"
            ),
            None => assert_eq!(l & 1, 0, "unused region {i} is enabled"),
        }
    }
    let enabled: Vec<_> = m
        .hw()
        .enabled()
        .map(|i| {
            decode(m.hw().regs[i as usize].0, m.hw().regs[i as usize].1)
                .expect("undecodable region")
        })
        .collect();
    for (a, (ra, aa)) in enabled.iter().enumerate() {
        assert!(
            !aa.is_writable_executable(),
            "{ra} is writable and executable"
        );
        for (rb, _) in &enabled[a + 1..] {
            assert!(!ra.overlaps(rb), "{ra} overlaps {rb}");
        }
    }
}

/// Replay the hardware events `log` from the registers `regs` and panic if two
/// enabled regions overlap after any single write: the MPU faults an access that two
/// regions match, so no operation may pass through such a state.
pub fn never_overlapping(mut regs: Vec<(u64, u64)>, log: &[HwEvent]) {
    for e in log {
        if let HwEvent::Write {
            index,
            prbar,
            prlar,
        } = *e
        {
            regs[index as usize] = (prbar, prlar);
            let on: Vec<PhysRange> = regs
                .iter()
                .filter(|(_, l)| l & 1 != 0)
                .map(|&(b, l)| decode(b, l).expect("undecodable region").0)
                .collect();
            for (i, a) in on.iter().enumerate() {
                for b in &on[i + 1..] {
                    assert!(!a.overlaps(b), "{a} and {b} both enabled after {e:?}");
                }
            }
        }
    }
}

/// Run `ops` against both and check after every step: results agree, a failed
/// operation changes nothing, no register write leaves two regions overlapping, the
/// invariants hold. Returns how many operations of each kind succeeded (map, unmap,
/// modify, join).
pub fn run_sequence(count: u8, pa_bits: u8, ops: &[Op]) -> [usize; 4] {
    let mut m = Mpu::new(MpuTable::new(count, pa_bits), FakeMpu::new());
    let mut model = Model::new(count, pa_bits);
    let mut done = [0; 4];
    for &op in ops {
        let before = snapshot(&m);
        let ok = apply(&mut m, op);
        assert_eq!(
            ok,
            model.apply(op),
            "{op:?}: table and model disagree on success"
        );
        if ok {
            done[match op {
                Op::Map(..) => 0,
                Op::Unmap(_) => 1,
                Op::Modify(..) => 2,
                Op::Join(..) => 3,
            }] += 1;
        } else {
            assert!(
                snapshot(&m) == before,
                "failed {op:?} changed the table or the hardware"
            );
        }
        never_overlapping(before.1, &m.hw().log[before.2..]);
        check_invariants(&m, &model);
    }
    done
}

const ATTRS: [Attrs; 6] = [
    Attrs::TEXT,
    Attrs::RODATA,
    Attrs::DATA,
    Attrs::DEVICE,
    Attrs::normal(false, false),
    Attrs {
        mem: MemType::NormalNc,
        read_only: false,
        exec_never: true,
    },
];

/// Operations from arbitrary bytes (the fuzz input): the first byte picks the region
/// count, then 5 bytes an operation. Addresses stay in a small window so operations
/// collide; one kind in eight is deliberately misaligned.
pub fn ops_from_bytes(data: &[u8]) -> (u8, Vec<Op>) {
    let count = data
        .first()
        .map_or(4, |b| [4, 8, 16, 255][(b & 3) as usize]);
    let range = |s: u8, n: u8| {
        let start = (s as u64 & 0x1f) * PAGE_SIZE;
        let len = ((n as u64 & 3) + 1) * PAGE_SIZE;
        if s & 0xe0 == 0xe0 {
            PhysRange::new(start + 0x40, start + len) // misaligned
        } else {
            PhysRange::new(start, start + len)
        }
    };
    let ops = data
        .get(1..)
        .unwrap_or(&[])
        .chunks_exact(5)
        .map(|c| {
            let r = range(c[1], c[2]);
            let a = ATTRS[(c[3] % 6) as usize];
            match c[0] % 4 {
                0 => Op::Map(r, a),
                1 => Op::Unmap(r),
                2 => Op::Modify(r, a),
                // Join `r` with the range of c[4]'s length that follows it.
                _ => Op::Join(
                    r,
                    PhysRange::new(r.end, r.end + ((c[4] as u64 & 3) + 1) * PAGE_SIZE),
                ),
            }
        })
        .collect();
    (count, ops)
}
