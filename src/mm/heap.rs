// SPDX-License-Identifier: GPL-2.0-only
//! The hypervisor heap over every `xen,static-heap` bank (Xen allows several): one
//! first-fit heap per bank, tried in order; a block returns to the bank it came from.
//! Pure: it works on whatever memory it is given, so the host tests give it buffers.
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use linked_list_allocator::Heap;
use spin::Mutex;

/// Heap banks over `N` ranges of memory.
pub struct MultiHeap<const N: usize> {
    inner: Mutex<([Heap; N], usize)>,
}

impl<const N: usize> MultiHeap<N> {
    pub const fn new() -> Self {
        Self {
            inner: Mutex::new(([const { Heap::empty() }; N], 0)),
        }
    }

    /// Add `[bottom, bottom + size)` as the next bank. Returns false when all `N` are
    /// in use (the memory is then left alone).
    ///
    /// # Safety
    /// The range must be valid, writable memory used by nothing else, for as long as
    /// the heap lives, and must not overlap a bank already added.
    pub unsafe fn add(&self, bottom: *mut u8, size: usize) -> bool {
        let mut g = self.inner.lock();
        let (heaps, n) = &mut *g;
        if *n == N {
            return false;
        }
        // SAFETY: the caller gives the range to this heap alone (this function's
        // contract), and slot n is still empty.
        unsafe { heaps[*n].init(bottom, size) };
        *n += 1;
        true
    }

    /// (banks, free bytes in all of them).
    pub fn stats(&self) -> (usize, usize) {
        let g = self.inner.lock();
        (g.1, g.0[..g.1].iter().map(Heap::free).sum())
    }
}

impl<const N: usize> Default for MultiHeap<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every bank is a linked_list_allocator heap over memory given to it alone
// (`add`'s contract); a block is freed into the bank whose range holds it, which is the
// bank that handed it out since the banks do not overlap.
unsafe impl<const N: usize> GlobalAlloc for MultiHeap<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut g = self.inner.lock();
        let (heaps, n) = &mut *g;
        heaps[..*n]
            .iter_mut()
            .find_map(|h| h.allocate_first_fit(layout).ok())
            .map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut g = self.inner.lock();
        let (heaps, n) = &mut *g;
        let owner = heaps[..*n]
            .iter_mut()
            .find(|h| h.bottom() <= ptr && ptr < h.top());
        if let (Some(h), Some(p)) = (owner, NonNull::new(ptr)) {
            // SAFETY: GlobalAlloc's contract: ptr came from `alloc` with this layout,
            // and the bank holding it is the one that allocated it.
            unsafe { h.deallocate(p, layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(size: usize) -> (*mut u8, usize) {
        let mem: &'static mut [u64] = Box::leak(vec![0u64; size / 8].into_boxed_slice());
        (mem.as_mut_ptr().cast(), size)
    }

    #[test]
    fn allocations_use_every_bank_and_return_to_their_own() {
        let heap: MultiHeap<4> = MultiHeap::new();
        let (a, b) = (bank(4096), bank(8192));
        // SAFETY: two leaked buffers, given to this heap alone.
        unsafe {
            assert!(heap.add(a.0, a.1));
            assert!(heap.add(b.0, b.1));
        }
        let (banks, free0) = heap.stats();
        assert_eq!(banks, 2);
        let in_bank = |p: *mut u8, (base, size): (*mut u8, usize)| {
            (base as usize..base as usize + size).contains(&(p as usize))
        };
        let layout = Layout::from_size_align(1024, 8).unwrap();
        // More than the first bank holds: the rest must come from the second.
        // SAFETY: a valid, non-zero layout; every block is freed below with it.
        let blocks: Vec<*mut u8> = (0..9).map(|_| unsafe { heap.alloc(layout) }).collect();
        assert!(blocks.iter().all(|p| !p.is_null()), "{blocks:?}");
        assert!(blocks.iter().any(|&p| in_bank(p, a)));
        assert!(blocks.iter().any(|&p| in_bank(p, b)));
        assert!(blocks.iter().all(|&p| in_bank(p, a) || in_bank(p, b)));
        // SAFETY: as above: more than both banks hold is refused, not a panic.
        let big = unsafe { heap.alloc(Layout::from_size_align(16384, 8).unwrap()) };
        assert!(big.is_null());
        for p in blocks {
            // SAFETY: each block came from this heap with this layout.
            unsafe { heap.dealloc(p, layout) };
        }
        assert_eq!(heap.stats().1, free0, "every block went back to its bank");
    }

    #[test]
    fn a_bank_beyond_the_capacity_is_refused() {
        let heap: MultiHeap<1> = MultiHeap::new();
        let (a, b) = (bank(4096), bank(4096));
        // SAFETY: leaked buffers given to this heap alone.
        unsafe {
            assert!(heap.add(a.0, a.1));
            assert!(!heap.add(b.0, b.1));
        }
        assert_eq!(heap.stats().0, 1);
    }
}
