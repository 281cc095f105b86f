// SPDX-License-Identifier: GPL-2.0-only
//! r82sim against the architecture: each test runs a hand-written image and asserts
//! the exact syndromes, addresses and state PMSAv8-64 and the exception model define.
mod common;

use common::*;
use r82sim::machine::{Config, DtbChoice};
use r82sim::Machine;
use r82sim::{exit_status, StopReason};

const IL: u64 = 1 << 25;

/// A data abort at EL2: ISV with SAS, SRT, SF for single-register accesses.
fn dabt(fsc: u64, write: bool, sas: u64, srt: u64, sf: bool) -> u64 {
    (0x25 << 26)
        | IL
        | (1 << 24)
        | (sas << 22)
        | (srt << 16)
        | ((sf as u64) << 15)
        | ((write as u64) << 6)
        | fsc
}

fn iabt(fsc: u64) -> u64 {
    (0x21 << 26) | IL | fsc
}

const TRANSLATION: u64 = 0b000100;
const PERMISSION: u64 = 0b001100;

#[test]
fn mpu_matches_regions_at_64_byte_edges_and_faults_as_pmsav8_64_says() {
    let (m, o) = run(&image("mpu"), small());
    assert_eq!(
        o.reason,
        StopReason::Exit {
            status: 0,
            reason: 0x20026
        },
        "{}",
        m.console_text()
    );
    let log = exception_log(&m);
    let got: Vec<(u64, u64)> = log.iter().map(|e| (e[0], e[1])).collect();
    assert_eq!(
        got,
        vec![
            (dabt(TRANSLATION, false, 3, 2, true), 0x30038),
            (dabt(TRANSLATION, false, 0, 3, false), 0x300c0),
            (dabt(PERMISSION, true, 3, 4, true), 0x31000),
            (dabt(TRANSLATION, false, 3, 5, true), 0x33900),
            (iabt(PERMISSION), 0x32000),
            (iabt(PERMISSION), 0x31000),
            (iabt(TRANSLATION), 0x40000),
        ]
    );
    // Every one was taken from EL2h to the current-EL, SP_ELx vector with SPSR = EL2h.
    for e in &log {
        assert_eq!(e[4], 0x200);
        assert_eq!(e[3] & 0xf, 0x9);
    }
    // Instruction aborts report the target as ELR too.
    assert_eq!(log[4][2], 0x32000);
    // PRENR showed regions 0-6 enabled; the PRBAR2/PRLAR2 aliases read region 2.
    assert_eq!(u64_at(&m, 0x20800), 0x7f);
    assert_eq!(u64_at(&m, 0x20808), 0x30040 | 0x02);
    assert_eq!(u64_at(&m, 0x20810), 0x30080 | 0x7);
    assert!(
        !m.mpu().region(5).enabled(),
        "PRENR bit 5 cleared EN of region 5"
    );
}

#[test]
fn hvc_svc_brk_udf_and_eret_round_trips() {
    let (m, o) = run(&image("exceptions"), small());
    assert_eq!(o.status, 0, "{}", m.console_text());
    let log = exception_log(&m);
    let esrs: Vec<u64> = log.iter().map(|e| e[0]).collect();
    assert_eq!(
        esrs,
        vec![
            (0x16 << 26) | IL | 0x42, // HVC
            (0x15 << 26) | IL | 0x7,  // SVC
            (0x3c << 26) | IL | 0x3,  // BRK
            IL,                       // UDF: unknown reason
            IL,                       // HLT that is not a semihosting call
            (0x16 << 26) | IL | 0x99, // HVC from EL1
        ]
    );
    let main = m.symbol("main").unwrap();
    // HVC/SVC return after the instruction; BRK and UDF report the instruction itself.
    // (main: three instructions set VBAR_EL2, then HVC, SVC, BRK, UDF.)
    assert_eq!(log[0][2], main + 4 * 4);
    assert_eq!(log[1][2], main + 5 * 4);
    assert_eq!(log[2][2], main + 5 * 4);
    assert_eq!(log[3][2], main + 6 * 4);
    // The HVC from EL1 went to the lower-EL vector with SPSR = EL1h, DAIF masked.
    assert_eq!(log[5][4], 0x400);
    assert_eq!(log[5][3], 0x3c5);
    assert_eq!(log[5][2], m.symbol("at_el1").unwrap() + 4);
    // And ERET brought the core back to EL2.
    assert_eq!(u64_at(&m, 0x20800), 2 << 2);
}

