/* The PROXY protocol, versions 1 and 2 (HAProxy's proxy-protocol.txt):
 * the header a load balancer sends first on a connection it made for a
 * client, naming that client. proxy_parse() only looks at bytes; it is
 * what the fuzz target drives. proxy_read() takes exactly the header
 * off a socket, and not one byte more, so that what follows (the FTP
 * dialogue, a TLS handshake, file data) is read as if it came first. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <syslog.h>

#include "cellftpd.h"

static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Does buf[0, n) start like s (as far as both go)? */
static int
prefix_of(const unsigned char *buf, size_t n, const void *s, size_t len)
{
	return memcmp(buf, s, n < len ? n : len) == 0;
}

static int
set_addr(struct sockaddr_storage *ss, int family, const void *addr, uint16_t port)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
		s6->sin6_port = htons(port);
	}
	return 0;
}

/* One decimal port of a v1 header: 1 to 5 digits, at most 65535. */
static int
v1_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i == 5) {
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v > 65535) {
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/* "PROXY TCP4 src dst sport dport" (CR LF cut off): single spaces. */
static int
v1_fields(char *line, struct proxy_header *h, const char **why)
{
	char *f[6], *p = line;
	int family, n;
	unsigned char src[16], dst[16];
	uint16_t sport, dport;

	for (n = 0; n < 6; n++) {
		f[n] = p;
		p = strchr(p, ' ');
		if (p == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (strcmp(f[0], "PROXY") != 0 || n < 2) {
		*why = "v1 header without a protocol";
		return -1;
	}
	if (strcmp(f[1], "UNKNOWN") == 0) {
		h->local = 1;		/* the rest of the line is ignored */
		return 0;
	}
	if (strcmp(f[1], "TCP4") == 0) {
		family = AF_INET;
	} else if (strcmp(f[1], "TCP6") == 0) {
		family = AF_INET6;
	} else {
		*why = "v1 header with an unknown protocol";
		return -1;
	}
	if (n != 6 || p != NULL) {
		*why = "v1 header without exactly four addresses and ports";
		return -1;
	}
	if (inet_pton(family, f[2], src) != 1 || inet_pton(family, f[3], dst) != 1) {
		*why = "v1 header with an address that does not parse";
		return -1;
	}
	if (v1_port(f[4], &sport) != 0 || v1_port(f[5], &dport) != 0) {
		*why = "v1 header with a port that does not parse";
		return -1;
	}
	set_addr(&h->src, family, src, sport);
	set_addr(&h->dst, family, dst, dport);
	return 0;
}

static int
printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static long
parse_v1(const unsigned char *buf, size_t n, struct proxy_header *h, const char **why)
{
	char line[PROXY_V1_MAX];
	size_t i, lim = n < PROXY_V1_MAX ? n : PROXY_V1_MAX;

	for (i = 0; i < lim; i++) {
		if (buf[i] == '\r' && i + 2 <= PROXY_V1_MAX) {
			if (i + 1 == n) {
				return 0;	/* the LF may follow */
			}
			if (buf[i + 1] == '\n') {
				break;
			}
		}
		if (!printable(buf[i])) {
			*why = i + 2 > PROXY_V1_MAX ?
			    "v1 header longer than " STR(PROXY_V1_MAX) " bytes" :
			    "v1 header with a byte that is not printable";
			return -1;
		}
	}
	if (i == lim) {
		if (n < PROXY_V1_MAX) {
			return 0;	/* no CR LF yet */
		}
		*why = "v1 header longer than " STR(PROXY_V1_MAX) " bytes";
		return -1;
	}
	memcpy(line, buf, i);
	line[i] = '\0';
	if (v1_fields(line, h, why) != 0) {
		return -1;
	}
	return (long)i + 2;
}

/* Type, length, value: what follows the addresses must be whole TLVs;
 * none is needed, so each is skipped. */
static int
tlvs_whole(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t len;

		if (n < 3) {
			return -1;
		}
		len = (size_t)p[1] << 8 | p[2];
		if (len > n - 3) {
			return -1;
		}
		p += 3 + len;
		n -= 3 + len;
	}
	return 0;
}

static long
parse_v2(const unsigned char *buf, size_t n, struct proxy_header *h, const char **why)
{
	size_t len, alen;
	const unsigned char *a = buf + 16;

	if (n < 16) {
		return 0;
	}
	if ((buf[12] & 0xf0) != 0x20) {
		*why = "v2 header of an unknown version";
		return -1;
	}
	len = (size_t)buf[14] << 8 | buf[15];
	if (16 + len > PROXY_V2_MAX) {
		*why = "v2 header longer than " STR(PROXY_V2_MAX) " bytes";
		return -1;
	}
	if (n < 16 + len) {
		return 0;
	}
	switch (buf[12] & 0x0f) {
	case 0x0:			/* LOCAL: the balancer's own connection */
		h->local = 1;
		return (long)(16 + len);
	case 0x1:			/* PROXY */
		break;
	default:
		*why = "v2 header with an unknown command";
		return -1;
	}
	switch (buf[13]) {
	case 0x00:			/* UNSPEC: the connection's own addresses */
		h->local = 1;
		return (long)(16 + len);
	case 0x11:			/* TCP over IPv4 */
		alen = 12;
		break;
	case 0x21:			/* TCP over IPv6 */
		alen = 36;
		break;
	default:
		*why = "v2 header for a client that is not TCP over IP";
		return -1;
	}
	if (len < alen) {
		*why = "v2 header shorter than its addresses";
		return -1;
	}
	if (tlvs_whole(a + alen, len - alen) != 0) {
		*why = "v2 header with a broken TLV";
		return -1;
	}
	if (alen == 12) {
		set_addr(&h->src, AF_INET, a, (uint16_t)(a[8] << 8 | a[9]));
		set_addr(&h->dst, AF_INET, a + 4, (uint16_t)(a[10] << 8 | a[11]));
	} else {
		set_addr(&h->src, AF_INET6, a, (uint16_t)(a[32] << 8 | a[33]));
		set_addr(&h->dst, AF_INET6, a + 16, (uint16_t)(a[34] << 8 | a[35]));
	}
	return (long)(16 + len);
}

long
proxy_parse(const unsigned char *buf, size_t n, unsigned versions,
    struct proxy_header *h, const char **why)
{
	memset(h, 0, sizeof *h);
	*why = NULL;
	if ((versions & PROXY_V2) && prefix_of(buf, n, v2_sig, sizeof v2_sig)) {
		return parse_v2(buf, n, h, why);
	}
	if ((versions & PROXY_V1) && prefix_of(buf, n, "PROXY ", 6)) {
		return parse_v1(buf, n, h, why);
	}
	*why = (versions & PROXY_V1) && (versions & PROXY_V2) ? "no PROXY header" :
	    versions & PROXY_V1 ? "no PROXY v1 header" : "no PROXY v2 header";
	return -1;
}

int
proxy_read(int fd, unsigned versions, struct proxy_header *h, const char **why)
{
	unsigned char buf[PROXY_V2_MAX];
	size_t have = 0;
	long long end = ctrl_now_ms() + PROXY_HEADER_MS;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = end - ctrl_now_ms();
		ssize_t n;
		long r;

		if (left <= 0) {
			*why = "no whole PROXY header within " STR(PROXY_HEADER_MS) " ms";
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR) {
				continue;
			}
			*why = "cannot wait for the PROXY header";
			return -1;
		}
		if (p.revents == 0) {
			continue;
		}
		/* look without taking: only the header's own bytes are taken */
		n = recv(fd, buf + have, sizeof buf - have, MSG_PEEK);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		if (have == 0 && (n == 0 || (n < 0 && errno == ECONNRESET))) {
			*why = NULL;	/* a check that only connects: nothing to say */
			return -1;
		}
		if (n <= 0) {
			*why = n == 0 ? "connection closed before a whole PROXY header" :
			    "cannot read the PROXY header";
			return -1;
		}
		r = proxy_parse(buf, have + (size_t)n, versions, h, why);
		if (r < 0) {
			return -1;
		}
		/* incomplete: every byte seen is the header's; whole: take
		 * just what is left of it */
		n = r == 0 ? n : (ssize_t)((size_t)r - have);
		if (recv(fd, buf + have, (size_t)n, MSG_WAITALL) != n) {
			*why = "cannot read the PROXY header";
			return -1;
		}
		have += (size_t)n;
		if (r > 0) {
			return 0;
		}
	}
}

