// SPDX-License-Identifier: GPL-2.0-only
//! A small panic-free flattened device tree reader (the devicetree specification,
//! v0.4, chapter 5): enough for a guest to find its memory, its console and its
//! bootargs. Every offset is checked; a malformed blob gives `Err` or `None`, never a
//! panic or an out-of-bounds read. Reads are byte-wise (no unaligned loads).

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Largest blob we accept: Xen builds domU trees of a few KiB.
pub const MAX_SIZE: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// The address is 0 or not 8-byte aligned.
    BadAddress,
    BadMagic,
    /// totalsize larger than MAX_SIZE or smaller than the header.
    BadSize,
    /// A block offset or size lies outside totalsize.
    BadLayout,
    BadVersion,
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Big-endian cells to a number (1 or 2 cells; more is refused).
fn cells(b: &[u8], n: usize) -> Option<u64> {
    match n {
        1 => be32(b, 0).map(u64::from),
        2 => Some((u64::from(be32(b, 0)?) << 32) | u64::from(be32(b, 4)?)),
        _ => None,
    }
}

fn align4(x: usize) -> Option<usize> {
    Some(x.checked_add(3)? & !3)
}

#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
}

#[derive(Clone, Copy)]
enum Token<'a> {
    Begin(&'a [u8]),
    End,
    Prop { name: u32, value: &'a [u8] },
    Finish,
}

/// A node: its name (with unit address) and where its properties start.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    fdt: Fdt<'a>,
    pub name: &'a [u8],
    body: usize,
}

impl<'a> Fdt<'a> {
    /// Reads the totalsize field of a header (the first 8 bytes).
    pub fn total_size(header: &[u8]) -> Result<usize, FdtError> {
        if be32(header, 0) != Some(MAGIC) {
            return Err(FdtError::BadMagic);
        }
        let size = be32(header, 4).ok_or(FdtError::BadSize)? as usize;
        if !(40..=MAX_SIZE).contains(&size) {
            return Err(FdtError::BadSize);
        }
        Ok(size)
    }

    pub fn new(blob: &'a [u8]) -> Result<Self, FdtError> {
        let size = Self::total_size(blob)?;
        let blob = blob.get(..size).ok_or(FdtError::BadSize)?;
        let h = |i: usize| be32(blob, i * 4).ok_or(FdtError::BadLayout);
        let (off_struct, off_strings, version) = (h(2)? as usize, h(3)? as usize, h(5)?);
        let (size_strings, size_struct) = (h(8)? as usize, h(9)? as usize);
        if version < 16 {
            return Err(FdtError::BadVersion);
        }
        let block = |off: usize, len: usize| blob.get(off..off.checked_add(len)?);
        let structs = block(off_struct, size_struct).ok_or(FdtError::BadLayout)?;
        let strings = block(off_strings, size_strings).ok_or(FdtError::BadLayout)?;
        Ok(Self { structs, strings })
    }

    fn token(&self, off: usize) -> Option<(Token<'a>, usize)> {
        let mut off = off;
        loop {
            let tag = be32(self.structs, off)?;
            off += 4;
            match tag {
                NOP => continue,
                BEGIN_NODE => {
                    let rest = self.structs.get(off..)?;
                    let len = rest.iter().position(|&b| b == 0)?;
                    let name = rest.get(..len)?;
                    return Some((Token::Begin(name), align4(off.checked_add(len + 1)?)?));
                }
                END_NODE => return Some((Token::End, off)),
                PROP => {
                    let len = be32(self.structs, off)? as usize;
                    let name = be32(self.structs, off + 4)?;
                    let start = off + 8;
                    let value = self.structs.get(start..start.checked_add(len)?)?;
                    return Some((Token::Prop { name, value }, align4(start + len)?));
                }
                END => return Some((Token::Finish, off)),
                _ => return None,
            }
        }
    }

