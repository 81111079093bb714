# pullmail: build, test, install, package, demo.  See README.md.
#
#   make                 build everything (release); make servers: only those
#   make test            every test: lint, unit and end-to-end (root: packaging too)
#   make demo            serve a demo mailbox on loopback ports
#   make install         PREFIX=/usr DESTDIR= sbindir= mandir= sysconfdir= ...
#   make uninstall       remove what install put there (changed config stays)
#   make deb / make rpm  packages in $(DISTDIR)
#   make bench           the benchmark: BENCHMARKS.md
#   make clean

CARGO ?= cargo
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

# Installation directories (GNU names).  The servers go to $(PREFIX)/sbin.
PREFIX ?= /usr
prefix = $(PREFIX)
exec_prefix ?= $(prefix)
sbindir ?= $(exec_prefix)/sbin
datarootdir ?= $(prefix)/share
mandir ?= $(datarootdir)/man
docdir ?= $(datarootdir)/doc/pullmail
# The servers read /etc/pullmail.conf and PAM reads /etc/pam.d, whatever PREFIX.
sysconfdir ?= /etc
systemdunitdir ?= $(prefix)/lib/systemd/system
# /etc/pam.d/imap and pop: `debian` (@include common-*) or `redhat` (system-auth).
PAM_VARIANT ?= $(shell [ -e /etc/pam.d/common-auth ] && echo debian || echo redhat)
DESTDIR ?=
INSTALL ?= install

# Cargo's output; CARGO_TARGET_DIR is honoured (the packages build with it).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
export CARGO_TARGET_DIR := $(abspath $(TARGET_DIR))
RELEASE_DIR := $(CARGO_TARGET_DIR)/release
DISTDIR ?= $(CARGO_TARGET_DIR)/dist

