#!/usr/bin/env bats
# What a newcomer meets first: a plain make on a machine without a
# development package, and make demo on a port of their choice.

load helper

REPO="$BATS_TEST_DIRNAME/.."
# make as a newcomer types it, not as a sub-make of make check
unset MAKEFLAGS MAKELEVEL MFLAGS

# pkg_config_without PC...: a PKG_CONFIG_LIBDIR holding every .pc file
# this machine has but the ones named
pkg_config_without() {
	local dir="$BATS_TEST_TMPDIR/pc" d f
	mkdir -p "$dir"
	for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
		for f in "$d"/*.pc; do
			[ -e "$f" ] && ln -sf "$f" "$dir/"
		done
	done
	for f in "$@"; do
		rm -f "$dir/$f.pc"
	done
	echo "$dir"
}

@test "make without a development package stops at once with one line naming it" {
	# the Makefile alone, in a directory of its own: nothing is built
	mkdir "$BATS_TEST_TMPDIR/tree"
	cp "$REPO/Makefile" "$BATS_TEST_TMPDIR/tree/"
	cd "$BATS_TEST_TMPDIR/tree"
	run env PKG_CONFIG_LIBDIR="$(pkg_config_without libmd)" make
	assert_failure 2
	assert_output --regexp '^Makefile:[0-9]+: \*\*\* to build cellftpd, install the Debian packages libmd-dev \(as root: apt-get install libmd-dev\)\.  Stop\.$'
	run env PKG_CONFIG_LIBDIR="$(pkg_config_without inih libseccomp)" make install
	assert_failure 2
	assert_output --partial "install the Debian packages libinih-dev libseccomp-dev (as root: apt-get install libinih-dev libseccomp-dev)"
	assert_equal "${#lines[@]}" 1
	run env PKG_CONFIG=/nonexistent/pkg-config make
	assert_failure 2
	assert_output --partial "install the Debian packages pkg-config libinih-dev libcrypt-dev libmd-dev"
	assert_equal "${#lines[@]}" 1
	run ls
	assert_output "Makefile"
	# with everything there, the same Makefile goes on to build
	run make -n "$BATS_TEST_TMPDIR/none.o"
	refute_output --partial "install the Debian packages"
}

@test "make demo PORT=N serves the demo tree on 127.0.0.1:N" {
	local port san=()
	port=$(free_port)
	[[ $CELLFTPD == */build-san/cellftpd ]] && san=(SANITIZE=1)
	setsid make -s -C "$REPO" demo PORT="$port" "${san[@]}" \
		>"$BATS_TEST_TMPDIR/demo.out" 2>&1 &
	DEMO=$!
	for _ in $(seq 200); do
		ss -Hltn "sport = :$port" | grep -q LISTEN && break
		sleep 0.05
	done
	run curl -sS --max-time 20 "ftp://127.0.0.1:$port/README"
	assert_success
	assert_equal "$output" "$(cat "$REPO/conf/demo/README")"
	run cat "$BATS_TEST_TMPDIR/demo.out"
	assert_line "cellftpd: serving ftp://127.0.0.1:$port/ from conf/demo (anonymous, read-only); Ctrl-C stops"
}

cleanup() {
	if [ -n "${DEMO:-}" ]; then
		kill -- "-$DEMO" 2>/dev/null || true
		wait "$DEMO" 2>/dev/null || true
	fi
}
