/* Allegro's conversions: RETR of NAME.gz, .bz2, .tar, .tar.gz, .tar.bz2
 * or .zip where only NAME exists streams that form, made in-process by
 * libarchive (no external program, so no option injection through file
 * names). libarchive and what it pulls in (ICU, libxml2) are loaded only
 * by sessions of servers with conversions = yes, at login, before the
 * sandbox; every other session starts without them.
 *
 * A directory is walked one component at a time below a descriptor the
 * confined vfs opened, with O_NOFOLLOW at every step: a link is stored
 * as a link, never followed, so no archive holds anything outside the
 * root, however the tree changes meanwhile. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cellftpd.h"

#define LIBARCHIVE "libarchive.so.13"

/* the functions used, typed as libarchive declares them */
#define FUNCTIONS(X) X(archive_write_new) X(archive_write_free) \
	X(archive_write_set_format_pax_restricted) X(archive_write_set_format_zip) \
	X(archive_write_set_format_raw) X(archive_write_add_filter_gzip) \
	X(archive_write_add_filter_bzip2) X(archive_write_open) \
	X(archive_write_set_bytes_per_block) \
	X(archive_write_header) X(archive_write_data) X(archive_write_close) \
	X(archive_error_string) X(archive_entry_new) X(archive_entry_free) \
	X(archive_entry_clear) X(archive_entry_set_pathname) \
	X(archive_entry_copy_stat) X(archive_entry_set_symlink)
#define DECLARE(f) static __typeof__(f) *p_##f;
FUNCTIONS(DECLARE)

static int loaded;

void
convert_prepare(const struct session *s)
{
	void *lib;

	if (!s->cfg->srv.conversions || loaded) {
		return;
	}
	lib = dlopen(LIBARCHIVE, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		log_msg(LOG_WARNING, "conversions off: %s", dlerror());
		return;
	}
#define RESOLVE(f) if ((p_##f = (__typeof__(f) *)dlsym(lib, #f)) == NULL) { \
	log_msg(LOG_WARNING, "conversions off: %s lacks %s", LIBARCHIVE, #f); \
	return; }
	FUNCTIONS(RESOLVE)
	loaded = 1;
}

enum form { GZ, BZ2, TAR, TGZ, TBZ2, ZIP };

static const struct {
	const char	*suffix;
	enum form	 form;
	char		 flag;		/* xferlog special-action flag */
} forms[] = {	/* longest first: "a.tar.gz" is a.tar.gz before a.tar .gz */
	{ ".tar.gz", TGZ, 'T' }, { ".tar.bz2", TBZ2, 'T' }, { ".tar", TAR, 'T' },
	{ ".zip", ZIP, 'C' }, { ".gz", GZ, 'C' }, { ".bz2", BZ2, 'C' },
};

struct out {
	struct session		*s;
	int			 dfd;
	enum xfer_result	 r;
};

static la_ssize_t
write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct out *o = arg;

	(void)a;
	if (o->r == XR_OK) {
		o->r = xfer_send(o->s, o->dfd, buf, len);
	}
	/* after a failure nothing more: no trailer that makes a short
	 * archive look whole when archive_write_free() closes it */
	return o->r == XR_OK ? (la_ssize_t)len : -1;
}

/* 0 when all of fd went in, -1 when the archive failed, else the
 * read's errno */
static int
add_file(struct archive *a, int fd)
{
	static char buf[64 * 1024];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (p_archive_write_data(a, buf, (size_t)n) != n) {
			return -1;
		}
	}
	return n < 0 ? errno : 0;
}

/* A walk through one tree: what it holds so far, and why it stopped. */
struct walk {
	struct archive		*a;
	struct archive_entry	*e;
	const struct session	*s;
	char			 name[VPATH_MAX];	/* of the entry, in the archive */
	unsigned		 entries;
	char			 why[VPATH_MAX + 128];	/* empty while all is well */
};

/* An entry that went away, became a link, or may not be read meanwhile
 * is left out (0); anything else stops the archive (-1), so that the
 * client never gets a short one reported as complete. */
