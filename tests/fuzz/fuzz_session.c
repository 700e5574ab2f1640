/* A whole logged-in session, data connections included, on a real
 * temporary tree: /tmp/fuzzsess.XXXXXX/root is the account's root, and
 * beside it outside/ and top hold a random marker that no byte sent to
 * the client may ever contain. A client thread sends the input's command
 * lines one at a time over a real TCP connection on 127.0.0.1 and serves
 * every data connection: PASV/EPSV replies are connected to, PORT/EPRT
 * connections accepted, uploads fed, downloads read to the end.
 *
 * Oracles, checked after every input (a violation traps):
 *   - every reply line ends in CR LF, and no CR or LF stands alone;
 *     every line outside a multi-line reply starts "NNN " or "NNN-";
 *   - the markers (the content of the files outside the root, and the
 *     name of one of them) appear in nothing sent, control or data,
 *     also not inside the archives conversions make (decoded here);
 *   - nothing beside the root changed: same names, types, modes,
 *     sizes, modification times and contents;
 *   - a session that ended on EOF closed every descriptor it opened.
 *
 * The input: byte 0 chooses the account (bit 0: symlinks = follow, else
 * contain; bit 1: allow_write = upload; bit 2: allow_write = no; bit 3:
 * atomic_uploads = no; bit 4: conversions = no); a '\n' right after it
 * is skipped. The rest is the client's byte stream, Telnet sequences
 * taken out as the server would, cut into lines at '\n'. Lines that
 * start with '%' are not sent: the rest of the line, and a '\n', is what
 * later uploads send. A line that starts with '&' is sent without
 * waiting for the reply to the one before (as ABOR during a transfer).
 * "PORT *" and "EPRT *" name the client's own listener.
 *
 * exit() in the session code (QUIT during a transfer, an HTTP request
 * line, the end of a transfer on a closed connection) ends the input,
 * not the fuzzer: the link wraps exit (-Wl,--wrap=exit).
 *
 * FUZZ_SESSION_LOG=1 in the environment keeps the session's log lines
 * (on standard error); FUZZ_SESSION_TRACE=1 prints each line sent and
 * received with the time (ms), then each input's replies and data
 * connections. */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__lsan_default_suppressions(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __wrap_exit(int code) __attribute__((noreturn));
void __real_exit(int code) __attribute__((noreturn));
static void private_network(void);
static void drain(int listener);
static int accept_from(int listener, int cfd);
static void private_tmpfs(void);
static int own_net;		/* in a network namespace of our own */
static FILE *report;		/* standard error as libFuzzer has it */
static int quiet = 1, trace;	/* FUZZ_SESSION_LOG, FUZZ_SESSION_TRACE */
static int on_tmpfs;		/* the tree on a tmpfs of our own */

#define INPUT_MAX	(64 * 1024)	/* bytes of one input used */
#define LINES_MAX	300		/* command lines (the rate limit's burst is 400) */
#define CONNS_MAX	64		/* data connections of one input */
#define LINE_WAIT_MS	3000		/* for the reply to one line */
#define INPUT_WAIT_MS	15000		/* for the whole input */
#define DATA_MAX	(64 * 1024 * 1024)	/* bytes kept of one stream */
#define SNAP_MAX	64		/* entries beside the root */
#define MARK_HEX	64		/* hex digits of the content marker */
#define NAME_HEX	32		/* ... of the name marker */

/* ---- the tree ---- */

static char base[64];			/* /tmp/fuzzsess.XXXXXX */
static char rootdir[128];
static char marker[MARK_HEX + 1];	/* content of every file outside */
static char namemark[NAME_HEX + 1];	/* name of one of them */

/* strcmp, but not one libFuzzer sees: names of files outside the root
 * must not become words it tries. */
__attribute__((no_sanitize("coverage")))
static int
name_cmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++, b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int
is_dot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

struct snap {
	char	  path[128];
	mode_t	  mode;
	off_t	  size;
	struct timespec mtime;
	unsigned long long sum;
};
static struct snap snap0[SNAP_MAX];
static size_t nsnap0;

static void
hex(char *out, size_t digits)
{
	unsigned char r[64];

	if (getrandom(r, digits / 2, 0) != (ssize_t)(digits / 2)) {
		abort();
	}
	for (size_t i = 0; i < digits / 2; i++) {
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	}
}

static void
put_file(int dir, const char *name, const char *text, size_t len, mode_t mode)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		fprintf(stderr, "fuzz_session: cannot write %s: %s\n", name, strerror(errno));
		abort();
	}
}

static int
sub_dir(int dir, const char *name, mode_t mode)
{
	int fd;

	if (mkdirat(dir, name, 0700) != 0 ||
	    (fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		fprintf(stderr, "fuzz_session: cannot make %s: %s\n", name, strerror(errno));
		abort();
	}
	if (mode & 0200) {
		fchmod(fd, mode);	/* else the caller, once it is filled */
	}
	return fd;
}

/* Remove what is at (dir, name), whatever the session made of it. */
static void
remove_tree(int dir, const char *name)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *de;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(dir, name, 0);
		return;
	}
	fchmodat(dir, name, 0700, 0);
	fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!is_dot(de->d_name)) {
				remove_tree(dirfd(d), de->d_name);
			}
		}
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	unlinkat(dir, name, AT_REMOVEDIR);
}

