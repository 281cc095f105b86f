#!/usr/bin/env bash
# Install what building rxen and r82sim needs on a fresh Debian machine: cmake and
# libclang-dev (the unicorn-engine crate builds its C sources and bindings) and
# device-tree-compiler (dtc: the built-in device tree). Rust targets and components
# come from rust-toolchain.toml through rustup on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Rust side: rust-toolchain.toml names the toolchain, target and components.
# rustup installs them on first use unless RUSTUP_AUTO_INSTALL=0 (set on some
# machines), so ask for them explicitly; each call is a no-op once installed.
if command -v rustup >/dev/null 2>&1; then
  toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
  rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
  rustup component add --toolchain "$toolchain" rust-src llvm-tools clippy rustfmt >/dev/null
  rustup target add --toolchain "$toolchain" aarch64-unknown-none-softfloat >/dev/null
fi

need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v dtc >/dev/null 2>&1 || need+=(device-tree-compiler)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: need root to install ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