static int
left_out(struct walk *w, int err, const char *what)
{
	if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == EACCES ||
	    err == EPERM) {
		return 0;
	}
	snprintf(w->why, sizeof w->why, "%s %s: %s", what, w->name, strerror(err));
	return -1;
}

static int
stopped(struct walk *w, const char *why)
{
	if (w->why[0] == '\0') {
		snprintf(w->why, sizeof w->why, "%s", why);
	}
	return -1;
}

static int add_at(struct walk *, int dir, const char *base, size_t len, int depth);

/* The entry open at fd (O_NOFOLLOW, closed here), stat st, and what is
 * below it: one descriptor per directory level. */
static int
add_open(struct walk *w, int fd, const struct stat *st, size_t len, int depth)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	p_archive_entry_clear(w->e);
	p_archive_entry_set_pathname(w->e, w->name);
	p_archive_entry_copy_stat(w->e, st);
	if (p_archive_write_header(w->a, w->e) != ARCHIVE_OK) {
		close(fd);
		return -1;
	}
	/* from here on the entry is in the archive: what cannot be read
	 * in it stops the archive */
	if (S_ISREG(st->st_mode)) {
		rc = add_file(w->a, fd);
		close(fd);
		if (rc > 0) {
			snprintf(w->why, sizeof w->why, "cannot read %s: %s", w->name,
			    strerror(rc));
		}
		return rc != 0 ? -1 : 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return stopped(w, "cannot read a directory");
	}
	for (;;) {
		size_t n;

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				snprintf(w->why, sizeof w->why, "cannot read directory %s: %s",
				    w->name, strerror(errno));
				rc = -1;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    reserved_name(de->d_name)) {
			continue;	/* partial uploads are never served */
		}
		n = strlen(de->d_name);
		if (len + 1 + n + 1 > sizeof w->name) {
			rc = stopped(w, "a name longer than an archive may hold");
			break;
		}
		w->name[len] = '/';
		memcpy(w->name + len + 1, de->d_name, n + 1);
		rc = add_at(w, dirfd(d), de->d_name, len + 1 + n, depth + 1);
		w->name[len] = '\0';
		if (rc != 0) {
			break;
		}
	}
	closedir(d);
	return rc;
}

/* The entry base in directory dir, never through a link. */
static int
add_at(struct walk *w, int dir, const char *base, size_t len, int depth)
{
	char target[VPATH_MAX];
	struct stat st, now;
	int fd;

	if (depth > CONVERT_DEPTH_MAX) {
		return stopped(w, "deeper than " STR(CONVERT_DEPTH_MAX) " levels");
	}
	if (++w->entries > CONVERT_ENTRIES_MAX) {
		return stopped(w, "more than " STR(CONVERT_ENTRIES_MAX) " entries");
	}
	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return left_out(w, errno, "cannot stat");
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dir, base, target, sizeof target - 1);

		if (n < 0) {
			return left_out(w, errno, "cannot read link");
		}
		target[n] = '\0';
		p_archive_entry_clear(w->e);
		p_archive_entry_set_pathname(w->e, w->name);
		p_archive_entry_copy_stat(w->e, &st);
		p_archive_entry_set_symlink(w->e, target);
		return p_archive_write_header(w->a, w->e) == ARCHIVE_OK ? 0 : -1;
	}
	if (!S_ISDIR(st.st_mode) && !may_download(w->s, &st)) {
		return 0;	/* devices, fifos, sockets, private files: not archived */
	}
	fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0) {
		return left_out(w, errno, "cannot open");
	}
	if (fstat(fd, &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		close(fd);
		return 0;	/* swapped meanwhile: left out */
	}
	return add_open(w, fd, &now, len, depth);
}

/* NAME of NAME.tar: a real entry's normalised path, never the root or
 * what is above it ("/..", "sub/.."), which a suffix can leave behind. */
static int
conversion_base(const char *vpath, size_t n, char *out)
{
	char stripped[VPATH_MAX];

	memcpy(stripped, vpath, n);
	stripped[n] = '\0';
	return path_normalize("/", stripped, out, VPATH_MAX) == 0 &&
	    strcmp(out, stripped) == 0 && strcmp(out, "/") != 0 ? 0 : -1;
}

