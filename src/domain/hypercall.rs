// SPDX-License-Identifier: GPL-2.0-only
//! Xen's hypercall ABI on Arm, as a guest sees it: `HVC #0xEA1`, the number in x16,
//! arguments in x0..x4, the result in x0 (a negative errno on failure). One function
//! per hypercall takes the calling domain (through `Guest`) and returns a typed
//! `Outcome`; `dispatch` turns the registers into a call. Guest memory is reached only
//! through `Guest::copy_from`, after `check_buffer` has found the whole buffer inside
//! the caller's own memory: a pointer into rxen or another domain is -EFAULT and the
//! domain keeps running. Numbers and layouts: xen/include/public/{xen,sched,version}.h.
use crate::mm::PhysRange;

/// The immediate of Xen's hypercall HVC.
pub const XEN_HVC_IMM: u16 = 0xea1;

pub const HYPERVISOR_XEN_VERSION: u64 = 17;
pub const HYPERVISOR_CONSOLE_IO: u64 = 18;
pub const HYPERVISOR_SCHED_OP: u64 = 29;

pub const CONSOLEIO_WRITE: u64 = 0;
pub const CONSOLEIO_READ: u64 = 1;
pub const SCHEDOP_YIELD: u64 = 0;
pub const SCHEDOP_BLOCK: u64 = 1;
pub const SCHEDOP_SHUTDOWN: u64 = 2;
pub const XENVER_VERSION: u64 = 0;
pub const XENVER_EXTRAVERSION: u64 = 1;
pub const XENVER_CAPABILITIES: u64 = 3;
pub const XENVER_GET_FEATURES: u64 = 6;
pub const XENVER_PAGESIZE: u64 = 7;

/// The Xen interface version rxen reports (XENVER_version: major << 16 | minor).
pub const XEN_MAJOR: u64 = 4;
pub const XEN_MINOR: u64 = 20;
const EXTRAVERSION: &[u8] = b"-rxen";
const CAPABILITIES: &[u8] = b"xen-3.0-aarch64";

/// Errors as Xen returns them (negated in x0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum Errno {
    Eperm = 1,
    Efault = 14,
    Einval = 22,
    Enosys = 38,
}

/// How a domain asked to end (`struct sched_shutdown.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownReason {
    Poweroff,
    Reboot,
    Suspend,
    Crash,
    Watchdog,
    SoftReset,
}

impl ShutdownReason {
    pub const fn from_raw(r: u32) -> Option<Self> {
        Some(match r {
            0 => Self::Poweroff,
            1 => Self::Reboot,
            2 => Self::Suspend,
            3 => Self::Crash,
            4 => Self::Watchdog,
            5 => Self::SoftReset,
            _ => return None,
        })
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Poweroff => "powered off",
            Self::Reboot => "asked to reboot",
            Self::Suspend => "suspended",
            Self::Crash => "crashed",
            Self::Watchdog => "stopped by its watchdog",
            Self::SoftReset => "asked for a soft reset",
        }
    }
}

/// What the scheduler does after a hypercall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Write this to x0 and resume the caller.
    Return(i64),
    /// x0 = 0, then let the others run.
    Yield,
    /// x0 = 0 once woken; the vCPU blocks until an event (or the next slice: no
    /// event channels yet, so a blocked vCPU is woken by its timer tick).
    Block,
    /// The domain ends.
    Shutdown(ShutdownReason),
}

impl Outcome {
    const fn err(e: Errno) -> Self {
        Self::Return(-(e as i64))
    }
}

/// The calling domain, as hypercalls see it.
pub trait Guest {
    /// The domain's own memory (direct-mapped).
    fn memory(&self) -> &[PhysRange];
    /// Copy guest memory that `check_buffer` accepted.
    fn copy_from(&self, addr: u64, buf: &mut [u8]);
    /// Copy into guest memory that `check_buffer` accepted.
    fn copy_to(&mut self, addr: u64, data: &[u8]);
    /// Guest console output (console_io write), before line buffering.
    fn console_write(&mut self, bytes: &[u8]);
}

/// The buffer `[addr, addr + len)` if it lies entirely inside one bank of `memory`.
pub fn check_buffer(memory: &[PhysRange], addr: u64, len: u64) -> Result<PhysRange, Errno> {
    let r = PhysRange::from_size(addr, len).ok_or(Errno::Efault)?;
    if memory.iter().any(|b| b.contains_range(&r)) {
        Ok(r)
    } else {
        Err(Errno::Efault)
    }
}

