/* Logging: one line per event with the client address and user, to
 * syslog (facility ftp), to the journal with native fields, or to
 * standard error when asked. Never to the client's socket. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "cellftpd.h"

static int mode = LOGTO_SYSLOG;
/* libsystemd and what it pulls in (libgcrypt, liblzma, libzstd, ...) is
 * loaded only when the journal is used, not into every session */
static __typeof__(sd_journal_send) *journal_send;
static int xferlog_fd = -1;	/* the socket to the xferlog writer */
static int debug;
static char client[80] = "-";
static char client_addr[64] = "";
static unsigned client_port;
static char user[USER_NAME_MAX + 1] = "-";

/* auto: the journal when fd 2 is the stream systemd gave us. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_open(int m, int dbg)
{
	debug = dbg;
	mode = m;
	if (mode == LOGTO_AUTO) {
		mode = stderr_is_journal() ? LOGTO_JOURNAL : LOGTO_SYSLOG;
	}
	if (mode == LOGTO_JOURNAL && journal_send == NULL) {
		void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

		if (lib != NULL) {
			journal_send = (__typeof__(journal_send))dlsym(lib, "sd_journal_send");
		}
		if (journal_send == NULL) {
			mode = LOGTO_SYSLOG;
		}
	}
	if (mode == LOGTO_SYSLOG) {
		openlog("cellftpd", LOG_PID | LOG_NDELAY, LOG_FTP);
	}
}

/* Before a chroot: the journal is addressed by path at every line, which
 * a chrooted process cannot reach; syslog's socket, connected now, goes
 * on working (journald serves /dev/log on systemd machines). */
void
log_before_chroot(void)
{
	/* syslog(3) stamps local time: read the zone now, while
	 * /etc/localtime can be opened and before a seccomp filter would
	 * end the process for the open */
	tzset();
	if (mode == LOGTO_JOURNAL) {
		mode = LOGTO_SYSLOG;
	}
	if (mode == LOGTO_SYSLOG) {
		openlog("cellftpd", LOG_PID | LOG_NDELAY, LOG_FTP);
	}
}

void
log_set_client(const char *addr, unsigned port)
{
	snprintf(client_addr, sizeof client_addr, "%s", addr);
	snprintf(client, sizeof client, "%s", addr);
	client_port = port;
}

void
log_set_user(const char *u)
{
	/* user names are logged as given: make them one printable word */
	size_t i;

	for (i = 0; u[i] != '\0' && i < sizeof user - 1; i++) {
		user[i] = (u[i] > ' ' && u[i] < 127) ? u[i] : '?';
	}
	user[i] = '\0';
}

int
log_debugging(void)
{
	return debug;
}

static void
emit(int prio, const char *event, const char *path, long long bytes, long long ms,
    const char *msg)
{
	char line[1200];

	snprintf(line, sizeof line, "%s %s: %s", client, user, msg);
	/* control characters from clients never reach a log line */
	for (char *p = line; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 127) {
			*p = '?';
		}
	}
	switch (mode) {
	case LOGTO_JOURNAL:
		journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio,
		    "SYSLOG_FACILITY=%d", LOG_FTP >> 3,
		    "SYSLOG_IDENTIFIER=cellftpd",
		    "REMOTE_ADDR=%s", client_addr, "REMOTE_PORT=%u", client_port,
		    "FTP_USER=%s", user, "FTP_EVENT=%s", event != NULL ? event : "",
		    "FTP_PATH=%s", path != NULL ? path : "",
		    "FTP_BYTES=%lld", bytes,
		    ms >= 0 ? "FTP_DURATION_MS=%lld" : NULL, ms, NULL);
		break;
	case LOGTO_STDERR:
		fprintf(stderr, "cellftpd[%ld]: %s\n", (long)getpid(), line);
		break;
	default:
		syslog(prio, "%s", line);
		break;
	}
}

void
log_msg(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !debug) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(prio, NULL, NULL, -1, -1, msg);
}