#[test]
fn semihosting_console_and_exit_status() {
    let (m, o) = run(&image("semihosting"), small());
    assert_eq!(
        o.reason,
        StopReason::Exit {
            status: 42,
            reason: 0x20026
        }
    );
    assert_eq!(o.status, 42);
    assert_eq!(m.console_text(), "write\nwrite0\nX");
    assert_ne!(
        u64_at(&m, 0x20000) as i64,
        -1,
        "SYS_OPEN of :tt gives a handle"
    );
    assert_eq!(u64_at(&m, 0x20100), 0, "SYS_WRITE wrote every byte");

    let (_, o) = run(&image("exit_extended"), small());
    assert_eq!(o.status, 7);
}

#[test]
fn counter_is_100mhz_and_advances_with_instructions_only() {
    let elf = image("counter");
    let (a, oa) = run(&elf, small());
    let (b, ob) = run(&elf, small());
    let read = |m: &r82sim::Machine| [0, 8, 16, 24].map(|o| u64_at(m, 0x20000 + o));
    let (ra, rb) = (read(&a), read(&b));
    assert_eq!(ra, rb, "two runs give the same counter values");
    assert_eq!(oa.insns, ob.insns, "and the same instruction count");
    assert_eq!(ra[2], 100_000_000, "CNTFRQ_EL0");
    // 2002 instructions between the reads, at 10 instructions per tick.
    assert!((200..=201).contains(&(ra[1] - ra[0])), "{:?}", ra);
    assert!(ra[3] >= ra[1], "CNTVCT_EL0 counts the same time");
}

#[test]
fn strict_reports_each_mistake_once_and_nothing_for_correct_code() {
    let (m, o) = run(
        &image("strict"),
        Config {
            strict: true,
            ..small()
        },
    );
    assert_eq!(o.status, 0, "{}", m.console_text());
    let w = m.strict_warnings();
    assert_eq!(w.len(), 4, "{w:#?}");
    assert!(
        w[0].contains("written after a PRSELR_EL2 write without an ISB"),
        "{}",
        w[0]
    );
    assert!(
        w[1].contains("page 0x30000 through EL2 MPU region 2") && w[1].contains("before an ISB"),
        "{}",
        w[1]
    );
    assert!(
        w[2].contains("regions 2 [0x30000..0x30fff] and 3 [0x30800..0x31fff] overlap"),
        "{}",
        w[2]
    );
    assert!(
        w[3].contains("fetch from page 0x32000") && w[3].contains("without an IC IALLU"),
        "{}",
        w[3]
    );
    // The fetch also faulted: XN is enforced whatever the instruction cache holds.
    assert_eq!(
        exception_log(&m).iter().map(|e| e[0]).collect::<Vec<_>>(),
        vec![iabt(PERMISSION)]
    );

    // Without --strict the same image runs the same way and warns of nothing.
    let (m, o) = run(&image("strict"), small());
    assert_eq!(o.status, 0);
    assert!(m.strict_warnings().is_empty());
}

#[test]
fn watchdog_parked_and_missing_vector_stops_have_their_own_status() {
    let (_, o) = run(
        &image("spin"),
        Config {
            max_insns: 100_000,
            ..Config::default()
        },
    );
    assert!(matches!(o.reason, StopReason::Watchdog { .. }));
    assert_eq!(o.status, exit_status::WATCHDOG);

    let (m, o) = run(&image("wfi"), small());
    assert_eq!(
        o.reason,
        StopReason::Parked {
            pc: m.symbol("main").unwrap()
        }
    );
    assert_eq!(o.status, exit_status::PARKED);

    let (m, o) = run(&image("novector"), small());
    assert_eq!(
        o.reason,
        StopReason::NoVector {
            esr: IL,
            elr: m.symbol("main").unwrap()
        }
    );
    assert_eq!(o.status, exit_status::NO_VECTOR);
    assert!(o
        .reason
        .describe()
        .unwrap()
        .contains("before VBAR_EL2 was set"));
}

