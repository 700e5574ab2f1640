/* Listings: LIST (ls -l lines), NLST (names), MLSD/MLST (RFC 3659 facts)
 * and STAT with a path. One optional glob pattern in the last component,
 * matched with a bounded amount of work; at most LIST_ENTRIES_MAX
 * entries. Every name is read through the confined vfs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

enum { F_TYPE = 1, F_SIZE = 2, F_MODIFY = 4, F_PERM = 8, F_UNIQUE = 16,
	F_MODE = 32, F_OWNER = 64, F_GROUP = 128, F_ALL = 255 };

static const char *const fact_names[] = { "type", "size", "modify", "perm",
	"unique", "UNIX.mode", "UNIX.owner", "UNIX.group" };
#define NFACTS 8

/* ---- the glob matcher ---- */

/* One character class at *pp ("[...]"); *pp moves past it. 1, 0, or -1
 * when the bracket is not closed (then it is a literal '['). */
static int
class_match(const char **pp, unsigned char c, long *work)
{
	const char *p = *pp + 1;
	int neg = 0, hit = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	for (int first = 1; *p != '\0' && (first || *p != ']'); first = 0) {
		unsigned char lo = (unsigned char)*p, hi = lo;

		(*work)++;
		if (p[1] == '-' && p[2] != '\0' && p[2] != ']') {
			hi = (unsigned char)p[2];
			p += 2;
		}
		if (c >= lo && c <= hi) {
			hit = 1;
		}
		p++;
	}
	if (*p != ']') {
		return -1;
	}
	*pp = p + 1;
	return hit != neg;
}

int
glob_match(const char *p, const char *n, long *work)
{
	const char *star_p = NULL, *star_n = NULL;

	while (*n != '\0') {
		const char *q = p;
		int m;

		if (++*work > GLOB_WORK_MAX) {
			return -1;
		}
		if (*p == '*') {
			while (*p == '*') {
				p++;
			}
			star_p = p;
			star_n = n;
			continue;
		}
		if (*p == '?') {
			m = 1;
			q = p + 1;
		} else if (*p == '[' && (m = class_match(&q, (unsigned char)*n, work)) >= 0) {
			/* q is past the class */
		} else {
			m = *p != '\0' && *p == *n;
			q = p + 1;
		}
		if (m) {
			p = q;
			n++;
		} else if (star_p != NULL) {
			p = star_p;
			n = ++star_n;
		} else {
			return 0;
		}
	}
	while (*p == '*') {
		p++;
	}
	return *p == '\0';
}

static int
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* ---- output: to the data connection or the control connection ---- */

struct sink {
	struct session	*s;
	int		 fd;		/* data socket, or -1 for control */
	enum xfer_result err;		/* XR_OK while fine */
	size_t		 len;
	char		 buf[64 * 1024];
};

static void
flush(struct sink *k)
{
	if (k->len == 0 || k->err != 0) {
		k->len = 0;
		return;
	}
	if (k->fd < 0) {
		ctrl_write(k->s, k->buf, k->len);
	} else {
		k->err = xfer_send(k->s, k->fd, k->buf, k->len);
	}
	k->len = 0;
}

static void
put(struct sink *k, const char *fmt, ...) PRINTF(2, 3);

static void
put(struct sink *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (int tries = 0; tries < 2; tries++) {
		va_start(ap, fmt);
		n = vsnprintf(k->buf + k->len, sizeof k->buf - k->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof k->buf - k->len) {
			k->len += (size_t)n;
			return;
		}
		flush(k);
	}
}

/* On the control connection (STAT, MLST) a name is part of a reply:
 * its control bytes, CR and LF above all, become '?', so that no name
 * can end a reply or forge another. Data connections carry names as
 * they are, one a line: names with CR or LF are left out of listings
 * (and a link target with one is not shown). */
static const char *
shown(const struct sink *k, const char *name, char *buf, size_t size)
{
	size_t i;

	if (k->fd >= 0) {
		return name;
	}
	for (i = 0; name[i] != '\0' && i < size - 1; i++) {
		buf[i] = (unsigned char)name[i] < ' ' || name[i] == 127 ? '?' : name[i];
	}
	buf[i] = '\0';
	return buf;
}

/* ---- what a listing is made of ---- */

struct entry {
	char		*name;
	struct stat	 st;
};

