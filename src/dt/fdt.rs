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
    #[error(
        "device tree: the blob at {addr:#x} is not 8-byte aligned (devicetree specification 5.1)"
    )]
    Misaligned { addr: usize },
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

/// The offset of the first NUL in `b` at or after `from`. Four bytes a step: a word
/// holds a zero byte exactly when `(x - 0x01010101) & !x & 0x80808080` is not 0, and
/// its lowest set bit (little-endian order) marks the first zero byte.
fn nul_at(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(w) = b.get(i..i.wrapping_add(4)) {
        let x = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let zero = x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 4;
    }
    b.get(i..)?.iter().position(|&c| c == 0).map(|n| i + n)
}

/// A NUL-terminated UTF-8 string at `off` in `b`, and the offset after its NUL.
fn cstr(b: &[u8], off: usize) -> Option<(&str, usize)> {
    let n = nul_at(b, off)?;
    Some((str::from_utf8(b.get(off..n)?).ok()?, n + 1))
}

/// Whether a 16-byte memory reservation entry is all zero bytes (the list's
/// terminator). `aligned`: the entry starts 8-byte aligned in memory (it lies at a
/// multiple of 8 in an 8-byte aligned blob), and is read as four aligned words.
fn is_zero_entry(e: &[u8], aligned: bool) -> bool {
    if aligned {
        (0..4).all(|i| aligned_word(e, i) == Some(0))
    } else {
        e.iter().all(|&b| b == 0)
    }
}

const fn align4(x: usize) -> usize {
    (x + 3) & !3
}

#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    /// The whole blob, 8-byte aligned in memory (checked by `new`).
    blob: &'a [u8],
    tree: Tree<'a>,
    /// The /memreserve/ entries, without the (0, 0) terminator.
    rsvmap: &'a [u8],
    total: usize,
    version: u32,
    /// /chosen as `find("/chosen")` gives it, when the reader that checked the blob
    /// already found it (`with_chosen`); `None`: not known, `find` looks.
    chosen: Option<(u32, u32)>,
}

/// The structure and strings blocks of a blob whose header `Fdt::header` checked.
/// Their readers (`Node`, `Fdt::find`) run only on bytes that `Fdt::visit` checked:
/// a tree it walked whole (`Fdt::new` does), or, inside its callback, the tokens before
/// the current one. It checks that each node name and each property name is
/// NUL-terminated UTF-8: that check is what lets the readers below skip UTF-8
/// validation (the bytes are borrowed immutably for `'a`, so they cannot change after
/// the check).
/// The structure block starts 4-byte aligned in memory (checked by `Fdt::header`), so
/// tokens are read one aligned load each (`Tree::word`).
#[derive(Clone, Copy)]
struct Tree<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
}

/// One step of a walk through the structure block. A property's name stays an offset
/// into the strings block until someone asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    /// A node, with its name's bytes (without the NUL).
    Begin(&'a [u8]),
    Prop {
        nameoff: u32,
        value: &'a [u8],
    },
    End,
    Nop,
    /// FDT_END.
    Finish,
}

/// The token at `off` (a multiple of 4, as every token offset is) of a structure
/// block, and the offset of the next one; `None` when it does not fit the block or is
/// unknown. The one decoder for both the validating walk and the readers of a
/// validated tree, so both see the same offsets.
#[inline(always)]
fn token<'a>(t: &Tree<'a>, off: usize) -> Option<(Token<'a>, usize)> {
    let w = off / 4;
    let word = |i: usize| t.word(w + i).map(u32::from_be);
    match word(0)? {
        BEGIN_NODE => {
            let start = off + 4;
            let nul = name_end(t, w + 1)?;
            Some((Token::Begin(t.structs.get(start..nul)?), align4(nul + 1)))
        }
        END_NODE => Some((Token::End, off + 4)),
        PROP => {
            let len = word(1)? as usize;
            let nameoff = word(2)?;
            let end = (off + 12).checked_add(len)?;
            let value = t.structs.get(off + 12..end)?;
            Some((Token::Prop { nameoff, value }, align4(end)))
        }
        NOP => Some((Token::Nop, off + 4)),
        END => Some((Token::Finish, off + 4)),
        _ => None,
    }
}

/// The offset after the END_NODE closing the node whose BEGIN_NODE is at `off`.
fn skip_node(t: &Tree<'_>, off: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut w = off / 4;
    loop {
        match u32::from_be(t.word(w)?) {
            BEGIN_NODE => {
                depth += 1;
                w = name_end(t, w + 1)? / 4 + 1;
            }
            END_NODE => {
                depth = depth.checked_sub(1)?;
                w += 1;
                if depth == 0 {
                    return Some(w * 4);
                }
            }
            PROP => {
                let len = u32::from_be(t.word(w + 1)?) as usize;
                w += 3 + len.div_ceil(4);
            }
            NOP => w += 1,
            _ => return None,
        }
    }
}

/// The byte offset of the NUL ending a node name that starts at word `w`: a word
/// at a time (see `nul_at`), then byte by byte in a block that does not end on a
/// word boundary.
fn name_end(t: &Tree<'_>, mut w: usize) -> Option<usize> {
    while let Some(x) = t.word(w) {
        let x = u32::from_le(x);
        let zero = x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080;
        if zero != 0 {
            return Some(w * 4 + (zero.trailing_zeros() / 8) as usize);
        }
        w += 1;
    }
    nul_at(t.structs, w * 4)
}

/// `name_end`, and whether the bytes before that NUL are all ASCII (below 0x80),
/// read from the same words: in the word holding the NUL, only the bytes below the
/// lowest zero byte count (the test's lowest set bit is exact).
#[inline(always)]
fn name_end_ascii(t: &Tree<'_>, mut w: usize) -> Option<(usize, bool)> {
    let mut high = 0;
    while let Some(x) = t.word(w) {
        let x = u32::from_le(x);
        let zero = x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080;
        if zero != 0 {
            let below = (zero & zero.wrapping_neg()) - 1;
            high |= x & below & 0x8080_8080;
            return Some((w * 4 + (zero.trailing_zeros() / 8) as usize, high == 0));
        }
        high |= x & 0x8080_8080;
        w += 1;
    }
    name_end_ascii_tail(t, w, high)
}

