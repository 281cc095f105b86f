// SPDX-License-Identifier: GPL-2.0-only
//! Log text without `core::fmt`'s machinery where the boot log is hot: each of the
//! ~50 numbers the boot log prints costs ~350 instructions through `{:#x}`/`{:#012x}`
//! (`pad_integral`, a `write_char` per fill character), and every `write_str` on a
//! `Formatter` is a trip through `core::fmt` to the console. A `Line` is built in
//! place (digits written straight into it, 8 bytes a store) and written with one
//! `write_str`; `Dec` and `Hex` put a number into a log line's `{}` the same way. The
//! output is exactly `core::fmt`'s. Its stores go only to `Line`s (the stack, normal
//! memory), never to a device.
use core::fmt::{self, Write};
use core::mem::MaybeUninit;

/// `{:#0width$x}` of `v`: "0x" and at least `width - 2` hex digits (as `{:#x}` when
/// `width` is 0), for `width` up to 18 (16 digits; wider is printed as 18).
pub fn hex(w: &mut impl Write, v: u64, width: usize) -> fmt::Result {
    Line::<18>::new().hex(v, width).write_to(w)
}

/// `{}` of `v`, left-aligned in `width` columns (`{:<width$}`), for `width` up to 40.
pub fn dec(w: &mut impl Write, v: u64, width: usize) -> fmt::Result {
    Line::<40>::new().dec(v, width).write_to(w)
}

/// `{}` of `v` for a log line, without core::fmt's integer code (`pad_integral` and
/// its prefix and padding steps): `Dec(v)` prints what `{}` of `v` prints. For a
/// plain `{}` only: a width or flag in the placeholder is not applied.
#[derive(Clone, Copy, Debug)]
pub struct Dec(pub u64);

/// `{:#x}` of `v` for a log line, as `Dec` is `{}`: `Hex(v)` in a plain `{}` prints
/// what `{:#x}` of `v` prints ("0x" and the digits, no padding).
#[derive(Clone, Copy, Debug)]
pub struct Hex(pub u64);

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        plain(f, |line| line.dec(self.0, 0))
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        plain(f, |line| line.hex(self.0, 0))
    }
}

/// Write what `put` makes in a `Line` to `f`, which must be a plain `{}` (what
/// `Dec` and `Hex` are for).
#[inline(always)]
fn plain(f: &mut fmt::Formatter<'_>, put: impl FnOnce(&mut Text) -> &mut Text) -> fmt::Result {
    debug_assert!(
        f.width().is_none() && !f.sign_plus(),
        "Dec and Hex are for a plain {{}}"
    );
    let mut line = Line::<24>::new();
    put(&mut line);
    f.write_str(line.as_str())
}

/// A line built in place, then written with one `write_str`: `Line<N>` holds up to `N`
/// bytes, and its methods are those of `Text` (the same layout with the length left
/// out, so that they are compiled once for every `N`). Holds UTF-8 only: it is
/// filled from `&str`s and ASCII digits. A piece that does not fit is cut at a
/// character boundary and the line is marked full: `write_to` then ends the text
/// with "...". The bytes start 8-byte aligned: the console writes aligned words eight
/// bytes at a time.
pub type Line<const N: usize> = LineOf<[MaybeUninit<u8>; N]>;

/// The methods of every `Line`, whatever its length.
pub type Text = LineOf<[MaybeUninit<u8>]>;

/// The layout of a `Line` and of a `Text`.
#[repr(C, align(8))]
pub struct LineOf<B: ?Sized> {
    len: usize,
    full: bool,
    /// Puts `buf` at offset 16, 8-byte aligned.
    _pad: [u8; 7],
    /// Bytes `..len` are written; the rest is never read (not zeroed first: a dump
    /// builds a line per row, and zeroing each cost more than filling it).
    buf: B,
}

impl<const N: usize> Default for Line<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Line<N> {
    pub const fn new() -> Self {
        Self {
            len: 0,
            full: false,
            _pad: [0; 7],
            buf: [MaybeUninit::uninit(); N],
        }
    }
}

impl<const N: usize> core::ops::Deref for Line<N> {
    type Target = Text;
    fn deref(&self) -> &Text {
        self
    }
}

impl<const N: usize> core::ops::DerefMut for Line<N> {
    fn deref_mut(&mut self) -> &mut Text {
        self
    }
}

