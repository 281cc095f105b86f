// SPDX-License-Identifier: GPL-2.0-only
//! A flattened device tree reader that never panics: `Fdt::new` checks the header and
//! walks the whole structure block once, so every later query works on a blob known
//! to be well formed, and still uses checked reads.
//!
//! (The `fdt` crate was not used: it panics with `expect`/`assert!` on malformed
//! structure blocks, and a hypervisor must answer hostile input with an error.)
use core::str;

const MAGIC: u32 = 0xd00d_feed;
/// The version-17 header; a version-16 header lacks its last word, size_dt_struct.
const HEADER_LEN: usize = 40;
const HEADER_LEN_V16: usize = 36;
/// The oldest layout rxen reads (16: the first with inline strings and no
/// `size_dt_struct`) and the newest it knows (17).
pub const FIRST_VERSION: u32 = 16;
pub const LAST_VERSION: u32 = 17;
/// Longer /memreserve/ lists are refused.
pub const MAX_MEMRESERVE: usize = 64;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Deeper trees are refused (real ones nest a handful of levels).
pub const MAX_DEPTH: usize = 32;

/// What is wrong with a blob, with the offset where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FdtError {
    #[error("device tree: {len} bytes is shorter than the 40-byte header")]
    Truncated { len: usize },
    #[error("device tree: bad magic {0:#010x} (expected 0xd00dfeed)")]
    BadMagic(u32),
    #[error("device tree: totalsize {total} is outside the {len} bytes available")]
    BadTotalSize { total: u32, len: usize },
    #[error("device tree: version {version} (last compatible {last_comp}) is not supported (rxen reads versions 16 and 17, and later ones that declare compatibility with 17 or older)")]
    BadVersion { version: u32, last_comp: u32 },
    #[error(
        "device tree: {block} block [{off:#x}, +{size:#x}) is outside totalsize or misaligned"
    )]
    BadBlock {
        block: &'static str,
        off: u32,
        size: u32,
    },
    #[error("device tree: malformed structure at offset {0:#x}")]
    BadStructure(usize),
    #[error("device tree: property name offset {0:#x} is outside the strings block")]
    BadString(u32),
    #[error("device tree: nodes nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("device tree: the memory reservation block at {off:#x} has no (0, 0) terminator within totalsize or more than {MAX_MEMRESERVE} entries")]
    BadMemReserve { off: u32 },
}

/// Why a property is not one string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StringError {
    #[error("is not NUL-terminated")]
    NotTerminated,
    #[error("is not valid UTF-8")]
    NotUtf8,
    #[error("holds more than one string")]
    SeveralStrings,
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// A NUL-terminated UTF-8 string at `off` in `b`, and the offset after its NUL.
fn cstr(b: &[u8], off: usize) -> Option<(&str, usize)> {
    let rest = b.get(off..)?;
    let n = rest.iter().position(|&c| c == 0)?;
    Some((str::from_utf8(&rest[..n]).ok()?, off + n + 1))
}

const fn align4(x: usize) -> usize {
    (x + 3) & !3
}

#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    /// Offset of the structure block in the blob, for error messages.
    struct_off: usize,
    strings: &'a [u8],
    /// The /memreserve/ entries, without the (0, 0) terminator.
    rsvmap: &'a [u8],
    total: usize,
    version: u32,
}

/// One step of a walk through the structure block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    Begin(&'a str),
    Prop(&'a str, &'a [u8]),
    End,
}

/// A node, by the offset of its BEGIN_NODE token.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    fdt: Fdt<'a>,
    off: usize,
    pub name: &'a str,
}