void
log_event(const char *event, const char *path, long long bytes, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(LOG_INFO, event, path, bytes, -1, msg);
}

/* ---- the xferlog ----
 *
 * The session never holds the file. At login, before its sandbox, it
 * forks a writer that keeps the file and knows the client's address and
 * the account by itself. For each transfer the session sends what only
 * it knows (path, size, duration, kind) as one fixed-size record over a
 * SOCK_SEQPACKET pair; the writer checks it, formats the line and
 * answers one byte once the line is written, so the log is as up to date
 * as when the session wrote it. A session taken over can add records in
 * its own name and from its own address, each one line of fixed fields;
 * it can neither write anything else to the file nor change what is
 * there. */

#define XFER_MAGIC	0x63667834u	/* "cfx4" */
#define XFER_UPLOAD	1u
#define XFER_ASCII	2u
#define XFER_COMPLETE	4u

struct xfer_msg {
	uint32_t magic;
	uint32_t flags;			/* XFER_* */
	int64_t	 bytes;
	int64_t	 ms;
	char	 action;		/* _ C U T */
	char	 path[VPATH_MAX];	/* NUL-terminated */
};

/* The wu-ftpd xferlog line:
 * current-time transfer-time remote-host file-size filename transfer-type
 * special-action-flag direction access-mode username service-name
 * authentication-method authenticated-user-id completion-status */
static void
xferlog_line(int fd, const struct xfer_msg *m, int anonymous, const char *who)
{
	char line[VPATH_MAX + 512], when[32], name[VPATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int n;

	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
	/* one field: white space and control characters become '_' */
	for (i = 0; m->path[i] != '\0' && i < sizeof name - 1; i++) {
		name[i] = (unsigned char)m->path[i] <= ' ' || m->path[i] == 127 ?
		    '_' : m->path[i];
	}
	name[i] = '\0';
	n = snprintf(line, sizeof line, "%s %lld %s %lld %s %c %c %c %c %s ftp 0 * %c\n",
	    when, (long long)(m->ms + 999) / 1000, client_addr, (long long)m->bytes, name,
	    m->flags & XFER_ASCII ? 'a' : 'b', m->action,
	    m->flags & XFER_UPLOAD ? 'i' : 'o', anonymous ? 'a' : 'r', who,
	    m->flags & XFER_COMPLETE ? 'c' : 'i');
	if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) != n) {
		log_msg(LOG_ERR, "cannot write xferlog: %s", strerror(errno));
	}
}

static int
xfer_msg_ok(const struct xfer_msg *m)
{
	return m->magic == XFER_MAGIC && (m->flags & ~(XFER_UPLOAD | XFER_ASCII |
	    XFER_COMPLETE)) == 0 && m->bytes >= 0 && m->ms >= 0 &&
	    m->action != '\0' && strchr("_CUT", m->action) != NULL &&
	    memchr(m->path, '\0', sizeof m->path) != NULL && m->path[0] == '/';
}