/// `name_end_ascii` past the block's last whole word (`high`: the high bits seen).
#[cold]
#[inline(never)]
fn name_end_ascii_tail(t: &Tree<'_>, w: usize, high: u32) -> Option<(usize, bool)> {
    let nul = nul_at(t.structs, w * 4)?;
    let tail = t.structs.get(w * 4..nul)?;
    Some((nul, high == 0 && tail.is_ascii()))
}

/// Where `Fdt::visit` files a property name by its first two bytes (of the name and
/// its NUL; 0 past the end): names that differ there differ.
const fn bucket(s: &[u8]) -> usize {
    let b0 = if !s.is_empty() { s[0] as usize } else { 0 };
    let b1 = if s.len() > 1 { s[1] as usize } else { 0 };
    (b0 ^ b1 << 1) & 63
}

/// The longest property name a `PropNameSet` holds (the devicetree specification,
/// 2.2.4.1, allows 31 characters).
const MAX_PROP_NAME: usize = 31;
/// A property name and its NUL as 8-byte little-endian words (zero past the NUL).
const NAME_WORDS: usize = (MAX_PROP_NAME + 1) / 8;

/// The property names `Fdt::visit` collects values for (distinct, non-empty, at most
/// `MAX_PROP_NAME` bytes, fewer than 32 of them), filed by `bucket` of their first
/// two bytes: a name seen for the first time is compared with those of its bucket
/// only. Built at compile time.
pub struct PropNameSet<const N: usize> {
    names: [&'static str; N],
    /// Each name and its NUL, as `PropNames::load8` reads a name of the blob.
    words: [[u64; NAME_WORDS]; N],
    /// The index of each name's last word (the one holding its NUL), and the mask of
    /// that word's bytes up to the NUL.
    last: [usize; N],
    mask: [u64; N],
    buckets: [u32; 64],
}

impl<const N: usize> PropNameSet<N> {
    pub const fn new(names: [&'static str; N]) -> Self {
        assert!(N < 32);
        let mut buckets = [0u32; 64];
        let mut words = [[0u64; NAME_WORDS]; N];
        let mut last = [0usize; N];
        let mut mask = [0u64; N];
        let mut i = 0;
        while i < N {
            let b = names[i].as_bytes();
            assert!(!b.is_empty() && b.len() <= MAX_PROP_NAME);
            let mut j = 0;
            while j < i {
                assert!(!const_str_eq(names[i], names[j]), "names must be distinct");
                j += 1;
            }
            let mut k = 0;
            while k < b.len() {
                words[i][k / 8] |= (b[k] as u64) << (8 * (k % 8));
                k += 1;
            }
            last[i] = b.len() / 8;
            mask[i] = !0 >> (56 - 8 * (b.len() % 8));
            buckets[bucket(b)] |= 1 << i;
            i += 1;
        }
        Self {
            names,
            words,
            last,
            mask,
            buckets,
        }
    }

    /// The index in `names` of the NUL-terminated string `s` starts with, or N.
    fn index(&self, s: &[u8]) -> usize {
        let mut m = if N > 0 { self.buckets[bucket(s)] } else { 0 };
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            if i < N && str_at_is(s, self.names[i]) {
                return i;
            }
            m &= m - 1;
        }
        N
    }
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}

/// Whether `s` starts with the NUL-terminated string `name`: the NUL's place is
/// checked first, so most other names are told apart without comparing bytes.
fn str_at_is(s: &[u8], name: &str) -> bool {
    let n = name.len();
    if s.len() <= n || s[n] != 0 {
        return false;
    }
    // A byte loop: names are short, and a call to memcmp costs more than the compare.
    let mut i = 0;
    while i < n {
        if s[i] != name.as_bytes()[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Word `i` of `b` as it lies in memory (`u32::from_be` gives the big-endian value);
/// `None` past the last whole word. `b` must start 4-byte aligned in memory: callers
/// pass only a blob `Fdt::header` checked or its structure block, or, in
/// `Fdt::header`, a blob or memory reservation entry it found 8-byte aligned.
fn aligned_word(b: &[u8], i: usize) -> Option<u32> {
    if i >= b.len() / 4 {
        return None;
    }
    debug_assert!((b.as_ptr() as usize).is_multiple_of(4));
    // SAFETY: `b` is a checked blob (8-byte aligned, checked by `Fdt::header`), its
    // structure block (at a 4-byte aligned offset in it, also checked), or a blob or
    // entry `Fdt::header` just found 8-byte aligned, so it starts 4-byte aligned; the word [4i, 4i + 4) lies inside it (just checked) and is
    // aligned; any four bytes are a valid u32. The bytes are borrowed immutably, so
    // the read races with no write.
    Some(unsafe { b.as_ptr().add(4 * i).cast::<u32>().read() })
}

/// Word `i` (8 bytes) of `b` as it lies in memory; `None` past the last whole word.
/// `b` must start 8-byte aligned in memory: callers pass only words of a blob that
/// `PropNames::new` found 8-byte aligned, from an offset that is a multiple of 8.
fn aligned_u64(b: &[u8], i: usize) -> Option<u64> {
    if i >= b.len() / 8 {
        return None;
    }
    debug_assert!((b.as_ptr() as usize).is_multiple_of(8));
    // SAFETY: `b` starts 8-byte aligned (see above), so word i, which lies inside it
    // (just checked), is aligned; any eight bytes are a valid u64, and `b` is
    // borrowed immutably, so the read races with no write.
    Some(unsafe { b.as_ptr().add(8 * i).cast::<u64>().read() })
}

impl<'a> Tree<'a> {
    /// The blocks of a blob `Fdt::header` checked, found again from its header (the
    /// same arithmetic as `Fdt::header`; empty blocks if the header were not valid).
    fn of(blob: &'a [u8]) -> Self {
        // One length check up front lets the header reads below go unchecked.
        if blob.len() < HEADER_LEN {
            return Tree {
                structs: &[],
                strings: &[],
            };
        }
        let h = |i: usize| aligned_word(blob, i).map_or(0, u32::from_be) as usize;
        let (total, struct_off, strings_off, version) = (h(1), h(2), h(3), h(5));
        let struct_size = if version >= 17 {
            h(9)
        } else {
            total.saturating_sub(struct_off)
        };
        let block = |off: usize, size: usize| blob.get(off..off + size).unwrap_or(&[]);
        Tree {
            structs: block(struct_off, struct_size),
            strings: block(strings_off, h(8)),
        }
    }

    /// Word `i` of the structure block as it lies in memory (bytes in memory order,
    /// `u32::from_be` gives the token value); `None` past the block's last whole word.
    fn word(&self, i: usize) -> Option<u32> {
        aligned_word(self.structs, i)
    }

    #[inline(always)]
    fn token(&self, off: usize) -> Option<(Token<'a>, usize)> {
        token(self, off)
    }

    /// A node name from a `Token::Begin` of this tree.
    fn name(name: &'a [u8]) -> &'a str {
        // SAFETY: `name` comes from a BEGIN_NODE token at an offset that walks of this
        // tree reach from offset 0, as `Fdt::visit` does, which checked that the name
        // is UTF-8 before any reader saw it; the bytes are borrowed immutably since
        // (see `Tree`).
        unsafe { str::from_utf8_unchecked(name) }
    }

    /// The name of a property, from its offset in the strings block.
    fn prop_name(&self, nameoff: u32) -> &'a str {
        let off = nameoff as usize;
        match nul_at(self.strings, off).and_then(|n| self.strings.get(off..n)) {
            // SAFETY: `Fdt::visit` checked that every property token of this tree
            // names a NUL-terminated UTF-8 string at its offset; these are its bytes
            // up to that NUL, borrowed immutably since (see `Tree`).
            Some(b) => unsafe { str::from_utf8_unchecked(b) },
            // Cannot happen on a validated tree.
            None => "",
        }
    }

    /// Whether the property name at `nameoff` is `name`: compares bytes, no scan.
    fn prop_is(&self, nameoff: u32, name: &str) -> bool {
        str_at_is(self.strings.get(nameoff as usize..).unwrap_or(&[]), name)
    }
}

/// The values of the properties asked for by name (`None`: absent).
pub type PropValues<'a, const N: usize> = [Option<&'a [u8]>; N];

/// What `Fdt::visit` calls for each node: (depth, node, name, values of the
/// properties asked for), returning whether to visit the node's subtree. A trait
/// bound, not `dyn`: each caller's function is compiled into its walk (no call
/// through a pointer for each node).
pub trait NodeFn<'a, const N: usize, E>:
    FnMut(usize, Node<'a>, &'a str, &PropValues<'a, N>) -> Result<bool, E>
{
}

impl<'a, const N: usize, E, F> NodeFn<'a, N, E> for F where
    F: FnMut(usize, Node<'a>, &'a str, &PropValues<'a, N>) -> Result<bool, E>
{
}

/// A node, by the offset of its BEGIN_NODE token. Small (24 bytes) on purpose: nodes
/// are copied freely (chains of ancestors, iterators), and the blocks are found again
/// from the blob's header when a node is read.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    /// The whole validated blob.
    blob: &'a [u8],
    /// Offset of the node's BEGIN_NODE token in the structure block.
    off: u32,
    /// Length of its name (which follows the token).
    name_len: u32,
}

impl<'a> Fdt<'a> {
    /// Check the header and the whole structure block of `data`.
    pub fn new(data: &'a [u8]) -> Result<Self, FdtError> {
        let fdt = Self::header(data)?;
        fdt.validate()?;
        Ok(fdt)
    }

    /// The checks of `new` but the structure block's: a blob whose header, blocks,
    /// memory reservation list and alignment are sound, its structure block not yet
    /// walked. Nothing but `new` and the validating walk (`visit`) may read one before
    /// that walk succeeded: the readers of a `Fdt` assume a walked tree (see `Tree`).
    pub(super) fn header(data: &'a [u8]) -> Result<Self, FdtError> {
        if data.len() < HEADER_LEN {
            return Err(FdtError::Truncated { len: data.len() });
        }
        // An 8-byte aligned blob (as it must be, checked last below) is read a word at
        // a time; any other one byte by byte, for the same values.
        let aligned = (data.as_ptr() as usize).is_multiple_of(8);
        let h = |i: usize| {
            if aligned {
                aligned_word(data, i).map_or(0, u32::from_be)
            } else {
                be32(data, i * 4).unwrap_or(0)
            }
        };
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
                Some(e) if is_zero_entry(e, aligned) => break &rsv_all[..n * 16],
                Some(_) if n < MAX_MEMRESERVE => n += 1,
                _ => return Err(FdtError::BadMemReserve { off: rsv_off }),
            }
        };
        // The structure block is 4-byte aligned in the blob (checked above); with the
        // blob 8-byte aligned in memory, as the specification requires (libfdt
        // refuses it otherwise too), it is read as aligned words (`Tree::word`).
        if !(data.as_ptr() as usize).is_multiple_of(8) {
            return Err(FdtError::Misaligned {
                addr: data.as_ptr() as usize,
            });
        }
        let tree = Tree { structs, strings };
        Ok(Self {
            blob: data,
            tree,
            rsvmap,
            total: total as usize,
            version,
            chosen: None,
        })
    }

    /// This blob with `chosen` (the first child of the root named `chosen`, a unit
    /// address allowed, as `find("/chosen")` reads it) kept for `chosen`. Kept only when
    /// the root's BEGIN_NODE opens the structure block: otherwise `root` (the node at
    /// offset 0) is not the node whose children the walk saw.
    pub(super) fn with_chosen(mut self, chosen: Node<'a>) -> Self {
        if self.tree.word(0).map(u32::from_be) == Some(BEGIN_NODE) {
            self.chosen = Some((chosen.off, chosen.name_len));
        }
        self
    }

    /// `find("/chosen")`, without a search when the blob's reader already found it.
    pub fn chosen(&self) -> Option<Node<'a>> {
        match self.chosen {
            Some((off, name_len)) => Some(Node {
                blob: self.blob,
                off,
                name_len,
            }),
            None => self.find("/chosen"),
        }
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

    pub fn root(&self) -> Node<'a> {
        // The root's name is empty: its BEGIN_NODE is followed by a NUL.
        Node {
            blob: self.blob,
            off: 0,
            name_len: 0,
        }
    }

    /// Where the structure block starts in the blob (for the offsets of errors).
    fn struct_off(&self) -> usize {
        self.tree.structs.as_ptr() as usize - self.blob.as_ptr() as usize
    }

    /// Check every token of the structure block (`visit`, reading nothing).
    fn validate(&self) -> Result<(), FdtError> {
        const NONE: PropNameSet<0> = PropNameSet::new([]);
        self.visit(&NONE, &mut |_, _, _, _: &PropValues<'a, 0>| Ok(true))
    }

    /// One pass over the structure block that checks each token as it reads it and
    /// calls `f(depth, node, name, values)` for every node in tree order: the root
    /// first (depth 0, the node `root` gives), its children at depth 1. `values[i]` is
    /// the value of the node's first property named `names[i]` (`names` distinct, at
    /// most 32), `None` when absent; the root's are read as `root` reads them (none when
    /// its BEGIN_NODE does not open the block). `f` runs once the node's properties are
    /// over (at its first child or its end) and returns whether to visit its subtree
    /// (false skips it; its tokens are still checked).
    ///
    /// The rules (devicetree specification, 5.4): every token in the block and known;
    /// node names NUL-terminated UTF-8, property names NUL-terminated UTF-8 strings
    /// of the strings block; a node's properties before its subnodes; nesting balanced
    /// and at most `MAX_DEPTH` deep; one root node, followed only by NOPs and FDT_END.
    /// The first rule broken is the error, whatever `f` did: when `f` fails, the rest
    /// of the block is checked before its error is returned, so an error of `f` means
    /// a well-formed tree. `f` sees only bytes already checked (the node's name, its
    /// properties and those of the nodes before it).
    // Not inlined: the walk's loop keeps its state in registers; `f` (called once a
    // node) runs in `deliver`, out of the loop.
    #[inline(never)]
    pub(super) fn visit<const N: usize, E: From<FdtError>>(
        &self,
        names: &PropNameSet<N>,
        f: &mut impl NodeFn<'a, N, E>,
    ) -> Result<(), E> {
        let tree = self.tree;
        let structs = tree.structs;
        let words = structs.len() / 4;
        let prop_names = PropNames::new(self.blob, tree.strings);
        let word = |i: usize| tree.word(i).map(u32::from_be);
        let bad = |w: usize| FdtError::BadStructure(self.struct_off() + 4 * w);
        // (name offset + 1) | (index in `names`, or N) << 33 of the property names
        // already checked, by a hash of the offset (0: none). A tree's properties share
        // a few names (dtc writes each once), so most are checked and matched once.
        let mut memo = [0u64; 32];
        let mut values: PropValues<'a, N> = [None; N];
        // Bit k < N: `values[k]` is set; bit N (a name not in `names`) is always set,
        // and all bits are while the properties read are not collected (see above for
        // the root; a skipped subtree).
        let mut found = !0u64;
        // The node whose properties are being read: the offset of its BEGIN_NODE << 32
        // | the length of its name (NO_NODE: none; offsets and lengths are below 2^32,
        // see `Node::at`). Its depth is one less than `depth` until its properties end.
        const NO_NODE: u64 = u64::MAX;
        let mut pending = NO_NODE;
        // The depth of the node whose subtree `f` declined (usize::MAX: none).
        let mut skip = usize::MAX;
        // The token at word `w`, and the number of open nodes.
        let mut w = 0usize;
        let mut depth = 0usize;
        // Whether a property may come next: a node is open and has no child yet.
        let mut props_ok = false;
        loop {
            let tok = word(w).ok_or_else(|| bad(w))?;
            if matches!(tok, BEGIN_NODE | END_NODE) && pending != NO_NODE {
                let d = depth - 1;
                if !self.deliver(pending, d, &mut values, found, f)? {
                    skip = d;
                }
                pending = NO_NODE;
                found = !0;
            }
            match tok {
                BEGIN_NODE => {
                    let (nul, ascii) = name_end_ascii(&tree, w + 1).ok_or_else(|| bad(w))?;
                    let name = structs.get(4 * w + 4..nul).ok_or_else(|| bad(w))?;
                    if !ascii {
                        str::from_utf8(name).map_err(|_| bad(w))?;
                    }
                    if depth <= skip {
                        pending = ((4 * w) as u64) << 32 | name.len() as u64;
                        found = if depth > 0 || w == 0 { 1 << N } else { !0 };
                    }
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(FdtError::TooDeep.into());
                    }
                    props_ok = true;
                    w = (nul + 1).div_ceil(4);
                }
                PROP => {
                    if w + 2 >= words {
                        return Err(bad(w).into());
                    }
                    let len = word(w + 1).ok_or_else(|| bad(w))? as usize;
                    let nameoff = word(w + 2).ok_or_else(|| bad(w))?;
                    let end = (4 * w + 12).checked_add(len).ok_or_else(|| bad(w))?;
                    let value = structs.get(4 * w + 12..end).ok_or_else(|| bad(w))?;
                    let key = nameoff as u64 + 1;
                    let slot = (nameoff.wrapping_mul(0x9e37_79b1) >> 27) as usize;
                    let k = if memo[slot] & ((1 << 33) - 1) == key {
                        (memo[slot] >> 33) as usize
                    } else {
                        let k = prop_names
                            .index(names, nameoff)
                            .ok_or(FdtError::BadString(nameoff))?;
                        memo[slot] = key | (k as u64) << 33;
                        k
                    };
                    if !props_ok {
                        return Err(bad(w).into());
                    }
                    if found & 1 << k == 0 {
                        if let Some(v) = values.get_mut(k) {
                            *v = Some(value);
                        }
                        found |= 1 << k;
                    }
                    w = end.div_ceil(4);
                }
                NOP => w += 1,
                END_NODE if depth > 0 => {
                    depth -= 1;
                    if depth == skip {
                        skip = usize::MAX;
                    }
                    props_ok = false;
                    w += 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => return Err(bad(w).into()),
            }
        }
        // After the root closes, only NOPs and FDT_END may follow.
        loop {
            match word(w) {
                Some(NOP) => w += 1,
                Some(END) => return Ok(()),
                _ => return Err(bad(w).into()),
            }
        }
    }

    /// `visit`'s call of `f` for the node `pending` (see there) at depth `d`, whose
    /// values are `values` (bit k of `found`: `values[k]` is set), which it clears.
    /// Not inlined: called once a node, it keeps the token loop's registers free.
    #[inline(never)]
    fn deliver<const N: usize, E: From<FdtError>>(
        &self,
        pending: u64,
        d: usize,
        values: &mut PropValues<'a, N>,
        found: u64,
        f: &mut impl NodeFn<'a, N, E>,
    ) -> Result<bool, E> {
        let (off, len) = ((pending >> 32) as usize, pending as u32 as usize);
        let name = self.tree.structs.get(off + 4..off + 4 + len).unwrap_or(&[]);
        let node = if d == 0 {
            self.root()
        } else {
            Node::at(self.blob, off, name)
        };
        let r = f(d, node, Tree::name(name), values);
        let mut m = found & ((1 << N) - 1);
        while m != 0 {
            values[m.trailing_zeros() as usize] = None;
            m &= m - 1;
        }
        r.map_err(|e| self.validate().map_or_else(E::from, |_| e))
    }

    /// The node at an absolute path (`/`, `/chosen`, `/soc/uart@1000`). A unit
    /// address may be left out (`/memory` finds `/memory@0`).
    pub fn find(&self, path: &str) -> Option<Node<'a>> {
        let mut node = self.root();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.child(part)?;
        }
        Some(node)
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
            node = node.child(part)?;
        }
        Some((node, n))
    }
}

