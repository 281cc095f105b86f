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
    res["boot_instructions"]["rust_entry_to_free_init_memory_loglevel_warn"] = (
        warn["free_init_memory"] - warn["start_xen"])
    res["boot_profile_top"] = profile_top(5)
    res["sim_speed"] = sim_speed()
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