struct listing {
	char		 dir[VPATH_MAX];	/* the directory listed */
	char		 prefix[VPATH_MAX];	/* NLST of a glob: as typed */
	char		 pattern[GLOB_PATTERN_MAX + 1];
	int		 all;			/* -a */
	int		 single;		/* the argument is not a directory */
	struct entry	*e;
	size_t		 n;
	int		 dirfd;			/* O_RDONLY directory, or -1 */
	struct stat	 dirst;
};

static void
listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].name);
	}
	free(l->e);
	if (l->dirfd >= 0) {
		close(l->dirfd);
	}
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int
add(struct listing *l, const char *name, const struct stat *st)
{
	if (l->n % 256 == 0) {
		struct entry *e = realloc(l->e, (l->n + 256) * sizeof *e);

		if (e == NULL) {
			return -1;
		}
		l->e = e;
	}
	l->e[l->n].name = strdup(name);
	if (l->e[l->n].name == NULL) {
		return -1;
	}
	l->e[l->n++].st = *st;
	return 0;
}

/* Parse "[-flags] [path]", find what to list and read it. Replies and
 * returns -1 on failure. */
static int
prepare(struct session *s, char *arg, struct listing *l, int want_dir)
{
	char vpath[VPATH_MAX];
	const char *path = arg != NULL ? arg : "";
	long work = 0;
	int unreadable = 0;
	DIR *d;
	struct dirent *de;
	int fd;

	memset(l, 0, sizeof *l);
	l->dirfd = -1;
	l->all = want_dir;	/* MLSD is for programs: every name */
	s->rest = 0;		/* a listing is the transfer REST was for */
	if (strchr(path, '\r') != NULL) {
		/* listings carry names as they are, one a line */
		reply(s, 550, "Names with line breaks are not listed");
		return -1;
	}
	while (path[0] == '-' && path[1] != '\0' && path[1] != ' ') {
		size_t n = strcspn(path, " ");

		l->all |= memchr(path, 'a', n) != NULL || memchr(path, 'A', n) != NULL;
		path += n;
		path += strspn(path, " ");
	}
	if (path[0] != '\0' && has_glob(strrchr(path, '/') ? strrchr(path, '/') + 1 : path)) {
		const char *slash = strrchr(path, '/');
		const char *pat = slash != NULL ? slash + 1 : path;

		if (strlen(pat) > GLOB_PATTERN_MAX) {
			reply(s, 501, "Pattern longer than %d bytes", GLOB_PATTERN_MAX);
			return -1;
		}
		strcpy(l->pattern, pat);
		snprintf(l->prefix, sizeof l->prefix, "%.*s",
		    (int)(pat - path), path);
		if (session_path(s, l->prefix[0] != '\0' ? l->prefix : ".", vpath) != 0) {
			return -1;
		}
	} else if (session_path(s, path[0] != '\0' ? path : ".", vpath) != 0) {
		return -1;
	}
	strcpy(l->dir, vpath);
	fd = vfs_open(&s->vfs, vpath, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0 && errno == EACCES) {
		fd = vfs_open(&s->vfs, vpath, O_PATH, 0);	/* a file we may not read */
		unreadable = 1;
	}
	if (fd < 0 || fstat(fd, &l->dirst) != 0) {
		reply_errno(s, vpath);
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	if (!S_ISDIR(l->dirst.st_mode)) {
		close(fd);
		if (want_dir || l->pattern[0] != '\0') {
			reply(s, want_dir ? 501 : 550, "%s: not a directory", vpath);
			return -1;
		}
		l->single = 1;
		snprintf(l->prefix, sizeof l->prefix, "%s", path);
		return add(l, path, &l->dirst) == 0 ? 0 : (reply(s, 451, "Out of memory"), -1);
	}
	if (unreadable) {
		close(fd);
		errno = EACCES;		/* a drop box: enter, but not list */
		reply_errno(s, vpath);
		return -1;
	}
	l->dirfd = fd;
	if ((fd = dup(l->dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		reply_errno(s, vpath);
		return -1;
	}
	while ((de = readdir(d)) != NULL && l->n < LIST_ENTRIES_MAX) {
		const char *name = de->d_name;
		struct stat st;
		int m;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strpbrk(name, "\r\n") != NULL) {
			continue;	/* a line break would forge entries */
		}
		if (name[0] == '.' && !l->all && l->pattern[0] != '.') {
			continue;
		}
		if (reserved_name(name)) {
			continue;	/* partial and temporary uploads, even with -a */
		}
		if (l->pattern[0] != '\0' && (m = glob_match(l->pattern, name, &work)) != 1) {
			if (m < 0) {
				closedir(d);
				log_msg(LOG_WARNING, "glob pattern '%s' stopped: too much work",
				    l->pattern);
				reply(s, 550, "Pattern needs too much work; simplify it");
				return -1;
			}
			continue;
		}
		if (fstatat(l->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    add(l, name, &st) != 0) {
			break;
		}
	}
	closedir(d);
	if (l->n > 1) {
		qsort(l->e, l->n, sizeof *l->e, by_name);
	}
	return 0;
}

/* ---- names and permissions ---- */

struct names {
	unsigned	 id[NAME_CACHE_MAX];
	char		 name[NAME_CACHE_MAX][33];
	size_t		 n;
};

static const char *
id_name(struct names *c, unsigned id, int group)
{
	struct passwd *pw;
	struct group *gr;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->id[i] == id) {
			return c->name[i];
		}
	}
	i = c->n < NAME_CACHE_MAX ? c->n++ : id % NAME_CACHE_MAX;
	c->id[i] = id;
	if (group ? (gr = getgrgid(id)) != NULL : (pw = getpwuid(id)) != NULL) {
		snprintf(c->name[i], sizeof c->name[i], "%s", group ? gr->gr_name : pw->pw_name);
	} else {
		snprintf(c->name[i], sizeof c->name[i], "%u", id);
	}
	return c->name[i];
}

static struct names owners, groups;

/* Whether this process may read (4), write (2) or search (1) st. */
static int
may(const struct stat *st, int bit)
{
	static gid_t g[NGROUPS_MAX];
	static int ng = -1;
	uid_t uid = geteuid();

	if (ng < 0) {
		ng = getgroups(NGROUPS_MAX, g);
	}
	if (uid == 0) {
		return 1;
	}
	if (st->st_uid == uid) {
		return (st->st_mode & (mode_t)(bit << 6)) != 0;
	}
	if (st->st_gid == getegid()) {
		return (st->st_mode & (mode_t)(bit << 3)) != 0;
	}
	for (int i = 0; i < ng; i++) {
		if (g[i] == st->st_gid) {
			return (st->st_mode & (mode_t)(bit << 3)) != 0;
		}
	}
	return (st->st_mode & (mode_t)bit) != 0;
}

/* RFC 3659 perm: what this user may really do with the entry. */
static void
perm_fact(const struct session *s, const struct stat *st, const struct stat *parent,
    char *out)
{
	int yes = s->acct.allow_write == WRITE_YES;
	int create = s->acct.allow_write != WRITE_NO;
	int rm = yes && parent != NULL && may(parent, 2) && may(parent, 1);

	if (S_ISDIR(st->st_mode)) {
		int w = may(st, 2) && may(st, 1);

		snprintf(out, 16, "%s%s%s%s%s%s%s", create && w ? "c" : "",
		    rm ? "d" : "", may(st, 1) ? "e" : "", rm ? "f" : "",
		    may(st, 4) ? "l" : "", yes && w ? "m" : "", yes && w ? "p" : "");
	} else {
		int w = yes && may(st, 2);

		snprintf(out, 16, "%s%s%s%s%s", w ? "a" : "", rm ? "d" : "",
		    rm ? "f" : "", may(st, 4) ? "r" : "", w ? "w" : "");
	}
}

static void
put_facts(struct sink *k, const struct session *s, const char *type,
    const struct stat *st, const struct stat *parent, const char *name)
{
	char when[32], perm[16], safe[VPATH_MAX];
	unsigned f = s->mlst_facts;

	if (f & F_TYPE) {
		put(k, "type=%s;", type);
	}
	if ((f & F_SIZE) && !S_ISDIR(st->st_mode)) {
		put(k, "size=%lld;", (long long)st->st_size);
	}
	if ((f & F_MODIFY) && format_time(st->st_mtime, when, sizeof when) == 0) {
		put(k, "modify=%s;", when);
	}
	if (f & F_PERM) {
		perm_fact(s, st, parent, perm);
		put(k, "perm=%s;", perm);
	}
	if (f & F_UNIQUE) {
		put(k, "unique=%llxg%llx;", (unsigned long long)st->st_dev,
		    (unsigned long long)st->st_ino);
	}
	if (f & F_MODE) {
		put(k, "UNIX.mode=0%o;", (unsigned)(st->st_mode & 07777));
	}
	if (f & F_OWNER) {
		put(k, "UNIX.owner=%s;", id_name(&owners, st->st_uid, 0));
	}
	if (f & F_GROUP) {
		put(k, "UNIX.group=%s;", id_name(&groups, st->st_gid, 1));
	}
	put(k, " %s\r\n", shown(k, name, safe, sizeof safe));
}

/* The type fact; a link is described by what it reaches inside the root. */
static const char *
type_fact(struct session *s, const char *dir, const char *name, struct stat *st)
{
	if (S_ISLNK(st->st_mode)) {
		char vpath[VPATH_MAX];
		struct stat t;
		int fd = -1;

		if (snprintf(vpath, sizeof vpath, "%s/%s", strcmp(dir, "/") ? dir : "",
		    name) < (int)sizeof vpath &&
		    (fd = vfs_open(&s->vfs, vpath, O_PATH, 0)) >= 0 && fstat(fd, &t) == 0) {
			*st = t;
		}
		if (fd >= 0) {
			close(fd);
		}
		if (S_ISLNK(st->st_mode)) {
			return "OS.unix=symlink";
		}
	}
	return S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir" :
	    "OS.unix=special";
}

static void
mode_string(mode_t m, char *out)
{
	const char *rwx = "rwxrwxrwx";

	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' :
	    S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
	for (int i = 0; i < 9; i++) {
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	}
	if (m & S_ISUID) {
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	}
	if (m & S_ISGID) {
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	}
	if (m & S_ISVTX) {
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	}
	out[10] = '\0';
}

/* ls -l: the time of day for the last six months, else the year. */
static void
ls_line(struct sink *k, int dirfd, const struct entry *e, time_t now)
{
	char mode[11], when[16], target[VPATH_MAX], safe[VPATH_MAX];
	const struct stat *st = &e->st;
	struct tm tm;
	ssize_t n = -1;

	mode_string(st->st_mode, mode);
	gmtime_r(&st->st_mtime, &tm);
	if (st->st_mtime <= now && now - st->st_mtime < 15778476) {
		strftime(when, sizeof when, "%b %e %H:%M", &tm);
	} else {
		strftime(when, sizeof when, "%b %e  %Y", &tm);
	}
	put(k, "%s %3lu %-8s %-8s %8lld %s %s", mode, (unsigned long)st->st_nlink,
	    id_name(&owners, st->st_uid, 0), id_name(&groups, st->st_gid, 1),
	    (long long)st->st_size, when, shown(k, e->name, safe, sizeof safe));
	if (S_ISLNK(st->st_mode) && dirfd >= 0 &&
	    (n = readlinkat(dirfd, e->name, target, sizeof target - 1)) >= 0) {
		target[n] = '\0';
		if (strpbrk(target, "\r\n") == NULL || k->fd < 0) {
			put(k, " -> %s", shown(k, target, safe, sizeof safe));
		}
	}
	put(k, "\r\n");
}

/* ---- the commands ---- */

enum kind { K_LIST, K_NLST, K_MLSD };

static void
emit(struct session *s, struct sink *k, struct listing *l, enum kind kind)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < l->n && k->err == 0; i++) {
		struct entry *e = &l->e[i];

		if (kind == K_LIST) {
			ls_line(k, l->single ? -1 : l->dirfd, e, now);
		} else if (kind == K_NLST) {
			put(k, "%s%s\r\n", l->single ? "" : l->prefix, e->name);
		} else {
			const char *type = type_fact(s, l->dir, e->name, &e->st);

			put_facts(k, s, type, &e->st, &l->dirst, e->name);
		}
	}
}

