# SPDX-License-Identifier: GPL-2.0-only
# rxen: `make` builds the image, `make run` boots it (FVP if installed, else r82sim),
# `make test` runs every test. Each installs what it needs on first use.

TARGET  := aarch64-unknown-none-softfloat
PROFILE := firmware
ELF     := target/$(TARGET)/$(PROFILE)/rxen
BUILD   := build
HOST    := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
LLVM    := $(shell rustc --print sysroot 2>/dev/null)/lib/rustlib/$(HOST)/bin
SIM     := target/release/r82sim

.PHONY: all image deps sim run debug test lint bench profile guests demo demo-attack demo-spinner clean FORCE

all: image

deps:
	@scripts/install-deps.sh

image: $(BUILD)/rxen $(BUILD)/rxen.bin

$(BUILD)/rxen: deps FORCE
	cargo build -p rxen --target $(TARGET) --profile $(PROFILE)
	@mkdir -p $(BUILD)
	cp $(ELF) $@

$(BUILD)/rxen.bin: $(BUILD)/rxen
	$(LLVM)/llvm-objcopy -O binary $< $@
	@$(LLVM)/llvm-size -A $< | grep -E '^\.(text|rodata|data|init|bss)' || true

sim: deps
	cargo build --release -p r82sim

# Boot the image: on the FVP when FVP_BaseR_AEMv8R is installed, else in r82sim.
run: image sim
	scripts/run-fvp.sh $(BUILD)/rxen

# The test guests (guests/, their own workspace): build/NAME and build/NAME.bin.
guests: deps
	$(MAKE) -C guests

# Two `hello` domains (d1, d2) to status 0; `hello` beside `attacker` to status 5
# (attacker crashed, hello powered off). On the FVP when installed, else r82sim. The
# configurations are demo/*.cfg (ImageBuilder style, see scripts/imagebuilder.py).
demo: image sim guests
	scripts/demo.sh demo/hello-hello.cfg

demo-attack: image sim guests
	scripts/demo.sh demo/hello-attacker.cfg

# `spinner` (interrupts masked, never yields) beside `hello`: the EL2 timer preempts
# it and hello powers off; the run then goes on until stopped (Ctrl-C).
demo-spinner: image sim guests
	scripts/demo.sh demo/hello-spinner.cfg

# Boot the image in r82sim stopped before its first instruction, waiting for GDB on
# 127.0.0.1:$(GDB_PORT); attach from another terminal with the command it prints.
GDB_PORT ?= 1234
debug: image sim
	@echo "attach with: gdb-multiarch $(BUILD)/rxen -ex 'target remote :$(GDB_PORT)'"
	$(SIM) --gdb $(GDB_PORT) $(BUILD)/rxen

# Everything CI checks: formatting, lints for host and target, host unit and
# property tests, the simulator's architecture tests and the rxen boot tests.
test: image sim guests lint
	RXEN_IMAGE=$(CURDIR)/$(BUILD)/rxen cargo test --workspace --release
	python3 -m unittest discover -s scripts -p 'test_*.py'
	$(MAKE) -C guests lint

lint: deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --release -- -D warnings
	cargo clippy -p rxen --target $(TARGET) --profile $(PROFILE) -- -D warnings

# Sizes, MPU regions, deterministic instruction counts (r82sim) and host timings of
# the MPU core: one table, and bench/results.json. A benchmark, never a test.
bench: image sim
	scripts/bench.py

# Where the boot's instructions go: build/profile.txt (per function: self, inclusive,
# calls), build/boot.folded (collapsed stacks) and, when inferno-flamegraph is
# installed (cargo install inferno), build/boot.svg.
profile: image sim
	$(SIM) --profile-report $(BUILD)/profile.txt --folded $(BUILD)/boot.folded $(BUILD)/rxen >/dev/null
	@head -15 $(BUILD)/profile.txt
	@if command -v inferno-flamegraph >/dev/null 2>&1; then \
	  inferno-flamegraph < $(BUILD)/boot.folded > $(BUILD)/boot.svg && echo "flame graph: $(BUILD)/boot.svg"; \
	else echo "(install inferno-flamegraph for $(BUILD)/boot.svg: cargo install inferno)"; fi

clean:
	cargo clean
	rm -rf $(BUILD)

FORCE:
