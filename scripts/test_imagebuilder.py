#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Tests of scripts/imagebuilder.py: python3 -m unittest discover -s scripts -p 'test_*.py'
(or python3 scripts/test_imagebuilder.py). The dtc/fdtget test is skipped when they
are missing (scripts/install-deps.sh installs device-tree-compiler)."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagebuilder as ib  # noqa: E402

HAVE_DTC = shutil.which("dtc") is not None and shutil.which("fdtget") is not None


def image(size=0x2000, image_size=0x16000, header=True):
    """A fake guest: an arm64 Image header (magic at 0x38, image_size at 0x10)."""
    data = bytearray(size)
    if header:
        struct.pack_into("<Q", data, 0x10, image_size)
        data[0x38:0x3c] = b"ARM\x64"
    return bytes(data)


def elf(loads, symbols):
    """A minimal ELF64 LE: PT_LOAD (paddr, memsz) entries and a symbol table."""
    strtab = b"\0"
    syms = b"\0" * 24
    for name, value in symbols.items():
        syms += struct.pack("<IBBHQQ", len(strtab), 0, 0, 1, value, 0)
        strtab += name.encode() + b"\0"
    shstr = b"\0.symtab\0.strtab\0"
    ph = b"".join(struct.pack("<IIQQQQQQ", 1, 5, 0, a, a, 0, s, 0x1000) for a, s in loads)
    phoff = 64
    symoff = phoff + len(ph)
    stroff = symoff + len(syms)
    shstroff = stroff + len(strtab)
    shoff = (shstroff + len(shstr) + 7) & ~7
    body = ph + syms + strtab + shstr
    body += b"\0" * (shoff - 64 - len(body))
    sh = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    sh += struct.pack("<IIQQQQIIQQ", 1, 2, 0, 0, symoff, len(syms), 2, 1, 8, 24)
    sh += struct.pack("<IIQQQQIIQQ", 9, 3, 0, 0, stroff, len(strtab), 0, 0, 1, 0)
    sh += struct.pack("<IIQQQQIIQQ", 17, 3, 0, 0, shstroff, len(shstr), 0, 0, 1, 0)
    hdr = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    hdr += struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, 0, phoff, shoff, 0, 64, 56, len(loads), 64, 4, 3)
    return hdr + body + sh


GOOD = """\
# two direct-mapped domains, as the demo boots them
MEMORY_START=0x0
MEMORY_END=0x80000000
XEN_CMD="rxen.loglevel=info"
NUM_DOMUS=2
DOMU_KERNEL[0]=hello.bin
DOMU_STATIC_MEM[0]="0x20000000 0x1000000"
DOMU_MEM[0]=16
DOMU_VCPUS[0]=1
DOMU_CMD[0]="hello.yields=2 console=ttyAMA0"
DOMU_KERNEL[1]=attacker.bin
DOMU_STATIC_MEM[1]='0x30000000 0x1000000'
DOMU_CMD[1]=attack.other=0x20000000   # a comment
"""


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        for name in ("hello.bin", "attacker.bin"):
            self.write(name, image())

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def plan(self, text):
        return ib.Plan(text, self.dir)

    def refused(self, text):
        with self.assertRaises(ib.ConfigError) as cm:
            self.plan(text)
        return "\n".join(cm.exception.problems)


class ParseConfig(Base):
    def test_keys_indexes_quotes_comments(self):
        flat, idx = ib.parse_config(GOOD)
        self.assertEqual(flat["NUM_DOMUS"], "2")
        self.assertEqual(flat["XEN_CMD"], "rxen.loglevel=info")
        self.assertEqual(idx["DOMU_CMD"][0], "hello.yields=2 console=ttyAMA0")
        self.assertEqual(idx["DOMU_STATIC_MEM"][1], "0x30000000 0x1000000")
        self.assertEqual(idx["DOMU_CMD"][1], "attack.other=0x20000000")

    def test_bad_line_names_the_line(self):
        with self.assertRaises(ib.ConfigError) as cm:
            ib.parse_config("NUM_DOMUS=1\nthis is not a key\n")
        self.assertIn("line 2", str(cm.exception))

    def test_unbalanced_quote(self):
        with self.assertRaises(ib.ConfigError) as cm:
            ib.parse_config('XEN_CMD="open\n')
        self.assertIn("XEN_CMD", str(cm.exception))


