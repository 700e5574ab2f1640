/* Transfers: RETR (sendfile in TYPE I), STOR/APPE/STOU (atomic by
 * default), REST and ABOR. While a transfer runs the control connection
 * is watched: ABOR and QUIT stop it, STAT reports it, anything else waits
 * its turn. 226 is sent only after the file was closed without error. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

static char buf[XFER_BUF];
static char abuf[2 * XFER_BUF];		/* TYPE A: LF grown to CR LF */

size_t
ascii_encode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n') {
			out[o++] = '\r';
		}
		out[o++] = in[i];
	}
	return o;
}

/* CR LF becomes LF; a CR at the end of buf is held for the next call
 * (*held_cr), which must also be told when the data ended. */
size_t
ascii_decode(char *b, size_t n, int *held_cr)
{
	size_t o = 0;

	if (*held_cr && n > 0 && b[0] != '\n') {
		/* the held CR was a data byte: put it back in front */
		memmove(b + 1, b, n);
		b[0] = '\r';
		n++;
		*held_cr = 0;
	}
	*held_cr = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\r' && i + 1 < n && b[i + 1] == '\n') {
			continue;
		}
		if (b[i] == '\r' && i + 1 == n) {
			*held_cr = 1;
			break;
		}
		b[o++] = b[i];
	}
	return o;
}

static int
verb_is(const char *line, const char *verb)
{
	size_t n = strlen(verb);

	return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

/* The control connection has input during a transfer: ABOR stops it
 * and QUIT ends the session after it, even behind other commands, which
 * wait for the end of the transfer; STAT answers at once. */
static enum xfer_result
ctrl_during(struct session *s)
{
	char line[CTRL_LINE_MAX];

	if (ctrl_fill(&s->ctrl) != 0) {
		s->ctrl_eof = 1;	/* the caller cleans up, then ends */
		return XR_ABORTED;
	}
	if (ctrl_take_verb(&s->ctrl, "ABOR")) {
		log_debug_dialogue("<-", "ABOR");
		return XR_ABORTED;
	}
	/* RFC 959: the transfer ends first, its reply goes out, then 221;
	 * nothing the client sends after QUIT is read */
	if (ctrl_take_verb(&s->ctrl, "QUIT")) {
		log_debug_dialogue("<-", "QUIT");
		s->quit = 1;
		s->ctrl_held = 1;
		return XR_OK;
	}
	while (ctrl_peek_line(&s->ctrl, line, sizeof line, 0) && verb_is(line, "STAT")) {
		ctrl_peek_line(&s->ctrl, line, sizeof line, 1);
		log_debug_dialogue("<-", line);
		reply(s, 213, "Transfer in progress: %lld bytes so far", s->xfer_bytes);
	}
	/* a full buffer can take no ABOR: stop reading until the end */
	s->ctrl_held = s->ctrl.len - s->ctrl.pos >= sizeof s->ctrl.buf / 2;
	return XR_OK;
}

static long long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000LL + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Up to ms milliseconds (-1: data_timeout, then XR_TIMEOUT) for fd
 * (-1: none) to be ready, the control connection watched meanwhile. */
static enum xfer_result
wait_for(struct session *s, int fd, short events, long long ms)
{
	struct timespec since;
	long long limit = ms >= 0 ? ms : (long long)s->cfg->srv.data_timeout * 1000;

	/* from the last progress, whatever the control connection brings */
	clock_gettime(CLOCK_MONOTONIC, &since);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = events },
		    { .fd = s->ctrl.fd, .events = POLLIN } };
		int watch = !s->ctrl_held;
		long long left = limit - ms_since(&since);
		enum xfer_result c;
		int rc;

		rc = left <= 0 ? 0 : poll(p, watch ? 2 : 1, (int)left);
		if (rc == 0) {
			return ms >= 0 ? XR_OK : XR_TIMEOUT;
		}
		if (rc < 0) {
			if (errno == EINTR) {
				continue;
			}
			return XR_LOST;
		}
		if (watch && p[1].revents != 0 && (c = ctrl_during(s)) != XR_OK) {
			return c;
		}
		if (fd >= 0 && p[0].revents != 0) {
			return XR_OK;
		}
	}
}

enum xfer_result
xfer_wait(struct session *s, int fd, short events)
{
	return wait_for(s, fd, events, -1);
}

