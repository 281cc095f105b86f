// SPDX-License-Identifier: GPL-2.0-only
//! A flattened device tree reader that never panics: `Fdt::new` checks the header and
//! walks the whole structure block once, so every later query works on a blob known
//! to be well formed, and still uses checked reads.
//!
//! (The `fdt` crate was not used: it panics with `expect`/`assert!` on malformed
//! structure blocks, and a hypervisor must answer hostile input with an error.)
use core::str;

const MAGIC: u32 = 0xd00d_feed;
const HEADER_LEN: usize = 40;
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
    #[error("device tree: version {version} (last compatible {last_comp}) is not supported (need 16 or 17)")]
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
    total: usize,
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
        if !(16..=17).contains(&version) || last_comp > 17 {
            return Err(FdtError::BadVersion { version, last_comp });
        }
        let block = |name, off: u32, size: u32, align: u32| {
            let end = off as u64 + size as u64;
            if (off as usize) < HEADER_LEN || end > total as u64 || !off.is_multiple_of(align) {
                Err(FdtError::BadBlock {
                    block: name,
                    off,
                    size,
                })
            } else {
                Ok(&data[off as usize..end as usize])
            }
        };
        let structs = block("structure", h(2), h(9), 4)?;
        let strings = block("strings", h(3), h(8), 1)?;
        block("memory reservation", h(4), 16, 8)?;
        let fdt = Self {
            structs,
            struct_off: h(2) as usize,
            strings,
            total: total as usize,
        };
        fdt.validate()?;
        Ok(fdt)
    }

    pub fn total_size(&self) -> usize {
        self.total
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
        let mut node = self.root();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.children().find(|c| {
                c.name == part || c.name.split('@').next() == Some(part) && !part.contains('@')
            })?;
        }
        Some(node)
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
