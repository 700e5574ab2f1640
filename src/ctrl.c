/* The control connection: command lines in (Telnet IAC removed, length
 * capped, a deadline per line), replies out (RFC 959 single and multi-line). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

enum { IAC = 255, DONT = 254, DO = 253, WONT = 252, WILL = 251, SB = 250, SE = 240 };
enum { T_DATA, T_IAC, T_OPT, T_SB, T_SB_IAC };

/* Remove Telnet commands (RFC 854) from buf in place; IAC IAC is a data
 * byte 255. state carries a sequence split between two reads. */
size_t
telnet_strip(char *buf, size_t len, int *state)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		switch (*state) {
		case T_DATA:
			if (c == IAC) {
				*state = T_IAC;
			} else {
				buf[out++] = (char)c;
			}
			break;
		case T_IAC:
			if (c == IAC) {
				buf[out++] = (char)c;
				*state = T_DATA;
			} else if (c >= WILL && c <= DONT) {
				*state = T_OPT;
			} else if (c == SB) {
				*state = T_SB;
			} else {
				*state = T_DATA;	/* IP, DM, AYT, ...: dropped */
			}
			break;
		case T_OPT:
			*state = T_DATA;		/* the option byte */
			break;
		case T_SB:
			if (c == IAC) {
				*state = T_SB_IAC;
			}
			break;
		case T_SB_IAC:
			*state = c == SE ? T_DATA : T_SB;
			break;
		}
	}
	return out;
}

static enum ctrl_status
take_line(struct ctrl *c, char *nl, char *line, size_t size)
{
	char *start = c->buf + c->pos;
	size_t n = (size_t)(nl - start);

	c->pos += n + 1;
	if (c->discard) {
		c->discard = 0;
		return CTRL_TOOLONG;
	}
	if (n > 0 && start[n - 1] == '\r') {
		n--;
	}
	if (n >= size) {
		return CTRL_TOOLONG;
	}
	if (memchr(start, '\0', n) != NULL) {
		return CTRL_NUL;
	}
	memcpy(line, start, n);
	line[n] = '\0';
	return CTRL_LINE;
}

int
ctrl_fill(struct ctrl *c)
{
	ssize_t n;

	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == sizeof c->buf) {
		c->discard = 1;		/* over-long: drop until its end */
		c->len = 0;
	}
	do {
		n = c->tls != NULL ? tls_read(c->tls, c->buf + c->len, sizeof c->buf - c->len) :
		    read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		return 0;
	}
	if (n <= 0) {
		return -1;
	}
	c->len += telnet_strip(c->buf + c->len, (size_t)n, &c->telnet);
	return 0;
}

int
ctrl_peek_line(struct ctrl *c, char *line, size_t size, int consume)
{
	char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
	size_t pos = c->pos;
	int discard = c->discard;

	if (nl == NULL) {
		return 0;
	}
	if (take_line(c, nl, line, size) != CTRL_LINE) {
		line[0] = '\0';
	}
	if (!consume) {
		c->pos = pos;
		c->discard = discard;
	}
	return 1;
}

int
ctrl_take_verb(struct ctrl *c, const char *verb)
{
	size_t n = strlen(verb);
	char *p = c->buf + c->pos, *end = c->buf + c->len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL) {
			return 0;
		}
		if ((size_t)(nl - p) >= n && strncasecmp(p, verb, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\r' || p[n] == '\n')) {
			memmove(p, nl + 1, (size_t)(end - nl - 1));
			c->len -= (size_t)(nl + 1 - p);
			return 1;
		}
		p = nl + 1;
	}
	return 0;
}

long long
ctrl_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* From the connection to "230", login_timeout bounds the dialogue:
 * ctrl_read_line answers 421 at the deadline. Where no read sees it (a
 * TLS handshake or record trickled in byte by byte, replies the client
 * does not read), SIGALRM, LOGIN_GRACE_SEC later, in this process (the
 * root parent when privileges are separated, which the pre-login
 * process cannot reach), shuts the socket down: every read and write
 * on it fails at once, the pre-login process ends, and the parent with
 * it. An alarm is not inherited by fork(). */
static volatile sig_atomic_t login_expired;
static int login_fd = -1;
static unsigned login_seconds;

static void
on_login_alarm(int sig)
{
	(void)sig;
	login_expired = 1;
	shutdown(login_fd, SHUT_RDWR);		/* async-signal-safe */
}

static void
log_login_expired(void)
{
	if (login_expired) {
		log_event("timeout", NULL, -1, "no login within %u seconds; connection "
		    "shut down", login_seconds);
	}
}

void
login_timer_start(struct ctrl *c, unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_login_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	login_fd = c->fd;
	login_seconds = seconds;
	atexit(log_login_expired);
	c->login_deadline = ctrl_now_ms() + (long long)seconds * 1000;
	alarm(seconds + LOGIN_GRACE_SEC);
}

void
login_timer_stop(struct ctrl *c)
{
	alarm(0);
	c->login_deadline = 0;
}

