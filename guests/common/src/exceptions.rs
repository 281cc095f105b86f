// SPDX-License-Identifier: GPL-2.0-only
//! EL1 exceptions: every exception is reported (kind, ESR_EL1 decoded, ELR, FAR),
//! counted, recorded, and then the current policy (or a handler the guest registered)
//! decides: skip the instruction, return from the function that faulted, ignore (for
//! interrupts), or stop the guest (SHUTDOWN_crash).
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// The registers start.S saves, in its order (288 bytes).
#[repr(C)]
pub struct Frame {
    pub x: [u64; 31],
    /// Vector index: group * 4 + kind (see `Vector`).
    pub kind: u64,
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
}
const _: () = assert!(core::mem::size_of::<Frame>() == 288);

/// What to do after an exception has been reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Action {
    /// Resume at the next instruction (ELR + 4).
    Skip = 0,
    /// Resume at the faulting function's return address (x30) with x0 =
    /// `RETURNED_FROM_FAULT`: for calls into code that cannot run (executing data).
    ReturnFromCall = 1,
    /// Report and ask to be crashed (SHUTDOWN_crash).
    Stop = 2,
}

/// x0 after `Action::ReturnFromCall`.
pub const RETURNED_FROM_FAULT: u64 = 0xfa17_fa17;

/// A handler: it may change the frame and returns what to do next.
pub type Handler = fn(&mut Frame, &Syndrome) -> Action;

static POLICY: AtomicU8 = AtomicU8::new(Action::Stop as u8);
static HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
static COUNT: AtomicU32 = AtomicU32::new(0);
static LAST_ESR: AtomicU64 = AtomicU64::new(0);
static LAST_FAR: AtomicU64 = AtomicU64::new(0);
static LAST_ELR: AtomicU64 = AtomicU64::new(0);
static QUIET: AtomicU8 = AtomicU8::new(0);

/// Sets what synchronous exceptions do when no handler is registered.
pub fn set_policy(a: Action) {
    POLICY.store(a as u8, Ordering::Relaxed);
}

/// Registers (Some) or removes (None) a handler; it overrides the policy.
pub fn set_handler(h: Option<Handler>) {
    let p = h.map_or(core::ptr::null_mut(), |f| f as *mut ());
    HANDLER.store(p, Ordering::Relaxed);
}

/// Suppresses the report line (the guest prints its own).
pub fn set_quiet(q: bool) {
    QUIET.store(q as u8, Ordering::Relaxed);
}

/// Exceptions taken so far.
pub fn count() -> u32 {
    COUNT.load(Ordering::Relaxed)
}

/// The last exception's (ESR, FAR, ELR).
pub fn last() -> (u64, u64, u64) {
    (
        LAST_ESR.load(Ordering::Relaxed),
        LAST_FAR.load(Ordering::Relaxed),
        LAST_ELR.load(Ordering::Relaxed),
    )
}

/// ESR_EL1 decoded.
#[derive(Clone, Copy, Debug)]
pub struct Syndrome {
    pub esr: u64,
    pub ec: u8,
    pub iss: u32,
}

// Exception classes (Arm ARM D24.2.40, ESR_ELx.EC).
pub const EC_UNKNOWN: u8 = 0x00;
pub const EC_WFX: u8 = 0x01;
pub const EC_ILLEGAL_STATE: u8 = 0x0e;
pub const EC_SVC64: u8 = 0x15;
pub const EC_HVC64: u8 = 0x16;
pub const EC_SMC64: u8 = 0x17;
pub const EC_SYSREG: u8 = 0x18;
pub const EC_IABT_LOWER: u8 = 0x20;
pub const EC_IABT_SAME: u8 = 0x21;
pub const EC_PC_ALIGN: u8 = 0x22;
pub const EC_DABT_LOWER: u8 = 0x24;
pub const EC_DABT_SAME: u8 = 0x25;
pub const EC_SP_ALIGN: u8 = 0x26;
pub const EC_SERROR: u8 = 0x2f;
pub const EC_BRK64: u8 = 0x3c;

impl Syndrome {
    pub fn new(esr: u64) -> Self {
        Self {
            esr,
            ec: ((esr >> 26) & 0x3f) as u8,
            iss: (esr & 0x1ff_ffff) as u32,
        }
    }

