// SPDX-License-Identifier: GPL-2.0-only
//! The generic timers of one Cortex-R82 core and the memory-mapped system counter of
//! the FVP BaseR, as pure models: the caller gives the counter value (`now`, in ticks
//! of CNTFRQ) and reads back register values, the timers' level outputs and the next
//! deadline. No host time.
//!
//! Wiring (the FVP BaseR board trees: PPIs 13, 14, 11, 10 = INTIDs 29, 30, 27, 26):
//! - CNTP (EL1 physical) raises INTID 30; CNTV (EL1 virtual, compared with
//!   now - CNTVOFF_EL2) INTID 27; the EL2 physical timer, which on the Cortex-R82 is
//!   the Secure one (CNTHPS), INTID 20: the BSA's PPI for the Secure EL2 physical
//!   timer, which the FVP BaseR raises (L4Re's FVP BaseR timer support: Secure hyp
//!   timer 20, non-secure hyp 26; Hafnium's secure-EL2 timer on the FVPs: 20). The
//!   board trees' fourth timer entry (PPI 10, INTID 26) is the non-secure EL2 timer,
//!   which this core does not have.
//! - On Armv8-R AArch64 the EL2 physical timer is the Secure one, CNTHPS_* (there is
//!   only the Secure state). The FVP 11.16.16 renamed CNTHP_* to CNTHPS_*; programs
//!   that still use the CNTHP_* encodings stopped working there, so r82sim treats
//!   CNTHP_* as unimplemented (undefined), like the current FVP.
//! - CNTHCTL_EL2.EL1PCTEN (bit 0) and EL1PCEN (bit 1) gate EL1/EL0 access to the
//!   physical counter and timer: clear, the access traps to EL2 (EC 0x18).
//!   CNTKCTL_EL1 gates EL0 access (EL0PCTEN 0, EL0VCTEN 1, EL0VTEN 8, EL0PTEN 9).
//! - CNTFRQ_EL0 is writable at EL2 (the highest EL here; Zephyr writes it at boot).
use crate::sysregs::Enc;

/// INTIDs the timers drive (PPIs).
pub const INTID_EL2_PHYS: u32 = 20;
pub const INTID_VIRT: u32 = 27;
pub const INTID_EL1_PHYS: u32 = 30;

pub const CNTFRQ_EL0: Enc = (3, 3, 14, 0, 0);
pub const CNTPCT_EL0: Enc = (3, 3, 14, 0, 1);
pub const CNTVCT_EL0: Enc = (3, 3, 14, 0, 2);
pub const CNTKCTL_EL1: Enc = (3, 0, 14, 1, 0);
pub const CNTHCTL_EL2: Enc = (3, 4, 14, 1, 0);
pub const CNTVOFF_EL2: Enc = (3, 4, 14, 0, 3);
const CNTP: (u32, u32, u32) = (3, 14, 2);
const CNTV: (u32, u32, u32) = (3, 14, 3);
const CNTHPS: (u32, u32, u32) = (4, 14, 5);
const CNTHP: (u32, u32, u32) = (4, 14, 2);

const CTL_ENABLE: u64 = 1 << 0;
const CTL_IMASK: u64 = 1 << 1;
const CTL_ISTATUS: u64 = 1 << 2;

/// One comparator: CTL (ENABLE, IMASK; ISTATUS computed) and CVAL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Comparator {
    pub ctl: u64,
    pub cval: u64,
}

impl Comparator {
    fn fired(&self, count: u64) -> bool {
        self.ctl & CTL_ENABLE != 0 && count >= self.cval
    }

    /// The interrupt output: ENABLE && ISTATUS && !IMASK.
    pub fn level(&self, count: u64) -> bool {
        self.fired(count) && self.ctl & CTL_IMASK == 0
    }

    fn read_ctl(&self, count: u64) -> u64 {
        (self.ctl & (CTL_ENABLE | CTL_IMASK)) | if self.fired(count) { CTL_ISTATUS } else { 0 }
    }

    /// TVAL reads as (CVAL - count), as a signed 32-bit value.
    fn read_tval(&self, count: u64) -> u64 {
        (self.cval.wrapping_sub(count) as u32) as u64
    }

    /// A TVAL write sets CVAL = count + sign-extended TVAL.
    fn write_tval(&mut self, count: u64, v: u64) {
        self.cval = count.wrapping_add(v as u32 as i32 as i64 as u64);
    }
}

/// Who accesses a timer register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub el: u8,
    pub write: bool,
    pub value: u64,
    /// The counter now (CNTPCT).
    pub now: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Read(u64),
    Written,
    /// The access traps to EL2 (EC 0x18).
    TrapToEl2,
    Undefined,
    /// Not a timer register.
    NotMine,
}

