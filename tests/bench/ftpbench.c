/* ftpbench: the load generator of `make bench`. Plain sockets, anonymous
 * FTP, every transfer's size and content checked, so that a fast wrong
 * server cannot win.
 *
 *   ftpbench sessions PORT CONC SECONDS PATH SIZE SUM
 *       CONC clients for SECONDS, each repeating a whole session (login,
 *       EPSV, RETR PATH, QUIT); prints "sessions N p50_us p99_us"
 *   ftpbench retr PORT PATH SIZE SUM [N]
 *       N (default 1) parallel downloads; prints "bytes B seconds S"
 *   ftpbench retr-tls PORT PATH SIZE SUM
 *       the same over explicit FTPS (AUTH TLS, PROT P), the data
 *       connection resuming the control connection's TLS session
 *   ftpbench stor PORT PATH SIZE
 *       uploads SIZE bytes of the bench pattern; prints "bytes B seconds S"
 *   ftpbench ceiling retr-sendfile|retr-rw PATH SIZE SUM N
 *   ftpbench ceiling stor PATH SIZE 1
 *   ftpbench ceiling retr-tls PATH SIZE SUM 1 PEM
 *       (retr-tls: TLS with the certificate and key in PEM, 256 KiB
 *       pread and SSL_write, as cellftpd's TLS process encrypts)
 *       no FTP server: N pairs of threads in this process move the data
 *       over loopback TCP as an ideal server would (sendfile of PATH, or
 *       256 KiB pread/write; for stor, 256 KiB reads written to PATH.i),
 *       the other ends checked as in retr and stor: the most any server
 *       can reach with this client on this machine
 *   ftpbench idle PORT N SECONDS
 *       N logged-in sessions held for SECONDS; "ready" once all are in
 *   ftpbench sum FILE
 *       the checksum of a file, and ftpbench make FILE SIZE writes one
 *   ftpbench reap CMD...
 *       runs CMD as a child subreaper until SIGTERM, then prints the CPU
 *       (user and system microseconds) of CMD and all its descendants
 *
 * With FTPBENCH_PROXY=v2 in the environment every connection (control
 * and data) starts with a PROXY v2 header, as a balancer would send it,
 * naming 127.0.0.2 as the client.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (1024 * 1024)
#define MAX_SAMPLES 2000000

static SSL_CTX *tls;		/* set for retr-tls: every connection is FTPS */

static void
die(const char *what)
{
	fprintf(stderr, "ftpbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The bench pattern: byte i is a cheap function of i. */
static void
pattern(unsigned char *b, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = off + i;

		b[i] = (unsigned char)((x * 2654435761u) >> 13 ^ x >> 7);
	}
}

/* Position-dependent checksum over 32-byte blocks in four independent
 * lanes (fast enough not to be what a transfer waits for: one lane ran
 * at about 3 GB/s, below what a local transfer reaches): reordered or
 * wrong bytes change it. Bytes short of a block wait in carry, so chunk
 * boundaries do not matter. */
struct sum {
	uint64_t h[4], n;
	unsigned char carry[32];
	unsigned ncarry;
};

static void
sum_block(struct sum *s, const unsigned char *b)
{
	for (int i = 0; i < 4; i++) {
		uint64_t w;

		memcpy(&w, b + 8 * i, 8);
		s->h[i] = (s->h[i] ^ (w + s->n)) * 0x100000001b3ULL;
		s->h[i] ^= s->h[i] >> 29;
	}
	s->n += 32;
}

static void
sum_add(struct sum *s, const unsigned char *b, size_t n)
{
	while (s->ncarry > 0 && s->ncarry < 32 && n > 0) {
		s->carry[s->ncarry++] = *b++;
		n--;
	}
	if (s->ncarry == 32) {
		sum_block(s, s->carry);
		s->ncarry = 0;
	}
	for (; n >= 32; b += 32, n -= 32) {
		sum_block(s, b);
	}
	memcpy(s->carry, b, n);
	s->ncarry = (unsigned)n;
}

/* the value: the blocks, then what is left, then the length */
static uint64_t
sum_end(struct sum *s)
{
	unsigned char last[32] = { 0 };
	uint64_t total = s->n + s->ncarry, h = total;

	memcpy(last, s->carry, s->ncarry);
	sum_block(s, last);
	for (int i = 0; i < 4; i++) {
		h = (h ^ s->h[i]) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	s->n = total;
	return h;
}

struct conn {
	int	fd;
	SSL	*ssl;		/* once AUTH TLS is through */
	char	in[1024];	/* what was read and not yet taken */
	size_t	nin;
};

static ssize_t
conn_read(struct conn *c, void *b, size_t n)
{
	return c->ssl != NULL ? SSL_read(c->ssl, b, (int)n) : read(c->fd, b, n);
}

/* one line of a reply, with its CRLF */
static int
getline_conn(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->nin);
		ssize_t n;

		if (nl != NULL || c->nin == sizeof c->in) {
			size_t len = nl != NULL ? (size_t)(nl - c->in) + 1 : c->nin;

			snprintf(line, size, "%.*s", (int)len, c->in);
			memmove(c->in, c->in + len, c->nin - len);
			c->nin -= len;
			return 0;
		}
		if ((n = conn_read(c, c->in + c->nin, sizeof c->in - c->nin)) <= 0) {
			return -1;
		}
		c->nin += (size_t)n;
	}
}

