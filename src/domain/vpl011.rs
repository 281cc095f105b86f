// SPDX-License-Identifier: GPL-2.0-only
//! vpl011: the emulated UART Xen gives dom0less guests (an SBSA generic UART, a subset
//! of the PL011), at GUEST_PL011_BASE (0x2200_0000, 4 KiB; xen/include/public/
//! arch-arm.h) unless the configuration says otherwise. A plain state machine: the
//! trap path decodes a stage-2 data abort into an `Access` and calls `mmio`.
//!
//! As in Xen: DR, RSR, FR, IMSC, RIS, MIS and ICR are emulated; any other offset, or a
//! width other than 32 bits (8 and 16 are allowed for DR), is an error that crashes
//! the domain. Transmission is immediate (TXFE always set, never TXFF); the console
//! belongs to rxen, so there is no input (RXFE set). Output is line-buffered and
//! printed with Xen's "(dN) " prefix.

/// Xen's default guest address and size of the vpl011.
pub const GUEST_PL011_BASE: u64 = 0x2200_0000;
pub const GUEST_PL011_SIZE: u64 = 0x1000;

const DR: u64 = 0x00;
const RSR: u64 = 0x04;
const FR: u64 = 0x18;
const IMSC: u64 = 0x38;
const RIS: u64 = 0x3c;
const MIS: u64 = 0x40;
const ICR: u64 = 0x44;

const FR_TXFE: u64 = 1 << 7;
const FR_RXFE: u64 = 1 << 4;
/// Transmit interrupt: the (always empty) transmit FIFO is below its level.
const INT_TX: u64 = 1 << 5;
const INT_MASK: u64 = 0x7ff;

/// The longest line kept before it is printed anyway.
pub const LINE_MAX: usize = 128;

/// One guest access to the device's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub offset: u64,
    /// In bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// The value written, for a store.
    pub write: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MmioError {
    #[error(
        "vpl011: {size}-byte access to offset {offset:#x} (registers are 32-bit; DR also 8/16)"
    )]
    BadWidth { offset: u64, size: u8 },
    #[error("vpl011: unhandled {dir} at offset {offset:#x}")]
    Unhandled { offset: u64, dir: &'static str },
}

/// Line buffering with Xen's "(dN) " prefix.
#[derive(Clone, Debug)]
pub struct LineBuffer {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl Default for LineBuffer {
    fn default() -> Self {
        Self {
            buf: [0; LINE_MAX],
            len: 0,
        }
    }
}

impl LineBuffer {
    /// Add one byte; a completed line (at '\n' or when full) is handed to `emit`
    /// without its newline. '\r' is dropped, as Xen's guest console does.
    pub fn push(&mut self, b: u8, emit: &mut dyn FnMut(&[u8])) {
        match b {
            b'\n' => self.flush(emit),
            b'\r' => {}
            _ => {
                self.buf[self.len] = b;
                self.len += 1;
                if self.len == LINE_MAX {
                    self.flush(emit);
                }
            }
        }
    }