    pub fn ec_name(&self) -> &'static str {
        match self.ec {
            EC_UNKNOWN => "unknown reason (undefined instruction)",
            EC_WFX => "WFI/WFE",
            EC_ILLEGAL_STATE => "illegal execution state",
            EC_SVC64 => "SVC",
            EC_HVC64 => "HVC",
            EC_SMC64 => "SMC",
            EC_SYSREG => "MSR/MRS/system instruction",
            EC_IABT_LOWER => "instruction abort from a lower EL",
            EC_IABT_SAME => "instruction abort",
            EC_PC_ALIGN => "PC alignment",
            EC_DABT_LOWER => "data abort from a lower EL",
            EC_DABT_SAME => "data abort",
            EC_SP_ALIGN => "SP alignment",
            EC_SERROR => "SError",
            EC_BRK64 => "BRK",
            _ => "other",
        }
    }

    pub fn is_abort(&self) -> bool {
        matches!(
            self.ec,
            EC_IABT_LOWER | EC_IABT_SAME | EC_DABT_LOWER | EC_DABT_SAME
        )
    }

    /// Data/instruction fault status code (ISS[5:0]) of an abort.
    pub fn fsc(&self) -> u8 {
        (self.iss & 0x3f) as u8
    }

    /// Write not Read (ISS[6]) of a data abort.
    pub fn wnr(&self) -> bool {
        self.iss & (1 << 6) != 0
    }

    /// The fault status code's name (PMSA and VMSA share these encodings).
    pub fn fsc_name(&self) -> &'static str {
        match self.fsc() {
            0x00..=0x03 => "address size fault",
            0x04..=0x07 => "translation fault",
            0x09..=0x0b => "access flag fault",
            0x0c..=0x0f => "permission fault",
            0x10 => "synchronous external abort",
            0x11 => "synchronous tag check fault",
            0x14..=0x17 => "external abort on table walk",
            0x18 => "synchronous parity/ECC error",
            0x21 => "alignment fault",
            0x30 => "TLB conflict abort",
            _ => "other fault",
        }
    }
}

/// Vector group and kind names for an index 0..15.
pub fn vector_name(kind: u64) -> (&'static str, &'static str) {
    let group = match kind / 4 {
        0 => "current EL with SP0",
        1 => "current EL",
        2 => "lower EL (AArch64)",
        _ => "lower EL (AArch32)",
    };
    let k = match kind % 4 {
        0 => "sync",
        1 => "IRQ",
        2 => "FIQ",
        _ => "SError",
    };
    (group, k)
}

/// Prints one line for the exception in `f`.
pub fn report(f: &Frame, s: &Syndrome) {
    let (group, kind) = vector_name(f.kind);
    crate::print!(
        "exception: {} from {}: ESR={:#x} EC={:#04x} ({}) ISS={:#x}",
        kind,
        group,
        s.esr,
        s.ec,
        s.ec_name(),
        s.iss
    );
    if s.is_abort() {
        crate::print!(" FSC={:#04x} ({}", s.fsc(), s.fsc_name());
        if s.fsc() < 0x10 {
            crate::print!(", level {}", s.fsc() & 3);
        }
        crate::print!(
            "){}",
            if s.ec == EC_DABT_SAME || s.ec == EC_DABT_LOWER {
                if s.wnr() {
                    " write"
                } else {
                    " read"
                }
            } else {
                ""
            }
        );
    }
    crate::println!(" ELR={:#x} FAR={:#x}", f.elr, f.far);
}

#[no_mangle]
extern "C" fn xg_handle_exception(f: &mut Frame) {
    let s = Syndrome::new(f.esr);
    COUNT.store(
        COUNT.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    LAST_ESR.store(f.esr, Ordering::Relaxed);
    LAST_FAR.store(f.far, Ordering::Relaxed);
    LAST_ELR.store(f.elr, Ordering::Relaxed);
    if QUIET.load(Ordering::Relaxed) == 0 {
        report(f, &s);
    }
    if !f.kind.is_multiple_of(4) {
        // IRQ/FIQ/SError: nothing to skip; an interrupt we did not unmask is the
        // hypervisor's doing, an SError is reported and survived.
        return;
    }
    let h = HANDLER.load(Ordering::Relaxed);
    let action = if h.is_null() {
        match POLICY.load(Ordering::Relaxed) {
            0 => Action::Skip,
            1 => Action::ReturnFromCall,
            _ => Action::Stop,
        }
    } else {
        // SAFETY: HANDLER holds null or a `Handler` stored by `set_handler`; fn
        // pointers and data pointers have the same size and representation here.
        let h: Handler = unsafe { core::mem::transmute::<*mut (), Handler>(h) };
        h(f, &s)
    };
    match action {
        Action::Skip => f.elr = f.elr.wrapping_add(4),
        Action::ReturnFromCall => {
            f.elr = f.x[30];
            f.x[0] = RETURNED_FROM_FAULT;
        }
        Action::Stop => {
            crate::println!("guest: stopping after the exception above (SHUTDOWN_crash)");
            crate::hypercall::crash();
        }
    }
}
