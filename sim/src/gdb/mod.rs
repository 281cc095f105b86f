// SPDX-License-Identifier: GPL-2.0-only
//! The GDB remote stub (`r82sim --gdb PORT`), on the `gdbstub` crate. It drives the
//! machine through its debugging controls (`Machine::step_one`, `run_until`,
//! breakpoints and watchpoints the simulator checks, physical memory, registers by
//! name) and must not change anything the image can observe: no BRK is written into
//! guest memory, and stops leave the instruction count exact.
//!
//! One core is one GDB thread (the single-thread target). With several cores each
//! will become a thread (`MultiThreadBase`): `run_until` per core in the machine's
//! quanta, a stop of one core stopping all at an instruction boundary, and registers
//! and MPUs read per core.
pub mod arch;
pub mod monitor;
pub mod points;

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::{run_blocking, DisconnectReason, GdbStub, SingleThreadStopReason};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps, WatchKind as GdbWatchKind,
};
use gdbstub::target::ext::monitor_cmd::{outputln, ConsoleOutput, MonitorCmd, MonitorCmdOps};
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::aarch64::reg::id::AArch64RegId;
use gdbstub_arch::aarch64::reg::AArch64CoreRegs;

use crate::machine::{DebugStop, Machine, Outcome};
use crate::stop::StopReason;
use crate::RegisterARM64;
use arch::R82;
use points::{Watch, WatchKind};

/// What the debugger asked the core to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Continue,
    Step,
}

/// The machine as a GDB target.
pub struct Debugger {
    pub machine: Machine,
    action: Action,
    /// The run is over: how it ended, and whether GDB was told it exited.
    ended: Option<(Outcome, bool)>,
}

/// How a debugging session ended.
#[derive(Debug)]
pub enum End {
    /// The image's run ended while GDB was attached (GDB was told).
    Ended(Outcome),
    /// GDB detached or went away: the run goes on without it.
    Detached,
    /// GDB killed the target.
    Killed,
}

impl Debugger {
    pub fn new(machine: Machine) -> Self {
        Self {
            machine,
            action: Action::Continue,
            ended: None,
        }
    }

    /// How the run ended, if it did.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.ended.as_ref().map(|(o, _)| o)
    }

    /// Turn a machine stop into what GDB is told.
    fn report(&mut self, stop: DebugStop) -> SingleThreadStopReason<u64> {
        match stop {
            DebugStop::Ended(o) => {
                self.ended = Some((o, false));
                self.report_end()
            }
            DebugStop::Breakpoint { hw: false, .. } => SingleThreadStopReason::SwBreak(()),
            DebugStop::Breakpoint { hw: true, .. } => SingleThreadStopReason::HwBreak(()),
            DebugStop::Watchpoint(hit) => SingleThreadStopReason::Watch {
                tid: (),
                kind: match hit.watch.kind {
                    WatchKind::Write => GdbWatchKind::Write,
                    WatchKind::Read => GdbWatchKind::Read,
                    WatchKind::Access => GdbWatchKind::ReadWrite,
                },
                addr: hit.addr,
            },
            DebugStop::Stepped => SingleThreadStopReason::DoneStep,
            DebugStop::Interrupted => SingleThreadStopReason::Signal(Signal::SIGINT),
        }
    }

    /// The image's exit (or a shutdown) is reported as an exit with its status. Any
    /// other end (parked, watchdog, exception loop, simulator error) first stops with
    /// a signal, so that the state can be inspected; resuming then reports the exit.
    fn report_end(&mut self) -> SingleThreadStopReason<u64> {
        let Some((o, told)) = self.ended.as_mut() else {
            return SingleThreadStopReason::Exited(0);
        };
        let own_exit = matches!(
            o.reason,
            StopReason::Exit { .. } | StopReason::Shutdown { reboot: false }
        );
        if own_exit || *told {
            return SingleThreadStopReason::Exited(o.status as u8);
        }
        *told = true;
        if let Some(why) = o.reason.describe() {
            eprintln!("r82sim: {why}");
        }
        SingleThreadStopReason::Signal(match o.reason {
            StopReason::Parked { .. } => Signal::SIGSTOP,
            StopReason::Watchdog { .. } => Signal::SIGXCPU,
            StopReason::HostError(_) => Signal::SIGABRT,
            _ => Signal::SIGSEGV,
        })
    }

    fn status_text(&self) -> String {
        match &self.ended {
            None => format!(
                "running: stopped at PC {:#x} (EL{}) after {} instructions",
                self.machine.pc(),
                self.machine.exception_level(),
                self.machine.insns()
            ),
            Some((o, _)) => format!(
                "ended after {} instructions with status {}: {}",
                o.insns,
                o.status,
                o.reason
                    .describe()
                    .unwrap_or_else(|| "the image's own exit".into())
            ),
        }
    }

    fn regs_text(&mut self) -> String {
        let mut out = String::new();
        for el in [2u32, 1] {
            let op1 = if el == 2 { 4 } else { 0 };
            let m = &mut self.machine;
            let esr = m.sysreg_value((3, op1, 5, 2, 0));
            out.push_str(&format!(
                "EL{el}: ESR {esr:#x} ({})\n  ELR {:#x}  FAR {:#x}  SPSR {:#x}\n  SCTLR {:#x}  VBAR {:#x}{}\n",
                crate::syndrome::describe(esr),
                m.sysreg_value((3, op1, 4, 0, 1)),
                m.sysreg_value((3, op1, 6, 0, 0)),
                m.sysreg_value((3, op1, 4, 0, 0)),
                m.sysreg_value((3, op1, 1, 0, 0)),
                m.sysreg_value((3, op1, 12, 0, 0)),
                if el == 2 {
                    format!(
                        "  HCR {:#x}  HPFAR {:#x}",
                        m.sysreg_value((3, 4, 1, 1, 0)),
                        m.sysreg_value((3, 4, 6, 0, 4))
                    )
                } else {
                    String::new()
                }
            ));
        }
        out
    }
}

