// SPDX-License-Identifier: GPL-2.0-only
//! Why a run ended and what it returns: the stop reasons, their exit statuses and the
//! one-line reasons r82sim prints. Pure data.
use crate::exit_status;
use crate::syndrome;

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Semihosting SYS_EXIT / SYS_EXIT_EXTENDED.
    Exit {
        status: u64,
        reason: u64,
    },
    /// V2M SYS_CFGCTRL shutdown or reboot.
    Shutdown {
        reboot: bool,
    },
    Watchdog {
        insns: u64,
    },
    Parked {
        pc: u64,
    },
    NoVector {
        esr: u64,
        elr: u64,
    },
    /// An exception was taken, then another before any instruction completed.
    ExceptionLoop {
        esr: u64,
        elr: u64,
    },
    HostError(String),
}

impl StopReason {
    pub fn status(&self) -> i32 {
        match self {
            Self::Exit { status, reason } if *reason == ADP_STOPPED_APPLICATION_EXIT => {
                (*status & 0xff) as i32
            }
            Self::Exit { .. } => 1,
            Self::Shutdown { .. } => 0,
            Self::Watchdog { .. } => exit_status::WATCHDOG,
            Self::Parked { .. } => exit_status::PARKED,
            Self::NoVector { .. } => exit_status::NO_VECTOR,
            Self::ExceptionLoop { .. } => exit_status::EXCEPTION_LOOP,
            Self::HostError(_) => exit_status::HOST_ERROR,
        }
    }

    /// One line for stderr when the stop is not the image's own exit.
    pub fn describe(&self) -> Option<String> {
        match self {
            Self::Exit { reason, .. } if *reason == ADP_STOPPED_APPLICATION_EXIT => None,
            Self::Exit { reason, status } => Some(format!(
                "semihosting exit with reason {reason:#x} (subcode {status:#x})"
            )),
            Self::Shutdown { reboot: false } => None,
            Self::Shutdown { reboot: true } => {
                Some("reboot requested through SYS_CFGCTRL: stopping".into())
            }
            Self::Watchdog { insns } => Some(format!(
                "watchdog: {insns} instructions executed (--max-insns)"
            )),
            Self::Parked { pc } => Some(format!(
                "core parked in WFI at {pc:#x} with no wake-up source"
            )),
            Self::NoVector { esr, elr } => Some(format!(
                "exception before VBAR_EL2 was set, at ELR {elr:#x}: {}",
                syndrome::describe(*esr)
            )),
            Self::ExceptionLoop { esr, elr } => Some(format!(
                "exception loop: {} at ELR {elr:#x} was taken again before any instruction completed (does the vector fault?)",
                syndrome::describe(*esr)
            )),
            Self::HostError(e) => Some(format!("simulator error: {e}")),
        }
    }
}

/// The result of `Machine::run`.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub reason: StopReason,
    pub status: i32,
    pub insns: u64,
}

pub const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;
