#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what building and testing rxen and r82sim needs on a fresh Debian machine.
#
# System packages are decided by Debian package state (dpkg-query), never by looking
# for files or commands: another package can ship a file that matches a glob (the
# machine image ships libclang-cpp14, whose .so matched the old libclang check) or a
# command of the same name.
#
#   cmake, libclang-dev   the unicorn-engine crate builds its C sources and bindgen
#                         its bindings (bindgen needs libclang.so, from libclang-dev)
#   gcc, g++, make        the C/C++ compilers and make for the above and the Makefile
#   device-tree-compiler  dtc: the built-in device tree and the test trees
#   python3               scripts/bench.py and scripts/imagebuilder.py
#   gdb-multiarch         AArch64 GDB: `make debug`, and the GDB tests drive it
#                         against `r82sim --gdb` (sim/tests/gdb.rs)
#
# The Rust toolchain, target and components come from rust-toolchain.toml through
# rustup. Quiet and fast when everything is there.
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --versions print what the build stands on
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake libclang-dev gcc g++ make device-tree-compiler python3 gdb-multiarch)

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)

if [ "${1:-}" = "--versions" ]; then
  echo "rust toolchain: $(rustc --version) / $(cargo --version)"
  for p in "${packages[@]}"; do
    printf '%-22s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo 'not installed')"
  done
  exit 0
fi

# The Rust side: rust-toolchain.toml names the toolchain, target and components.
# rustup installs them on first use unless RUSTUP_AUTO_INSTALL=0 (set on these
# machines), so ask for them explicitly; each call is a no-op once installed.
if command -v rustup >/dev/null 2>&1; then
  rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
  rustup component add --toolchain "$toolchain" rust-src llvm-tools clippy rustfmt >/dev/null 2>&1
  rustup target add --toolchain "$toolchain" aarch64-unknown-none-softfloat >/dev/null 2>&1
else
  echo "install-deps: rustup not found: install it (https://rustup.rs) and run again" >&2
  exit 1
fi

need=()
for p in "${packages[@]}"; do
  pkg_installed "$p" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${need[*]} (Debian packages; about a minute)" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: need root to install ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for p in "${need[@]}"; do
  if ! pkg_installed "$p"; then
    echo "install-deps: $p is still not installed after apt-get install" >&2
    exit 1
  fi
done