fn core_reg(i: u8) -> RegisterARM64 {
    use RegisterARM64::*;
    [
        X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15, X16, X17, X18, X19,
        X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30,
    ][i.min(30) as usize]
}

impl Target for Debugger {
    type Arch = R82;
    type Error = String;

    #[inline(always)]
    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    #[inline(always)]
    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadBase for Debugger {
    fn read_registers(&mut self, regs: &mut AArch64CoreRegs) -> TargetResult<(), Self> {
        let m = &self.machine;
        for i in 0..31u8 {
            regs.x[i as usize] = m.reg(core_reg(i));
        }
        regs.sp = m.reg(RegisterARM64::SP);
        regs.pc = m.pc();
        regs.cpsr = m.reg(RegisterARM64::PSTATE) as u32;
        for i in 0..32u8 {
            regs.v[i as usize] = m.vreg(i);
        }
        regs.fpcr = m.reg(RegisterARM64::FPCR) as u32;
        regs.fpsr = m.reg(RegisterARM64::FPSR) as u32;
        Ok(())
    }

    fn write_registers(&mut self, regs: &AArch64CoreRegs) -> TargetResult<(), Self> {
        let mut old = AArch64CoreRegs::default();
        self.read_registers(&mut old)?;
        let m = &mut self.machine;
        let mut set = |r: RegisterARM64, new: u64, was: u64| {
            if new != was {
                m.set_reg(r, new).map_err(TargetError::Fatal)
            } else {
                Ok(())
            }
        };
        for i in 0..31u8 {
            set(core_reg(i), regs.x[i as usize], old.x[i as usize])?;
        }
        set(RegisterARM64::SP, regs.sp, old.sp)?;
        set(RegisterARM64::PC, regs.pc, old.pc)?;
        set(RegisterARM64::PSTATE, regs.cpsr as u64, old.cpsr as u64)?;
        set(RegisterARM64::FPCR, regs.fpcr as u64, old.fpcr as u64)?;
        set(RegisterARM64::FPSR, regs.fpsr as u64, old.fpsr as u64)?;
        for i in 0..32u8 {
            if regs.v[i as usize] != old.v[i as usize] {
                m.set_vreg(i, regs.v[i as usize])
                    .map_err(TargetError::Fatal)?;
            }
        }
        Ok(())
    }

    #[inline(always)]
    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        match self.machine.read_phys(start, data) {
            0 if !data.is_empty() => Err(TargetError::NonFatal),
            n => Ok(n),
        }
    }

