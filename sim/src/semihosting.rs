// SPDX-License-Identifier: GPL-2.0-only
//! Arm semihosting (the "Semihosting for AArch32 and AArch64" specification) as the
//! FVP offers it, as a pure model: the machine passes the operation (w0), the
//! parameter (x1), the guest's memory and the time; the model returns x0 and what to
//! do (output on stdout or stderr, a stop). No Unicorn, no host time.
//!
//! FVP behaviours modelled: `:tt` opened with modes 0..3 is stdin, 4..7 stdout, 8..11
//! stderr (cluster0.cpu0.semihosting-use_stderr=1: stderr output goes to the host's
//! stderr, never to the console stream); SYS_WRITEC and SYS_WRITE0 write to stdout;
//! `:semihosting-features` reads back "SHFB" and the feature byte (EXIT_EXTENDED and
//! STDOUT_STDERR). Host files are opened only inside a directory given to the model
//! (`--semihosting-dir`): by default an image cannot read or write the host.
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

pub const SYS_OPEN: u32 = 0x01;
pub const SYS_CLOSE: u32 = 0x02;
pub const SYS_WRITEC: u32 = 0x03;
pub const SYS_WRITE0: u32 = 0x04;
pub const SYS_WRITE: u32 = 0x05;
pub const SYS_READ: u32 = 0x06;
pub const SYS_READC: u32 = 0x07;
pub const SYS_ISERROR: u32 = 0x08;
pub const SYS_ISTTY: u32 = 0x09;
pub const SYS_SEEK: u32 = 0x0a;
pub const SYS_FLEN: u32 = 0x0c;
pub const SYS_CLOCK: u32 = 0x10;
pub const SYS_TIME: u32 = 0x11;
pub const SYS_ERRNO: u32 = 0x13;
pub const SYS_GET_CMDLINE: u32 = 0x15;
pub const SYS_HEAPINFO: u32 = 0x16;
pub const SYS_EXIT: u32 = 0x18;
pub const SYS_EXIT_EXTENDED: u32 = 0x20;
pub const SYS_ELAPSED: u32 = 0x30;
pub const SYS_TICKFREQ: u32 = 0x31;

/// ADP_Stopped_ApplicationExit: the normal end; its subcode is the exit status.
pub const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;
/// Host errno values the FVP reports through SYS_ERRNO (Linux numbering).
pub const ENOENT: u64 = 2;
pub const EBADF: u64 = 9;
pub const EACCES: u64 = 13;
pub const EFAULT: u64 = 14;
pub const EINVAL: u64 = 22;
/// The longest string or buffer a single call moves (a guard, not a spec limit).
const MAX_TRANSFER: u64 = 1 << 24;
const FEATURES: [u8; 5] = [b'S', b'H', b'F', b'B', 0b11];
/// x0 = -1.
const FAIL: u64 = u64::MAX;

/// The image's view of memory (physical, as the debugger sees it).
pub trait GuestMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool;
    fn write(&mut self, addr: u64, data: &[u8]) -> bool;
}

/// Time as the machine keeps it (deterministic).
#[derive(Clone, Copy, Debug, Default)]
pub struct Clock {
    /// Counter ticks since reset.
    pub ticks: u64,
    pub tick_hz: u64,
    /// SYS_TIME's answer: seconds since the epoch, given by the caller.
    pub unix_time: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How a SYS_EXIT / SYS_EXIT_EXTENDED ended the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    pub reason: u64,
    pub subcode: u64,
}

impl Exit {
    /// The process status: the subcode for ApplicationExit, 1 for any other reason.
    pub fn status(&self) -> i32 {
        if self.reason == ADP_STOPPED_APPLICATION_EXIT {
            (self.subcode & 0xff) as i32
        } else {
            1
        }
    }

