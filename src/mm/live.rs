// SPDX-License-Identifier: GPL-2.0-only
//! The firmware's one EL2 MPU table, behind one lock: every mapping operation runs
//! under it, so decisions and register writes never interleave.
use core::fmt::Write;

use spin::mutex::SpinMutex;

use crate::arch::mpu::{read_region, El2Mpu};
use crate::mm::mpu::{decode, Mpu, MpuError, MpuTable};

/// Empty (no implemented region) until `install`; const-initialised, so it lives in
/// the image's data and `install` fills it where it is, without copying ~8 KiB.
static MPU: SpinMutex<Mpu<El2Mpu>> = SpinMutex::new(Mpu::new(MpuTable::new(0, 0), El2Mpu));

/// Take over the regions the boot head programmed, given as (index, PRBAR, PRLAR):
/// the table is rebuilt in place and checked (`MpuTable::load_programmed`). On an
/// error the table stays uninstalled.
pub fn install(
    count: u8,
    pa_bits: u8,
    programmed: impl IntoIterator<Item = (u8, u64, u64)>,
) -> Result<(), MpuError> {
    let mut mpu = MPU.lock();
    let r = mpu.adopt_programmed(count, pa_bits, programmed);
    if r.is_err() {
        // Leave it as `with` and `dump` recognise an uninstalled table.
        let _ = mpu.adopt_programmed(0, 0, []);
    }
    r
}

fn installed(mpu: &Mpu<El2Mpu>) -> bool {
    mpu.table().count() != 0
}

/// Run `f` on the table under its lock. Panics if `install` has not run (a boot-order
/// bug, not an input error).
pub fn with<R>(f: impl FnOnce(&mut Mpu<El2Mpu>) -> R) -> R {
    let mut mpu = MPU.lock();
    assert!(
        installed(&mpu),
        "EL2 MPU table used before setup installed it"
    );
    f(&mut mpu)
}

/// Write the table for a log or a fatal report. If the lock is held (a fault inside
/// an MPU operation), the hardware registers are decoded instead.
pub fn dump(w: &mut impl Write) {
    if let Some(mpu) = MPU.try_lock() {
        if installed(&mpu) {
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
