/* The command table and the dispatcher. Each row says whether the
 * command needs a login, takes an argument or writes; the dispatcher
 * checks that once, so a handler only acts. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

enum {
	ARG_NONE = 0x01,	/* an argument is a syntax error */
	ARG_REQ = 0x02,		/* an argument is required */
	LOGIN = 0x04,		/* only after login (else 530) */
	WRITE = 0x08,		/* allow_write = yes */
	CREATE = 0x10,		/* allow_write = yes or upload */
};

struct command {
	const char	*name;
	unsigned	 flags;
	void		(*fn)(struct session *, char *arg);
	const char	*feat;		/* line in FEAT, if any */
};

static void cmd_user(struct session *, char *);
static void cmd_pass(struct session *, char *);
static void cmd_acct(struct session *, char *);
static void cmd_quit(struct session *, char *);
static void cmd_rein(struct session *, char *);
static void cmd_noop(struct session *, char *);
static void cmd_syst(struct session *, char *);
static void cmd_help(struct session *, char *);
static void cmd_stat(struct session *, char *);
static void cmd_feat(struct session *, char *);
static void cmd_pbsz(struct session *, char *);
static void cmd_prot(struct session *, char *);
static void cmd_ccc(struct session *, char *);
static void cmd_opts(struct session *, char *);
static void cmd_host(struct session *, char *);
static void cmd_type(struct session *, char *);
static void cmd_mode(struct session *, char *);
static void cmd_stru(struct session *, char *);
static void cmd_allo(struct session *, char *);
static void cmd_auth(struct session *, char *);