/* The session's own [user] section (anonymous sessions: [user
 * anonymous]), NULL when it has none. */
static const struct user_conf *
own_section(const struct session *s)
{
	return config_user(s->cfg, s->acct.anonymous ? "anonymous" : s->acct.login);
}

/* max_rate_download or max_rate_upload of this session, 0 when none:
 * the user's section's, else the server's. */
static long long
rate_limit(const struct session *s, int upload)
{
	const struct user_conf *u = own_section(s);
	long long own = u == NULL ? -1 : upload ? u->max_rate_upload : u->max_rate_download;

	return own >= 0 ? own : upload ? s->cfg->srv.max_rate_upload :
	    s->cfg->srv.max_rate_download;
}

void
xfer_begin(struct session *s, int upload)
{
	s->xfer_bytes = 0;
	s->xfer_rate = rate_limit(s, upload);
	clock_gettime(CLOCK_MONOTONIC, &s->xfer_start);
}

/* Bytes to move at once: all of want, or under a rate limit a twentieth
 * of a second's worth. */
static size_t
step(const struct session *s, size_t want)
{
	long long n = s->xfer_rate / RATE_STEPS;

	if (s->xfer_rate == 0) {
		return want;
	}
	n = n < RATE_CHUNK_MIN ? RATE_CHUNK_MIN : n;
	return (size_t)n < want ? (size_t)n : want;
}

/* Under a rate limit: wait until the bytes moved so far are due. */
static enum xfer_result
pace(struct session *s)
{
	while (s->xfer_rate > 0) {
		/* split so that no product can overflow (rates are at most 2^50) */
		long long b = s->xfer_bytes, r = s->xfer_rate;
		long long ahead = b / r * 1000 + b % r * 1000 / r - ms_since(&s->xfer_start);
		enum xfer_result w;

		if (ahead <= 0) {
			break;
		}
		if ((w = wait_for(s, -1, 0, ahead)) != XR_OK) {
			return w;
		}
	}
	return XR_OK;
}

enum xfer_result
xfer_send(struct session *s, int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, step(s, len));
		enum xfer_result w;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			s->xfer_bytes += n;
			if ((w = pace(s)) != XR_OK) {
				return w;
			}
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			return XR_LOST;
		}
		if ((w = xfer_wait(s, fd, POLLOUT)) != XR_OK) {
			return w;
		}
	}
	return XR_OK;
}

static enum xfer_result
send_binary(struct session *s, int fd, int dfd, long long offset)
{
	off_t off = (off_t)offset;

	for (;;) {
		ssize_t n = sendfile(dfd, fd, &off, step(s, SENDFILE_CHUNK));
		enum xfer_result w;

		if (n > 0) {
			s->xfer_bytes += n;
			if ((w = pace(s)) != XR_OK) {
				return w;
			}
			continue;
		}
		if (n == 0) {
			return XR_OK;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN) {
			return errno == EPIPE || errno == ECONNRESET ? XR_LOST : XR_LOCAL;
		}
		if ((w = xfer_wait(s, dfd, POLLOUT)) != XR_OK) {
			return w;
		}
	}
}

static enum xfer_result
send_ascii(struct session *s, int fd, int dfd, long long offset)
{
	if (offset > 0 && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		return XR_LOCAL;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		enum xfer_result r;

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return XR_LOCAL;
		}
		if (n == 0) {
			return XR_OK;
		}
		r = xfer_send(s, dfd, abuf, ascii_encode(buf, (size_t)n, abuf));
		if (r != XR_OK) {
			return r;
		}
	}
}

/* A write that failed for want of room: a full file system may get
 * room again (452), a quota or a file size limit will not (552). */
static enum xfer_result
no_room(int err)
{
	return err == ENOSPC ? XR_NOSPACE : err == EDQUOT || err == EFBIG ? XR_QUOTA :
	    XR_LOCAL;
}

/* Why the last write_file failed: the upload goes on being read (and
 * dropped) after it, which leaves errno to other calls. */
static int write_errno;

/* len bytes more for the file, if *room (-1: no limit) takes them. */
static enum xfer_result
write_file(int fd, const char *p, size_t len, long long *room)
{
	if (*room >= 0) {
		if ((long long)len > *room) {
			return XR_TOOBIG;
		}
		*room -= (long long)len;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			write_errno = n < 0 ? errno : EIO;
			return n < 0 ? no_room(errno) : XR_LOCAL;
		}
		p += n;
		len -= (size_t)n;
	}
	return XR_OK;
}