/* The root as each input finds it. follow: without the links that lead
 * out, which symlinks = follow lets the account use, as configured. */
static void
make_root(int follow)
{
	static char big[70000];
	struct timespec old[2] = { { 978307200, 0 }, { 978307200, 0 } };
	int b = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, d, sub;
	char target[256];

	if (b < 0) {
		abort();
	}
	remove_tree(b, "root");
	r = sub_dir(b, "root", 0755);
	if (big[0] == '\0') {
		for (size_t i = 0; i < sizeof big; i++) {
			big[i] = (char)(i % 251 == 250 ? '\n' : 'a' + i % 26);
		}
	}
	put_file(r, "file.txt", "hello\nworld\n", 12, 0644);
	utimensat(r, "file.txt", old, 0);
	put_file(r, "crlf.txt", "dos\r\nline\r\nbare\rcr\n", 19, 0644);
	put_file(r, "big.bin", big, sizeof big, 0644);
	put_file(r, ".hidden", "hidden\n", 7, 0600);
	put_file(r, "name with spaces", "sp\n", 3, 0644);
	put_file(r, "nl\nname", "nl\n", 3, 0644);
	put_file(r, "cr\rname", "cr\n", 3, 0644);
	put_file(r, "crlf\r\n226 fake", "x\n", 2, 0644);
	put_file(r, "glob[1]*?.txt", "g\n", 2, 0644);
	put_file(r, "-l", "dash\n", 5, 0644);
	put_file(r, "noperm", "np\n", 3, 0);
	mkfifoat(r, "fifo", 0644);
	symlinkat("file.txt", r, "link-in");
	symlinkat("dir", r, "link-dir");
	symlinkat("link-loop", r, "link-loop");
	symlinkat("missing", r, "link-dangling");
	if (!follow) {
		symlinkat("../outside/secret", r, "link-out");
		symlinkat("../outside", r, "link-out-dir");
		symlinkat("/", r, "link-slash");
		snprintf(target, sizeof target, "%s/outside/secret", base);
		symlinkat(target, r, "link-abs-out");
		snprintf(target, sizeof target, "%s/outside", base);
		symlinkat(target, r, "link-abs-dir");
		symlinkat("../../../../../../../../../../..", r, "link-up-many");
	}
	d = sub_dir(r, "dir", 0755);
	put_file(d, ".message", "Welcome to dir\r\nsecond\001line\n", 27, 0644);
	put_file(d, "a.txt", "a\n", 2, 0644);
	put_file(d, "b.gz", "not gzip\n", 9, 0644);
	sub = sub_dir(d, "sub", 0755);
	put_file(sub, "deep.txt", "deep\n", 5, 0644);
	if (!follow) {
		symlinkat("../../../outside", sub, "link-up");
	}
	symlinkat("../../file.txt", sub, "link-file");
	close(sub);
	close(d);
	d = sub_dir(r, "empty", 0755);
	close(d);
	d = sub_dir(r, "ro", 0555);
	put_file(d, "f", "f\n", 2, 0444);
	fchmod(d, 0555);
	close(d);
	close(r);
	close(b);
}

static unsigned long long
checksum(int dir, const char *name)
{
	unsigned long long h = 1469598103934665603ULL;
	char buf[4096];
	ssize_t n;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0) {
		return 0;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
		}
	}
	close(fd);
	return h;
}

/* Everything below base but root/, in readdir order made stable by a sort. */
static void
take_snapshot(int dir, const char *prefix, struct snap *out, size_t *n)
{
	DIR *d = fdopendir(dir);
	struct dirent *de;

	if (d == NULL) {
		close(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		struct snap *e;

		if (is_dot(de->d_name) || (prefix[0] == '\0' && name_cmp(de->d_name, "root") == 0)) {
			continue;
		}
		if (*n == SNAP_MAX || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			*n = SNAP_MAX + 1;	/* more than was made: changed */
			break;
		}
		e = &out[(*n)++];
		snprintf(e->path, sizeof e->path, "%s/%s", prefix, de->d_name);
		e->mode = st.st_mode;
		e->size = S_ISDIR(st.st_mode) ? 0 : st.st_size;
		e->mtime = st.st_mtim;
		e->sum = S_ISREG(st.st_mode) ? checksum(dirfd(d), de->d_name) : 0;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC | O_NOFOLLOW);

			if (sub >= 0) {
				char p[128];

				snprintf(p, sizeof p, "%s", e->path);
				take_snapshot(sub, p, out, n);
				if (*n > SNAP_MAX) {
					break;
				}
			}
		}
	}
	closedir(d);
}