static int
dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		die("connect");
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (getenv("FTPBENCH_PROXY") != NULL) {
		/* signature, v2 PROXY, TCP over IPv4, 12 bytes of addresses:
		 * 127.0.0.2:40000 to 127.0.0.1:port */
		unsigned char h[28] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
			0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
			127, 0, 0, 2, 127, 0, 0, 1, 0x9c, 0x40 };

		h[26] = (unsigned char)(port >> 8);
		h[27] = (unsigned char)port;
		if (write(fd, h, sizeof h) != (ssize_t)sizeof h) {
			die("write");
		}
	}
	return fd;
}

/* The reply's code; multi-line replies are read to their end. */
static int
reply(struct conn *c, char *text, size_t size)
{
	char line[1024];
	int code;

	if (getline_conn(c, line, sizeof line) != 0) {
		return -1;
	}
	code = atoi(line);
	if (line[3] == '-') {
		char end[5];

		snprintf(end, sizeof end, "%.3s ", line);
		while (getline_conn(c, line, sizeof line) == 0 && strncmp(line, end, 4) != 0) {
			continue;
		}
	}
	if (text != NULL) {
		snprintf(text, size, "%s", line);
	}
	return code;
}

static int
cmd(struct conn *c, const char *line, char *text, size_t size)
{
	char buf[1100];
	int n = snprintf(buf, sizeof buf, "%s\r\n", line);

	if ((c->ssl != NULL ? SSL_write(c->ssl, buf, n) : write(c->fd, buf, (size_t)n)) != n) {
		return -1;
	}
	return reply(c, text, size);
}

static int
login(struct conn *c, int port)
{
	int code;

	c->fd = dial(port);
	c->ssl = NULL;
	c->nin = 0;
	if (reply(c, NULL, 0) != 220) {
		fprintf(stderr, "ftpbench: no greeting\n");
		return -1;
	}
	if (tls != NULL && (cmd(c, "AUTH TLS", NULL, 0) != 234 ||
	    (c->ssl = SSL_new(tls)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_connect(c->ssl) != 1)) {
		fprintf(stderr, "ftpbench: AUTH TLS failed\n");
		return -1;
	}
	/* 230 at once where the server wants no anonymous password */
	if ((code = cmd(c, "USER anonymous", NULL, 0)) < 0 ||
	    (code == 331 && (code = cmd(c, "PASS bench@example.org", NULL, 0)) < 0) ||
	    code != 230 || cmd(c, "TYPE I", NULL, 0) != 200 ||
	    (tls != NULL && (cmd(c, "PBSZ 0", NULL, 0) != 200 ||
	    cmd(c, "PROT P", NULL, 0) != 200))) {
		fprintf(stderr, "ftpbench: login failed\n");
		return -1;
	}
	return 0;
}

static void
hangup(struct conn *c)
{
	cmd(c, "QUIT", NULL, 0);
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
	}
	close(c->fd);
}

