/* Logging: one line per event with the client address and user, to
 * syslog (facility ftp), to the journal with native fields, or to
 * standard error when asked. Never to the client's socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "cellftpd.h"

static int mode = LOGTO_SYSLOG;
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
emit(int prio, const char *event, const char *path, long long bytes, const char *msg)
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
		sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio,
		    "SYSLOG_FACILITY=%d", LOG_FTP >> 3,
		    "SYSLOG_IDENTIFIER=cellftpd",
		    "REMOTE_ADDR=%s", client_addr, "REMOTE_PORT=%u", client_port,
		    "FTP_USER=%s", user, "FTP_EVENT=%s", event != NULL ? event : "",
		    "FTP_PATH=%s", path != NULL ? path : "",
		    "FTP_BYTES=%lld", bytes, NULL);
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
	emit(prio, NULL, NULL, -1, msg);
}

void
log_event(const char *event, const char *path, long long bytes, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(LOG_INFO, event, path, bytes, msg);
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
