// SPDX-License-Identifier: GPL-2.0-only
//! The scheduler's decisions, as plain data: round robin among runnable vCPUs on one
//! physical CPU. A vCPU is Runnable, Blocked (SCHEDOP_block or WFI: woken by its next
//! tick or an event) or Ended (its domain shut down or crashed). The trap path asks
//! `pick_next` at every yield, block, tick and end; `None` means the CPU idles in WFI.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Runnable,
    Blocked,
    Ended,
}

/// Pick the vCPU to run after `current` (or from the start when `None`): the next
/// runnable one in round-robin order, `current` itself only when it is the only
/// runnable one, `None` when nothing can run.
pub fn pick_next(states: &[RunState], current: Option<usize>) -> Option<usize> {
    pick_next_of(states.len(), current, |i| states[i])
}

/// `pick_next` over `n` vCPUs whose states `state(i)` gives: the trap path reads
/// them where they live instead of gathering them first.
#[inline]
pub fn pick_next_of(
    n: usize,
    current: Option<usize>,
    state: impl Fn(usize) -> RunState,
) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let mut i = current.map_or(0, |c| (c + 1) % n);
    for _ in 0..n {
        if state(i) == RunState::Runnable {
            return Some(i);
        }
        i = if i + 1 == n { 0 } else { i + 1 };
    }
    None
}

/// Whether every vCPU has ended (rxen then reports and stops).
pub fn all_ended(states: &[RunState]) -> bool {
    states.iter().all(|s| *s == RunState::Ended)
}

/// Wake every blocked vCPU (at a timer tick: no event channels yet, so a block lasts
/// at most until the next slice).
pub fn wake_all(states: &mut [RunState]) {
    for s in states.iter_mut() {
        if *s == RunState::Blocked {
            *s = RunState::Runnable;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunState::*;

    #[test]
    fn round_robin_skips_blocked_and_ended() {
        let s = [Runnable, Blocked, Runnable, Ended];
        assert_eq!(pick_next(&s, Some(0)), Some(2));
        assert_eq!(pick_next(&s, Some(2)), Some(0));
        assert_eq!(pick_next(&s, None), Some(0));
    }

    #[test]
    fn the_only_runnable_vcpu_keeps_running_and_none_idles() {
        assert_eq!(pick_next(&[Runnable, Blocked], Some(0)), Some(0));
        assert_eq!(pick_next(&[Blocked, Ended], Some(0)), None);
        assert_eq!(pick_next(&[], None), None);
    }

    /// `pick_next_of` is `pick_next` on the states it reads, for every state vector
    /// of up to 5 vCPUs and every current vCPU (or none).
    #[test]
    fn pick_next_of_reads_states_in_place_with_the_same_answer() {
        let all = [Runnable, Blocked, Ended];
        for n in 0..=5usize {
            for code in 0..3usize.pow(n as u32) {
                let s: Vec<RunState> = (0..n)
                    .map(|i| all[code / 3usize.pow(i as u32) % 3])
                    .collect();
                for cur in core::iter::once(None).chain((0..n).map(Some)) {
                    // Round robin from the vCPU after `cur` (from 0 without one).
                    let start = cur.map_or(0, |c| c + 1);
                    let want = (0..n).map(|k| (start + k) % n).find(|&i| s[i] == Runnable);
                    assert_eq!(pick_next_of(n, cur, |i| s[i]), want, "{s:?} {cur:?}");
                    assert_eq!(pick_next(&s, cur), want, "{s:?} {cur:?}");
                }
            }
        }
    }

    #[test]
    fn ticks_wake_blocked_vcpus_and_all_ended_is_the_end() {
        let mut s = [Blocked, Ended];
        wake_all(&mut s);
        assert_eq!(s, [Runnable, Ended]);
        assert!(!all_ended(&s));
        assert!(all_ended(&[Ended, Ended]));
    }
}