static int
by_path(const void *a, const void *b)
{
	return name_cmp(((const struct snap *)a)->path, ((const struct snap *)b)->path);
}

static size_t
snapshot(struct snap *out)
{
	size_t n = 0;
	int b = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (b < 0) {
		return SNAP_MAX + 1;
	}
	take_snapshot(b, "", out, &n);
	if (n <= SNAP_MAX) {
		qsort(out, n, sizeof *out, by_path);
	}
	return n;
}

static void
make_outside(void)
{
	char name[64], text[MARK_HEX + 2];
	int b, o, sub;

	snprintf(text, sizeof text, "%s\n", marker);
	b = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b < 0) {
		abort();
	}
	put_file(b, "top", text, MARK_HEX + 1, 0644);
	o = sub_dir(b, "outside", 0755);
	put_file(o, "secret", text, MARK_HEX + 1, 0644);
	snprintf(name, sizeof name, "hidden-%s", namemark);
	put_file(o, name, text, MARK_HEX + 1, 0644);
	sub = sub_dir(o, "sub", 0755);
	put_file(sub, "deep", text, MARK_HEX + 1, 0644);
	close(sub);
	close(o);
	close(b);
}

static void
cleanup(void)
{
	int b;

	if (base[0] == '\0') {
		return;
	}
	if (on_tmpfs) {
		umount2(base, MNT_DETACH);	/* and with it the whole tree */
	}
	b = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b >= 0) {
		remove_tree(b, base + strlen("/tmp/"));
		close(b);
	}
	base[0] = '\0';
}

/* libarchive 3.6.2 (Debian 12) leaks its output state when
 * archive_write_free() follows a fatal write error, as when the client
 * closes the data connection during a conversion: 33 bytes, once per
 * such transfer, in that session process only (fixed upstream by
 * libarchive pull request 2729). Its frames have no frame pointers, so
 * the fast unwinder sees no function to name: the whole library's
 * allocations are left out of leak reports (and with them a session
 * that would forget archive_write_free; ASan still checks every access). */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libarchive.so\n";
}

/* ---- exit() of the session code ---- */

static jmp_buf session_end;
static volatile int in_session;
static pthread_t session_thread;

void
__wrap_exit(int code)
{
	if (in_session && pthread_equal(pthread_self(), session_thread)) {
		in_session = 0;
		longjmp(session_end, 1);
	}
	__real_exit(code);
}

/* ---- streams the client received ---- */

