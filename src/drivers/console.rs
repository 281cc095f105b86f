// SPDX-License-Identifier: GPL-2.0-only
//! The hypervisor console: a PL011 driven by arm-pl011-uart (safe-mmio underneath, so
//! no Rust reference to device memory is ever formed), and the `log` backend.
//! The UART must already be mapped in the MPU by whoever calls `init`.
use core::fmt::{self, Write};
use core::ptr::NonNull;

use arm_pl011_uart::{DataBits, LineConfig, PL011Registers, Parity, StopBits, Uart};
use safe_mmio::UniqueMmioPointer;
use spin::mutex::SpinMutex;

use crate::platform::{UART_BAUD, UART_CLOCK_HZ};

static CONSOLE: SpinMutex<Option<Uart<'static>>> = SpinMutex::new(None);

/// Use the PL011 at `base` (already mapped) as the console, at 115200 8N1.
///
/// # Safety
/// `base` must be the address of a PL011 register block mapped as device memory,
/// used by nothing else for the rest of the run.
pub unsafe fn init(base: u64) {
    // SAFETY: the caller promises a mapped PL011 used by nobody else.
    let regs =
        unsafe { UniqueMmioPointer::new(NonNull::new_unchecked(base as *mut PL011Registers)) };
    let mut uart = Uart::new(regs);
    let config = LineConfig {
        data_bits: DataBits::Bits8,
        parity: Parity::None,
        stop_bits: StopBits::One,
    };
    // 115200 at 24 MHz always has a divisor; on error the UART keeps its settings.
    let _ = uart.enable(config, UART_BAUD, UART_CLOCK_HZ);
    *CONSOLE.lock() = Some(uart);
}

/// Writes to the console, turning `\n` into `\r\n`.
pub struct ConsoleWriter<'a>(&'a mut Uart<'static>);

impl Write for ConsoleWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for (i, line) in s.split('\n').enumerate() {
            if i > 0 {
                self.0.write_str("\r\n")?;
            }
            self.0.write_str(line)?;
        }
        Ok(())
    }
}

/// A writer for fatal paths: takes the console even if the interrupted code held it.
pub fn emergency() -> Emergency {
    if CONSOLE.is_locked() {
        // SAFETY: only fatal paths call this, and they never return to the code that
        // held the lock, so no two writers ever run at once.
        unsafe { CONSOLE.force_unlock() };
    }
    Emergency
}

pub struct Emergency;

impl Write for Emergency {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match CONSOLE.lock().as_mut() {
            Some(uart) => ConsoleWriter(uart).write_str(s),
            None => Ok(()),
        }
    }
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let tag = match record.level() {
            log::Level::Error => "(XEN) ERROR: ",
            log::Level::Warn => "(XEN) WARNING: ",
            _ => "(XEN) ",
        };
        if let Some(uart) = CONSOLE.lock().as_mut() {
            let _ = writeln!(ConsoleWriter(uart), "{tag}{}", record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Route `log` to the console.
pub fn init_logger(level: log::LevelFilter) {
    // A second call keeps the first logger; only the level changes.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