/// The log stage2.S keeps at 0x21000: (ESR, FAR, ELR, SPSR, vector offset, HPFAR).
fn log2(m: &r82sim::Machine) -> Vec<[u64; 6]> {
    let n = u64_at(m, 0x21000);
    (0..n)
        .map(|i| {
            let e = 0x21040 + 64 * i;
            std::array::from_fn(|k| u64_at(m, e + 8 * k as u64))
        })
        .collect()
}

const EC_WFX: u64 = 0x01;
const EC_ILLEGAL_STATE: u64 = 0x0e;
const EC_HVC64: u64 = 0x16;
const EC_SMC64: u64 = 0x17;
const EC_SYSREG: u64 = 0x18;
const EC_DABT_LOWER: u64 = 0x24;
const FSC_TRANSLATION_L0: u64 = 0b000100;
const FSC_PERMISSION_L0: u64 = 0b001100;
const ISS_WNR: u64 = 1 << 6;
const ISS_ISV: u64 = 1 << 24;
const LOWER_EL_SYNC: u64 = 0x400;
const SPSR_EL1H: u64 = 0x3c5;

#[test]
fn el1_runs_under_the_el2_mpu_as_stage_2_and_traps_go_to_el2() {
    let (m, o) = run(&image("stage2"), small());
    assert_eq!(o.status, 0, "{:?} {}", o.reason, m.console_text());
    let log = log2(&m);
    let ec = |e: &[u64; 6]| e[0] >> 26;
    let iss = |e: &[u64; 6]| e[0] & 0x1ff_ffff;
    let sym = |s: &str| m.symbol(s).unwrap();
    assert_eq!(log.len(), 11, "{log:x?}");
    // Every guest exception arrives at EL2's lower-EL vector with SPSR = EL1h.
    for e in &log[..10] {
        assert_eq!(e[4], LOWER_EL_SYNC, "{e:x?}");
        assert_eq!(e[3] & 0xf, SPSR_EL1H & 0xf, "{e:x?}");
    }
    // 1: a load from the EL2-only region: stage-2 permission fault, ISV with the
    // access size and register, FAR and HPFAR (IPA page << 4).
    assert_eq!(ec(&log[0]), EC_DABT_LOWER);
    assert_eq!(iss(&log[0]) & 0x3f, FSC_PERMISSION_L0);
    assert_eq!(iss(&log[0]) & (ISS_ISV | ISS_WNR), ISS_ISV);
    assert_eq!((iss(&log[0]) >> 16) & 0x1f, 4, "SRT = x4");
    assert_eq!(log[0][1], 0x20000);
    assert_eq!(log[0][5], (0x20000 >> 12) << 4);
    // 2: a 32-bit store to the read-only region.
    assert_eq!(iss(&log[1]) & 0x3f, FSC_PERMISSION_L0);
    assert_eq!(iss(&log[1]) & ISS_WNR, ISS_WNR);
    assert_eq!((iss(&log[1]) >> 22) & 3, 2, "SAS = word");
    assert_eq!((log[1][1], log[1][5]), (0x31008, 0x310));
    // 3: no region: stage-2 translation fault (SCTLR_EL2.BR is not a stage-2 thing).
    assert_eq!(iss(&log[2]) & 0x3f, FSC_TRANSLATION_L0);
    assert_eq!((log[2][1], log[2][5]), (0x40010, 0x400));
    // 4: WFI trapped by TWI: CV = 1, COND = 0b1110, TI = 0; ELR at the WFI.
    assert_eq!(ec(&log[3]), EC_WFX);
    assert_eq!(iss(&log[3]), 1 << 24 | 0xe << 20);
    // 5: SMC trapped by TSC, with its immediate; ELR at the SMC.
    assert_eq!((ec(&log[4]), iss(&log[4])), (EC_SMC64, 0x12));
    assert_eq!(log[4][2], log[3][2] + 4);
    // 6: MRS ID_AA64MMFR0_EL1 trapped by TID3: Op0 3, Op2 0, Op1 0, CRn 0, Rt 6,
    // CRm 7, read.
    assert_eq!(ec(&log[5]), EC_SYSREG);
    assert_eq!(iss(&log[5]), 3 << 20 | 6 << 5 | 7 << 1 | 1);
    // 7: MSR SCTLR_EL1 trapped by TVM: Op0 3, Op1 0, CRn 1, CRm 0, Op2 0, Rt 2, write.
    assert_eq!(iss(&log[6]), 3 << 20 | 1 << 10 | 2 << 5);
    // 8: HVC #1; EL2 then switches region 2 off through PRENR_EL2.
    assert_eq!((ec(&log[7]), iss(&log[7])), (EC_HVC64, 1));
    // 9: the guest's data region is now disabled: stage-2 translation fault.
    assert_eq!(iss(&log[8]) & 0x3f, FSC_TRANSLATION_L0);
    assert_eq!(log[8][1], 0x30000);
    assert_eq!((ec(&log[9]), iss(&log[9])), (EC_HVC64, 2));
    // The guest's own store and load went through stage 2.
    assert_eq!(u64_at(&m, 0x20800), 0x55);
    assert_eq!(u64_at(&m, 0x20808), 2 << 2, "back at EL2");
    // The ERET to EL3 is an illegal return: EC 0x0e at EL2, taken from EL2 at the
    // return address, SPSR.IL set and EL/SP kept (EL2h).
    let last = log[10];
    assert_eq!(ec(&last), EC_ILLEGAL_STATE);
    assert_eq!(last[2], sym("after_illegal"));
    assert_eq!(last[4], 0x200, "current EL with SP_ELx");
    assert_ne!(last[3] & (1 << 20), 0, "SPSR.IL");
    assert_eq!(last[3] & 0xf, 0x9, "EL2h kept");
    assert!(m.mpu().region(3).enabled() && !m.mpu().region(2).enabled());
}