impl Text {
    /// Append `s`. Inlined: the pieces are mostly literals, whose copy then has a
    /// known length and needs no call to memcpy. A piece of 8 to 16 bytes (a literal
    /// or not) is copied as two 8-byte words that overlap when it is shorter than 16:
    /// its first 8 bytes and its last 8.
    #[inline(always)]
    pub fn push(&mut self, s: &str) -> &mut Self {
        let (at, n) = (self.len, s.len());
        // The room left: `len` never exceeds the buffer, so this cannot wrap (and one
        // test is all a piece costs).
        if n > self.buf.len() - at {
            self.push_cut(s);
            return self;
        }
        let (src, dst) = (s.as_ptr(), self.buf.as_mut_ptr().cast::<u8>());
        // SAFETY: `dst + at..dst + at + n` are free bytes of the line (checked above)
        // and `src..src + n` is `s`, readable normal memory (a `&str`), which cannot
        // overlap them (the line is borrowed mutably here). With 8 <= n, both words of
        // each lie inside them; both are loaded before either store.
        unsafe {
            let dst = dst.add(at);
            if (8..=16).contains(&n) {
                let (first, last) = (load8(src), load8(src.add(n - 8)));
                store8(dst, first);
                store8(dst.add(n - 8), last);
            } else {
                core::ptr::copy_nonoverlapping(src, dst, n);
            }
        }
        self.len = at + n;
        self
    }

    /// The longest prefix of `s` that fits and ends on a character boundary.
    #[cold]
    fn push_cut(&mut self, s: &str) {
        let room = self.buf.len() - self.len;
        let take = (0..=room.min(s.len()))
            .rev()
            .find(|&n| s.is_char_boundary(n))
            .unwrap_or(0);
        self.buf[self.len..self.len + take].write_copy_of_slice(&s.as_bytes()[..take]);
        self.len += take;
        self.full = true;
    }

    /// The next `n` bytes of the line, to be filled with ASCII; `None` (and the line
    /// marked full) when they do not fit.
    fn reserve(&mut self, n: usize) -> Option<&mut [MaybeUninit<u8>]> {
        let at = self.len;
        match self.buf.get_mut(at..at + n) {
            Some(dst) => {
                self.len += n;
                Some(dst)
            }
            None => {
                self.full = true;
                None
            }
        }
    }

    /// Append `{:#0width$x}` of `v` (see `hex`). Inlined: `width` is mostly a
    /// constant, and what it asks for is then known where the line is built.
    #[inline(always)]
    pub fn hex(&mut self, v: u64, width: usize) -> &mut Self {
        self.hex_digits(v, width.saturating_sub(2).min(16))
    }

    /// Append "0x" and the hex digits of `v`, at least `min` of them (at most 16).
    /// The digits are made 8 at a time (`hex8`) and stored as whole words: "0x", then
    /// the digits left-aligned in the next word(s). A store may run past the text into
    /// bytes never read (up to 8 past "0x" with 8 digits or fewer): with fewer than 18
    /// bytes of room left, `hex_tail` instead.
    fn hex_digits(&mut self, v: u64, min: usize) -> &mut Self {
        let used = (64 - (v | 1).leading_zeros() as usize).div_ceil(4);
        let digits = used.max(min);
        let at = self.len;
        // Room for the longest: "0x" and 16 digits (one test, whatever `digits`).
        if at + 18 > self.buf.len() {
            return self.hex_tail(v, digits);
        }
        let end = at + 2 + digits;
        let p = self.buf.as_mut_ptr().cast::<u8>();
        let low = hex8(v as u32);
        // SAFETY: every store below lies in `buf[at..at + 2 + max(digits, 8)]`, inside
        // `buf[at..at + 18]`, checked above to be inside the line; each fills bytes at
        // `len` or beyond (never one of the text before), and those up to `end` end up
        // as ASCII. The bytes past `end` are left beyond `len`, never read.
        unsafe {
            store8(p.add(at), u64::from_le_bytes(*b"0x\0\0\0\0\0\0"));
            if digits > 8 {
                // The top `digits - 8` digits of the high half, then the low half's 8
                // ending at `end` (over the zero bytes the first store left after them).
                store8(p.add(at + 2), hex8((v >> 32) as u32) >> (8 * (16 - digits)));
                store8(p.add(end - 8), low);
            } else {
                store8(p.add(at + 2), low >> (8 * (8 - digits)));
            }
        }
        self.len = end;
        self
    }