static const struct command commands[] = {
	{ "ABOR", ARG_NONE | LOGIN,	cmd_abor, NULL },
	{ "ACCT", ARG_REQ | LOGIN,	cmd_acct, NULL },
	{ "ALLO", ARG_REQ | LOGIN,	cmd_allo, NULL },
	{ "APPE", ARG_REQ | LOGIN | CREATE, cmd_appe, NULL },	/* upload: store() */
	{ "AUTH", ARG_REQ,		cmd_auth, "AUTH TLS" },
	{ "CCC",  ARG_NONE,		cmd_ccc, NULL },
	{ "CDUP", ARG_NONE | LOGIN,	cmd_cdup, NULL },
	{ "CWD",  LOGIN,		cmd_cwd, NULL },
	{ "DELE", ARG_REQ | LOGIN | WRITE, cmd_dele, NULL },
	{ "EPRT", ARG_REQ | LOGIN,	cmd_eprt, "EPRT" },
	{ "EPSV", LOGIN,		cmd_epsv, "EPSV" },
	{ "FEAT", ARG_NONE,		cmd_feat, NULL },
	{ "HELP", 0,			cmd_help, NULL },
	{ "HOST", ARG_REQ,		cmd_host, "HOST" },
	{ "LIST", LOGIN,		cmd_list, NULL },
	{ "MDTM", ARG_REQ | LOGIN,	cmd_mdtm, "MDTM" },
	{ "MFMT", ARG_REQ | LOGIN | WRITE, cmd_mfmt, "MFMT" },
	{ "MKD",  ARG_REQ | LOGIN | WRITE, cmd_mkd, NULL },
	{ "MLSD", LOGIN,		cmd_mlsd, NULL },
	{ "MLST", LOGIN,		cmd_mlst, NULL },	/* FEAT: mlst_feat() */
	{ "MODE", ARG_REQ | LOGIN,	cmd_mode, NULL },
	{ "NLST", LOGIN,		cmd_nlst, NULL },
	{ "NOOP", ARG_NONE,		cmd_noop, NULL },
	{ "OPTS", ARG_REQ | LOGIN,	cmd_opts, "UTF8" },
	{ "PASS", 0,			cmd_pass, NULL },
	{ "PASV", ARG_NONE | LOGIN,	cmd_pasv, NULL },
	{ "PBSZ", ARG_REQ,		cmd_pbsz, "PBSZ" },
	{ "PORT", ARG_REQ | LOGIN,	cmd_port, NULL },
	{ "PROT", ARG_REQ,		cmd_prot, "PROT" },
	{ "PWD",  ARG_NONE | LOGIN,	cmd_pwd, NULL },
	{ "QUIT", 0,			cmd_quit, NULL },
	{ "REIN", ARG_NONE | LOGIN,	cmd_rein, NULL },
	{ "REST", ARG_REQ | LOGIN,	cmd_rest, "REST STREAM" },
	{ "RETR", ARG_REQ | LOGIN,	cmd_retr, NULL },
	{ "RMD",  ARG_REQ | LOGIN | WRITE, cmd_rmd, NULL },
	{ "RNFR", ARG_REQ | LOGIN | WRITE, cmd_rnfr, NULL },
	{ "RNTO", ARG_REQ | LOGIN | WRITE, cmd_rnto, NULL },
	{ "SITE", ARG_REQ | LOGIN,	cmd_site, NULL },
	{ "SIZE", ARG_REQ | LOGIN,	cmd_size, "SIZE" },
	{ "STAT", LOGIN,		cmd_stat, NULL },
	{ "STOR", ARG_REQ | LOGIN | CREATE, cmd_stor, NULL },
	{ "STOU", LOGIN | CREATE,	cmd_stou, NULL },
	{ "STRU", ARG_REQ | LOGIN,	cmd_stru, NULL },
	{ "SYST", ARG_NONE,		cmd_syst, NULL },
	{ "TYPE", ARG_REQ | LOGIN,	cmd_type, "TVFS" },
	{ "USER", ARG_REQ,		cmd_user, NULL },
	{ "XCUP", ARG_NONE | LOGIN,	cmd_cdup, NULL },
	{ "XCWD", LOGIN,		cmd_cwd, NULL },
	{ "XMKD", ARG_REQ | LOGIN | WRITE, cmd_mkd, NULL },
	{ "XPWD", ARG_NONE | LOGIN,	cmd_pwd, NULL },
	{ "XRMD", ARG_REQ | LOGIN | WRITE, cmd_rmd, NULL },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int
by_name(const void *key, const void *row)
{
	return strcmp(key, ((const struct command *)row)->name);
}

static const struct command *
find_command(const char *verb)
{
	return bsearch(verb, commands, NCOMMANDS, sizeof commands[0], by_name);
}

/* Browsers and scripts that were pointed at port 21 to attack something
 * else (cross-protocol): a request line "METHOD target HTTP/1.x". */
int
is_http_request(const char *verb, const char *arg)
{
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT",
	    "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH" };
	const char *sp;

	if (arg == NULL || (sp = strrchr(arg, ' ')) == NULL ||
	    strncmp(sp + 1, "HTTP/", 5) != 0) {
		return 0;
	}
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (strcmp(verb, methods[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

int
command_split(char *line, char verb[8], char **arg)
{
	size_t n = strcspn(line, " ");

	*arg = NULL;
	if (line[n] == ' ' && line[n + 1] != '\0') {
		*arg = line + n + 1;
	}
	if (n == 0 || n >= 8) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		verb[i] = (char)toupper((unsigned char)line[i]);
	}
	verb[n] = '\0';
	return 0;
}

/* A token bucket: CMD_RATE_PER_SEC commands a second, CMD_RATE_BURST
 * at once. A client that sends faster is answered at that pace, so
 * thousands of pipelined commands cannot keep a CPU busy. */
static void
pace(struct session *s)
{
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (s->tokens_at.tv_sec == 0) {
		s->tokens = CMD_RATE_BURST;
	} else {
		dt = (double)(now.tv_sec - s->tokens_at.tv_sec) +
		    (double)(now.tv_nsec - s->tokens_at.tv_nsec) / 1e9;
		s->tokens += dt * CMD_RATE_PER_SEC;
		if (s->tokens > CMD_RATE_BURST) {
			s->tokens = CMD_RATE_BURST;
		}
	}
	s->tokens_at = now;
	if (s->tokens < 1) {
		struct timespec wait = { 0, (long)((1 - s->tokens) * 1e9 / CMD_RATE_PER_SEC) };

		nanosleep(&wait, NULL);
		s->tokens = 1;
		clock_gettime(CLOCK_MONOTONIC, &s->tokens_at);
	}
	s->tokens -= 1;
}

static void
dispatch(struct session *s, char *line)
{
	char verb[8];
	char *arg;
	const struct command *c;
	int was_rnfr = s->have_rnfr;

	pace(s);
	if (command_split(line, verb, &arg) != 0) {
		reply(s, 500, "Unknown command");
		return;
	}
	if (log_debugging()) {
		log_debug_dialogue("<-", strcmp(verb, "PASS") == 0 ? "PASS ****" : line);
	}
	if (is_http_request(verb, arg)) {
		log_msg(LOG_WARNING, "HTTP request line on the FTP port; closing");
		exit(EXIT_OK);
	}
	c = find_command(verb);
	if (c == NULL) {
		reply(s, 500, "Unknown command %s", verb);
		return;
	}
	s->have_rnfr = 0;	/* RNTO must come right after RNFR */
	if ((c->flags & LOGIN) && !s->logged_in) {
		reply(s, 530, "Please log in with USER and PASS first");
		return;
	}
	if ((c->flags & ARG_REQ) && arg == NULL) {
		reply(s, 501, "%s needs an argument", verb);
		return;
	}
	if ((c->flags & ARG_NONE) && arg != NULL) {
		reply(s, 501, "%s takes no argument", verb);
		return;
	}
	if (((c->flags & WRITE) && s->acct.allow_write != WRITE_YES) ||
	    ((c->flags & CREATE) && s->acct.allow_write == WRITE_NO)) {
		reply(s, 550, "Permission denied: %s is not allowed for this account",
		    verb);
		return;
	}
	if (c->fn == cmd_rnto) {
		s->have_rnfr = was_rnfr;
	}
	c->fn(s, arg);
}

int
session_open(struct session *s)
{
	if (s->via[0] != '\0') {
		log_event("connect", NULL, -1, "connect to %s port %u through %s",
		    s->local_addr, s->local_port, s->via);
	} else {
		log_event("connect", NULL, -1, "connect to %s port %u", s->local_addr,
		    s->local_port);
	}
	if (slots_take(s) != 0) {
		reply(s, 421, "Too many sessions; try again later");
		return -1;
	}
	if (s->cfg->srv.tls != TLS_IMPLICIT) {
		reply(s, 220, "%s", s->cfg->srv.banner);	/* else after the handshake */
	}
	return 0;
}

void
session_run(struct session *s)
{
	char line[CTRL_LINE_MAX];

	while (!s->quit) {
		switch (ctrl_read_line(&s->ctrl, line, sizeof line)) {
		case CTRL_LINE:
			dispatch(s, line);
			break;
		case CTRL_TOOLONG:
			reply(s, 500, "Command line too long (at most %d bytes)",
			    CTRL_LINE_MAX - 2);
			break;
		case CTRL_NUL:
			reply(s, 501, "NUL byte in command");
			break;
		case CTRL_TIMEOUT:
			/* a line begun but not ended: a client trickling bytes */
			log_event("timeout", NULL, -1, "%s %u seconds; closing",
			    s->ctrl.len > s->ctrl.pos || s->ctrl.discard ?
			    "no whole command line within" : "idle for",
			    s->ctrl.idle_timeout);
			reply(s, 421, "Timeout (%u seconds): closing control connection",
			    s->ctrl.idle_timeout);
			return;
		case CTRL_LOGIN_TIMEOUT:
			log_event("timeout", NULL, -1, "no login within %u seconds; closing",
			    s->cfg->srv.login_timeout);
			reply(s, 421, "Login timeout (%u seconds): closing control connection",
			    s->cfg->srv.login_timeout);
			return;
		case CTRL_EOF:
			session_logout(s, "client closed the connection");
			return;
		}
	}
}

void
session_logout(const struct session *s, const char *how)
{
	log_event("logout", NULL, s->bytes_in + s->bytes_out,
	    "%s: %u file%s (%lld bytes) down, %u file%s (%lld bytes) up", how,
	    s->files_out, s->files_out == 1 ? "" : "s", s->bytes_out,
	    s->files_in, s->files_in == 1 ? "" : "s", s->bytes_in);
}

/* ---- login ---- */

static void
cmd_user(struct session *s, char *arg)
{
	if (s->logged_in) {
		reply(s, 530, "Already logged in as %s; reconnect to change user",
		    s->acct.login);
		return;
	}
	if (strlen(arg) > USER_NAME_MAX) {
		s->have_user = 0;	/* a refused USER replaces the one before */
		reply(s, 501, "User name too long");
		return;
	}
	if (!s->tls_on && tls_required(s->cfg, arg) != REQ_NO) {
		/* before the password is sent in the clear */
		s->have_user = 0;
		reply(s, 530, "This server needs TLS: use AUTH TLS before USER");
		return;
	}
	strcpy(s->user, arg);
	s->have_user = 1;
	if (auth_is_anonymous(s->cfg, arg)) {
		reply(s, 331, "Anonymous login ok, send your e-mail address as password");
	} else {
		reply(s, 331, "Please specify the password");
	}
}

static void
sleep_until(const struct timespec *start, long ms)
{
	struct timespec end = *start;

	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR) {
		continue;
	}
}

enum auth_result
login_check(struct session *s, const char *user, const char *pass)
{
	const char *reason = NULL;
	struct timespec start;
	enum auth_result r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	r = strlen(pass) > PASSWORD_MAX ? AUTH_FAIL :
	    auth_check(s->cfg, user, pass, &s->acct, &reason);
	if (strlen(pass) > PASSWORD_MAX) {
		reason = "password too long";
	}
	log_set_user(user);
	if (r == AUTH_OK) {
		if (s->acct.anonymous) {
			log_event("login", NULL, -1, "anonymous login, password '%.64s'",
			    pass);
			/* for the xferlog: one printable word */
			snprintf(s->acct.anon_id, sizeof s->acct.anon_id, "%s", pass);
			for (char *p = s->acct.anon_id; *p != '\0'; p++) {
				if ((unsigned char)*p <= ' ' || *p == 127) {
					*p = '_';
				}
			}
		}
		return AUTH_OK;
	}
	if (r == AUTH_ERROR) {
		log_msg(LOG_ERR, "login of '%s' failed on the server: %s", user, reason);
		return AUTH_ERROR;
	}
	log_event("login-failed", NULL, -1, "login failed: %s", reason);
	s->failures++;
	/* every failure, wrong user or wrong password, is answered as late */
	sleep_until(&start, LOGIN_FAIL_DELAY_MS);
	if (s->failures >= s->cfg->srv.max_login_failures) {
		log_event("login-failed", NULL, -1, "%u failed logins; closing",
		    s->failures);
		return AUTH_CLOSE;
	}
	return AUTH_FAIL;
}

/* The account is decided; become it. Failures here are the server's. */
static int
enter_account(struct session *s)
{
	struct account *a = &s->acct;
	const char *what = NULL;
	int fd;

	/* the root and the transfer log are opened with the rights cellftpd
	 * was started with, as a chroot would be; everything below the root
	 * with the user's rights */
	(void)xferlog_open(s->cfg->srv.xferlog, a);	/* failure is logged */
	if (vfs_open_root(&s->vfs, a->root, a->symlinks == SYMLINKS_CONTAIN) != 0) {
		log_msg(LOG_ERR, "cannot open root '%s'%s: %s", a->root,
		    errno == ENOSYS ? " (this kernel lacks openat2; set symlinks = "
		    "follow or upgrade)" : "", strerror(errno));
		return -1;
	}
	if (sandbox_become(a, &what) != 0) {
		log_msg(LOG_ERR, "cannot become '%s': %s: %s", a->sysname, what,
		    strerror(errno));
		return -1;
	}
	umask((mode_t)a->umask);
	s->umask = a->umask;
	fd = vfs_open(&s->vfs, a->home, O_PATH | O_DIRECTORY, 0);
	if (fd < 0) {
		log_msg(LOG_WARNING, "home '%s' inside '%s': %s; starting in /",
		    a->home, a->root, strerror(errno));
		strcpy(s->cwd, "/");
	} else {
		close(fd);
		strcpy(s->cwd, a->home);
	}
	data_prepare(s);
	convert_prepare(s);
	sandbox_confine(s);
	/* what set-up freed (the configuration text, the filter's
	 * workspace) goes back to the system: an idle session is small */
	malloc_trim(0);
	return 0;
}

void
finish_login(struct session *s)
{
	/* decided: no password or hash is needed in this process again */
	config_wipe_secrets(s->cfg);
	login_timer_stop(&s->ctrl);
	if (enter_account(s) != 0) {
		reply(s, 421, "Service not available: cannot set up this account "
		    "(see the server log)");
		exit(EXIT_FAILURE_);
	}
	s->logged_in = 1;
	s->have_user = 0;
	log_set_user(s->acct.login);
	log_event("login", NULL, -1, "logged in as system user %s, root %s%s%s",
	    s->acct.change_identity ? s->acct.sysname : "(unchanged)", s->acct.root,
	    s->tls_on ? ", tls=" : "", s->tls_on ? s->tls_version : "");
	if (s->cfg->srv.welcome_file != NULL) {
		char vpath[VPATH_MAX], *msg = NULL;

		if (path_normalize("/", s->cfg->srv.welcome_file, vpath, sizeof vpath) == 0) {
			msg = read_message(s, vpath);
		}
		if (msg != NULL) {
			reply_message(s, 230, msg, "Login successful");
			free(msg);
			return;
		}
	}
	reply(s, 230, "Login successful");
}

static void
cmd_pass(struct session *s, char *arg)
{
	const char *pass = arg != NULL ? arg : "";
	enum auth_result r;

	if (s->logged_in) {
		reply(s, 503, "Already logged in");
		return;
	}
	if (!s->have_user) {
		reply(s, 503, "Login with USER first");
		return;
	}
	/* started as root, the decision is the privileged parent's */
	r = priv_separated() ? priv_login(s->user, pass) : login_check(s, s->user, pass);
	if (arg != NULL) {
		wipe(arg, strlen(arg));
	}
	switch (r) {
	case AUTH_OK:
		if (priv_separated()) {
			priv_handover(s);	/* the parent answers 230 */
		}
		finish_login(s);
		return;
	case AUTH_FAIL:
		s->have_user = 0;
		reply(s, 530, "Login incorrect");
		return;
	case AUTH_CLOSE:
		reply(s, 421, "Too many failed logins; closing control connection");
		exit(EXIT_OK);
	case AUTH_ERROR:
		break;
	}
	reply(s, 421, "Service not available: cannot set up this account "
	    "(see the server log)");
	exit(EXIT_FAILURE_);
}

static void
cmd_acct(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 202, "No account needed");
}

static void
cmd_rein(struct session *s, char *arg)
{
	(void)arg;
	/* this process has given up the rights to become another user */
	reply(s, 502, "REIN is not available after login; QUIT and reconnect "
	    "to log in as another user");
}

static void
cmd_quit(struct session *s, char *arg)
{
	(void)arg;
	session_logout(s, "logout");
	reply(s, 221, "Goodbye");
	s->quit = 1;
}

/* ---- information ---- */

static void
cmd_noop(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 200, "NOOP ok");
}