/// Which property names are NUL-terminated UTF-8 strings of the strings block. When
/// the whole block is UTF-8 (as every real one is), the string at an offset is one
/// exactly when a NUL follows it (the offset is at or before the block's last NUL)
/// and it starts a character (is not a continuation byte). Otherwise each name is
/// checked on its own (`cstr`).
struct PropNames<'a> {
    /// The whole blob, and where the strings block starts in it.
    blob: &'a [u8],
    base: usize,
    strings: &'a [u8],
    /// The block is UTF-8 and the blob 8-byte aligned in memory: names are checked by
    /// `last_nul` and compared 8 bytes a step (`load8`).
    fast: bool,
    last_nul: Option<usize>,
}

impl<'a> PropNames<'a> {
    /// The names of `strings`, a block of `blob`.
    fn new(blob: &'a [u8], strings: &'a [u8]) -> Self {
        Self {
            blob,
            base: (strings.as_ptr() as usize).wrapping_sub(blob.as_ptr() as usize),
            strings,
            fast: (blob.as_ptr() as usize).is_multiple_of(8) && str::from_utf8(strings).is_ok(),
            last_nul: strings.iter().rposition(|&c| c == 0),
        }
    }

    /// The index in `names` of the property name at `nameoff` (N: none of them), or
    /// `None` when it is not a NUL-terminated UTF-8 string of the block. Out of the
    /// walk's loop: `Fdt::visit` asks once for each name offset.
    #[inline(never)]
    fn index<const N: usize>(&self, names: &PropNameSet<N>, nameoff: u32) -> Option<usize> {
        let o = nameoff as usize;
        if !self.fast {
            return self.index_bytes(names, nameoff);
        }
        if self.last_nul.is_none_or(|n| o > n) || self.strings[o] & 0xc0 == 0x80 {
            return None;
        }
        // The aligned words holding the name and its NUL (at most 32 bytes from `p`),
        // and one more; near the blob's end, byte by byte.
        let p = self.base + o;
        let sh = 8 * (p % 8);
        let win = self.blob.get(p / 8 * 8..p / 8 * 8 + 8 * (NAME_WORDS + 1));
        let Some(win) = win.filter(|_| N > 0) else {
            return self.index_bytes(names, nameoff);
        };
        // The 8 bytes of the blob from `p + 8k`, little-endian (byte `p + 8k` lowest).
        let word = |k: usize| {
            let lo = u64::from_le(aligned_u64(win, k).unwrap_or(0));
            let hi = u64::from_le(aligned_u64(win, k + 1).unwrap_or(0));
            if sh == 0 {
                lo
            } else {
                lo >> sh | hi << (64 - sh)
            }
        };
        let x0 = word(0);
        // `bucket` of the first two bytes (the first is not the NUL of a name of the
        // set; a name that is "" matches none of them).
        let mut m = names.buckets[((x0 & 0xff ^ (x0 >> 8 & 0xff) << 1) & 63) as usize];
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if i >= N {
                break;
            }
            let (w, last, mask) = (&names.words[i], names.last[i], names.mask[i]);
            let mut k = 0;
            let mut x = x0;
            while k < last && x == w[k] {
                k += 1;
                x = word(k);
            }
            // The whole name and its NUL must lie in the block.
            if k == last && x & mask == w[k] && names.names[i].len() < self.strings.len() - o {
                return Some(i);
            }
        }
        Some(N)
    }

    /// `index` a byte at a time (a block that is not UTF-8, a name near the blob's
    /// end).
    #[cold]
    #[inline(never)]
    fn index_bytes<const N: usize>(&self, names: &PropNameSet<N>, nameoff: u32) -> Option<usize> {
        let o = nameoff as usize;
        let ok = if self.fast {
            self.last_nul.is_some_and(|n| o <= n) && self.strings[o] & 0xc0 != 0x80
        } else {
            cstr(self.strings, o).is_some()
        };
        if !ok {
            return None;
        }
        Some(names.index(self.strings.get(o..).unwrap_or(&[])))
    }
}