    /// The name of an ADP_Stopped_* reason, for the stop message.
    pub fn reason_name(&self) -> &'static str {
        match self.reason {
            0x20000 => "ADP_Stopped_BranchThroughZero",
            0x20001 => "ADP_Stopped_UndefinedInstr",
            0x20002 => "ADP_Stopped_SoftwareInterrupt",
            0x20003 => "ADP_Stopped_PrefetchAbort",
            0x20004 => "ADP_Stopped_DataAbort",
            0x20005 => "ADP_Stopped_AddressException",
            0x20006 => "ADP_Stopped_IRQ",
            0x20007 => "ADP_Stopped_FIQ",
            0x20020 => "ADP_Stopped_BreakPoint",
            0x20021 => "ADP_Stopped_WatchPoint",
            0x20022 => "ADP_Stopped_StepComplete",
            0x20023 => "ADP_Stopped_RunTimeErrorUnknown",
            0x20024 => "ADP_Stopped_InternalError",
            0x20025 => "ADP_Stopped_UserInterruption",
            ADP_STOPPED_APPLICATION_EXIT => "ADP_Stopped_ApplicationExit",
            0x20027 => "ADP_Stopped_StackOverflow",
            0x20028 => "ADP_Stopped_DivisionByZero",
            0x20029 => "ADP_Stopped_OSSpecific",
            _ => "an unknown reason",
        }
    }
}

/// What one call did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    pub ret: u64,
    pub output: Vec<(Stream, Vec<u8>)>,
    pub exit: Option<Exit>,
    /// A message for the user (an unsupported operation, a refused host file).
    pub warning: Option<String>,
}

enum Handle {
    Tty(Stream),
    Stdin,
    Features { pos: usize },
    File(File),
}

pub struct Semihosting {
    handles: BTreeMap<u64, Handle>,
    next: u64,
    errno: u64,
    sandbox: Option<PathBuf>,
    cmdline: String,
    /// (heap base, heap limit, stack base, stack limit) for SYS_HEAPINFO.
    pub heapinfo: [u64; 4],
    stdin: Vec<u8>,
    stdin_pos: usize,
}

impl Semihosting {
    /// `sandbox`: the only host directory files may be opened in (None: none).
    pub fn new(sandbox: Option<PathBuf>, cmdline: String) -> Self {
        Self {
            handles: BTreeMap::new(),
            next: 1,
            errno: 0,
            sandbox,
            cmdline,
            heapinfo: [0; 4],
            stdin: Vec::new(),
            stdin_pos: 0,
        }
    }

    /// Bytes SYS_READ/SYS_READC return from stdin (default: none, end of file).
    pub fn set_stdin(&mut self, data: Vec<u8>) {
        self.stdin = data;
        self.stdin_pos = 0;
    }

    fn fail(&mut self, errno: u64) -> u64 {
        self.errno = errno;
        FAIL
    }

