#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot an rxen image: on Arm's FVP_BaseR_AEMv8R when it is installed (on PATH, or
# named by $FVP), otherwise in r82sim. Says which it used; exits with the image's
# status.
#   scripts/run-fvp.sh [IMAGE] [--data FILE@ADDR ...] [-- extra arguments for the FVP or r82sim]
# --data loads FILE at ADDR (a guest image, a device tree): passed to the FVP as
# --data cluster0.cpu0=FILE@ADDR and to r82sim as --data FILE@ADDR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
image="$root/build/rxen"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  image=$1
  shift
fi
fvp_data=()
sim_data=()
while [ "${1:-}" = "--data" ]; do
  [ $# -ge 2 ] || { echo "run-fvp: --data needs FILE@ADDR" >&2; exit 2; }
  fvp_data+=(--data "cluster0.cpu0=$2")
  sim_data+=(--data "$2")
  shift 2
done
[ "${1:-}" = "--" ] && shift
if [ ! -f "$image" ]; then
  echo "run-fvp: no image at $image (build it with make)" >&2
  exit 2
fi

fvp=${FVP:-}
if [ -z "$fvp" ] && command -v FVP_BaseR_AEMv8R >/dev/null 2>&1; then
  fvp=FVP_BaseR_AEMv8R
fi

if [ -n "$fvp" ]; then
  echo "run-fvp: booting $image on $fvp" >&2
  # x0 is 0 on the FVP: rxen uses its built-in device tree. Semihosting ends the run
  # with the image's exit status.
  exec "$fvp" \
    -C cluster0.has_aarch64=1 -C cluster0.VMSA_supported=0 -C cluster0.NUM_CORES=1 \
    -C cluster0.gicv3.cpuintf-mmap-access-level=2 -C cluster0.gicv3.SRE-enable-action-on-mmap=2 \
    -C cluster0.gicv3.SRE-EL2-enable-RAO=1 -C cluster0.gicv3.extended-interrupt-range-support=1 \
    -C gic_distributor.has-two-security-states=0 -C gic_distributor.GICD_CTLR-DS-1-means-secure-only=1 \
    -C bp.refcounter.non_arch_start_at_default=1 \
    -C bp.pl011_uart0.out_file=- -C bp.pl011_uart0.unbuffered_output=1 \
    -C bp.terminal_0.start_telnet=0 -C bp.vis.disable_visualisation=1 \
    -C cache_state_modelled=0 -C cluster0.cpu0.semihosting-enable=1 \
    -a "cluster0.cpu0=$image" ${fvp_data[@]+"${fvp_data[@]}"} "$@"
fi

sim=${R82SIM:-$root/target/release/r82sim}
if [ ! -x "$sim" ]; then
  echo "run-fvp: building r82sim" >&2
  (cd "$root" && cargo build --release -p r82sim)
fi
echo "run-fvp: FVP_BaseR_AEMv8R not found; booting $image in r82sim" >&2
exec "$sim" ${sim_data[@]+"${sim_data[@]}"} "$image" "$@"