static int
epsv(struct conn *c, int port)
{
	char text[1024], *p;

	if (cmd(c, "EPSV", text, sizeof text) != 229 || (p = strstr(text, "(|||")) == NULL) {
		return -1;
	}
	(void)port;
	return dial(atoi(p + 4));
}

/* RETR path into a checksum; 0 when size and sum are as expected. */
static int
retr(struct conn *c, int port, const char *path, uint64_t size, uint64_t want)
{
	static __thread unsigned char *buf;
	char line[1100];
	struct sum s = { .h = { 0xcbf29ce484222325ULL, 1, 2, 3 } };
	uint64_t got;
	ssize_t n;
	int d = epsv(c, port), clean = 1;
	SSL *ds = NULL;

	if (buf == NULL && (buf = malloc(BUF)) == NULL) {
		die("malloc");
	}
	snprintf(line, sizeof line, "RETR %s", path);
	if (d < 0 || cmd(c, line, NULL, 0) != 150) {
		return -1;
	}
	if (c->ssl != NULL) {
		/* the data connection resumes the control connection's session */
		SSL_SESSION *sess = SSL_get1_session(c->ssl);

		if ((ds = SSL_new(tls)) == NULL || SSL_set_fd(ds, d) != 1 ||
		    SSL_set_session(ds, sess) != 1 || SSL_connect(ds) != 1) {
			fprintf(stderr, "ftpbench: TLS on the data connection failed\n");
			return -1;
		}
		SSL_SESSION_free(sess);
		while ((n = SSL_read(ds, buf, BUF)) > 0) {
			sum_add(&s, buf, (size_t)n);
		}
		/* a whole file ends with the server's close_notify */
		clean = SSL_get_error(ds, (int)n) == SSL_ERROR_ZERO_RETURN;
		SSL_shutdown(ds);
		SSL_free(ds);
	} else {
		while ((n = read(d, buf, BUF)) > 0) {
			sum_add(&s, buf, (size_t)n);
		}
	}
	close(d);
	got = sum_end(&s);
	if (reply(c, NULL, 0) != 226 || s.n != size || got != want || !clean) {
		fprintf(stderr, "ftpbench: %s: %llu bytes, sum %016llx (want %llu, %016llx)\n",
		    path, (unsigned long long)s.n, (unsigned long long)got,
		    (unsigned long long)size, (unsigned long long)want);
		return -1;
	}
	return 0;
}

struct job {
	int		 port;
	const char	*path;
	uint64_t	 size, sum;
	double		 until;
	long		*lat;		/* microseconds */
	size_t		 nlat, cap;
	int		 failed;
};

static void *
sessions_worker(void *arg)
{
	struct job *j = arg;

	while (now() < j->until) {
		double t = now();
		struct conn c;

		if (login(&c, j->port) != 0 || retr(&c, j->port, j->path, j->size, j->sum) != 0) {
			j->failed = 1;
			return NULL;
		}
		hangup(&c);
		if (j->nlat < j->cap) {
			j->lat[j->nlat++] = (long)((now() - t) * 1e6);
		}
	}
	return NULL;
}

