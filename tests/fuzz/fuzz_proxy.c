/* The PROXY protocol header, as proxy_parse() sees it and as
 * proxy_read() takes it off a socket: a whole header is whole on its own
 * bytes and on nothing shorter, and proxy_read() leaves every byte after
 * it where it was. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cellftpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_parse(const uint8_t *data, size_t size, unsigned versions, long *len)
{
	struct proxy_header h, h2;
	const char *why;
	long r = proxy_parse(data, size, versions, &h, &why);

	*len = r;
	if (r < -1 || (r > 0 && (size_t)r > size) || (r < 0) != (why != NULL)) {
		abort();
	}
	if (r > 0) {
		if (!h.local && ((h.src.ss_family != AF_INET && h.src.ss_family != AF_INET6) ||
		    h.src.ss_family != h.dst.ss_family)) {
			abort();
		}
		if (proxy_parse(data, (size_t)r, versions, &h2, &why) != r ||
		    memcmp(&h, &h2, sizeof h) != 0 ||
		    proxy_parse(data, (size_t)r - 1, versions, &h2, &why) != 0) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned masks[] = { PROXY_V1, PROXY_V2, PROXY_V1 | PROXY_V2 };
	struct proxy_header h;
	const char *why;
	uint8_t rest[4096];
	long len[3];
	int sp[2];
	size_t i;
	ssize_t n;

	if (size > sizeof rest) {
		return 0;
	}
	for (i = 0; i < 3; i++) {
		check_parse(data, size, masks[i], &len[i]);
	}
	/* off a socket: the header and not a byte more */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) {
		abort();
	}
	if (write(sp[1], data, size) != (ssize_t)size) {
		abort();
	}
	shutdown(sp[1], SHUT_WR);
	if (proxy_read(sp[0], PROXY_V1 | PROXY_V2, &h, &why) == 0) {
		if (len[2] <= 0) {
			abort();
		}
		n = read(sp[0], rest, sizeof rest);
		if (n != (ssize_t)size - len[2] || memcmp(rest, data + len[2], (size_t)n) != 0) {
			abort();
		}
	} else if (len[2] > 0 || (why == NULL) != (size == 0)) {
		abort();	/* silent only when nothing came at all */
	}
	close(sp[0]);
	close(sp[1]);
	return 0;
}