class Placement(Base):
    def test_defaults(self):
        p = self.plan(GOOD)
        d0, d1 = p.domus
        self.assertEqual(d0["kernel_addr"], 0x2000_0000)  # start of its static memory
        self.assertEqual(d1["kernel_addr"], 0x3000_0000)
        self.assertEqual(d0["memory_kib"], 16 * 1024)
        self.assertEqual(d0["vcpus"], 1)
        self.assertTrue(d0["DOMU_DIRECT_MAP"] and d0["DOMU_VPL011"])
        self.assertEqual(p.dtb_addr, 0x7F00_0000)
        self.assertEqual(p.heap, [(0x1000_0000, 0x100_0000)])

    def test_dts_has_xen_bindings(self):
        p = self.plan(GOOD)
        dts = p.dts("/dts-v1/;\n/ { };")
        for text in ('compatible = "xen,domain";', "memory = <0x0 0x4000>;", "cpus = <0x1>;",
                     "xen,static-mem = <0x0 0x20000000 0x0 0x1000000>;", "direct-map;",
                     "vpl011;", "module@20000000 {",
                     'compatible = "multiboot,kernel", "multiboot,module";',
                     "reg = <0x0 0x20000000 0x0 0x2000>;",
                     'bootargs = "hello.yields=2 console=ttyAMA0";',
                     'xen,xen-bootargs = "rxen.loglevel=info";',
                     "xen,static-heap = <0x0 0x10000000 0x0 0x1000000>;"):
            self.assertIn(text, dts)
        self.assertNotIn("v8r_el1_msa", dts)

    def test_msa_and_flags(self):
        p = self.plan(GOOD + 'DOMU_V8R_EL1_MSA[0]=mpu\nDOMU_VPL011[1]=0\n')
        dts = p.dts("")
        self.assertIn('v8r_el1_msa = "mpu";', dts)
        self.assertEqual(dts.count("vpl011;"), 1)

    def test_kernel_addr_override(self):
        p = self.plan(GOOD + "DOMU_KERNEL_ADDR[0]=0x40000000\n")
        self.assertEqual(p.domus[0]["kernel_addr"], 0x4000_0000)

    def test_loader_args(self):
        p = self.plan(GOOD)
        fvp, sim = p.loader_args("/o/x.dtb", "/b/rxen")
        k0 = os.path.join(self.dir, "hello.bin")
        self.assertEqual(fvp[:2], ["-a", "cluster0.cpu0=/b/rxen"])
        self.assertIn(f"cluster0.cpu0={k0}@0x20000000", fvp)
        self.assertEqual(fvp[-1], "cluster0.cpu0=/o/x.dtb@0x7f000000")
        self.assertEqual(sim[:2], ["--dtb", "/o/x.dtb"])
        self.assertIn(f"{k0}@0x20000000", sim)
        self.assertEqual(sim[-1], "/b/rxen")

    def test_xen_symbols_and_extent(self):
        self.write("rxen", elf([(0x0, 0x24000)], {"_sdata": 0xd000, "__bss_start": 0x13000}))
        p = self.plan(GOOD.replace("DOMU_CMD[1]=attack.other=0x20000000",
                                   'DOMU_CMD[1]="attack.data=${xen:_sdata} attack.bss=${xen:__bss_start}"')
                      + "XEN=rxen\n")
        self.assertEqual(p.domus[1]["cmd"], "attack.data=0xd000 attack.bss=0x13000")
        self.assertIn(("XEN", (0x0, 0x24000)), p.reserved)

    def test_unknown_key_warns(self):
        p = self.plan(GOOD + "UBOOT_SOURCE=boot.source\nDOMU_FOO[0]=1\n")
        self.assertTrue(any("UBOOT_SOURCE" in w for w in p.warnings))
        self.assertTrue(any("DOMU_FOO" in w for w in p.warnings))


