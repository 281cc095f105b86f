// SPDX-License-Identifier: GPL-2.0-only
//! Numbers for the log without `core::fmt`'s padding machinery: each of the ~50
//! numbers the boot log prints costs ~350 instructions through `{:#x}`/`{:#012x}`
//! (`pad_integral`, a `write_char` per fill character), and ~40 here (the digits go
//! to a small buffer, then one `write_str`). The output is exactly `core::fmt`'s.
use core::fmt::{self, Write};

/// `{:#0width$x}` of `v`: "0x" and at least `width - 2` hex digits (as `{:#x}` when
/// `width` is 0), for `width` up to 18 (16 digits; wider is printed as 18).
pub fn hex(w: &mut impl Write, v: u64, width: usize) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 2 + 16];
    let used = (64 - (v | 1).leading_zeros() as usize).div_ceil(4);
    let digits = used.max(width.saturating_sub(2)).min(16);
    let (mut x, mut p) = (v, buf.len());
    for _ in 0..digits {
        p -= 1;
        buf[p] = DIGITS[(x & 0xf) as usize];
        x >>= 4;
    }
    buf[p - 2] = b'0';
    buf[p - 1] = b'x';
    w.write_str(as_str(&buf[p - 2..]))
}

/// `{}` of `v`, left-aligned in `width` columns (`{:<width$}`).
pub fn dec(w: &mut impl Write, v: u64, width: usize) -> fmt::Result {
    let mut buf = [b' '; 20];
    let mut n = 0;
    let mut x = v;
    loop {
        buf[19 - n] = b'0' + (x % 10) as u8;
        n += 1;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    w.write_str(as_str(&buf[20 - n..]))?;
    for _ in n..width {
        w.write_str(" ")?;
    }
    Ok(())
}

/// The buffers above, which hold ASCII digits, 'x' and spaces only.
fn as_str(b: &[u8]) -> &str {
    debug_assert!(b.is_ascii());
    // SAFETY: `hex` and `dec` fill these bytes from "0123456789abcdefx " only (ASCII,
    // so UTF-8); checking it again is what this module exists to avoid.
    unsafe { core::str::from_utf8_unchecked(b) }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

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