/* Every descriptor but standard error and the two given. */
static void
close_all_but(int a, int b)
{
	int keep[3] = { STDERR_FILENO, a < b ? a : b, a < b ? b : a };
	unsigned from = 0;

	for (int i = 0; i < 3; i++) {
		if ((unsigned)keep[i] > from) {
			close_range(from, (unsigned)keep[i] - 1, 0);
		}
		from = (unsigned)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

static _Noreturn void
xferlog_writer(int file, int chan, const struct account *a)
{
	const char *who = user, *what = NULL;
	struct xfer_msg m;

	/* the account's own words, not the session's */
	log_set_user(a->login);
	if (a->anonymous) {
		who = a->anon_id[0] != '\0' ? a->anon_id : "*";
	}
	if (mode == LOGTO_SYSLOG) {
		closelog();
	}
	close_all_but(file, chan);
	log_before_chroot();	/* syslog's socket again, connected now */
	if (sandbox_xferlog(a, &what) != 0) {
		log_msg(LOG_ERR, "xferlog writer: %s: %s", what, strerror(errno));
		_exit(EXIT_FAILURE_);
	}
	for (;;) {
		ssize_t n = recv(chan, &m, sizeof m, MSG_TRUNC);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			_exit(n == 0 ? EXIT_OK : EXIT_FAILURE_);	/* the session ended */
		}
		if (n != (ssize_t)sizeof m || !xfer_msg_ok(&m)) {
			log_msg(LOG_ERR, "xferlog writer: malformed record from the session");
			_exit(EXIT_FAILURE_);
		}
		xferlog_line(file, &m, a->anonymous, who);
		if (send(chan, "", 1, MSG_NOSIGNAL) != 1) {
			_exit(EXIT_OK);
		}
	}
}

int
xferlog_open(const char *path, const struct account *a)
{
	int file, sp[2];
	pid_t pid;

	if (path == NULL) {
		return 0;
	}
	tzset();	/* local time is read now, before the sandbox */
	file = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW, 0640);
	if (file < 0) {
		log_msg(LOG_ERR, "cannot open xferlog '%s': %s", path, strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0 ||
	    (pid = fork()) < 0) {
		log_msg(LOG_ERR, "cannot start the xferlog writer: %s", strerror(errno));
		close(file);
		return -1;
	}
	if (pid == 0) {
		xferlog_writer(file, sp[1], a);
	}
	close(file);
	close(sp[1]);
	xferlog_fd = sp[0];
	return 0;
}

/* One record to the writer, and its answer that the line is written. */
static void
xferlog_send(const struct xfer_record *r)
{
	struct xfer_msg m;
	ssize_t n;
	char done;

	memset(&m, 0, sizeof m);
	m.magic = XFER_MAGIC;
	m.flags = (r->upload ? XFER_UPLOAD : 0) | (r->ascii ? XFER_ASCII : 0) |
	    (r->complete ? XFER_COMPLETE : 0);
	m.bytes = r->bytes < 0 ? 0 : r->bytes;
	m.ms = r->ms < 0 ? 0 : r->ms;
	m.action = r->action;
	snprintf(m.path, sizeof m.path, "%s", r->path);
	do {
		n = send(xferlog_fd, &m, sizeof m, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof m) {
		do {
			n = recv(xferlog_fd, &done, 1, 0);
		} while (n < 0 && errno == EINTR);
		if (n == 1) {
			return;
		}
	}
	log_msg(LOG_ERR, "cannot write xferlog: %s", n < 0 ? strerror(errno) :
	    "its writer has ended");
	close(xferlog_fd);
	xferlog_fd = -1;
}

void
log_transfer(const struct session *s, const struct xfer_record *r)
{
	char msg[VPATH_MAX + 256];
	const char *what = r->upload ? "upload" : "download";

	(void)s;
	snprintf(msg, sizeof msg, "%s %s, %lld bytes in %lld ms%s%s%s%s", what, r->path,
	    r->bytes, r->ms, r->note != NULL && r->note[0] != '\0' ? ", " : "",
	    r->note != NULL ? r->note : "", r->complete ? "" : ", failed: ",
	    r->complete ? "" : r->detail);
	emit(LOG_INFO, what, r->path, r->bytes, r->ms, msg);
	if (xferlog_fd >= 0) {
		xferlog_send(r);
	}
}

/* -d: the dialogue, one log line per control line. */
void
log_debug_dialogue(const char *dir, const char *text)
{
	char line[512];
	size_t n = 0;

	for (; *text != '\0' && n < sizeof line - 1; text++) {
		if (*text == '\r') {
			continue;
		}
		line[n++] = *text == '\n' ? '|' : *text;
	}
	while (n > 0 && line[n - 1] == '|') {
		n--;
	}
	line[n] = '\0';
	log_msg(LOG_DEBUG, "%s %s", dir, line);
}