#[derive(Clone, Debug)]
pub struct Timers {
    pub frq: u64,
    pub cnthctl: u64,
    pub cntkctl: u64,
    pub cntvoff: u64,
    pub phys: Comparator,
    pub virt: Comparator,
    pub hyp: Comparator,
}

impl Timers {
    pub fn new(frq: u64) -> Self {
        Self {
            frq,
            // CNTHCTL_EL2: EL1PCTEN and EL1PCEN reset to 1 when EL2 is the highest EL
            // without VHE and are commonly left set; modelled as set at reset.
            cnthctl: 0b11,
            cntkctl: 0,
            cntvoff: 0,
            phys: Comparator::default(),
            virt: Comparator::default(),
            hyp: Comparator::default(),
        }
    }

    /// The timer interrupt lines: (INTID, level).
    pub fn lines(&self, now: u64) -> [(u32, bool); 3] {
        [
            (INTID_EL1_PHYS, self.phys.level(now)),
            (INTID_VIRT, self.virt.level(now.wrapping_sub(self.cntvoff))),
            (INTID_EL2_PHYS, self.hyp.level(now)),
        ]
    }

    /// The earliest counter value after `now` at which an enabled timer that has not
    /// fired yet will fire (whether or not it is masked: a masked timer still sets
    /// ISTATUS, which software may poll).
    pub fn next_deadline(&self, now: u64) -> Option<u64> {
        let voff = self.cntvoff;
        [
            (self.phys, self.phys.cval),
            (self.virt, self.virt.cval.wrapping_add(voff)),
            (self.hyp, self.hyp.cval),
        ]
        .iter()
        .filter(|(c, at)| c.ctl & CTL_ENABLE != 0 && *at > now)
        .map(|(_, at)| *at)
        .min()
    }

    /// Serve a timer or counter register access.
    pub fn access(&mut self, e: Enc, a: Access) -> Outcome {
        let el1_phys_ok = a.el >= 2 || self.cnthctl & 0b10 != 0;
        let el1_pct_ok = a.el >= 2 || self.cnthctl & 0b01 != 0;
        let el0 = |bit: u32| a.el > 0 || self.cntkctl & (1 << bit) != 0;
        match e {
            CNTFRQ_EL0 => {
                if a.write {
                    if a.el < 2 {
                        return Outcome::Undefined;
                    }
                    self.frq = a.value & 0xffff_ffff;
                    Outcome::Written
                } else {
                    Outcome::Read(self.frq)
                }
            }
            CNTPCT_EL0 | CNTVCT_EL0 if !a.write => {
                let virt = e == CNTVCT_EL0;
                if !virt && !el1_pct_ok {
                    return Outcome::TrapToEl2;
                }
                if !el0(if virt { 1 } else { 0 }) {
                    return Outcome::Undefined;
                }
                Outcome::Read(if virt {
                    a.now.wrapping_sub(self.cntvoff)
                } else {
                    a.now
                })
            }
            CNTKCTL_EL1 => self.reg(a, 1, |t| &mut t.cntkctl, 0x3ff),
            CNTHCTL_EL2 => self.reg(a, 2, |t| &mut t.cnthctl, 0xff),
            CNTVOFF_EL2 => self.reg(a, 2, |t| &mut t.cntvoff, u64::MAX),
            (3, op1, crn, crm, op2) if op2 <= 2 => {
                let which = (op1, crn, crm);
                let (c, count, min_el) = if which == CNTP {
                    if !el1_phys_ok {
                        return Outcome::TrapToEl2;
                    }
                    if !el0(9) {
                        return Outcome::Undefined;
                    }
                    (&mut self.phys, a.now, 0)
                } else if which == CNTV {
                    if !el0(8) {
                        return Outcome::Undefined;
                    }
                    (&mut self.virt, a.now.wrapping_sub(self.cntvoff), 0)
                } else if which == CNTHPS {
                    (&mut self.hyp, a.now, 2)
                } else if which == CNTHP {
                    return Outcome::Undefined;
                } else {
                    return Outcome::NotMine;
                };
                if a.el < min_el {
                    return Outcome::Undefined;
                }
                match (op2, a.write) {
                    (0, false) => Outcome::Read(c.read_tval(count)),
                    (0, true) => {
                        c.write_tval(count, a.value);
                        Outcome::Written
                    }
                    (1, false) => Outcome::Read(c.read_ctl(count)),
                    (1, true) => {
                        c.ctl = a.value & (CTL_ENABLE | CTL_IMASK);
                        Outcome::Written
                    }
                    (_, false) => Outcome::Read(c.cval),
                    (_, true) => {
                        c.cval = a.value;
                        Outcome::Written
                    }
                }
            }
            _ => Outcome::NotMine,
        }
    }