struct buf {
	char	 *p;
	size_t	  len, cap;
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (n == 0) {
		return;
	}
	if (b->len + n > DATA_MAX) {
		n = DATA_MAX - b->len;
	}
	if (n == 0) {
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n) {
			cap *= 2;
		}
		if ((b->p = realloc(b->p, cap)) == NULL) {
			abort();
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* ---- the client ---- */

struct line {
	const char *p;
	size_t	  len;
};

struct conn {
	int	  fd;
	int	  role;		/* 0 not yet known, 1 upload, 2 download */
	unsigned  port;		/* the server's, when we connected */
	struct buf upload;	/* what to send */
	size_t	  sent;
	struct buf in;
};

struct client {
	int	  fd;		/* the control connection */
	int	  listener;	/* for PORT and EPRT */
	unsigned  lport;
	struct line lines[LINES_MAX];
	size_t	  nlines;
	struct buf replies;
	int	  malformed;	/* a line outside any reply */
	struct conn conns[CONNS_MAX];
	size_t	  nconns;
	int	  pending_role;	/* a 150 came before its connection */
	unsigned  pasv_port;	/* of the last 227 or 229; 0 after a PORT or EPRT */
	struct buf payload;
	unsigned long long finals;
};

static int ctrl_listener = -1, port_listener = -1;
static struct sockaddr_in ctrl_addr;
static unsigned port_port;

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return;		/* the session ended */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
no_time_wait(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static void
give_role(struct client *c, struct conn *k, int role)
{
	k->role = role;
	if (k->fd < 0) {
		return;		/* ended already: what it brought is kept */
	}
	if (role == 1) {
		buf_add(&k->upload, c->payload.p != NULL ? c->payload.p : "", c->payload.len);
	} else {
		shutdown(k->fd, SHUT_WR);
	}
}

static struct conn *
add_conn(struct client *c, int fd)
{
	struct conn *k;

	if (c->nconns == CONNS_MAX) {
		no_time_wait(fd);
		close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	k = &c->conns[c->nconns++];
	memset(k, 0, sizeof *k);
	k->fd = fd;
	if (c->pending_role != 0) {
		give_role(c, k, c->pending_role);
		c->pending_role = 0;
	}
	return k;
}

static void
connect_to(struct client *c, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct conn *k;
	int fd;

	if (port == 0 || port > 65535) {
		return;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return;
	}
	k = add_conn(c, fd);
	if (k != NULL) {
		k->port = port;
	}
}

/* The 150 of a transfer: what the newest unused connection to the
 * server's current port (or, active, from it) is for. That one may have
 * ended already, before its 150 was read: an empty listing. */
static void
set_role(struct client *c, int role)
{
	for (size_t i = c->nconns; i-- > 0;) {
		struct conn *k = &c->conns[i];

		if (k->role == 0 && k->port == c->pasv_port) {
			give_role(c, k, role);
			return;
		}
	}
	c->pending_role = role;
}

static void
final_reply(struct client *c, const char *l, size_t n)
{
	unsigned v[6];
	unsigned code = (unsigned)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
	char text[256];
	const char *p;

	snprintf(text, sizeof text, "%.*s", (int)(n < 255 ? n : 255), l);
	if (code >= 200) {
		c->finals++;
	}
	if (code == 227 && (p = strchr(text, '(')) != NULL &&
	    sscanf(p, "(%u,%u,%u,%u,%u,%u)", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6) {
		c->pasv_port = (v[4] & 255) << 8 | (v[5] & 255);
		connect_to(c, c->pasv_port);
	} else if (code == 229 && (p = strstr(text, "(|||")) != NULL &&
	    sscanf(p, "(|||%u|)", &v[0]) == 1) {
		c->pasv_port = v[0];
		connect_to(c, v[0]);
	} else if (code == 200 && strstr(text, "RT command successful") != NULL) {
		c->pasv_port = 0;	/* the server closed its listener: active now */
	} else if (code == 150) {
		set_role(c, strstr(text, "Ok to send") != NULL ||
		    strncmp(text, "150 FILE:", 9) == 0 ? 1 : 2);
	}
}

/* Reply lines as they arrive: which reply ends, what it asks of us. */
static void
parse_replies(struct client *c, size_t *pos, unsigned *mline)
{
	for (;;) {
		char *l = c->replies.p + *pos;
		char *nl = memchr(l, '\n', c->replies.len - *pos);
		size_t n;
		int digits;

		if (nl == NULL) {
			return;
		}
		n = (size_t)(nl - l);
		*pos += n + 1;
		if (trace) {
			fprintf(report, "%lld < %.*s\n", now_ms() % 100000, (int)n, l);
		}
		if (n > 0 && l[n - 1] == '\r') {
			n--;
		}
		digits = n >= 4 && l[0] >= '1' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' &&
		    l[2] >= '0' && l[2] <= '9';
		if (*mline != 0) {
			if (digits && l[3] == ' ' &&
			    (unsigned)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0')) == *mline) {
				*mline = 0;
				final_reply(c, l, n);
			}
		} else if (digits && l[3] == '-') {
			*mline = (unsigned)((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
		} else if (digits && l[3] == ' ') {
			final_reply(c, l, n);
		} else {
			c->malformed = 1;
		}
	}
}

/* Send line i as the server is to see it: IAC doubled, '\n' after it. */
static void
send_line(struct client *c, const struct line *ln)
{
	char out[2 * INPUT_MAX + 64];
	size_t n = 0, len = ln->len;
	const char *p = ln->p;
	int cr = len > 0 && p[len - 1] == '\r';
	int port = len >= 4 && (strncasecmp(p, "PORT", 4) == 0 || strncasecmp(p, "EPRT", 4) == 0) &&
	    (len - cr == 4 || p[4] == ' ');

	if (port && (!own_net || (len - cr == 6 && p[5] == '*'))) {
		n = (size_t)(strncasecmp(p, "PORT", 4) == 0 ?
		    snprintf(out, 64, "PORT 127,0,0,1,%u,%u\r\n", c->lport >> 8, c->lport & 255) :
		    snprintf(out, 64, "EPRT |1|127.0.0.1|%u|\r\n", c->lport));
		write_all(c->fd, out, n);
		return;
	}
	if (trace) {
		fprintf(report, "%lld > %.*s\n", now_ms() % 100000, (int)len, p);
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)p[i] == 255) {
			out[n++] = (char)255;
		}
		out[n++] = p[i];
	}
	out[n++] = '\n';
	write_all(c->fd, out, n);
}

static void *
client_run(void *arg)
{
	struct client *c = arg;
	long long deadline = now_ms() + INPUT_WAIT_MS, line_deadline = 0;
	unsigned long long need = 0;
	size_t next = 0, pos = 0;
	unsigned mline = 0;
	int ctrl_open = 1, shut = 0;

	while (ctrl_open && now_ms() < deadline) {
		struct pollfd p[CONNS_MAX + 2];
		int map[CONNS_MAX + 2];
		size_t np = 0;
		char chunk[65536];

		/* the next lines, when the ones before are answered */
		while (next < c->nlines) {
			const struct line *ln = &c->lines[next];

			if (ln->len > 0 && ln->p[0] == '%') {
				size_t n = ln->len - 1 - (ln->len > 1 && ln->p[ln->len - 1] == '\r');

				c->payload.len = 0;
				buf_add(&c->payload, ln->p + 1, n);
				buf_add(&c->payload, "\n", 1);
				next++;
				continue;
			}
			if (ln->len > 0 && ln->p[0] == '&') {
				struct line rest = { ln->p + 1, ln->len - 1 };

				send_line(c, &rest);
				need++;
			} else if (c->finals >= need || now_ms() > line_deadline) {
				if (trace && c->finals < need) {
					fprintf(report, "---- no reply to line %zu: %.*s\n", next - 1,
					    (int)c->lines[next - 1].len, c->lines[next - 1].p);
				}
				send_line(c, ln);
				need = c->finals + 1;
			} else {
				break;
			}
			line_deadline = now_ms() + LINE_WAIT_MS;
			next++;
		}
		if (next == c->nlines && !shut && (c->finals >= need || now_ms() > line_deadline)) {
			shutdown(c->fd, SHUT_WR);	/* the session sees EOF */
			shut = 1;
		}
		p[np] = (struct pollfd){ .fd = c->listener, .events = POLLIN };
		map[np++] = -1;
		p[np] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		map[np++] = -2;
		for (size_t i = 0; i < c->nconns; i++) {
			struct conn *k = &c->conns[i];

			if (k->fd < 0) {
				continue;
			}
			p[np] = (struct pollfd){ .fd = k->fd, .events = POLLIN |
			    (k->role == 1 && k->sent < k->upload.len + 1 ? POLLOUT : 0) };
			map[np++] = (int)i;
		}
		if (poll(p, (nfds_t)np, 20) < 0 && errno != EINTR) {
			break;
		}
		/* a PORT connection first: its 150 may be in the same round */
		if (p[0].revents & POLLIN) {
			int fd = accept4(c->listener, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				add_conn(c, fd);
			}
		}
		for (size_t j = 2; j < np; j++) {
			struct conn *k = &c->conns[map[j]];

			if (p[j].revents & POLLOUT) {
				if (k->sent < k->upload.len) {
					ssize_t w = send(k->fd, k->upload.p + k->sent,
					    k->upload.len - k->sent, MSG_NOSIGNAL);

					if (w > 0) {
						k->sent += (size_t)w;
					} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
						k->sent = k->upload.len;
					}
				}
				if (k->sent == k->upload.len) {
					shutdown(k->fd, SHUT_WR);
					k->sent++;
				}
			}
			if (p[j].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t n = read(k->fd, chunk, sizeof chunk);

				if (n > 0) {
					buf_add(&k->in, chunk, (size_t)n);
				} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
					close(k->fd);
					k->fd = -1;
				}
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(c->fd, chunk, sizeof chunk);

			if (n > 0) {
				buf_add(&c->replies, chunk, (size_t)n);
				parse_replies(c, &pos, &mline);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				ctrl_open = 0;
			}
		}
	}
	/* the session is over: what is still in flight, then close */
	for (size_t i = 0; i < c->nconns; i++) {
		struct conn *k = &c->conns[i];
		char chunk[65536];
		ssize_t n;

		if (k->fd < 0) {
			continue;
		}
		while ((n = read(k->fd, chunk, sizeof chunk)) > 0) {
			buf_add(&k->in, chunk, (size_t)n);
		}
		no_time_wait(k->fd);
		close(k->fd);
		k->fd = -1;
	}
	no_time_wait(c->fd);
	close(c->fd);
	c->fd = -1;
	return NULL;
}

/* ---- oracles ---- */


static void
finding(const char *what, const char *detail, size_t dlen)
{
	fprintf(report, "fuzz_session: FINDING: %s\n", what);
	if (detail != NULL) {
		fprintf(report, "fuzz_session: in: ");
		for (size_t i = 0; i < dlen && i < 600; i++) {
			unsigned char ch = (unsigned char)detail[i];

			if (ch >= ' ' && ch < 127) {
				fputc(ch, report);
			} else {
				fprintf(report, "\\x%02x", ch);
			}
		}
		fputc('\n', report);
	}
	fflush(report);
	cleanup();	/* libFuzzer's crash path runs no atexit */
	__builtin_trap();
}

/* Where a marker is in p, or NULL. Neither traced nor a libc call that
 * libFuzzer intercepts: it must not learn the markers from their
 * comparisons and send them itself. */
__attribute__((no_sanitize("coverage")))
static const char *
find_marker(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < MARK_HEX && i + j < n && p[i + j] == marker[j]) {
			j++;
		}
		if (j == MARK_HEX) {
			return p + i;
		}
		for (j = 0; j < NAME_HEX && i + j < n && p[i + j] == namemark[j]; j++) {
			continue;
		}
		if (j == NAME_HEX) {
			return p + i;
		}
	}
	return NULL;
}

/* Where in b a marker is: what to show of it. */
static void
marker_finding(const char *what, const char *p, size_t n)
{
	const char *hit = find_marker(p, n);
	size_t at;

	at = hit != NULL ? (size_t)(hit - p) : 0;
	at = at > 300 ? at - 300 : 0;
	finding(what, p + at, n - at < 400 ? n - at : 400);
}

/* The markers, across the boundaries of the pieces a stream comes in. */
struct scan {
	char	  tail[MARK_HEX];
	size_t	  tl;
	int	  hit;
};

static void
scan(struct scan *sc, const char *p, size_t n)
{
	char joint[2 * MARK_HEX];
	size_t head = n < MARK_HEX ? n : MARK_HEX;

	if (find_marker(p, n) != NULL) {
		sc->hit = 1;
	}
	memcpy(joint, sc->tail, sc->tl);
	memcpy(joint + sc->tl, p, head);
	if (find_marker(joint, sc->tl + head) != NULL) {
		sc->hit = 1;
	}
	if (n >= MARK_HEX - 1) {
		memcpy(sc->tail, p + n - (MARK_HEX - 1), MARK_HEX - 1);
		sc->tl = MARK_HEX - 1;
	} else {
		size_t keep = sc->tl + n > MARK_HEX - 1 ? MARK_HEX - 1 - n : sc->tl;

		memmove(sc->tail, sc->tail + sc->tl - keep, keep);
		memcpy(sc->tail + keep, p, n);
		sc->tl = keep + n;
	}
}

/* A converted download, decoded: the names and contents of its entries. */
static int
archive_leaks(const char *p, size_t n)
{
	struct archive *a;
	struct archive_entry *e;
	struct scan sc = { .tl = 0 };
	static char chunk[65536];
	size_t total = 0;
	int is_tar = n > 262 && memcmp(p + 257, "ustar", 5) == 0;

	if (!(n > 3 && (memcmp(p, "\x1f\x8b", 2) == 0 || memcmp(p, "BZh", 3) == 0 ||
	    memcmp(p, "PK\003\004", 4) == 0)) && !is_tar) {
		return 0;
	}
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, p, n) == ARCHIVE_OK) {
		while (!sc.hit && total < DATA_MAX && archive_read_next_header(a, &e) == ARCHIVE_OK) {
			const char *name = archive_entry_pathname(e);
			const char *link = archive_entry_symlink(e);
			la_ssize_t got;

			if (name != NULL) {
				struct scan ns = { .tl = 0 };

				scan(&ns, name, strlen(name));
				sc.hit |= ns.hit;
			}
			(void)link;	/* link targets are shown in listings too */
			while (!sc.hit && total < DATA_MAX &&
			    (got = archive_read_data(a, chunk, sizeof chunk)) > 0) {
				scan(&sc, chunk, (size_t)got);
				total += (size_t)got;
			}
		}
	}
	archive_read_free(a);
	return sc.hit;
}