/* The upload into fd, room bytes at most (-1: no limit). When the file
 * cannot take more (a full disk, a quota, the limit), up to
 * UPLOAD_DRAIN_MAX bytes more are read and dropped, so that the client
 * finishes sending and then sees the reply instead of a reset
 * connection; a client that sends more than that is cut off. */
static enum xfer_result
receive(struct session *s, int dfd, int fd, long long room)
{
	enum xfer_result failed = XR_OK;
	long long drained = 0;
	int held_cr = 0;

	for (;;) {
		/* TYPE A: leave a byte of room for a held CR put back */
		ssize_t n = read(dfd, buf, step(s, s->type_ascii ? sizeof buf - 1 : sizeof buf));
		size_t len;
		enum xfer_result w;

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			if ((w = xfer_wait(s, dfd, POLLIN)) != XR_OK) {
				return failed != XR_OK && w != XR_ABORTED ? failed : w;
			}
			continue;
		}
		if (n < 0) {
			return failed != XR_OK ? failed : XR_LOST;
		}
		if (n == 0) {
			if (failed != XR_OK || !held_cr) {
				return failed;
			}
			return write_file(fd, "\r", 1, &room);
		}
		s->xfer_bytes += n;
		if ((w = pace(s)) != XR_OK) {
			return failed != XR_OK && w != XR_ABORTED ? failed : w;
		}
		if (failed != XR_OK) {
			/* drained, so the client reads our reply */
			if ((drained += n) > UPLOAD_DRAIN_MAX) {
				return failed;
			}
			continue;
		}
		len = s->type_ascii ? ascii_decode(buf, (size_t)n, &held_cr) : (size_t)n;
		failed = write_file(fd, buf, len, &room);
	}
}

/* max_upload_size of this session, 0 when there is none: the user's
 * section's, else the server's. */
static long long
upload_limit(const struct session *s)
{
	const struct user_conf *u = own_section(s);

	return u != NULL && u->max_upload_size >= 0 ? u->max_upload_size :
	    s->cfg->srv.max_upload_size;
}

/* The replies, the log line and the totals of one transfer. */
static void
end_transfer(struct session *s, int dfd, enum xfer_result r, int upload,
    const char *vpath, const char *detail, const char *note, const char *left,
    char action)
{
	long long bytes = s->xfer_bytes;

	if (data_close(s, dfd) != 0 && r == XR_OK) {
		r = XR_LOST;	/* no clean TLS end: the client cannot trust it */
	}
	s->ctrl_held = 0;
	{
		struct xfer_record rec = { .path = vpath, .bytes = bytes,
		    .upload = upload, .ascii = s->type_ascii, .complete = r == XR_OK,
		    .action = action, .detail = detail, .note = note };
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		rec.ms = (now.tv_sec - s->xfer_start.tv_sec) * 1000 +
		    (now.tv_nsec - s->xfer_start.tv_nsec) / 1000000;
		log_transfer(s, &rec);
	}
	if (r == XR_OK) {
		if (upload) {
			s->files_in++;
			s->bytes_in += bytes;
		} else {
			s->files_out++;
			s->bytes_out += bytes;
		}
	}
	switch (r) {
	case XR_OK:
		reply(s, 226, "Transfer complete (%lld bytes)", bytes);
		break;
	case XR_ABORTED:
		if (s->ctrl_eof) {
			session_logout(s, "client closed the control connection "
			    "during a transfer");
			exit(EXIT_OK);
		}
		reply(s, 426, "Transfer aborted%s", left);
		reply(s, 226, "Abort successful");
		break;
	case XR_TIMEOUT:
		reply(s, 426, "Data connection timed out after %u seconds%s",
		    s->cfg->srv.data_timeout, left);
		break;
	case XR_LOST:
		reply(s, 426, "Data connection lost%s", upload ? left :
		    "; transfer incomplete");
		break;
	case XR_NOSPACE:
		reply(s, 452, "Insufficient storage space%s", left);
		break;
	case XR_QUOTA:
		reply(s, 552, "Exceeded storage allocation (%s)%s", detail, left);
		break;
	case XR_TOOBIG:
		reply(s, 552, "Exceeded storage allocation: files uploaded here may "
		    "have at most %lld bytes%s", upload_limit(s), left);
		break;
	case XR_EXISTS:
		reply(s, 553, "%s: already exists", vpath);
		break;
	case XR_LOCAL:
		reply(s, 451, "Local error: %s", detail);
		break;
	}
	if (s->quit) {
		session_logout(s, "logout during a transfer");
		reply(s, 221, "Goodbye");
		exit(EXIT_OK);
	}
}

