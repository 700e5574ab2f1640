/* Session limits without a daemon. A session holds an flock on one slot
 * file under RUN_DIR/sessions for its whole life: "all.N" for
 * max_sessions, "ip-ADDRESS.N" for max_sessions_per_ip (IPv6 clients per
 * /64, the block one client usually holds). The kernel drops the lock
 * when the process ends, however it ends, so nothing needs cleaning. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cellftpd.h"

#define SLOTS_DIR RUN_DIR "/sessions"

static int held[2] = { -1, -1 };

/* One free slot of prefix.0 .. prefix.(n-1), locked; -1 when all are. */
static int
take(int dir, const char *prefix, unsigned n)
{
	char name[128];

	for (unsigned i = 0; i < n; i++) {
		int fd;

		snprintf(name, sizeof name, "%s.%u", prefix, i);
		/* read-only: flock needs no more, and a session can write nothing */
		fd = openat(dir, name, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			return fd;
		}
		close(fd);
	}
	return -1;
}

/* The client's address as a file name; IPv6 cut to its /64. */
static void
client_key(const struct session *s, char *out, size_t size)
{
	const struct sockaddr_storage *ss = &s->peer_sa;
	char text[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)ss)->sin6_addr)) {
		struct in6_addr a = ((const struct sockaddr_in6 *)ss)->sin6_addr;

		memset(a.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a, text, sizeof text);
		snprintf(out, size, "ip-%s-64", text);
	} else {
		snprintf(out, size, "ip-%s", s->peer_addr);
	}
	for (char *p = out; *p != '\0'; p++) {
		if (*p == ':') {
			*p = '_';
		}
	}
}

int
slots_take(const struct session *s)
{
	const struct server_conf *c = &s->cfg->srv;
	char key[96];
	int dir;

	if (c->max_sessions == 0 && c->max_sessions_per_ip == 0) {
		return 0;
	}
	umask(022);
	if ((mkdir(RUN_DIR, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(SLOTS_DIR, 0700) != 0 && errno != EEXIST) ||
	    (dir = open(SLOTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		log_msg(LOG_WARNING, "session limits not counted: %s: %s", SLOTS_DIR,
		    strerror(errno));
		return 0;
	}
	if (c->max_sessions > 0 && (held[0] = take(dir, "all", c->max_sessions)) < 0) {
		close(dir);
		log_event("refused", NULL, -1, "max_sessions (%u) reached", c->max_sessions);
		return -1;
	}
	client_key(s, key, sizeof key);
	if (c->max_sessions_per_ip > 0 &&
	    (held[1] = take(dir, key, c->max_sessions_per_ip)) < 0) {
		close(dir);
		log_event("refused", NULL, -1, "max_sessions_per_ip (%u) reached",
		    c->max_sessions_per_ip);
		return -1;
	}
	close(dir);
	return 0;
}

/* The pre-login process does not hold them: the session does. */
void
slots_forget(void)
{
	for (int i = 0; i < 2; i++) {
		if (held[i] >= 0) {
			close(held[i]);
			held[i] = -1;
		}
	}
}