static void
cmd_syst(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 215, "UNIX Type: L8");
}

static void
cmd_help(struct session *s, char *arg)
{
	char text[1024];
	size_t len;

	if (arg != NULL) {
		char verb[8];
		size_t n = strlen(arg);

		for (size_t i = 0; i < n && i < sizeof verb - 1; i++) {
			verb[i] = (char)toupper((unsigned char)arg[i]);
		}
		verb[n < sizeof verb - 1 ? n : sizeof verb - 1] = '\0';
		if (n >= sizeof verb || find_command(verb) == NULL) {
			reply(s, 502, "Unknown command %s", verb);
		} else {
			reply(s, 214, "%s is understood", verb);
		}
		return;
	}
	len = (size_t)snprintf(text, sizeof text, "The following commands are "
	    "recognized.\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		len += (size_t)snprintf(text + len, sizeof text - len, "%s%s",
		    i % 12 == 0 ? " " : " ", commands[i].name);
		if (i % 12 == 11 || i == NCOMMANDS - 1) {
			len += (size_t)snprintf(text + len, sizeof text - len, "\n");
		}
	}
	snprintf(text + len, sizeof text - len, "Help OK");
	reply_lines(s, 214, text);
}

static void
cmd_stat(struct session *s, char *arg)
{
	char text[1024];

	if (arg != NULL) {
		list_stat(s, arg);
		return;
	}
	snprintf(text, sizeof text,
	    "FTP server status:\n"
	    " Connected to %s\n"
	    " Logged in as %s\n"
	    " TYPE: %s, STRUcture: File, MODE: Stream\n"
	    " Session timeout in seconds is %u\n"
	    " cellftpd %s\n"
	    "End of status",
	    s->peer_addr, s->acct.login, s->type_ascii ? "ASCII" : "BINARY",
	    s->cfg->srv.idle_timeout, CELLFTPD_VERSION);
	reply_lines(s, 211, text);
}

