// SPDX-License-Identifier: GPL-2.0-only
//! Writing text to a PL011's transmit FIFO without overrunning it, `\n` as `\r\n`:
//! the console's inner loop, pure so that it is host-tested against a fake FIFO (the
//! firmware's `drivers::console` implements `Tx` for the real UART).

use core::fmt;

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

/// Wait until the transmit FIFO is empty (FR.TXFE): it then has room for
/// `TX_FIFO_DEPTH` bytes.
fn wait_empty(uart: &impl Tx) {
    while !uart.tx_empty() {}
}

/// Nonzero when `w` may hold a '\n'; zero only when it holds none. Of `x` = `w` XOR
/// 0x0a0a.. (a zero byte where `w` has a '\n'), `x - 0x0101..` has bit 7 set in the
/// lowest zero byte (and maybe above it); without a zero byte, only in bytes of `x`
/// above 0x80 (bytes of `w` above 0x80 XOR 0x0a: none in ASCII text). A false alarm
/// only sends the word through the slower byte loop.
fn newlines(w: u64) -> u64 {
    let x = w ^ 0x0a0a_0a0a_0a0a_0a0a;
    x.wrapping_sub(0x0101_0101_0101_0101) & 0x8080_8080_8080_8080
}

/// Write the 8 bytes of `w`, lowest first (the order they have in memory).
#[inline(always)]
fn put_word(uart: &mut impl Tx, w: u64) {
    uart.put_byte(w as u8);
    uart.put_byte((w >> 8) as u8);
    uart.put_byte((w >> 16) as u8);
    uart.put_byte((w >> 24) as u8);
    uart.put_byte((w >> 32) as u8);
    uart.put_byte((w >> 40) as u8);
    uart.put_byte((w >> 48) as u8);
    uart.put_byte((w >> 56) as u8);
}

/// The little-endian u64 of the 8 bytes of `b`, which start 8-byte aligned.
///
/// # Safety
/// `b` must start at an 8-byte aligned address.
#[inline(always)]
unsafe fn aligned_word(b: &[u8]) -> u64 {
    let b: &[u8; 8] = b.try_into().unwrap();
    // SAFETY: `b` is 8 readable bytes, aligned as the caller promises; any 8 bytes are
    // a valid u64.
    u64::from_le(unsafe { (b as *const [u8; 8]).cast::<u64>().read() })
}

/// Write `s` to `uart`, `\n` as `\r\n`, never more bytes than the FIFO was seen to
/// have room for. `room` is what is left of the room last seen (kept across calls, so
/// the flags are read about once per FIFO's worth of bytes rather than once per byte).
///
/// With FIFOs on, room is only ever taken as a whole empty FIFO (TXFE): 16 bytes.
/// The text goes out in runs of at most 8 bytes read one at a time (at most 16 bytes
/// sent, with a '\r' before each '\n': one FIFO's worth), and aligned words without
/// a '\n' in them, 16 or 8 bytes a step, with one test for '\n' per word. rxen is
/// built for the Cortex-R82, which LLVM compiles with strict alignment: only aligned
/// words are loaded whole.
///
/// Always `Ok(())`: a `fmt::Write::write_str` can then end with a jump to it.
#[inline(always)]
pub fn put(uart: &mut impl Tx, fifo: bool, room: &mut usize, s: &[u8]) -> fmt::Result {
    if !fifo {
        put_unbuffered(uart, s)
    } else if s.len() <= 8 {
        // Most pieces of a log line are this short.
        put_short(uart, room, s)
    } else {
        put_long(uart, room, s)
    }
}

/// `put` of 8 bytes or fewer (FIFOs on): one run.
#[inline(never)]
fn put_short(uart: &mut impl Tx, room: &mut usize, s: &[u8]) -> fmt::Result {
    *room = put_run(uart, *room, s);
    Ok(())
}

/// `put` of more than 8 bytes (FIFOs on): runs up to the first 8-byte boundary and
/// for each word with a '\n' in it and the tail, aligned words without a '\n'
/// between them.
#[inline(never)]
fn put_long(uart: &mut impl Tx, room: &mut usize, s: &[u8]) -> fmt::Result {
    let mut rest = s;
    loop {
        let n = if !(rest.as_ptr() as usize).is_multiple_of(8) {
            // Up to the next boundary, and at most what is left.
            (8 - rest.as_ptr() as usize % 8).min(rest.len())
        } else {
            let mut left = *room;
            // 16 bytes a step while neither word holds a '\n'; each step waits for an
            // empty FIFO and fills it.
            while let Some((pair, after)) = rest.split_first_chunk::<16>() {
                let (a, b) = pair.split_at(8);
                // SAFETY: `rest` starts 8-byte aligned (checked above, and it moves 16
                // bytes a step), so do `a` and `b`.
                let (a, b) = unsafe { (aligned_word(a), aligned_word(b)) };
                if newlines(a) | newlines(b) != 0 {
                    break;
                }
                wait_empty(uart);
                put_word(uart, a);
                put_word(uart, b);
                left = 0;
                rest = after;
            }
            // One more word when it has no '\n'.
            if let Some((word, after)) = rest.split_first_chunk::<8>() {
                // SAFETY: as above, `rest` starts 8-byte aligned.
                let a = unsafe { aligned_word(word) };
                if newlines(a) == 0 {
                    if left < 8 {
                        wait_empty(uart);
                        left = TX_FIFO_DEPTH;
                    }
                    put_word(uart, a);
                    left -= 8;
                    rest = after;
                }
            }
            *room = left;
            // What is left: fewer than 8 bytes, or a word with a '\n'.
            rest.len().min(8)
        };
        let (run, after) = rest.split_at(n);
        let _ = put_short(uart, room, run);
        rest = after;
        if rest.is_empty() {
            return Ok(());
        }
    }
}

