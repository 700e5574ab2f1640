/* Commands on names: every one resolves its argument with session_path()
 * and reaches the file system only through the vfs (path.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

int
session_path(struct session *s, const char *arg, char *out)
{
	if (path_normalize(s->cwd, arg, out, VPATH_MAX) != 0) {
		reply(s, 553, "File name too long");
		return -1;
	}
	for (const char *c = out; *c != '\0'; c += strcspn(c + 1, "/") + 1) {
		if (strcspn(c + 1, "/") > NAME_BYTES_MAX) {
			reply(s, 553, "File name too long (a name has at most %d bytes)",
			    NAME_BYTES_MAX);
			return -1;
		}
		if (reserved_name(c + 1)) {
			/* partial and temporary uploads: the server's alone */
			reply(s, 550, "%s: reserved name", out);
			return -1;
		}
	}
	return 0;
}

void
reply_errno(struct session *s, const char *vpath)
{
	int code = errno == ENOSPC || errno == EDQUOT ? 452 : 550;

	reply(s, code, "%s: %s", vpath, errno == EBUSY && strcmp(vpath, "/") == 0 ?
	    "the root directory cannot be changed" : strerror(errno));
}

char *
read_message(struct session *s, const char *vpath)
{
	int fd = vfs_open(&s->vfs, vpath, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	struct stat st;
	char *text;
	ssize_t n;

	if (fd < 0) {
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (text = malloc(MESSAGE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, text, MESSAGE_MAX);
	close(fd);
	if (n <= 0) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	text[strlen(text)] = '\0';	/* up to a NUL byte */
	return text;
}

/* message_file of a directory entered, once per directory per session */
static char *
directory_message(struct session *s, const char *dir)
{
	const char *name = s->cfg->srv.message_file;
	char vpath[VPATH_MAX];

	if (name == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < s->nshown; i++) {
		if (strcmp(s->shown[i], dir) == 0) {
			return NULL;
		}
	}
	if (snprintf(vpath, sizeof vpath, "%s/%s", strcmp(dir, "/") ? dir : "", name) >=
	    (int)sizeof vpath) {
		return NULL;
	}
	if (s->nshown < MESSAGE_DIRS_MAX && (s->shown[s->nshown] = strdup(dir)) != NULL) {
		s->nshown++;
	}
	return read_message(s, vpath);
}

void
cmd_pwd(struct session *s, char *arg)
{
	char q[2 * VPATH_MAX];

	(void)arg;
	path_quote(s->cwd, q, sizeof q);
	reply(s, 257, "\"%s\" is the current directory", q);
}

static void
change_dir(struct session *s, const char *vpath)
{
	int fd = vfs_open(&s->vfs, vpath, O_PATH | O_DIRECTORY, 0);

	if (fd < 0 || faccessat(fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) != 0) {
		reply_errno(s, vpath);
	} else {
		char *msg = directory_message(s, vpath), last[VPATH_MAX + 32];

		strcpy(s->cwd, vpath);
		snprintf(last, sizeof last, "Directory changed to %s", vpath);
		if (msg != NULL) {
			reply_message(s, 250, msg, last);
			free(msg);
		} else {
			reply(s, 250, "%s", last);
		}
	}
	if (fd >= 0) {
		close(fd);
	}
}

void
cmd_cwd(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];

	if (arg == NULL || strcmp(arg, "~") == 0) {
		change_dir(s, s->acct.home);
	} else if (session_path(s, arg, vpath) == 0) {
		change_dir(s, vpath);
	}
}

void
cmd_cdup(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];

	(void)arg;
	if (session_path(s, "..", vpath) == 0) {
		change_dir(s, vpath);
	}
}

void
cmd_mkd(struct session *s, char *arg)
{
	char vpath[VPATH_MAX], q[2 * VPATH_MAX];
	const char *base;
	int dfd;

	if (session_path(s, arg, vpath) != 0) {
		return;
	}
	dfd = vfs_parent(&s->vfs, vpath, &base);
	if (dfd < 0 || mkdirat(dfd, base, 0777) != 0) {
		if (errno == EBUSY) {
			errno = EEXIST;
		}
		reply_errno(s, vpath);
	} else {
		log_event("mkdir", vpath, -1, "mkdir %s", vpath);
		path_quote(vpath, q, sizeof q);
		reply(s, 257, "\"%s\" created", q);
	}
	if (dfd >= 0) {
		close(dfd);
	}
}

/* unlinkat of vpath; flags 0 (a file) or AT_REMOVEDIR */
static void
remove_name(struct session *s, char *arg, int flags, const char *event)
{
	char vpath[VPATH_MAX];
	const char *base;
	int dfd;

	if (session_path(s, arg, vpath) != 0) {
		return;
	}
	dfd = vfs_parent(&s->vfs, vpath, &base);
	if (dfd < 0 || unlinkat(dfd, base, flags) != 0) {
		reply_errno(s, vpath);
	} else {
		log_event(event, vpath, -1, "%s %s", event, vpath);
		reply(s, 250, "%s removed", vpath);
	}
	if (dfd >= 0) {
		close(dfd);
	}
}

void
cmd_rmd(struct session *s, char *arg)
{
	remove_name(s, arg, AT_REMOVEDIR, "rmdir");
}

void
cmd_dele(struct session *s, char *arg)
{
	remove_name(s, arg, 0, "delete");
}

void
cmd_rnfr(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];
	const char *base;
	struct stat st;
	int dfd;

	if (session_path(s, arg, vpath) != 0) {
		return;
	}
	dfd = vfs_parent(&s->vfs, vpath, &base);
	if (dfd < 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		reply_errno(s, vpath);
	} else {
		strcpy(s->rnfr, vpath);
		s->have_rnfr = 1;
		reply(s, 350, "Ready for RNTO");
	}
	if (dfd >= 0) {
		close(dfd);
	}
}

