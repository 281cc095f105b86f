#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""make bench: how big and how fast rxen is, as one table and bench/results.json.

  scripts/bench.py                 measure (after `make image sim`)
  scripts/bench.py compare A B     compare two results.json files, figure by figure

Instruction counts come from r82sim and are deterministic: any change between two
commits is a real change. Host timings (criterion) vary run to run by a few percent.
"""
import json
import os
import time
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = os.path.join(ROOT, "build", "rxen")
FLAT = os.path.join(ROOT, "build", "rxen.bin")
SIM = os.path.join(ROOT, "target", "release", "r82sim")


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)


def llvm_tool(name):
    host = re.search(r"host: (\S+)", run(["rustc", "-vV"]).stdout).group(1)
    sysroot = run(["rustc", "--print", "sysroot"]).stdout.strip()
    return os.path.join(sysroot, "lib", "rustlib", host, "bin", name)


def sizes():
    out = run([llvm_tool("llvm-size"), "-A", IMAGE]).stdout
    sec = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sec[parts[0]] = int(parts[1])
    return {
        "text": sec.get(".text", 0),
        "rodata": sec.get(".rodata", 0),
        "data": sec.get(".data", 0),
        "init_text": sec.get(".init.text", 0),
        "init_data": sec.get(".init.data", 0),
        "bss": sec.get(".bss", 0),
        "flat_binary": os.path.getsize(FLAT),
    }


def profile(bootargs, symbols):
    state = os.path.join(ROOT, "build", "bench-state.json")
    r = run([SIM, IMAGE, "--xen-bootargs", bootargs, "--profile", ",".join(symbols), "--dump-state", state,
             "--uart", os.devnull])
    if r.returncode != 0:
        sys.exit(f"bench: r82sim exited {r.returncode}:\n{r.stderr}")
    counts = {m.group(1): int(m.group(2))
              for m in re.finditer(r"profile: (\S+)\s+first entered after\s+(\d+)", r.stderr)}
    total = int(re.search(r"profile: total\s+(\d+)", r.stderr).group(1))
    with open(state) as f:
        st = json.load(f)
    return counts, total, st


def profile_top(n):
    """The n functions with the most instructions of their own in a default boot
    (r82sim --profile-report, as `make profile`): name -> self instructions."""
    report = os.path.join(ROOT, "build", "bench-profile.txt")
    r = run([SIM, IMAGE, "--profile-report", report, "--uart", os.devnull])
    if r.returncode != 0:
        sys.exit(f"bench: r82sim exited {r.returncode}:\n{r.stderr}")
    top = {}
    with open(report) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[0].isdigit():
                top[parts[5].strip()] = int(parts[0])
                if len(top) == n:
                    break
    return top


def regions_after_head():
    r = run([SIM, IMAGE, "--max-insns", "100000000"])
    m = re.search(r"boot head mapped (\d+) EL2 MPU regions of (\d+)", r.stdout)
    return int(m.group(1)), int(m.group(2))


def build_test_image(name):
    """Assemble sim/tests/images/NAME.S after prelude.S, as the tests do."""
    images = os.path.join(ROOT, "sim", "tests", "images")
    out = os.path.join(ROOT, "target", "bench-images")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(images, "prelude.S")) as f:
        asm = f.read() + "\n"
    with open(os.path.join(images, name + ".S")) as f:
        asm += f.read() + "\n"
    s_path = os.path.join(out, name + ".s")
    with open(s_path, "w") as f:
        f.write(asm)
    rs = os.path.join(out, name + ".rs")
    with open(rs, "w") as f:
        f.write("#![no_std]\n#![no_main]\ncore::arch::global_asm!(include_str!(\"%s\"), options(raw));\n"
                "#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! { loop {} }\n" % s_path)
    elf = os.path.join(out, name)
    run(["rustc", "--edition", "2021", "--target", "aarch64-unknown-none-softfloat",
         "-C", "panic=abort", "-C", "target-cpu=cortex-r82", "-C", "opt-level=0",
         "-C", "link-arg=-T" + os.path.join(images, "link.ld"), "-o", elf, rs], check=True)
    return elf


def nm(elf):
    """name -> address of an ELF's symbols (llvm-nm from rustup's llvm-tools)."""
    out = run([llvm_tool("llvm-nm"), elf], check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def profile_addrs(args, marks):
    """Instructions before the first arrival at each address in `marks` (name -> addr)."""
    names = list(marks)
    r = run([SIM] + args + ["--profile", ",".join("%#x" % marks[n] for n in names)])
    counts = {}
    for m in re.finditer(r"profile: (0x[0-9a-f]+)\s+first entered after\s+(\d+)", r.stderr):
        counts[int(m.group(1), 16)] = int(m.group(2))
    return {n: counts.get(marks[n]) for n in names}, r


def guest_figures():
    """Hypercall round trip, domain switch and one vpl011 character, in r82sim
    instructions, with the bench guest (sim/tests/guests/bench.S) as d1 and d2."""
    src = os.path.join(ROOT, "sim", "tests", "guests", "bench.S")
    out = os.path.join(ROOT, "target", "bench-images")
    os.makedirs(out, exist_ok=True)
    rs = os.path.join(out, "bench_guest.rs")
    with open(rs, "w") as f:
        f.write("#![no_std]\n#![no_main]\ncore::arch::global_asm!(include_str!(\"%s\"), options(raw));\n"
                "#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! { loop {} }\n" % src)
    elf = os.path.join(out, "bench_guest")
    run(["rustc", "--edition", "2021", "--target", "aarch64-unknown-none-softfloat",
         "-C", "panic=abort", "-C", "target-cpu=cortex-r82", "-C", "opt-level=0",
         "-C", "link-arg=-T" + os.path.join(ROOT, "sim", "tests", "images", "link.ld"),
         "-o", elf, rs], check=True)
    binf = elf + ".bin"
    run([llvm_tool("llvm-objcopy"), "-O", "binary", "--only-section=.text", elf, binf], check=True)
    sym = nm(elf)
    size = os.path.getsize(binf)
    doms = ""
    for n, base in ((1, 0x20000000), (2, 0x30000000)):
        doms += """
        domU%d {
            compatible = "xen,domain"; #address-cells = <2>; #size-cells = <1>;
            memory = <0 0x4000>; cpus = <1>; vpl011; direct-map;
            #xen,static-mem-address-cells = <1>; #xen,static-mem-size-cells = <1>;
            xen,static-mem = <%#x 0x1000000>;
            module@%x { compatible = "multiboot,kernel", "multiboot,module"; reg = <0 %#x %#x>; };
        };""" % (n, base, base, base, size)
    dts = """/dts-v1/;
/ { #address-cells = <2>; #size-cells = <2>;
    memory@0 { device_type = "memory"; reg = <0 0 0 0x80000000>; };
    uart@9c090000 { compatible = "arm,pl011", "arm,primecell"; reg = <0 0x9c090000 0 0x1000>; };
    interrupt-controller@af000000 { compatible = "arm,gic-v3"; #interrupt-cells = <3>;
        interrupt-controller; reg = <0 0xaf000000 0 0x10000>, <0 0xaf100000 0 0x200000>; };
    timer { compatible = "arm,armv8-timer";
        interrupts = <1 13 0xf08>, <1 14 0xf08>, <1 11 0xf08>, <1 10 0xf08>; };
    chosen { stdout-path = "/uart@9c090000"; xen,static-heap = <0 0x10000000 0 0x1000000>;
        xen,xen-bootargs = "rxen.loglevel=warn"; %s };
};
""" % doms
    dts_path = os.path.join(out, "bench_guests.dts")
    dtb_path = os.path.join(out, "bench_guests.dtb")
    with open(dts_path, "w") as f:
        f.write(dts)
    run(["dtc", "-I", "dts", "-O", "dtb", "-o", dtb_path, dts_path], check=True)
    d1, d2 = 0x20000000, 0x30000000
    # The raw image is .text alone: offsets count from _start.
    off = {k: v - sym["_start"] for k, v in sym.items()}
    marks = {
        "hvc": d1 + off["bench_hvc"], "after_hvc": d1 + off["bench_after_hvc"],
        "putc": d1 + off["bench_putc"], "after_putc": d1 + off["bench_after_putc"],
        "yield": d1 + off["bench_yield"], "d2_start": d2,
    }
    c, r = profile_addrs(["--dtb", dtb_path, "--data", "%s@%#x" % (binf, d1), "--data",
                          "%s@%#x" % (binf, d2), IMAGE], marks)
    if r.returncode != 0 or None in c.values():
        sys.exit("bench: guest figures: r82sim exited %d: %s" % (r.returncode, r.stderr[-2000:]))
    # Each figure: instructions from the marked guest instruction (itself included)
    # to the first instruction after it in the guest that runs next.
    return {
        "hypercall_round_trip": c["after_hvc"] - c["hvc"],
        "vpl011_char": c["after_putc"] - c["putc"],
        "domain_switch": c["d2_start"] - c["yield"],
    }


def interrupt_entry():
    """rxen.selftest=timer: from the IRQ vector (EL2h, +0x280) to the first instruction
    of the registered handler."""
    syms = nm(IMAGE)
    handler = next(a for n, a in syms.items() if "on_selftest_irq" in n)
    vec = syms["el2_vectors"] + 0x280
    c, r = profile_addrs(["--xen-bootargs", "rxen.selftest=timer", IMAGE],
                         {"vector": vec, "handler": handler})
    if r.returncode != 0 or None in c.values():
        sys.exit("bench: interrupt entry: r82sim exited %d" % r.returncode)
    return {"irq_vector_to_handler": c["handler"] - c["vector"]}


def sim_speed():
    """r82sim's own speed on the host: million instructions per second, best of 3."""
    res = {}
    for name, cmd in [("store_loop", [SIM, "--profile", "main", build_test_image("speed")]),
                      ("rxen_boot", [SIM, "--profile", "start_xen", os.path.join(ROOT, "build", "rxen")])]:
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            r = run(cmd)
            dt = time.perf_counter() - t0
            n = int(re.search(r"(\d+) instructions in all", r.stderr).group(1))
            mips = n / dt / 1e6
            best = mips if best is None or mips > best else best
        res[name + "_mips"] = round(best, 1)
        res[name + "_instructions"] = n
    return res


def host_reference():
    """What the host is, so that host timings from two machines can be compared: the
    CPU model and the seconds CPython takes for a fixed loop of 10 million additions
    (best of 3). r82sim's MIPS scale roughly with the latter."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        s = 0
        for i in range(10_000_000):
            s += i
        dt = time.perf_counter() - t0
        best = dt if best is None or dt < best else best
    return {"cpu": cpu, "cores": os.cpu_count(), "python_loop_1e7_s": round(best, 2)}


def criterion():
    r = run(["cargo", "bench", "-p", "rxen", "--features", "fake-hw", "--bench", "mpu", "--",
             "--warm-up-time", "1", "--measurement-time", "2"])
    if r.returncode != 0:
        sys.exit(f"bench: cargo bench failed:\n{r.stderr[-3000:]}")
    out = {}
    base = os.path.join(ROOT, "target", "criterion", "mpu")
    for op in ["classify", "map_new", "map_refcount", "modify", "unmap"]:
        for n in [4, 16, 64, 255]:
            with open(os.path.join(base, op, str(n), "new", "estimates.json")) as f:
                out.setdefault(op, {})[str(n)] = round(json.load(f)["mean"]["point_estimate"], 1)
    return out


def measure():
    res = {"image_bytes": sizes()}
    head, implemented = regions_after_head()
    syms = ["_start", "start_xen", "free_init_memory", "setup_complete"]
    counts, total, st = profile("", syms)
    after_free = sum(1 for r in st["mpu"]["regions"] if r["enabled"])
    # The run has no domains: at its end every region in use is rxen's (EL2-only).
    hyp_after = sum(1 for r in st["mpu"]["regions"] if r["enabled"] and not r["el1_access"])
    res["mpu_regions"] = {"implemented": implemented, "after_boot_head": head,
                          "after_free_init_memory": after_free,
                          "hypervisor_after_setup": hyp_after}
    res["boot_instructions"] = {
        "reset_to_rust_entry": counts["start_xen"] - counts["_start"],
        "rust_entry_to_free_init_memory": counts["free_init_memory"] - counts["start_xen"],
        "free_init_memory": counts["setup_complete"] - counts["free_init_memory"],
        "reset_to_end_of_setup": counts["setup_complete"],
        "whole_run": total,
    }
    bsyms = ["bench_mpu_map", "bench_mpu_unmap", "bench_mpu_done"]
    bc, _, _ = profile("rxen.bench=mpu", bsyms)
    res["image_mpu_instructions"] = {"map": bc["bench_mpu_unmap"] - bc["bench_mpu_map"],
                                     "unmap": bc["bench_mpu_done"] - bc["bench_mpu_unmap"]}
    warn, _, _ = profile("rxen.loglevel=warn", syms)
    res["boot_instructions"]["reset_to_end_of_setup_loglevel_warn"] = warn["setup_complete"]
    res["guest_instructions"] = guest_figures()
    res["guest_instructions"].update(interrupt_entry())
    res["boot_instructions"]["rust_entry_to_free_init_memory_loglevel_warn"] = (
        warn["free_init_memory"] - warn["start_xen"])
    res["boot_profile_top"] = profile_top(5)
    res["sim_speed"] = sim_speed()
    res["host"] = host_reference()
    res["host_mpu_ns_per_op"] = criterion()
    return res


def table(res):
    rows = []
    for group, vals in res.items():
        if group == "host_mpu_ns_per_op":
            for op, per_n in vals.items():
                rows.append((f"{group}.{op}", "  ".join(f"{n}: {v} ns" for n, v in per_n.items())))
        else:
            for k, v in vals.items():
                rows.append((f"{group}.{k}", str(v)))
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def flatten(res):
    flat = {}
    for g, vals in res.items():
        for k, v in vals.items():
            if isinstance(v, dict):
                for n, x in v.items():
                    flat[f"{g}.{k}.{n}"] = x
            else:
                flat[f"{g}.{k}"] = v
    return flat


def compare(a_path, b_path):
    with open(a_path) as f:
        a = flatten(json.load(f))
    with open(b_path) as f:
        b = flatten(json.load(f))
    w = max(len(k) for k in a.keys() | b.keys())
    for k in sorted(a.keys() | b.keys()):
        x, y = a.get(k), b.get(k)
        delta = ""
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and x:
            delta = f"{(y - x) / x * 100:+.1f}%"
        print(f"{k:<{w}}  {x!s:>12}  {y!s:>12}  {delta}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
        return
    res = measure()
    os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    print(table(res))
    print("\nwritten to bench/results.json")


if __name__ == "__main__":
    main()
