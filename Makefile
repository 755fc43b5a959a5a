# Set-up, build and test on a fresh Debian machine. `make test` installs what is missing, builds and runs the suite.

SWIFT ?= swift
APT_PACKAGES := libyaml-dev libopenblas-dev libsndfile1-dev pkg-config graphviz libopenmpi-dev openmpi-bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build debug test test-cores bench demo fuzz clean

all: build

# Install the system packages that are not there yet (apt-get update only when something is missing).
deps:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

debug: deps
	$(SWIFT) build --build-tests

# Tests run one at a time: some of them change the kernel thread count, which is process-wide.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

# The suites that run OpenBLAS (kernels, interpreter and gradients, training end to end) under each family of
# OpenBLAS's x86-64 kernels, forced through OPENBLAS_CORETYPE: SSE3 (Prescott), AVX2 (Haswell), AVX-512 (SkylakeX),
# AVX-512 with BF16 (Cooperlake). A core whose instructions this CPU lacks is skipped, and the line says so.
# GMPTL_GEMM=openblas routes every product through OpenBLAS there (`make test` covers the packed GEMM).
# About 100 s a core on 2 cores, after the build (docs/performance.md).
CORES ?= Prescott Haswell SkylakeX Cooperlake
CORE_SUITES ?= KernelsTests RuntimeTests CompilerTests SERTests CommandLineTests
test-cores: deps
	$(SWIFT) build --build-tests
	@passed=""; skipped=""; \
	for core in $(CORES); do \
		if ! .build/debug/gmptl info --can-run $$core > /dev/null; then \
			echo "== $$core: skipped ($$(.build/debug/gmptl info --can-run $$core | sed 's/^[^:]*: //'))"; \
			skipped="$$skipped $$core"; continue; \
		fi; \
		echo "== $$core: $$(OPENBLAS_CORETYPE=$$core .build/debug/gmptl info | sed -n 's/^core *//p')"; \
		start=$$(date +%s); \
		GMPTL_GEMM=openblas OPENBLAS_CORETYPE=$$core $(SWIFT) test --skip-build --no-parallel $(foreach suite,$(CORE_SUITES),--filter $(suite)) || exit 1; \
		echo "== $$core: passed in $$(( $$(date +%s) - start )) s"; \
		passed="$$passed $$core"; \
	done; \
	echo "== OpenBLAS cores passed:$${passed:- none}; skipped (not runnable on this CPU):$${skipped:- none}"

# The fuzzing harness (docs/reliability.md): mutants of valid specs, safetensors, config.json files, manifests,
# IEMOCAP label files and WAV files, each read by `gmptl fuzz run` in a child process under 20 s and 2 GiB;
# what traps, hangs or grows is shrunk and saved to fuzz-findings/TARGET/ (add it to Tests/Regressions/TARGET/
# once fixed: `make test` replays that folder). FUZZ_SECONDS per target; FUZZ_TARGETS to choose (default: all).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
FUZZ_SEED ?= 1
fuzz: build
	.build/release/gmptl fuzz campaign $(FUZZ_TARGETS) --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --out fuzz-findings

# The demo: the whole GMP-TL recipe of graphs/gmp_tl.yaml (multi-task stage, k-means pseudo-labels, stage 1, stage 2)
# with a tiny backbone from random initialisation (no pre-trained weights ship with gmptl) on one
# leave-one-session-out fold of the synthetic demo corpus.
DEMO_DATA ?= demo-data
DEMO_RUN ?= runs/demo
DEMO_TINY := --set backbone.features.channels=32 --set backbone.encoder.hidden=64 --set backbone.encoder.heads=4 \
	--set backbone.encoder.intermediate=128 --set backbone.encoder.layers=2 --set backbone.encoder.pos_kernel=16 \
	--set backbone.encoder.pos_groups=4 --set 'gmp_layers=[1, 2]' --set lstm_hidden=32 --set projection=32 \
	--set frame_head_hidden=32 --set 'frozen=[]' --set epochs=12 --set lr_backbone=5e-4 --set lr_heads=5e-4 \
	--set 'k=[8, 16, 32]'

demo: build
	@[ -d $(DEMO_DATA)/Session1 ] || .build/release/gmptl corpus synth --out $(DEMO_DATA)
	@rm -rf $(DEMO_RUN)
	.build/release/gmptl train graphs/gmp_tl.yaml --data $(DEMO_DATA) --folds 1 --out $(DEMO_RUN) $(DEMO_TINY)

bench: build
	.build/release/gmptl bench kernels

clean:
	rm -rf .build
