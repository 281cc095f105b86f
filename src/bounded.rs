// SPDX-License-Identifier: GPL-2.0-only
//! A list of at most `N` items kept in place, without a heap: what `dt::BootInfo`
//! keeps its banks, reserved ranges and devices in. The slots past the end are never
//! initialised, so an empty list costs nothing to make (setup's `BootInfo`, 2.6 KiB
//! of arrays, was copied from a constant: ~1,400 instructions).
use core::fmt;
use core::mem::MaybeUninit;

#[derive(Clone, Copy)]
pub struct Bounded<T: Copy, const N: usize> {
    items: [MaybeUninit<T>; N],
    len: usize,
}

impl<T: Copy, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy, const N: usize> Bounded<T, N> {
    pub const fn new() -> Self {
        Self {
            items: [MaybeUninit::uninit(); N],
            len: 0,
        }
    }

    /// Append `item`; `Err(item)` when the list already holds `N`.
    pub fn push(&mut self, item: T) -> Result<(), T> {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                slot.write(item);
                self.len += 1;
                Ok(())
            }
            None => Err(item),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget every item (the slots are not cleared: nothing reads past `len`).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn as_slice(&self) -> &[T] {
        let items = &self.items[..self.len];
        // SAFETY: slots `..len` were each written by `push` before `len` passed them,
        // and nothing un-writes a slot; MaybeUninit<T> has T's layout.
        unsafe { &*(items as *const [MaybeUninit<T>] as *const [T]) }
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for Bounded<T, N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Copy + Eq, const N: usize> Eq for Bounded<T, N> {}

impl<T: Copy + fmt::Debug, const N: usize> fmt::Debug for Bounded<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_pushed_up_to_n_and_refuses_more() {
        let mut l = Bounded::<u32, 3>::new();
        assert_eq!(l.as_slice(), &[] as &[u32]);
        for i in 0..3 {
            l.push(10 + i).unwrap();
        }
        assert_eq!(l.push(99), Err(99));
        assert_eq!(l.as_slice(), &[10, 11, 12]);
        let copy = l;
        assert_eq!(copy, l);
        assert_eq!(std::format!("{l:?}"), "[10, 11, 12]");
        assert_eq!((l.len(), l.is_empty()), (3, false));
        l.clear();
        assert_eq!(
            (l.len(), l.is_empty(), l.as_slice()),
            (0, true, &[] as &[u32])
        );
        l.push(7).unwrap();
        assert_eq!(l.as_slice(), &[7]);
    }
}
