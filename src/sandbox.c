/* Dropping privileges and confining the logged-in session: one visible
 * sequence. Every identity change and every sandbox layer of cellftpd
 * after login is in this file.
 *
 *   sandbox_become():  groups, gid, uid, then a proof that root is gone.
 *   sandbox_confine(): resource limits, no core dumps, a Landlock ruleset
 *                      (the root, read-only unless the account may write,
 *                      plus the few files a session reads; no signals to
 *                      and no abstract sockets of processes outside the
 *                      session), a seccomp allow-list of system calls.
 * A layer the kernel lacks is skipped with a logged notice. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "cellftpd.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#define SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)	/* Landlock ABI 6 */
#define SCOPE_SIGNAL			(1ULL << 1)

/* A ruleset's attributes as of Landlock ABI 6, whatever the headers this
 * is built with know; a kernel with an older ABI takes the fields it
 * knows as long as the others are zero. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int
sandbox_become(const struct account *a, const char **what)
{
	if (a->change_identity) {
		/* anonymous sessions keep the primary group alone; asking
		 * NSS for every group of the account would also load each
		 * module of nsswitch.conf into every session */
		if (a->anonymous ? setgroups(1, &a->gid) != 0 :
		    initgroups(a->sysname, a->gid) != 0) {
			*what = "initgroups";
			return -1;
		}
		if (setresgid(a->gid, a->gid, a->gid) != 0) {
			*what = "setresgid";
			return -1;
		}
		if (setresuid(a->uid, a->uid, a->uid) != 0) {
			*what = "setresuid";
			return -1;
		}
		if (setuid(0) == 0 || seteuid(0) == 0 ||
		    (a->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))) {
			*what = "root could be regained";
			return -1;
		}
	}
	/* no exec of anything this process does can gain privileges */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		*what = "PR_SET_NO_NEW_PRIVS";
		return -1;
	}
	return 0;
}

/* ---- Landlock ---- */

int
landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static int
allow_beneath(int ruleset, int fd, unsigned long long access)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access,
	    .parent_fd = fd };

	return (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0);
}

static int
allow_file(int ruleset, const char *path, unsigned long long access)
{
	int fd = open(path, O_PATH | O_CLOEXEC), rc;

	if (fd < 0) {
		return errno == ENOENT ? 0 : -1;
	}
	rc = allow_beneath(ruleset, fd, access);
	close(fd);
	return rc;
}

/* The files of the session s (unless files is 0: symlinks = follow, or
 * before login, where s is NULL) and, where the kernel has scopes, its
 * signals and abstract sockets. */