# The servers: whichever of these have a crate under bin/.
SERVERS := $(foreach s,imapd ipop3d ipop2d,$(if $(wildcard bin/$(s)/Cargo.toml),$(s)))
MAN5 := pullmail.conf.5 pullmail-mailbox.5
MAN8 := imapd.8 ipopd.8
# ipop3d(8) and ipop2d(8) are ipopd(8).
MAN8_LINKS := ipop3d.8 ipop2d.8
XINETD := imap imaps pop3 pop3s pop2
UNITS := $(notdir $(wildcard etc/systemd/*.socket etc/systemd/*.service))

.PHONY: all build servers test deps lint unit e2e package-test demo install uninstall skip-log-reset fuzz \
	deb rpm bench bench-smoke clean check-conf

all: build

build:
	$(CARGO) build --release --workspace

# Only the servers (what the packages build).
servers:
	$(CARGO) build --release $(addprefix -p ,$(SERVERS))

# Installs the Debian packages the tests use (only when root and missing).
deps:
	@sh tests/install-deps.sh

# Warning-free: clippy with -D warnings denies rustc's own warnings too, for every
# target, so a separate `RUSTFLAGS=-D warnings` build (a whole second compile of the
# workspace) adds nothing.
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace --release

# The demo, install/uninstall into a scratch DESTDIR, and as root the
# packages: .deb built, installed, used through inetd and xinetd with real
# clients and PAM, purged; .rpm built and listed; two back ends behind
# nginx's mail proxy (tests/e2e/cluster-test.sh).  See tests/e2e/README.md.
e2e: servers
	sh tests/e2e/run.sh

# Only the packaging part of e2e (root).
package-test: servers
	sh tests/e2e/package.sh

# Skipped tests.  Every test that cannot run here (a package, root, a kernel
# feature missing) says so on one line and adds it to $(SKIP_LOG); `make test`
# prints how many there were at its end.  As root, after `make deps` installed
# what the tests need, and under CI (CI=true), a skip is a failure instead
# (crates/testkit, tests/e2e/lib.sh).
SKIP_LOG := $(CARGO_TARGET_DIR)/skipped-tests.log
export PULLMAIL_SKIP_LOG := $(SKIP_LOG)
ifeq ($(shell id -u),0)
export PULLMAIL_NO_SKIP := 1
endif

skip-log-reset:
	@mkdir -p $(dir $(SKIP_LOG)) && : >$(SKIP_LOG)

# The one command that passes every test.
test: skip-log-reset deps lint unit bench-smoke e2e
	@n=$$(grep -c . $(SKIP_LOG) 2>/dev/null || true); \
	sed 's/^/  /' $(SKIP_LOG) 2>/dev/null; \
	echo "make test: every test passed; $${n:-0} skipped"

# Serves a generated demo mailbox with imapd, ipop3d and ipop2d on loopback
# ports and prints a client command for each; Ctrl-C stops it.
demo: servers
	@sh tests/e2e/demo.sh $(RELEASE_DIR)

# Fuzzing (cargo-fuzz, nightly; `cargo install cargo-fuzz`): every target of
# fuzz/Cargo.toml for FUZZ_SECONDS each, from seeds fuzz/seeds.sh builds. A crash
# stops the run; its input is in fuzz/artifacts/TARGET/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := imap_command imap_receiver message address date encoded_words \
	mailbox_file state_journal pop_commands sasl
fuzz:
	sh fuzz/seeds.sh
	for t in $(FUZZ_TARGETS); do \
		cargo +nightly fuzz run --fuzz-dir fuzz $$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
			|| exit 1; \
	done

# etc/pullmail.conf is generated from the daemon's table of keys; a test
# (bin/pullmail-dist/tests) fails when they differ.
etc/pullmail.conf: crates/daemon/src/config.rs bin/pullmail-dist/src/lib.rs
	$(CARGO) run -q -p pullmail-dist -- example-config > $@.tmp && mv $@.tmp $@

check-conf:
	$(CARGO) run -q -p pullmail-dist -- example-config | diff -u etc/pullmail.conf -

# Substitutes the installation paths into a file of etc/.
SUBST = sed -e 's|/usr/sbin/|$(sbindir)/|g' -e 's|/etc/pullmail.conf|$(sysconfdir)/pullmail.conf|g'

# A configuration file is installed only where there is none yet (DESTDIR
# builds for packages always start empty); the package managers keep
# changed ones on upgrades themselves.
define install_config
	@if [ -e "$(2)" ]; then echo "keeping $(2)"; \
	else $(INSTALL) -m 644 "$(1)" "$(2)" && echo "installed $(2)"; fi
endef

# Installs what `make` built (it does not build: `sudo make install` would
# run cargo as root).
install:
	@[ -n "$(SERVERS)" ] || { echo "no server crates under bin/"; exit 1; }
	@for s in $(SERVERS); do [ -x $(RELEASE_DIR)/$$s ] || \
		{ echo "$(RELEASE_DIR)/$$s is missing: run make first"; exit 1; }; done
	$(INSTALL) -d -m 755 $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man5 \
		$(DESTDIR)$(mandir)/man8 $(DESTDIR)$(docdir)/examples \
		$(DESTDIR)$(sysconfdir)/pam.d $(DESTDIR)$(sysconfdir)/xinetd.d \
		$(DESTDIR)$(systemdunitdir)
	for s in $(SERVERS); do \
		$(INSTALL) -m 755 $(RELEASE_DIR)/$$s $(DESTDIR)$(sbindir)/$$s || exit 1; done
	for m in $(MAN5); do $(INSTALL) -m 644 man/$$m $(DESTDIR)$(mandir)/man5/$$m || exit 1; done
	for m in $(MAN8); do $(INSTALL) -m 644 man/$$m $(DESTDIR)$(mandir)/man8/$$m || exit 1; done
	for m in $(MAN8_LINKS); do ln -sf ipopd.8 $(DESTDIR)$(mandir)/man8/$$m || exit 1; done
	$(call install_config,etc/pullmail.conf,$(DESTDIR)$(sysconfdir)/pullmail.conf)
	$(call install_config,etc/pam.d/$(PAM_VARIANT)/imap,$(DESTDIR)$(sysconfdir)/pam.d/imap)
	$(call install_config,etc/pam.d/$(PAM_VARIANT)/pop,$(DESTDIR)$(sysconfdir)/pam.d/pop)
	@for x in $(XINETD); do \
		f=$(DESTDIR)$(sysconfdir)/xinetd.d/$$x; \
		if [ -e $$f ]; then echo "keeping $$f"; \
		else $(SUBST) etc/xinetd.d/$$x > $$f && chmod 644 $$f || exit 1; fi; done
	for u in $(UNITS); do $(SUBST) etc/systemd/$$u > $(DESTDIR)$(systemdunitdir)/$$u \
		&& chmod 644 $(DESTDIR)$(systemdunitdir)/$$u || exit 1; done
	$(SUBST) etc/inetd.conf > $(DESTDIR)$(docdir)/examples/inetd.conf
	$(INSTALL) -m 644 README.md $(DESTDIR)$(docdir)/README.md
	chmod 644 $(DESTDIR)$(docdir)/examples/inetd.conf
	$(INSTALL) -m 644 etc/fail2ban-pullmail.conf $(DESTDIR)$(docdir)/examples/fail2ban-pullmail.conf

# Configuration files go only if they are still as installed.
define uninstall_config
	@if [ -e "$(2)" ] && ! cmp -s "$(1)" "$(2)"; then echo "keeping changed $(2)"; \
	else rm -f "$(2)"; fi
endef

uninstall:
	for s in imapd ipop3d ipop2d; do rm -f $(DESTDIR)$(sbindir)/$$s; done
	for m in $(MAN5); do rm -f $(DESTDIR)$(mandir)/man5/$$m; done
	for m in $(MAN8) $(MAN8_LINKS); do rm -f $(DESTDIR)$(mandir)/man8/$$m; done
	$(call uninstall_config,etc/pullmail.conf,$(DESTDIR)$(sysconfdir)/pullmail.conf)
	$(call uninstall_config,etc/pam.d/$(PAM_VARIANT)/imap,$(DESTDIR)$(sysconfdir)/pam.d/imap)
	$(call uninstall_config,etc/pam.d/$(PAM_VARIANT)/pop,$(DESTDIR)$(sysconfdir)/pam.d/pop)
	@for x in $(XINETD); do \
		f=$(DESTDIR)$(sysconfdir)/xinetd.d/$$x; \
		if [ -e $$f ] && ! $(SUBST) etc/xinetd.d/$$x | cmp -s - $$f; then \
			echo "keeping changed $$f"; else rm -f $$f; fi; done
	for u in $(UNITS); do rm -f $(DESTDIR)$(systemdunitdir)/$$u; done
	rm -f $(DESTDIR)$(docdir)/examples/inetd.conf $(DESTDIR)$(docdir)/README.md \
		$(DESTDIR)$(docdir)/examples/fail2ban-pullmail.conf
	-rmdir $(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir) 2>/dev/null

# pullmail_$(VERSION)_amd64.deb: dpkg-buildpackage on a copy of the tree with
# packaging/debian as debian/ (debhelper; see packaging/debian/rules).
deb: servers
	sh packaging/build-deb.sh "$(DISTDIR)"

# pullmail-$(VERSION)-1.x86_64.rpm: rpmbuild with packaging/rpm/pullmail.spec
# (on Debian, the package rpm provides rpmbuild).
rpm: servers
	sh packaging/build-rpm.sh "$(DISTDIR)"

# The benchmark (bench/, issue 9): imapd and ipop3d against the physical floor
# of this machine, at 1,000, 20,000 and 100,000 messages; writes BENCHMARKS.md.
# BENCH_ARGS=... passes other flags (see bench/src/main.rs).
BENCH_ARGS ?= --out BENCHMARKS.md
bench:
	$(CARGO) run --release -q -p bench -- $(BENCH_ARGS)

# Its smoke variant (1,000 messages, one run, every answer checked), in make test.
bench-smoke:
	$(CARGO) run --release -q -p bench -- --quick

clean:
	$(CARGO) clean