    fn words<const N: usize>(mem: &dyn GuestMemory, at: u64) -> Option<[u64; N]> {
        let mut out = [0u64; N];
        for (i, w) in out.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            if !mem.read(at.checked_add(8 * i as u64)?, &mut b) {
                return None;
            }
            *w = u64::from_le_bytes(b);
        }
        Some(out)
    }

    fn bytes(mem: &dyn GuestMemory, at: u64, len: u64) -> Option<Vec<u8>> {
        if len > MAX_TRANSFER {
            return None;
        }
        let mut v = vec![0u8; len as usize];
        mem.read(at, &mut v).then_some(v)
    }

    fn cstring(mem: &dyn GuestMemory, mut at: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let mut c = [0u8];
            if !mem.read(at, &mut c) || out.len() as u64 > MAX_TRANSFER {
                return None;
            }
            if c[0] == 0 {
                return Some(out);
            }
            out.push(c[0]);
            at = at.checked_add(1)?;
        }
    }

    fn add(&mut self, h: Handle) -> u64 {
        let n = self.next;
        self.next += 1;
        self.handles.insert(n, h);
        n
    }

    /// Run one call: `op` from w0, `param` from x1.
    pub fn call(&mut self, op: u32, param: u64, mem: &mut dyn GuestMemory, clock: Clock) -> Effect {
        let mut e = Effect::default();
        e.ret = match op {
            SYS_OPEN => self.open(param, mem, &mut e),
            SYS_CLOSE => match Self::words::<1>(mem, param) {
                Some([h]) if self.handles.remove(&h).is_some() => 0,
                Some(_) => self.fail(EBADF),
                None => self.fail(EFAULT),
            },
            SYS_WRITEC => {
                let mut c = [0u8];
                if mem.read(param, &mut c) {
                    e.output.push((Stream::Stdout, c.to_vec()));
                }
                0
            }
            SYS_WRITE0 => match Self::cstring(mem, param) {
                Some(s) => {
                    e.output.push((Stream::Stdout, s));
                    0
                }
                None => self.fail(EFAULT),
            },
            SYS_WRITE => self.write(param, mem, &mut e),
            SYS_READ => self.read(param, mem),
            SYS_READC => match self.stdin.get(self.stdin_pos) {
                Some(&c) => {
                    self.stdin_pos += 1;
                    c as u64
                }
                None => FAIL, // end of input
            },
            SYS_ISERROR => match Self::words::<1>(mem, param) {
                Some([status]) => ((status as i64) < 0) as u64,
                None => self.fail(EFAULT),
            },
            SYS_ISTTY => match Self::words::<1>(mem, param) {
                Some([h]) => match self.handles.get(&h) {
                    Some(Handle::Tty(_) | Handle::Stdin) => 1,
                    Some(_) => 0,
                    None => self.fail(EBADF),
                },
                None => self.fail(EFAULT),
            },
            SYS_SEEK => self.seek(param, mem),
            SYS_FLEN => self.flen(param, mem),
            SYS_CLOCK => clock.ticks / (clock.tick_hz / 100).max(1),
            SYS_TIME => clock.unix_time,
            SYS_ERRNO => self.errno,
            SYS_GET_CMDLINE => self.get_cmdline(param, mem),
            SYS_HEAPINFO => match Self::words::<1>(mem, param) {
                Some([block]) => {
                    let data: Vec<u8> =
                        self.heapinfo.iter().flat_map(|w| w.to_le_bytes()).collect();
                    if mem.write(block, &data) {
                        0
                    } else {
                        self.fail(EFAULT)
                    }
                }
                None => self.fail(EFAULT),
            },
            SYS_EXIT | SYS_EXIT_EXTENDED => match Self::words::<2>(mem, param) {
                Some([reason, subcode]) => {
                    let exit = Exit { reason, subcode };
                    if exit.reason != ADP_STOPPED_APPLICATION_EXIT {
                        e.warning = Some(format!(
                            "semihosting exit with {} ({reason:#x}), subcode {subcode:#x}",
                            exit.reason_name()
                        ));
                    }
                    e.exit = Some(exit);
                    0
                }
                None => {
                    e.warning = Some(format!(
                        "semihosting SYS_EXIT with an unreadable parameter block at {param:#x}"
                    ));
                    e.exit = Some(Exit {
                        reason: 0x20024,
                        subcode: 0,
                    });
                    0
                }
            },
            SYS_ELAPSED => {
                if mem.write(param, &clock.ticks.to_le_bytes()) {
                    0
                } else {
                    self.fail(EFAULT)
                }
            }
            SYS_TICKFREQ => clock.tick_hz,
            other => {
                e.warning = Some(format!(
                    "semihosting operation {other:#x} is not supported by r82sim: it returns -1"
                ));
                self.fail(EINVAL)
            }
        };
        e
    }

    fn open(&mut self, param: u64, mem: &dyn GuestMemory, e: &mut Effect) -> u64 {
        let Some([name_ptr, mode, len]) = Self::words::<3>(mem, param) else {
            return self.fail(EFAULT);
        };
        let Some(name) = Self::bytes(mem, name_ptr, len) else {
            return self.fail(EFAULT);
        };
        if mode > 11 {
            return self.fail(EINVAL);
        }
        match name.as_slice() {
            b":tt" => {
                let h = match mode / 4 {
                    0 => Handle::Stdin,
                    1 => Handle::Tty(Stream::Stdout),
                    _ => Handle::Tty(Stream::Stderr),
                };
                self.add(h)
            }
            b":semihosting-features" => {
                if mode / 4 != 0 {
                    return self.fail(EACCES);
                }
                self.add(Handle::Features { pos: 0 })
            }
            _ => {
                let name = String::from_utf8_lossy(&name).into_owned();
                match self.host_path(&name) {
                    Ok(path) => match open_mode(&path, mode) {
                        Ok(f) => self.add(Handle::File(f)),
                        Err(err) => {
                            let errno = err.raw_os_error().map_or(ENOENT, |n| n as u64);
                            self.fail(errno)
                        }
                    },
                    Err(why) => {
                        e.warning = Some(format!("semihosting SYS_OPEN {name:?} refused: {why}"));
                        self.fail(EACCES)
                    }
                }
            }
        }
    }

    /// The host path for `name`, inside the sandbox only.
    fn host_path(&self, name: &str) -> Result<PathBuf, String> {
        let Some(dir) = &self.sandbox else {
            return Err("host files are not available (give r82sim --semihosting-dir DIR)".into());
        };
        let rel = Path::new(name);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(format!(
                "only paths inside {} without .. are allowed",
                dir.display()
            ));
        }
        let joined = dir.join(rel);
        // A symlink must not lead out of the directory either.
        let root = dir
            .canonicalize()
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let probe = joined.canonicalize().or_else(|_| {
            joined
                .parent()
                .map_or(Ok(root.clone()), |p| p.canonicalize())
        });
        match probe {
            Ok(p) if p.starts_with(&root) => Ok(joined),
            Ok(_) => Err(format!("{name} leads outside {}", dir.display())),
            Err(e) => Err(format!("{name}: {e}")),
        }
    }

    fn write(&mut self, param: u64, mem: &dyn GuestMemory, e: &mut Effect) -> u64 {
        let Some([h, buf, len]) = Self::words::<3>(mem, param) else {
            return self.fail(EFAULT);
        };
        let Some(data) = Self::bytes(mem, buf, len) else {
            self.errno = EFAULT;
            return len;
        };
        match self.handles.get_mut(&h) {
            Some(Handle::Tty(s)) => {
                e.output.push((*s, data));
                0
            }
            Some(Handle::File(f)) => match f.write_all(&data) {
                Ok(()) => 0,
                Err(_) => {
                    self.errno = EACCES;
                    len
                }
            },
            Some(Handle::Stdin | Handle::Features { .. }) => {
                self.errno = EBADF;
                len
            }
            None => {
                self.errno = EBADF;
                len
            }
        }
    }

    fn read(&mut self, param: u64, mem: &mut dyn GuestMemory) -> u64 {
        let Some([h, buf, len]) = Self::words::<3>(mem, param) else {
            return self.fail(EFAULT);
        };
        if len > MAX_TRANSFER {
            return self.fail(EINVAL);
        }
        let mut data = vec![0u8; len as usize];
        let n = match self.handles.get_mut(&h) {
            Some(Handle::Stdin) => {
                let rest = &self.stdin[self.stdin_pos.min(self.stdin.len())..];
                let n = rest.len().min(data.len());
                data[..n].copy_from_slice(&rest[..n]);
                self.stdin_pos += n;
                n
            }
            Some(Handle::Features { pos }) => {
                let rest = &FEATURES[(*pos).min(FEATURES.len())..];
                let n = rest.len().min(data.len());
                data[..n].copy_from_slice(&rest[..n]);
                *pos += n;
                n
            }
            Some(Handle::File(f)) => f.read(&mut data).unwrap_or(0),
            Some(Handle::Tty(_)) | None => {
                self.errno = EBADF;
                return len;
            }
        };
        if !mem.write(buf, &data[..n]) {
            self.errno = EFAULT;
            return len;
        }
        len - n as u64
    }

    fn seek(&mut self, param: u64, mem: &dyn GuestMemory) -> u64 {
        let Some([h, pos]) = Self::words::<2>(mem, param) else {
            return self.fail(EFAULT);
        };
        match self.handles.get_mut(&h) {
            Some(Handle::File(f)) => match f.seek(SeekFrom::Start(pos)) {
                Ok(_) => 0,
                Err(_) => self.fail(EINVAL),
            },
            Some(Handle::Features { pos: p }) => {
                *p = pos as usize;
                0
            }
            Some(_) => self.fail(EINVAL),
            None => self.fail(EBADF),
        }
    }

    fn flen(&mut self, param: u64, mem: &dyn GuestMemory) -> u64 {
        let Some([h]) = Self::words::<1>(mem, param) else {
            return self.fail(EFAULT);
        };
        match self.handles.get(&h) {
            Some(Handle::File(f)) => match f.metadata() {
                Ok(m) => m.len(),
                Err(_) => self.fail(EBADF),
            },
            Some(Handle::Features { .. }) => FEATURES.len() as u64,
            Some(_) => self.fail(EINVAL),
            None => self.fail(EBADF),
        }
    }

    fn get_cmdline(&mut self, param: u64, mem: &mut dyn GuestMemory) -> u64 {
        let Some([buf, size]) = Self::words::<2>(mem, param) else {
            return self.fail(EFAULT);
        };
        let mut line = self.cmdline.clone().into_bytes();
        line.push(0);
        if (line.len() as u64) > size {
            return self.fail(EINVAL);
        }
        let len = (line.len() - 1) as u64;
        if !mem.write(buf, &line) || !mem.write(param + 8, &len.to_le_bytes()) {
            return self.fail(EFAULT);
        }
        0
    }
}

