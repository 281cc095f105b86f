// SPDX-License-Identifier: GPL-2.0-only
//! Log text without `core::fmt`'s machinery where the boot log is hot: each of the
//! ~50 numbers the boot log prints costs ~350 instructions through `{:#x}`/`{:#012x}`
//! (`pad_integral`, a `write_char` per fill character), and every `write_str` on a
//! `Formatter` is a trip through `core::fmt` to the console. A `Line` is built in
//! place (digits written straight into it) and written with one `write_str`. The
//! output is exactly `core::fmt`'s.
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
    /// known length and needs no call to memcpy.
    #[inline(always)]
    pub fn push(&mut self, s: &str) -> &mut Self {
        match self.buf.get_mut(self.len..self.len + s.len()) {
            Some(dst) => {
                dst.write_copy_of_slice(s.as_bytes());
                self.len += s.len();
            }
            None => self.push_cut(s),
        }
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

    /// Append `{:#0width$x}` of `v` (see `hex`).
    pub fn hex(&mut self, v: u64, width: usize) -> &mut Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let used = (64 - (v | 1).leading_zeros() as usize).div_ceil(4);
        let digits = used.max(width.saturating_sub(2)).min(16);
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

    /// Append `{:<width$}` of `v` (see `dec`).
    pub fn dec(&mut self, v: u64, width: usize) -> &mut Self {
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
        let written = &self.buf[..self.len];
        // SAFETY: bytes `..len` were all written (`push`, `push_cut` and `reserve`'s
        // callers fill every byte they add to `len`); MaybeUninit<u8> has u8's layout.
        as_str(unsafe { &*(written as *const [MaybeUninit<u8>] as *const [u8]) })
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

impl Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s);
        Ok(())
    }
}

/// The bytes of a `Line`: UTF-8 by construction, not validated again.
fn as_str(b: &[u8]) -> &str {
    debug_assert!(core::str::from_utf8(b).is_ok());
    // SAFETY: a `Line` holds only bytes copied from `&str`s, each cut at a character
    // boundary (`push`, `push_cut`), and the ASCII digits, 'x' and spaces of `hex` and
    // `dec`: valid UTF-8 as a whole.
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
}