static void
cmd_feat(struct session *s, char *arg)
{
	char text[1024];
	size_t len;

	(void)arg;
	len = (size_t)snprintf(text, sizeof text, "Features:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		int tls_cmd = commands[i].fn == cmd_auth || commands[i].fn == cmd_pbsz ||
		    commands[i].fn == cmd_prot;

		if (tls_cmd && s->cfg->srv.tls == TLS_OFF) {
			continue;
		}
		if (commands[i].feat != NULL) {
			len += (size_t)snprintf(text + len, sizeof text - len, " %s\n",
			    commands[i].feat);
		} else if (commands[i].fn == cmd_mlst) {
			len += mlst_feat(s, text + len, sizeof text - len);
			len += (size_t)snprintf(text + len, sizeof text - len, "\n");
		}
	}
	snprintf(text + len, sizeof text - len, "End");
	reply_lines(s, 211, text);
}

static void
cmd_opts(struct session *s, char *arg)
{
	if (strcasecmp(arg, "UTF8 ON") == 0 || strcasecmp(arg, "UTF8") == 0) {
		s->utf8 = 1;
		reply(s, 200, "UTF8 mode on: names are sent as they are stored");
	} else if (strncasecmp(arg, "MLST", 4) == 0 && (arg[4] == ' ' || arg[4] == '\0')) {
		opts_mlst(s, arg[4] == ' ' ? arg + 5 : "");
	} else if (strcasecmp(arg, "UTF8 OFF") == 0) {
		s->utf8 = 0;
		reply(s, 200, "UTF8 mode off: names are still sent as they are stored");
	} else {
		reply(s, 501, "Option not understood");
	}
}