/// fopen's mode table: 0 r, 1 rb, 2 r+, 3 r+b, 4 w, 5 wb, 6 w+, 7 w+b, 8 a, 9 ab,
/// 10 a+, 11 a+b.
fn open_mode(path: &Path, mode: u64) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    match mode / 2 {
        0 => o.read(true),
        1 => o.read(true).write(true),
        2 => o.write(true).create(true).truncate(true),
        3 => o.read(true).write(true).create(true).truncate(true),
        4 => o.append(true).create(true),
        _ => o.read(true).append(true).create(true),
    };
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 64 KiB of guest memory at 0x1000.
    struct Mem(Vec<u8>);
    const BASE: u64 = 0x1000;

    impl GuestMemory for Mem {
        fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
            let Some(o) = addr.checked_sub(BASE) else {
                return false;
            };
            match self.0.get(o as usize..o as usize + buf.len()) {
                Some(s) => {
                    buf.copy_from_slice(s);
                    true
                }
                None => false,
            }
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> bool {
            let Some(o) = addr.checked_sub(BASE) else {
                return false;
            };
            match self.0.get_mut(o as usize..o as usize + data.len()) {
                Some(s) => {
                    s.copy_from_slice(data);
                    true
                }
                None => false,
            }
        }
    }

    impl Mem {
        fn new() -> Self {
            Self(vec![0; 0x10000])
        }
        fn put(&mut self, at: u64, b: &[u8]) {
            assert!(self.write(at, b));
        }
        fn words(&mut self, at: u64, w: &[u64]) {
            let b: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
            self.put(at, &b);
        }
    }

    const CLOCK: Clock = Clock {
        ticks: 250_000_000,
        tick_hz: 100_000_000,
        unix_time: 1_700_000_000,
    };

    fn open(s: &mut Semihosting, m: &mut Mem, name: &[u8], mode: u64) -> u64 {
        m.put(0x2000, name);
        m.words(0x1800, &[0x2000, mode, name.len() as u64]);
        s.call(SYS_OPEN, 0x1800, m, CLOCK).ret
    }

    #[test]
    fn tt_gives_stdin_stdout_and_stderr_by_mode_group() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        let out = open(&mut s, &mut m, b":tt", 4);
        let err = open(&mut s, &mut m, b":tt", 8);
        let inp = open(&mut s, &mut m, b":tt", 0);
        assert!(out != FAIL && err != FAIL && inp != FAIL);
        m.put(0x3000, b"oops\n");
        m.words(0x1900, &[err, 0x3000, 5]);
        let e = s.call(SYS_WRITE, 0x1900, &mut m, CLOCK);
        assert_eq!(e.ret, 0, "SYS_WRITE returns the bytes not written");
        assert_eq!(e.output, vec![(Stream::Stderr, b"oops\n".to_vec())]);
        m.words(0x1900, &[out, 0x3000, 2]);
        let e = s.call(SYS_WRITE, 0x1900, &mut m, CLOCK);
        assert_eq!(e.output, vec![(Stream::Stdout, b"oo".to_vec())]);
        m.words(0x1900, &[inp]);
        assert_eq!(s.call(SYS_ISTTY, 0x1900, &mut m, CLOCK).ret, 1);
    }

    #[test]
    fn writec_and_write0_go_to_stdout() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        m.put(0x3000, b"hi\0");
        assert_eq!(
            s.call(SYS_WRITE0, 0x3000, &mut m, CLOCK).output,
            vec![(Stream::Stdout, b"hi".to_vec())]
        );
        assert_eq!(
            s.call(SYS_WRITEC, 0x3001, &mut m, CLOCK).output,
            vec![(Stream::Stdout, b"i".to_vec())]
        );
    }

    #[test]
    fn read_returns_the_bytes_not_read_and_eof_reads_nothing() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        s.set_stdin(b"abc".to_vec());
        let inp = open(&mut s, &mut m, b":tt", 0);
        m.words(0x1900, &[inp, 0x3000, 8]);
        assert_eq!(s.call(SYS_READ, 0x1900, &mut m, CLOCK).ret, 5);
        let mut got = [0u8; 3];
        m.read(0x3000, &mut got);
        assert_eq!(&got, b"abc");
        assert_eq!(s.call(SYS_READ, 0x1900, &mut m, CLOCK).ret, 8, "EOF");
        assert_eq!(s.call(SYS_READC, 0, &mut m, CLOCK).ret, FAIL);
    }

    #[test]
    fn host_files_are_refused_without_a_sandbox_and_confined_to_it() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        m.put(0x2000, b"/etc/passwd");
        m.words(0x1800, &[0x2000, 0, 11]);
        let e = s.call(SYS_OPEN, 0x1800, &mut m, CLOCK);
        assert_eq!(e.ret, FAIL);
        assert!(e.warning.unwrap().contains("--semihosting-dir"));
        assert_eq!(s.call(SYS_ERRNO, 0, &mut m, CLOCK).ret, EACCES);

        let dir = std::env::temp_dir().join(format!("r82sim-sh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("in.txt"), b"0123456789").unwrap();
        let mut s = Semihosting::new(Some(dir.clone()), String::new());
        let h = open(&mut s, &mut m, b"in.txt", 1);
        assert_ne!(h, FAIL);
        m.words(0x1900, &[h]);
        assert_eq!(s.call(SYS_FLEN, 0x1900, &mut m, CLOCK).ret, 10);
        assert_eq!(s.call(SYS_ISTTY, 0x1900, &mut m, CLOCK).ret, 0);
        m.words(0x1900, &[h, 4]);
        assert_eq!(s.call(SYS_SEEK, 0x1900, &mut m, CLOCK).ret, 0);
        m.words(0x1900, &[h, 0x3000, 3]);
        assert_eq!(s.call(SYS_READ, 0x1900, &mut m, CLOCK).ret, 0);
        let mut got = [0u8; 3];
        m.read(0x3000, &mut got);
        assert_eq!(&got, b"456");
        for escape in [&b"../in.txt"[..], b"/tmp/x", b"a/../../x"] {
            assert_eq!(open(&mut s, &mut m, escape, 0), FAIL, "{escape:?}");
        }
        let w = open(&mut s, &mut m, b"out.txt", 4);
        m.put(0x3000, b"data");
        m.words(0x1900, &[w, 0x3000, 4]);
        assert_eq!(s.call(SYS_WRITE, 0x1900, &mut m, CLOCK).ret, 0);
        m.words(0x1900, &[w]);
        assert_eq!(s.call(SYS_CLOSE, 0x1900, &mut m, CLOCK).ret, 0);
        assert_eq!(std::fs::read(dir.join("out.txt")).unwrap(), b"data");
        assert_eq!(
            s.call(SYS_CLOSE, 0x1900, &mut m, CLOCK).ret,
            FAIL,
            "closed twice"
        );
        assert_eq!(s.call(SYS_ERRNO, 0, &mut m, CLOCK).ret, EBADF);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_pointers_and_handles_fail_without_panicking() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        for op in [
            SYS_OPEN,
            SYS_CLOSE,
            SYS_WRITE0,
            SYS_SEEK,
            SYS_FLEN,
            SYS_ISTTY,
            SYS_GET_CMDLINE,
        ] {
            assert_eq!(
                s.call(op, 0xdead_0000, &mut m, CLOCK).ret,
                FAIL,
                "op {op:#x}"
            );
        }
        m.words(0x1900, &[77, 0x3000, 4]);
        assert_eq!(
            s.call(SYS_WRITE, 0x1900, &mut m, CLOCK).ret,
            4,
            "bad handle: nothing written"
        );
    }

    #[test]
    fn clock_time_elapsed_tickfreq_cmdline_heapinfo_features() {
        let mut s = Semihosting::new(None, "image --flag".into());
        let mut m = Mem::new();
        assert_eq!(s.call(SYS_CLOCK, 0, &mut m, CLOCK).ret, 250, "centiseconds");
        assert_eq!(s.call(SYS_TIME, 0, &mut m, CLOCK).ret, 1_700_000_000);
        assert_eq!(s.call(SYS_TICKFREQ, 0, &mut m, CLOCK).ret, 100_000_000);
        assert_eq!(s.call(SYS_ELAPSED, 0x3000, &mut m, CLOCK).ret, 0);
        let mut t = [0u8; 8];
        m.read(0x3000, &mut t);
        assert_eq!(u64::from_le_bytes(t), 250_000_000);
        m.words(0x1900, &[0x3100, 64]);
        assert_eq!(s.call(SYS_GET_CMDLINE, 0x1900, &mut m, CLOCK).ret, 0);
        let mut c = [0u8; 13];
        m.read(0x3100, &mut c);
        assert_eq!(&c, b"image --flag\0");
        m.words(0x1900, &[0x3100, 4]);
        assert_eq!(
            s.call(SYS_GET_CMDLINE, 0x1900, &mut m, CLOCK).ret,
            FAIL,
            "too small"
        );
        s.heapinfo = [0x10, 0x20, 0x30, 0x40];
        m.words(0x1900, &[0x3200]);
        assert_eq!(s.call(SYS_HEAPINFO, 0x1900, &mut m, CLOCK).ret, 0);
        let mut h = [0u8; 32];
        m.read(0x3200, &mut h);
        assert_eq!(h[8], 0x20);
        let f = open(&mut s, &mut m, b":semihosting-features", 0);
        m.words(0x1900, &[f, 0x3300, 5]);
        assert_eq!(s.call(SYS_READ, 0x1900, &mut m, CLOCK).ret, 0);
        let mut b = [0u8; 5];
        m.read(0x3300, &mut b);
        assert_eq!(b, FEATURES);
    }

    #[test]
    fn exits_with_application_exit_or_another_reason() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        m.words(0x1900, &[ADP_STOPPED_APPLICATION_EXIT, 42]);
        let e = s.call(SYS_EXIT_EXTENDED, 0x1900, &mut m, CLOCK);
        assert_eq!(e.exit.as_ref().map(Exit::status), Some(42));
        assert!(e.warning.is_none());
        m.words(0x1900, &[0x20023, 0]);
        let e = s.call(SYS_EXIT, 0x1900, &mut m, CLOCK);
        assert_eq!(e.exit.as_ref().map(Exit::status), Some(1));
        assert!(e
            .warning
            .unwrap()
            .contains("ADP_Stopped_RunTimeErrorUnknown"));
    }

    #[test]
    fn unknown_operations_are_a_clear_message() {
        let (mut s, mut m) = (Semihosting::new(None, String::new()), Mem::new());
        let e = s.call(0x77, 0, &mut m, CLOCK);
        assert_eq!(e.ret, FAIL);
        assert!(e
            .warning
            .unwrap()
            .contains("operation 0x77 is not supported"));
    }
}