static int
by_value(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int
run_sessions(int port, int conc, double secs, const char *path, uint64_t size, uint64_t sum)
{
	struct job *j = calloc((size_t)conc, sizeof *j);
	pthread_t *t = calloc((size_t)conc, sizeof *t);
	long *all;
	size_t n = 0;
	double start = now();

	for (int i = 0; i < conc; i++) {
		j[i] = (struct job){ port, path, size, sum, start + secs, NULL, 0,
		    MAX_SAMPLES / (size_t)conc, 0 };
		j[i].lat = malloc(j[i].cap * sizeof *j[i].lat);
		pthread_create(&t[i], NULL, sessions_worker, &j[i]);
	}
	for (int i = 0; i < conc; i++) {
		pthread_join(t[i], NULL);
		if (j[i].failed) {
			return 1;
		}
		n += j[i].nlat;
	}
	all = malloc((n + 1) * sizeof *all);
	n = 0;
	for (int i = 0; i < conc; i++) {
		memcpy(all + n, j[i].lat, j[i].nlat * sizeof *all);
		n += j[i].nlat;
	}
	qsort(all, n, sizeof *all, by_value);
	printf("sessions %zu seconds %.3f p50_us %ld p99_us %ld\n", n, now() - start,
	    n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0);
	return 0;
}

struct pjob {
	int port;
	const char *path;
	uint64_t size, sum;
	int failed;
};

static void *
retr_worker(void *arg)
{
	struct pjob *p = arg;
	struct conn c;

	if (login(&c, p->port) != 0 || retr(&c, p->port, p->path, p->size, p->sum) != 0) {
		p->failed = 1;
		return NULL;
	}
	hangup(&c);
	return NULL;
}

static int
run_retr(int port, const char *path, uint64_t size, uint64_t sum, int par)
{
	pthread_t t[64];
	struct pjob p[64];
	double start = now();

	for (int i = 0; i < par && i < 64; i++) {
		p[i] = (struct pjob){ port, path, size, sum, 0 };
		pthread_create(&t[i], NULL, retr_worker, &p[i]);
	}
	for (int i = 0; i < par && i < 64; i++) {
		pthread_join(t[i], NULL);
		if (p[i].failed) {
			return 1;
		}
	}
	printf("bytes %llu seconds %.3f\n", (unsigned long long)size * (unsigned)par,
	    now() - start);
	return 0;
}

static int
run_stor(int port, const char *path, uint64_t size)
{
	/* the whole upload is made before the clock starts: making it as it
	 * goes ran at 1.2 GB/s, slower than the servers take it */
	unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
	char line[1100];
	struct conn c;
	uint64_t off = 0;
	double start;
	int d;

	if (data == NULL) {
		die("malloc");
	}
	pattern(data, (size_t)size, 0);
	if (login(&c, port) != 0 || (d = epsv(&c, port)) < 0) {
		return 1;
	}
	snprintf(line, sizeof line, "STOR %s", path);
	start = now();
	if (cmd(&c, line, NULL, 0) != 150) {
		return 1;
	}
	while (off < size) {
		size_t n = size - off < BUF ? (size_t)(size - off) : BUF;

		if (write(d, data + off, n) != (ssize_t)n) {
			die("write");
		}
		off += n;
	}
	close(d);
	if (reply(&c, NULL, 0) != 226) {
		return 1;
	}
	printf("bytes %llu seconds %.3f\n", (unsigned long long)size, now() - start);
	hangup(&c);
	free(data);
	return 0;
}

/* ---- ceiling: the ideal server's side, in threads ---- */

#define IDEAL_BUF (256 * 1024)

static SSL_CTX *ideal_tls;	/* retr-tls: the ideal server's side */

struct ideal {
	int		 lfd;		/* the listener, shared */
	const char	*kind, *path;
	uint64_t	 size, sum;
	unsigned char	*up;		/* stor: the upload, made beforehand */
	int		 index, failed;
};

static void *
ideal_server(void *arg)
{
	struct ideal *j = arg;
	int c = accept(j->lfd, NULL, NULL), fd = -1;
	unsigned char *buf = malloc(IDEAL_BUF);
	char name[4096];
	uint64_t done = 0;
	ssize_t n = 0;

	if (strcmp(j->kind, "stor") == 0) {
		snprintf(name, sizeof name, "%s.%d", j->path, j->index);
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		while (fd >= 0 && (n = read(c, buf, IDEAL_BUF)) > 0 &&
		    write(fd, buf, (size_t)n) == n) {
			done += (uint64_t)n;
		}
		j->failed = fd < 0 || close(fd) != 0 || done != j->size;
	} else if (strcmp(j->kind, "retr-tls") == 0) {
		SSL *ssl = SSL_new(ideal_tls);
		off_t off = 0;

		fd = open(j->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && ssl != NULL && SSL_set_fd(ssl, c) == 1 && SSL_accept(ssl) == 1) {
			while ((n = pread(fd, buf, IDEAL_BUF, off)) > 0 &&
			    SSL_write(ssl, buf, (int)n) == n) {
				off += n;
			}
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	} else if ((fd = open(j->path, O_RDONLY | O_CLOEXEC)) >= 0) {
		off_t off = 0;

		while (strcmp(j->kind, "retr-sendfile") == 0 ?
		    (n = sendfile(c, fd, &off, 4 << 20)) > 0 :
		    (n = pread(fd, buf, IDEAL_BUF, off)) > 0 && write(c, buf, (size_t)n) == n) {
			off += strcmp(j->kind, "retr-sendfile") == 0 ? 0 : n;
		}
		close(fd);
	}
	close(c);
	free(buf);
	return NULL;
}

static void *
ideal_client(void *arg)
{
	struct ideal *j = arg;
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd;

	getsockname(j->lfd, (struct sockaddr *)&a, &len);
	fd = dial(ntohs(a.sin_port));
	if (j->up != NULL) {
		for (uint64_t off = 0; off < j->size;) {
			size_t n = j->size - off < BUF ? (size_t)(j->size - off) : BUF;

			if (write(fd, j->up + off, n) != (ssize_t)n) {
				die("write");
			}
			off += n;
		}
	} else {
		static __thread unsigned char *buf;
		struct sum s = { .h = { 0xcbf29ce484222325ULL, 1, 2, 3 } };
		ssize_t n;

		SSL *ssl = NULL;

		if (buf == NULL && (buf = malloc(BUF)) == NULL) {
			die("malloc");
		}
		if (ideal_tls != NULL && ((ssl = SSL_new(tls)) == NULL ||
		    SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1)) {
			die("TLS handshake");
		}
		while ((n = ssl != NULL ? SSL_read(ssl, buf, BUF) : read(fd, buf, BUF)) > 0) {
			sum_add(&s, buf, (size_t)n);
		}
		j->failed = sum_end(&s) != j->sum || s.n != j->size;
		SSL_free(ssl);
	}
	close(fd);
	return NULL;
}

static int
run_ceiling(const char *kind, const char *path, uint64_t size, uint64_t sum, int par)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	pthread_t ts[64], tc[64];
	struct ideal j[64];
	unsigned char *up = NULL;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), failed = 0;
	double start, elapsed;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0) {
		die("listen");
	}
	if (strcmp(kind, "stor") == 0) {
		if ((up = malloc(size > 0 ? (size_t)size : 1)) == NULL) {
			die("malloc");
		}
		pattern(up, (size_t)size, 0);
	}
	par = par < 1 ? 1 : par > 64 ? 64 : par;
	start = now();
	for (int i = 0; i < par; i++) {
		j[i] = (struct ideal){ lfd, kind, path, size, sum, up, i, 0 };
		pthread_create(&ts[i], NULL, ideal_server, &j[i]);
		pthread_create(&tc[i], NULL, ideal_client, &j[i]);
	}
	for (int i = 0; i < par; i++) {
		pthread_join(tc[i], NULL);
		pthread_join(ts[i], NULL);
		failed |= j[i].failed;
	}
	elapsed = now() - start;
	for (int i = 0; up != NULL && i < par; i++) {
		char name[4096];

		snprintf(name, sizeof name, "%s.%d", path, i);
		unlink(name);	/* after the clock, as the bench removes uploads */
	}
	if (failed) {
		fprintf(stderr, "ftpbench: ceiling %s: wrong size or content\n", kind);
		return 1;
	}
	printf("bytes %llu seconds %.3f\n", (unsigned long long)size * (unsigned)par,
	    elapsed);
	free(up);
	return 0;
}