class Refusals(Base):
    def test_overlapping_domains(self):
        msg = self.refused(GOOD.replace("0x30000000 0x1000000", "0x20800000 0x1000000"))
        self.assertIn("DOMU_STATIC_MEM[1]", msg)
        self.assertIn("overlaps DOMU_STATIC_MEM[0]", msg)

    def test_memory_outside_range(self):
        msg = self.refused(GOOD.replace("MEMORY_END=0x80000000", "MEMORY_END=0x28000000"))
        self.assertIn("DOMU_STATIC_MEM[1]", msg)
        self.assertIn("outside MEMORY_START..MEMORY_END", msg)

    def test_missing_kernel_file(self):
        os.remove(os.path.join(self.dir, "attacker.bin"))
        msg = self.refused(GOOD)
        self.assertIn("DOMU_KERNEL[1]", msg)
        self.assertIn("cannot read the kernel", msg)

    def test_missing_kernel_key(self):
        msg = self.refused(GOOD.replace("DOMU_KERNEL[1]=attacker.bin\n", ""))
        self.assertIn("DOMU_KERNEL[1]: missing", msg)

    def test_more_than_one_vcpu(self):
        msg = self.refused(GOOD.replace("DOMU_VCPUS[0]=1", "DOMU_VCPUS[0]=2"))
        self.assertIn("DOMU_VCPUS[0]: 2: more than one vCPU needs SMP, not supported yet", msg)

    def test_zero_vcpus(self):
        self.assertIn("DOMU_VCPUS[0]", self.refused(GOOD.replace("DOMU_VCPUS[0]=1", "DOMU_VCPUS[0]=0")))

    def test_mem_mismatch(self):
        msg = self.refused(GOOD.replace("DOMU_MEM[0]=16", "DOMU_MEM[0]=32"))
        self.assertIn("DOMU_MEM[0]: 32 MiB does not match DOMU_STATIC_MEM[0]", msg)

    def test_elf_kernel(self):
        self.write("hello.bin", b"\x7fELF" + bytes(100))
        self.assertIn("is an ELF file", self.refused(GOOD))

    def test_kernel_does_not_fit(self):
        self.write("hello.bin", image(image_size=0x2000000))  # 32 MiB with bss and stack
        msg = self.refused(GOOD)
        self.assertIn("DOMU_KERNEL[0]: the kernel needs 0x2000000 bytes", msg)

    def test_no_image_header_warns(self):
        self.write("hello.bin", image(header=False))
        p = self.plan(GOOD)
        self.assertTrue(any("no arm64 Image header" in w for w in p.warnings))

    def test_index_beyond_num_domus(self):
        msg = self.refused(GOOD + "DOMU_KERNEL[2]=hello.bin\n")
        self.assertIn("DOMU_KERNEL[2]: index 2 is not below NUM_DOMUS=2", msg)

    def test_unaligned_static_mem(self):
        msg = self.refused(GOOD.replace("0x20000000 0x1000000", "0x20000800 0x1000000"))
        self.assertIn("DOMU_STATIC_MEM[0]", msg)
        self.assertIn("4 KiB aligned", msg)

    def test_odd_static_mem(self):
        self.assertIn("pairs", self.refused(GOOD.replace('"0x20000000 0x1000000"', "0x20000000")))

    def test_no_static_mem(self):
        msg = self.refused(GOOD.replace('DOMU_STATIC_MEM[0]="0x20000000 0x1000000"\n', "")
                           .replace("DOMU_MEM[0]=16\n", ""))
        self.assertIn("DOMU_STATIC_MEM[0]: missing", msg)

    def test_heap_over_domain(self):
        msg = self.refused(GOOD + 'XEN_STATIC_HEAP="0x20000000 0x100000"\n')
        self.assertIn("overlaps XEN_STATIC_HEAP", msg)

    def test_domain_over_rxen_image(self):
        msg = self.refused(GOOD.replace("0x20000000 0x1000000", "0x0 0x1000000"))
        self.assertIn("DOMU_STATIC_MEM[0]", msg)
        self.assertIn("overlaps XEN_SIZE", msg)

    def test_num_domus_missing(self):
        self.assertIn("NUM_DOMUS: missing", self.refused("DOMU_KERNEL[0]=hello.bin\n"))

    def test_bad_number(self):
        self.assertIn("DOMU_MEM[0]: 'lots' is not a number",
                      self.refused(GOOD.replace("DOMU_MEM[0]=16", "DOMU_MEM[0]=lots")))

    def test_mpu_msa_needs_direct_map(self):
        msg = self.refused(GOOD + "DOMU_V8R_EL1_MSA[0]=mpu\nDOMU_DIRECT_MAP[0]=0\n")
        self.assertIn("DOMU_V8R_EL1_MSA[0]", msg)

    def test_symbol_needs_xen(self):
        msg = self.refused(GOOD.replace("attack.other=0x20000000", "attack.data=${xen:_sdata}"))
        self.assertIn("needs XEN=path", msg)

    def test_kernel_addr_over_other_domain(self):
        msg = self.refused(GOOD + "DOMU_KERNEL_ADDR[0]=0x30001000\n")
        self.assertIn("DOMU_KERNEL_ADDR[0]", msg)
        self.assertIn("overlaps DOMU_STATIC_MEM[1]", msg)


