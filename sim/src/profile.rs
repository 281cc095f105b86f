// SPDX-License-Identifier: GPL-2.0-only
//! The instruction profiler behind `--profile-report` and `--folded`: instructions
//! attributed to every function of the ELF, self and inclusive, with call counts, and
//! collapsed stacks in the format the `inferno` (and Brendan Gregg's) flame-graph
//! tools read. Pure: the machine feeds it executed blocks; nothing here touches
//! Unicorn. Deterministic: the same sequence of blocks gives the same report.
//!
//! Call stacks are followed through the control flow the blocks show: a block that
//! ends in BL/BLR calls the function the next block is in; one that ends in RET
//! returns to the frame whose return address the next block starts at; an exception
//! entry pushes an "[exception]" frame that ERET pops.
use std::collections::BTreeMap;
use std::fmt::Write;

/// How the previous block ended, as far as call stacks care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Call,
    Return,
    ExceptionReturn,
    Other,
}

/// Classify the last instruction of a block.
pub fn flow_of(insn: u32) -> Flow {
    if insn & 0xfc00_0000 == 0x9400_0000 || insn & 0xffff_fc1f == 0xd63f_0000 {
        Flow::Call // BL imm26, BLR Xn
    } else if insn & 0xffff_fc1f == 0xd65f_0000 {
        Flow::Return // RET Xn
    } else if insn == 0xd69f_03e0 {
        Flow::ExceptionReturn
    } else {
        Flow::Other
    }
}

const EXCEPTION: usize = usize::MAX;

#[derive(Clone, Copy, Debug)]
struct Frame {
    func: usize,
    /// Where a RET resumes this frame's caller (0 for frames not entered by a call).
    ret: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FunctionCounts {
    pub self_insns: u64,
    pub inclusive_insns: u64,
    pub calls: u64,
}

pub struct Profiler {
    /// (start, end exclusive, name), sorted by start.
    funcs: Vec<(u64, u64, String)>,
    stack: Vec<Frame>,
    counts: Vec<FunctionCounts>,
    unknown: FunctionCounts,
    folded: BTreeMap<Vec<usize>, u64>,
    total: u64,
    /// End of the previous block and how it ended.
    prev: Option<(u64, Flow)>,
}

impl Profiler {
    /// `symbols`: (name, address, size) of the ELF's code symbols. A symbol without a
    /// size (an assembly label) extends to the next symbol. Names are demangled.
    pub fn new(symbols: &[(String, u64, u64)]) -> Self {
        // `$x`/`$d` are ELF mapping symbols, not names.
        let mut sorted: Vec<_> = symbols
            .iter()
            .filter(|(n, _, _)| !n.is_empty() && !n.starts_with('$'))
            .collect();
        sorted.sort_by_key(|(n, a, size)| (*a, std::cmp::Reverse(*size), n.clone()));
        sorted.dedup_by(|a, b| a.1 == b.1);
        let mut funcs: Vec<(u64, u64, String)> = Vec::with_capacity(sorted.len());
        for (i, (n, a, size)) in sorted.iter().enumerate() {
            let next = sorted.get(i + 1).map_or(a + 4, |s| s.1);
            let end = if *size > 0 { a + size } else { next };
            let name = format!("{:#}", rustc_demangle::demangle(n));
            funcs.push((*a, end, name));
        }
        let n = funcs.len();
        Self {
            funcs,
            stack: Vec::new(),
            counts: vec![FunctionCounts::default(); n],
            unknown: FunctionCounts::default(),
            folded: BTreeMap::new(),
            total: 0,
            prev: None,
        }
    }

    fn func_at(&self, addr: u64) -> Option<usize> {
        let i = self.funcs.partition_point(|f| f.0 <= addr);
        (i > 0 && addr < self.funcs[i - 1].1).then(|| i - 1)
    }

    /// An exception was taken before the block at the next `block` call.
    pub fn exception(&mut self) {
        self.stack.push(Frame {
            func: EXCEPTION,
            ret: 0,
        });
        self.prev = None;
    }

