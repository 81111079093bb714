# pullmail — build, test, demo.  See README.md.
CARGO   ?= cargo
PREFIX  ?= /usr/local

.PHONY: all build test deps lint unit demo clean

all: build

build:
	$(CARGO) build --release --workspace

# Installs the Debian packages the tests use (only when root and missing).
deps:
	@sh tests/install-deps.sh

lint:
	RUSTFLAGS="-D warnings" $(CARGO) build --workspace --all-targets
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace --release

# The one command that passes every test.
test: deps lint unit

# Builds pullmail and runs it on a built-in demo mailbox.
demo:
	$(CARGO) run --release -q -p mailbox --example demo

clean:
	$(CARGO) clean
