# Set-up, build and test on a fresh Debian machine. `make test` installs what is missing, builds and runs the suite.

SWIFT ?= swift
APT_PACKAGES := libyaml-dev libopenblas-dev libsndfile1-dev pkg-config graphviz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build debug test bench clean

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

bench: build
	.build/release/gmptl bench kernels

clean:
	rm -rf .build