impl<'a> Fdt<'a> {
    /// Check the header and the whole structure block of `data`.
    pub fn new(data: &'a [u8]) -> Result<Self, FdtError> {
        if data.len() < HEADER_LEN {
            return Err(FdtError::Truncated { len: data.len() });
        }
        let h = |i: usize| be32(data, i * 4).unwrap_or(0);
        if h(0) != MAGIC {
            return Err(FdtError::BadMagic(h(0)));
        }
        let total = h(1);
        if (total as usize) > data.len() || (total as usize) < HEADER_LEN {
            return Err(FdtError::BadTotalSize {
                total,
                len: data.len(),
            });
        }
        let (version, last_comp) = (h(5), h(6));
        // The spec: a reader takes any blob whose last compatible version it knows.
        if version < FIRST_VERSION || last_comp > LAST_VERSION || last_comp > version {
            return Err(FdtError::BadVersion { version, last_comp });
        }
        let header_len = if version >= 17 {
            HEADER_LEN
        } else {
            HEADER_LEN_V16
        };
        let block = |name, off: u32, size: u32, align: u32| {
            let end = off as u64 + size as u64;
            if (off as usize) < header_len || end > total as u64 || !off.is_multiple_of(align) {
                Err(FdtError::BadBlock {
                    block: name,
                    off,
                    size,
                })
            } else {
                Ok(&data[off as usize..end as usize])
            }
        };
        // Version 16 has no size_dt_struct: the structure block runs to FDT_END, which
        // the walk below finds within totalsize.
        let struct_size = if version >= 17 {
            h(9)
        } else {
            total.saturating_sub(h(2))
        };
        let structs = block("structure", h(2), struct_size, 4)?;
        let strings = block("strings", h(3), h(8), 1)?;
        block("memory reservation", h(4), 16, 8)?;
        let rsv_off = h(4);
        let rsv_all = &data[rsv_off as usize..total as usize];
        let mut n = 0;
        let rsvmap = loop {
            let entry = rsv_all.get(n * 16..n * 16 + 16);
            match entry {
                Some(e) if e.iter().all(|&b| b == 0) => break &rsv_all[..n * 16],
                Some(_) if n < MAX_MEMRESERVE => n += 1,
                _ => return Err(FdtError::BadMemReserve { off: rsv_off }),
            }
        };
        let fdt = Self {
            structs,
            struct_off: h(2) as usize,
            strings,
            rsvmap,
            total: total as usize,
            version,
        };
        fdt.validate()?;
        Ok(fdt)
    }

    pub fn total_size(&self) -> usize {
        self.total
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// The /memreserve/ entries as (address, size), in order.
    pub fn memreserve(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        self.rsvmap.chunks_exact(16).map(|e| {
            let mut i = 0;
            // Cannot fail: each chunk holds exactly two 64-bit numbers.
            let a = read_cells(e, &mut i, 2).unwrap_or(0);
            let s = read_cells(e, &mut i, 2).unwrap_or(0);
            (a, s)
        })
    }

    /// The token at `off` and the offset of the next one.
    fn token(&self, off: usize) -> Result<(Option<Token<'a>>, usize), FdtError> {
        let bad = FdtError::BadStructure(self.struct_off + off);
        let s = self.structs;
        match be32(s, off).ok_or(bad)? {
            BEGIN_NODE => {
                let (name, next) = cstr(s, off + 4).ok_or(bad)?;
                Ok((Some(Token::Begin(name)), align4(next)))
            }
            END_NODE => Ok((Some(Token::End), off + 4)),
            PROP => {
                let len = be32(s, off + 4).ok_or(bad)? as usize;
                let nameoff = be32(s, off + 8).ok_or(bad)?;
                let value = s
                    .get(off + 12..(off + 12).checked_add(len).ok_or(bad)?)
                    .ok_or(bad)?;
                let (name, _) =
                    cstr(self.strings, nameoff as usize).ok_or(FdtError::BadString(nameoff))?;
                Ok((Some(Token::Prop(name, value)), align4(off + 12 + len)))
            }
            NOP => Ok((None, off + 4)),
            _ => Err(bad),
        }
    }

    /// One pass over the structure block: tokens in bounds, properties before
    /// subnodes, nesting balanced and bounded, one root node, then FDT_END.
    fn validate(&self) -> Result<(), FdtError> {
        let mut off = 0;
        let mut depth = 0usize;
        let mut seen_child = [false; MAX_DEPTH + 1];
        let mut roots = 0;
        loop {
            if depth == 0 && roots == 1 {
                // After the root closes, only NOPs and END may follow.
                match be32(self.structs, off) {
                    Some(NOP) => off += 4,
                    Some(END) => return Ok(()),
                    _ => return Err(FdtError::BadStructure(self.struct_off + off)),
                }
                continue;
            }
            let (tok, next) = self.token(off)?;
            match tok {
                Some(Token::Begin(_)) => {
                    if depth == 0 {
                        roots += 1;
                    } else {
                        seen_child[depth] = true;
                    }
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(FdtError::TooDeep);
                    }
                    seen_child[depth] = false;
                }
                Some(Token::Prop(..)) if depth == 0 || seen_child[depth] => {
                    return Err(FdtError::BadStructure(self.struct_off + off))
                }
                Some(Token::Prop(..)) | None => {}
                Some(Token::End) if depth == 0 => {
                    return Err(FdtError::BadStructure(self.struct_off + off))
                }
                Some(Token::End) => depth -= 1,
            }
            off = next;
        }
    }