/* ---- where a session learns who its client is ---- */

static void
addr_string(const struct sockaddr_storage *ss, char *out, size_t size, unsigned *port)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)size);
		*port = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)size);
		*port = ntohs(s6->sin6_port);
	} else {
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)size);
		*port = ntohs(s4->sin_port);
	}
}

/* The same address (IPv4-mapped or not) and the same port? */
static int
same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	char ta[INET6_ADDRSTRLEN], tb[INET6_ADDRSTRLEN];
	unsigned pa, pb;

	addr_string(a, ta, sizeof ta, &pa);
	addr_string(b, tb, sizeof tb, &pb);
	return pa == pb && strcmp(ta, tb) == 0;
}

void
session_addresses(struct session *s, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *dest)
{
	s->peer_sa = *peer;
	s->dest_sa = *dest;
	addr_string(peer, s->peer_addr, sizeof s->peer_addr, &s->peer_port);
	addr_string(dest, s->local_addr, sizeof s->local_addr, &s->local_port);
	log_set_client(s->peer_addr, s->peer_port);
}

void
proxy_apply(struct session *s, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst)
{
	snprintf(s->via, sizeof s->via, "%s", s->peer_addr);
	session_addresses(s, src, dst);
}

/* What a refused peer has already sent is dropped before the reply, so
 * that the close does not reset the connection before it reads why. */
