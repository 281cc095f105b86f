// SPDX-License-Identifier: GPL-2.0-only
//! The firmware's one EL2 MPU table, behind one lock: every mapping operation runs
//! under it, so decisions and register writes never interleave.
use core::fmt::Write;

use spin::mutex::SpinMutex;

use crate::arch::mpu::{read_region, El2Mpu};
use crate::mm::mpu::{decode, Mpu, MpuTable};

static MPU: SpinMutex<Option<Mpu<El2Mpu>>> = SpinMutex::new(None);

/// Take over the table rebuilt from the boot head's record.
pub fn install(table: MpuTable) {
    *MPU.lock() = Some(Mpu::new(table, El2Mpu));
}

/// Run `f` on the table under its lock. Panics if `install` has not run (a boot-order
/// bug, not an input error).
pub fn with<R>(f: impl FnOnce(&mut Mpu<El2Mpu>) -> R) -> R {
    let mut guard = MPU.lock();
    let mpu = guard
        .as_mut()
        .expect("EL2 MPU table used before setup installed it");
    f(mpu)
}

/// Write the table for a log or a fatal report. If the lock is held (a fault inside
/// an MPU operation), the hardware registers are decoded instead.
pub fn dump(w: &mut impl Write) {
    if let Some(guard) = MPU.try_lock() {
        if let Some(mpu) = guard.as_ref() {
            let _ = write!(w, "{}", mpu.table());
            return;
        }
    }
    let count = crate::arch::mpu::implemented_regions();
    let _ = writeln!(w, "EL2 MPU (hardware registers; the table is busy):");
    for i in 0..count {
        let (b, l) = read_region(i);
        if l & 1 != 0 {
            match decode(b, l) {
                Ok((r, a)) => {
                    let _ = writeln!(w, "  #{i:<3} {:#012x}..{:#012x}  {a}", r.start, r.end - 1);
                }
                Err(e) => {
                    let _ = writeln!(w, "  #{i:<3} PRBAR {b:#x} PRLAR {l:#x} ({e:?})");
                }
            }
        }
    }
}
