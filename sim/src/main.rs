// SPDX-License-Identifier: GPL-2.0-only
//! `r82sim [OPTIONS] IMAGE`: boot an AArch64 ELF image on a simulated FVP BaseR.
//! The exit status is the image's semihosting exit status, or one of r82sim's own
//! (see `r82sim --help`), with a one-line reason on stderr.
use std::path::PathBuf;

use clap::Parser;
use r82sim::machine::{
    Config, DtbChoice, Machine, Outcome, DEFAULT_STATIC_HEAP, DRAM_BASE, DRAM_SIZE,
};
use r82sim::{dtb, exit_status, gdb};

#[derive(Parser)]
#[command(
    version,
    about = "An open simulator of Arm's FVP_BaseR_AEMv8R: one Cortex-R82 core (Armv8-R AArch64, EL2 MPU)",
    after_help = "Exit status: the image's semihosting exit status (SYS_EXIT), 0 after a SYS_CFGCTRL shutdown, \
                  123 core parked in WFI with nothing to wake it, 124 watchdog (--max-insns), \
                  125 simulator error, 126 exception taken before VBAR_EL2 was set, 137 killed from GDB."
)]
struct Cli {
    /// The ELF image (loaded at its physical addresses; starts at its entry point).
    image: PathBuf,
    /// EL2 MPU regions implemented (MPUIR_EL2), 1..=255.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..))]
    mpu_regions: u8,
    /// Pass this device tree blob instead of the generated one.
    #[arg(long, value_name = "FILE")]
    dtb: Option<PathBuf>,
    /// Pass x0 = 0 (no device tree), as the FVP does with -a.
    #[arg(long, conflicts_with_all = ["dtb", "bootargs", "xen_bootargs"])]
    no_dtb: bool,
    /// Load the device tree at ADDR (8-byte aligned; default 0x7f000000) and pass it in x0.
    #[arg(long, value_name = "ADDR")]
    dtb_addr: Option<String>,
    /// Set /chosen/bootargs of the device tree passed to the image (under Xen's
    /// bindings, the command line of dom0 or a plain kernel).
    #[arg(long, value_name = "STR")]
    bootargs: Option<String>,
    /// Set /chosen/xen,xen-bootargs: the hypervisor's command line (rxen's options,
    /// e.g. rxen.loglevel=warn).
    #[arg(long, value_name = "STR")]
    xen_bootargs: Option<String>,
    /// /chosen/xen,static-heap of the generated tree as ADDR,SIZE, or "none".
    #[arg(long, value_name = "ADDR,SIZE")]
    static_heap: Option<String>,
    /// Write the UART0 output to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    uart: Option<PathBuf>,
    /// Where UART N (1..3) output goes: a FILE, or - for stdout (as the FVP's
    /// bp.pl011_uartN.out_file). Unset: kept only. Repeatable.
    #[arg(long = "uart-out", value_name = "N=FILE")]
    uart_out: Vec<String>,
    /// Load FILE at physical address ADDR before starting (the FVP's
    /// --data cluster0.cpu0=FILE@ADDR). Repeatable.
    #[arg(long, value_name = "FILE@ADDR")]
    data: Vec<String>,
    /// The byte RAM reads as where nothing was loaded (RAM is not zero on the FVP), or
    /// "zero".
    #[arg(long, value_name = "BYTE|zero", default_value = "0xa5")]
    fill: String,
    /// Let semihosting open host files inside DIR only (default: host files are refused).
    #[arg(long, value_name = "DIR")]
    semihosting_dir: Option<PathBuf>,
    /// What SYS_GET_CMDLINE returns (the FVP's cluster0.cpu0.semihosting-cmd_line).
    #[arg(long, value_name = "STR", default_value = "")]
    semihosting_cmdline: String,
    /// EL1 MPU regions implemented (MPUIR_EL1), 1..=255.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u8).range(1..))]
    el1_mpu_regions: u8,
    /// Stop after N instructions (exit status 124).
    #[arg(long, value_name = "N", default_value_t = 10_000_000_000)]
    max_insns: u64,
    /// Log every exception taken, with its syndrome decoded, on stderr.
    #[arg(long)]
    trace_exceptions: bool,
    /// Log every interrupt line change, acknowledge, EOI and deactivation on stderr.
    #[arg(long)]
    trace_interrupts: bool,
    /// Warn about architectural mistakes the FVP tolerates (missing ISBs, overlapping
    /// regions, fetching from a region made non-executable without IC IALLU).
    #[arg(long)]
    strict: bool,
    /// Count instructions to the first entry of each symbol or 0xADDRESS (comma-separated).
    #[arg(long, value_name = "SYM[,SYM...]", value_delimiter = ',')]
    profile: Vec<String>,
    /// Write instructions per function of the ELF (self, inclusive, calls) to FILE.
    #[arg(long, value_name = "FILE")]
    profile_report: Option<PathBuf>,
    /// Write collapsed stacks (for inferno-flamegraph) to FILE.
    #[arg(long, value_name = "FILE")]
    folded: Option<PathBuf>,
    /// Write registers and the decoded EL2 MPU as JSON at exit.
    #[arg(long, value_name = "FILE")]
    dump_state: Option<PathBuf>,
    /// Wait for one GDB client on 127.0.0.1:PORT before the first instruction (0: any
    /// free port, printed on stderr). The image's exit is reported to GDB.
    #[arg(long, value_name = "PORT")]
    gdb: Option<u16>,
}

