#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn an ImageBuilder-style config into rxen's device tree and loader arguments.

Reads a short config in the style of Xen's ImageBuilder (scripts/uboot-script-gen):

    MEMORY_START=0x0
    MEMORY_END=0x80000000
    XEN=build/rxen                        # optional: the rxen ELF (extent, symbols)
    XEN_CMD="rxen.loglevel=info"          # /chosen/xen,xen-bootargs (and bootargs)
    XEN_STATIC_HEAP="0x10000000 0x1000000"
    NUM_DOMUS=2
    DOMU_KERNEL[0]=guests/build/hello.bin
    DOMU_STATIC_MEM[0]="0x20000000 0x1000000"
    DOMU_MEM[0]=16                        # MiB; optional, must match the static memory
    DOMU_VCPUS[0]=1
    DOMU_CMD[0]="hello.yields=3"

places each kernel (by default at the start of its domain's static memory, where a
direct-mapped guest runs), writes a DTS (the base tree, dts/fvp-baser.dts by default,
plus /chosen/domU* nodes with Xen's dom0less bindings from
docs/misc/arm/device-tree/booting.txt), compiles it with dtc, and prints the loader
arguments for the FVP and for r82sim. Bad input is refused with a message naming the
key and the rule.

Keys beyond ImageBuilder's: DOMU_KERNEL_ADDR[n] (where the loader puts the kernel),
DOMU_V8R_EL1_MSA[n] ("mpu" or "mmu": Xen's v8r_el1_msa), DTB_ADDR (where the loader
puts the DTB; default 0x7f000000, where r82sim puts the tree it passes),
XEN_SIZE (bytes reserved at 0 for rxen when XEN is not given). In DOMU_CMD,
${xen:SYMBOL} is replaced by that symbol's address in the XEN ELF (for example
attack.data=${xen:_sdata}).
"""

import argparse
import json
import os
import re
import shlex
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DTS = os.path.join(ROOT, "dts", "fvp-baser.dts")
PAGE = 0x1000
MIB = 1 << 20

DEFAULTS = {
    "MEMORY_START": "0x0",
    "MEMORY_END": "0x80000000",  # FVP BaseR DRAM0: 2 GiB at 0
    "XEN_STATIC_HEAP": "0x10000000 0x1000000",  # as dts/fvp-baser.dts
    "DTB_ADDR": "0x7f000000",  # r82sim's DTB_ADDR (sim/src/machine.rs)
    "XEN_SIZE": "0x200000",
}
GLOBAL_KEYS = {
    "MEMORY_START", "MEMORY_END", "NUM_DOMUS", "XEN", "XEN_CMD", "XEN_STATIC_HEAP",
    "DEVICE_TREE", "DTB_ADDR", "XEN_SIZE",
}
DOMU_KEYS = {
    "DOMU_KERNEL", "DOMU_MEM", "DOMU_STATIC_MEM", "DOMU_VCPUS", "DOMU_CMD",
    "DOMU_VPL011", "DOMU_DIRECT_MAP", "DOMU_KERNEL_ADDR", "DOMU_V8R_EL1_MSA",
}
# ImageBuilder keys that mean nothing here: accepted and ignored with a warning.
IGNORED_KEYS = {
    "UBOOT_SOURCE", "UBOOT_SCRIPT", "LOAD_CMD", "BOOT_CMD", "FDTEDIT", "DOM0_KERNEL",
    "DOM0_RAMDISK", "DOM0_MEM", "DOM0_VCPUS", "DOM0_CMD", "DOMU_RAMDISK",
    "DOMU_PASSTHROUGH_DTB", "DOMU_PASSTHROUGH_PATHS", "NUM_CPUPOOLS", "DOMU_NAME",
}


class ConfigError(Exception):
    """Every rule the config broke, one line each, naming the key."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def parse_config(text):
    """Config text -> ({KEY: value}, {KEY: {index: value}}). Bash-like: KEY=value,
    KEY[n]=value, quotes, # comments."""
    flat, indexed, problems = {}, {}, []
    line_re = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?=(.*)$")
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            problems.append(f"line {n}: '{line}' is not KEY=value or KEY[n]=value")
            continue
        key, idx, rhs = m.group(1), m.group(2), m.group(3)
        try:
            value = " ".join(shlex.split(rhs, comments=True))
        except ValueError as e:
            problems.append(f"line {n}: {key}: {e}")
            continue
        if idx is None:
            flat[key] = value
        else:
            indexed.setdefault(key, {})[int(idx)] = value
    if problems:
        raise ConfigError(problems)
    return flat, indexed