    fn string(&self, off: u32) -> Option<&'a [u8]> {
        let rest = self.strings.get(off as usize..)?;
        rest.get(..rest.iter().position(|&b| b == 0)?)
    }

    /// The root node.
    pub fn root(&self) -> Option<Node<'a>> {
        match self.token(0)? {
            (Token::Begin(name), body) => Some(Node {
                fdt: *self,
                name,
                body,
            }),
            _ => None,
        }
    }

    /// Calls `f(depth, node)` for every node in order (root at depth 0) until it
    /// returns `Some`; bounded by the blob (every step advances).
    pub fn walk<T>(&self, mut f: impl FnMut(usize, Node<'a>) -> Option<T>) -> Option<T> {
        let mut off = 0;
        let mut depth: usize = 0;
        loop {
            let (tok, next) = self.token(off)?;
            match tok {
                Token::Begin(name) => {
                    if let Some(r) = f(
                        depth,
                        Node {
                            fdt: *self,
                            name,
                            body: next,
                        },
                    ) {
                        return Some(r);
                    }
                    depth += 1;
                }
                Token::End => depth = depth.checked_sub(1)?,
                Token::Prop { .. } => {}
                Token::Finish => return None,
            }
            off = next;
        }
    }

    /// The node at an absolute path ("/chosen", "/memory@20000000"); a component
    /// without "@" also matches a name with a unit address.
    pub fn find_path(&self, path: &str) -> Option<Node<'a>> {
        let path = path.as_bytes();
        if path.first() != Some(&b'/') {
            return None;
        }
        let want: usize = path.split(|&c| c == b'/').filter(|c| !c.is_empty()).count();
        let mut matched = 0; // components matched along the current branch
        self.walk(|depth, node| {
            if depth == 0 {
                return (want == 0).then_some(node);
            }
            if matched > depth - 1 {
                matched = depth - 1; // we left the matched branch
            }
            if matched != depth - 1 {
                return None;
            }
            let comp = path
                .split(|&c| c == b'/')
                .filter(|c| !c.is_empty())
                .nth(depth - 1)?;
            if name_matches(node.name, comp) {
                matched = depth;
                if matched == want {
                    return Some(node);
                }
            }
            None
        })
    }

    /// The first node for which `f` holds.
    pub fn find(&self, mut f: impl FnMut(&Node<'a>) -> bool) -> Option<Node<'a>> {
        self.walk(|_, n| f(&n).then_some(n))
    }

    /// The root's #address-cells and #size-cells (defaults 2 and 1).
    pub fn root_cells(&self) -> (usize, usize) {
        let root = self.root();
        let get = |p| {
            root.and_then(|r| r.prop(p))
                .and_then(|v| be32(v, 0))
                .map(|v| v as usize)
        };
        (
            get("#address-cells").unwrap_or(2),
            get("#size-cells").unwrap_or(1),
        )
    }
}

fn name_matches(name: &[u8], comp: &[u8]) -> bool {
    name == comp || (!comp.contains(&b'@') && name.split(|&c| c == b'@').next() == Some(comp))
}

impl<'a> Node<'a> {
    /// The value of this node's property `name` (not its children's).
    pub fn prop(&self, name: &str) -> Option<&'a [u8]> {
        let mut off = self.body;
        loop {
            match self.fdt.token(off)? {
                (Token::Prop { name: n, value }, next) => {
                    if self.fdt.string(n)? == name.as_bytes() {
                        return Some(value);
                    }
                    off = next;
                }
                _ => return None,
            }
        }
    }

    /// A string property without its NUL (the first string of a list).
    pub fn prop_str(&self, name: &str) -> Option<&'a str> {
        let v = self.prop(name)?;
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        core::str::from_utf8(v.get(..end)?).ok()
    }

    /// Whether `compatible` lists `what`.
    pub fn is_compatible(&self, what: &str) -> bool {
        self.prop("compatible")
            .is_some_and(|v| v.split(|&b| b == 0).any(|s| s == what.as_bytes()))
    }

    /// Entry `i` of `reg` as (address, size), with the given cell counts.
    pub fn reg(&self, i: usize, (ac, sc): (usize, usize)) -> Option<(u64, u64)> {
        let v = self.prop("reg")?;
        let stride = (ac + sc) * 4;
        let e = v.get(i.checked_mul(stride)?..(i + 1).checked_mul(stride)?)?;
        Some((cells(e, ac)?, cells(e.get(ac * 4..)?, sc)?))
    }
}
