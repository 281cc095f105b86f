// SPDX-License-Identifier: GPL-2.0-only
//! The `/chosen/bootargs` options rxen understands. Unknown words are left to later
//! consumers (guests); a malformed rxen option is an error naming it.

/// Forbidden accesses that setup can make after `free_init_memory` to prove the MPU
/// map: each must end in exactly the matching abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTest {
    /// Branch into the freed init text (heap memory now, execute-never): instruction
    /// abort, permission fault.
    ExecInit,
    /// Store to hypervisor text: data abort, permission fault, write.
    WriteText,
    /// Load from the first byte past the image (`_end`): no region covers it, so a
    /// data abort, translation fault, read.
    ReadPastImage,
    /// Store to read-only data: data abort, permission fault, write.
    WriteRodata,
    /// Branch into data: instruction abort, permission fault (execute-never).
    ExecData,
    /// Arm the EL2 timer, wait in WFI: its interrupt arrives at or after the deadline
    /// and is handled once.
    Timer,
    /// Send an SGI to this core: it is handled once.
    Sgi,
}

impl SelfTest {
    pub const ALL: [SelfTest; 5] = [
        Self::ExecInit,
        Self::WriteText,
        Self::ReadPastImage,
        Self::WriteRodata,
        Self::ExecData,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::ExecInit => "exec-init",
            Self::WriteText => "write-text",
            Self::ReadPastImage => "read-past-image",
            Self::WriteRodata => "write-rodata",
            Self::ExecData => "exec-data",
            Self::Timer => "timer",
            Self::Sgi => "sgi",
        }
    }

    /// The interrupt self-checks (they end in a handled interrupt, not an abort).
    pub const INTERRUPTS: [SelfTest; 2] = [Self::Timer, Self::Sgi];

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain(Self::INTERRUPTS)
            .find(|t| t.name() == s)
    }
}

/// What rxen takes from the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub selftest: Option<SelfTest>,
    /// `rxen.loglevel=error|warn|info|debug|trace`
    pub log_level: Option<log::LevelFilter>,
    /// `rxen.bench=mpu`: after setup, one MPU map and one unmap between marker
    /// symbols, for `make bench` to count their instructions.
    pub bench_mpu: bool,
    /// `rxen.sched_slice_us=N`: the scheduler's time slice (default 1000).
    pub sched_slice_us: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BootArgsError<'a> {
    #[error("bootargs: unknown self-test {0:?} (known: exec-init, write-text, read-past-image, write-rodata, exec-data, timer, sgi)")]
    UnknownSelfTest(&'a str),
    #[error("bootargs: unknown log level {0:?} (known: error, warn, info, debug, trace)")]
    UnknownLogLevel(&'a str),
    #[error("bootargs: unknown benchmark {0:?} (known: mpu)")]
    UnknownBench(&'a str),
    #[error("bootargs: unknown rxen option {0:?}")]
    UnknownOption(&'a str),
    #[error("bootargs: rxen.sched_slice_us={0:?}: expected microseconds from 100 to 1000000")]
    BadSlice(&'a str),
}

pub fn parse(args: &str) -> Result<Options, BootArgsError<'_>> {
    let mut o = Options::default();
    for word in args.split_ascii_whitespace() {
        let Some(opt) = word.strip_prefix("rxen.") else {
            continue;
        };
        let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
        // Byte-string patterns: compared inline, a byte at a time (string patterns call
        // memcmp for each candidate of the same length).
        match key.as_bytes() {
            b"selftest" => {
                o.selftest =
                    Some(SelfTest::from_name(value).ok_or(BootArgsError::UnknownSelfTest(value))?)
            }
            b"loglevel" => {
                o.log_level = Some(match value.as_bytes() {
                    b"error" => log::LevelFilter::Error,
                    b"warn" => log::LevelFilter::Warn,
                    b"info" => log::LevelFilter::Info,
                    b"debug" => log::LevelFilter::Debug,
                    b"trace" => log::LevelFilter::Trace,
                    _ => return Err(BootArgsError::UnknownLogLevel(value)),
                })
            }
            b"bench" if value == "mpu" => o.bench_mpu = true,
            b"bench" => return Err(BootArgsError::UnknownBench(value)),
            b"sched_slice_us" => {
                let us = value
                    .parse::<u32>()
                    .ok()
                    .filter(|us| (100..=1_000_000).contains(us))
                    .ok_or(BootArgsError::BadSlice(value))?;
                o.sched_slice_us = Some(us);
            }
            _ => return Err(BootArgsError::UnknownOption(word)),
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selftest_and_loglevel_are_read_other_words_ignored() {
        let o = parse("console=ttyAMA0 rxen.selftest=write-text  rxen.loglevel=debug root=/dev/x")
            .unwrap();
        assert_eq!(o.selftest, Some(SelfTest::WriteText));
        assert_eq!(o.log_level, Some(log::LevelFilter::Debug));
        assert_eq!(parse("").unwrap(), Options::default());
    }

    #[test]
    fn every_selftest_name_round_trips() {
        for t in SelfTest::ALL {
            assert_eq!(
                parse(&format!("rxen.selftest={}", t.name()))
                    .unwrap()
                    .selftest,
                Some(t)
            );
        }
    }

    #[test]
    fn malformed_rxen_options_are_errors_naming_them() {
        assert_eq!(
            parse("rxen.selftest=nope"),
            Err(BootArgsError::UnknownSelfTest("nope"))
        );
        assert_eq!(
            parse("rxen.loglevel=loud"),
            Err(BootArgsError::UnknownLogLevel("loud"))
        );
        assert_eq!(
            parse("rxen.frobnicate"),
            Err(BootArgsError::UnknownOption("rxen.frobnicate"))
        );
        assert_eq!(
            parse("rxen.sched_slice_us=50"),
            Err(BootArgsError::BadSlice("50"))
        );
        assert_eq!(
            parse("rxen.sched_slice_us=x"),
            Err(BootArgsError::BadSlice("x"))
        );
        assert_eq!(
            parse("rxen.sched_slice_us=2000").unwrap().sched_slice_us,
            Some(2000)
        );
        assert_eq!(
            parse("rxen.selftest=timer").unwrap().selftest,
            Some(SelfTest::Timer)
        );
    }
}
