# cellftpd. `make` builds ./cellftpd; `make check` runs every test;
# `make check SANITIZE=1` runs them against an ASan+UBSan build.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/cellftpd
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# fail2ban's filter and jails: yes, no, or (empty) when $(SYSCONFDIR)/fail2ban exists
FAIL2BAN   ?=
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
# linked: what every session needs. libsystemd (the journal) and
# libarchive (conversions) are loaded only where they are used;
# libseccomp is used at build time only, to compile the session's filter.
PKGS        = inih libxcrypt libmd

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wpointer-arith -Wvla -Wwrite-strings $(WERROR)
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE

ifneq ($(SANITIZE),)
BUILD    = build-san
# the sanitizers' runtime makes system calls a session never makes
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer -DCELLFTPD_NO_SECCOMP
BIN      = $(BUILD)/cellftpd
else
BUILD    = build
BIN      = cellftpd
endif

# What the build needs, as pkg-config name:Debian package. A build
# without one stops at once with one line naming the packages; the
# targets that install them first (check, demo, ...) are left to do so.
BUILD_DEPS = inih:libinih-dev libxcrypt:libcrypt-dev libmd:libmd-dev \
	libsystemd:libsystemd-dev libarchive:libarchive-dev pam:libpam0g-dev \
	libseccomp:libseccomp-dev openssl:libssl-dev
ifeq ($(filter check demo fuzz bench bench-quick deb deb-check clean uninstall,$(MAKECMDGOALS)),)
dep_pc  = $(word 1,$(subst :, ,$(1)))
dep_deb = $(word 2,$(subst :, ,$(1)))
MISSING := $(if $(shell command -v $(firstword $(CC))),,gcc) \
	$(if $(shell command -v $(PKG_CONFIG)),,pkg-config) \
	$(foreach d,$(BUILD_DEPS),$(if $(shell $(PKG_CONFIG) --exists \
		$(call dep_pc,$(d)) 2>/dev/null && echo y),,$(call dep_deb,$(d))))
MISSING := $(strip $(MISSING))
ifneq ($(MISSING),)
$(error to build cellftpd, install the Debian packages $(MISSING) (as root: apt-get install $(MISSING)))
endif
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) libsystemd libarchive pam)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(SANFLAGS) $(CFLAGS) $(PKG_CFLAGS) \
             -iquote $(BUILD)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now,--as-needed $(SANFLAGS) $(LDFLAGS)

