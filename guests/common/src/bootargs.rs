// SPDX-License-Identifier: GPL-2.0-only
//! `key=value` words of the kernel command line (/chosen/bootargs, which Xen fills
//! from the kernel module's `bootargs`).

/// The value of the first `key=value` word, or `None`.
pub fn get<'a>(bootargs: &'a str, key: &str) -> Option<&'a str> {
    bootargs.split_ascii_whitespace().find_map(|w| {
        let (k, v) = w.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// A number in decimal or `0x` hexadecimal (underscores allowed).
pub fn parse_u64(s: &str) -> Option<u64> {
    let mut digits = [0u8; 32];
    let mut n = 0;
    for b in s.bytes().filter(|&b| b != b'_') {
        *digits.get_mut(n)? = b;
        n += 1;
    }
    let t = core::str::from_utf8(digits.get(..n)?).ok()?;
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// The number given for `key`, or `default` (also when the value does not parse).
pub fn get_u64(bootargs: &str, key: &str, default: u64) -> u64 {
    get(bootargs, key).and_then(parse_u64).unwrap_or(default)
}