#[test]
fn el1_mpu_is_stage_1_and_its_faults_are_taken_at_el1() {
    let (m, o) = run(&image("stage1"), small());
    // EL2 sees only the final HVC; its vector then resumes at `finish`.
    assert_eq!(o.status, 0, "{:?}", o.reason);
    let el2 = exception_log(&m);
    assert_eq!(el2.len(), 1, "{el2:x?} {:?}", o.reason);
    assert_eq!(el2[0][0] >> 26, EC_HVC64);
    assert_eq!(el2[0][0] & 0xffff, 0x77);
    let g = |i: u64, k: u64| u64_at(&m, 0x30840 + 48 * i + 8 * k);
    assert_eq!(u64_at(&m, 0x30800), 4, "four exceptions taken at EL1");
    const EC_DABT_SAME: u64 = 0x25;
    const EC_SVC64: u64 = 0x15;
    // 1: a miss with SCTLR_EL1.BR clear: translation fault, same EL, FAR_EL1.
    assert_eq!(g(0, 0) >> 26, EC_DABT_SAME);
    assert_eq!(g(0, 0) & 0x3f, FSC_TRANSLATION_L0);
    assert_eq!(g(0, 1), 0x40000);
    assert_eq!(g(0, 4), 0x200, "current EL with SP_EL1");
    // 2: writing the EL1 read-only region.
    assert_eq!(g(1, 0) & (0x3f | ISS_WNR), FSC_PERMISSION_L0 | ISS_WNR);
    assert_eq!(g(1, 1), 0x31010);
    // 3: EL0 reading a region without EL0 access: taken from EL0 to EL1's lower-EL
    // vector as a data abort from a lower EL.
    assert_eq!(g(2, 0) >> 26, EC_DABT_LOWER);
    assert_eq!(g(2, 0) & 0x3f, FSC_PERMISSION_L0);
    assert_eq!(g(2, 1), 0x30010);
    assert_eq!(g(2, 3) & 0xf, 0x0, "SPSR_EL1 = EL0t");
    assert_eq!(g(2, 4), LOWER_EL_SYNC);
    // 4: SVC from EL0.
    assert_eq!((g(3, 0) >> 26, g(3, 0) & 0xffff), (EC_SVC64, 5));
    // The EL1 MPU registers read back what was written.
    assert_eq!(u64_at(&m, 0x30830), 0x31fc0 | 1);
}

