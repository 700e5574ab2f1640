/* Dropping privileges: one visible sequence, then a proof that root is
 * gone. Every identity change of cellftpd is in this file. */
#include <grp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cellftpd.h"

int
sandbox_become(const struct account *a, const char **what)
{
	if (a->change_identity) {
		if (initgroups(a->sysname, a->gid) != 0) {
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
