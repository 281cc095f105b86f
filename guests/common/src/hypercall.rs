// SPDX-License-Identifier: GPL-2.0-only
//! Xen hypercalls, as xen/include/public/arch-arm.h defines them for arm64: `HVC
//! #0xEA1` (XEN_HYPERCALL_TAG), the number in x16, arguments in x0..x4, the result in
//! x0 (a negative errno on failure). The call clobbers x16 and the argument registers.
//! Numbers from xen/include/public/xen.h; sub-operations from version.h, sched.h and
//! xen.h (CONSOLEIO_*).

/// `__HYPERVISOR_xen_version`.
pub const XEN_VERSION: u64 = 17;
/// `__HYPERVISOR_console_io`.
pub const CONSOLE_IO: u64 = 18;
/// `__HYPERVISOR_sched_op`.
pub const SCHED_OP: u64 = 29;

/// `XENVER_version`: returns `major << 16 | minor`.
pub const XENVER_VERSION: u64 = 0;
/// `CONSOLEIO_write`: x1 = count, x2 = buffer.
pub const CONSOLEIO_WRITE: u64 = 0;
/// `SCHEDOP_yield`, `SCHEDOP_block`, `SCHEDOP_shutdown` (x1 = `struct sched_shutdown *`).
pub const SCHEDOP_YIELD: u64 = 0;
pub const SCHEDOP_BLOCK: u64 = 1;
pub const SCHEDOP_SHUTDOWN: u64 = 2;

/// Xen's errno values (xen/include/public/errno.h) as the hypercall returns them.
pub const ENOSYS: i64 = -38;
pub const EFAULT: i64 = -14;
pub const EINVAL: i64 = -22;

/// `SHUTDOWN_*` reasons of `struct sched_shutdown` (sched.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ShutdownReason {
    Poweroff = 0,
    Reboot = 1,
    Suspend = 2,
    Crash = 3,
    Watchdog = 4,
}

/// Issues hypercall `nr` with five arguments and returns x0.
///
/// # Safety
/// Arguments that the hypercall treats as guest addresses must be valid for what it
/// does with them (a buffer it writes must be this guest's, writable and not aliased
/// by a Rust reference). A hypercall that only reads, or a deliberately bad address
/// the hypervisor must refuse, is sound.
pub unsafe fn hypercall(nr: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> i64 {
    let ret: i64;
    // SAFETY: HVC traps to the hypervisor, which returns to the next instruction with
    // x0 set and x1..x4, x16 clobbered (all declared). Memory effects are the
    // caller's contract (see # Safety), so the asm is not `nomem`.
    unsafe {
        core::arch::asm!(
            "hvc #0xea1",
            inout("x0") a0 => ret,
            inout("x1") a1 => _,
            inout("x2") a2 => _,
            inout("x3") a3 => _,
            inout("x4") a4 => _,
            inout("x16") nr => _,
            options(nostack),
        );
    }
    ret
}

/// `console_io(CONSOLEIO_write, len, buf)`: Xen returns 0 once the whole buffer is
/// written, or -errno (Linux's hvc_xen treats any rc >= 0 as "all of it").
pub fn console_write(bytes: &[u8]) -> i64 {
    // SAFETY: CONSOLEIO_write only reads `bytes`, which is a live slice of ours.
    unsafe {
        hypercall(
            CONSOLE_IO,
            CONSOLEIO_WRITE,
            bytes.len() as u64,
            bytes.as_ptr() as u64,
            0,
            0,
        )
    }
}

/// `xen_version(XENVER_version, NULL)`: `(major, minor)`, or the negative errno.
pub fn xen_version() -> Result<(u16, u16), i64> {
    // SAFETY: XENVER_version takes no buffer (the NULL argument is not dereferenced).
    let r = unsafe { hypercall(XEN_VERSION, XENVER_VERSION, 0, 0, 0, 0) };
    if r < 0 {
        Err(r)
    } else {
        Ok(((r >> 16) as u16, r as u16))
    }
}

/// `sched_op(SCHEDOP_yield, NULL)`.
pub fn sched_yield() -> i64 {
    // SAFETY: SCHEDOP_yield takes no buffer.
    unsafe { hypercall(SCHED_OP, SCHEDOP_YIELD, 0, 0, 0, 0) }
}

/// `sched_op(SCHEDOP_block, NULL)`.
pub fn sched_block() -> i64 {
    // SAFETY: SCHEDOP_block takes no buffer.
    unsafe { hypercall(SCHED_OP, SCHEDOP_BLOCK, 0, 0, 0, 0) }
}

/// `sched_op(SCHEDOP_shutdown, &sched_shutdown { reason })`: returns only if the
/// hypervisor refused (the negative errno).
pub fn shutdown(reason: ShutdownReason) -> i64 {
    let arg: u32 = reason as u32; // struct sched_shutdown { unsigned int reason; }
                                  // SAFETY: the hypervisor reads the 4-byte struct from our stack, which stays live
                                  // for the call.
    unsafe {
        hypercall(
            SCHED_OP,
            SCHEDOP_SHUTDOWN,
            &arg as *const u32 as u64,
            0,
            0,
            0,
        )
    }
}

/// Shutdown with `reason`; if the hypervisor returns, say so and park in WFI.
pub fn shutdown_or_park(reason: ShutdownReason) -> ! {
    let rc = shutdown(reason);
    crate::println!(
        "guest: SCHEDOP_shutdown({:?}) returned {}; parking",
        reason,
        rc
    );
    park()
}

/// Ask to be crashed (SHUTDOWN_crash), as Xen guests do after a fatal error.
pub fn crash() -> ! {
    shutdown_or_park(ShutdownReason::Crash)
}

/// WFI forever (interrupts stay masked: a hypervisor that traps WFI deschedules us).
pub fn park() -> ! {
    loop {
        aarch64_cpu::asm::wfi();
    }
}