SRCS = $(wildcard src/*.c)
OBJS = $(SRCS:src/%.c=$(BUILD)/%.o)
ifneq ($(SANITIZE),)
OBJS += $(BUILD)/sanitize-options.o
endif
LIBOBJS = $(filter-out $(BUILD)/main.o,$(OBJS))
UNIT = $(BUILD)/unit-tests

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

$(BUILD)/%.o: src/%.c src/cellftpd.h src/limits.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $@

# the session's seccomp filter, compiled by libseccomp on this machine
$(BUILD)/sandbox.o: $(BUILD)/seccomp-filter.h
$(BUILD)/seccomp-filter.h: src/gen/seccomp-filter.c | $(BUILD)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags libseccomp) \
		-o $(BUILD)/seccomp-filter $< $(shell $(PKG_CONFIG) --libs libseccomp)
	$(BUILD)/seccomp-filter >$@.tmp && mv $@.tmp $@

$(BUILD)/sanitize-options.o: tests/sanitize/options.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# preloaded by tests/72-layers.bats: a kernel without Landlock or seccomp
SHIM = $(BUILD)/layers-shim.so
$(SHIM): tests/shim/layers.c | $(BUILD)
	$(CC) -std=c11 -Wall -Wextra -Werror $(CFLAGS) -shared -fPIC -o $@ $< -ldl

$(UNIT): tests/unit/unit.c $(LIBOBJS)
	$(CC) $(ALL_CFLAGS) -iquote src $(ALL_LDFLAGS) -o $@ tests/unit/unit.c $(LIBOBJS) $(PKG_LIBS)

# libFuzzer targets (clang): one per parser, seeds in tests/fuzz/corpus/.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 600
FUZZ_JOBS    ?= 2
FUZZ_TARGETS  = ctrl path config glob addr session proxy
FUZZ_BUILD    = build-fuzz
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -iquote src $(PKG_CFLAGS) \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -DCELLFTPD_NO_SECCOMP
FUZZ_OBJS     = $(LIBOBJS:$(BUILD)/%.o=$(FUZZ_BUILD)/%.o)
FUZZERS       = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/%.o: src/%.c src/cellftpd.h src/limits.h
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS) $(FUZZ_LIBS)

# the whole session: a client thread, libarchive to decode what
# conversions send, and the session's exit() ending one input only
$(FUZZ_BUILD)/fuzz_session: FUZZ_LIBS = -Wl,--wrap=exit -lpthread \
	$(shell $(PKG_CONFIG) --libs libarchive)

# Each target for FUZZ_TIME seconds, FUZZ_JOBS at a time; what it finds
# new lands in build-fuzz/corpus-NAME, crashes in build-fuzz/. One line
# per target with its executions (also in build-fuzz/fuzz-summary.txt);
# fails when any target does.
fuzz:
	@sh tests/deps.sh test
	@$(MAKE) --no-print-directory $(FUZZERS)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_JOBS) $(FUZZ_TARGETS)

# kept between builds: make check and make fuzz link them each time
.SECONDARY: $(FUZZ_OBJS)

# Installs what is missing (as root), builds, runs unit, fuzz corpus and
# bats tests. What a run takes of the host can be chosen, so that two
# runs share one: the servers' control ports, the passive ports (at
# least 8400) and the prefix of the accounts and groups it creates, e.g.
#   make check CHECK_PORTS=30000-30999 CHECK_PASSIVE_PORTS=40000-49999 CHECK_ACCOUNT_PREFIX=cg
CHECK_PORTS          ?= 20000-29999
CHECK_PASSIVE_PORTS  ?= 50000-59999
CHECK_ACCOUNT_PREFIX ?= cf
check:
	@sh tests/deps.sh test
	@$(MAKE) --no-print-directory $(BIN) $(UNIT) $(SHIM) $(FUZZERS)
	@CELLFTPD="$(abspath $(BIN))" UNIT="$(abspath $(UNIT))" SHIM="$(abspath $(SHIM))" \
		FUZZERS="$(abspath $(FUZZERS))" CHECK_PORTS="$(CHECK_PORTS)" \
		CHECK_PASSIVE_PORTS="$(CHECK_PASSIVE_PORTS)" \
		CHECK_ACCOUNT_PREFIX="$(CHECK_ACCOUNT_PREFIX)" sh tests/run.sh

# Serves FTP on 127.0.0.1:$(PORT) with conf/demo.conf (anonymous,
# read-only): make demo PORT=2222 for another port.
PORT ?= 2121
demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory $(BIN)
	@echo "cellftpd: serving ftp://127.0.0.1:$(PORT)/ from conf/demo (anonymous, read-only); Ctrl-C stops"
	systemd-socket-activate --accept --inetd -l 127.0.0.1:$(PORT) \
		"$(abspath $(BIN))" -c "$(abspath conf/demo.conf)"

# The Debian package (debian/), built with dpkg-buildpackage from a clone
# of HEAD: make deb leaves it in build-deb/; make deb-check (as root) also
# lints it, installs it, logs in through it and purges it.
deb:
	@sh tests/deps.sh package
	@sh tests/deb/run.sh build

deb-check:
	@sh tests/deps.sh package
	@sh tests/deb/run.sh

# cellftpd against vsftpd, side by side (as root; installs vsftpd and
# iperf3 when missing). bench-quick: small sizes, two rounds.
bench: $(BIN)
	@bash tests/bench/run.sh

bench-quick: $(BIN)
	@bash tests/bench/run.sh quick

# The files of the tree name the default paths (PREFIX=/usr/local): the
# installed copies name the paths of this installation.
PATHS = sed -e 's|/usr/local/sbin|$(SBINDIR)|g' \
	-e 's|/usr/local/lib/systemd/system|$(UNITDIR)|g' \
	-e 's|/usr/local/lib/sysusers.d|$(SYSUSERSDIR)|g' \
	-e 's|/usr/local/lib/tmpfiles.d|$(TMPFILESDIR)|g' \
	-e 's|/usr/local/share/doc/cellftpd|$(DOCDIR)|g' \
	-e 's|/usr/local/share/man|$(MANDIR)|g'

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSCONFDIR)/pam.d
	install -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/cellftpd
	$(PATHS) man/cellftpd.8 > $(DESTDIR)$(MANDIR)/man8/cellftpd.8
	$(PATHS) man/cellftpd.conf.5 > $(DESTDIR)$(MANDIR)/man5/cellftpd.conf.5
	$(PATHS) units/cellftpd@.service > $(DESTDIR)$(UNITDIR)/cellftpd@.service
	install -m 644 units/cellftpd.socket $(DESTDIR)$(UNITDIR)/cellftpd.socket
	$(PATHS) units/cellftps@.service > $(DESTDIR)$(UNITDIR)/cellftps@.service
	install -m 644 units/cellftps.socket $(DESTDIR)$(UNITDIR)/cellftps.socket
# kept when there: "disable = no" and the PAM rules are the administrator's
	for f in cellftpd cellftps; do \
		test -e $(DESTDIR)$(SYSCONFDIR)/xinetd.d/$$f || \
		$(PATHS) xinetd/$$f > $(DESTDIR)$(SYSCONFDIR)/xinetd.d/$$f || exit 1; \
	done
	install -m 644 conf/haproxy.cfg $(DESTDIR)$(DOCDIR)/examples/haproxy.cfg
	test -e $(DESTDIR)$(SYSCONFDIR)/pam.d/cellftpd || \
		install -m 644 pam/cellftpd $(DESTDIR)$(SYSCONFDIR)/pam.d/cellftpd
	install -m 755 contrib/cellftpd-migrate $(DESTDIR)$(SBINDIR)/cellftpd-migrate
	install -m 644 man/cellftpd-migrate.8 $(DESTDIR)$(MANDIR)/man8/cellftpd-migrate.8
	install -d -m 755 $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf.d
	test -e $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf || \
		install -m 600 conf/cellftpd.conf $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR)
	install -m 644 conf/logrotate.d/cellftpd $(DESTDIR)$(SYSCONFDIR)/logrotate.d/cellftpd
	install -m 644 conf/sysusers.d/cellftpd.conf $(DESTDIR)$(SYSUSERSDIR)/cellftpd.conf
	install -m 644 conf/tmpfiles.d/cellftpd.conf $(DESTDIR)$(TMPFILESDIR)/cellftpd.conf
	if [ "$(FAIL2BAN)" = yes ] || { [ "$(FAIL2BAN)" != no ] && \
	    [ -d $(DESTDIR)$(SYSCONFDIR)/fail2ban ]; }; then \
		install -d $(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d \
			$(DESTDIR)$(SYSCONFDIR)/fail2ban/jail.d && \
		install -m 644 conf/fail2ban/filter.d/cellftpd.conf \
			$(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d/cellftpd.conf && \
		install -m 644 conf/fail2ban/jail.d/cellftpd.conf \
			$(DESTDIR)$(SYSCONFDIR)/fail2ban/jail.d/cellftpd.conf; \
	fi
# on this machine (no DESTDIR, as root): the accounts and /run/cellftpd now, not at next boot
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/cellftpd.conf; fi
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-tmpfiles >/dev/null; then \
		systemd-tmpfiles --create $(TMPFILESDIR)/cellftpd.conf; fi

# Everything install put there but the configuration, which is yours,
# and the accounts sysusers.d made (system accounts are never removed).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/cellftpd \
		$(DESTDIR)$(SBINDIR)/cellftpd-migrate \
		$(DESTDIR)$(MANDIR)/man8/cellftpd-migrate.8 \
		$(DESTDIR)$(MANDIR)/man8/cellftpd.8 \
		$(DESTDIR)$(MANDIR)/man5/cellftpd.conf.5 \
		$(DESTDIR)$(UNITDIR)/cellftpd.socket \
		$(DESTDIR)$(UNITDIR)/cellftpd@.service \
		$(DESTDIR)$(UNITDIR)/cellftps.socket \
		$(DESTDIR)$(UNITDIR)/cellftps@.service \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftpd \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftps \
		$(DESTDIR)$(DOCDIR)/examples/haproxy.cfg \
		$(DESTDIR)$(SYSCONFDIR)/pam.d/cellftpd \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/cellftpd \
		$(DESTDIR)$(SYSUSERSDIR)/cellftpd.conf \
		$(DESTDIR)$(TMPFILESDIR)/cellftpd.conf \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/filter.d/cellftpd.conf \
		$(DESTDIR)$(SYSCONFDIR)/fail2ban/jail.d/cellftpd.conf
	rmdir $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf.d 2>/dev/null || true	# if empty

clean:
	rm -rf build build-san build-fuzz cellftpd
	rm -rf build-deb

.PHONY: all check demo fuzz bench bench-quick install uninstall clean
.PHONY: deb deb-check
