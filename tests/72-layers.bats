#!/usr/bin/env bats
# Each layer of the confinement, tested with the others taken away.
# cellftpd(8), section SECURITY, says what each guarantees alone:
#   the lexical rules   no path a client sends names anything above the
#                       root ("/.." is "/"), conversions included
#   openat2             with symlinks = contain, no link leads out either
#   Landlock, seccomp   what is left if the two above failed
# tests/shim/layers.c, preloaded, makes the kernel look as if it lacked
# Landlock or seccomp; symlinks = follow takes openat2 and Landlock's
# file rules away. Every run checks the log for the layers it took away,
# so a shim that stopped working cannot pass for a layer that holds.

load helper

SHIM="${SHIM:-$BATS_TEST_DIRNAME/../build/layers-shim.so}"

setup() {
	make_root
	OUT="$BATS_TEST_TMPDIR/other-user"
	mkdir -p "$ROOT/sub/inner" "$OUT"
	echo public >"$ROOT/sub/inner/pub.txt"
	echo "secret-$RANDOM-$RANDOM-$RANDOM" >"$OUT/secret"
	ln -s "$OUT" "$ROOT/sub/away"		# out, absolute
	ln -s ../other-user "$ROOT/rel"		# out, climbing
	chmod -R a+rX "$BATS_TEST_TMPDIR"
	export SECRET
	SECRET=$(cat "$OUT/secret")
}

# serve_layers SYMLINKS [LAYERS...]: the anonymous server with
# symlinks = SYMLINKS and the named layers (landlock, seccomp) taken away.
serve_layers() {
	local mode=$1
	shift
	write_conf <<-EOF
	[server]
	log = stderr
	conversions = yes
	[user anonymous]
	root = $ROOT
	symlinks = $mode
	EOF
	if [ $# -eq 0 ]; then
		start_server
		return
	fi
	[ -f "$SHIM" ] || { echo "no $SHIM: make $SHIM" >&2; return 1; }
	launch env LD_PRELOAD="$SHIM" CELLFTPD_SHIM_OFF="$*" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$CELLFTPD" -c "$CONF"
}

# attempt PATH...: for each, RETR it as anonymous and print
# "PATH CODE" plus " LEAK" when the secret came back.
attempt() {
	PORT=$PORT PYTHONPATH="$BATS_TEST_DIRNAME" python3 - "$@" <<-'EOF'
	import os, sys
	import ftpclient
	secret = os.environ["SECRET"].encode()
	c = ftpclient.Control(show=False)
	c.login("anonymous", "guest@")
	c.quiet("TYPE I")
	for path in sys.argv[1:]:
	    r, final, data = c.data_command("RETR " + path)
	    code = (final or r)[:3]
	    print(path, code + (" LEAK" if secret in data else ""))
	EOF
}

# Above the root through a conversion's suffix, or lexically.
ABOVE=(...tar ...zip ...tar.gz ...tar.bz2 ..tar ..zip ..tar.gz
	sub/...tar sub/..tar sub/inner/...zip /../...tar ../other-user/secret
	sub/../../other-user/secret)
# Out through a link: refused under symlinks = contain only.
LINKED=(sub/away/secret rel/secret sub/away.tar rel.zip sub/away/secret.gz)

# expect CODE PATH...: the lines attempt prints when each PATH gets CODE
expect() {
	local code=$1 p
	shift
	for p in "$@"; do
		echo "$p $code"
	done
}

layers_off_logged() {
	local layer
	for layer in "$@"; do
		case $layer in
		landlock) wait_log "this kernel has no Landlock" ;;
		seccomp)
			# a sanitizer build has no filter to take away; -t says so
			if sanitizer_build; then
				continue
			fi
			wait_log "sandbox: seccomp not applied" ;;
		esac
	done
}

# The archive of a tree with links out holds the links, not what they
# lead to, whatever the layers.
archive_holds_links() {
	local tar="$BATS_TEST_TMPDIR/sub.tar"
	curl -sS --ignore-content-length --max-time 20 \
		"ftp://127.0.0.1:$PORT/sub.tar" >"$tar"
	run tar -tvf "$tar"
	assert_success
	assert_output --partial "sub/away -> $OUT"
	assert_output --partial "sub/inner/pub.txt"
	run grep -c "$SECRET" "$tar"
	assert_output 0
}

@test "contain, every layer on: nothing above the root, no link out" {
	serve_layers contain
	run attempt "${ABOVE[@]}" "${LINKED[@]}"
	assert_output "$(expect 550 "${ABOVE[@]}" "${LINKED[@]}")"
	archive_holds_links
}

@test "contain without Landlock: the lexical rules and openat2 alone" {
	serve_layers contain landlock
	run attempt "${ABOVE[@]}" "${LINKED[@]}"
	assert_output "$(expect 550 "${ABOVE[@]}" "${LINKED[@]}")"
	archive_holds_links
	layers_off_logged landlock
}

@test "contain without Landlock and seccomp" {
	serve_layers contain landlock seccomp
	run attempt "${ABOVE[@]}" "${LINKED[@]}"
	assert_output "$(expect 550 "${ABOVE[@]}" "${LINKED[@]}")"
	archive_holds_links
	layers_off_logged landlock seccomp
}

@test "follow: the lexical rules alone keep conversions and .. inside" {
	serve_layers follow
	run attempt "${ABOVE[@]}"
	assert_output "$(expect 550 "${ABOVE[@]}")"
	archive_holds_links
	wait_log "symlinks = follow may lead anywhere"
}

@test "follow without Landlock and seccomp: the lexical rules alone" {
	serve_layers follow landlock seccomp
	run attempt "${ABOVE[@]}"
	assert_output "$(expect 550 "${ABOVE[@]}")"
	archive_holds_links
	layers_off_logged seccomp
	# follow follows links, as documented: the test's own check
	run attempt rel/secret
	assert_output "rel/secret 226 LEAK"
}
