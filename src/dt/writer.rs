// SPDX-License-Identifier: GPL-2.0-only
//! A flattened-device-tree writer into a caller's buffer (version 17, as the Devicetree
//! Specification defines it), for the trees rxen generates for its guests. No
//! allocation: the structure block grows from the front of the buffer and the strings
//! are kept in a fixed table; `finish` lays the blob out. Running out of room is an
//! error, never a panic.

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_END: u32 = 9;
const HEADER: usize = 40;
/// The memory reservation block: one terminating (0, 0) entry.
const RSVMAP: usize = 16;
const STRINGS_MAX: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FdtWriteError {
    #[error("device tree writer: the {what} does not fit ({need} bytes needed)")]
    NoSpace { what: &'static str, need: usize },
    #[error("device tree writer: {what}")]
    Misuse { what: &'static str },
}

pub struct FdtWriter<'b> {
    buf: &'b mut [u8],
    /// End of the structure block so far (it starts after the header and rsvmap).
    pos: usize,
    strings: [u8; STRINGS_MAX],
    strings_len: usize,
    depth: usize,
}

impl<'b> FdtWriter<'b> {
    pub fn new(buf: &'b mut [u8]) -> Result<Self, FdtWriteError> {
        if buf.len() < HEADER + RSVMAP + 8 {
            return Err(FdtWriteError::NoSpace {
                what: "header",
                need: HEADER + RSVMAP + 8,
            });
        }
        buf[..HEADER + RSVMAP].fill(0);
        Ok(Self {
            buf,
            pos: HEADER + RSVMAP,
            strings: [0; STRINGS_MAX],
            strings_len: 0,
            depth: 0,
        })
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), FdtWriteError> {
        let padded = bytes.len().next_multiple_of(4);
        let end = self.pos + padded;
        if end > self.buf.len() {
            return Err(FdtWriteError::NoSpace {
                what: "structure block",
                need: end,
            });
        }
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.buf[self.pos + bytes.len()..end].fill(0);
        self.pos = end;
        Ok(())
    }

    fn put_u32(&mut self, v: u32) -> Result<(), FdtWriteError> {
        self.put(&v.to_be_bytes())
    }

    /// The offset of `name` in the strings block, adding it if new.
    fn string(&mut self, name: &str) -> Result<u32, FdtWriteError> {
        let table = &self.strings[..self.strings_len];
        let mut off = 0;
        for s in table.split(|&b| b == 0) {
            if s == name.as_bytes() && off < self.strings_len {
                return Ok(off as u32);
            }
            off += s.len() + 1;
        }
        let need = self.strings_len + name.len() + 1;
        if need > STRINGS_MAX {
            return Err(FdtWriteError::NoSpace {
                what: "strings block",
                need,
            });
        }
        let at = self.strings_len;
        self.strings[at..at + name.len()].copy_from_slice(name.as_bytes());
        self.strings[at + name.len()] = 0;
        self.strings_len = need;
        Ok(at as u32)
    }

    pub fn begin_node(&mut self, name: &str) -> Result<(), FdtWriteError> {
        self.put_u32(FDT_BEGIN_NODE)?;
        let mut n = [0u8; 64];
        let len = name.len().min(63);
        n[..len].copy_from_slice(&name.as_bytes()[..len]);
        self.put(&n[..len + 1])?;
        self.depth += 1;
        Ok(())
    }

    pub fn end_node(&mut self) -> Result<(), FdtWriteError> {
        if self.depth == 0 {
            return Err(FdtWriteError::Misuse {
                what: "end_node without begin_node",
            });
        }
        self.depth -= 1;
        self.put_u32(FDT_END_NODE)
    }

    pub fn prop(&mut self, name: &str, value: &[u8]) -> Result<(), FdtWriteError> {
        let nameoff = self.string(name)?;
        self.put_u32(FDT_PROP)?;
        self.put_u32(value.len() as u32)?;
        self.put_u32(nameoff)?;
        self.put(value)
    }

    pub fn prop_u32(&mut self, name: &str, v: u32) -> Result<(), FdtWriteError> {
        self.prop(name, &v.to_be_bytes())
    }

    /// A property of 64-bit values, each as two cells (for #address-cells = 2 and
    /// #size-cells = 2).
    pub fn prop_u64s(&mut self, name: &str, values: &[u64]) -> Result<(), FdtWriteError> {
        let mut b = [0u8; 128];
        let n = values.len() * 8;
        if n > b.len() {
            return Err(FdtWriteError::NoSpace {
                what: "property value",
                need: n,
            });
        }
        for (i, v) in values.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
        }
        self.prop(name, &b[..n])
    }

    /// A string list property (each string NUL-terminated).
    pub fn prop_strs(&mut self, name: &str, values: &[&str]) -> Result<(), FdtWriteError> {
        let mut b = [0u8; 256];
        let mut n = 0;
        for v in values {
            let end = n + v.len() + 1;
            if end > b.len() {
                return Err(FdtWriteError::NoSpace {
                    what: "property value",
                    need: end,
                });
            }
            b[n..n + v.len()].copy_from_slice(v.as_bytes());
            n = end;
        }
        self.prop(name, &b[..n])
    }

    pub fn prop_str(&mut self, name: &str, value: &str) -> Result<(), FdtWriteError> {
        self.prop_strs(name, &[value])
    }

    /// Close the structure block, append the strings and write the header. Returns
    /// the blob's total size.
    pub fn finish(mut self) -> Result<usize, FdtWriteError> {
        if self.depth != 0 {
            return Err(FdtWriteError::Misuse {
                what: "finish with nodes still open",
            });
        }
        self.put_u32(FDT_END)?;
        let struct_off = HEADER + RSVMAP;
        let struct_size = self.pos - struct_off;
        let strings_off = self.pos;
        let total = strings_off + self.strings_len;
        if total > self.buf.len() {
            return Err(FdtWriteError::NoSpace {
                what: "strings block",
                need: total,
            });
        }
        self.buf[strings_off..total].copy_from_slice(&self.strings[..self.strings_len]);
        // magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap (right after
        // the header), version, last_comp_version, boot_cpuid_phys, size_dt_strings,
        // size_dt_struct.
        let fields = [
            FDT_MAGIC,
            total as u32,
            struct_off as u32,
            strings_off as u32,
            HEADER as u32,
            17,
            16,
            0,
            self.strings_len as u32,
            struct_size as u32,
        ];
        for (i, f) in fields.iter().enumerate() {
            self.buf[i * 4..i * 4 + 4].copy_from_slice(&f.to_be_bytes());
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dt::Fdt;

    #[test]
    fn a_written_tree_reads_back_with_the_reader() {
        // On the heap: 8-byte aligned, as the reader requires of a blob.
        let mut buf = vec![0u8; 1024];
        let mut w = FdtWriter::new(&mut buf).unwrap();
        w.begin_node("").unwrap();
        w.prop_u32("#address-cells", 2).unwrap();
        w.prop_u32("#size-cells", 2).unwrap();
        w.begin_node("memory@20000000").unwrap();
        w.prop_str("device_type", "memory").unwrap();
        w.prop_u64s("reg", &[0x2000_0000, 0x100_0000]).unwrap();
        w.end_node().unwrap();
        w.begin_node("chosen").unwrap();
        w.prop_str("bootargs", "hello").unwrap();
        w.end_node().unwrap();
        w.end_node().unwrap();
        let n = w.finish().unwrap();
        let fdt = Fdt::new(&buf[..n]).unwrap();
        assert_eq!(fdt.total_size(), n);
        let mem = fdt.find("/memory@20000000").unwrap();
        assert_eq!(mem.prop_str("device_type"), Some("memory"));
        assert_eq!(
            mem.prop("reg").unwrap(),
            &[0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
        );
        assert_eq!(
            fdt.find("/chosen").unwrap().prop_str("bootargs"),
            Some("hello")
        );
        assert_eq!(fdt.root().prop_u32("#size-cells"), Some(2));
    }

    #[test]
    fn running_out_of_room_is_an_error_not_a_panic() {
        let mut buf = [0u8; 80];
        let mut w = FdtWriter::new(&mut buf).unwrap();
        w.begin_node("").unwrap();
        let e = w.prop("big", &[0u8; 64]).unwrap_err();
        assert!(matches!(e, FdtWriteError::NoSpace { .. }));
        let mut small = [0u8; 8];
        assert!(FdtWriter::new(&mut small).is_err());
        let mut buf = [0u8; 256];
        let mut w = FdtWriter::new(&mut buf).unwrap();
        w.begin_node("").unwrap();
        assert!(matches!(w.finish(), Err(FdtWriteError::Misuse { .. })));
    }
}