    fn write_addrs(&mut self, start: u64, data: &[u8]) -> TargetResult<(), Self> {
        self.machine
            .write_phys(start, data)
            .map_err(|_| TargetError::NonFatal)
    }

    #[inline(always)]
    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<()> for Debugger {
    fn read_register(
        &mut self,
        _tid: (),
        reg: AArch64RegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let m = &mut self.machine;
        let bytes: Vec<u8> = match reg {
            AArch64RegId::X(i) if i < 31 => m.reg(core_reg(i)).to_le_bytes().to_vec(),
            AArch64RegId::Sp => m.reg(RegisterARM64::SP).to_le_bytes().to_vec(),
            AArch64RegId::Pc => m.pc().to_le_bytes().to_vec(),
            AArch64RegId::Pstate => (m.reg(RegisterARM64::PSTATE) as u32).to_le_bytes().to_vec(),
            AArch64RegId::V(i) if i < 32 => m.vreg(i).to_le_bytes().to_vec(),
            // FPSR and FPCR are 32-bit in the FPU feature.
            r if r == AArch64RegId::FPSR => {
                (m.reg(RegisterARM64::FPSR) as u32).to_le_bytes().to_vec()
            }
            r if r == AArch64RegId::FPCR => {
                (m.reg(RegisterARM64::FPCR) as u32).to_le_bytes().to_vec()
            }
            AArch64RegId::System(n) => m.sysreg_value(arch::encoding(n)).to_le_bytes().to_vec(),
            _ => return Err(TargetError::NonFatal),
        };
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn write_register(
        &mut self,
        _tid: (),
        reg: AArch64RegId,
        val: &[u8],
    ) -> TargetResult<(), Self> {
        let mut b = [0u8; 16];
        let n = val.len().min(16);
        b[..n].copy_from_slice(&val[..n]);
        let v128 = u128::from_le_bytes(b);
        let v = v128 as u64;
        let m = &mut self.machine;
        let r = match reg {
            AArch64RegId::X(i) if i < 31 => m.set_reg(core_reg(i), v),
            AArch64RegId::Sp => m.set_reg(RegisterARM64::SP, v),
            AArch64RegId::Pc => m.set_reg(RegisterARM64::PC, v),
            AArch64RegId::Pstate => m.set_reg(RegisterARM64::PSTATE, v & 0xffff_ffff),
            AArch64RegId::V(i) if i < 32 => m.set_vreg(i, v128),
            AArch64RegId::System(n) => m.set_sysreg(arch::encoding(n), v),
            _ => return Err(TargetError::NonFatal),
        };
        r.map_err(|_| TargetError::NonFatal)
    }
}

impl SingleThreadResume for Debugger {
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        // A signal GDB passes back (it passes SIGSEGV by default) means nothing here.
        self.action = Action::Continue;
        Ok(())
    }

    #[inline(always)]
    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for Debugger {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.action = Action::Step;
        Ok(())
    }
}

impl Breakpoints for Debugger {
    #[inline(always)]
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    #[inline(always)]
    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for Debugger {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.machine
            .set_breakpoint(addr, false)
            .map(|()| true)
            .map_err(TargetError::Fatal)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.machine.clear_breakpoint(addr, false))
    }
}

impl HwBreakpoint for Debugger {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.machine
            .set_breakpoint(addr, true)
            .map(|()| true)
            .map_err(TargetError::Fatal)
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.machine.clear_breakpoint(addr, true))
    }
}

fn watch(addr: u64, len: u64, kind: GdbWatchKind) -> Watch {
    Watch {
        addr,
        len,
        kind: match kind {
            GdbWatchKind::Write => WatchKind::Write,
            GdbWatchKind::Read => WatchKind::Read,
            GdbWatchKind::ReadWrite => WatchKind::Access,
        },
    }
}

impl HwWatchpoint for Debugger {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: GdbWatchKind,
    ) -> TargetResult<bool, Self> {
        self.machine.set_watchpoint(watch(addr, len, kind));
        Ok(true)
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: GdbWatchKind,
    ) -> TargetResult<bool, Self> {
        Ok(self.machine.clear_watchpoint(watch(addr, len, kind)))
    }
}