    /// A block of `n` instructions at `addr` ran; `last` is its last instruction.
    pub fn block(&mut self, addr: u64, n: u64, last: u32) {
        let func = self.func_at(addr).unwrap_or(EXCEPTION - 1);
        match self.prev {
            Some((_, Flow::Return)) => {
                if let Some(pos) = self.stack.iter().rposition(|f| f.ret == addr) {
                    self.stack.truncate(pos);
                }
            }
            Some((_, Flow::ExceptionReturn)) => {
                if let Some(pos) = self.stack.iter().rposition(|f| f.func == EXCEPTION) {
                    self.stack.truncate(pos);
                }
            }
            _ => {}
        }
        let called = matches!(self.prev, Some((_, Flow::Call)));
        let top = self.stack.last().map(|f| f.func);
        if called || top.is_none() || top == Some(EXCEPTION) {
            let ret = match self.prev {
                Some((end, Flow::Call)) => end,
                _ => 0,
            };
            self.stack.push(Frame { func, ret });
            if let Some(c) = self.counts.get_mut(func) {
                c.calls += 1;
            } else {
                self.unknown.calls += 1;
            }
        } else if top != Some(func) {
            // A tail call or a branch into another function: the frame becomes it.
            if let Some(f) = self.stack.last_mut() {
                f.func = func;
            }
        }
        self.total += n;
        match self.counts.get_mut(func) {
            Some(c) => c.self_insns += n,
            None => self.unknown.self_insns += n,
        }
        let mut seen: Vec<usize> = Vec::with_capacity(self.stack.len());
        for f in &self.stack {
            if f.func != EXCEPTION && !seen.contains(&f.func) {
                seen.push(f.func);
                if let Some(c) = self.counts.get_mut(f.func) {
                    c.inclusive_insns += n;
                }
            }
        }
        let key: Vec<usize> = self.stack.iter().map(|f| f.func).collect();
        *self.folded.entry(key).or_insert(0) += n;
        self.prev = Some((addr + 4 * n, flow_of(last)));
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    fn name(&self, f: usize) -> &str {
        match f {
            EXCEPTION => "[exception]",
            f if f < self.funcs.len() => &self.funcs[f].2,
            _ => "[unknown]",
        }
    }

    /// Counts per function name, for tests and the report.
    pub fn counts(&self) -> Vec<(String, FunctionCounts)> {
        let mut v: Vec<_> = self
            .funcs
            .iter()
            .zip(&self.counts)
            .filter(|(_, c)| c.self_insns > 0 || c.calls > 0)
            .map(|(f, c)| (f.2.clone(), *c))
            .collect();
        if self.unknown.self_insns > 0 {
            v.push(("[unknown]".into(), self.unknown));
        }
        v.sort_by(|a, b| b.1.self_insns.cmp(&a.1.self_insns).then(a.0.cmp(&b.0)));
        v
    }

    /// The text report: one line per function, by self instructions.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>12} {:>6} {:>12} {:>6} {:>8}  function",
            "self", "self%", "inclusive", "incl%", "calls"
        );
        let pct = |n: u64| 100.0 * n as f64 / self.total.max(1) as f64;
        for (name, c) in self.counts() {
            let _ = writeln!(
                s,
                "{:>12} {:>5.1}% {:>12} {:>5.1}% {:>8}  {name}",
                c.self_insns,
                pct(c.self_insns),
                c.inclusive_insns,
                pct(c.inclusive_insns),
                c.calls
            );
        }
        let _ = writeln!(s, "{:>12} instructions in all", self.total);
        s
    }

    /// Collapsed stacks: `root;caller;callee count` per line.
    pub fn folded(&self) -> String {
        let mut s = String::new();
        for (stack, n) in &self.folded {
            let names: Vec<&str> = stack.iter().map(|&f| self.name(f)).collect();
            let _ = writeln!(s, "{} {n}", names.join(";"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BL: u32 = 0x9400_0010;
    const RET: u32 = 0xd65f_03c0;
    const NOP: u32 = 0xd503_201f;

    fn syms() -> Vec<(String, u64, u64)> {
        vec![
            ("main".into(), 0x1000, 0x100),
            ("leaf".into(), 0x2000, 0x40),
            ("helper".into(), 0x3000, 0x40),
        ]
    }

    #[test]
    fn self_inclusive_and_calls_follow_bl_and_ret() {
        let mut p = Profiler::new(&syms());
        p.block(0x1000, 4, BL); // main: 4, calls leaf from 0x100c
        p.block(0x2000, 3, RET); // leaf: 3
        p.block(0x1010, 2, BL); // back in main after the BL: 2, calls leaf again
        p.block(0x2000, 3, RET);
        p.block(0x1018, 1, NOP);
        let c: BTreeMap<_, _> = p.counts().into_iter().collect();
        assert_eq!(c["main"].self_insns, 7);
        assert_eq!(c["main"].inclusive_insns, 13);
        assert_eq!(c["main"].calls, 1);
        assert_eq!(c["leaf"].self_insns, 6);
        assert_eq!(c["leaf"].inclusive_insns, 6);
        assert_eq!(c["leaf"].calls, 2);
        assert_eq!(p.total(), 13);
        assert_eq!(p.folded(), "main 7\nmain;leaf 6\n");
    }

    #[test]
    fn exceptions_push_a_frame_that_eret_pops() {
        let mut p = Profiler::new(&syms());
        p.block(0x1000, 2, NOP);
        p.exception();
        p.block(0x3000, 5, 0xd69f_03e0); // handler ends in ERET
        p.block(0x1008, 1, NOP);
        assert_eq!(p.folded(), "main 3\nmain;[exception];helper 5\n");
        assert!(p.report().contains("instructions in all"));
    }

    #[test]
    fn flow_classification() {
        assert_eq!(flow_of(BL), Flow::Call);
        assert_eq!(flow_of(0xd63f_0020), Flow::Call); // blr x1
        assert_eq!(flow_of(RET), Flow::Return);
        assert_eq!(flow_of(0xd69f_03e0), Flow::ExceptionReturn);
        assert_eq!(flow_of(NOP), Flow::Other);
    }

    #[test]
    fn addresses_outside_every_function_are_unknown() {
        let mut p = Profiler::new(&syms());
        p.block(0x9000, 4, NOP);
        assert_eq!(p.counts()[0].0, "[unknown]");
    }
}