static void
cmd_host(struct session *s, char *arg)
{
	size_t n = strlen(arg);

	if (s->logged_in || s->have_user) {
		reply(s, 503, "HOST must come before USER");
		return;
	}
	if (n > HOST_NAME_MAX_FTP || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != n) {
		reply(s, 501, "Not a valid host name");
		return;
	}
	strcpy(s->host, arg);
	/* one site per server: every host name reaches the same users */
	reply(s, 220, "Host accepted");
}

static void
cmd_type(struct session *s, char *arg)
{
	if (strcasecmp(arg, "I") == 0 || strcasecmp(arg, "L 8") == 0) {
		s->type_ascii = 0;
		reply(s, 200, "Switching to Binary mode");
	} else if (strcasecmp(arg, "A") == 0 || strcasecmp(arg, "A N") == 0) {
		s->type_ascii = 1;
		reply(s, 200, "Switching to ASCII mode");
	} else if (strchr("AaEeLl", arg[0]) != NULL) {
		reply(s, 504, "Type %s not supported; use A or I", arg);
	} else {
		reply(s, 501, "Unknown type %s", arg);
	}
}

static void
cmd_mode(struct session *s, char *arg)
{
	if (strcasecmp(arg, "S") == 0) {
		reply(s, 200, "Mode set to Stream");
	} else if (strlen(arg) == 1 && strchr("BbCcZz", arg[0]) != NULL) {
		reply(s, 504, "Only Stream mode is supported");
	} else {
		reply(s, 501, "Unknown mode %s", arg);
	}
}