@unittest.skipUnless(HAVE_DTC, "dtc and fdtget are needed (apt-get install device-tree-compiler)")
class WithDtc(Base):
    def test_compile_and_read_back(self):
        cfg = self.write("demo.cfg", GOOD)
        out = os.path.join(self.dir, "out")
        r = ib.build(cfg, out)
        dtb = r["dtb"]

        def get(path, prop, *flags):
            return subprocess.run(["fdtget", *flags, dtb, path, prop], check=True,
                                  capture_output=True, text=True).stdout.strip()

        self.assertEqual(get("/chosen/domU0", "compatible"), "xen,domain")
        self.assertEqual(get("/chosen/domU0", "xen,static-mem", "-tx"), "0 20000000 0 1000000")
        self.assertEqual(get("/chosen/domU0", "memory", "-tx"), "0 4000")
        self.assertEqual(get("/chosen/domU0", "cpus"), "1")
        self.assertEqual(get("/chosen/domU1/module@30000000", "reg", "-tx"), "0 30000000 0 2000")
        self.assertEqual(get("/chosen/domU1/module@30000000", "compatible"),
                         "multiboot,kernel multiboot,module")
        self.assertEqual(get("/chosen/domU1/module@30000000", "bootargs"), "attack.other=0x20000000")
        self.assertEqual(get("/chosen", "xen,xen-bootargs"), "rxen.loglevel=info")
        self.assertEqual(get("/chosen", "stdout-path"), "serial0:115200n8")  # base tree kept
        dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", dtb], check=True,
                             capture_output=True, text=True).stdout
        self.assertIn("direct-map;", dts)
        self.assertIn("vpl011;", dts)
        self.assertIn("uart@9c090000", dts)
        self.assertEqual(r["dtb_addr"], 0x7F00_0000)
        self.assertIn(f"cluster0.cpu0={dtb}@0x7f000000", r["fvp_args"])

    def test_cli_json_and_refusal(self):
        cfg = self.write("demo.cfg", GOOD)
        out = StringIO()
        with redirect_stdout(out):
            self.assertEqual(ib.main(["-c", cfg, "-o", os.path.join(self.dir, "o"), "--json"]), 0)
        r = json.loads(out.getvalue())
        self.assertEqual([d["addr"] for d in r["domains"]], [0x2000_0000, 0x3000_0000])
        bad = self.write("bad.cfg", GOOD.replace("DOMU_VCPUS[0]=1", "DOMU_VCPUS[0]=4"))
        err = StringIO()
        with redirect_stderr(err):
            self.assertEqual(ib.main(["-c", bad, "-o", os.path.join(self.dir, "o")]), 1)
        self.assertIn("DOMU_VCPUS[0]: 4: more than one vCPU needs SMP, not supported yet", err.getvalue())

    def test_dtb_over_a_domain(self):
        cfg = self.write("demo.cfg", GOOD + "DTB_ADDR=0x20800000\n")
        with self.assertRaises(ib.ConfigError) as cm:
            ib.build(cfg, os.path.join(self.dir, "o"))
        self.assertIn("DTB_ADDR: the DTB at 0x20800000", str(cm.exception))

    def test_base_tree_as_dtb(self):
        base = os.path.join(self.dir, "base.dtb")
        subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", base, ib.DEFAULT_DTS], check=True)
        cfg = self.write("demo.cfg", GOOD + "DEVICE_TREE=base.dtb\n")
        r = ib.build(cfg, os.path.join(self.dir, "o"))
        self.assertTrue(os.path.getsize(r["dtb"]) > 0)


if __name__ == "__main__":
    unittest.main()