/// Decode and run one hypercall: `nr` from x16, `a` from x0..x4.
pub fn dispatch(nr: u64, a: [u64; 5], g: &mut impl Guest) -> Outcome {
    match nr {
        HYPERVISOR_CONSOLE_IO => console_io(a[0], a[1], a[2], g),
        HYPERVISOR_SCHED_OP => sched_op(a[0], a[1], g),
        HYPERVISOR_XEN_VERSION => xen_version(a[0], a[1], g),
        _ => Outcome::err(Errno::Enosys),
    }
}

/// console_io(cmd, count, buffer). CONSOLEIO_write returns 0; the whole buffer is
/// checked before a byte is printed. CONSOLEIO_read: dom0less guests have no input
/// here (the console belongs to rxen), so it reads nothing and returns 0.
pub fn console_io(cmd: u64, count: u64, buffer: u64, g: &mut impl Guest) -> Outcome {
    match cmd {
        CONSOLEIO_WRITE => {
            let count = count & 0xffff_ffff; // unsigned int in Xen's ABI
            if let Err(e) = check_buffer(g.memory(), buffer, count) {
                return Outcome::err(e);
            }
            let mut chunk = [0u8; 128];
            let mut done = 0;
            while done < count {
                let n = (count - done).min(chunk.len() as u64) as usize;
                g.copy_from(buffer + done, &mut chunk[..n]);
                g.console_write(&chunk[..n]);
                done += n as u64;
            }
            Outcome::Return(0)
        }
        CONSOLEIO_READ => {
            if let Err(e) = check_buffer(g.memory(), buffer, count & 0xffff_ffff) {
                return Outcome::err(e);
            }
            Outcome::Return(0)
        }
        _ => Outcome::err(Errno::Enosys),
    }
}

/// sched_op(cmd, arg).
pub fn sched_op(cmd: u64, arg: u64, g: &mut impl Guest) -> Outcome {
    match cmd {
        SCHEDOP_YIELD => Outcome::Yield,
        SCHEDOP_BLOCK => Outcome::Block,
        SCHEDOP_SHUTDOWN => {
            if let Err(e) = check_buffer(g.memory(), arg, 4) {
                return Outcome::err(e);
            }
            let mut b = [0u8; 4];
            g.copy_from(arg, &mut b);
            match ShutdownReason::from_raw(u32::from_le_bytes(b)) {
                Some(r) => Outcome::Shutdown(r),
                None => Outcome::err(Errno::Einval),
            }
        }
        _ => Outcome::err(Errno::Enosys),
    }
}

/// Write `text` and a NUL into the guest's `size`-byte buffer at `arg`.
fn put_string(g: &mut impl Guest, arg: u64, text: &[u8], size: usize) -> Outcome {
    if let Err(e) = check_buffer(g.memory(), arg, size as u64) {
        return Outcome::err(e);
    }
    let mut buf = [0u8; 64];
    let n = text.len().min(size - 1);
    buf[..n].copy_from_slice(&text[..n]);
    g.copy_to(arg, &buf[..size]);
    Outcome::Return(0)
}