#[test]
fn unloaded_memory_reads_as_the_fill_pattern_and_uarts_have_their_own_outputs() {
    let run_with = |fill| {
        let cfg = Config { fill, ..small() };
        let mut m = Machine::new(cfg).unwrap();
        m.load_elf(&image("fill"), DtbChoice::None).unwrap();
        m.load_data(0x50000, b"loaded!!").unwrap();
        let o = m.run();
        assert_eq!(o.status, 0, "{:?}", o.reason);
        m
    };
    let m = run_with(Some(r82sim::machine::DEFAULT_FILL));
    assert_eq!(u64_at(&m, 0x20800), u64::from_ne_bytes([0xa5; 8]));
    assert_eq!(u64_at(&m, 0x20808), u64::from_le_bytes(*b"loaded!!"));
    assert_eq!(m.uart_output(1), b"1");
    assert_eq!(m.uart_output(3), b"3");
    assert_eq!(m.console_text(), "0");
    let m = run_with(Some(0x5a));
    assert_eq!(u64_at(&m, 0x20800), u64::from_ne_bytes([0x5a; 8]));
    let m = run_with(None);
    assert_eq!(u64_at(&m, 0x20800), 0);
}

#[test]
fn an_elf_bss_is_not_loaded_it_holds_the_fill_pattern() {
    let mut m = Machine::new(small()).unwrap();
    m.load_elf(&rxen(), DtbChoice::None).unwrap();
    let bss = m.symbol("__bss_start").expect("rxen has __bss_start");
    assert_eq!(m.read_mem(bss, 8).unwrap(), vec![0xa5; 8]);
    let text = m.read_mem(m.symbol("_start").unwrap(), 4).unwrap();
    assert_ne!(text, vec![0xa5; 4], "loaded bytes are the file's");
}

#[test]
fn rewritten_code_runs_after_ic_iallu_and_isb() {
    let (m, o) = run(&image("smc"), small());
    assert_eq!(o.status, 0, "{:?}", o.reason);
    assert_eq!(u64_at(&m, 0x20800), 1, "the original instruction");
    assert_eq!(u64_at(&m, 0x20808), 2, "the rewritten instruction");
}

#[test]
fn a_virtual_serror_is_taken_at_el1_when_unmasked_and_clears_vse() {
    let (m, o) = run(&image("vserror"), small());
    assert_eq!(o.status, 0, "{:?}", o.reason);
    const EC_SERROR: u64 = 0x2f;
    assert_eq!(u64_at(&m, 0x20800) >> 26, EC_SERROR, "ESR_EL1");
    assert_eq!(u64_at(&m, 0x20808), 0x380, "current EL with SP_EL1, SError");
    assert_eq!(u64_at(&m, 0x20810) & (1 << 8), 0, "HCR_EL2.VSE cleared");
    assert_eq!(
        u64_at(&m, 0x20818),
        m.symbol("el1_entry").unwrap(),
        "taken before the first EL1 instruction: the ERET synchronizes"
    );
    let log = exception_log(&m);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0][0] & 0xffff, 2, "the HVC from the SError handler");
}

#[test]
fn semihosting_stderr_is_not_the_console_and_the_other_calls_answer_as_specified() {
    let cfg = Config {
        semihosting_cmdline: "image -v".into(),
        ..small()
    };
    let (m, o) = run(&image("semihosting_handles"), cfg);
    assert_eq!(o.status, 0, "{:?}", o.reason);
    assert_eq!(
        m.console_text(),
        "out\n",
        "only stdout reaches the console stream"
    );
    assert_eq!(m.semihosting_stderr(), b"err\n");
    assert_eq!(u64_at(&m, 0x20800), 0, "SYS_WRITE: nothing left unwritten");
    assert_eq!(u64_at(&m, 0x20808), 1, "SYS_ISTTY(:tt)");
    assert_eq!(u64_at(&m, 0x20810), 100_000_000, "SYS_TICKFREQ");
    let elapsed = u64_at(&m, 0x20818);
    assert!(
        elapsed > 0 && elapsed < o.insns,
        "SYS_ELAPSED in ticks: {elapsed}"
    );
    assert_eq!(u64_at(&m, 0x20820), 0, "SYS_GET_CMDLINE succeeded");
    assert_eq!(m.read_mem(0x20a00, 9).unwrap(), b"image -v\0");
    assert_eq!(u64_at(&m, 0x20828), u64::MAX, "unknown operation: -1");
    assert_eq!(u64_at(&m, 0x20830), 22, "SYS_ERRNO: EINVAL");
}