/// Write a run of at most 8 bytes (at most 16 sent: one FIFO's worth), `left` the
/// room known; returns the room left. Unrolled: a load, a test for '\n' and a store
/// per byte.
#[inline(always)]
fn put_run(uart: &mut impl Tx, mut left: usize, run: &[u8]) -> usize {
    let n = run.len();
    debug_assert!(n <= 8);
    if left < 2 * n {
        wait_empty(uart);
        left = TX_FIFO_DEPTH;
    }
    left -= n;
    let mut one = |b: u8| {
        if b == b'\n' {
            uart.put_byte(b'\r');
            left -= 1;
        }
        uart.put_byte(b);
    };
    let mut at = run;
    if let Some((four, after)) = at.split_first_chunk::<4>() {
        one(four[0]);
        one(four[1]);
        one(four[2]);
        one(four[3]);
        at = after;
        if let Some((four, after)) = at.split_first_chunk::<4>() {
            one(four[0]);
            one(four[1]);
            one(four[2]);
            one(four[3]);
            at = after;
        }
    }
    if let Some((two, after)) = at.split_first_chunk::<2>() {
        one(two[0]);
        one(two[1]);
        at = after;
    }
    if let Some(&b) = at.first() {
        one(b);
    }
    left
}

/// FIFOs off: one byte at a time, each when the holding register is free (TXFF clear).
#[cold]
fn put_unbuffered(uart: &mut impl Tx, s: &[u8]) -> fmt::Result {
    for &b in s {
        if b == b'\n' {
            while uart.tx_full() {}
            uart.put_byte(b'\r');
        }
        while uart.tx_full() {}
        uart.put_byte(b);
    }
    Ok(())
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

    /// Every alignment and length of text with and without newlines (alone, two in a
    /// row, at every position of a word) and with bytes above 0x7f, through a FIFO of
    /// 16 (FIFOs on) and of 1 (off), draining fast and slowly, in one call or split
    /// in two at every point: the bytes sent are the text with each '\n' as "\r\n",
    /// and the FIFO never overflows (the fake panics if it does).
    #[test]
    fn put_sends_every_byte_with_crlf_and_never_overflows_the_fifo() {
        #[repr(align(8))]
        struct Buf([u8; 128]);
        let mut buf = Buf([0; 128]);
        for (i, b) in buf.0.iter_mut().enumerate() {
            *b = match i % 29 {
                7 | 14 | 15 | 25 => b'\n',
                20 => 0x80,
                21 => 0xff,
                22 => 0x8a,
                k => b'a' + k as u8,
            };
        }
        for (fifo, depth) in [(true, TX_FIFO_DEPTH), (false, 1)] {
            for drain_every in [1, 3] {
                for start in 0..17 {
                    for len in 0..=64 {
                        let s = &buf.0[start..start + len];
                        for cut in [0, 1, len / 3, len / 2, len.saturating_sub(1), len] {
                            let mut uart = RefCell::new(FakeFifo::new(depth, drain_every));
                            let mut room = 0;
                            // In two calls, so `room` carries over.
                            let (a, b) = s.split_at(cut.min(len));
                            put(&mut uart, fifo, &mut room, a).unwrap();
                            put(&mut uart, fifo, &mut room, b).unwrap();
                            assert_eq!(
                                uart.into_inner().sent,
                                expected(s),
                                "fifo {fifo} start {start} len {len} cut {cut}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// `newlines` is zero for every word without a '\n' tried (every byte value in
    /// every position, among other bytes low and high), and nonzero for every word
    /// with one.
    #[test]
    fn newlines_is_zero_exactly_when_a_word_has_no_newline() {
        for fill in [0u8, b'a', 0x09, 0x0b, 0x7f, 0x80, 0x8a, 0xff] {
            for pos in 0..8 {
                for v in 0..=255u8 {
                    let mut bytes = [fill; 8];
                    bytes[pos] = v;
                    let w = u64::from_le_bytes(bytes);
                    let has = bytes.contains(&b'\n');
                    if has {
                        assert_ne!(newlines(w), 0, "{bytes:02x?}");
                    } else if bytes.iter().all(|&b| b < 0x80) {
                        assert_eq!(newlines(w), 0, "{bytes:02x?}");
                    }
                }
            }
        }
    }
}