static const char *
detail_of(enum xfer_result r, int err)
{
	switch (r) {
	case XR_NOSPACE:
		return "disk full";
	case XR_QUOTA:
		return err == EFBIG ? "file too large" : "disk quota exceeded";
	case XR_TOOBIG:
		return "over max_upload_size";
	case XR_LOCAL:
		return strerror(err);
	case XR_ABORTED:
		return "aborted";
	case XR_TIMEOUT:
		return "timed out";
	default:
		return "connection lost";
	}
}

void
transfer_done(struct session *s, int dfd, enum xfer_result r, const char *vpath,
    char action, const char *detail)
{
	end_transfer(s, dfd, r, 0, vpath, detail != NULL ? detail : detail_of(r, errno),
	    "", "", action);
}

int
may_download(const struct session *s, const struct stat *st)
{
	return S_ISREG(st->st_mode) && (!s->acct.anonymous || (st->st_mode & S_IROTH));
}

void
cmd_retr(struct session *s, char *arg)
{
	char vpath[VPATH_MAX];
	long long rest = s->rest;
	struct stat st;
	enum xfer_result r;
	int fd, dfd;

	s->rest = 0;
	if (session_path(s, arg, vpath) != 0) {
		data_reset(s);
		return;
	}
	fd = vfs_open(&s->vfs, vpath, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0 && errno == ENOENT) {
		if (convert_retr(s, vpath, rest)) {
			return;
		}
		errno = ENOENT;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		reply_errno(s, vpath);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		reply(s, 550, "%s: not a plain file", vpath);
		goto fail;
	}
	if (!may_download(s, &st)) {
		reply(s, 550, "%s: not readable by everybody; anonymous users get "
		    "only such files", vpath);
		goto fail;
	}
	if (rest > st.st_size) {
		reply(s, 554, "Restart position %lld is past the end (%lld bytes)",
		    rest, (long long)st.st_size);
		goto fail;
	}
	if ((dfd = data_connect(s)) < 0) {
		close(fd);
		return;
	}
	xfer_begin(s, 0);
	reply(s, 150, "Opening %s mode data connection for %s (%lld bytes)",
	    s->type_ascii ? "ASCII" : "BINARY", vpath, (long long)st.st_size - rest);
	if (data_protect(s, &dfd) != 0) {
		close(fd);
		return;
	}
	r = s->type_ascii ? send_ascii(s, fd, dfd, rest) : send_binary(s, fd, dfd, rest);
	end_transfer(s, dfd, r, 0, vpath, detail_of(r, errno), "", "", '_');
	close(fd);
	return;
fail:
	if (fd >= 0) {
		close(fd);
	}
	data_reset(s);
}

enum store_kind { STORE, APPEND, UNIQUE };

/* A new file in dir under a name nobody can predict: base.XXXXXXXXXXXX */
static int
create_unique(int dir, const char *base, char *name, size_t size, int tries)
{
	for (int i = 0; i < tries; i++) {
		unsigned long long r = 0;
		int fd;

		if (getrandom(&r, sizeof r, 0) != sizeof r) {
			return -1;
		}
		snprintf(name, size, "%.200s.%012llx", base, r & 0xffffffffffffULL);
		fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0666);
		if (fd >= 0 || errno != EEXIST) {
			return fd;
		}
	}
	errno = EEXIST;
	return -1;
}

/* Whether vpath is a directory, resolved as every path is (confined). */
static int
is_directory(struct session *s, const char *vpath)
{
	struct stat st;
	int fd = vfs_open(&s->vfs, vpath, O_PATH, 0);
	int dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);

	if (fd >= 0) {
		close(fd);
	}
	return dir;
}