static void
check_stream(const char *what, const struct buf *b)
{
	struct scan sc = { .tl = 0 };

	if (b->len == 0) {
		return;
	}
	scan(&sc, b->p, b->len);
	if (sc.hit) {
		marker_finding(what, b->p, b->len);
	}
	if (archive_leaks(b->p, b->len)) {
		finding("a converted download holds a file from outside the root", NULL, 0);
	}
}

static void
check_replies(const struct client *c)
{
	const char *p = c->replies.p;
	size_t n = c->replies.len;

	for (size_t i = 0; i < n; i++) {
		if ((p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) ||
		    (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))) {
			size_t from = i > 200 ? i - 200 : 0;

			finding("bare CR or LF on the control connection", p + from,
			    (i + 40 < n ? i + 40 : n) - from);
		}
	}
	if (n > 0 && p[n - 1] != '\n') {
		finding("reply stream ends inside a line", p, n);
	}
	if (c->malformed) {
		finding("a reply line outside any reply (not NNN or NNN-)", p, n);
	}
}

static void
check_outside(void)
{
	static struct snap now[SNAP_MAX];
	size_t n = snapshot(now);

	if (n != nsnap0) {
		finding("entries beside the root were added or removed", NULL, 0);
	}
	for (size_t i = 0; i < n; i++) {
		const struct snap *a = &snap0[i], *b = &now[i];

		if (name_cmp(a->path, b->path) != 0 || a->mode != b->mode || a->size != b->size ||
		    a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec ||
		    a->sum != b->sum) {
			finding("a file beside the root changed", b->path, strlen(b->path));
		}
	}
}

