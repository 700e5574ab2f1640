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
	o->r = xfer_send(o->s, o->dfd, buf, len);
	return o->r == XR_OK ? (la_ssize_t)len : -1;
}

static int
add_file(struct archive *a, struct archive_entry *e, int fd)
{
	static char buf[64 * 1024];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (p_archive_write_data(a, buf, (size_t)n) != n) {
			return -1;
		}
	}
	(void)e;
	return n < 0 ? -1 : 0;
}

/* One entry, named name, for what is at (dir, base), and below it. */
static int
add_tree(struct archive *a, struct archive_entry *e, int dir, const char *base,
    char *name, size_t len, size_t size, int depth, unsigned *entries)
{
	char target[VPATH_MAX];
	struct stat st;
	int fd = -1, rc = 0;

	if (depth > CONVERT_DEPTH_MAX || ++*entries > CONVERT_ENTRIES_MAX ||
	    fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return depth > CONVERT_DEPTH_MAX || *entries > CONVERT_ENTRIES_MAX ? -1 : 0;
	}
	p_archive_entry_clear(e);
	p_archive_entry_set_pathname(e, name);
	p_archive_entry_copy_stat(e, &st);
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dir, base, target, sizeof target - 1);

		if (n < 0) {
			return 0;
		}
		target[n] = '\0';
		p_archive_entry_set_symlink(e, target);
		return p_archive_write_header(a, e) == ARCHIVE_OK ? 0 : -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		return 0;	/* devices, fifos, sockets: not archived */
	}
	fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0) {
		return 0;	/* swapped or unreadable meanwhile: left out */
	}
	if (p_archive_write_header(a, e) != ARCHIVE_OK) {
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		rc = add_file(a, e, fd);
	} else {
		int sub = dup(fd);
		DIR *d = sub >= 0 ? fdopendir(sub) : NULL;
		struct dirent *de;

		while (rc == 0 && d != NULL && (de = readdir(d)) != NULL) {
			size_t n = strlen(de->d_name);

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
				continue;
			}
			if (len + 1 + n + 1 > size) {
				continue;	/* too deep a name for an archive */
			}
			name[len] = '/';
			memcpy(name + len + 1, de->d_name, n + 1);
			rc = add_tree(a, e, fd, de->d_name, name, len + 1 + n, size,
			    depth + 1, entries);
			name[len] = '\0';
		}
		if (d != NULL) {
			closedir(d);
		} else if (sub >= 0) {
			close(sub);
		}
	}
	close(fd);
	return rc;
}

int
convert_retr(struct session *s, const char *vpath, long long rest)
{
	char base_path[VPATH_MAX], name[VPATH_MAX];
	const char *base;
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	struct out o = { s, -1, XR_OK };
	struct stat st;
	size_t vlen = strlen(vpath), sl = 0;
	unsigned entries = 0;
	int pdir = -1, f = -1, rc;

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
	if (f < 0) {
		return 0;
	}
	memcpy(base_path, vpath, vlen - sl);
	base_path[vlen - sl] = '\0';
	pdir = vfs_parent(&s->vfs, base_path, &base);
	if (pdir < 0 || fstatat(pdir, base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !(S_ISREG(st.st_mode) || (S_ISDIR(st.st_mode) && forms[f].form >= TAR))) {
		if (pdir >= 0) {
			close(pdir);
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
		close(pdir);
		return 1;
	}
	s->xfer_bytes = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->xfer_start);
	reply(s, 150, "Opening BINARY mode data connection for %s (converted from %s)",
	    vpath, base_path);
	if (data_protect(s, &o.dfd) != 0) {
		close(pdir);
		return 1;
	}
	a = p_archive_write_new();
	e = p_archive_entry_new();
	switch (forms[f].form) {
	case GZ:
	case BZ2:
		rc = p_archive_write_set_format_raw(a);
		break;
	case ZIP:
		rc = p_archive_write_set_format_zip(a);
		break;
	default:
		rc = p_archive_write_set_format_pax_restricted(a);
		break;
	}
	if (forms[f].form == GZ || forms[f].form == TGZ) {
		rc |= p_archive_write_add_filter_gzip(a);
	} else if (forms[f].form == BZ2 || forms[f].form == TBZ2) {
		rc |= p_archive_write_add_filter_bzip2(a);
	}
	/* a stream, not a tape: no padding after the last byte */
	rc |= p_archive_write_set_bytes_per_block(a, 0);
	snprintf(name, sizeof name, "%s", base);
	if (rc != ARCHIVE_OK ||
	    p_archive_write_open(a, &o, NULL, write_cb, NULL) != ARCHIVE_OK ||
	    add_tree(a, e, pdir, base, name, strlen(name), sizeof name, 0, &entries) != 0 ||
	    p_archive_write_close(a) != ARCHIVE_OK) {
		if (o.r == XR_OK) {
			o.r = XR_LOCAL;
			log_msg(LOG_WARNING, "conversion of %s: %s", vpath,
			    entries > CONVERT_ENTRIES_MAX ? "too many entries" :
			    p_archive_error_string(a));
		}
	}
	p_archive_entry_free(e);
	p_archive_write_free(a);
	close(pdir);
	transfer_done(s, o.dfd, o.r, vpath, forms[f].flag);
	return 1;
fail:
	close(pdir);
	data_reset(s);
	return 1;
}