void
cmd_rnto(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];
	const char *from, *to;
	int fdir = -1, tdir = -1;

	if (!s->have_rnfr) {
		reply(s, 503, "RNFR required first");
		return;
	}
	s->have_rnfr = 0;
	if (session_path(s, arg, vpath) != 0) {
		return;
	}
	fdir = vfs_parent(&s->vfs, s->rnfr, &from);
	if (fdir < 0) {
		reply_errno(s, s->rnfr);
		return;
	}
	tdir = vfs_parent(&s->vfs, vpath, &to);
	if (tdir < 0 || renameat(fdir, from, tdir, to) != 0) {
		reply_errno(s, vpath);
	} else {
		log_event("rename", vpath, -1, "rename %s to %s", s->rnfr, vpath);
		reply(s, 250, "Renamed %s to %s", s->rnfr, vpath);
	}
	close(fdir);
	if (tdir >= 0) {
		close(tdir);
	}
}

/* fstat of vpath, following links (inside the root when contained) */
static int
stat_path(struct session *s, const char *vpath, struct stat *st)
{
	int fd = vfs_open(&s->vfs, vpath, O_PATH, 0);
	int rc;

	if (fd < 0) {
		return -1;
	}
	rc = fstat(fd, st);
	close(fd);
	return rc;
}

void
cmd_size(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];
	long long partial;
	struct stat st;

	if (session_path(s, arg, vpath) != 0) {
		return;
	}
	/* while this user's upload waits to be resumed: what it needs */
	if (partial_size(s, vpath, &partial)) {
		if (s->type_ascii) {
			reply(s, 550, "SIZE is not answered in ASCII mode; send TYPE I first");
		} else {
			reply(s, 213, "%lld", partial);
		}
	} else if (stat_path(s, vpath, &st) != 0) {
		reply_errno(s, vpath);
	} else if (!S_ISREG(st.st_mode)) {
		reply(s, 550, "%s: not a plain file", vpath);
	} else if (s->type_ascii) {
		reply(s, 550, "SIZE is not answered in ASCII mode; send TYPE I first");
	} else {
		reply(s, 213, "%lld", (long long)st.st_size);
	}
}

int
format_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		return -1;
	}
	return strftime(out, size, "%Y%m%d%H%M%S", &tm) == 0 ? -1 : 0;
}