impl<'a> Node<'a> {
    /// The node whose BEGIN_NODE token is at `off`, with that token's name.
    fn at(blob: &'a [u8], off: usize, name: &[u8]) -> Self {
        // Offsets and name lengths fit: `Fdt::new` takes blobs of at most 4 GiB
        // (totalsize is 32 bits).
        Node {
            blob,
            off: off as u32,
            name_len: name.len() as u32,
        }
    }

    fn tree(&self) -> Tree<'a> {
        Tree::of(self.blob)
    }

    /// The node's name, unit address included (`uart@9c090000`); "" for the root.
    pub fn name(&self) -> &'a str {
        let start = self.off as usize + 4;
        match self
            .tree()
            .structs
            .get(start..start + self.name_len as usize)
        {
            Some(name) => Tree::name(name),
            // Cannot happen: the node was read from this block.
            None => "",
        }
    }

    /// The offset of the token after this node's BEGIN_NODE (`token(off)`'s next).
    /// The name's length is known (its bytes hold no NUL: `Node::at` takes a token's
    /// name, up to its first NUL; the root's is empty), so the NUL is looked for only
    /// where it must be; a node whose token is not a BEGIN_NODE with a NUL there (a
    /// root at offset 0 that is not a node) is decoded with `token`.
    fn body(&self, tree: &Tree<'a>) -> Option<usize> {
        let off = self.off as usize;
        let nul = off + 4 + self.name_len as usize;
        if tree.word(off / 4).map(u32::from_be) == Some(BEGIN_NODE)
            && tree.structs.get(nul) == Some(&0)
        {
            Some(align4(nul + 1))
        } else {
            tree.token(off).map(|(_, n)| n)
        }
    }

    /// The (name offset, value) of each property of this node, in order.
    fn raw_props(&self) -> impl Iterator<Item = (u32, &'a [u8])> + 'a {
        let tree = self.tree();
        // Skip this node's BEGIN_NODE token.
        let mut off = self.body(&tree);
        core::iter::from_fn(move || loop {
            let (tok, next) = tree.token(off?)?;
            off = Some(next);
            match tok {
                Token::Prop { nameoff, value } => return Some((nameoff, value)),
                Token::Nop => continue,
                _ => return None,
            }
        })
    }

    /// The properties of this node, in order.
    pub fn props(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let tree = self.tree();
        self.raw_props()
            .map(move |(nameoff, v)| (tree.prop_name(nameoff), v))
    }

    pub fn prop(&self, name: &str) -> Option<&'a [u8]> {
        let tree = self.tree();
        let mut off = self.body(&tree)?;
        loop {
            let (tok, next) = tree.token(off)?;
            match tok {
                Token::Prop { nameoff, value } if tree.prop_is(nameoff, name) => {
                    return Some(value)
                }
                Token::Prop { .. } | Token::Nop => off = next,
                _ => return None,
            }
        }
    }

    /// Several properties in one pass over the node: `out[i]` is the value of
    /// `names[i]` (the first one, as `prop` finds), `None` when absent.
    pub fn props_of<const N: usize>(&self, names: [&str; N]) -> [Option<&'a [u8]>; N] {
        let mut out = [None; N];
        let tree = self.tree();
        for (nameoff, v) in self.raw_props() {
            // `names` by reference: zipping the array itself copies it for each
            // property.
            for (o, name) in out.iter_mut().zip(names.iter()) {
                if o.is_none() && tree.prop_is(nameoff, name) {
                    *o = Some(v);
                }
            }
        }
        out
    }

    /// A string property (the first string of a string list).
    pub fn prop_str(&self, name: &str) -> Option<&'a str> {
        first_string(self.prop(name)?)
    }

    /// Whether a string-list property (`compatible`) contains `s`.
    pub fn has_str(&self, name: &str, s: &str) -> bool {
        self.prop(name).is_some_and(|v| list_has(v, s))
    }

    /// Whether the node may be used: `status` absent, "okay" or "ok" (devicetree
    /// specification, 2.3.4; "ok" is the older spelling Linux and Xen still accept).
    pub fn is_available(&self) -> bool {
        status_ok(self.prop("status"))
    }

    /// A property that must hold exactly one NUL-terminated UTF-8 string: `None` when
    /// absent, the rule broken when malformed.
    pub fn prop_string(&self, name: &str) -> Option<Result<&'a str, StringError>> {
        self.prop(name).map(one_string)
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
        self.named_children().map(|(node, _)| node)
    }

    /// The direct children of this node, each with its name's bytes. A child's
    /// subtree is passed over with `skip_node`, which reads no names of properties.
    fn named_children(&self) -> impl Iterator<Item = (Node<'a>, &'a [u8])> + 'a {
        let (blob, tree) = (self.blob, self.tree());
        let mut off = self.body(&tree);
        core::iter::from_fn(move || loop {
            let here = off?;
            let (tok, next) = tree.token(here)?;
            match tok {
                Token::Begin(name) => {
                    off = skip_node(&tree, here);
                    return Some((Node::at(blob, here, name), name));
                }
                Token::Prop { .. } | Token::Nop => off = Some(next),
                Token::End | Token::Finish => {
                    off = None;
                    return None;
                }
            }
        })
    }

    /// The child named `part`, or whose name is `part` and a unit address
    /// (`memory` matches `memory@0`) when `part` has none.
    pub fn child(&self, part: &str) -> Option<Node<'a>> {
        self.named_children()
            .find(|&(_, n)| component_bytes_is(n, part))
            .map(|(node, _)| node)
    }
}