    /// `hex` near the end of the line: byte by byte (or the line marked full).
    #[cold]
    #[inline(never)]
    fn hex_tail(&mut self, v: u64, digits: usize) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        if let Some(dst) = self.reserve(2 + digits) {
            dst[0].write(b'0');
            dst[1].write(b'x');
            let mut x = v;
            for d in dst[2..].iter_mut().rev() {
                d.write(DIGITS[(x & 0xf) as usize]);
                x >>= 4;
            }
        }
        self
    }

    /// Append `{:<width$}` of `v` (see `dec`). Inlined: `width` is mostly a constant,
    /// and the choice between the two ways is then made where the line is built.
    #[inline(always)]
    pub fn dec(&mut self, v: u64, width: usize) -> &mut Self {
        if width <= 8 {
            self.dec_word(v, width)
        } else {
            self.dec_long(v, width)
        }
    }

    /// `dec` of a number below 2^26 (8 digits at most) in up to 8 columns: the digits
    /// gathered in one word that starts as 8 spaces, each new digit (the most
    /// significant so far) going into its lowest byte, then stored whole: digits, then
    /// spaces (the store may run past the text into bytes never read). Other numbers,
    /// and a line with fewer than 8 bytes of room left, go to `dec_long`.
    #[inline(always)]
    fn dec_word(&mut self, v: u64, width: usize) -> &mut Self {
        let at = self.len;
        if v >> 26 != 0 || at + 8 > self.buf.len() {
            return self.dec_long(v, width);
        }
        let (mut word, mut n, mut x) = (0x2020_2020_2020_2020u64, 0, v);
        loop {
            word = word << 8 | (u64::from(b'0') + x % 10);
            n += 1;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        // SAFETY: `buf[at..at + 8]` is inside the line (checked above) and at `len` or
        // beyond; its first `max(n, width)` bytes (at most 8) are the digits and spaces
        // taken into the text, the rest are left beyond `len`, never read.
        unsafe { store8(self.buf.as_mut_ptr().cast::<u8>().add(at), word) };
        self.len = at + n.max(width);
        self
    }

    /// `dec` byte by byte: more than 8 digits or columns, or near the end of the line
    /// (where the line may be marked full).
    #[cold]
    #[inline(never)]
    fn dec_long(&mut self, v: u64, width: usize) -> &mut Self {
        let mut n = 1;
        let mut x = v / 10;
        while x != 0 {
            n += 1;
            x /= 10;
        }
        if let Some(dst) = self.reserve(n.max(width)) {
            let (digits, pad) = dst.split_at_mut(n);
            let mut x = v;
            for d in digits.iter_mut().rev() {
                d.write(b'0' + (x % 10) as u8);
                x /= 10;
            }
            for p in pad {
                p.write(b' ');
            }
        }
        self
    }

    pub fn as_str(&self) -> &str {
        debug_assert!(self.len <= self.buf.len());
        // SAFETY: `len` never exceeds `buf.len()` (every method that moves it first
        // checks that the bytes fit), so `..len` is in bounds: no check, and no panic
        // path where a line is written. Those bytes were all written (`push`,
        // `push_cut`, `hex`, `dec_word` and `reserve`'s callers fill every byte they
        // add to `len`); MaybeUninit<u8> has u8's layout.
        as_str(unsafe {
            let written = self.buf.get_unchecked(..self.len);
            &*(written as *const [MaybeUninit<u8>] as *const [u8])
        })
    }

    /// Write the line to `w` in one `write_str` (and "..." after it when it was cut).
    #[inline]
    pub fn write_to(&self, w: &mut impl Write) -> fmt::Result {
        w.write_str(self.as_str())?;
        if self.full {
            w.write_str("...")?;
        }
        Ok(())
    }
}