/* ---- descriptors ---- */

#define FDS_MAX 1024
static void
open_fds(unsigned char open_[FDS_MAX])
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	memset(open_, 0, FDS_MAX);
	if (d == NULL) {
		abort();
	}
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd < FDS_MAX &&
		    fd != dirfd(d)) {
			open_[fd] = 1;
		}
	}
	closedir(d);
}

/* ---- the session ---- */

static struct config *cfg;
static struct account acct0;
static FILE *devnull;

static const char conf_text[] =
    "[server]\n"
    "banner = fuzz\n"
    "idle_timeout = 2\n"
    "data_timeout = 1\n"
    "passive_ports = 20000-29999\n"
    "active_mode = yes\n"
    "conversions = yes\n"
    "atomic_uploads = yes\n"
    "message_file = .message\n"
    "log = stderr\n"
    "deny_users_file = /nonexistent\n"
    "[user fuzz]\n"
    "password = fuzz\n"
    "root = %s\n"
    "allow_write = yes\n"
    "symlinks = contain\n"
    "umask = 022\n";

static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("fuzz_session: listen on 127.0.0.1");
		abort();
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char text[sizeof conf_text + 128];
	const char *reason = NULL;
	unsigned port;
	struct session s0;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	report = stderr;
	private_network();
	quiet = getenv("FUZZ_SESSION_LOG") == NULL;
	trace = getenv("FUZZ_SESSION_TRACE") != NULL;
	session_thread = pthread_self();
	strcpy(base, "/tmp/fuzzsess.XXXXXX");
	if (mkdtemp(base) == NULL) {
		perror("fuzz_session: mkdtemp");
		abort();
	}
	private_tmpfs();
	atexit(cleanup);
	snprintf(rootdir, sizeof rootdir, "%s/root", base);
	hex(marker, MARK_HEX);
	hex(namemark, NAME_HEX);
	make_outside();
	make_root(0);
	nsnap0 = snapshot(snap0);
	if (nsnap0 > SNAP_MAX) {
		abort();
	}
	snprintf(text, sizeof text, conf_text, rootdir);
	cfg = config_parse("fuzz.conf", text, 0);
	if (cfg->nerrors > 0) {
		for (size_t i = 0; i < cfg->nproblems; i++) {
			fprintf(stderr, "fuzz_session: %s\n", cfg->problems[i]);
		}
		abort();
	}
	log_open(cfg->srv.log, 0);
	log_set_client("127.0.0.1", 0);
	if (auth_check(cfg, "fuzz", "fuzz", &acct0, &reason) != AUTH_OK) {
		fprintf(stderr, "fuzz_session: login: %s\n", reason);
		abort();
	}
	acct0.change_identity = 0;	/* the fuzzer stays who it is */
	log_set_user(acct0.login);
	memset(&s0, 0, sizeof s0);
	s0.cfg = cfg;
	convert_prepare(&s0);		/* libarchive, once */
	devnull = fopen("/dev/null", "we");
	ctrl_listener = listen_loopback(&port);
	memset(&ctrl_addr, 0, sizeof ctrl_addr);
	ctrl_addr.sin_family = AF_INET;
	ctrl_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ctrl_addr.sin_port = htons((uint16_t)port);
	port_listener = listen_loopback(&port_port);
	fcntl(port_listener, F_SETFL, O_NONBLOCK);
	fcntl(ctrl_listener, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Connections a PORT of an input made to one of our listeners. */
static void
drain(int listener)
{
	for (int fd; (fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0;) {
		no_time_wait(fd);
		close(fd);
	}
}

/* The connection of cfd, not one a PORT made to this port meanwhile. */
static int
accept_from(int listener, int cfd)
{
	struct sockaddr_in me, peer;
	socklen_t len = sizeof me;

	if (getsockname(cfd, (struct sockaddr *)&me, &len) != 0) {
		return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p = { .fd = listener, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 5000) != 1) {
			return -1;
		}
		len = sizeof peer;
		fd = accept4(listener, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd >= 0 && peer.sin_port == me.sin_port) {
			return fd;
		}
		if (fd >= 0) {
			no_time_wait(fd);
			close(fd);
		}
	}
	return -1;
}

/* A network of its own, when we may: the session's PORT and EPRT then
 * reach nothing but this process. Else only our own listener. */
static void
private_network(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "fuzz_session: no network namespace (%s): PORT and EPRT "
		    "lines are pointed at our own listener\n", strerror(errno));
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) != 0) {
		perror("fuzz_session: loopback up in the new network namespace");
		abort();
	}
	close(fd);
	own_net = 1;
}

