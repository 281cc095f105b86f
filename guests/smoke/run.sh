#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Smoke-test one guest in r82sim under stub.S, a stand-in for the hypervisor (NOT rxen:
# no stage 2, so nothing is isolated) until rxen runs guests:
#   guests/smoke/run.sh GUEST [BASE] [BOOTARGS]      e.g. run.sh hello 0x30000000
# Loads guests/build/GUEST.bin at BASE (default 0x20000000) and a 16 MiB domU device
# tree at BASE + 0xf00000; exits with the simulator's status (the guest's shutdown
# reason: 0 poweroff, 3 crash). R82SIM names the simulator (default target/release/r82sim).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
guest=$1
base=${2:-0x20000000}
args=${3:-}
sim=${R82SIM:-$root/target/release/r82sim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dtb=$(printf '0x%x' $((base + 0xf00000)))
rustc --edition 2021 --target aarch64-unknown-none-softfloat -C panic=abort -C opt-level=s \
  -C relocation-model=static -C "link-arg=-T$here/stub.ld" \
  -C "link-arg=--defsym=GUEST_BASE=$base" -C "link-arg=--defsym=GUEST_DTB=$dtb" \
  -o "$tmp/stub" "$here/stub.rs"
sed -e "s|BOOTARGS|$args|" -e "s|0x20000000|$base|" -e "s|memory@20000000|memory@${base#0x}|" \
  "$here/guest.dts" | dtc -q -I dts -O dtb -o "$tmp/guest.dtb" -
exec "$sim" --max-insns "${MAX_INSNS:-200000000}" --data "$root/guests/build/$guest.bin@$base" \
  --data "$tmp/guest.dtb@$dtb" "$tmp/stub"