/// The 8 hex digits of `x` in ASCII, most significant first in memory (the
/// little-endian word's lowest byte), all at once (SWAR): the nibbles spread one to a
/// byte, the bytes put in memory order, then '0' added to each byte and, where the
/// nibble is 10 or more, 'a' - '0' - 10 more.
#[inline(always)]
fn hex8(x: u32) -> u64 {
    let mut w = x as u64;
    w = (w | w << 16) & 0x0000_ffff_0000_ffff;
    w = (w | w << 8) & 0x00ff_00ff_00ff_00ff;
    w = (w | w << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    // Byte i holds nibble i (the least significant in byte 0): reversed for memory.
    w = w.swap_bytes();
    // A byte holding 10..15 carries into bit 4 when 6 is added; 0..9 do not.
    let letters = ((w + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    w + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'0' - 10)
}

/// The 8 bytes at `p`, lowest first, whatever `p`'s alignment.
///
/// # Safety
/// `p..p + 8` must be readable normal memory (never device memory).
#[inline(always)]
unsafe fn load8(p: *const u8) -> u64 {
    // As for `store8`: one unaligned LDR on the firmware.
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    // SAFETY: the caller gives 8 readable bytes of normal memory at `p`; the LDR
    // reads exactly those.
    unsafe {
        let w: u64;
        core::arch::asm!("ldr {w}, [{p}]", w = out(reg) w, p = in(reg) p, options(nostack, readonly, preserves_flags));
        w
    }
    #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
    // SAFETY: the caller gives 8 readable bytes at `p`; no alignment is needed.
    unsafe {
        u64::from_le(p.cast::<u64>().read_unaligned())
    }
}

/// Store the 8 bytes of `w` at `p`, lowest first, whatever `p`'s alignment.
///
/// # Safety
/// `p..p + 8` must be writable normal memory (a `Line` on the stack, never device
/// memory) that no reference held elsewhere points into.
#[inline(always)]
unsafe fn store8(p: *mut u8, w: u64) {
    // The firmware is compiled with strict alignment (LLVM's setting for the
    // Cortex-R82), so `write_unaligned` would be 8 byte stores; the core itself allows
    // an unaligned STR to normal memory (SCTLR_EL2.A is clear).
    #[cfg(all(target_arch = "aarch64", target_os = "none"))]
    // SAFETY: the caller gives 8 writable bytes of normal memory at `p`; the STR
    // writes exactly those (little-endian: `w`'s lowest byte at `p`).
    unsafe {
        core::arch::asm!("str {w}, [{p}]", w = in(reg) w, p = in(reg) p, options(nostack, preserves_flags))
    };
    #[cfg(not(all(target_arch = "aarch64", target_os = "none")))]
    // SAFETY: the caller gives 8 writable bytes at `p`; no alignment is needed.
    unsafe {
        p.cast::<u64>().write_unaligned(w.to_le())
    };
}

impl Write for Text {
    /// What `write!` into a line writes (rare: a domain's name in the MPU dump): the
    /// plain copy, not `push`'s words, to keep the image small.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.buf.get_mut(self.len..self.len + s.len()) {
            Some(dst) => {
                dst.write_copy_of_slice(s.as_bytes());
                self.len += s.len();
            }
            None => self.push_cut(s),
        }
        Ok(())
    }
}