/// xen_version(cmd, arg).
pub fn xen_version(cmd: u64, arg: u64, g: &mut impl Guest) -> Outcome {
    match cmd {
        XENVER_VERSION => Outcome::Return(((XEN_MAJOR << 16) | XEN_MINOR) as i64),
        // xen_extraversion_t is char[16]; xen_capabilities_info_t is char[1024], of
        // which rxen writes the first 64 bytes (the string and its NUL).
        XENVER_EXTRAVERSION => put_string(g, arg, EXTRAVERSION, 16),
        XENVER_CAPABILITIES => put_string(g, arg, CAPABILITIES, 64),
        // struct xen_feature_info { unsigned int submap_idx; uint32_t submap; }:
        // no optional features in any submap.
        XENVER_GET_FEATURES => {
            if let Err(e) = check_buffer(g.memory(), arg, 8) {
                return Outcome::err(e);
            }
            g.copy_to(arg + 4, &0u32.to_le_bytes());
            Outcome::Return(0)
        }
        XENVER_PAGESIZE => Outcome::Return(crate::mm::PAGE_SIZE as i64),
        _ => Outcome::err(Errno::Enosys),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// A domain with 64 KiB at 0x2000_0000, backed by a Vec.
    struct Fake {
        mem: Vec<u8>,
        banks: [PhysRange; 1],
        out: Vec<u8>,
    }

    const BASE: u64 = 0x2000_0000;

    impl Fake {
        fn new() -> Self {
            Self {
                mem: std::vec![0; 0x10000],
                banks: [PhysRange::new(BASE, BASE + 0x10000)],
                out: Vec::new(),
            }
        }
    }

    impl Guest for Fake {
        fn memory(&self) -> &[PhysRange] {
            &self.banks
        }
        fn copy_from(&self, addr: u64, buf: &mut [u8]) {
            let o = (addr - BASE) as usize;
            buf.copy_from_slice(&self.mem[o..o + buf.len()]);
        }
        fn copy_to(&mut self, addr: u64, data: &[u8]) {
            let o = (addr - BASE) as usize;
            self.mem[o..o + data.len()].copy_from_slice(data);
        }
        fn console_write(&mut self, bytes: &[u8]) {
            self.out.extend_from_slice(bytes);
        }
    }

    #[test]
    fn console_write_prints_a_checked_buffer_and_returns_zero() {
        let mut g = Fake::new();
        let text = [b'x'; 300];
        g.copy_to(BASE + 0x100, &text);
        let r = dispatch(
            HYPERVISOR_CONSOLE_IO,
            [CONSOLEIO_WRITE, 300, BASE + 0x100, 0, 0],
            &mut g,
        );
        assert_eq!(r, Outcome::Return(0));
        assert_eq!(g.out, text);
    }

    #[test]
    fn buffers_outside_the_callers_memory_are_efault_and_print_nothing() {
        let mut g = Fake::new();
        let efault = Outcome::Return(-14);
        // In rxen's own memory, in another domain, straddling the end, wrapping.
        for (addr, len) in [
            (0x1000, 8),
            (0x3000_0000, 8),
            (BASE + 0xfff0, 0x20),
            (u64::MAX - 4, 16),
        ] {
            let r = console_io(CONSOLEIO_WRITE, len, addr, &mut g);
            assert_eq!(r, efault, "{addr:#x}+{len}");
        }
        assert!(g.out.is_empty());
        assert_eq!(sched_op(SCHEDOP_SHUTDOWN, 0x1000, &mut g), efault);
        assert_eq!(xen_version(XENVER_EXTRAVERSION, 0x40_0000, &mut g), efault);
    }

    #[test]
    fn unknown_hypercalls_and_commands_are_enosys() {
        let mut g = Fake::new();
        assert_eq!(dispatch(12345, [0; 5], &mut g), Outcome::Return(-38));
        assert_eq!(
            dispatch(HYPERVISOR_SCHED_OP, [99, 0, 0, 0, 0], &mut g),
            Outcome::Return(-38)
        );
        assert_eq!(
            dispatch(32, [0; 5], &mut g),
            Outcome::Return(-38),
            "event_channel_op"
        );
    }

    #[test]
    fn sched_op_yield_block_and_shutdown_reasons() {
        let mut g = Fake::new();
        assert_eq!(sched_op(SCHEDOP_YIELD, 0, &mut g), Outcome::Yield);
        assert_eq!(sched_op(SCHEDOP_BLOCK, 0, &mut g), Outcome::Block);
        g.copy_to(BASE + 0x40, &3u32.to_le_bytes());
        assert_eq!(
            sched_op(SCHEDOP_SHUTDOWN, BASE + 0x40, &mut g),
            Outcome::Shutdown(ShutdownReason::Crash)
        );
        g.copy_to(BASE + 0x40, &77u32.to_le_bytes());
        assert_eq!(
            sched_op(SCHEDOP_SHUTDOWN, BASE + 0x40, &mut g),
            Outcome::Return(-22)
        );
    }

    #[test]
    fn xen_version_reports_the_interface_and_strings() {
        let mut g = Fake::new();
        assert_eq!(
            xen_version(XENVER_VERSION, 0, &mut g),
            Outcome::Return((4 << 16) | 20)
        );
        assert_eq!(
            xen_version(XENVER_EXTRAVERSION, BASE, &mut g),
            Outcome::Return(0)
        );
        assert_eq!(&g.mem[..6], b"-rxen\0");
        assert_eq!(
            xen_version(XENVER_PAGESIZE, 0, &mut g),
            Outcome::Return(4096)
        );
    }
}
