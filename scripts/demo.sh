#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot rxen with the domains of an ImageBuilder-style config (demo/*.cfg): build the
# device tree with scripts/imagebuilder.py, then run on the FVP when installed (the
# tree is loaded at 0x7f000000, where rxen looks when x0 is 0) or in r82sim.
# Exits with rxen's status: 0 all domains powered off, 5 one crashed.
#   scripts/demo.sh CONFIG
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cfg=${1:?usage: scripts/demo.sh CONFIG}
out="$root/build/$(basename "$cfg" .cfg)"
json=$("$root/scripts/imagebuilder.py" -c "$cfg" -o "$out" --json)
mapfile -t fvp < <(python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["fvp_args"]))' <<<"$json")
mapfile -t sim < <(python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["r82sim_args"]))' <<<"$json")
fvp_bin=${FVP:-}
if [ -z "$fvp_bin" ] && command -v FVP_BaseR_AEMv8R >/dev/null 2>&1; then
  fvp_bin=FVP_BaseR_AEMv8R
fi
if [ -n "$fvp_bin" ]; then
  # The data arguments: every --data after -a IMAGE.
  data=()
  for ((i = 0; i < ${#fvp[@]}; i++)); do
    if [ "${fvp[$i]}" = "--data" ]; then data+=(--data "${fvp[$((i + 1))]#cluster0.cpu0=}"); fi
  done
  exec "$root/scripts/run-fvp.sh" "$root/build/rxen" "${data[@]}"
fi
exec "$root/target/release/r82sim" "${sim[@]}"