    fn reg(
        &mut self,
        a: Access,
        min_el: u8,
        f: impl Fn(&mut Self) -> &mut u64,
        mask: u64,
    ) -> Outcome {
        if a.el < min_el {
            return Outcome::Undefined;
        }
        let r = f(self);
        if a.write {
            *r = a.value & mask;
            Outcome::Written
        } else {
            Outcome::Read(*r)
        }
    }
}

/// The FVP BaseR's memory-mapped counter: CNTControl at 0xAA430000 (CNTCR, CNTSR,
/// CNTCV, CNTFID0) and its read-only view CNTReadBase at 0xAA800000 (CNTCV). The
/// counter runs from reset (bp.refcounter.non_arch_start_at_default=1); a write of
/// CNTCR.EN = 0 stops it (the machine then holds the count), and a CNTCV write sets it.
pub const CNTCONTROL_BASE: u64 = 0xaa43_0000;
pub const CNTREAD_BASE: u64 = 0xaa80_0000;
pub const FRAME_SIZE: u64 = 0x1000;

#[derive(Clone, Debug)]
pub struct SystemCounter {
    pub cntcr: u32,
    pub fid0: u32,
    /// count = base + (ticks since `since` while enabled).
    base: u64,
    since: u64,
}

impl SystemCounter {
    pub fn new(fid0: u32) -> Self {
        Self {
            cntcr: 1,
            fid0,
            base: 0,
            since: 0,
        }
    }

    /// The count at machine time `t` (ticks since reset).
    pub fn count(&self, t: u64) -> u64 {
        if self.cntcr & 1 != 0 {
            self.base.wrapping_add(t.saturating_sub(self.since))
        } else {
            self.base
        }
    }

    /// A read of the control frame (`read_only`: the CNTReadBase frame).
    pub fn read(&self, read_only: bool, off: u64, t: u64) -> u64 {
        let cv = self.count(t);
        match (read_only, off) {
            (false, 0x000) => self.cntcr as u64,
            (false, 0x004) => ((self.cntcr & 1 == 0) as u64) << 1, // CNTSR.DBGH = halted
            (_, 0x008) => cv & 0xffff_ffff,
            (_, 0x00c) => cv >> 32,
            (false, 0x020) => self.fid0 as u64,
            // CounterID registers (PIDR/CIDR of the Arm generic counter).
            (_, 0xfd0..=0xffc) => 0,
            _ => 0,
        }
    }

