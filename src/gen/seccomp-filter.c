/* Build-time tool: compiles cellftpd's seccomp allow-lists with
 * libseccomp and prints them as a C header (build/seccomp-filter.h)
 * that sandbox.c loads with one prctl(2) each. A process then neither
 * links libseccomp nor compiles a filter again (about 0.4 ms of CPU
 * and 8 kB of private memory per session, measured). The header also
 * carries the system call names, for the log line of a refused call.
 *
 * Three programs: the logged-in session's, the pre-login process's
 * (which also stays as the TLS relay), and the xferlog writer's. Each
 * allows tgkill(2) to one process alone, its own: the program compares
 * the first argument with PID_MARK, and the header says which
 * instruction holds it, for sandbox.c to put the pid there at load time.
 *
 * The filter is for the architecture this tool runs on, which is the
 * one cellftpd is built for: cross-compiling is not supported. */
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

/* What a logged-in session calls, and nothing else. */
static const char *const session_calls[] = {
	/* files, through the confined vfs */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "close",
	"lseek", "fstat", "newfstatat", "statx", "openat", "openat2", "fcntl",
	"dup", "dup2", "dup3", "getdents64", "mkdirat", "unlinkat", "renameat",
	"renameat2", "linkat", "readlinkat", "utimensat", "fchmodat", "fchmodat2",
	"faccessat", "faccessat2", "ftruncate", "copy_file_range", "sendfile",
	/* sockets: data connections, the log */
	"socket", "connect", "bind", "listen", "accept4", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "shutdown", "sendto",
	"sendmsg", "recvfrom", "recvmsg", "poll", "ppoll", "memfd_create",
	/* time, memory, identity, signals, the end */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"getrandom", "brk", "munmap", "mremap", "madvise", "futex",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"getgroups", "umask", "uname", "rt_sigaction", "rt_sigprocmask",
	"sysinfo",	/* glibc's qsort asks for the memory size */
	"rt_sigreturn", "restart_syscall", "exit", "exit_group", NULL
};

/* What the pre-login process calls: the dialogue before login, the TLS
 * handshake, the requests to the root parent, and as the TLS relay after
 * login the pump between the client's TLS connections and the session's
 * plaintext socket pairs. It has read its key and loaded libssl before
 * the filter; its root is an empty directory, so it opens nothing. */
static const char *const prelogin_calls[] = {
	"read", "write", "readv", "writev", "close", "fcntl", "fstat",
	"newfstatat", "lseek",
	/* the control connection, the parent, the relay's socket pairs */
	"poll", "ppoll", "recvfrom", "recvmsg", "sendto", "sendmsg",
	"socketpair", "shutdown", "setsockopt", "getsockopt", "getsockname",
	"getpeername",
	/* time, memory, identity, signals, the end */
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"getrandom", "brk", "munmap", "mremap", "madvise", "futex",
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid",
	"getegid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"restart_syscall", "exit", "exit_group", NULL
};

/* What the xferlog writer calls: a record in, a line out, an answer. */
static const char *const xferlog_calls[] = {
	"recvfrom", "sendto", "sendmsg", "write", "close", "clock_gettime",
	"gettimeofday",
	"time", "getpid", "brk", "munmap", "rt_sigprocmask", "rt_sigreturn",
	"restart_syscall", "exit", "exit_group", NULL
};

/* The value in the filter that stands for the process's own pid: above
 * any pid Linux gives (PID_MAX_LIMIT is 2^22), so no other constant of
 * the program can be it. */
#define PID_MARK 0x7fffff01u

#define NAMES_MAX 1024		/* system call numbers looked up for names */

static void
fail(const char *what, int err)
{
	fprintf(stderr, "seccomp-filter: %s: %s\n", what, strerror(err));
	exit(1);
}

/* The program as an array NAME_filter, with NAME_filter_pid_at: the
 * index of the one instruction that compares with PID_MARK. */
