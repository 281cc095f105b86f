// SPDX-License-Identifier: GPL-2.0-only
//! A recording stand-in for the EL2 MPU registers, for tests and fuzzing: it keeps the
//! PRBAR/PRLAR value of every region and the log of writes and synchronisations.
extern crate alloc;
use alloc::vec::Vec;

use super::{MpuHw, MAX_REGIONS};

/// One event at the hardware boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HwEvent {
    Write { index: u8, prbar: u64, prlar: u64 },
    Sync,
    Prenr(u32),
}

#[derive(Clone)]
pub struct FakeMpu {
    pub regs: [(u64, u64); MAX_REGIONS],
    pub log: Vec<HwEvent>,
}

impl FakeMpu {
    pub fn new() -> Self {
        Self {
            regs: [(0, 0); MAX_REGIONS],
            log: Vec::new(),
        }
    }

    /// Indices whose PRLAR has EN set.
    pub fn enabled(&self) -> impl Iterator<Item = u8> + '_ {
        (0..MAX_REGIONS as u8).filter(|&i| self.regs[i as usize].1 & 1 != 0)
    }
}

impl Default for FakeMpu {
    fn default() -> Self {
        Self::new()
    }
}

impl MpuHw for FakeMpu {
    fn write_region(&mut self, index: u8, prbar: u64, prlar: u64) {
        self.regs[index as usize] = (prbar, prlar);
        self.log.push(HwEvent::Write {
            index,
            prbar,
            prlar,
        });
    }

    fn sync(&mut self) {
        self.log.push(HwEvent::Sync);
    }

    fn disable_then_program(&mut self, disable: u8, index: u8, prbar: u64, prlar: u64) {
        self.write_region(disable, 0, 0);
        self.write_region(index, prbar, prlar);
        self.sync();
    }

    fn write_prenr(&mut self, value: u32) {
        for i in 0..32usize.min(self.regs.len()) {
            let (b, l) = self.regs[i];
            self.regs[i] = (b, (l & !1) | ((value >> i) & 1) as u64);
        }
        self.log.push(HwEvent::Prenr(value));
    }
}
