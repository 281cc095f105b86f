// SPDX-License-Identifier: GPL-2.0-only
//! The hypervisor console: a PL011 driven by arm-pl011-uart (safe-mmio underneath, so
//! no Rust reference to device memory is ever formed), and the `log` backend.
//! The UART must already be mapped in the MPU by whoever calls `init`.
use core::fmt::{self, Write};
use core::ptr::NonNull;

use arm_pl011_uart::{DataBits, LineConfig, PL011Registers, Parity, StopBits, Uart};
use safe_mmio::UniqueMmioPointer;
use spin::mutex::SpinMutex;

use crate::bounded::Bounded;
use crate::platform::{UART_BAUD, UART_CLOCK_HZ};
use crate::txfifo::{put, Tx};

/// The UART, and whether its FIFOs are on (`enable` succeeded: it sets LCR_H.FEN).
static CONSOLE: SpinMutex<Option<(Uart<'static>, bool)>> = SpinMutex::new(None);

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
    // 115200 at 24 MHz always has a divisor; on error the UART keeps its settings
    // (and its FIFOs may be off: the writer then waits for room byte by byte).
    let fifo = uart.enable(config, UART_BAUD, UART_CLOCK_HZ).is_ok();
    *CONSOLE.lock() = Some((uart, fifo));
}

impl Tx for Uart<'_> {
    fn tx_empty(&self) -> bool {
        self.is_tx_fifo_empty()
    }

    fn tx_full(&self) -> bool {
        self.is_tx_fifo_full()
    }

    fn put_byte(&mut self, b: u8) {
        self.write_word(b);
    }
}

/// Writes to the console, turning `\n` into `\r\n`. It borrows the console's slot
/// for as long as it lives, and knows how much room the FIFO had left (see `put`).
pub struct ConsoleWriter<'a> {
    slot: &'a mut Option<(Uart<'static>, bool)>,
    room: usize,
}

impl<'a> ConsoleWriter<'a> {
    fn new(slot: &'a mut Option<(Uart<'static>, bool)>) -> Self {
        Self { slot, room: 0 }
    }

    /// Always `Ok(())` (see `put`).
    #[inline(always)]
    fn put_bytes(&mut self, s: &[u8]) -> fmt::Result {
        match self.slot {
            Some((uart, fifo)) => put(uart, *fifo, &mut self.room, s),
            None => Ok(()),
        }
    }
}

impl Write for ConsoleWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put_bytes(s.as_bytes())
    }
}

/// A writer for fatal paths: takes the console even if the interrupted code held it,
/// and first prints the log lines still held (at the default level, `Info`).
pub fn emergency() -> Emergency {
    if HELD.is_locked() {
        // SAFETY: as for CONSOLE below: a fatal path never returns to the code that
        // held the lock.
        unsafe { HELD.force_unlock() };
    }
    if CONSOLE.is_locked() {
        // SAFETY: only fatal paths call this, and they never return to the code that
        // held the lock, so no two writers ever run at once.
        unsafe { CONSOLE.force_unlock() };
    }
    let mut held = HELD.lock();
    if held.holding {
        held.release(log::LevelFilter::Info);
        log::set_max_level(log::LevelFilter::Info);
    }
    Emergency
}

pub struct Emergency;

impl Write for Emergency {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        ConsoleWriter::new(&mut CONSOLE.lock()).write_str(s)
    }
}

/// Room for the lines logged before the level is known (the banner and a few more:
/// about 300 bytes today).
const HELD_BYTES: usize = 1024;

/// Log lines held until the level is known: each is one level byte, a 16-bit
/// length and the line as printed (tag and `\n` included), the line 8-byte aligned
/// (the bytes of padding before a header are skipped on release: see `Held::push`).
/// A deferred line (`log_deferred`) is held unformatted: its level byte has
/// `DEFERRED` set and its one byte of text is its index in `deferred`.
#[repr(C, align(8))]
struct Held {
    buf: [u8; HELD_BYTES],
    holding: bool,
    len: usize,
    /// Deferred lines, in the order logged: the level of each, the function that
    /// writes it, its values.
    deferred: Bounded<(log::Level, DeferredFn, [u64; 4]), MAX_DEFERRED>,
}

/// Deferred lines held at most (setup logs 3 before it reads the command line).
const MAX_DEFERRED: usize = 8;

static HELD: SpinMutex<Held> = SpinMutex::new(Held {
    holding: false,
    len: 0,
    buf: [0; HELD_BYTES],
    deferred: Bounded::new(),
});

/// Marks a held entry as a deferred line (see `Held`).
const DEFERRED: u8 = 0x80;

/// Writes a deferred line's text (without tag or newline) from its values.
pub type DeferredFn = fn(&mut dyn Write, [u64; 4]) -> fmt::Result;

fn tag(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "(XEN) ERROR: ",
        log::Level::Warn => "(XEN) WARNING: ",
        _ => "(XEN) ",
    }
}

/// Appends to the held buffer; fails (and leaves `len` as it was) when full.
struct HeldWriter<'a> {
    held: &'a mut Held,
    at: usize,
}

impl Write for HeldWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.at.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.held.buf.get_mut(self.at..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.at = end;
        Ok(())
    }
}