/// Whether a node named `name` is what the path component `part` names (as `find`
/// reads paths): `part` itself, or `part` with a unit address when `part` has none.
#[inline]
pub fn component_is(name: &str, part: &str) -> bool {
    component_bytes_is(name.as_bytes(), part)
}

/// `component_is` on a name's bytes. The bytes are compared first (most names differ
/// from `part` in their first byte).
#[inline]
fn component_bytes_is(n: &[u8], part: &str) -> bool {
    let p = part.as_bytes();
    if n.len() < p.len() {
        return false;
    }
    let (head, rest) = n.split_at(p.len());
    bytes_eq(head, p) && (rest.is_empty() || rest[0] == b'@' && !p.contains(&b'@'))
}

/// A property value that must be exactly one NUL-terminated UTF-8 string.
pub fn one_string(v: &[u8]) -> Result<&str, StringError> {
    let Some((0, body)) = v.split_last() else {
        return Err(StringError::NotTerminated);
    };
    let (nul, ascii) = nul_and_ascii(body);
    if nul {
        Err(StringError::SeveralStrings)
    } else if ascii {
        // SAFETY: every byte of `body` is below 0x80 (just checked), and ASCII is
        // valid UTF-8.
        Ok(unsafe { str::from_utf8_unchecked(body) })
    } else {
        str::from_utf8(body).map_err(|_| StringError::NotUtf8)
    }
}