void
cmd_mdtm(struct session *s, char *arg)
{
	char vpath[VPATH_MAX], when[32];
	struct stat st;

	if (session_path(s, arg, vpath) != 0) {
		return;
	}
	if (stat_path(s, vpath, &st) != 0) {
		reply_errno(s, vpath);
	} else if (format_time(st.st_mtime, when, sizeof when) != 0) {
		reply(s, 550, "%s: time out of range", vpath);
	} else {
		reply(s, 213, "%s", when);
	}
}

/* YYYYMMDDHHMMSS[.sss], UTC (RFC 3659 time-val) */
int
parse_timeval(const char *v, long long *sec)
{
	struct tm tm, want;
	time_t t;
	size_t n = strspn(v, "0123456789");

	if (n != 14 || (v[14] != '\0' && (v[14] != '.' ||
	    strspn(v + 15, "0123456789") != strlen(v + 15) || v[15] == '\0'))) {
		return -1;
	}
	memset(&tm, 0, sizeof tm);
	if (sscanf(v, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 ||
	    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	want = tm;
	t = timegm(&tm);
	/* what MDTM can answer: a real date (no 31 February), 1970 or later */
	if (want.tm_year < 70 || t < 0 || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_mday != want.tm_mday || tm.tm_mon != want.tm_mon) {
		return -1;
	}
	*sec = (long long)t;
	return 0;
}

/* Set the modification time of the name itself (never through a link);
 * *mtime becomes the time the file system stored. */
static int
set_mtime(struct session *s, const char *vpath, long long *mtime)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { (time_t)*mtime, 0 } };
	const char *base;
	struct stat st;
	int dfd = vfs_parent(&s->vfs, vpath, &base);
	int rc;

	if (dfd < 0) {
		return -1;
	}
	rc = utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
	if (rc == 0 && (rc = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)) == 0) {
		*mtime = (long long)st.st_mtime;
	}
	close(dfd);
	return rc;
}

void
cmd_mfmt(struct session *s, char *arg)
{
	char vpath[VPATH_MAX], when[32];
	char *sp = strchr(arg, ' ');
	long long t;

	if (sp == NULL) {
		reply(s, 501, "Usage: MFMT YYYYMMDDHHMMSS path");
		return;
	}
	*sp = '\0';
	if (parse_timeval(arg, &t) != 0) {
		reply(s, 501, "Bad time %s: use YYYYMMDDHHMMSS (UTC)", arg);
		return;
	}
	if (session_path(s, sp + 1, vpath) != 0) {
		return;
	}
	if (set_mtime(s, vpath, &t) != 0) {
		reply_errno(s, vpath);
		return;
	}
	format_time((time_t)t, when, sizeof when);
	log_event("mfmt", vpath, -1, "set time of %s to %s", vpath, when);
	reply(s, 213, "Modify=%s; %s", when, sp + 1);
}

/* SITE CHMOD MODE PATH: permission bits only, never on a link. */
static void
site_chmod(struct session *s, char *args)
{
	char vpath[VPATH_MAX], path[64];
	char *sp = strchr(args, ' ');
	unsigned long mode;
	struct stat st;
	char *end;
	int fd;

	if (sp == NULL || sp[1] == '\0') {
		reply(s, 501, "Usage: SITE CHMOD MODE PATH");
		return;
	}
	*sp = '\0';
	errno = 0;
	mode = strtoul(args, &end, 8);
	if (*args == '\0' || *end != '\0' || errno != 0 || args[0] == '-') {
		reply(s, 501, "Bad mode %s: use octal, e.g. 644", args);
		return;
	}
	if (mode > 0777) {
		reply(s, 550, "Only permission bits (up to 777) may be set; no setuid, "
		    "setgid or sticky bits");
		return;
	}
	if (session_path(s, sp + 1, vpath) != 0) {
		return;
	}
	fd = vfs_open(&s->vfs, vpath, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0 || fstat(fd, &st) != 0) {
		reply_errno(s, vpath);
	} else if (S_ISLNK(st.st_mode)) {
		reply(s, 550, "%s: is a symbolic link", vpath);
	} else if (syscall(SYS_fchmodat2, fd, "", (mode_t)mode, AT_EMPTY_PATH) != 0 &&
	    (errno != ENOSYS ||
	    (snprintf(path, sizeof path, "/proc/self/fd/%d", fd),
	    fchmodat(AT_FDCWD, path, (mode_t)mode, 0) != 0))) {
		reply_errno(s, vpath);
	} else {
		log_event("chmod", vpath, -1, "chmod %03lo %s", mode, vpath);
		reply(s, 200, "SITE CHMOD command ok");
	}
	if (fd >= 0) {
		close(fd);
	}
}