impl Held {
    /// Keep one line; false when it does not fit.
    fn push(&mut self, level: log::Level, line: fmt::Arguments) -> bool {
        // Each line's text starts 8-byte aligned in memory (`buf` is, and the header is
        // 3 bytes before), so that the console writes it a word at a time.
        let start = (self.len + 3).next_multiple_of(8) - 3;
        let mut w = HeldWriter {
            held: self,
            at: start + 3,
        };
        if w.write_fmt(line).is_err() {
            return false;
        }
        let end = w.at;
        let n = end - start - 3;
        if n > u16::MAX as usize {
            return false;
        }
        self.buf[start] = level as u8;
        self.buf[start + 1..start + 3].copy_from_slice(&(n as u16).to_le_bytes());
        self.len = end;
        true
    }

    /// Keep one deferred line; false when it does not fit.
    fn push_deferred(&mut self, level: log::Level, f: DeferredFn, values: [u64; 4]) -> bool {
        let slot = self.deferred.len();
        if slot == MAX_DEFERRED {
            return false;
        }
        // Headers sit where `release` looks for them (3 bytes before an 8-byte
        // boundary), as `push` leaves them.
        let start = (self.len + 3).next_multiple_of(8) - 3;
        if start + 4 > HELD_BYTES {
            return false;
        }
        self.buf[start] = level as u8 | DEFERRED;
        self.buf[start + 1..start + 3].copy_from_slice(&1u16.to_le_bytes());
        self.buf[start + 3] = slot as u8;
        // Cannot fail: `slot` is below MAX_DEFERRED.
        let _ = self.deferred.push((level, f, values));
        self.len = start + 4;
        true
    }

    /// Print the held lines at `level` or more severe, and stop holding.
    fn release(&mut self, level: log::LevelFilter) {
        // Not holding from here on: a fatal path entered while these lines are written
        // (`emergency`) does not release them again (nor call a deferred line's
        // function a second time).
        self.holding = false;
        let mut console = CONSOLE.lock();
        // Through `dyn`: the console's code is then not inlined here, where it runs for a
        // few lines at most.
        let w: &mut dyn Write = &mut ConsoleWriter::new(&mut console);
        let mut at = 0usize;
        loop {
            at = (at + 3).next_multiple_of(8) - 3;
            if at + 3 > self.len {
                break;
            }
            let lvl = (self.buf[at] & !DEFERRED) as usize;
            let deferred = self.buf[at] & DEFERRED != 0;
            let n = u16::from_le_bytes([self.buf[at + 1], self.buf[at + 2]]) as usize;
            let text = &self.buf[at + 3..at + 3 + n];
            at += 3 + n;
            if lvl > level as usize {
                continue;
            }
            if deferred {
                // Each index is held once, so each deferred line is written once.
                if let Some(&(level, f, values)) = self.deferred.as_slice().get(text[0] as usize) {
                    let _ = w.write_str(tag(level));
                    let _ = f(w, values);
                    let _ = w.write_str("\n");
                }
            } else {
                // SAFETY: `push` filled `text` from `&str`s alone (`HeldWriter`), so it
                // is UTF-8.
                let _ = w.write_str(unsafe { core::str::from_utf8_unchecked(text) });
            }
        }
        self.len = 0;
        self.deferred.clear();
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
        let tag = tag(record.level());
        {
            let mut held = HELD.lock();
            if held.holding {
                if held.push(record.level(), format_args!("{tag}{}\n", record.args())) {
                    return;
                }
                // No room left: print what is held at the default level, then this.
                held.release(log::LevelFilter::Info);
                log::set_max_level(log::LevelFilter::Info);
                if record.level() > log::Level::Info {
                    return;
                }
            }
        }
        // The tag and the newline written directly, the message through one
        // `write_fmt`: the same text as `writeln!(w, "{tag}{}", args)` without its
        // outer layer of formatting.
        let mut console = CONSOLE.lock();
        let mut w = ConsoleWriter::new(&mut console);
        let _ = w.put_bytes(tag.as_bytes());
        let _ = w.write_fmt(*record.args());
        let _ = w.put_bytes(b"\n");
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

/// Route `log` to the console, holding every line until `release_held` sets the
/// level: the level read from the command line then applies from the first line.
/// (A fatal path prints what is held through `emergency`.)
pub fn init_logger() {
    // A second call keeps the first logger.
    let _ = log::set_logger(&LOGGER);
    HELD.lock().holding = true;
    log::set_max_level(log::LevelFilter::Trace);
}

/// Log at `level` the line `f` writes from `values`, formatting it only if it is
/// printed: before the level is known it is held as the function and its values
/// (and dropped unformatted when the level turns out to hide it). For the lines
/// setup logs before it has read the command line.
pub fn log_deferred(level: log::Level, values: [u64; 4], f: DeferredFn) {
    {
        let mut held = HELD.lock();
        if held.holding {
            if held.push_deferred(level, f, values) {
                return;
            }
            // No room left: print what is held at the default level, then this.
            held.release(log::LevelFilter::Info);
            log::set_max_level(log::LevelFilter::Info);
        }
    }
    if level <= log::max_level() {
        struct Line(DeferredFn, [u64; 4]);
        impl fmt::Display for Line {
            fn fmt(&self, w: &mut fmt::Formatter) -> fmt::Result {
                (self.0)(w, self.1)
            }
        }
        log::log!(level, "{}", Line(f, values));
    }
}

/// Set the log level, and print the held lines that it lets through.
pub fn release_held(level: log::LevelFilter) {
    let mut held = HELD.lock();
    if held.holding {
        held.release(level);
    }
    log::set_max_level(level);
}