/* The tree on a tmpfs that only this process sees, when we may: making
 * and removing the root for every input costs a disk file system more
 * than the session itself (ext4 inode allocation). Else on /tmp. */
static void
private_tmpfs(void)
{
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("fuzzsess", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=0700") != 0) {
		fprintf(stderr, "fuzz_session: no private tmpfs (%s): the tree is on %s\n",
		    strerror(errno), base);
		return;
	}
	on_tmpfs = 1;
}

/* The input: options, then the lines the client sends. */
static size_t
split_lines(struct client *c, char *p, size_t n)
{
	int state = 0;

	n = telnet_strip(p, n, &state);
	for (size_t i = 0; i < n && c->nlines < LINES_MAX;) {
		char *nl = memchr(p + i, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - (p + i)) : n - i;

		c->lines[c->nlines++] = (struct line){ p + i, len };
		i += len + 1;
	}
	return n;
}

/* 1 when the session ended in exit(), as the process would */
static int
run_session(struct session *s)
{
	if (setjmp(session_end) == 0) {
		in_session = 1;
		session_run(s);
		in_session = 0;
		return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session s;
	static struct client c;
	static char input[INPUT_MAX];
	static unsigned char fds_before[FDS_MAX], fds_after[FDS_MAX];
	struct sockaddr_storage sa;
	socklen_t len;
	unsigned opt;
	int cfd, sfd, one = 1, ended_on_exit;
	mode_t old_umask;
	pthread_t th;
	FILE *saved_err = stderr;
	struct timeval tv = { 2, 0 };

	if (size == 0) {
		return 0;
	}
	opt = data[0];
	data++, size--;
	if (size > 0 && data[0] == '\n') {
		data++, size--;
	}
	if (size > sizeof input) {
		size = sizeof input;
	}
	memcpy(input, data, size);
	if (find_marker(input, size) != NULL) {
		return -1;	/* it knows the secret: not an attack to keep */
	}

	/* the tree, the account, the connection */
	make_root(opt & 1);
	open_fds(fds_before);
	cfg->srv.atomic_uploads = !(opt & 8);
	cfg->srv.conversions = !(opt & 16);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&ctrl_addr, sizeof ctrl_addr) != 0 ||
	    (sfd = accept_from(ctrl_listener, cfd)) < 0) {
		perror("fuzz_session: control connection");
		abort();
	}
	memset(&s, 0, sizeof s);
	s.cfg = cfg;
	s.ctrl.fd = sfd;
	s.ctrl.idle_timeout = cfg->srv.idle_timeout;
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(sfd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
	setsockopt(sfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	len = sizeof sa;
	getsockname(sfd, (struct sockaddr *)&sa, &len);
	s.local_sa = sa;
	s.dest_sa = sa;	/* what PASV offers: no balancer here */
	s.local_port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
	len = sizeof sa;
	getpeername(sfd, (struct sockaddr *)&sa, &len);
	s.peer_sa = sa;
	s.peer_port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
	strcpy(s.local_addr, "127.0.0.1");
	strcpy(s.peer_addr, "127.0.0.1");
	s.pasv_fd = -1;
	s.tls_chan = -1;
	s.mlst_facts = mlst_default_facts();
	/* finish_login's steps, without the identity change and the sandbox,
	 * which would confine the fuzzer itself */
	s.acct = acct0;
	s.acct.symlinks = opt & 1 ? SYMLINKS_FOLLOW : SYMLINKS_CONTAIN;
	s.acct.allow_write = opt & 4 ? WRITE_NO : opt & 2 ? WRITE_UPLOAD : WRITE_YES;
	if (vfs_open_root(&s.vfs, s.acct.root, s.acct.symlinks == SYMLINKS_CONTAIN) != 0) {
		perror("fuzz_session: vfs_open_root");
		abort();
	}
	old_umask = umask((mode_t)s.acct.umask);
	s.umask = s.acct.umask;
	strcpy(s.cwd, s.acct.home);
	data_prepare(&s);
	convert_prepare(&s);
	s.logged_in = 1;

	/* the client */
	memset(&c, 0, sizeof c);
	c.fd = cfd;
	c.listener = port_listener;
	c.lport = port_port;
	buf_add(&c.payload, "upload\r\ndata\n", 13);
	split_lines(&c, input, size);
	if (pthread_create(&th, NULL, client_run, &c) != 0) {
		abort();
	}
	if (quiet) {
		stderr = devnull;
	}
	ended_on_exit = run_session(&s);
	stderr = saved_err;
	shutdown(sfd, SHUT_WR);
	if (pthread_join(th, NULL) != 0) {
		abort();
	}

	/* what the session holds by design */
	data_reset(&s);
	close(s.vfs.rootfd);
	close(sfd);
	for (size_t i = 0; i < s.nshown; i++) {
		free(s.shown[i]);
	}
	umask(old_umask);
	drain(port_listener);
	drain(ctrl_listener);
	open_fds(fds_after);
	for (int fd = 0; fd < FDS_MAX; fd++) {
		if (fds_after[fd] && !fds_before[fd]) {
			if (!ended_on_exit) {
				char what[64];

				snprintf(what, sizeof what, "descriptor %d left open", fd);
				finding("the session leaked a descriptor", what, strlen(what));
			}
			close(fd);
		}
	}

	if (trace) {
		fprintf(report, "---- replies (%zu bytes, %zu data connections)\n%.*s",
		    c.replies.len, c.nconns, (int)c.replies.len, c.replies.p != NULL ? c.replies.p : "");
		for (size_t i = 0; i < c.nconns; i++) {
			fprintf(report, "---- data connection %zu (%u): %s, %zu bytes in, %zu of %zu out\n",
			    i, c.conns[i].port, c.conns[i].role == 1 ? "upload" : c.conns[i].role == 2 ? "download" :
			    "unused", c.conns[i].in.len, c.conns[i].sent, c.conns[i].upload.len);
		}
	}
	check_replies(&c);
	check_stream("a marker from outside the root on the control connection", &c.replies);
	for (size_t i = 0; i < c.nconns; i++) {
		check_stream("a marker from outside the root on a data connection", &c.conns[i].in);
		free(c.conns[i].in.p);
		free(c.conns[i].upload.p);
	}
	free(c.replies.p);
	free(c.payload.p);
	check_outside();
	return 0;
}