    pub fn root(&self) -> Node<'a> {
        Node {
            fdt: *self,
            off: 0,
            name: "",
        }
    }

    /// The node at an absolute path (`/`, `/chosen`, `/soc/uart@1000`).
    pub fn find(&self, path: &str) -> Option<Node<'a>> {
        let mut chain = [self.root(); MAX_DEPTH + 1];
        self.find_with_ancestors(path, &mut chain).map(|(n, _)| n)
    }

    /// The node at an absolute path and the number of its ancestors, which are left in
    /// `chain[..n]` (the root first, the parent last). A unit address may be left out
    /// (`/memory` finds `/memory@0`).
    pub fn find_with_ancestors(
        &self,
        path: &str,
        chain: &mut [Node<'a>; MAX_DEPTH + 1],
    ) -> Option<(Node<'a>, usize)> {
        let mut node = self.root();
        let mut n = 0;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            // Cannot overflow on a validated blob (depth <= MAX_DEPTH); checked anyway.
            *chain.get_mut(n)? = node;
            n += 1;
            node = node.children().find(|c| {
                c.name == part || c.name.split('@').next() == Some(part) && !part.contains('@')
            })?;
        }
        Some((node, n))
    }
}

impl<'a> Node<'a> {
    /// The properties of this node, in order.
    pub fn props(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let fdt = self.fdt;
        // Skip this node's BEGIN_NODE token.
        let mut off = fdt.token(self.off).map(|(_, n)| n).ok();
        core::iter::from_fn(move || loop {
            let (tok, next) = fdt.token(off?).ok()?;
            off = Some(next);
            match tok {
                Some(Token::Prop(n, v)) => return Some((n, v)),
                None => continue,
                _ => return None,
            }
        })
    }

    pub fn prop(&self, name: &str) -> Option<&'a [u8]> {
        self.props().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A string property (the first string of a string list).
    pub fn prop_str(&self, name: &str) -> Option<&'a str> {
        self.prop(name).and_then(|v| cstr(v, 0)).map(|(s, _)| s)
    }

    /// Whether a string-list property (`compatible`) contains `s`.
    pub fn has_str(&self, name: &str, s: &str) -> bool {
        self.prop(name)
            .map(|v| v.split(|&c| c == 0).any(|x| x == s.as_bytes()))
            .unwrap_or(false)
    }

    /// Whether the node may be used: `status` absent, "okay" or "ok" (devicetree
    /// specification, 2.3.4; "ok" is the older spelling Linux and Xen still accept).
    pub fn is_available(&self) -> bool {
        match self.prop("status") {
            None => true,
            Some(v) => matches!(v, b"okay\0" | b"ok\0"),
        }
    }

    /// A property that must hold exactly one NUL-terminated UTF-8 string: `None` when
    /// absent, the rule broken when malformed.
    pub fn prop_string(&self, name: &str) -> Option<Result<&'a str, StringError>> {
        let v = self.prop(name)?;
        Some(match v.split_last() {
            Some((0, body)) if body.contains(&0) => Err(StringError::SeveralStrings),
            Some((0, body)) => str::from_utf8(body).map_err(|_| StringError::NotUtf8),
            _ => Err(StringError::NotTerminated),
        })
    }

    pub fn prop_u32(&self, name: &str) -> Option<u32> {
        let v = self.prop(name)?;
        if v.len() != 4 {
            return None;
        }
        be32(v, 0)
    }

    /// The direct children of this node.
    pub fn children(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let fdt = self.fdt;
        let mut off = fdt.token(self.off).map(|(_, n)| n).ok();
        let mut depth = 0usize;
        core::iter::from_fn(move || loop {
            let here = off?;
            let (tok, next) = fdt.token(here).ok()?;
            off = Some(next);
            match tok {
                Some(Token::Begin(name)) => {
                    depth += 1;
                    if depth == 1 {
                        return Some(Node {
                            fdt,
                            off: here,
                            name,
                        });
                    }
                }
                Some(Token::End) if depth == 0 => {
                    off = None;
                    return None;
                }
                Some(Token::End) => depth -= 1,
                _ => {}
            }
        })
    }
}

/// Read `cells` 32-bit cells at `v[*i..]` as one number, advancing `*i`.
pub fn read_cells(v: &[u8], i: &mut usize, cells: u32) -> Option<u64> {
    let mut x: u64 = 0;
    for _ in 0..cells {
        let c = be32(v, *i)?;
        x = x.checked_shl(32)? | c as u64;
        *i += 4;
    }
    Some(x)
}