static void
list_data(struct session *s, char *arg, enum kind kind)
{
	struct listing l;
	struct sink *k;
	int dfd;

	if (prepare(s, arg, &l, kind == K_MLSD) != 0) {
		listing_free(&l);
		data_reset(s);
		return;
	}
	if ((dfd = data_connect(s)) < 0) {
		listing_free(&l);
		return;
	}
	k = calloc(1, sizeof *k);
	if (k == NULL) {
		close(dfd);
		listing_free(&l);
		reply(s, 451, "Out of memory");
		return;
	}
	xfer_begin(s, 0);
	reply(s, 150, "Here comes the listing of %s", l.dir);
	if (data_protect(s, &dfd) != 0) {
		free(k);
		listing_free(&l);
		return;
	}
	k->s = s;
	k->fd = dfd;
	if (kind == K_MLSD) {
		struct stat up;
		const char *base;
		int pfd = vfs_parent(&s->vfs, l.dir, &base);

		put_facts(k, s, "cdir", &l.dirst, NULL, ".");
		if (pfd >= 0 && fstat(pfd, &up) == 0) {
			put_facts(k, s, "pdir", &up, NULL, "..");
		}
		if (pfd >= 0) {
			close(pfd);
		}
	}
	emit(s, k, &l, kind);
	flush(k);
	if (data_close(s, dfd) != 0 && k->err == 0) {
		k->err = XR_LOST;
	}
	s->ctrl_held = 0;
	if (k->err == 0) {
		reply(s, 226, "Listing sent (%zu entr%s)", l.n, l.n == 1 ? "y" : "ies");
	} else if (k->err == XR_ABORTED) {
		reply(s, 426, "Listing aborted");
		reply(s, 226, "Abort successful");
	} else {
		reply(s, 426, "Data connection lost; listing incomplete");
	}
	free(k);
	listing_free(&l);
	if (s->quit) {
		session_logout(s, "logout during a listing");
		reply(s, 221, "Goodbye");
		exit(EXIT_OK);
	}
}