/// Whether `b` holds a NUL, and whether all its bytes are ASCII (below 0x80), in one
/// pass: a word at a time when `b` starts 4-byte aligned in memory (a property value
/// of a validated tree does, see `Tree`), byte by byte otherwise and for the tail.
fn nul_and_ascii(b: &[u8]) -> (bool, bool) {
    let words = if (b.as_ptr() as usize).is_multiple_of(4) {
        b.len() / 4
    } else {
        0
    };
    let (mut zeros, mut high) = (0u32, 0u32);
    for i in 0..words {
        // SAFETY: word i lies inside `b` (i < b.len() / 4) at a multiple of 4 from its
        // start, which was just checked to be 4-byte aligned in memory; any 4 bytes
        // are a valid u32, and `b` is borrowed immutably, so nothing writes them.
        let x = unsafe { b.as_ptr().add(4 * i).cast::<u32>().read() };
        zeros |= zero_bytes(x);
        high |= x;
    }
    for &c in &b[4 * words..] {
        zeros |= (c == 0) as u32;
        high |= c as u32;
    }
    (zeros != 0, high & 0x8080_8080 == 0)
}

/// The bytes of `v` before its first NUL (which must be there), when they are UTF-8:
/// the first string of a string list. One pass finds the NUL and whether the bytes
/// before it are ASCII, a word at a time when `v` starts 4-byte aligned in memory (a
/// property value of a validated tree does, see `Tree`), byte by byte otherwise and
/// for the tail; only a string with other bytes is checked as UTF-8.
fn first_string(v: &[u8]) -> Option<&str> {
    let words = if (v.as_ptr() as usize).is_multiple_of(4) {
        v.len() / 4
    } else {
        0
    };
    // The high bits of the bytes before the NUL.
    let mut high = 0u32;
    let mut nul = None;
    for i in 0..words {
        // SAFETY: word i lies inside `v` (i < v.len() / 4) at a multiple of 4 from its
        // start, which was just checked to be 4-byte aligned in memory; any 4 bytes
        // are a valid u32, and `v` is borrowed immutably, so nothing writes them.
        let x = u32::from_le(unsafe { v.as_ptr().add(4 * i).cast::<u32>().read() });
        let zero = zero_bytes(x);
        if zero != 0 {
            // `zero_bytes` is exact: its lowest bit marks the first zero byte, and
            // the bits below it are those of the bytes before it.
            high |= x & ((zero & zero.wrapping_neg()) - 1);
            nul = Some(4 * i + (zero.trailing_zeros() / 8) as usize);
            break;
        }
        high |= x;
    }
    let nul = match nul {
        Some(n) => n,
        None => {
            let mut j = 4 * words;
            loop {
                let c = *v.get(j)?;
                if c == 0 {
                    break j;
                }
                high |= c as u32;
                j += 1;
            }
        }
    };
    let body = v.get(..nul)?;
    if high & 0x8080_8080 == 0 {
        // SAFETY: every byte of `body` is below 0x80 (their high bits are all in
        // `high`, just checked), and ASCII is valid UTF-8.
        Some(unsafe { str::from_utf8_unchecked(body) })
    } else {
        str::from_utf8(body).ok()
    }
}

