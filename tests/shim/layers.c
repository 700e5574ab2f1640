/* A test shim, preloaded into cellftpd by tests/72-layers.bats: it makes
 * the kernel look as if it lacked a sandbox layer, so that the others
 * are tested without it. CELLFTPD_SHIM_OFF names what to take away:
 *   landlock  the three Landlock calls fail with ENOSYS (a kernel
 *             without Landlock, or before 5.13)
 *   seccomp   prctl(PR_SET_SECCOMP) and seccomp(2) fail with EINVAL (a
 *             kernel without CONFIG_SECCOMP_FILTER)
 *   renameflags  renameat2() with flags fails with EINVAL, as on NFS
 *             and CephFS clients (tests/86-fleet.bats: shared storage)
 * cellftpd logs each missing layer, which the tests check, so that a
 * shim that stopped working cannot pass for a layer that holds. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

long syscall(long nr, ...);
int prctl(int option, ...);

static int no_landlock, no_seccomp, no_rename_flags;

__attribute__((constructor)) static void
shim_init(void)
{
	const char *off = getenv("CELLFTPD_SHIM_OFF");

	no_landlock = off != NULL && strstr(off, "landlock") != NULL;
	no_seccomp = off != NULL && strstr(off, "seccomp") != NULL;
	no_rename_flags = off != NULL && strstr(off, "renameflags") != NULL;
}

int
renameat2(int olddir, const char *old, int newdir, const char *new, unsigned flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned);

	if (no_rename_flags && flags != 0) {
		/* on standard error, which the tests keep as the server's log */
		fprintf(stderr, "shim: renameat2 with flags refused\n");
		errno = EINVAL;
		return -1;
	}
	if (real == NULL) {
		real = (int (*)(int, const char *, int, const char *, unsigned))
		    dlsym(RTLD_NEXT, "renameat2");
	}
	return real(olddir, old, newdir, new, flags);
}

long
syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++) {
		a[i] = va_arg(ap, long);	/* unused ones are never read by the kernel */
	}
	va_end(ap);
	if (no_landlock && (nr == SYS_landlock_create_ruleset ||
	    nr == SYS_landlock_add_rule || nr == SYS_landlock_restrict_self)) {
		errno = ENOSYS;
		return -1;
	}
	if (no_seccomp && nr == SYS_seccomp) {
		errno = EINVAL;
		return -1;
	}
	if (real == NULL) {
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int
prctl(int option, ...)
{
	static int (*real)(int, ...);
	unsigned long a[4];
	va_list ap;

	va_start(ap, option);
	for (int i = 0; i < 4; i++) {
		a[i] = va_arg(ap, unsigned long);
	}
	va_end(ap);
	if (no_seccomp && option == PR_SET_SECCOMP) {
		errno = EINVAL;
		return -1;
	}
	if (real == NULL) {
		real = (int (*)(int, ...))dlsym(RTLD_NEXT, "prctl");
	}
	return real(option, a[0], a[1], a[2], a[3]);
}
