// SPDX-License-Identifier: GPL-2.0-only
//! The guest's two consoles: the emulated PL011 (vpl011) and Xen's console_io
//! hypercall. `println!` goes to the vpl011 when the device tree (or Xen's default
//! address) gives one, else to console_io; `xprintln!` always uses console_io.
//!
//! The vpl011 driver is the two registers a guest needs to transmit (UARTDR at +0,
//! UARTFR at +0x18 with TXFF in bit 5), with volatile accesses through raw pointers:
//! no Rust reference to device memory is ever formed. (The project's arm-pl011-uart
//! would also program the baud rate and line control, which an emulated UART ignores,
//! and it pulls in safe-mmio and more; the guests stay dependency-light.)
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};

/// Xen's guest PL011: GUEST_PL011_BASE / GUEST_PL011_SIZE in
/// xen/include/public/arch-arm.h. Direct-mapped domains may see it elsewhere (Xen
/// puts a direct-mapped domain's vpl011 at the physical UART's address), which is why
/// the address is taken from the device tree first.
pub const GUEST_PL011_BASE: usize = 0x2200_0000;
pub const GUEST_PL011_SIZE: usize = 0x1000;

const UARTDR: usize = 0x00;
const UARTFR: usize = 0x18;
const UARTFR_TXFF: u32 = 1 << 5;
/// Polls of UARTFR before writing anyway: a UART that never drains must not hang us.
const TXFF_POLLS: u32 = 100_000;

/// The vpl011 base, or 0 for none (console_io only).
static VPL011: AtomicUsize = AtomicUsize::new(0);

/// Sets the vpl011 base (`None`: print through console_io).
pub fn set_vpl011(base: Option<usize>) {
    VPL011.store(base.unwrap_or(0), Ordering::Relaxed);
}

/// The vpl011 base in use, if any.
pub fn vpl011() -> Option<usize> {
    match VPL011.load(Ordering::Relaxed) {
        0 => None,
        b => Some(b),
    }
}

/// Transmits through the vpl011 at `base`.
pub struct Vpl011 {
    base: usize,
}

impl Vpl011 {
    pub fn new(base: usize) -> Self {
        Self { base }
    }

    pub fn put(&mut self, byte: u8) {
        let fr = (self.base + UARTFR) as *const u32;
        let dr = (self.base + UARTDR) as *mut u32;
        for _ in 0..TXFF_POLLS {
            // SAFETY: `base` is the vpl011 this domain's device tree describes (or
            // Xen's GUEST_PL011_BASE); UARTFR is a 32-bit register inside its 4 KiB
            // frame, read volatile through a raw pointer.
            if unsafe { fr.read_volatile() } & UARTFR_TXFF == 0 {
                break;
            }
        }
        // SAFETY: as above, UARTDR; writing it transmits one byte.
        unsafe { dr.write_volatile(u32::from(byte)) };
    }
}

impl fmt::Write for Vpl011 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put(b));
        Ok(())
    }
}

/// Writes through `console_io(CONSOLEIO_write)`; Xen prefixes each line it prints
/// with "(dN) ".
pub struct HypConsole;

impl fmt::Write for HypConsole {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Xen writes the whole buffer and returns 0 (older interfaces returned the
        // count): anything non-negative means done.
        if crate::hypercall::console_write(s.as_bytes()) < 0 {
            return Err(fmt::Error);
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    use fmt::Write;
    let _ = match vpl011() {
        Some(base) => Vpl011::new(base).write_fmt(args),
        None => HypConsole.write_fmt(args),
    };
}

#[doc(hidden)]
pub fn _xprint(args: fmt::Arguments) -> fmt::Result {
    use fmt::Write;
    HypConsole.write_fmt(args)
}

/// Prints to the vpl011 (console_io when there is none).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::_print(format_args!($($arg)*)) };
}

/// `print!` with a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// Prints a line through console_io; evaluates to `fmt::Result` (Err if the
/// hypercall refused).
#[macro_export]
macro_rules! xprintln {
    ($($arg:tt)*) => { $crate::console::_xprint(format_args!("{}\n", format_args!($($arg)*))) };
}