/// A WFI trapped to EL2 (HCR_EL2.TWI) does not execute: after EL2 skips it, the guest
/// runs on at once. Time jumps to the next timer deadline only for a WFI that
/// executes with nothing pending, never for the ERET to the instruction after a
/// trapped one (a guest resumed there would otherwise meet its deadline before it ran
/// an instruction, at every resume).
#[test]
fn a_wfi_trapped_to_el2_does_not_make_time_jump_on_the_return_after_it() {
    let (m, o) = run(&image("wfi_resume"), small());
    assert_eq!(o.status, 0, "{:?}", o.reason);
    let deadline = u64_at(&m, 0x20800);
    let esr = u64_at(&m, 0x20808);
    assert_eq!(esr >> 26, 0x01, "the WFI trapped (EC 0x01): {esr:#x}");
    assert_eq!(esr & 1, 0, "as a WFI (TI = 0)");
    let at_hvc = u64_at(&m, 0x20810);
    assert!(
        at_hvc < deadline,
        "CNTPCT at the HVC {at_hvc} reached the timer deadline {deadline}: time jumped"
    );
}

#[test]
fn the_el2_timer_and_an_sgi_interrupt_through_the_gic_and_a_level_interrupt_re_asserts() {
    let elf = image("timer_irq");
    let (m, o) = run(&elf, small());
    assert_eq!(o.status, 0, "{:?}", o.reason);
    let deadline = u64_at(&m, 0x20800);
    assert_eq!(
        u64_at(&m, 0x20808),
        20,
        "ICC_IAR1_EL1: the (Secure) EL2 physical timer's INTID, 20"
    );
    let at = u64_at(&m, 0x20810);
    assert!(at >= deadline, "taken at {at}, the deadline was {deadline}");
    assert!(
        at < deadline + 100,
        "WFI woke at the deadline, not much later: {at}"
    );
    assert_eq!(u64_at(&m, 0x20818), 1, "handled once");
    assert_eq!(u64_at(&m, 0x20820), 5, "the SGI to self");
    assert_eq!(
        u64_at(&m, 0x20828),
        3,
        "the level interrupt re-asserted until masked"
    );
    // Deterministic: the same image gives the same count and the same times.
    let (m2, o2) = run(&elf, small());
    assert_eq!(o.insns, o2.insns);
    assert_eq!(u64_at(&m2, 0x20810), at);
}

#[test]
fn a_list_register_injects_a_virtual_irq_that_el1_acknowledges_and_eois() {
    let (m, o) = run(&image("vgic"), small());
    assert_eq!(o.status, 0, "{:?}", o.reason);
    assert_eq!(u64_at(&m, 0x20800), 40, "ICV_IAR1_EL1 returns the vINTID");
    assert_eq!(
        u64_at(&m, 0x20808),
        0x80,
        "ICV_RPR: the running virtual priority"
    );
    assert_eq!(u64_at(&m, 0x20810) & 1, 1, "ICH_MISR_EL2.EOI: maintenance");
    assert_eq!(u64_at(&m, 0x20818), 1, "ICH_EISR_EL2: LR0 EOI'd");
    assert_eq!(
        u64_at(&m, 0x20820) & 1,
        0,
        "LR0 is not free yet: its EOI bit waits"
    );
    assert_eq!(
        u64_at(&m, 0x20828) >> 62,
        0,
        "LR0 state: invalid after the EOI"
    );
    // The physical IRQ went nowhere: only the HVC reached EL2.
    assert_eq!(exception_log(&m).len(), 1);
}