/// Run under GDB: listen on 127.0.0.1 only, take one client (a second is refused:
/// nothing listens any more), serve it, and go on without it if it detaches.
fn run_with_gdb(m: Machine, port: u16, image: &std::path::Path) -> (Machine, Outcome) {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .unwrap_or_else(|e| fail(format!("--gdb {port}: {e}")));
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(format!("--gdb: {e}")));
    eprintln!(
        "r82sim: waiting for GDB on 127.0.0.1:{port}: gdb-multiarch {} -ex 'target remote :{port}'",
        image.display()
    );
    let (conn, peer) = listener
        .accept()
        .unwrap_or_else(|e| fail(format!("--gdb: {e}")));
    drop(listener);
    eprintln!("r82sim: GDB connected from {peer}");
    let mut dbg = gdb::Debugger::new(m);
    let end = gdb::serve(&mut dbg, conn).unwrap_or_else(|e| fail(e));
    let mut m = dbg.machine;
    let outcome = match end {
        gdb::End::Ended(o) => o,
        gdb::End::Detached => {
            eprintln!("r82sim: GDB detached; running on");
            m.run()
        }
        gdb::End::Killed => {
            eprintln!("r82sim: killed from GDB");
            std::process::exit(exit_status::KILLED)
        }
    };
    (m, outcome)
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok(),
        None => s.replace('_', "").parse().ok(),
    }
}

fn fail(msg: String) -> ! {
    eprintln!("r82sim: {msg}");
    std::process::exit(exit_status::HOST_ERROR)
}