static void
drop_pending(int fd)
{
	char buf[4096];

	for (int i = 0; i < 16 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; i++) {
		continue;
	}
}

int
proxy_expected(struct session *s)
{
	const struct server_conf *c = &s->cfg->srv;

	if (c->proxy_protocol == 0) {
		return 0;
	}
	if (config_proxy_trusted(s->cfg, &s->peer_sa)) {
		return 1;
	}
	if (c->proxy_untrusted == UNTRUSTED_DIRECT) {
		return 0;	/* a direct client: whatever it sends is FTP */
	}
	log_msg(LOG_WARNING, "connection refused: %s is not in proxy_from",
	    s->peer_addr);
	drop_pending(s->ctrl.fd);
	if (c->tls != TLS_IMPLICIT) {
		reply(s, 421, "Service not available: connect through the load "
		    "balancer");
	}
	return -1;
}

int
proxy_receive(struct session *s, struct proxy_header *h)
{
	const char *why;

	if (proxy_read(s->ctrl.fd, (unsigned)s->cfg->srv.proxy_protocol, h, &why) != 0) {
		if (why != NULL) {
			log_msg(LOG_WARNING, "PROXY header refused: %s", why);
		}
		return -1;
	}
	if (h->local || same_endpoint(&h->src, &s->peer_sa)) {
		/* the balancer's health check (LOCAL, or a header naming the
		 * balancer's own end of this connection, as HAProxy's checks
		 * send): the greeting shows that the server answers; no
		 * session, no log line */
		if (s->cfg->srv.tls != TLS_IMPLICIT) {
			reply(s, 220, "%s", s->cfg->srv.banner);
		}
		return -1;
	}
	proxy_apply(s, &h->src, &h->dst);
	return 0;
}

int
proxy_take(struct session *s)
{
	struct proxy_header h;

	return proxy_receive(s, &h);
}