static int
run_idle(int port, int n, int secs)
{
	struct conn *c = calloc((size_t)n, sizeof *c);

	for (int i = 0; i < n; i++) {
		if (login(&c[i], port) != 0) {
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned)secs);
	for (int i = 0; i < n; i++) {
		hangup(&c[i]);
	}
	return 0;
}

static int
file_sum(const char *file)
{
	unsigned char *buf = malloc(BUF);
	struct sum s = { .h = { 0xcbf29ce484222325ULL, 1, 2, 3 } };
	int fd = open(file, O_RDONLY);
	uint64_t h;
	ssize_t n;

	if (fd < 0) {
		die(file);
	}
	while ((n = read(fd, buf, BUF)) > 0) {
		sum_add(&s, buf, (size_t)n);
	}
	h = sum_end(&s);
	printf("%llu %016llx\n", (unsigned long long)s.n, (unsigned long long)h);
	return 0;
}

static int
make_file(const char *file, uint64_t size)
{
	unsigned char *buf = malloc(BUF);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		die(file);
	}
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < BUF ? (size_t)(size - off) : BUF;

		pattern(buf, n, off);
		if (write(fd, buf, n) != (ssize_t)n) {
			die("write");
		}
		off += n;
	}
	return close(fd) == 0 ? 0 : 1;
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* A child subreaper: every descendant, orphaned or not, is reaped here,
 * so RUSAGE_CHILDREN holds the CPU of all of them. */