static size_t
print_filter(scmp_filter_ctx ctx, const char *name)
{
	FILE *t = tmpfile();
	struct sock_filter f;
	size_t n = 0, pid_at = 0, marks = 0;
	int rc;

	if (t == NULL) {
		fail("tmpfile", errno);
	}
	if ((rc = seccomp_export_bpf(ctx, fileno(t))) != 0) {
		fail("seccomp_export_bpf", -rc);
	}
	rewind(t);
	printf("static const struct sock_filter %s_filter[] = {\n", name);
	while (fread(&f, sizeof f, 1, t) == 1) {
		printf("\t{ 0x%04x, %u, %u, 0x%08x },\n", f.code, f.jt, f.jf, f.k);
		if (f.k == PID_MARK) {
			if (f.code != (BPF_JMP | BPF_JEQ | BPF_K)) {
				fail("the pid's place: not a comparison", EINVAL);
			}
			pid_at = n;
			marks++;
		}
		n++;
	}
	if (marks != 1) {
		fail("the pid's place: not exactly one", EINVAL);
	}
	printf("};\n\nenum { %s_filter_pid_at = %zu };\n\n", name, pid_at);
	fclose(t);
	return n;
}

/* One string of names and an offset for each number, so that the table
 * needs no relocations (it stays shared, read-only memory). */
static void
print_names(void)
{
	unsigned at[NAMES_MAX], off = 0, n = 0;

	printf("static const char syscall_names[] =\n");
	for (unsigned nr = 0; nr < NAMES_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

		at[nr] = 0xffff;
		if (name != NULL) {
			printf("\t\"%s\\0\"\n", name);
			at[nr] = off;
			off += (unsigned)strlen(name) + 1;
			if (off >= 0xffff) {	/* the offsets are 16 bits */
				fail("system call names", E2BIG);
			}
			n = nr + 1;
			free(name);
		}
	}
	printf("\t;\n\nstatic const unsigned short syscall_name_at[] = {");
	for (unsigned nr = 0; nr < n; nr++) {
		printf("%s0x%04x,", nr % 8 == 0 ? "\n\t" : " ", at[nr]);
	}
	printf("\n};\n");
}

/* One allow-list; everything else is trapped (SIGSYS, which sandbox.c
 * logs). Memory is never made executable. */
static scmp_filter_ctx
build(const char *const *calls, int socket_refused, int deathsig)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc = ctx == NULL ? -ENOMEM : 0;

	/* a binary tree: a few comparisons per call, not one per name */
	if (rc == 0) {
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	}
	for (size_t i = 0; rc == 0 && calls[i] != NULL; i++) {
		int nr = seccomp_syscall_resolve_name(calls[i]);

		if (nr != __NR_SCMP_ERROR) {
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		}
	}
	if (rc == 0) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	if (rc == 0) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	}
	/* signals to itself alone: abort() and raise() send them with
	 * tgkill(getpid(), gettid(), sig); the pid is put in at load time */
	if (rc == 0) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, PID_MARK));
	}
	/* the TLS relay may ask to die with the session (the one prctl) */
	if (rc == 0 && deathsig) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG));
	}
	/* glibc's syslog() makes a new socket for /dev/log by itself when
	 * the log daemon went away; in a chroot it could not reach it, so
	 * the call fails as it would there instead of ending the process */
	if (rc == 0 && socket_refused) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
	}
	if (rc != 0) {
		fail("building a filter", -rc);
	}
	return ctx;
}

int
main(void)
{
	static const struct {
		const char *name;
		const char *const *calls;
		int socket_refused, deathsig;
	} filters[] = {
		{ "session", session_calls, 0, 0 },
		{ "prelogin", prelogin_calls, 1, 1 },
		{ "xferlog", xferlog_calls, 1, 0 },
	};
	size_t longest = 0;

	printf("/* Generated by src/gen/seccomp-filter.c at build time: the\n"
	    " * seccomp filters of the session, the pre-login process and the\n"
	    " * xferlog writer, and system call names. */\n\n");
	for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
		scmp_filter_ctx ctx = build(filters[i].calls,
		    filters[i].socket_refused, filters[i].deathsig);
		size_t n = print_filter(ctx, filters[i].name);

		longest = n > longest ? n : longest;
		seccomp_release(ctx);
	}
	printf("#define FILTER_LEN_MAX %zu\n\n", longest);
	print_names();
	return ferror(stdout) || fflush(stdout) != 0;
}
