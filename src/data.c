/* Data connections. Passive: the session's own listener inside
 * passive_ports, bound to the control connection's local address, that
 * accepts one connection and only from the control connection's peer.
 * Active: PORT/EPRT only to the client's own address, ports 1024 and up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

/* Every address as 16 bytes of IPv6 (IPv4 mapped), for comparisons. */
static void
canonical(const struct sockaddr_storage *ss, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

int
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	uint8_t x[16], y[16];

	canonical(a, x);
	canonical(b, y);
	return memcmp(x, y, 16) == 0;
}

static unsigned
port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	    ntohs(((const struct sockaddr_in *)ss)->sin_port) :
	    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	}
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
}

static void
host_string(const struct sockaddr_storage *ss, char *out, size_t size)
{
	uint8_t a[16];

	canonical(ss, a);
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		inet_ntop(AF_INET, a + 12, out, (socklen_t)size);
	} else {
		inet_ntop(AF_INET6, a, out, (socklen_t)size);
	}
}

/* The IPv4 address the client connected to (through a balancer: the
 * balancer's), if it has one. */
static int
local_ipv4(const struct session *s, uint8_t out[4])
{
	uint8_t a[16];

	canonical(&s->dest_sa, a);
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0) {
		return -1;
	}
	memcpy(out, a + 12, 4);
	return 0;
}

void
data_reset(struct session *s)
{
	if (s->pasv_fd >= 0) {
		close(s->pasv_fd);
		s->pasv_fd = -1;
	}
	s->have_port = 0;
}

static int pasv_address(struct session *, uint8_t out[4]);

/* A listener on a port of passive_ports, random start, next one when
 * taken. Returns the port, or 0 (after 425) when none can be had. */
static unsigned
open_listener(struct session *s)
{
	unsigned lo = s->cfg->srv.pasv_lo, hi = s->cfg->srv.pasv_hi;
	unsigned span = hi - lo + 1, start = 0;
	struct sockaddr_storage sa = s->local_sa;

	data_reset(s);
	if (getrandom(&start, sizeof start, 0) != sizeof start) {
		start = (unsigned)getpid();
	}
	for (unsigned i = 0; i < span; i++) {
		unsigned port = lo + (start + i) % span;
		int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0) {
			break;
		}
		int one = 1;

		/* a port whose last connection is in TIME_WAIT is free again */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		set_port(&sa, port);
		if (bind(fd, (struct sockaddr *)&sa, sa_len(&sa)) == 0 &&
		    listen(fd, 1) == 0) {
			s->pasv_fd = fd;
			return port;
		}
		close(fd);
		if (errno != EADDRINUSE && errno != EACCES) {
			break;
		}
	}
	reply(s, 425, "No passive port free in %u-%u", lo, hi);
	return 0;
}

/* The address a PASV reply names: [passive_addresses] (longest prefix
 * matching the client, then default), else passive_address, else the
 * control connection's local address. Chosen once per session, at login,
 * before the sandbox forbids name resolution. */
void
data_prepare(struct session *s)
{
	s->pasv_ip_set = pasv_address(s, s->pasv_ip) == 0;
}