/// Whether a string-list value (`compatible`) contains `s`: `list_match(v, &[s])`,
/// with only the pieces of `s`'s length compared.
pub fn list_has(v: &[u8], s: &str) -> bool {
    let mut has = false;
    list_pieces(v, |p| {
        has |= p.len() == s.len() && bytes_eq(p, s.as_bytes())
    });
    has
}

/// Whether a string-list value contains any of `wanted`: one pass over the value.
pub fn list_has_any(v: &[u8], wanted: &[&str]) -> bool {
    list_match(v, wanted) != 0
}

/// Which of `wanted` (at most 32) a string-list value contains, as a mask (bit i:
/// `wanted[i]`), in one pass over the value. The pieces are those of
/// `v.split(|&c| c == 0)` (an unterminated tail is one too).
pub fn list_match(v: &[u8], wanted: &[&str]) -> u32 {
    debug_assert!(wanted.len() <= 32);
    // Bit l: some wanted string is l bytes long (63: 63 or more). A piece of another
    // length is passed over without comparing.
    let lengths = wanted.iter().fold(0u64, |m, w| m | 1 << w.len().min(63));
    let mut mask = 0;
    list_pieces(v, |p| {
        if lengths >> p.len().min(63) & 1 == 0 {
            return;
        }
        for (i, w) in wanted.iter().enumerate() {
            // Lengths first: most pieces differ from most names there.
            if w.len() == p.len() && bytes_eq(w.as_bytes(), p) {
                mask |= 1 << i;
            }
        }
    });
    mask
}

