// SPDX-License-Identifier: GPL-2.0-only
//! Writing text to a PL011's transmit FIFO without overrunning it, `\n` as `\r\n`:
//! the console's inner loop, pure so that it is host-tested against a fake FIFO (the
//! firmware's `drivers::console` implements `Tx` for the real UART).

/// Bytes the PL011 transmit FIFO holds when FIFOs are on (16; 32 from r1p5).
pub const TX_FIFO_DEPTH: usize = 16;

/// A transmitter as `put` drives it: the PL011's flags and data register (a fake FIFO
/// in the tests).
pub trait Tx {
    /// FR.TXFE: the transmit FIFO (or holding register) is empty.
    fn tx_empty(&self) -> bool;
    /// FR.TXFF: the transmit FIFO (or holding register) is full.
    fn tx_full(&self) -> bool;
    /// Write one byte to DR.
    fn put_byte(&mut self, b: u8);
}

/// Room in the transmit FIFO, waiting until there is some: the whole FIFO when it is
/// empty (TXFE, FIFOs on), else one byte when it is not full (TXFF clear).
fn tx_room(uart: &impl Tx, fifo: bool) -> usize {
    loop {
        if fifo && uart.tx_empty() {
            return TX_FIFO_DEPTH;
        }
        if !uart.tx_full() {
            return 1;
        }
    }
}

/// Write `s` to `uart`, `\n` as `\r\n`, never more bytes than the FIFO was seen to
/// have room for. `room` is what is left of the room last seen (kept across calls, so
/// the flags are read once per FIFO's worth of bytes rather than once per byte).
pub fn put(uart: &mut impl Tx, fifo: bool, room: &mut usize, s: &[u8]) {
    let mut left = *room;
    let mut i = 0;
    let base = s.as_ptr() as usize;
    while i < s.len() {
        if left == 0 {
            left = tx_room(uart, fifo);
        }
        // Eight bytes a step from aligned words with no '\n' in them: one load and one
        // test instead of a test per byte (a word holds a '\n' exactly when the word
        // XOR 0x0a0a.. has a zero byte; see `nul_at` in the device-tree reader). rxen
        // is built for the Cortex-R82, which LLVM compiles with strict alignment, so
        // only aligned words. Fewer than 8 bytes of room: look again (an empty FIFO
        // has room for 16) rather than fall back to bytes.
        if (base + i).is_multiple_of(8) {
            while let Some(word) = s.get(i..i + 8) {
                if left < 8 {
                    left = tx_room(uart, fifo);
                    if left < 8 {
                        break;
                    }
                }
                // SAFETY: `word` is 8 bytes inside `s` that start 8-byte aligned in
                // memory (`i` was, and moves 8 bytes a step); any 8 bytes are a valid
                // u64, and `s` is borrowed immutably, so nothing writes them.
                let w = u64::from_le(unsafe { word.as_ptr().cast::<u64>().read() });
                let x = w ^ 0x0a0a_0a0a_0a0a_0a0a;
                if x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0 {
                    break;
                }
                uart.put_byte(w as u8);
                uart.put_byte((w >> 8) as u8);
                uart.put_byte((w >> 16) as u8);
                uart.put_byte((w >> 24) as u8);
                uart.put_byte((w >> 32) as u8);
                uart.put_byte((w >> 40) as u8);
                uart.put_byte((w >> 48) as u8);
                uart.put_byte((w >> 56) as u8);
                i += 8;
                left -= 8;
            }
            if i == s.len() {
                break;
            }
            if left == 0 {
                left = tx_room(uart, fifo);
            }
        }
        // A run of single bytes, none '\n': up to the next 8-byte boundary (or 8 bytes,
        // when the word above held a '\n' or the room was short), the end and the room.
        // Its loop is a load, a compare, a store and the count.
        let to_boundary = 8 - (base + i) % 8;
        let end = s.len().min(i + to_boundary).min(i + left);
        let start = i;
        while i < end {
            let b = s[i];
            if b == b'\n' {
                break;
            }
            uart.put_byte(b);
            i += 1;
        }
        left -= i - start;
        // A '\n' stopped it: "\r\n", each byte when there is room for it.
        if i < end {
            uart.put_byte(b'\r');
            left -= 1;
            if left == 0 {
                left = tx_room(uart, fifo);
            }
            uart.put_byte(b'\n');
            left -= 1;
            i += 1;
        }
    }
    *room = left;
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::cell::RefCell;
    use std::vec::Vec;

    /// A PL011 transmit FIFO of `depth` bytes (1: FIFOs off, the holding register)
    /// that sends one byte every `drain_every` flag reads: what `put` must never do is
    /// write to it while it is full.
    struct FakeFifo {
        depth: usize,
        queued: usize,
        drain_every: usize,
        reads: usize,
        sent: Vec<u8>,
    }

    impl FakeFifo {
        fn new(depth: usize, drain_every: usize) -> Self {
            Self {
                depth,
                queued: 0,
                drain_every,
                reads: 0,
                sent: Vec::new(),
            }
        }
    }

    impl FakeFifo {
        /// A read of FR: time passes, and a byte may leave. Returns the bytes queued.
        fn read_flags(&mut self) -> usize {
            self.reads += 1;
            if self.reads.is_multiple_of(self.drain_every) && self.queued > 0 {
                self.queued -= 1;
            }
            self.queued
        }
    }

    impl Tx for RefCell<FakeFifo> {
        fn tx_empty(&self) -> bool {
            self.borrow_mut().read_flags() == 0
        }

        fn tx_full(&self) -> bool {
            let mut f = self.borrow_mut();
            f.read_flags() == f.depth
        }

        fn put_byte(&mut self, b: u8) {
            let f = self.get_mut();
            assert!(f.queued < f.depth, "wrote to a full FIFO");
            f.queued += 1;
            f.sent.push(b);
        }
    }

    fn expected(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in s {
            if b == b'\n' {
                out.push(b'\r');
            }
            out.push(b);
        }
        out
    }

    /// Every alignment and length of text with and without newlines, through a FIFO
    /// of 16 (FIFOs on) and of 1 (off), draining fast and slowly: the bytes sent are
    /// the text with each '\n' as "\r\n", and the FIFO never overflows (the fake
    /// panics if it does).
    #[test]
    fn put_sends_every_byte_with_crlf_and_never_overflows_the_fifo() {
        #[repr(align(8))]
        struct Buf([u8; 96]);
        let mut buf = Buf([0; 96]);
        for (i, b) in buf.0.iter_mut().enumerate() {
            // '\n' alone, and two in a row (at 14, 15).
            *b = match i % 23 {
                7 | 14 | 15 | 22 => b'\n',
                k => b'a' + k as u8,
            };
        }
        for (fifo, depth) in [(true, TX_FIFO_DEPTH), (false, 1)] {
            for drain_every in [1, 3] {
                for start in 0..9 {
                    for len in [0, 1, 7, 8, 9, 15, 16, 17, 40, 80] {
                        let s = &buf.0[start..start + len];
                        let mut uart = RefCell::new(FakeFifo::new(depth, drain_every));
                        let mut room = 0;
                        // In two calls, so `room` carries over.
                        let (a, b) = s.split_at(len / 3);
                        put(&mut uart, fifo, &mut room, a);
                        put(&mut uart, fifo, &mut room, b);
                        assert_eq!(
                            uart.into_inner().sent,
                            expected(s),
                            "start {start} len {len}"
                        );
                    }
                }
            }
        }
    }
}