static int
pasv_address(struct session *s, uint8_t out[4])
{
	const struct config *cfg = s->cfg;
	const struct pasv_rule *best = NULL;
	const char *target = cfg->srv.passive_address;
	struct addrinfo hints, *res = NULL;

	for (size_t i = 0; i < cfg->npasv; i++) {
		const struct pasv_rule *r = &cfg->pasv[i];

		if (!r->is_default && cidr_match(&r->net, (const struct sockaddr *)&s->peer_sa) &&
		    (best == NULL || best->is_default || r->net.prefix > best->net.prefix)) {
			best = r;
		} else if (r->is_default && best == NULL) {
			best = r;
		}
	}
	if (best != NULL) {
		target = best->target;
	}
	if (target == NULL) {
		return local_ipv4(s, out);
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(target, NULL, &hints, &res) != 0 || res == NULL) {
		log_msg(LOG_WARNING, "passive address '%s' does not resolve; using "
		    "the control connection's address", target);
		return local_ipv4(s, out);
	}
	memcpy(out, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	freeaddrinfo(res);
	return 0;
}

static int
refused_after_epsv_all(struct session *s, const char *verb)
{
	if (s->epsv_all) {
		reply(s, 503, "%s is not allowed after EPSV ALL", verb);
		return 1;
	}
	return 0;
}

void
cmd_pasv(struct session *s, char *arg)
{
	uint8_t a[4];
	unsigned port;

	(void)arg;
	if (refused_after_epsv_all(s, "PASV")) {
		return;
	}
	if (local_ipv4(s, a) != 0) {
		reply(s, 522, "PASV needs IPv4; use EPSV");
		return;
	}
	if ((port = open_listener(s)) == 0) {
		return;
	}
	if (!s->pasv_ip_set) {
		data_reset(s);
		reply(s, 425, "No IPv4 address to offer for PASV; use EPSV");
		return;
	}
	memcpy(a, s->pasv_ip, sizeof a);
	reply(s, 227, "Entering Passive Mode (%u,%u,%u,%u,%u,%u).", a[0], a[1],
	    a[2], a[3], port >> 8, port & 0xff);
}

void
cmd_epsv(struct session *s, char *arg)
{
	uint8_t a4[4];
	int fam = local_ipv4(s, a4) == 0 ? 1 : 2;	/* RFC 2428 protocol */
	unsigned port;

	if (arg != NULL && strcasecmp(arg, "ALL") == 0) {
		s->epsv_all = 1;
		data_reset(s);	/* no PORT set up before it may be used */
		reply(s, 200, "EPSV ALL ok");
		return;
	}
	if (arg != NULL && strcmp(arg, fam == 1 ? "1" : "2") != 0) {
		reply(s, strcmp(arg, "1") == 0 || strcmp(arg, "2") == 0 ? 522 : 501,
		    "Network protocol not supported, use (%d)", fam);
		return;
	}
	if ((port = open_listener(s)) == 0) {
		return;
	}
	reply(s, 229, "Entering Extended Passive Mode (|||%u|)", port);
}

/* h1,h2,h3,h4,p1,p2 */
int
parse_port_arg(const char *arg, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	unsigned v[6];
	const char *p = arg;

	for (int i = 0; i < 6; i++) {
		char *end;
		unsigned long n;

		if (*p < '0' || *p > '9') {
			return -1;
		}
		n = strtoul(p, &end, 10);
		if (n > 255 || end - p > 3 || (i < 5 && *end != ',') ||
		    (i == 5 && *end != '\0')) {
			return -1;
		}
		v[i] = (unsigned)n;
		p = end + (i < 5);
	}
	memset(out, 0, sizeof *out);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
	sin->sin_port = htons((uint16_t)(v[4] << 8 | v[5]));
	return 0;
}

/* |proto|address|port| with any delimiter from 33 to 126 (RFC 2428) */
int
parse_eprt_arg(const char *arg, struct sockaddr_storage *out)
{
	char d = arg[0], addr[INET6_ADDRSTRLEN], *end;
	const char *f[4];
	unsigned long port;
	size_t n;

	if (d < 33 || d > 126) {
		return -1;
	}
	f[0] = arg + 1;
	for (int i = 1; i < 4; i++) {
		f[i] = strchr(f[i - 1], d);
		if (f[i] == NULL) {
			return -1;
		}
		f[i]++;
	}
	if (*f[3] != '\0') {
		return -1;
	}
	memset(out, 0, sizeof *out);
	n = (size_t)(f[2] - f[1] - 1);
	if (n == 0 || n >= sizeof addr) {
		return -1;
	}
	memcpy(addr, f[1], n);
	addr[n] = '\0';
	if (f[2][0] < '0' || f[2][0] > '9') {
		return -1;
	}
	port = strtoul(f[2], &end, 10);
	if (*end != d || port == 0 || port > 65535) {
		return -1;
	}
	if (f[0][0] == '1' && f[0][1] == d) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : -1;
	}
	if (f[0][0] == '2' && f[0][1] == d) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	return -2;	/* a protocol we do not speak */
}

/* PORT/EPRT: the client's own address and an unprivileged port only,
 * so the server can never be bounced to a third party. */
static void
active(struct session *s, const char *verb, int rc, struct sockaddr_storage *sa)
{
	char host[INET6_ADDRSTRLEN];

	if (refused_after_epsv_all(s, verb)) {
		return;
	}
	if (!s->cfg->srv.active_mode) {
		reply(s, 502, "Active mode is off on this server; use PASV or EPSV");
		return;
	}
	if (rc == -2) {
		reply(s, 522, "Network protocol not supported, use (1,2)");
		return;
	}
	if (rc != 0) {
		reply(s, 501, "Syntax error in %s argument", verb);
		return;
	}
	host_string(sa, host, sizeof host);
	if (!same_host(sa, &s->peer_sa) || port_of(sa) < 1024) {
		log_msg(LOG_WARNING, "%s to %s port %u refused (bounce attempt: "
		    "not the client's address or a privileged port)", verb, host,
		    port_of(sa));
		reply(s, 500, "Illegal %s command: only your own address and ports "
		    "from 1024", verb);
		return;
	}
	data_reset(s);
	s->port_sa = *sa;
	if (sa->ss_family != s->peer_sa.ss_family) {
		/* an IPv4 EPRT/PORT on an IPv4-mapped control connection */
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)&s->port_sa;
		uint8_t a[16];
		unsigned port = port_of(sa);

		canonical(sa, a);
		memset(&s->port_sa, 0, sizeof s->port_sa);
		m->sin6_family = AF_INET6;
		memcpy(&m->sin6_addr, a, 16);
		m->sin6_port = htons((uint16_t)port);
	}
	s->have_port = 1;
	reply(s, 200, "%s command successful", verb);
}