    pub fn write(&mut self, off: u64, v: u64, t: u64) {
        match off {
            0x000 => {
                let now = self.count(t);
                self.cntcr = (v as u32) & 0b11;
                self.base = now;
                self.since = t;
            }
            0x008 => {
                self.base = (self.count(t) & !0xffff_ffff) | (v & 0xffff_ffff);
                self.since = t;
            }
            0x00c => {
                self.base = (self.count(t) & 0xffff_ffff) | (v << 32);
                self.since = t;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(el: u8, now: u64) -> Access {
        Access {
            el,
            write: false,
            value: 0,
            now,
        }
    }
    fn w(el: u8, now: u64, value: u64) -> Access {
        Access {
            el,
            write: true,
            value,
            now,
        }
    }
    const CNTP_TVAL: Enc = (3, 3, 14, 2, 0);
    const CNTP_CTL: Enc = (3, 3, 14, 2, 1);
    const CNTV_CVAL: Enc = (3, 3, 14, 3, 2);
    const CNTV_CTL: Enc = (3, 3, 14, 3, 1);
    const CNTHPS_CTL: Enc = (3, 4, 14, 5, 1);
    const CNTHPS_CVAL: Enc = (3, 4, 14, 5, 2);

    #[test]
    fn istatus_follows_cval_and_the_line_follows_imask() {
        let mut t = Timers::new(100_000_000);
        t.access(CNTP_TVAL, w(1, 1000, 500));
        assert_eq!(t.phys.cval, 1500);
        t.access(CNTP_CTL, w(1, 1000, CTL_ENABLE));
        assert_eq!(t.access(CNTP_CTL, at(1, 1499)), Outcome::Read(CTL_ENABLE));
        assert_eq!(
            t.access(CNTP_CTL, at(1, 1500)),
            Outcome::Read(CTL_ENABLE | CTL_ISTATUS)
        );
        assert_eq!(t.lines(1500)[0], (INTID_EL1_PHYS, true));
        t.access(CNTP_CTL, w(1, 1500, CTL_ENABLE | CTL_IMASK));
        assert_eq!(
            t.lines(1500)[0],
            (INTID_EL1_PHYS, false),
            "masked: no output"
        );
    }

    #[test]
    fn tval_is_signed_32_bit_both_ways() {
        let mut t = Timers::new(1);
        t.access(CNTP_TVAL, w(2, 1000, (-100i32) as u32 as u64));
        assert_eq!(t.phys.cval, 900);
        assert_eq!(
            t.access(CNTP_TVAL, at(2, 1000)),
            Outcome::Read((-100i32) as u32 as u64)
        );
    }

    #[test]
    fn the_virtual_timer_compares_against_the_offset_count() {
        let mut t = Timers::new(1);
        t.access(CNTVOFF_EL2, w(2, 0, 300));
        t.access(CNTV_CVAL, w(1, 0, 1000));
        t.access(CNTV_CTL, w(1, 0, CTL_ENABLE));
        assert!(!t.lines(1299)[1].1);
        assert!(t.lines(1300)[1].1);
        assert_eq!(t.next_deadline(0), Some(1300));
        assert_eq!(t.access(CNTVCT_EL0, at(1, 1300)), Outcome::Read(1000));
    }

    #[test]
    fn next_deadline_is_the_earliest_enabled_unfired_comparator() {
        let mut t = Timers::new(1);
        assert_eq!(t.next_deadline(0), None);
        t.access(CNTHPS_CVAL, w(2, 0, 5000));
        t.access(CNTHPS_CTL, w(2, 0, CTL_ENABLE | CTL_IMASK));
        t.access(CNTP_TVAL, w(1, 0, 7000));
        t.access(CNTP_CTL, w(1, 0, CTL_ENABLE));
        assert_eq!(t.next_deadline(0), Some(5000));
        assert_eq!(t.next_deadline(5000), Some(7000));
        assert_eq!(
            t.lines(5000)[2],
            (INTID_EL2_PHYS, false),
            "masked hyp timer"
        );
    }

    #[test]
    fn el1_access_traps_per_cnthctl_and_el2_timers_are_el2_only() {
        let mut t = Timers::new(1);
        t.access(CNTHCTL_EL2, w(2, 0, 0));
        assert_eq!(t.access(CNTP_CTL, at(1, 0)), Outcome::TrapToEl2);
        assert_eq!(t.access(CNTPCT_EL0, at(1, 0)), Outcome::TrapToEl2);
        assert_eq!(
            t.access(CNTVCT_EL0, at(1, 7)),
            Outcome::Read(7),
            "virtual count is not gated"
        );
        assert_eq!(t.access(CNTHPS_CTL, at(1, 0)), Outcome::Undefined);
        assert_eq!(t.access(CNTHCTL_EL2, at(1, 0)), Outcome::Undefined);
        assert_eq!(
            t.access((3, 4, 14, 2, 1), at(2, 0)),
            Outcome::Undefined,
            "CNTHP_CTL"
        );
        // EL0 needs CNTKCTL_EL1.
        assert_eq!(t.access(CNTV_CTL, at(0, 0)), Outcome::Undefined);
        t.access(CNTKCTL_EL1, w(1, 0, 1 << 8));
        assert_eq!(t.access(CNTV_CTL, at(0, 0)), Outcome::Read(0));
    }

    #[test]
    fn cntfrq_is_written_at_el2_only() {
        let mut t = Timers::new(100_000_000);
        assert_eq!(t.access(CNTFRQ_EL0, w(1, 0, 5)), Outcome::Undefined);
        assert_eq!(t.access(CNTFRQ_EL0, w(2, 0, 24_000_000)), Outcome::Written);
        assert_eq!(t.access(CNTFRQ_EL0, at(0, 0)), Outcome::Read(24_000_000));
    }

    #[test]
    fn the_memory_mapped_counter_enables_stops_and_is_set() {
        let mut c = SystemCounter::new(100_000_000);
        assert_eq!(c.read(false, 0x008, 50), 50);
        c.write(0x000, 0, 60); // EN = 0: halted at 60
        assert_eq!(c.read(false, 0x008, 90), 60);
        assert_eq!(c.read(false, 0x004, 90), 2, "CNTSR.DBGH");
        c.write(0x008, 1000, 90);
        c.write(0x000, 1, 100);
        assert_eq!(c.read(true, 0x008, 110), 1010);
        assert_eq!(c.read(false, 0x020, 0), 100_000_000);
    }
}