impl MonitorCmd for Debugger {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), Self::Error> {
        let cmd = String::from_utf8_lossy(cmd);
        let text = match cmd.trim() {
            "mpu" => {
                let m = &mut self.machine;
                let (mair2, sctlr2) = (
                    m.sysreg_value((3, 4, 10, 2, 0)),
                    m.sysreg_value((3, 4, 1, 0, 0)),
                );
                let (mair1, sctlr1) = (
                    m.sysreg_value((3, 0, 10, 2, 0)),
                    m.sysreg_value((3, 0, 1, 0, 0)),
                );
                format!(
                    "{}{}",
                    monitor::el2_mpu(m.mpu(), mair2, sctlr2),
                    monitor::el1_mpu(m.el1_mpu(), mair1, sctlr1)
                )
            }
            "icount" => format!(
                "{} instructions (CNTPCT_EL0 {})\n",
                self.machine.insns(),
                self.machine.sysreg_value((3, 3, 14, 0, 1))
            ),
            "regs" => self.regs_text(),
            "status" => format!("{}\n", self.status_text()),
            "" | "help" => monitor::HELP.to_string(),
            other => format!("unknown monitor command {other:?}\n{}", monitor::HELP),
        };
        for line in text.lines() {
            outputln!(out, "{line}");
        }
        Ok(())
    }
}

/// Raise `flag` when the connection has data to read (Ctrl-C or a packet), from a
/// thread of its own; it ends then, or when the connection closes.
fn watch_connection(conn: &TcpStream, flag: Arc<AtomicBool>) {
    let Ok(stream) = conn.try_clone() else {
        flag.store(true, Ordering::Relaxed);
        return;
    };
    std::thread::spawn(move || loop {
        let mut b = [0u8];
        match stream.peek(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // gdbstub peeks with the socket non-blocking for a moment.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            _ => {
                flag.store(true, Ordering::Relaxed);
                return;
            }
        }
    });
}

enum EventLoop {}

impl run_blocking::BlockingEventLoop for EventLoop {
    type Target = Debugger;
    type Connection = TcpStream;
    type StopReason = SingleThreadStopReason<u64>;

    #[allow(clippy::type_complexity)]
    fn wait_for_stop_reason(
        target: &mut Debugger,
        conn: &mut TcpStream,
    ) -> Result<
        run_blocking::Event<SingleThreadStopReason<u64>>,
        run_blocking::WaitForStopReasonError<String, std::io::Error>,
    > {
        if target.ended.is_some() {
            return Ok(run_blocking::Event::TargetStopped(target.report_end()));
        }
        let stop = match target.action {
            Action::Step => target.machine.step_one(),
            Action::Continue => {
                let flag = Arc::new(AtomicBool::new(false));
                watch_connection(conn, flag.clone());
                target.machine.run_until(&flag)
            }
        };
        if let DebugStop::Interrupted = stop {
            return match ConnectionExt::read(conn) {
                Ok(b) => Ok(run_blocking::Event::IncomingData(b)),
                Err(e) => Err(run_blocking::WaitForStopReasonError::Connection(e)),
            };
        }
        Ok(run_blocking::Event::TargetStopped(target.report(stop)))
    }

    fn on_interrupt(_target: &mut Debugger) -> Result<Option<SingleThreadStopReason<u64>>, String> {
        // The machine is already stopped (at a block boundary, count exact).
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}

/// Serve one GDB client on `conn` until it detaches, kills the target or the run
/// ends.
pub fn serve(dbg: &mut Debugger, conn: TcpStream) -> Result<End, String> {
    let _ = conn.set_nodelay(true);
    let stub = GdbStub::new(conn);
    match stub.run_blocking::<EventLoop>(dbg) {
        Ok(DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_)) => {
            match dbg.outcome() {
                Some(o) => Ok(End::Ended(o.clone())),
                None => Ok(End::Detached),
            }
        }
        Ok(DisconnectReason::Disconnect) => Ok(End::Detached),
        Ok(DisconnectReason::Kill) => Ok(End::Killed),
        Err(e) if e.is_connection_error() => Ok(End::Detached),
        Err(e) => Err(format!("gdb stub: {e}")),
    }
}