void
cmd_port(struct session *s, char *arg)
{
	struct sockaddr_storage sa;

	active(s, "PORT", parse_port_arg(arg, &sa), &sa);
}

void
cmd_eprt(struct session *s, char *arg)
{
	struct sockaddr_storage sa;

	active(s, "EPRT", parse_eprt_arg(arg, &sa), &sa);
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* A data connection from a balancer: served when its header names the
 * session's client. */
static int
proxied_peer(struct session *s, int fd, const struct sockaddr_storage *from)
{
	struct proxy_header h;
	const char *why = NULL;
	char host[INET6_ADDRSTRLEN], named[INET6_ADDRSTRLEN];

	host_string(from, host, sizeof host);
	if (proxy_read(fd, (unsigned)s->cfg->srv.proxy_protocol, &h, &why) != 0 ||
	    h.local) {
		log_msg(LOG_WARNING, "passive data connection through %s refused: %s",
		    host, why != NULL ? why : "no client named");
		return -1;
	}
	if (!same_host(&h.src, &s->peer_sa)) {
		host_string(&h.src, named, sizeof named);
		log_msg(LOG_WARNING, "passive data connection through %s refused: "
		    "its PROXY header names %s, not the control connection's client",
		    host, named);
		return -1;
	}
	return 0;
}

static int
accept_peer(struct session *s)
{
	struct timespec deadline;
	char host[INET6_ADDRSTRLEN];

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->cfg->srv.data_timeout;
	for (;;) {
		struct pollfd pfd = { .fd = s->pasv_fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t len = sizeof from;
		long left = ms_left(&deadline);
		int fd;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			return -1;
		}
		fd = accept4(s->pasv_fd, (struct sockaddr *)&from, &len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) {
				continue;
			}
			return -1;
		}
		if (s->cfg->srv.proxy_protocol != 0 &&
		    config_proxy_trusted(s->cfg, &from)) {
			if (proxied_peer(s, fd, &from) == 0) {
				return fd;
			}
		} else if (same_host(&from, &s->peer_sa)) {
			return fd;
		} else {
			host_string(&from, host, sizeof host);
			log_msg(LOG_WARNING, "passive data connection from %s refused: "
			    "not the control connection's address", host);
		}
		close(fd);
	}
}

static int
connect_client(struct session *s)
{
	struct sockaddr_storage from = s->local_sa;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t len = sizeof err;

	fd = socket(s->port_sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	/* from the address the client talks to, any port */
	set_port(&from, 0);
	if (from.ss_family == s->port_sa.ss_family) {
		bind(fd, (struct sockaddr *)&from, sa_len(&from));
	}
	if (connect(fd, (struct sockaddr *)&s->port_sa, sa_len(&s->port_sa)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, (int)s->cfg->srv.data_timeout * 1000) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
data_connect(struct session *s)
{
	int fd = -1;

	if (!s->prot_p && tls_required(s->cfg, s->acct.login) == REQ_ALL) {
		data_reset(s);
		reply(s, 521, "Data connections must be protected (PROT P)");
		return -1;
	}
	if (s->pasv_fd >= 0) {
		fd = accept_peer(s);
	} else if (s->have_port) {
		fd = connect_client(s);
	} else {
		reply(s, 425, "Use PORT, EPRT, PASV or EPSV first");
		return -1;
	}
	data_reset(s);
	if (fd < 0) {
		reply(s, 425, "Cannot open data connection");
	}
	return fd;
}

/* After the 150: under PROT P the relay makes the TLS handshake, and
 * *dfd becomes its plaintext side. -1 (answered, *dfd closed) when the
 * client did not resume the control connection's session. */
int
data_protect(struct session *s, int *dfd)
{
	if (!s->prot_p) {
		return 0;
	}
	if (tls_data_wrap(s, dfd) != 0) {
		if (*dfd >= 0) {
			close(*dfd);
			*dfd = -1;
		}
		reply(s, 522, "Data connection must resume the control connection's "
		    "TLS session");
		return -1;
	}
	return 0;
}

/* Close a data connection; -1 when a protected one did not end with a
 * clean TLS close_notify (a truncated upload, a failed download). */
int
data_close(struct session *s, int dfd)
{
	if (dfd >= 0) {
		close(dfd);
	}
	return tls_data_end(s);
}