def parse_int(key, text, problems):
    try:
        return int(text.replace("_", ""), 0)
    except (ValueError, AttributeError):
        problems.append(f"{key}: '{text}' is not a number")
        return None


def parse_ranges(key, text, problems):
    """'base size [base size ...]' -> [(base, size)]."""
    words = text.split()
    if not words or len(words) % 2:
        problems.append(f"{key}: '{text}' must be pairs of 'base size'")
        return []
    nums = [parse_int(key, w, problems) for w in words]
    if None in nums:
        return []
    return list(zip(nums[0::2], nums[1::2]))


def overlaps(a, b):
    return a[0] < b[0] + b[1] and b[0] < a[0] + a[1]


def fmt_range(r):
    return f"{r[0]:#x}..{r[0] + r[1]:#x}"


class Elf:
    """The parts of an ELF64 little-endian file this tool needs: the extent of its
    PT_LOAD segments (physical addresses) and its symbols."""

    def __init__(self, data):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError("not an ELF64 little-endian file")
        (phoff, shoff) = struct.unpack_from("<QQ", data, 0x20)
        (phentsize, phnum, shentsize, shnum) = struct.unpack_from("<HHHH", data, 0x36)
        self.loads = []
        for i in range(phnum):
            p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
            paddr, = struct.unpack_from("<Q", data, phoff + i * phentsize + 0x18)
            memsz, = struct.unpack_from("<Q", data, phoff + i * phentsize + 0x28)
            if p_type == 1 and memsz:
                self.loads.append((paddr, memsz))
        self.symbols = {}
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                    for i in range(shnum)]
        for (_, sh_type, _, _, off, size, link, _, _, entsize) in sections:
            if sh_type != 2 or not entsize:  # SHT_SYMTAB
                continue
            stroff = sections[link][4]
            for j in range(size // entsize):
                st_name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", data, off + j * entsize)
                end = data.index(b"\0", stroff + st_name)
                name = data[stroff + st_name:end].decode(errors="replace")
                if name:
                    self.symbols.setdefault(name, value)

    def extent(self):
        if not self.loads:
            return None
        lo = min(a for a, _ in self.loads)
        hi = max(a + s for a, s in self.loads)
        return (lo, hi - lo)


def image_header_size(data):
    """image_size from an arm64 Image header (magic 'ARM\\x64' at 0x38), or None."""
    if len(data) >= 64 and data[0x38:0x3c] == b"ARM\x64":
        return struct.unpack_from("<Q", data, 0x10)[0] or None
    return None


def dts_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cells64(*nums):
    out = []
    for n in nums:
        out += [f"{n >> 32:#x}", f"{n & 0xffffffff:#x}"]
    return "<" + " ".join(out) + ">"


class Plan:
    """A validated configuration: where everything goes."""

    def __init__(self, text, base_dir, dts_only=False):
        flat, indexed = parse_config(text)
        self.warnings = []
        problems = []
        self.base_dir = base_dir
        for key in flat:
            if key in IGNORED_KEYS:
                self.warnings.append(f"{key}: ImageBuilder key not used by this tool; ignored")
            elif key not in GLOBAL_KEYS:
                self.warnings.append(f"{key}: unknown key; ignored")
        for key in indexed:
            if key in IGNORED_KEYS:
                self.warnings.append(f"{key}[]: ImageBuilder key not used by this tool; ignored")
            elif key not in DOMU_KEYS:
                self.warnings.append(f"{key}[]: unknown key; ignored")
        get = lambda k: flat.get(k, DEFAULTS.get(k))  # noqa: E731

        self.mem_start = parse_int("MEMORY_START", get("MEMORY_START"), problems)
        self.mem_end = parse_int("MEMORY_END", get("MEMORY_END"), problems)
        if None not in (self.mem_start, self.mem_end) and self.mem_start >= self.mem_end:
            problems.append(f"MEMORY_START: {self.mem_start:#x} must be below MEMORY_END {self.mem_end:#x}")
        if "NUM_DOMUS" not in flat:
            problems.append("NUM_DOMUS: missing (how many /chosen/domU* nodes to write)")
            raise ConfigError(problems)
        self.num = parse_int("NUM_DOMUS", flat["NUM_DOMUS"], problems)
        if self.num is not None and self.num < 1:
            problems.append(f"NUM_DOMUS: {self.num} must be at least 1")
        if problems:
            raise ConfigError(problems)
        for key, values in indexed.items():
            for i in values:
                if key in DOMU_KEYS and i >= self.num:
                    problems.append(f"{key}[{i}]: index {i} is not below NUM_DOMUS={self.num}")

        # What is reserved besides the domains: rxen's image, its heap, the DTB.
        self.reserved = []  # (key, (base, size))
        self.xen = self.path(flat["XEN"]) if "XEN" in flat else None
        self.xen_elf = None
        if self.xen:
            try:
                with open(self.xen, "rb") as f:
                    self.xen_elf = Elf(f.read())
                ext = self.xen_elf.extent()
                if ext:
                    self.reserved.append(("XEN", ext))
            except (OSError, ValueError, struct.error) as e:
                problems.append(f"XEN: {self.xen}: cannot read it as the rxen ELF ({e})")
        else:
            size = parse_int("XEN_SIZE", get("XEN_SIZE"), problems)
            if size:
                self.reserved.append(("XEN_SIZE", (0, size)))
        self.xen_cmd = flat.get("XEN_CMD", "")
        heap = parse_ranges("XEN_STATIC_HEAP", get("XEN_STATIC_HEAP"), problems)
        self.heap = heap
        for r in heap:
            self.check_range("XEN_STATIC_HEAP", r, problems)
            self.reserved.append(("XEN_STATIC_HEAP", r))
        self.dtb_addr = parse_int("DTB_ADDR", get("DTB_ADDR"), problems)
        if self.dtb_addr is not None and self.dtb_addr % 8:
            problems.append(f"DTB_ADDR: {self.dtb_addr:#x} must be 8-byte aligned")
        self.base_dts = self.path(flat["DEVICE_TREE"]) if "DEVICE_TREE" in flat else DEFAULT_DTS
        if not os.path.isfile(self.base_dts):
            problems.append(f"DEVICE_TREE: {self.base_dts}: no such file")

        self.domus = []
        for i in range(self.num):
            self.domus.append(self.domu(i, indexed, problems, dts_only))

        # Overlaps: every domain bank and kernel against every other thing.
        things = list(self.reserved)
        for i, d in enumerate(self.domus):
            for r in d["static_mem"]:
                things.append((f"DOMU_STATIC_MEM[{i}]", r))
        for i, d in enumerate(self.domus):
            if d["kernel_range"] and not d["kernel_in_own_memory"]:
                things.append((f"DOMU_KERNEL_ADDR[{i}]", d["kernel_range"]))
        for a in range(len(things)):
            for b in range(a):
                (ka, ra), (kb, rb) = things[a], things[b]
                if ka == kb and ka.startswith("XEN"):
                    continue
                if overlaps(ra, rb):
                    problems.append(f"{ka}: {fmt_range(ra)} overlaps {kb} {fmt_range(rb)}")
        self.things = things
        if problems:
            raise ConfigError(problems)

    def path(self, p):
        return os.path.abspath(os.path.join(self.base_dir, p))

    def check_range(self, key, r, problems):
        base, size = r
        if size <= 0:
            problems.append(f"{key}: size {size:#x} must be positive")
        elif base < self.mem_start or base + size > self.mem_end:
            problems.append(
                f"{key}: {fmt_range(r)} lies outside MEMORY_START..MEMORY_END "
                f"({self.mem_start:#x}..{self.mem_end:#x})")

    def domu(self, i, indexed, problems, dts_only):
        val = lambda k, default=None: indexed.get(k, {}).get(i, default)  # noqa: E731
        d = {"index": i}
        # Static memory: rxen's domains are direct-mapped on the MPU; no allocation
        # from a heap yet.
        key = f"DOMU_STATIC_MEM[{i}]"
        sm = val("DOMU_STATIC_MEM")
        if sm is None:
            problems.append(f"{key}: missing: rxen domains need static memory "
                            "(\"base size\"); there is no allocation from the heap yet")
            banks = []
        else:
            banks = parse_ranges(key, sm, problems)
        for r in banks:
            if r[0] % PAGE or r[1] % PAGE:
                problems.append(f"{key}: {fmt_range(r)} must be 4 KiB aligned (base and size)")
            self.check_range(key, r, problems)
        for a in range(len(banks)):
            for b in range(a):
                if overlaps(banks[a], banks[b]):
                    problems.append(f"{key}: bank {fmt_range(banks[a])} overlaps bank {fmt_range(banks[b])}")
        d["static_mem"] = banks
        total = sum(s for _, s in banks)
        d["memory_kib"] = total // 1024
        mem = val("DOMU_MEM")
        if mem is not None:
            mib = parse_int(f"DOMU_MEM[{i}]", mem, problems)
            if mib is not None and banks and mib * MIB != total:
                problems.append(f"DOMU_MEM[{i}]: {mib} MiB does not match DOMU_STATIC_MEM[{i}] "
                                f"({total / MIB:g} MiB): with static memory they must be equal")
        vcpus = parse_int(f"DOMU_VCPUS[{i}]", val("DOMU_VCPUS", "1"), problems)
        if vcpus is not None and vcpus > 1:
            problems.append(f"DOMU_VCPUS[{i}]: {vcpus}: more than one vCPU needs SMP, not supported yet")
        elif vcpus is not None and vcpus < 1:
            problems.append(f"DOMU_VCPUS[{i}]: {vcpus}: a domain needs at least 1 vCPU")
        d["vcpus"] = vcpus
        for flag, default in (("DOMU_VPL011", "1"), ("DOMU_DIRECT_MAP", "1")):
            v = val(flag, default)
            if v not in ("0", "1"):
                problems.append(f"{flag}[{i}]: '{v}' must be 0 or 1")
            d[flag] = v == "1"
        msa = val("DOMU_V8R_EL1_MSA")
        if msa is not None and msa not in ("mpu", "mmu"):
            problems.append(f"DOMU_V8R_EL1_MSA[{i}]: '{msa}' must be \"mpu\" or \"mmu\"")
        if msa == "mpu" and not d["DOMU_DIRECT_MAP"]:
            problems.append(f"DOMU_V8R_EL1_MSA[{i}]: \"mpu\" (PMSA at EL1) needs static memory "
                            f"and direct map: set DOMU_DIRECT_MAP[{i}]=1")
        d["msa"] = msa
        d["cmd"] = self.substitute(f"DOMU_CMD[{i}]", val("DOMU_CMD", "console=ttyAMA0"), problems)

        # The kernel: a raw image (Xen loads arm64 Images, not ELF files).
        key = f"DOMU_KERNEL[{i}]"
        d["kernel"] = None
        d["kernel_range"] = None
        d["kernel_in_own_memory"] = False
        k = val("DOMU_KERNEL")
        data = b""
        if k is None:
            problems.append(f"{key}: missing: every domain needs a kernel")
        else:
            path = self.path(k)
            d["kernel"] = path
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                problems.append(f"{key}: {path}: cannot read the kernel ({e.strerror})")
            if d["kernel"] and not data and os.path.isfile(path):
                problems.append(f"{key}: {path} is empty")
            if data[:4] == b"\x7fELF":
                problems.append(f"{key}: {path} is an ELF file: give the raw image "
                                "(llvm-objcopy -O binary; e.g. guests/build/hello.bin)")
            elif data and image_header_size(data) is None:
                self.warnings.append(f"{key}: {path} has no arm64 Image header: "
                                     "Xen would not load it")
        size = len(data)
        d["kernel_size"] = size
        need = max(size, image_header_size(data) or 0)
        addr_text = val("DOMU_KERNEL_ADDR")
        if addr_text is not None:
            addr = parse_int(f"DOMU_KERNEL_ADDR[{i}]", addr_text, problems)
            akey = f"DOMU_KERNEL_ADDR[{i}]"
        else:
            addr = banks[0][0] if banks else None
            akey = key
        d["kernel_addr"] = addr
        if addr is not None and size:
            if addr % PAGE:
                problems.append(f"{akey}: {addr:#x} must be 4 KiB aligned")
            r = (addr, size)
            d["kernel_range"] = r
            own = [b for b in banks if b[0] <= addr < b[0] + b[1]]
            if own:
                d["kernel_in_own_memory"] = True
                bank = own[0]
                if addr + need > bank[0] + bank[1]:
                    problems.append(
                        f"{akey}: the kernel needs {need:#x} bytes from {addr:#x} (file, bss "
                        f"and stack per its Image header) but DOMU_STATIC_MEM[{i}] bank "
                        f"{fmt_range(bank)} ends before that")
            else:
                self.check_range(akey, r, problems)
        return d

    def substitute(self, key, text, problems):
        def repl(m):
            sym = m.group(1)
            if not self.xen_elf:
                problems.append(f"{key}: ${{xen:{sym}}} needs XEN=path to the rxen ELF")
                return m.group(0)
            if sym not in self.xen_elf.symbols:
                problems.append(f"{key}: ${{xen:{sym}}}: no symbol {sym} in {self.xen}")
                return m.group(0)
            return f"{self.xen_elf.symbols[sym]:#x}"
        return re.sub(r"\$\{xen:([A-Za-z0-9_.$]+)\}", repl, text)

    def dts(self, base_text):
        """The base tree plus the /chosen additions (dtc merges a second `/ { }`)."""
        out = [base_text.rstrip(), "", "/* Added by scripts/imagebuilder.py: dom0less domains "
               "(Xen's docs/misc/arm/device-tree/booting.txt). */", "/ {", "\tchosen {",
               "\t\t#address-cells = <0x2>;", "\t\t#size-cells = <0x2>;"]
        out.append(f"\t\txen,xen-bootargs = {dts_string(self.xen_cmd)};")
        out.append(f"\t\tbootargs = {dts_string(self.xen_cmd)};")
        if self.heap:
            out.append(f"\t\txen,static-heap = {cells64(*[v for r in self.heap for v in r])};")
        for d in self.domus:
            i = d["index"]
            out += [f"\t\tdomU{i} {{", '\t\t\tcompatible = "xen,domain";',
                    "\t\t\t#address-cells = <0x2>;", "\t\t\t#size-cells = <0x2>;",
                    f"\t\t\tmemory = <0x0 {d['memory_kib']:#x}>;",
                    f"\t\t\tcpus = <{d['vcpus']:#x}>;",
                    "\t\t\t#xen,static-mem-address-cells = <0x2>;",
                    "\t\t\t#xen,static-mem-size-cells = <0x2>;",
                    f"\t\t\txen,static-mem = {cells64(*[v for r in d['static_mem'] for v in r])};"]
            if d["DOMU_DIRECT_MAP"]:
                out.append("\t\t\tdirect-map;")
            if d["DOMU_VPL011"]:
                out.append("\t\t\tvpl011;")
            if d["msa"]:
                out.append(f"\t\t\tv8r_el1_msa = {dts_string(d['msa'])};")
            a = d["kernel_addr"]
            out += [f"\t\t\tmodule@{a:x} {{",
                    '\t\t\t\tcompatible = "multiboot,kernel", "multiboot,module";',
                    f"\t\t\t\treg = {cells64(a, d['kernel_size'])};",
                    f"\t\t\t\tbootargs = {dts_string(d['cmd'])};",
                    "\t\t\t};", "\t\t};"]
        out += ["\t};", "};", ""]
        return "\n".join(out)

    def check_dtb(self, size):
        problems = []
        r = (self.dtb_addr, size)
        self.check_range("DTB_ADDR", r, problems)
        for k, other in self.things:
            if overlaps(r, other):
                problems.append(f"DTB_ADDR: the DTB at {fmt_range(r)} overlaps {k} {fmt_range(other)}")
        if problems:
            raise ConfigError(problems)

    def loader_args(self, dtb, xen_image):
        data = [(d["kernel"], d["kernel_addr"]) for d in self.domus]
        fvp = ["-a", f"cluster0.cpu0={xen_image}"]
        for path, addr in data + [(dtb, self.dtb_addr)]:
            fvp += ["--data", f"cluster0.cpu0={path}@{addr:#x}"]
        sim = ["--dtb", dtb]
        for path, addr in data:
            sim += ["--data", f"{path}@{addr:#x}"]
        sim.append(xen_image)
        return fvp, sim


def run_dtc(dtc, args, stdin=None):
    try:
        p = subprocess.run([dtc] + args, input=stdin, capture_output=True)
    except FileNotFoundError:
        raise ConfigError([f"dtc: '{dtc}' not found (apt-get install device-tree-compiler)"])
    if p.returncode:
        raise ConfigError([f"dtc: {' '.join(args)}: {p.stderr.decode(errors='replace').strip()}"])
    return p.stdout


def build(config_path, out_dir, dtc="dtc", base_dir=None):
    """Validate, write OUT/rxen-domus.dts and .dtb; return a result dict."""
    with open(config_path) as f:
        text = f.read()
    plan = Plan(text, base_dir or os.path.dirname(os.path.abspath(config_path)))
    if plan.base_dts.endswith(".dtb"):
        base = run_dtc(dtc, ["-q", "-I", "dtb", "-O", "dts", plan.base_dts]).decode()
    else:
        with open(plan.base_dts) as f:
            base = f.read()
    os.makedirs(out_dir, exist_ok=True)
    dts_path = os.path.join(out_dir, "rxen-domus.dts")
    dtb_path = os.path.join(out_dir, "rxen-domus.dtb")
    with open(dts_path, "w") as f:
        f.write(plan.dts(base))
    run_dtc(dtc, ["-q", "-I", "dts", "-O", "dtb", "-o", dtb_path, dts_path])
    plan.check_dtb(os.path.getsize(dtb_path))
    xen_image = plan.xen or os.path.join(ROOT, "build", "rxen")
    fvp, sim = plan.loader_args(dtb_path, xen_image)
    return {
        "dts": dts_path,
        "dtb": dtb_path,
        "dtb_addr": plan.dtb_addr,
        "domains": [{"name": f"domU{d['index']}", "kernel": d["kernel"],
                     "addr": d["kernel_addr"], "size": d["kernel_size"],
                     "static_mem": d["static_mem"], "bootargs": d["cmd"]} for d in plan.domus],
        "fvp_args": fvp,
        "r82sim_args": sim,
        "warnings": plan.warnings,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-c", "--config", required=True, help="ImageBuilder-style config file")
    ap.add_argument("-o", "--out", default=os.path.join(ROOT, "build", "imagebuilder"),
                    help="where to write rxen-domus.dts/.dtb (default build/imagebuilder)")
    ap.add_argument("-d", "--dir", help="resolve relative paths in the config from here "
                    "(default: the config file's directory)")
    ap.add_argument("--dtc", default="dtc")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args(argv)
    try:
        r = build(a.config, a.out, a.dtc, a.dir)
    except ConfigError as e:
        for p in e.problems:
            print(f"imagebuilder: {p}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"imagebuilder: {e}", file=sys.stderr)
        return 1
    for w in r["warnings"]:
        print(f"imagebuilder: warning: {w}", file=sys.stderr)
    if a.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"# device tree: {r['dts']} -> {r['dtb']} (load at {r['dtb_addr']:#x})")
    for d in r["domains"]:
        print(f"# {d['name']}: {d['kernel']} at {d['addr']:#x} ({d['size']} bytes), "
              f"static memory {', '.join(fmt_range(b) for b in d['static_mem'])}")
    print("# FVP_BaseR_AEMv8R (x0 is 0 at reset: rxen must look for the tree at "
          f"{r['dtb_addr']:#x}):")
    print(" ".join(shlex.quote(x) for x in r["fvp_args"]))
    print("# r82sim (passes the tree in x0):")
    print(" ".join(shlex.quote(x) for x in r["r82sim_args"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
