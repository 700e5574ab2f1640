/* Session limits without a daemon. RUN_DIR/sessions holds a pool of
 * slot files, "slot.0", "slot.1", ..., as many as sessions were ever
 * counted at once (never more than max_sessions when it is set, nor
 * SLOTS_MAX), whatever the number of client addresses. A session holds
 * an flock on one for its whole life; the kernel drops the lock when
 * the process ends, however it ends, so nothing needs cleaning.
 * The file names the session's client (its address, IPv6 cut to its
 * /64, the block one client usually holds): max_sessions counts the
 * locked files, max_sessions_per_ip those that name this client. The
 * count runs under an exclusive flock on the directory, so two sessions
 * that start at once count each other.
 *
 * Only "locked by a session" counts: any other error on the directory
 * or a slot (no inodes left, a read-only file system) is logged with
 * its errno and the client let in uncounted. Files of earlier versions
 * ("all.N", "ip-ADDRESS.N") are not read; /run empties at boot. */
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

static int held = -1;

/* The client as a slot file says it: the address, IPv6 cut to its /64. */
static void
client_key(const struct session *s, char *out, size_t size)
{
	const struct sockaddr_storage *ss = &s->peer_sa;

	if (ss->ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)ss)->sin6_addr)) {
		struct in6_addr a = ((const struct sockaddr_in6 *)ss)->sin6_addr;
		char text[INET6_ADDRSTRLEN];

		memset(a.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a, text, sizeof text);
		snprintf(out, size, "%s/64\n", text);
	} else {
		snprintf(out, size, "%s\n", s->peer_addr);
	}
}

/* Does the slot open on fd name key? (Written before its session let
 * go of the directory lock, so never half.) */
static int
names(int fd, const char *key)
{
	char buf[SLOT_KEY_MAX];
	size_t n = strlen(key);
	ssize_t got = pread(fd, buf, sizeof buf, 0);

	return got == (ssize_t)n && memcmp(buf, key, n) == 0;
}

/* Counting failed: say why, let the client in. */
static int
uncounted(const char *what, const char *name)
{
	log_msg(LOG_WARNING, "session limits not counted: %s %s/%s: %s", what,
	    SLOTS_DIR, name, strerror(errno));
	return 0;
}

/* Write the key into the slot through a descriptor of its own, closed at
 * once: the session keeps only the read-only, locked one. */
static int
write_key(int dir, const char *name, const char *key)
{
	size_t n = strlen(key);
	int fd = openat(dir, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	ssize_t w;

	if (fd < 0) {
		return -1;
	}
	w = write(fd, key, n);
	if (close(fd) != 0 || w != (ssize_t)n) {
		if (w >= 0 && w != (ssize_t)n) {
			errno = ENOSPC;
		}
		return -1;
	}
	return 0;
}

/* close() that keeps errno for the message. */
static void
drop(int *fd)
{
	int e = errno;

	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	errno = e;
}

/* Count the slots held, and find or make a free one, under the
 * directory lock. 0: counted (held set) or not countable (logged). */
static int
count_and_take(const struct server_conf *c, int dir, const char *key)
{
	char name[32];
	const char *what;
	unsigned total = 0, same = 0, i, mine_i = 0;
	int mine = -1, fd;

	for (i = 0; i < SLOTS_MAX; i++) {
		snprintf(name, sizeof name, "slot.%u", i);
		fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT) {
			break;			/* the end of the pool */
		}
		if (fd < 0) {
			what = "cannot open";
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			if (mine < 0) {
				mine = fd;	/* free: the first is ours */
				mine_i = i;
			} else {
				close(fd);
			}
			continue;
		}
		if (errno != EWOULDBLOCK) {
			drop(&fd);
			what = "cannot lock";
			goto fail;
		}
		total++;		/* held by a live session */
		same += names(fd, key);
		close(fd);
	}
	if (c->max_sessions > 0 && total >= c->max_sessions) {
		log_event("refused", NULL, -1, "max_sessions (%u) reached", c->max_sessions);
		drop(&mine);
		return -1;
	}
	if (c->max_sessions_per_ip > 0 && same >= c->max_sessions_per_ip) {
		log_event("refused", NULL, -1, "max_sessions_per_ip (%u) reached",
		    c->max_sessions_per_ip);
		drop(&mine);
		return -1;
	}
	if (mine < 0 && i == SLOTS_MAX) {
		log_msg(LOG_WARNING, "session limits not counted: all %u slots "
		    "in %s are held", SLOTS_MAX, SLOTS_DIR);
		return 0;
	}
	if (mine < 0) {
		/* all are held: the pool grows by one, at its end */
		mine_i = i;
		snprintf(name, sizeof name, "slot.%u", i);
		mine = openat(dir, name, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (mine < 0) {
			what = "cannot create";
			goto fail;
		}
		if (flock(mine, LOCK_EX | LOCK_NB) != 0) {
			what = "cannot lock";
			goto fail;
		}
	}
	snprintf(name, sizeof name, "slot.%u", mine_i);
	if (write_key(dir, name, key) != 0) {
		what = "cannot write";
		goto fail;
	}
	held = mine;
	return 0;
fail:
	drop(&mine);
	return uncounted(what, name);
}

int
slots_take(const struct session *s)
{
	const struct server_conf *c = &s->cfg->srv;
	char key[SLOT_KEY_MAX];
	int dir, rc;

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
	/* one count at a time; the login timer's alarm ends a wait (EINTR) */
	if (flock(dir, LOCK_EX) != 0) {
		log_msg(LOG_WARNING, "session limits not counted: cannot lock %s: %s",
		    SLOTS_DIR, strerror(errno));
		close(dir);
		return 0;
	}
	client_key(s, key, sizeof key);
	rc = count_and_take(c, dir, key);
	close(dir);			/* and with it the directory lock */
	return rc;
}

/* The pre-login process does not hold it: the session does. */
void
slots_forget(void)
{
	if (held >= 0) {
		close(held);
		held = -1;
	}
}