    /// Print what is buffered, if anything (when the domain ends).
    pub fn flush(&mut self, emit: &mut dyn FnMut(&[u8])) {
        if self.len > 0 {
            emit(&self.buf[..self.len]);
            self.len = 0;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The device state of one domain's vpl011.
#[derive(Clone, Debug, Default)]
pub struct Vpl011 {
    imsc: u64,
    /// Interrupts cleared by ICR since the last transmission.
    cleared: u64,
    pub line: LineBuffer,
}

impl Vpl011 {
    fn ris(&self) -> u64 {
        INT_TX & !self.cleared
    }

    /// Emulate one access. Returns the value of a load; transmitted bytes go to
    /// `emit` one line at a time. On error nothing has changed.
    pub fn mmio(&mut self, a: Access, emit: &mut dyn FnMut(&[u8])) -> Result<u64, MmioError> {
        let width_ok = match a.offset {
            DR => matches!(a.size, 1 | 2 | 4),
            _ => a.size == 4,
        };
        let known = matches!(a.offset, DR | RSR | FR | IMSC | RIS | MIS | ICR);
        if !known {
            return Err(MmioError::Unhandled {
                offset: a.offset,
                dir: if a.write.is_some() { "write" } else { "read" },
            });
        }
        if !width_ok {
            return Err(MmioError::BadWidth {
                offset: a.offset,
                size: a.size,
            });
        }
        match (a.offset, a.write) {
            (DR, Some(v)) => {
                self.line.push(v as u8, emit);
                self.cleared &= !INT_TX;
                Ok(0)
            }
            (DR, None) => Ok(0), // no input: reads as empty
            (RSR, _) => Ok(0),
            (FR, None) => Ok(FR_TXFE | FR_RXFE),
            (IMSC, None) => Ok(self.imsc),
            (IMSC, Some(v)) => {
                self.imsc = v & INT_MASK;
                Ok(0)
            }
            (RIS, None) => Ok(self.ris()),
            (MIS, None) => Ok(self.ris() & self.imsc),
            (ICR, Some(v)) => {
                self.cleared |= v & INT_MASK;
                Ok(0)
            }
            // Writes to read-only registers and reads of write-only ones are
            // ignored / read as zero, as on the PL011.
            (FR | RIS | MIS, Some(_)) | (ICR, None) => Ok(0),
            _ => Err(MmioError::Unhandled {
                offset: a.offset,
                dir: "access",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn w(offset: u64, size: u8, v: u64) -> Access {
        Access {
            offset,
            size,
            write: Some(v),
        }
    }
    fn r(offset: u64, size: u8) -> Access {
        Access {
            offset,
            size,
            write: None,
        }
    }

    #[test]
    fn output_is_line_buffered_without_newlines_and_carriage_returns() {
        let mut u = Vpl011::default();
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for &b in b"hi\r\nthere\n" {
            u.mmio(w(DR, 1, b as u64), &mut |l| lines.push(l.to_vec()))
                .unwrap();
        }
        assert_eq!(lines, [b"hi".to_vec(), b"there".to_vec()]);
        assert!(u.line.is_empty());
    }

    #[test]
    fn a_long_line_is_printed_when_the_buffer_fills() {
        let mut u = Vpl011::default();
        let mut lines: Vec<usize> = Vec::new();
        for _ in 0..LINE_MAX + 5 {
            u.mmio(w(DR, 4, b'a' as u64), &mut |l| lines.push(l.len()))
                .unwrap();
        }
        assert_eq!(lines, [LINE_MAX]);
        u.line.flush(&mut |l| lines.push(l.len()));
        assert_eq!(lines, [LINE_MAX, 5]);
    }

    #[test]
    fn flags_say_transmit_empty_receive_empty() {
        let mut u = Vpl011::default();
        assert_eq!(u.mmio(r(FR, 4), &mut |_| {}), Ok(FR_TXFE | FR_RXFE));
        assert_eq!(u.mmio(r(DR, 4), &mut |_| {}), Ok(0));
    }

    #[test]
    fn interrupt_mask_raw_and_clear() {
        let mut u = Vpl011::default();
        assert_eq!(u.mmio(r(RIS, 4), &mut |_| {}), Ok(INT_TX));
        assert_eq!(u.mmio(r(MIS, 4), &mut |_| {}), Ok(0));
        u.mmio(w(IMSC, 4, INT_TX), &mut |_| {}).unwrap();
        assert_eq!(u.mmio(r(MIS, 4), &mut |_| {}), Ok(INT_TX));
        u.mmio(w(ICR, 4, INT_TX), &mut |_| {}).unwrap();
        assert_eq!(u.mmio(r(RIS, 4), &mut |_| {}), Ok(0));
    }

    #[test]
    fn bad_widths_and_unknown_offsets_are_errors_that_change_nothing() {
        let mut u = Vpl011::default();
        let mut out = 0;
        assert_eq!(
            u.mmio(w(FR, 1, 0), &mut |_| out += 1),
            Err(MmioError::BadWidth {
                offset: FR,
                size: 1
            })
        );
        assert_eq!(
            u.mmio(w(DR, 8, b'x' as u64), &mut |_| out += 1),
            Err(MmioError::BadWidth {
                offset: DR,
                size: 8
            })
        );
        assert!(matches!(
            u.mmio(w(0x30, 4, 0x301), &mut |_| {}),
            Err(MmioError::Unhandled { offset: 0x30, .. })
        ));
        assert!(u.line.is_empty(), "the refused DR write buffered nothing");
    }
}