static const char *
confine_landlock(const struct session *s, int abi, int files)
{
	const unsigned long long read = LANDLOCK_ACCESS_FS_READ_FILE |
	    LANDLOCK_ACCESS_FS_READ_DIR;
	unsigned long long handled = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	unsigned long long write = LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE;
	struct ruleset_attr attr;
	int rs, ok;

	if (abi >= 2) {
		handled |= LANDLOCK_ACCESS_FS_REFER;
	}
	if (abi >= 3) {
		handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
		write |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
	if (files && s->acct.allow_write == WRITE_YES) {
		/* renaming any kind of entry needs the right to make one; making
		 * devices needs CAP_MKNOD too, which a session never has */
		write |= LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		    LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		    LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		    (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0);
	}
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = files ? handled : 0;
	if (abi >= 6) {
		/* no signals to processes outside this session, such as other
		 * connections' pre-login and TLS processes, which may run as
		 * the same account (nobody); no abstract UNIX sockets */
		attr.scoped = SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET;
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rs < 0) {
		return "cannot create a ruleset";
	}
	ok = (!files || (allow_beneath(rs, s->vfs.rootfd, read |
	    (s->acct.allow_write != WRITE_NO ? write : 0)) == 0 &&
	    /* owner and group names in listings */
	    allow_file(rs, "/etc/passwd", LANDLOCK_ACCESS_FS_READ_FILE) == 0 &&
	    allow_file(rs, "/etc/group", LANDLOCK_ACCESS_FS_READ_FILE) == 0)) &&
	    syscall(SYS_landlock_restrict_self, rs, 0) == 0;
	close(rs);
	return ok ? NULL : strerror(errno);
}

/* ---- seccomp ---- */

#ifndef CELLFTPD_NO_SECCOMP
/* session_filter[], prelogin_filter[], xferlog_filter[] and the names:
 * made at build time by src/gen/seccomp-filter.c, which holds the
 * allow-lists */
#include "seccomp-filter.h"

static const char *ended = "session ended";	/* what a refused call ends */

static void
refused(int sig, siginfo_t *si, void *ctx)
{
	unsigned nr = (unsigned)si->si_syscall;
	const char *name = nr < sizeof syscall_name_at / sizeof syscall_name_at[0] &&
	    syscall_name_at[nr] != 0xffff ? syscall_names + syscall_name_at[nr] : "?";

	(void)sig;
	(void)ctx;
	log_msg(LOG_CRIT, "seccomp: system call %s (%d) is not allowed; %s",
	    name, si->si_syscall, ended);
	_exit(EXIT_FAILURE_);
}

/* Loads one of the programs, with this process's pid as the one tgkill
 * may signal: the filter is compiled before any pid is known, so the
 * program has a mark at pid_at, the constant of that comparison. */
static const char *
confine_syscalls(const struct sock_filter *f, size_t len, size_t pid_at,
    const char *what_ends)
{
	struct sock_filter copy[FILTER_LEN_MAX];
	struct sock_fprog prog = { .len = (unsigned short)len, .filter = copy };
	struct sigaction sa;

	if (len > FILTER_LEN_MAX || pid_at >= len) {
		return "malformed filter";
	}
	memcpy(copy, f, len * sizeof f[0]);
	copy[pid_at].k = (uint32_t)getpid();
	ended = what_ends;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = refused;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	/* no_new_privs is already set */
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ?
	    NULL : strerror(errno);
}

#define CONFINE(name, what_ends) confine_syscalls(name##_filter, \
	sizeof name##_filter / sizeof name##_filter[0], name##_filter_pid_at, what_ends)
#endif

void
sandbox_confine(const struct session *s)
{
	struct rlimit none = { 0, 0 }, files = { SESSION_FILES_MAX, SESSION_FILES_MAX };
	const char *why;
	int abi = landlock_abi(), fs_rules = s->acct.symlinks != SYMLINKS_FOLLOW;

	/* names for listings: NSS reads its configuration now, not later */
	(void)getpwuid(0);
	(void)getgrgid(0);
	if (setrlimit(RLIMIT_CORE, &none) != 0 || prctl(PR_SET_DUMPABLE, 0) != 0 ||
	    setrlimit(RLIMIT_NPROC, &none) != 0 || setrlimit(RLIMIT_NOFILE, &files) != 0) {
		log_msg(LOG_NOTICE, "sandbox: resource limits not set: %s", strerror(errno));
	}
	if (!fs_rules) {
		log_msg(LOG_INFO, "sandbox: no Landlock rules for files: symlinks = "
		    "follow may lead anywhere");
	} else if (abi == 0) {
		log_msg(LOG_NOTICE, "sandbox: this kernel has no Landlock; the root is "
		    "enforced by openat2 alone");
	}
	if ((fs_rules && abi > 0) || abi >= 6) {
		if ((why = confine_landlock(s, abi, fs_rules)) != NULL) {
			log_msg(LOG_NOTICE, "sandbox: Landlock not applied: %s", why);
		}
	}
#ifndef CELLFTPD_NO_SECCOMP
	if ((why = CONFINE(session, "session ended")) != NULL) {
		log_msg(LOG_NOTICE, "sandbox: seccomp not applied: %s", why);
	}
#endif
}

/* Before login: the process that reads the network (and relays TLS)
 * gets the scopes and its own seccomp allow-list; it is already chrooted
 * into an empty directory (when started as root), has read its TLS key
 * and loaded libssl, and runs as the same account as other connections'
 * ones. */
void
sandbox_scope(void)
{
	int abi = landlock_abi();
	const char *why;

	/* set by the drop as root; not yet when started as a user */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_msg(LOG_NOTICE, "sandbox: PR_SET_NO_NEW_PRIVS before login: %s",
		    strerror(errno));
		return;
	}
	if (abi >= 6 && (why = confine_landlock(NULL, abi, 0)) != NULL) {
		log_msg(LOG_NOTICE, "sandbox: Landlock scopes not applied before "
		    "login: %s", why);
	}
#ifndef CELLFTPD_NO_SECCOMP
	if ((why = CONFINE(prelogin, "session ended")) != NULL) {
		log_msg(LOG_NOTICE, "sandbox: seccomp not applied before login: %s", why);
	}
#endif
}

/* The xferlog writer, forked by the session before its own drop: it
 * keeps the transfer log and the socket it reads records from, nothing
 * else. As root it goes into the empty pre-login root; then it becomes
 * the session's account, so it has no rights the session lacks but the
 * open log. It cannot be traced (not dumpable), has the scopes, dies
 * with the session, and may only read, write and end. */
int
sandbox_xferlog(const struct account *a, const char **what)
{
	struct rlimit none = { 0, 0 }, files = { XFERLOG_FILES_MAX, XFERLOG_FILES_MAX };
	pid_t parent = getppid();
	int abi = landlock_abi();
	const char *why;

	if (geteuid() == 0 && (chroot(PRELOGIN_ROOT) != 0 || chdir("/") != 0)) {
		*what = "chroot";
		return -1;
	}
	if (a->change_identity && (setgroups(0, NULL) != 0 ||
	    setresgid(a->gid, a->gid, a->gid) != 0 ||
	    setresuid(a->uid, a->uid, a->uid) != 0 || setuid(0) == 0 || seteuid(0) == 0)) {
		*what = "dropping privileges";
		return -1;
	}
	/* after the drop: a change of identity clears the death signal */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &none) != 0 || setrlimit(RLIMIT_NPROC, &none) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &files) != 0) {
		*what = "limits";
		return -1;
	}
	if (abi >= 6 && (why = confine_landlock(NULL, abi, 0)) != NULL) {
		log_msg(LOG_NOTICE, "sandbox: Landlock scopes not applied to the xferlog "
		    "writer: %s", why);
	}
#ifndef CELLFTPD_NO_SECCOMP
	if ((why = CONFINE(xferlog, "xferlog writer ended")) != NULL) {
		log_msg(LOG_NOTICE, "sandbox: seccomp not applied to the xferlog writer: %s",
		    why);
	}
#endif
	return 0;
}

/* For -t: which layers this machine provides. */
void
sandbox_report(FILE *f)
{
	int abi = landlock_abi();
	long o2 = syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0);
	int seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;

	fprintf(f, "sandbox: openat2 %s, Landlock %s%.0d, seccomp %s%s\n",
	    o2 < 0 && errno == ENOSYS ? "missing (set symlinks = follow)" : "yes",
	    abi > 0 ? "ABI " : "missing", abi,
	    seccomp ? "yes" : "missing",
#ifdef CELLFTPD_NO_SECCOMP
	    " (not in this build)"
#else
	    ""
#endif
	    );
}