/* Resumed atomic STOR: the first `rest` bytes of the old file come first. */
static int
copy_head(struct session *s, const char *vpath, int to, long long rest)
{
	int from = vfs_open(&s->vfs, vpath, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	struct stat st;
	long long left = rest;

	if (from < 0 || fstat(from, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < rest) {
		if (from >= 0) {
			close(from);
		}
		errno = ESPIPE;
		return -1;
	}
	while (left > 0) {
		ssize_t n = copy_file_range(from, NULL, to, NULL, (size_t)left, 0);

		if (n <= 0) {
			close(from);
			return -1;
		}
		left -= n;
	}
	close(from);
	return 0;
}

/* The whole upload takes its name. Without overwriting, where rename
 * takes no flags (NFS and CephFS clients: EINVAL), a hard link is as
 * atomic: it fails when the name exists, and the file is whole. */
static int
publish(int dir, const char *tmp, const char *name, int noreplace)
{
	if (renameat2(dir, tmp, dir, name, noreplace ? RENAME_NOREPLACE : 0) == 0) {
		return 0;
	}
	if (!noreplace || errno != EINVAL || linkat(dir, tmp, dir, name, 0) != 0) {
		return -1;
	}
	unlinkat(dir, tmp, 0);
	return 0;
}

/* ---- partial uploads: what a broken atomic upload leaves to resume ---- */

#define PARTIAL_PREFIX	".cellftpd-partial."

int
reserved_name(const char *name)
{
	/* in any case: some file systems fold it */
	return strncasecmp(name, ".cellftpd-partial", 17) == 0 ||
	    strncasecmp(name, ".cellftpd-upload", 16) == 0;
}

/* Whether this session's uploads of kind keep what a broken transfer
 * sent: atomic uploads of a named file (not STOU) by a user of its own
 * (anonymous visitors share one account and are not one user). */
static int
keeps_partials(const struct session *s, int unique)
{
	return s->cfg->srv.atomic_uploads && !unique && !s->acct.anonymous;
}

/* The hidden name of this login's partial upload of base:
 * .cellftpd-partial. and hex(SHA-256(login NUL base)). */
static void
partial_name(const struct session *s, const char *base, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char h[2 * SHA256_DIGEST_LENGTH + 1];
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	SHA256Update(&ctx, (const uint8_t *)s->acct.login, strlen(s->acct.login) + 1);
	SHA256Update(&ctx, (const uint8_t *)base, strlen(base));
	SHA256Final(md, &ctx);
	for (size_t i = 0; i < sizeof md; i++) {
		h[2 * i] = hex[md[i] >> 4];
		h[2 * i + 1] = hex[md[i] & 15];
	}
	h[sizeof h - 1] = '\0';
	snprintf(out, size, PARTIAL_PREFIX "%s", h);
}

/* Only a plain file of this account's own, with no other name, is
 * continued: never a link or a file someone else put there. */
static int
partial_usable(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() && st->st_nlink == 1;
}

/* The partial upload part in pdir, when there is a usable one (*st its
 * status); one older than PARTIAL_KEEP_SEC is removed instead. */
static int
partial_find(int pdir, const char *part, const char *vpath, struct stat *st)
{
	if (fstatat(pdir, part, st, AT_SYMLINK_NOFOLLOW) != 0 || !partial_usable(st)) {
		return 0;
	}
	if (st->st_mtime < time(NULL) - PARTIAL_KEEP_SEC) {
		if (unlinkat(pdir, part, 0) == 0) {
			log_event("partial-expired", vpath, (long long)st->st_size,
			    "partial upload of %s removed: %lld bytes, older than %d hours",
			    vpath, (long long)st->st_size, PARTIAL_KEEP_SEC / 3600);
		}
		return 0;
	}
	return 1;
}

int
partial_size(struct session *s, const char *vpath, long long *size)
{
	char part[NAME_BYTES_MAX + 1];
	const char *base;
	struct stat st;
	int pdir, found = 0;

	if (!keeps_partials(s, 0) || (pdir = vfs_parent(&s->vfs, vpath, &base)) < 0) {
		return 0;
	}
	partial_name(s, base, part, sizeof part);
	if (partial_find(pdir, part, vpath, &st)) {
		*size = (long long)st.st_size;
		found = 1;
	}
	close(pdir);
	return found;
}

/* A lock on the whole file for as long as fd is open (an open file
 * description lock: also between hosts on NFS). */
static int
lock_partial(int fd, short type)
{
	struct flock l = { .l_type = type, .l_whence = SEEK_SET };

	return fcntl(fd, F_OFD_SETLK, &l);
}

/* Another session writes on this partial upload now: leave it alone. */
static int
partial_busy(int pdir, const char *part)
{
	int fd = openat(pdir, part, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	int busy = fd >= 0 && lock_partial(fd, F_RDLCK) != 0;

	if (fd >= 0) {
		close(fd);
	}
	return busy;
}

/* The partial upload opened to go on, locked against other sessions
 * (EBUSY): at its end (rest < 0, APPE), or cut to rest bytes and
 * written from there (REST and STOR). */
static int
open_partial(int pdir, const char *part, long long rest)
{
	int fd = openat(pdir, part, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | (rest < 0 ? O_APPEND : 0));
	struct stat st;
	int err;

	if (fd < 0) {
		return -1;
	}
	if (fstat(fd, &st) != 0 || !partial_usable(&st)) {
		err = EACCES;
	} else if (lock_partial(fd, F_WRLCK) != 0) {
		err = errno == EAGAIN || errno == EACCES ? EBUSY : errno;
	} else if (rest >= 0 && (ftruncate(fd, (off_t)rest) != 0 ||
	    lseek(fd, (off_t)rest, SEEK_SET) < 0)) {
		err = errno;
	} else {
		return fd;
	}
	close(fd);
	errno = err;
	return -1;
}

/* A QUIT line waits in the control buffer. */
static int
said_quit(const struct ctrl *c)
{
	for (size_t i = c->pos; i + 4 <= c->len; i++) {
		if ((i == c->pos || c->buf[i - 1] == '\n') &&
		    strncasecmp(c->buf + i, "QUIT", 4) == 0) {
			return 1;
		}
	}
	return 0;
}

/* The data of an upload ended: has the client closed the control
 * connection too, without a QUIT, within UPLOAD_END_WAIT_MS? A client
 * killed midway (or stopped with Ctrl-C) closes both at once, in
 * either order, and the end of its data is then no sign of a whole
 * file. */
static int
client_left(struct session *s)
{
	struct timespec since;

	clock_gettime(CLOCK_MONOTONIC, &since);
	for (int i = 0; i < 4 && !s->ctrl_held; i++) {
		struct pollfd p = { .fd = s->ctrl.fd, .events = POLLIN };
		long long left = UPLOAD_END_WAIT_MS - ms_since(&since);

		if (poll(&p, 1, left > 0 ? (int)left : 0) != 1) {
			return 0;
		}
		if (ctrl_fill(&s->ctrl) != 0) {
			if (said_quit(&s->ctrl)) {
				return 0;	/* done, and gone: the QUIT is read next */
			}
			s->ctrl_eof = 1;
			return 1;
		}
	}
	return 0;
}

static void
store(struct session *s, char *arg, enum store_kind kind)
{
	char vpath[VPATH_MAX], final[VPATH_MAX], tmp[NAME_BYTES_MAX + 1], name[NAME_BYTES_MAX + 1];
	char part[NAME_BYTES_MAX + 1];
	int upload_only = s->acct.allow_write == WRITE_UPLOAD;
	int atomic = kind == STORE && s->cfg->srv.atomic_uploads;
	int keep = keeps_partials(s, kind == UNIQUE);
	int resumed = 0;	/* going on with the partial upload (tmp == part) */
	int busy = 0;
	long long rest = s->rest, limit = upload_limit(s), start, kept = -1;
	int pdir = -1, fd = -1, dfd, err = 0;
	const char *base, *left, *detail;
	char left_buf[96], detail_buf[128], kept_buf[192], note[48];
	struct stat st;
	enum xfer_result r;

	s->rest = 0;
	tmp[0] = part[0] = note[0] = '\0';
	if (session_path(s, arg != NULL ? arg : "file", vpath) != 0) {
		goto fail;
	}
	/* the file would have rest bytes and more: not one more may come */
	if (limit > 0 && rest >= limit) {
		log_event("upload-refused", vpath, rest, "upload %s refused: restart "
		    "position %lld, max_upload_size %lld", vpath, rest, limit);
		reply(s, 552, "Exceeded storage allocation: restart position %lld, files "
		    "uploaded here may have at most %lld bytes", rest, limit);
		goto fail;
	}
	if ((pdir = vfs_parent(&s->vfs, vpath, &base)) < 0) {
		reply_errno(s, vpath);
		goto fail;
	}
	/* APPE, or REST within it, goes on with this user's partial upload */
	if (keep) {
		partial_name(s, base, part, sizeof part);
		if (partial_find(pdir, part, vpath, &st) &&
		    (kind == APPEND || (rest > 0 && rest <= (long long)st.st_size))) {
			resumed = 1;
			atomic = 1;
		}
	}
	if (upload_only && kind == APPEND && !resumed) {
		reply(s, 550, "Permission denied: APPE is not allowed for this account");
		goto fail;
	}
	if (upload_only && rest > 0 && !resumed) {
		reply(s, 550, "Permission denied: resuming uploads is not allowed for "
		    "this account");
		goto fail;
	}
	strcpy(final, vpath);
	if (kind == UNIQUE) {
		fd = create_unique(pdir, base, name, sizeof name, STOU_TRIES_MAX);
		if (fd >= 0) {
			snprintf(final + (base - vpath), sizeof final - (size_t)(base - vpath),
			    "%s", name);
		}
	} else if (atomic) {
		if (upload_only && fstatat(pdir, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			errno = EEXIST;
		} else if (is_directory(s, vpath)) {
			errno = EISDIR;
		} else if (resumed) {
			fd = open_partial(pdir, part, kind == APPEND ? -1 : rest);
			if (fd >= 0) {
				strcpy(tmp, part);
			}
		} else {
			fd = create_unique(pdir, ".cellftpd-upload", tmp, sizeof tmp,
			    TEMP_TRIES_MAX);
			if (fd >= 0 && rest > 0 && copy_head(s, vpath, fd, rest) != 0) {
				err = errno;
				close(fd);
				unlinkat(pdir, tmp, 0);
				fd = -1;
				errno = err;
			}
		}
	} else if (kind == APPEND) {
		fd = vfs_open(&s->vfs, vpath, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY |
		    O_NONBLOCK, 0666);
	} else {
		fd = vfs_open(&s->vfs, vpath, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK |
		    (upload_only ? O_EXCL : 0) | (rest > 0 ? 0 : O_TRUNC), 0666);
		/* a resumed upload continues at rest and ends the file there */
		if (fd >= 0 && rest > 0) {
			if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < rest) {
				err = ESPIPE;
			} else if (ftruncate(fd, (off_t)rest) != 0 ||
			    lseek(fd, (off_t)rest, SEEK_SET) < 0) {
				err = errno;
			}
			if (err != 0) {
				close(fd);
				fd = -1;
				errno = err;
			}
		}
	}
	if (fd < 0) {
		if (errno == EEXIST) {
			reply(s, 553, "%s: already exists", vpath);
		} else if (errno == EDQUOT || errno == EFBIG) {
			reply(s, 552, "%s: exceeded storage allocation (%s)", vpath,
			    strerror(errno));
		} else if (errno == ESPIPE) {
			reply(s, 554, "Restart position %lld is past the end of %s",
			    rest, vpath);
		} else if (errno == EBUSY && resumed) {
			reply(s, 450, "%s: another session is resuming this upload; try "
			    "again later", vpath);
		} else {
			reply_errno(s, vpath);
		}
		goto fail;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		reply(s, 550, "%s: not a plain file", vpath);
		goto fail;
	}
	/* the size the upload starts from: APPE's old file, REST's offset */
	start = (long long)st.st_size;
	if (limit > 0 && start >= limit) {
		log_event("upload-refused", vpath, start, "upload %s refused: already "
		    "%lld bytes, max_upload_size %lld", vpath, start, limit);
		reply(s, 552, "Exceeded storage allocation: %s has %lld bytes, files "
		    "uploaded here may have at most %lld bytes", vpath, start, limit);
		goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((dfd = data_connect(s)) < 0) {
		goto cleanup;
	}
	xfer_begin(s, 1);
	if (kind == UNIQUE) {
		reply(s, 150, "FILE: %s", final);
	} else if (resumed) {
		snprintf(note, sizeof note, "resumed at %lld", start);
		reply(s, 150, "Ok to send data for %s, resuming at byte %lld", vpath, start);
	} else {
		reply(s, 150, "Ok to send data for %s", vpath);
	}
	if (data_protect(s, &dfd) != 0) {
		goto cleanup;
	}
	r = receive(s, dfd, fd, limit > 0 ? limit - start : -1);
	err = r == XR_NOSPACE || r == XR_QUOTA || r == XR_LOCAL ? write_errno : errno;
	/* under TLS, the client's close_notify tells a whole upload; through
	 * a balancer the two closes travel apart, and the sign means nothing */
	if (keep && atomic && r == XR_OK && !s->data_wrapped && s->via[0] == '\0' &&
	    client_left(s)) {
		r = XR_ABORTED;
	}
	if (s->data_wrapped) {
		/* an upload is whole only with the client's close_notify */
		if (data_close(s, dfd) != 0 && r == XR_OK) {
			r = XR_LOST;
		}
		dfd = -1;
	}
	left = atomic ? "; nothing stored" : "; the file is incomplete";
	detail = s->ctrl_eof && r == XR_ABORTED ? "the client closed the control "
	    "connection" : detail_of(r, err);
	if (r == XR_TOOBIG) {
		snprintf(detail_buf, sizeof detail_buf, "over max_upload_size (%lld bytes)",
		    limit);
		detail = detail_buf;
	}
	if (r == XR_TOOBIG && kind == UNIQUE) {
		/* a retry fails alike: what it wrote is of no use to anyone */
		if (unlinkat(pdir, name, 0) == 0) {
			left = "; nothing stored";
		}
	} else if (r == XR_TOOBIG && !atomic) {
		if (ftruncate(fd, (off_t)start) == 0) {
			snprintf(left_buf, sizeof left_buf, "; the file is cut back to "
			    "%lld bytes", start);
			left = left_buf;
		}
	}
	/* broken off, not refused: what arrived waits to be resumed */
	if (keep && atomic && (r == XR_ABORTED || r == XR_TIMEOUT || r == XR_LOST) &&
	    fstat(fd, &st) == 0 && st.st_size > 0) {
		kept = (long long)st.st_size;
	}
	if (close(fd) != 0 && r == XR_OK) {
		err = errno;
		r = no_room(err);
		detail = detail_of(r, err);
	}
	fd = -1;
	if (atomic && r == XR_OK && publish(pdir, tmp, base, upload_only) != 0) {
		err = errno;
		r = err == EEXIST ? XR_EXISTS : XR_LOCAL;
		detail = detail_of(r, err);
	}
	/* a partial another session is resuming stays its own */
	busy = keep && !resumed && partial_busy(pdir, part);
	if (kept >= 0 && !resumed && (busy || renameat(pdir, tmp, pdir, part) != 0)) {
		kept = -1;
	}
	if (kept >= 0) {
		snprintf(left_buf, sizeof left_buf, "; %lld bytes kept for resuming", kept);
		left = left_buf;
		snprintf(kept_buf, sizeof kept_buf, "%s; %lld bytes kept for resuming",
		    detail, kept);
		detail = kept_buf;
	} else if (atomic && r != XR_OK) {
		unlinkat(pdir, tmp, 0);
	}
	/* a whole upload, or a refused one, of the name ends its partial */
	if (keep && !resumed && kept < 0 && !busy) {
		unlinkat(pdir, part, 0);
	}
	end_transfer(s, dfd, r, 1, final, detail, note, left, '_');
	close(pdir);
	return;
fail:
	data_reset(s);
cleanup:
	if (fd >= 0) {
		close(fd);
	}
	if (tmp[0] != '\0' && !resumed) {
		unlinkat(pdir, tmp, 0);
	}
	if (pdir >= 0) {
		close(pdir);
	}
}

void
cmd_stor(struct session *s, char *arg)
{
	store(s, arg, STORE);
}

void
cmd_appe(struct session *s, char *arg)
{
	store(s, arg, APPEND);
}

void
cmd_stou(struct session *s, char *arg)
{
	store(s, arg, UNIQUE);
}

void
cmd_rest(struct session *s, char *arg)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(arg, &end, 10);
	if (!isdigit((unsigned char)arg[0]) || *end != '\0' || errno != 0 || n < 0) {
		reply(s, 501, "REST needs a byte offset");
		return;
	}
	s->rest = n;
	reply(s, 350, "Restarting at %lld; send STOR or RETR", n);
}

void
cmd_abor(struct session *s, char *arg)
{
	(void)arg;
	/* RFC 959 4.1.3: the previous command (a transfer too) is done, so
	 * there is nothing to abort but a prepared data connection: 226 */
	data_reset(s);
	s->rest = 0;
	reply(s, 226, "Abort successful: no transfer was running");
}