static void
cmd_stru(struct session *s, char *arg)
{
	if (strcasecmp(arg, "F") == 0) {
		reply(s, 200, "Structure set to File");
	} else if (strlen(arg) == 1 && strchr("RrPp", arg[0]) != NULL) {
		reply(s, 504, "Only File structure is supported");
	} else {
		reply(s, 501, "Unknown structure %s", arg);
	}
}

static void
cmd_allo(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 202, "No storage allocation necessary");
}

static void
cmd_auth(struct session *s, char *arg)
{
	if (s->cfg->srv.tls == TLS_OFF) {
		reply(s, 502, "TLS is not available on this server");
		return;
	}
	if (strcasecmp(arg, "TLS") != 0 && strcasecmp(arg, "SSL") != 0 &&
	    strcasecmp(arg, "TLS-C") != 0) {
		reply(s, 504, "AUTH %s is not supported; use AUTH TLS", arg);
		return;
	}
	if (s->tls_on) {
		reply(s, 503, "TLS is already on");
		return;
	}
	if (s->logged_in) {
		reply(s, 503, "AUTH TLS must come before login");
		return;
	}
	reply(s, 234, "AUTH TLS successful, start the TLS handshake");
	/* what was sent behind AUTH in the clear is never executed */
	s->ctrl.pos = s->ctrl.len = 0;
	s->ctrl.telnet = 0;
	s->ctrl.discard = 0;
	s->have_user = 0;
	s->pbsz = s->prot_p = 0;
	if (tls_start(s) != 0) {
		exit(EXIT_OK);		/* logged */
	}
}

