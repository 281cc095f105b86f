// SPDX-License-Identifier: GPL-2.0-only
//! The FVP BaseR devices r82sim models: PL011 UARTs and the V2M system registers
//! (SYS_CFGCTRL shutdown and reboot). Pure state machines; the machine maps them.

pub const UART_BASES: [u64; 4] = [0x9c09_0000, 0x9c0a_0000, 0x9c0b_0000, 0x9c0c_0000];
pub const UART_SIZE: u64 = 0x1000;
pub const V2M_SYSREGS: u64 = 0x9c01_0000;
pub const V2M_SIZE: u64 = 0x1000;

/// A PL011 with an always-ready transmitter and an empty receiver.
#[derive(Clone, Debug)]
pub struct Pl011 {
    regs: [u32; 0x50 / 4],
}

const DR: u64 = 0x00;
const FR: u64 = 0x18;
const ICR: u64 = 0x44;
/// UARTFR: TXFE | RXFE (transmit FIFO empty, receive FIFO empty).
const FR_IDLE: u32 = (1 << 7) | (1 << 4);
const PERIPH_ID: [u32; 8] = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

impl Default for Pl011 {
    fn default() -> Self {
        let mut regs = [0; 0x50 / 4];
        regs[0x30 / 4] = 0x300; // UARTCR reset: TXE | RXE
        Self { regs }
    }
}

impl Pl011 {
    pub fn read(&self, off: u64) -> u32 {
        match off {
            DR => 0,
            FR => FR_IDLE,
            0xfe0..=0xffc => PERIPH_ID[((off - 0xfe0) / 4) as usize],
            o if (o as usize) < self.regs.len() * 4 => self.regs[o as usize / 4],
            _ => 0,
        }
    }

    /// A register write; returns the byte to transmit for a write to UARTDR. Like the
    /// FVP, the transmitter sends whether or not the driver enabled it.
    pub fn write(&mut self, off: u64, value: u32) -> Option<u8> {
        match off {
            DR => Some(value as u8),
            FR | ICR => None,
            o if (o as usize) < self.regs.len() * 4 => {
                self.regs[o as usize / 4] = value;
                None
            }
            _ => None,
        }
    }
}

/// What a SYS_CFGCTRL write asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V2mRequest {
    Shutdown,
    Reboot,
}

#[derive(Clone, Debug, Default)]
pub struct V2m {
    cfgdata: u32,
    cfgstat: u32,
}

const SYS_ID: u64 = 0x00;
const SYS_CFGDATA: u64 = 0xa0;
const SYS_CFGCTRL: u64 = 0xa4;
const SYS_CFGSTAT: u64 = 0xa8;
const CFG_START: u32 = 1 << 31;
const CFG_WRITE: u32 = 1 << 30;
const FN_SHUTDOWN: u32 = 8;
const FN_REBOOT: u32 = 9;

impl V2m {
    pub fn read(&self, off: u64) -> u32 {
        match off {
            SYS_ID => 0x1490_0000,
            SYS_CFGDATA => self.cfgdata,
            SYS_CFGSTAT => self.cfgstat,
            _ => 0,
        }
    }

    pub fn write(&mut self, off: u64, value: u32) -> Option<V2mRequest> {
        match off {
            SYS_CFGDATA => self.cfgdata = value,
            SYS_CFGCTRL if value & (CFG_START | CFG_WRITE) == CFG_START | CFG_WRITE => {
                self.cfgstat = 1; // complete
                return match (value >> 20) & 0x3f {
                    FN_SHUTDOWN => Some(V2mRequest::Shutdown),
                    FN_REBOOT => Some(V2mRequest::Reboot),
                    _ => None,
                };
            }
            SYS_CFGSTAT => self.cfgstat = value,
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uart_transmits_data_register_writes_and_reports_idle() {
        let mut u = Pl011::default();
        assert_eq!(u.write(0, b'A' as u32), Some(b'A'));
        assert_eq!(u.read(0x18) & (1 << 5), 0, "TXFF must be clear");
        assert_eq!(u.write(0x30, 0x301), None);
        assert_eq!(u.read(0x30), 0x301);
        assert_eq!(u.read(0xfe0), 0x11);
    }

    #[test]
    fn cfgctrl_shutdown_and_reboot() {
        let mut v = V2m::default();
        assert_eq!(
            v.write(0xa4, CFG_START | CFG_WRITE | (8 << 20)),
            Some(V2mRequest::Shutdown)
        );
        assert_eq!(
            v.write(0xa4, CFG_START | CFG_WRITE | (9 << 20)),
            Some(V2mRequest::Reboot)
        );
        assert_eq!(
            v.write(0xa4, CFG_START | (8 << 20)),
            None,
            "a read request does nothing"
        );
    }
}
