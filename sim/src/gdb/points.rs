// SPDX-License-Identifier: GPL-2.0-only
//! The breakpoints and watchpoints a debugger has set, as plain data. The machine
//! asks it which addresses stop execution and which data accesses to a TLB page it
//! must see one by one; it never touches Unicorn and never writes guest memory (a
//! software breakpoint is checked by the simulator, not planted as a BRK).

use std::collections::BTreeMap;

/// What a watchpoint watches (GDB's `watch`, `rwatch`, `awatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    Write,
    Read,
    Access,
}

impl WatchKind {
    fn sees(self, write: bool) -> bool {
        match self {
            WatchKind::Write => write,
            WatchKind::Read => !write,
            WatchKind::Access => true,
        }
    }
}

/// One watchpoint: `len` bytes from `addr` (physical).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

impl Watch {
    /// Whether [addr, addr + size) meets the watched bytes.
    fn overlaps(&self, addr: u64, size: u64) -> bool {
        let end = self.addr.saturating_add(self.len.max(1));
        addr < end && self.addr < addr.saturating_add(size.max(1))
    }
}

/// A watchpoint hit: which watchpoint, and the first watched byte the access reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchHit {
    pub watch: Watch,
    pub addr: u64,
}

/// Breakpoints (software and hardware, both checked by the simulator before the
/// instruction at their address executes) and watchpoints. Each may be set more than
/// once; it stays until removed as often.
#[derive(Clone, Debug, Default)]
pub struct Points {
    sw: BTreeMap<u64, u32>,
    hw: BTreeMap<u64, u32>,
    watches: Vec<Watch>,
}

fn inc(m: &mut BTreeMap<u64, u32>, addr: u64) {
    *m.entry(addr).or_insert(0) += 1;
}

fn dec(m: &mut BTreeMap<u64, u32>, addr: u64) -> bool {
    match m.get_mut(&addr) {
        Some(n) if *n > 1 => {
            *n -= 1;
            true
        }
        Some(_) => {
            m.remove(&addr);
            true
        }
        None => false,
    }
}

impl Points {
    pub fn add_breakpoint(&mut self, addr: u64, hw: bool) {
        inc(if hw { &mut self.hw } else { &mut self.sw }, addr);
    }

    /// Remove one breakpoint of this kind at `addr`; false if there was none.
    pub fn remove_breakpoint(&mut self, addr: u64, hw: bool) -> bool {
        dec(if hw { &mut self.hw } else { &mut self.sw }, addr)
    }

    /// The breakpoint at `addr`, if any: `Some(true)` for a hardware one only.
    pub fn breakpoint_at(&self, addr: u64) -> Option<bool> {
        if self.sw.contains_key(&addr) {
            Some(false)
        } else if self.hw.contains_key(&addr) {
            Some(true)
        } else {
            None
        }
    }

    pub fn add_watch(&mut self, w: Watch) {
        self.watches.push(w);
    }

    /// Remove one watchpoint equal to `w`; false if there was none.
    pub fn remove_watch(&mut self, w: Watch) -> bool {
        match self.watches.iter().position(|x| *x == w) {
            Some(i) => {
                self.watches.remove(i);
                true
            }
            None => false,
        }
    }

    pub fn watches(&self) -> &[Watch] {
        &self.watches
    }

    /// The data accesses to [page, page + size) that must not be granted a TLB
    /// entry, so that each is checked: (reads, writes).
    pub fn page_watched(&self, page: u64, size: u64) -> (bool, bool) {
        let mut r = false;
        let mut w = false;
        for x in self.watches.iter().filter(|x| x.overlaps(page, size)) {
            r |= x.kind.sees(false);
            w |= x.kind.sees(true);
        }
        (r, w)
    }

    /// The watchpoint an access of `size` bytes at `addr` triggers, if any (the
    /// first set), with the first watched byte it touches.
    pub fn hit(&self, addr: u64, size: u64, write: bool) -> Option<WatchHit> {
        self.watches
            .iter()
            .find(|x| x.kind.sees(write) && x.overlaps(addr, size))
            .map(|x| WatchHit {
                watch: *x,
                addr: addr.max(x.addr),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Watch = Watch {
        addr: 0x1000,
        len: 8,
        kind: WatchKind::Write,
    };

    #[test]
    fn breakpoints_count_their_settings_and_software_wins() {
        let mut p = Points::default();
        assert_eq!(p.breakpoint_at(0x40), None);
        p.add_breakpoint(0x40, true);
        assert_eq!(p.breakpoint_at(0x40), Some(true));
        p.add_breakpoint(0x40, false);
        p.add_breakpoint(0x40, false);
        assert_eq!(p.breakpoint_at(0x40), Some(false));
        assert!(p.remove_breakpoint(0x40, false));
        assert_eq!(
            p.breakpoint_at(0x40),
            Some(false),
            "set twice, removed once"
        );
        assert!(p.remove_breakpoint(0x40, false));
        assert_eq!(p.breakpoint_at(0x40), Some(true));
        assert!(!p.remove_breakpoint(0x40, false));
        assert!(p.remove_breakpoint(0x40, true));
        assert_eq!(p.breakpoint_at(0x40), None);
    }

    #[test]
    fn a_write_watch_sees_writes_that_overlap_it_only() {
        let mut p = Points::default();
        p.add_watch(W);
        assert_eq!(p.hit(0x1000, 8, false), None, "a read");
        assert_eq!(p.hit(0xff8, 8, true), None, "the 8 bytes before");
        assert_eq!(p.hit(0x1008, 1, true), None, "the byte after");
        let h = p.hit(0xffc, 8, true).unwrap();
        assert_eq!(
            (h.watch, h.addr),
            (W, 0x1000),
            "a store straddling the start"
        );
        assert_eq!(p.hit(0x1007, 1, true).unwrap().addr, 0x1007);
    }

    #[test]
    fn read_and_access_watches_see_their_kinds() {
        let mut p = Points::default();
        let r = Watch {
            kind: WatchKind::Read,
            ..W
        };
        p.add_watch(r);
        assert!(p.hit(0x1000, 4, true).is_none());
        assert_eq!(p.hit(0x1004, 4, false).unwrap().watch, r);
        let a = Watch {
            addr: 0x2000,
            len: 1,
            kind: WatchKind::Access,
        };
        p.add_watch(a);
        assert_eq!(p.hit(0x2000, 1, true).unwrap().watch, a);
        assert_eq!(p.hit(0x1ff8, 16, false).unwrap().watch, a);
    }

    #[test]
    fn pages_holding_watched_bytes_have_those_accesses_checked() {
        let mut p = Points::default();
        assert_eq!(p.page_watched(0xc00, 0x400), (false, false));
        p.add_watch(W);
        assert_eq!(p.page_watched(0x1000, 0x400), (false, true));
        assert_eq!(p.page_watched(0xc00, 0x400), (false, false));
        assert_eq!(p.page_watched(0x1400, 0x400), (false, false));
        p.add_watch(Watch {
            addr: 0x13ff,
            len: 2,
            kind: WatchKind::Read,
        });
        assert_eq!(p.page_watched(0x1000, 0x400), (true, true));
        assert_eq!(
            p.page_watched(0x1400, 0x400),
            (true, false),
            "crosses the page"
        );
        assert!(p.remove_watch(W));
        assert!(!p.remove_watch(W));
        assert_eq!(p.page_watched(0x1000, 0x400), (true, false));
    }
}
