# cellftpd. `make` builds ./cellftpd; `make check` runs every test;
# `make check SANITIZE=1` runs them against an ASan+UBSan build.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=
CC         ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS     ?= -O2 -g
WERROR     ?= -Werror
PKGS        = inih libxcrypt libsystemd libcrypto

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wpointer-arith -Wvla -Wwrite-strings $(WERROR)
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE

ifneq ($(SANITIZE),)
BUILD    = build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer
BIN      = $(BUILD)/cellftpd
else
BUILD    = build
BIN      = cellftpd
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(SANFLAGS) $(CFLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

SRCS = $(wildcard src/*.c)
OBJS = $(SRCS:src/%.c=$(BUILD)/%.o)
LIBOBJS = $(filter-out $(BUILD)/main.o,$(OBJS))
UNIT = $(BUILD)/unit-tests

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

$(BUILD)/%.o: src/%.c src/cellftpd.h src/limits.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $@

$(UNIT): tests/unit/unit.c $(LIBOBJS)
	$(CC) $(ALL_CFLAGS) -Isrc $(ALL_LDFLAGS) -o $@ tests/unit/unit.c $(LIBOBJS) $(PKG_LIBS)

# Installs what is missing (as root), builds, runs unit and bats tests.
check:
	@sh tests/deps.sh test
	@$(MAKE) --no-print-directory $(BIN) $(UNIT)
	@CELLFTPD="$(abspath $(BIN))" UNIT="$(abspath $(UNIT))" sh tests/run.sh

# Serves FTP on 127.0.0.1:2121 with conf/demo.conf (anonymous, read-only).
demo:
	@sh tests/deps.sh demo
	@$(MAKE) --no-print-directory $(BIN)
	@echo "cellftpd: serving ftp://127.0.0.1:2121/ from conf/demo (anonymous, read-only); Ctrl-C stops"
	systemd-socket-activate --accept --inetd -l 127.0.0.1:2121 \
		"$(abspath $(BIN))" -c "$(abspath conf/demo.conf)"

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xinetd.d
	install -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/cellftpd
	install -m 644 man/cellftpd.8 $(DESTDIR)$(MANDIR)/man8/cellftpd.8
	install -m 644 man/cellftpd.conf.5 $(DESTDIR)$(MANDIR)/man5/cellftpd.conf.5
	sed 's|/usr/local/sbin|$(SBINDIR)|g' units/cellftpd@.service \
		> $(DESTDIR)$(UNITDIR)/cellftpd@.service
	install -m 644 units/cellftpd.socket $(DESTDIR)$(UNITDIR)/cellftpd.socket
	sed 's|/usr/local/sbin|$(SBINDIR)|g' xinetd/cellftpd \
		> $(DESTDIR)$(SYSCONFDIR)/xinetd.d/cellftpd
	test -e $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf || \
		install -m 600 conf/cellftpd.conf $(DESTDIR)$(SYSCONFDIR)/cellftpd.conf

clean:
	rm -rf build build-san cellftpd

.PHONY: all check demo install clean