static void
cmd_pbsz(struct session *s, char *arg)
{
	(void)arg;
	if (!s->tls_on) {
		reply(s, 503, "PBSZ needs AUTH TLS first");
		return;
	}
	s->pbsz = 1;
	reply(s, 200, "PBSZ=0");
}

static void
cmd_prot(struct session *s, char *arg)
{
	const char *user = s->logged_in ? s->acct.login : s->have_user ? s->user : NULL;

	if (!s->tls_on || !s->pbsz) {
		reply(s, 503, "PROT needs AUTH TLS and PBSZ first");
	} else if (strcasecmp(arg, "P") == 0) {
		s->prot_p = 1;
		reply(s, 200, "PROT now Private");
	} else if (strcasecmp(arg, "C") == 0) {
		if (tls_required(s->cfg, user) == REQ_ALL) {
			reply(s, 534, "PROT C refused: data connections must be protected");
			return;
		}
		s->prot_p = 0;
		reply(s, 200, "PROT now Clear");
	} else if (strcasecmp(arg, "S") == 0 || strcasecmp(arg, "E") == 0) {
		reply(s, 536, "PROT %s is not supported; use P or C", arg);
	} else {
		reply(s, 504, "PROT %s is not a protection level", arg);
	}
}

static void
cmd_ccc(struct session *s, char *arg)
{
	(void)arg;
	reply(s, 534, "CCC refused: the control connection stays protected");
}