void
cmd_list(struct session *s, char *arg)
{
	list_data(s, arg, K_LIST);
}

void
cmd_nlst(struct session *s, char *arg)
{
	list_data(s, arg, K_NLST);
}

void
cmd_mlsd(struct session *s, char *arg)
{
	list_data(s, arg, K_MLSD);
}

/* STAT PATH: the LIST lines over the control connection. */
void
list_stat(struct session *s, char *arg)
{
	struct listing l;
	struct sink *k = calloc(1, sizeof *k);

	if (k == NULL) {
		reply(s, 451, "Out of memory");
		return;
	}
	if (prepare(s, arg, &l, 0) == 0) {
		k->s = s;
		k->fd = -1;
		char safe[VPATH_MAX];

		put(k, "213-Status of %s:\r\n", shown(k, l.dir, safe, sizeof safe));
		emit(s, k, &l, K_LIST);
		put(k, "213 End of status\r\n");
		flush(k);
	}
	listing_free(&l);
	free(k);
}

void
cmd_mlst(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];
	struct stat st, up;
	const char *base;
	struct sink *k;
	int fd, have_up;

	if (session_path(s, arg != NULL ? arg : ".", vpath) != 0) {
		return;
	}
	fd = vfs_parent(&s->vfs, vpath, &base);
	have_up = fd >= 0 && fstat(fd, &up) == 0;
	if (fd >= 0) {
		close(fd);
	}
	fd = vfs_open(&s->vfs, vpath, O_PATH, 0);
	if (fd < 0 || fstat(fd, &st) != 0) {
		reply_errno(s, vpath);
		if (fd >= 0) {
			close(fd);
		}
		return;
	}
	close(fd);
	if ((k = calloc(1, sizeof *k)) == NULL) {
		reply(s, 451, "Out of memory");
		return;
	}
	k->s = s;
	k->fd = -1;
	{
		char safe[VPATH_MAX];

		put(k, "250-Listing %s\r\n ", shown(k, vpath, safe, sizeof safe));
	}
	put_facts(k, s, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" :
	    "OS.unix=special", &st, have_up ? &up : NULL, vpath);
	put(k, "250 End\r\n");
	flush(k);
	free(k);
}

/* OPTS MLST fact;fact;... (RFC 3659 7.9) */
int
opts_mlst(struct session *s, const char *arg)
{
	char out[256] = "";
	unsigned f = 0;

	while (*arg != '\0') {
		size_t n = strcspn(arg, ";");

		for (int i = 0; i < NFACTS; i++) {
			if (strlen(fact_names[i]) == n && strncasecmp(arg, fact_names[i], n) == 0) {
				f |= 1u << i;
			}
		}
		arg += n + (arg[n] == ';');
	}
	s->mlst_facts = f;
	for (int i = 0; i < NFACTS; i++) {
		if (f & (1u << i)) {
			strcat(out, fact_names[i]);
			strcat(out, ";");
		}
	}
	reply(s, 200, "MLST OPTS %s", out);
	return 0;
}

size_t
mlst_feat(const struct session *s, char *out, size_t size)
{
	size_t len = (size_t)snprintf(out, size, " MLST ");

	for (int i = 0; i < NFACTS && len < size; i++) {
		len += (size_t)snprintf(out + len, size - len, "%s%s;", fact_names[i],
		    (s->mlst_facts & (1u << i)) ? "*" : "");
	}
	return len;
}

unsigned
mlst_default_facts(void)
{
	return F_ALL;
}