int
convert_retr(struct session *s, const char *vpath, long long rest)
{
	char base_path[VPATH_MAX];
	struct walk w;
	struct out o = { s, -1, XR_OK };
	struct stat st;
	size_t vlen = strlen(vpath), sl = 0;
	int top = -1, f = -1, rc;

	if (!s->cfg->srv.conversions) {
		return 0;
	}
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		sl = strlen(forms[i].suffix);
		if (vlen > sl + 1 && strcmp(vpath + vlen - sl, forms[i].suffix) == 0 &&
		    vpath[vlen - sl - 1] != '/') {
			f = (int)i;
			break;
		}
	}
	if (f < 0 || conversion_base(vpath, vlen - sl, base_path) != 0) {
		return 0;	/* not a conversion: the caller's 550 stands */
	}
	/* the top through the confined vfs, itself never through a link */
	top = vfs_open(&s->vfs, base_path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0);
	if (top < 0 || fstat(top, &st) != 0 ||
	    !((S_ISREG(st.st_mode) && may_download(s, &st)) ||
	    (S_ISDIR(st.st_mode) && forms[f].form >= TAR))) {
		if (top >= 0) {
			close(top);
		}
		return 0;	/* nothing to convert: the caller's 550 stands */
	}
	if (rest > 0) {
		reply(s, 550, "%s: a converted file cannot be restarted", vpath);
		goto fail;
	}
	if (s->type_ascii) {
		reply(s, 550, "%s: a converted file is sent in binary only; send TYPE I",
		    vpath);
		goto fail;
	}
	if (!loaded) {
		reply(s, 550, "%s: conversions are not available on this server", vpath);
		goto fail;
	}
	if ((o.dfd = data_connect(s)) < 0) {
		close(top);
		return 1;
	}
	xfer_begin(s, 0);
	reply(s, 150, "Opening BINARY mode data connection for %s (converted from %s)",
	    vpath, base_path);
	if (data_protect(s, &o.dfd) != 0) {
		close(top);
		return 1;
	}
	memset(&w, 0, sizeof w);
	w.s = s;
	w.a = p_archive_write_new();
	w.e = p_archive_entry_new();
	switch (forms[f].form) {
	case GZ:
	case BZ2:
		rc = p_archive_write_set_format_raw(w.a);
		break;
	case ZIP:
		rc = p_archive_write_set_format_zip(w.a);
		break;
	default:
		rc = p_archive_write_set_format_pax_restricted(w.a);
		break;
	}
	if (forms[f].form == GZ || forms[f].form == TGZ) {
		rc |= p_archive_write_add_filter_gzip(w.a);
	} else if (forms[f].form == BZ2 || forms[f].form == TBZ2) {
		rc |= p_archive_write_add_filter_bzip2(w.a);
	}
	/* a stream, not a tape: no padding after the last byte */
	rc |= p_archive_write_set_bytes_per_block(w.a, 0);
	snprintf(w.name, sizeof w.name, "%s", strrchr(base_path, '/') + 1);
	w.entries = 1;
	if (rc != ARCHIVE_OK ||
	    p_archive_write_open(w.a, &o, NULL, write_cb, NULL) != ARCHIVE_OK ||
	    add_open(&w, top, &st, strlen(w.name), 0) != 0 ||
	    p_archive_write_close(w.a) != ARCHIVE_OK) {
		if (o.r == XR_OK) {
			o.r = XR_LOCAL;
			if (w.why[0] == '\0') {
				snprintf(w.why, sizeof w.why, "%s",
				    p_archive_error_string(w.a));
			}
			log_msg(LOG_WARNING, "conversion of %s stopped: %s", vpath, w.why);
		}
	}
	p_archive_entry_free(w.e);
	p_archive_write_free(w.a);
	transfer_done(s, o.dfd, o.r, vpath, forms[f].flag,
	    o.r == XR_LOCAL ? w.why : NULL);
	return 1;
fail:
	close(top);
	data_reset(s);
	return 1;
}
