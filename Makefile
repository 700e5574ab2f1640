# cellftpd. `make` builds ./cellftpd; `make check` runs every test;
# `make check SANITIZE=1` runs them against an ASan+UBSan build.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/cellftpd
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
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
# bats tests.
check:
	@sh tests/deps.sh test
	@$(MAKE) --no-print-directory $(BIN) $(UNIT) $(SHIM) $(FUZZERS)
	@CELLFTPD="$(abspath $(BIN))" UNIT="$(abspath $(UNIT))" SHIM="$(abspath $(SHIM))" \
		FUZZERS="$(abspath $(FUZZERS))" sh tests/run.sh

# Serves FTP on 127.0.0.1:2121 with conf/demo.conf (anonymous, read-only).
demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory $(BIN)
	@echo "cellftpd: serving ftp://127.0.0.1:2121/ from conf/demo (anonymous, read-only); Ctrl-C stops"
	systemd-socket-activate --accept --inetd -l 127.0.0.1:2121 \
		"$(abspath $(BIN))" -c "$(abspath conf/demo.conf)"

# cellftpd against vsftpd, side by side (as root; installs vsftpd and
# iperf3 when missing). bench-quick: small sizes, two rounds.
bench: $(BIN)
	@bash tests/bench/run.sh

bench-quick: $(BIN)
	@bash tests/bench/run.sh quick

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSCONFDIR)/pam.d
	install -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/cellftpd
	install -m 644 man/cellftpd.8 $(DESTDIR)$(MANDIR)/man8/cellftpd.8
	install -m 644 man/cellftpd.conf.5 $(DESTDIR)$(MANDIR)/man5/cellftpd.conf.5
	sed 's|/usr/local/sbin|$(SBINDIR)|g' units/cellftpd@.service \
		> $(DESTDIR)$(UNITDIR)/cellftpd@.service
	install -m 644 units/cellftpd.socket $(DESTDIR)$(UNITDIR)/cellftpd.socket
	sed 's|/usr/local/sbin|$(SBINDIR)|g' units/cellftps@.service \
		> $(DESTDIR)$(UNITDIR)/cellftps@.service
	install -m 644 units/cellftps.socket $(DESTDIR)$(UNITDIR)/cellftps.socket
	sed 's|/usr/local/sbin|$(SBINDIR)|g' xinetd/cellftpd \
		> $(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftpd
	sed 's|/usr/local/sbin|$(SBINDIR)|g' xinetd/cellftps \
		> $(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftps
	install -m 644 conf/haproxy.cfg $(DESTDIR)$(DOCDIR)/examples/haproxy.cfg
	install -m 644 pam/cellftpd $(DESTDIR)$(SYSCONFDIR)/pam.d/cellftpd
	install -d -m 755 $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf.d
	test -e $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf || \
		install -m 600 conf/cellftpd.conf $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf

# Everything install put there but the configuration, which is yours.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/cellftpd \
		$(DESTDIR)$(MANDIR)/man8/cellftpd.8 \
		$(DESTDIR)$(MANDIR)/man5/cellftpd.conf.5 \
		$(DESTDIR)$(UNITDIR)/cellftpd.socket \
		$(DESTDIR)$(UNITDIR)/cellftpd@.service \
		$(DESTDIR)$(UNITDIR)/cellftps.socket \
		$(DESTDIR)$(UNITDIR)/cellftps@.service \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftpd \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftps \
		$(DESTDIR)$(DOCDIR)/examples/haproxy.cfg \
		$(DESTDIR)$(SYSCONFDIR)/pam.d/cellftpd
	rmdir $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf.d 2>/dev/null || true	# if empty

clean:
	rm -rf build build-san build-fuzz cellftpd

.PHONY: all check demo fuzz bench bench-quick install uninstall clean