/// The bytes of a `Line`: UTF-8 by construction, not validated again.
fn as_str(b: &[u8]) -> &str {
    debug_assert!(core::str::from_utf8(b).is_ok());
    // SAFETY: a `Line` holds only bytes copied from `&str`s, each cut at a character
    // boundary (`push`, `push_cut`), and the ASCII digits, 'x' and spaces of `hex` and
    // `dec` (`hex8` makes only '0'..'9' and 'a'..'f'): valid UTF-8 as a whole.
    unsafe { core::str::from_utf8_unchecked(b) }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn a_line_holds_its_pieces_and_marks_a_cut() {
        let mut l = Line::<16>::new();
        l.push("  #").dec(5, 3).push(" ").hex(0x1f, 6);
        assert_eq!(l.as_str(), "  #5   0x001f");
        let mut s = String::new();
        l.write_to(&mut s).unwrap();
        assert_eq!(s, "  #5   0x001f");
        // "é" is two bytes: the cut never splits it.
        let mut l = Line::<4>::new();
        l.push("abé").push("z");
        assert_eq!(l.as_str(), "abé");
        let mut l = Line::<3>::new();
        l.push("abé");
        assert_eq!(l.as_str(), "ab");
        let mut s = String::new();
        l.write_to(&mut s).unwrap();
        assert_eq!(s, "ab...");
    }

    #[test]
    fn hex_and_dec_print_what_core_fmt_prints() {
        for v in [
            0u64,
            1,
            9,
            0xa,
            0xf,
            0x10,
            0x1000,
            0x9c09_0000,
            0x7f_ffff_ffff,
            u64::MAX,
        ] {
            for width in [0usize, 3, 12, 18, 20] {
                let mut s = String::new();
                hex(&mut s, v, width).unwrap();
                let w18 = width.min(18);
                assert_eq!(s, std::format!("{v:#0w18$x}"), "hex {v:#x} width {width}");
                let mut s = String::new();
                dec(&mut s, v, width).unwrap();
                assert_eq!(s, std::format!("{v:<width$}"), "dec {v} width {width}");
            }
        }
    }

    /// Values whose hex spans every digit count, with their neighbours: 0, 1, each
    /// 16^k - 1 and 16^k, every nibble value in each place, u64::MAX, and a few
    /// pseudo-random ones.
    fn hex_values() -> std::vec::Vec<u64> {
        let mut v = std::vec![0, 1, u64::MAX, u64::MAX - 1, 0x8000_0000_0000_0000];
        for k in 1..16 {
            v.push((1u64 << (4 * k)) - 1);
            v.push(1u64 << (4 * k));
            v.push((1u64 << (4 * k)) + 1);
        }
        for place in 0..16 {
            for nibble in 0..16u64 {
                v.push(nibble << (4 * place));
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v.push(x);
            v.push(x >> (x % 61));
        }
        v
    }

    #[test]
    fn hex_prints_what_core_fmt_prints_for_every_digit_count_and_width() {
        for v in hex_values() {
            for width in 0..=24usize {
                let w18 = width.min(18);
                let want = std::format!("{v:#0w18$x}");
                let mut l = Line::<64>::new();
                l.hex(v, width);
                assert_eq!(l.as_str(), want, "hex {v:#x} width {width}");
                // After text already in the line, at every alignment, and twice in a row
                // (the second's stores start where the first's text ends).
                for pre in 0..=9 {
                    let mut l = Line::<64>::new();
                    l.push(&"abcdefghi"[..pre]).hex(v, width).hex(v, width);
                    let both = std::format!("{}{want}{want}", &"abcdefghi"[..pre]);
                    assert_eq!(l.as_str(), both, "hex {v:#x} width {width} after {pre}");
                }
            }
        }
    }

    /// Put `want` (what `put` must print) into a 24-byte line after every amount of
    /// text from none to full, followed by "|": the number comes out whole or not at
    /// all, and the cut is marked.
    fn check_near_end(want: &str, what: &str, put: impl Fn(&mut Text) -> &mut Text) {
        for pre in 0..=24 {
            let text = "=".repeat(pre);
            let mut l = Line::<24>::new();
            l.push(&text);
            put(&mut l).push("|");
            let mut s = String::new();
            l.write_to(&mut s).unwrap();
            let whole = std::format!("{text}{want}|");
            let expect = if whole.len() <= 24 {
                whole
            } else if pre + want.len() <= 24 {
                // The number fits, the "|" after it is cut.
                std::format!("{text}{want}...")
            } else {
                // The number does not fit: nothing of it, and nothing after it but
                // what fits ("|" while there is room).
                let mut e = text.clone();
                if pre < 24 {
                    e.push('|');
                }
                e + "..."
            };
            assert_eq!(s, expect, "{what} after {pre} bytes");
        }
    }

    #[test]
    fn hex_near_the_end_of_a_line_prints_whole_or_not_at_all() {
        // Every room left from none to more than the longest: the words the fast path
        // stores must never be needed where there is no room for them.
        for v in [0u64, 0xf, 0x1234_5678, 0x9_1234_5678, u64::MAX] {
            for width in [0usize, 3, 10, 12, 18] {
                let want = std::format!("{v:#0width$x}");
                check_near_end(&want, &std::format!("hex {v:#x} width {width}"), |l| {
                    l.hex(v, width)
                });
            }
        }
    }

    #[test]
    fn push_copies_strings_of_every_length_whole_after_any_text() {
        // Distinct bytes, so that a word stored one byte off shows; and text with
        // two-, three- and four-byte characters, cut at every length that ends on a
        // character boundary.
        let ascii = "abcdefghijklmnopqrstuvwxyz0123456789";
        let wide = "aé€😀bç€😀c";
        let mut pieces: std::vec::Vec<&str> = (0..=24).map(|n| &ascii[..n]).collect();
        pieces.extend(
            (0..=wide.len())
                .filter(|&n| wide.is_char_boundary(n))
                .map(|n| &wide[..n]),
        );
        for piece in &pieces {
            for pre in 0..=9 {
                let mut l = Line::<64>::new();
                l.push(&"ABCDEFGHI"[..pre])
                    .push(piece)
                    .push(piece)
                    .push("|");
                let want = std::format!("{}{piece}{piece}|", &"ABCDEFGHI"[..pre]);
                assert_eq!(l.as_str(), want, "{piece:?} after {pre} bytes");
                // Through `fmt::Write` (as `write!` into a line does).
                let mut l = Line::<64>::new();
                write!(l, "{}{piece}", &"ABCDEFGHI"[..pre]).unwrap();
                assert_eq!(l.as_str(), std::format!("{}{piece}", &"ABCDEFGHI"[..pre]));
            }
        }
    }

    #[test]
    fn push_near_the_end_of_a_line_keeps_what_fits_and_marks_the_cut() {
        let ascii = "abcdefghijklmnopqrstuvwx";
        for n in 0..=24 {
            let piece = &ascii[..n];
            for pre in 0..=24 {
                let text = "=".repeat(pre);
                let mut l = Line::<24>::new();
                l.push(&text).push(piece);
                let mut s = String::new();
                l.write_to(&mut s).unwrap();
                let whole = std::format!("{text}{piece}");
                let want = if whole.len() <= 24 {
                    whole
                } else {
                    std::format!("{}...", &whole[..24])
                };
                assert_eq!(s, want, "{n} bytes after {pre}");
            }
        }
        // A character is never split: "€" is 3 bytes, 2 left.
        let mut l = Line::<12>::new();
        l.push("0123456789").push("€€€");
        assert_eq!(l.as_str(), "0123456789");
    }

    /// 0, 1, each 10^k - 1 and 10^k (every digit count, both sides of 8 digits), and
    /// u64::MAX.
    fn dec_values() -> std::vec::Vec<u64> {
        // 2^26 - 1 and 2^26: the last number `dec` makes in one word, and the first
        // it leaves to the byte loop.
        let mut v = std::vec![
            0,
            1,
            5,
            42,
            255,
            (1 << 26) - 1,
            1 << 26,
            u64::MAX,
            u64::MAX - 1
        ];
        let mut p = 1u64;
        for _ in 1..20 {
            p *= 10;
            v.extend([p - 1, p, p + 1]);
        }
        v
    }

    #[test]
    fn dec_prints_what_core_fmt_prints_for_every_digit_count_and_width() {
        for v in dec_values() {
            for width in 0..=24usize {
                let want = std::format!("{v:<width$}");
                let mut l = Line::<64>::new();
                l.dec(v, width);
                assert_eq!(l.as_str(), want, "dec {v} width {width}");
                // After text, at every alignment, twice, and followed by more text (the
                // padding is really there, not bytes left beyond the text).
                for pre in 0..=9 {
                    let mut l = Line::<80>::new();
                    l.push(&"abcdefghi"[..pre])
                        .dec(v, width)
                        .dec(v, width)
                        .push("|");
                    let both = std::format!("{}{want}{want}|", &"abcdefghi"[..pre]);
                    assert_eq!(l.as_str(), both, "dec {v} width {width} after {pre}");
                }
            }
        }
    }

    #[test]
    fn dec_near_the_end_of_a_line_prints_whole_or_not_at_all() {
        for v in [0u64, 7, 12, 99_999_999, 100_000_000, u64::MAX] {
            for width in [0usize, 1, 3, 8, 9, 12] {
                let want = std::format!("{v:<width$}");
                check_near_end(&want, &std::format!("dec {v} width {width}"), |l| {
                    l.dec(v, width)
                });
            }
        }
    }

    #[test]
    fn dec_and_hex_wrappers_print_what_core_fmt_prints() {
        let mut values = dec_values();
        values.extend(hex_values());
        for v in values {
            assert_eq!(std::format!("{}", Dec(v)), std::format!("{v}"));
            assert_eq!(std::format!("{}", Hex(v)), std::format!("{v:#x}"));
            // Among other pieces of a log line, and written into a `Line`.
            assert_eq!(
                std::format!("a {} b {} c", Dec(v), Hex(v)),
                std::format!("a {v} b {v:#x} c")
            );
            let mut l = Line::<96>::new();
            write!(l, "[{}|{}]", Dec(v), Hex(v)).unwrap();
            assert_eq!(l.as_str(), std::format!("[{v}|{v:#x}]"));
        }
    }
}