/* Under TLS a read waits inside SSL_read for a whole record: let the
 * socket give up when the line's time is up (at least 1 ms: 0 would be
 * no limit), and restore idle_timeout for what comes after. */
static void
tls_read_timeout(int fd, long long ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (ms < 1) {
		tv.tv_usec = 1000;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* One deadline for the whole line, from the call on (after the reply to
 * the previous command): bytes that trickle in without its end do not
 * move it. Before login the login deadline bounds it too. */
enum ctrl_status
ctrl_read_line(struct ctrl *c, char *line, size_t size)
{
	long long deadline = ctrl_now_ms() + (long long)c->idle_timeout * 1000;
	enum ctrl_status late = CTRL_TIMEOUT;

	if (c->login_deadline > 0 && c->login_deadline <= deadline) {
		deadline = c->login_deadline;
		late = CTRL_LOGIN_TIMEOUT;
	}
	for (;;) {
		char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long long left;
		int rc;

		if (nl != NULL) {
			return take_line(c, nl, line, size);
		}
		left = deadline - ctrl_now_ms();
		if (left <= 0) {
			return late;
		}
		/* TLS may hold bytes it has read already: no wait for them */
		rc = c->tls != NULL && tls_pending(c->tls) ? 1 :
		    poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc == 0) {
			continue;	/* the deadline, checked above */
		}
		if (rc < 0) {
			if (errno == EINTR) {
				continue;
			}
			return CTRL_EOF;
		}
		if (c->tls != NULL) {
			tls_read_timeout(c->fd, left);
		}
		rc = ctrl_fill(c);
		if (c->tls != NULL) {
			tls_read_timeout(c->fd, (long long)c->idle_timeout * 1000);
		}
		if (rc != 0) {
			return CTRL_EOF;
		}
	}
}

/* Lines of text separated by '\n'. Every line but the last is written
 * "CODE-text", the last "CODE text"; a line that starts with a space is
 * written as it is (RFC 2389 feature lines), which no client can take for
 * the last line. CR never reaches the wire from text. */
size_t
reply_format(char *out, size_t size, int code, const char *text)
{
	size_t len = 0;

	if (code < 100 || code > 599) {
		return 0;
	}
	for (;;) {
		const char *end = strchr(text, '\n');
		size_t n = end != NULL ? (size_t)(end - text) : strlen(text);
		int last = end == NULL;

		if (text[0] == ' ' && !last) {
			if (len + n + 2 >= size) {
				return 0;
			}
		} else {
			if (len + 4 + n + 2 >= size) {
				return 0;
			}
			snprintf(out + len, 5, "%03d%c", code, last ? ' ' : '-');
			len += 4;
		}
		for (size_t i = 0; i < n; i++) {
			if (text[i] != '\r') {
				out[len++] = text[i];
			}
		}
		out[len++] = '\r';
		out[len++] = '\n';
		if (last) {
			break;
		}
		text = end + 1;
	}
	out[len] = '\0';
	return len;
}

void
ctrl_write(struct session *s, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = s->ctrl.tls != NULL ? tls_write(s->ctrl.tls, buf, len) :
		    write(s->ctrl.fd, buf, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			log_msg(LOG_INFO, "control connection lost: %s",
			    n < 0 ? strerror(errno) : "closed");
			exit(EXIT_OK);
		}
		buf += n;
		len -= (size_t)n;
	}
}

void
reply_lines(struct session *s, int code, const char *text)
{
	static char out[CTRL_REPLY_MAX];	/* not on the stack: see reply() */
	size_t len = reply_format(out, sizeof out, code, text);

	if (len == 0) {
		len = reply_format(out, sizeof out, code, "(reply too long)");
	}
	if (log_debugging()) {
		log_debug_dialogue("->", out);
	}
	ctrl_write(s, out, len);
}

void
reply_message(struct session *s, int code, const char *message, const char *last)
{
	static char out[CTRL_REPLY_MAX];	/* not on the stack: see reply() */
	size_t len = 0;

	for (const char *p = message; *p != '\0' && len + 8 < sizeof out;) {
		size_t n = strcspn(p, "\n");

		len += (size_t)snprintf(out + len, sizeof out - len, "%03d-", code);
		for (size_t i = 0; i < n && len + 3 < sizeof out; i++) {
			/* control characters of a file never reach the client */
			out[len++] = (unsigned char)p[i] < ' ' && p[i] != '\t' ? '?' : p[i];
		}
		out[len++] = '\r';
		out[len++] = '\n';
		p += n + (p[n] == '\n');
	}
	out[len] = '\0';
	if (log_debugging()) {
		log_debug_dialogue("->", out);
	}
	ctrl_write(s, out, len);
	reply(s, code, "%s", last);
}

void
reply(struct session *s, int code, const char *fmt, ...)
{
	/* static, as the buffers below it: replies are written one at a
	 * time, and an idle session then holds only the pages they used */
	static char text[CTRL_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* one line: a '\n' that came with a file name must not split it */
	for (char *p = text; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r') {
			*p = ' ';
		}
	}
	reply_lines(s, code, text);
}