/* SITE UMASK [MASK]: shows the mask; may only make it stricter than the
 * configured one, so an anonymous quarantine (umask 777) stays. */
static void
site_umask(struct session *s, char *args)
{
	unsigned long m;
	char *end;

	if (args == NULL) {
		reply(s, 200, "Your current UMASK is %03o", s->umask);
		return;
	}
	errno = 0;
	m = strtoul(args, &end, 8);
	if (*end != '\0' || errno != 0 || m > 0777 || args[0] == '-') {
		reply(s, 501, "Bad mask %s: use octal, e.g. 022", args);
		return;
	}
	if ((m & s->acct.umask) != s->acct.umask) {
		reply(s, 550, "The mask may only be made stricter than %03o",
		    s->acct.umask);
		return;
	}
	s->umask = (unsigned)m;
	umask((mode_t)m);
	reply(s, 200, "UMASK set to %03lo", m);
}

/* SITE UTIME YYYYMMDDHHMMSS PATH, or SITE UTIME PATH ATIME MTIME CTIME UTC */
static void
site_utime(struct session *s, char *args)
{
	char vpath[VPATH_MAX];
	char *sp = args != NULL ? strchr(args, ' ') : NULL;
	const char *name, *mtime;
	long long t;

	if (sp == NULL) {
		reply(s, 501, "Usage: SITE UTIME YYYYMMDDHHMMSS PATH");
		return;
	}
	*sp = '\0';
	if (parse_timeval(args, &t) == 0) {
		name = sp + 1;
	} else {
		/* PATH ATIME MTIME CTIME UTC: the path is everything before
		 * the last four words */
		char *w[4];
		char *p = sp + 1 + strlen(sp + 1);

		*sp = ' ';
		for (int i = 3; i >= 0; i--) {
			while (p > args && p[-1] != ' ') {
				p--;
			}
			w[i] = p;
			if (p == args) {
				reply(s, 501, "Usage: SITE UTIME YYYYMMDDHHMMSS PATH");
				return;
			}
			*--p = '\0';
		}
		mtime = w[1];
		if (strcasecmp(w[3], "UTC") != 0 || parse_timeval(mtime, &t) != 0) {
			reply(s, 501, "Usage: SITE UTIME PATH ATIME MTIME CTIME UTC");
			return;
		}
		name = args;
	}
	if (session_path(s, name, vpath) != 0) {
		return;
	}
	if (set_mtime(s, vpath, &t) != 0) {
		reply_errno(s, vpath);
		return;
	}
	log_event("utime", vpath, -1, "set time of %s", vpath);
	reply(s, 200, "Modification time set");
}

void
cmd_site(struct session *s, char *arg)
{
	char *args = strchr(arg, ' ');
	size_t n = args != NULL ? (size_t)(args - arg) : strlen(arg);

	if (args != NULL) {
		*args++ = '\0';
		if (*args == '\0') {
			args = NULL;
		}
	}
	if (n == 4 && strcasecmp(arg, "HELP") == 0) {
		reply_lines(s, 214, "SITE commands:\n CHMOD MODE PATH\n "
		    "UMASK [MASK]\n UTIME YYYYMMDDHHMMSS PATH\n HELP\nHelp OK");
	} else if (strcasecmp(arg, "UMASK") == 0) {
		site_umask(s, args);
	} else if (strcasecmp(arg, "CHMOD") == 0 || strcasecmp(arg, "UTIME") == 0) {
		if (s->acct.allow_write != WRITE_YES) {
			reply(s, 550, "Permission denied: SITE %s is not allowed for "
			    "this account", arg);
		} else if (args == NULL) {
			reply(s, 501, "SITE %s needs arguments", arg);
		} else if (strcasecmp(arg, "CHMOD") == 0) {
			site_chmod(s, args);
		} else {
			site_utime(s, args);
		}
	} else {
		reply(s, 500, "Unknown SITE command %s", arg);
	}
}