static int
reap(char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct rusage ru;
	pid_t child;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((child = fork()) == 0) {
		execvp(argv[0], argv);
		die(argv[0]);
	}
	while (!stop) {
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD) {
			break;
		}
	}
	kill(child, SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
		continue;
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(stderr, "cpu_us %lld %lld\n",
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	    (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 8 && strcmp(argv[1], "sessions") == 0) {
		return run_sessions(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), argv[5],
		    strtoull(argv[6], NULL, 10), strtoull(argv[7], NULL, 16));
	}
	if (argc == 6 && strcmp(argv[1], "retr-tls") == 0) {
		/* the bench's own throw-away certificate: not verified */
		if ((tls = SSL_CTX_new(TLS_client_method())) == NULL) {
			die("SSL_CTX_new");
		}
		return run_retr(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 10),
		    strtoull(argv[5], NULL, 16), 1);
	}
	if (argc >= 6 && strcmp(argv[1], "retr") == 0) {
		return run_retr(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 10),
		    strtoull(argv[5], NULL, 16), argc > 6 ? atoi(argv[6]) : 1);
	}
	if (argc == 5 && strcmp(argv[1], "stor") == 0) {
		return run_stor(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 10));
	}
	if (argc == 8 && strcmp(argv[1], "ceiling") == 0 && strcmp(argv[2], "retr-tls") == 0) {
		if ((tls = SSL_CTX_new(TLS_client_method())) == NULL ||
		    (ideal_tls = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_use_certificate_chain_file(ideal_tls, argv[7]) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ideal_tls, argv[7], SSL_FILETYPE_PEM) != 1) {
			die(argv[7]);
		}
		return run_ceiling(argv[2], argv[3], strtoull(argv[4], NULL, 10),
		    strtoull(argv[5], NULL, 16), atoi(argv[6]));
	}
	if (argc == 7 && strcmp(argv[1], "ceiling") == 0) {
		return run_ceiling(argv[2], argv[3], strtoull(argv[4], NULL, 10),
		    strtoull(argv[5], NULL, 16), atoi(argv[6]));
	}
	if (argc == 5 && strcmp(argv[1], "idle") == 0) {
		return run_idle(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	}
	if (argc == 3 && strcmp(argv[1], "sum") == 0) {
		return file_sum(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "make") == 0) {
		return make_file(argv[2], strtoull(argv[3], NULL, 10));
	}
	if (argc >= 3 && strcmp(argv[1], "reap") == 0) {
		return reap(argv + 2);
	}
	fprintf(stderr, "usage: see the comment at the top of tests/bench/ftpbench.c\n");
	return 2;
}