fn main() {
    let cli = Cli::parse();
    let elf =
        std::fs::read(&cli.image).unwrap_or_else(|e| fail(format!("{}: {e}", cli.image.display())));
    let static_heap = match cli.static_heap.as_deref() {
        None => Some(DEFAULT_STATIC_HEAP),
        Some("none") => None,
        Some(s) => {
            let parsed = s
                .split_once(',')
                .and_then(|(a, b)| Some((parse_num(a)?, parse_num(b)?)));
            Some(parsed.unwrap_or_else(|| {
                fail(format!("--static-heap {s:?}: expected ADDR,SIZE or none"))
            }))
        }
    };
    let dtb = if cli.no_dtb {
        DtbChoice::None
    } else {
        let blob = match &cli.dtb {
            Some(p) => {
                let mut b =
                    std::fs::read(p).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
                if let Some(args) = &cli.bootargs {
                    b = dtb::with_bootargs(&b, args).unwrap_or_else(|e| fail(e));
                }
                if let Some(args) = &cli.xen_bootargs {
                    b = dtb::with_chosen_string(&b, "xen,xen-bootargs", args)
                        .unwrap_or_else(|e| fail(e));
                }
                b
            }
            None => dtb::generate(&dtb::Platform {
                dram_base: DRAM_BASE,
                dram_size: DRAM_SIZE,
                static_heap,
                bootargs: cli.bootargs.clone().unwrap_or_default(),
                xen_bootargs: cli.xen_bootargs.clone().unwrap_or_default(),
            })
            .unwrap_or_else(|e| fail(e)),
        };
        DtbChoice::Blob(blob)
    };
    let echo: Box<dyn std::io::Write> = match &cli.uart {
        Some(p) => Box::new(
            std::fs::File::create(p).unwrap_or_else(|e| fail(format!("{}: {e}", p.display()))),
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut uart_echo: [Option<Box<dyn std::io::Write>>; 3] = [None, None, None];
    for spec in &cli.uart_out {
        let (n, dest) = spec
            .split_once('=')
            .and_then(|(n, d)| Some((n.parse::<usize>().ok()?, d)))
            .filter(|(n, _)| (1..=3).contains(n))
            .unwrap_or_else(|| fail(format!("--uart-out {spec:?}: expected N=FILE with N 1..3")));
        uart_echo[n - 1] = Some(if dest == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::fs::File::create(dest).unwrap_or_else(|e| fail(format!("{dest}: {e}"))))
        });
    }
    let fill = match cli.fill.as_str() {
        "zero" => None,
        f => Some(
            parse_num(f)
                .and_then(|v| u8::try_from(v).ok())
                .unwrap_or_else(|| {
                    fail(format!("--fill {f:?}: expected a byte (0..=0xff) or zero"))
                }),
        ),
    };
    let mut data = Vec::new();
    for spec in &cli.data {
        let (file, addr) = spec
            .rsplit_once('@')
            .and_then(|(f, a)| Some((f, parse_num(a)?)))
            .unwrap_or_else(|| fail(format!("--data {spec:?}: expected FILE@ADDR")));
        let bytes = std::fs::read(file).unwrap_or_else(|e| fail(format!("--data {file}: {e}")));
        data.push((addr, bytes));
    }
    let dtb_addr = match cli.dtb_addr.as_deref() {
        None => r82sim::machine::DTB_ADDR,
        Some(a) => {
            parse_num(a).unwrap_or_else(|| fail(format!("--dtb-addr {a:?}: expected an address")))
        }
    };
    let cfg = Config {
        dtb_addr,
        semihosting_dir: cli.semihosting_dir.clone(),
        semihosting_cmdline: cli.semihosting_cmdline.clone(),
        mpu_regions: cli.mpu_regions,
        el1_mpu_regions: cli.el1_mpu_regions,
        uart_echo,
        fill,
        static_heap,
        max_insns: cli.max_insns,
        trace_exceptions: cli.trace_exceptions,
        trace_interrupts: cli.trace_interrupts,
        strict: cli.strict,
        echo: Some(echo),
        ..Config::default()
    };
    let mut m = Machine::new(cfg).unwrap_or_else(|e| fail(e));
    m.load_elf(&elf, dtb).unwrap_or_else(|e| fail(e));
    for (addr, bytes) in &data {
        m.load_data(*addr, bytes)
            .unwrap_or_else(|e| fail(format!("--data: {e}")));
    }
    m.profile(&cli.profile).unwrap_or_else(|e| fail(e));
    if cli.profile_report.is_some() || cli.folded.is_some() {
        m.enable_profiler();
    }
    let (m, outcome) = match cli.gdb {
        Some(port) => run_with_gdb(m, port, &cli.image),
        None => {
            let o = m.run();
            (m, o)
        }
    };
    for (path, text) in [
        (&cli.profile_report, m.profile_report()),
        (&cli.folded, m.profile_folded()),
    ] {
        if let (Some(p), Some(t)) = (path, text) {
            std::fs::write(p, t).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
        }
    }
    if !cli.profile.is_empty() {
        let mut prev = 0;
        for (name, count) in m.profile_counts() {
            match count {
                Some(n) => {
                    eprintln!("r82sim: profile: {name:<24} first entered after {n:>12} instructions (+{})", n.saturating_sub(prev));
                    prev = n;
                }
                None => eprintln!("r82sim: profile: {name:<24} never entered"),
            }
        }
        eprintln!(
            "r82sim: profile: {:<24} {:>12} instructions in all",
            "total", outcome.insns
        );
    }
    if let Some(p) = &cli.dump_state {
        let json = serde_json::to_string_pretty(&m.state_json(&outcome)).unwrap_or_default();
        std::fs::write(p, json).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
    }
    if let Some(why) = outcome.reason.describe() {
        eprintln!("r82sim: {why}");
    }
    std::process::exit(outcome.status)
}
