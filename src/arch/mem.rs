// SPDX-License-Identifier: GPL-2.0-only
//! Bulk memory operations where the compiler's `memset` (8 bytes a step, for targets
//! that must not assume unaligned accesses work) is too slow for the boot.

/// Zero [start, end), both multiples of 1 KiB (the init sections are whole pages):
/// with DC ZVA, 16 blocks (DCZID_EL0.BS: 64 bytes in r82sim) a step, 2 instructions
/// per block and 2 per step, when DCZID_EL0 allows it; otherwise 128 bytes a step with
/// STP of XZR (11 instructions per 128 bytes; `write_bytes` takes about 47).
///
/// # Safety
/// The range must be normal memory mapped read-write, and no Rust reference may point
/// into it (it is written behind the compiler's back).
pub unsafe fn zero_blocks(start: u64, end: u64) {
    assert!(
        start.is_multiple_of(1024) && end.is_multiple_of(1024) && start <= end,
        "zero_blocks: [{start:#x}, {end:#x}) is not whole 1 KiB blocks"
    );
    if start == end {
        return;
    }
    // DCZID_EL0: DZP (bit 4) set forbids DC ZVA; BS (bits 3:0) is log2 of its block
    // in 4-byte words (4, 64 bytes, in r82sim; read here, never assumed).
    let dczid: u64;
    // SAFETY: DCZID_EL0 is a read-only identification register, readable at EL2.
    unsafe {
        core::arch::asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack, preserves_flags))
    };
    let block = 4u64 << (dczid & 0xf);
    if dczid & (1 << 4) == 0 && (16..=64).contains(&block) {
        // DC ZVA zeroes the `block`-byte aligned block holding the address; 16 blocks
        // a step, and `block` (a power of two) divides 64, so 16 blocks divide 1 KiB
        // and the steps tile [start, end) exactly. (A larger block: the STP loop.)
        // SAFETY: the caller gives a writable normal-memory range (DC ZVA faults on
        // device memory) that nothing references; each step zeroes exactly
        // [p, p + 16 * block), inside [start, end).
        unsafe {
            core::arch::asm!(
                "2:",
                ".rept 16",
                "dc zva, {p}",
                "add {p}, {p}, {b}",
                ".endr",
                "cmp {p}, {e}",
                "b.lo 2b",
                p = inout(reg) start => _,
                e = in(reg) end,
                b = in(reg) block,
                options(nostack)
            );
        }
        return;
    }
    // SAFETY: the caller gives a writable normal-memory range nothing references; the
    // loop stores exactly [start, end) (start < end, both multiples of 1 KiB). Not
    // `nomem`: it writes memory the compiler must not cache across it.
    unsafe {
        core::arch::asm!(
            "2:",
            "stp xzr, xzr, [{p}]",
            "stp xzr, xzr, [{p}, #16]",
            "stp xzr, xzr, [{p}, #32]",
            "stp xzr, xzr, [{p}, #48]",
            "stp xzr, xzr, [{p}, #64]",
            "stp xzr, xzr, [{p}, #80]",
            "stp xzr, xzr, [{p}, #96]",
            "stp xzr, xzr, [{p}, #112]",
            "add {p}, {p}, #128",
            "cmp {p}, {e}",
            "b.lo 2b",
            p = inout(reg) start => _,
            e = in(reg) end,
            options(nostack)
        );
    }
}