/// Strings that `list_match_set` looks for (at most 32), filed by length at compile
/// time.
pub struct StrSet<const N: usize> {
    strs: [&'static str; N],
    /// Bit i of entry l: `strs[i]` is l bytes long (entry 63: 63 or more).
    by_len: [u32; 64],
}

impl<const N: usize> StrSet<N> {
    pub const fn new(strs: [&'static str; N]) -> Self {
        assert!(N <= 32);
        let mut by_len = [0u32; 64];
        let mut i = 0;
        while i < N {
            let l = if strs[i].len() < 63 {
                strs[i].len()
            } else {
                63
            };
            by_len[l] |= 1 << i;
            i += 1;
        }
        Self { strs, by_len }
    }
}

/// `list_match(v, &set's strings)`: a piece is compared only with the strings of its
/// length.
pub fn list_match_set<const N: usize>(v: &[u8], set: &StrSet<N>) -> u32 {
    let mut mask = 0;
    list_pieces(v, |p| {
        let mut m = set.by_len[p.len().min(63)];
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            if i < N && bytes_eq(set.strs[i].as_bytes(), p) {
                mask |= 1 << i;
            }
            m &= m - 1;
        }
    });
    mask
}

/// Each piece of `v.split(|&c| c == 0)` (an unterminated tail is one too), in order.
#[inline(always)]
fn list_pieces(v: &[u8], mut f: impl FnMut(&[u8])) {
    let mut start = 0;
    // A property value in a validated tree starts 4-byte aligned (see `Tree`): its
    // NULs are found a word at a time (the others byte by byte).
    let words = if (v.as_ptr() as usize).is_multiple_of(4) {
        v.len() / 4
    } else {
        0
    };
    let mut i = 0;
    while i < words {
        // SAFETY: word i lies inside `v` (i < v.len() / 4) at a multiple of 4 from its
        // start, which was just checked to be 4-byte aligned in memory; any 4 bytes
        // are a valid u32, and `v` is borrowed immutably, so nothing writes them.
        let x = unsafe { v.as_ptr().add(4 * i).cast::<u32>().read() };
        let mut zero = zero_bytes(u32::from_le(x));
        while zero != 0 {
            let end = 4 * i + (zero.trailing_zeros() / 8) as usize;
            f(v.get(start..end).unwrap_or(&[]));
            start = end + 1;
            zero &= zero - 1;
        }
        i += 1;
    }
    let mut j = 4 * words;
    while j < v.len() {
        if v[j] == 0 {
            f(v.get(start..j).unwrap_or(&[]));
            start = j + 1;
        }
        j += 1;
    }
    f(v.get(start..).unwrap_or(&[]));
}

/// Bit 7 of each byte of `x` that is zero, and no other bit: exact for every byte
/// (no borrow from one byte into the next, unlike the test `nul_at` uses, which is
/// exact for the lowest zero byte only).
const fn zero_bytes(x: u32) -> u32 {
    !(((x & 0x7f7f_7f7f) + 0x7f7f_7f7f) | x | 0x7f7f_7f7f)
}

/// `a == b`, a byte loop: names are short, and a call to memcmp costs more than the
/// compare.
#[inline]
pub const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `a == b` for property values: a word at a time when both start 4-byte aligned in
/// memory (values of a validated tree do, see `Tree`), byte by byte otherwise and for
/// the tail.
pub fn values_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let words = if (a.as_ptr() as usize | b.as_ptr() as usize).is_multiple_of(4) {
        a.len() / 4
    } else {
        0
    };
    for i in 0..words {
        // SAFETY: word i lies inside `a` and `b` (same length, i < len / 4) at a
        // multiple of 4 from their starts, both just checked to be 4-byte aligned in
        // memory; any 4 bytes are a valid u32, and both are borrowed immutably, so
        // nothing writes them.
        let (x, y) = unsafe {
            (
                a.as_ptr().add(4 * i).cast::<u32>().read(),
                b.as_ptr().add(4 * i).cast::<u32>().read(),
            )
        };
        if x != y {
            return false;
        }
    }
    bytes_eq(&a[4 * words..], &b[4 * words..])
}

/// Whether a `status` value (or its absence) makes a node available.
pub fn status_ok(v: Option<&[u8]>) -> bool {
    match v {
        None => true,
        Some(v) => matches!(v, b"okay\0" | b"ok\0"),
    }
}

/// Read `cells` 32-bit cells at `v[*i..]` as one number, advancing `*i`.
#[inline(always)]
pub fn read_cells(v: &[u8], i: &mut usize, cells: u32) -> Option<u64> {
    // One or two cells (every number rxen reads): inline, no loop.
    if cells == 1 || cells == 2 {
        let mut x = cell(v, *i)? as u64;
        *i += 4;
        if cells == 2 {
            x = x << 32 | cell(v, *i)? as u64;
            *i += 4;
        }
        return Some(x);
    }
    read_many_cells(v, i, cells)
}

/// `read_cells` for a count other than 1 or 2.
#[inline(never)]
fn read_many_cells(v: &[u8], i: &mut usize, cells: u32) -> Option<u64> {
    let mut x: u64 = 0;
    for _ in 0..cells {
        let c = be32(v, *i)?;
        x = x.checked_shl(32)? | c as u64;
        *i += 4;
    }
    Some(x)
}

/// The first 32-bit cell of `v` (see `cell`).
#[inline(always)]
pub(super) fn one_cell(v: &[u8]) -> Option<u32> {
    cell(v, 0)
}

/// The big-endian 32-bit cell at `off` of `v`: one load when it lies 4-byte aligned in
/// memory (a property value of a validated tree starts so, see `Tree`), else bytes.
#[inline(always)]
fn cell(v: &[u8], off: usize) -> Option<u32> {
    let s = v.get(off..off.checked_add(4)?)?;
    if (s.as_ptr() as usize).is_multiple_of(4) {
        // SAFETY: `s` is 4 bytes long (just sliced) and starts 4-byte aligned in memory
        // (just checked); any 4 bytes are a valid u32, and `v` is borrowed immutably,
        // so nothing writes them.
        Some(u32::from_be(unsafe { s.as_ptr().cast::<u32>().read() }))
    } else {
        Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `first_string` is the bytes before the first NUL, when there is one and they
    /// are UTF-8, whether the value starts 4-byte aligned (read a word at a time) or
    /// not, and wherever the NUL falls in a word.
    #[test]
    fn first_string_is_the_utf8_before_the_first_nul_at_every_alignment() {
        #[repr(C, align(8))]
        struct Buf([u8; 40]);
        let cases: [&[u8]; 11] = [
            b"",
            b"\0",
            b"abc",
            b"abc\0",
            b"abcd\0",
            b"/uart@9c090000\0",
            b"a\0\xff",
            b"ab\xffc\0",
            "caf\u{e9}\0".as_bytes(),
            b"abcdefg\xc3\0",
            b"abcdefgh\x80bc\0de\0",
        ];
        for v in cases {
            let want = v
                .iter()
                .position(|&c| c == 0)
                .and_then(|n| str::from_utf8(&v[..n]).ok());
            for shift in 0..4 {
                let mut buf = Buf([0xaa; 40]);
                buf.0[shift..shift + v.len()].copy_from_slice(v);
                let got = first_string(&buf.0[shift..shift + v.len()]);
                assert_eq!(got, want, "{v:?} at offset {shift}");
            }
        }
    }
}
