/* Privilege separation before login (started as root only).
 *
 * The session forks. The child reads and parses the network: it runs as
 * unprivileged_user, chrooted into an empty directory, with no secrets
 * in memory. The parent, still root, never reads the network before
 * login: it answers one kind of request over a socketpair, "may USER log
 * in with PASSWORD", with fixed-size, length-checked messages. It applies
 * the failure delay and the failure cap itself, so a child taken over by
 * an attacker gains no extra guesses. On success the child hands over
 * what it had read past PASS and exits; the parent becomes the session.
 *
 * Everything this file does as root is in priv_monitor(); with PAM, it
 * calls pam.c, which is as privileged (see there). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "cellftpd.h"

#define PRIV_MAGIC_REQ	0x63667031u	/* "cfp1" */
#define PRIV_MAGIC_REP	0x63667032u
#define PRIV_MAGIC_HAND	0x63667033u
#define PRIV_MAGIC_PEER	0x63667034u

struct priv_req {
	uint32_t magic;
	uint32_t user_len;
	uint32_t pass_len;
	char	 user[USER_NAME_MAX];
	char	 pass[PASSWORD_MAX];
};

struct priv_rep {
	uint32_t magic;
	uint32_t result;		/* enum auth_result */
};

/* What the child had read and decided that the session needs. */
struct priv_hand {
	uint32_t magic;
	uint32_t len;			/* bytes of buf: read past PASS */
	int32_t	 telnet;		/* telnet_strip state */
	int32_t	 discard;
	int32_t	 type_ascii;
	int32_t	 utf8;
	int32_t	 tls;			/* the child stays, as the TLS relay */
	int32_t	 pbsz;
	int32_t	 prot_p;
	char	 tls_version[16];
	char	 buf[CTRL_LINE_MAX];
};

/* The client a PROXY header named, and what it connected to. */
struct priv_peer {
	uint32_t magic;
	struct sockaddr_storage src, dst;
};

static int priv_fd = -1;	/* the child's end; -1 without separation */

int
priv_separated(void)
{
	return priv_fd >= 0;
}

static int
send_msg(int fd, const void *m, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, m, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* Exactly one message of exactly len bytes, else -1. */
static int
recv_msg(int fd, void *m, size_t len)
{
	ssize_t n;

	do {
		n = recv(fd, m, len, MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* ---- the child: unprivileged, network-facing ---- */

static void
become_unprivileged(const struct config *cfg)
{
	const char *name = cfg->srv.unprivileged_user;
	struct passwd *pw = getpwnam(name);
	struct rlimit none = { 0, 0 }, files = { PRELOGIN_FILES_MAX, PRELOGIN_FILES_MAX };
	struct stat st;

	if (pw == NULL || pw->pw_uid == 0) {
		log_msg(LOG_ERR, "unprivileged_user '%s' is unknown or root", name);
		_exit(EXIT_FAILURE_);
	}
	/* an empty directory nobody can write: nothing to read, nowhere to
	 * write, no device, no setuid program */
	if (stat(PRELOGIN_ROOT, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022) != 0) {
		log_msg(LOG_ERR, "%s must be a directory owned by root and writable "
		    "by nobody else", PRELOGIN_ROOT);
		_exit(EXIT_FAILURE_);
	}
	log_before_chroot();
	if (chroot(PRELOGIN_ROOT) != 0 || chdir("/") != 0) {
		log_msg(LOG_ERR, "cannot chroot to %s: %s", PRELOGIN_ROOT, strerror(errno));
		_exit(EXIT_FAILURE_);
	}
	if (setgroups(0, NULL) != 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0 ||
	    setuid(0) == 0 || seteuid(0) == 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &none) != 0 ||
	    setrlimit(RLIMIT_NPROC, &none) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &files) != 0) {
		log_msg(LOG_ERR, "cannot drop privileges before login: %s",
		    strerror(errno));
		_exit(EXIT_FAILURE_);
	}
}

enum auth_result
priv_login(const char *user, const char *pass)
{
	struct priv_req req;
	struct priv_rep rep;
	size_t ul = strlen(user), pl = strlen(pass);
	int ok;

	memset(&req, 0, sizeof req);
	req.magic = PRIV_MAGIC_REQ;
	/* too long to be right, but the parent delays and counts it: the
	 * message says so with lengths that cannot be sent otherwise */
	req.user_len = ul > sizeof req.user ? (uint32_t)sizeof req.user + 1 : (uint32_t)ul;
	req.pass_len = pl > sizeof req.pass ? (uint32_t)sizeof req.pass + 1 : (uint32_t)pl;
	memcpy(req.user, user, ul > sizeof req.user ? 0 : ul);
	memcpy(req.pass, pass, pl > sizeof req.pass ? 0 : pl);
	ok = send_msg(priv_fd, &req, sizeof req) == 0 &&
	    recv_msg(priv_fd, &rep, sizeof rep) == 0 && rep.magic == PRIV_MAGIC_REP &&
	    rep.result <= AUTH_CLOSE;
	wipe(&req, sizeof req);
	return ok ? (enum auth_result)rep.result : AUTH_ERROR;
}

/* The PROXY header, read here, names the client to the parent, which
 * then opens the session (limits, greeting) or refuses it. */
static void
prelogin_proxy(struct session *s)
{
	struct proxy_header h;
	struct priv_peer m;
	struct priv_rep rep;

	if (proxy_receive(s, &h) != 0) {
		_exit(EXIT_OK);			/* logged, or a health check */
	}
	memset(&m, 0, sizeof m);
	m.magic = PRIV_MAGIC_PEER;
	m.src = h.src;
	m.dst = h.dst;
	if (send_msg(priv_fd, &m, sizeof m) != 0 ||
	    recv_msg(priv_fd, &rep, sizeof rep) != 0 ||
	    rep.magic != PRIV_MAGIC_REP || rep.result != 0) {
		_exit(EXIT_OK);			/* the parent refused, and said so */
	}
}

void
priv_handover(const struct session *s)
{
	struct priv_hand h;
	const struct ctrl *c = &s->ctrl;

	memset(&h, 0, sizeof h);
	h.magic = PRIV_MAGIC_HAND;
	h.len = (uint32_t)(c->len - c->pos);
	memcpy(h.buf, c->buf + c->pos, h.len);
	h.telnet = c->telnet;
	h.discard = c->discard;
	h.type_ascii = s->type_ascii;
	h.utf8 = s->utf8;
	h.tls = s->ctrl.tls != NULL;
	h.pbsz = s->pbsz;
	h.prot_p = s->prot_p;
	memcpy(h.tls_version, s->tls_version, sizeof h.tls_version);
	if (h.tls) {
		/* the TLS state cannot move: this process relays plaintext */
		int sp[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 ||
		    send_msg(priv_fd, &h, sizeof h) != 0 ||
		    tls_handover_fd(priv_fd, sp[0]) != 0) {
			_exit(EXIT_FAILURE_);
		}
		close(sp[0]);
		tls_relay((struct session *)s, sp[1], priv_fd);
	}
	send_msg(priv_fd, &h, sizeof h);
	_exit(EXIT_OK);
}

/* ---- the parent: root, never reads the network before login ---- */

static pid_t child;

static void
end(int code)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	exit(code);
}

static int
inet_family(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

/* The client's address from the pre-login process, checked; then the
 * session opens as if it had connected directly. */
static void
monitor_proxy(struct session *s, int fd)
{
	struct priv_peer m;
	struct priv_rep rep = { PRIV_MAGIC_REP, 0 };

	if (recv_msg(fd, &m, sizeof m) != 0) {
		end(EXIT_OK);		/* no header: the child logged why */
	}
	if (m.magic != PRIV_MAGIC_PEER || !inet_family(&m.src) ||
	    m.dst.ss_family != m.src.ss_family) {
		log_msg(LOG_ERR, "malformed address from the pre-login process");
		end(EXIT_FAILURE_);
	}
	proxy_apply(s, &m.src, &m.dst);
	rep.result = session_open(s) != 0;
	if (send_msg(fd, &rep, sizeof rep) != 0 || rep.result != 0) {
		end(EXIT_OK);
	}
}

/* A login PAM accepted: its session opens now, as root, before the
 * drop (pam_setcred, pam_open_session), or the login fails. */
static enum auth_result
monitor_pam_session(struct session *s)
{
	const char *reason;

	if (pamauth_open(s->cfg, &reason) == 0) {
		return AUTH_OK;
	}
	log_event("login-failed", NULL, -1, "login failed: %s", reason);
	s->failures++;
	return s->failures >= s->cfg->srv.max_login_failures ? AUTH_CLOSE : AUTH_FAIL;
}

/* Answer requests until a login succeeds; then take over the session. */
static void
priv_monitor(struct session *s, int fd)
{
	struct priv_req req;
	struct priv_rep rep = { PRIV_MAGIC_REP, 0 };
	struct priv_hand h;
	char user[USER_NAME_MAX + 2], pass[PASSWORD_MAX + 2];

	for (;;) {
		enum auth_result r;

		if (recv_msg(fd, &req, sizeof req) != 0) {
			end(EXIT_OK);		/* the child ended the session */
		}
		if (req.magic != PRIV_MAGIC_REQ || req.user_len > sizeof req.user + 1 ||
		    req.pass_len > sizeof req.pass + 1 ||
		    (req.user_len <= sizeof req.user &&
		    memchr(req.user, '\0', req.user_len) != NULL) ||
		    (req.pass_len <= sizeof req.pass &&
		    memchr(req.pass, '\0', req.pass_len) != NULL)) {
			log_msg(LOG_ERR, "malformed request from the pre-login process");
			end(EXIT_FAILURE_);
		}
		/* an over-long name or password arrives as one byte too long:
		 * login_check refuses it like any wrong password */
		memset(user, 'x', sizeof user);
		memset(pass, 'x', sizeof pass);
		if (req.user_len <= sizeof req.user) {
			memcpy(user, req.user, req.user_len);
		}
		user[req.user_len] = '\0';
		if (req.pass_len <= sizeof req.pass) {
			memcpy(pass, req.pass, req.pass_len);
		}
		pass[req.pass_len] = '\0';
		wipe(&req, sizeof req);
		{
			size_t n = strnlen(user, sizeof s->user - 1);	/* for the log */

			memcpy(s->user, user, n);
			s->user[n] = '\0';
		}
		pamauth_client(s->peer_addr);	/* PAM_RHOST: the real client */
		r = login_check(s, user, pass);
		wipe(pass, sizeof pass);
		if (r == AUTH_OK && pamauth_pending()) {
			r = monitor_pam_session(s);
		}
		rep.result = r;
		if (send_msg(fd, &rep, sizeof rep) != 0) {
			end(EXIT_OK);
		}
		if (r == AUTH_CLOSE || r == AUTH_ERROR) {
			waitpid(child, NULL, 0);
			exit(r == AUTH_CLOSE ? EXIT_OK : EXIT_FAILURE_);
		}
		if (r == AUTH_OK) {
			break;
		}
	}
	if (recv_msg(fd, &h, sizeof h) != 0 || h.magic != PRIV_MAGIC_HAND ||
	    h.len > sizeof h.buf) {
		log_msg(LOG_ERR, "no hand-over from the pre-login process");
		end(EXIT_FAILURE_);
	}
	if (h.tls) {
		/* the child stays as the TLS relay: the control connection is
		 * now its plaintext side, and fd asks it for data connections */
		int plain = tls_receive_fd(fd);

		if (plain < 0 || dup2(plain, STDIN_FILENO) < 0) {
			log_msg(LOG_ERR, "no control connection from the TLS relay");
			end(EXIT_FAILURE_);
		}
		close(plain);
		s->tls_on = 1;
		s->pbsz = h.pbsz != 0;
		s->prot_p = h.prot_p != 0;
		memcpy(s->tls_version, h.tls_version, sizeof s->tls_version);
		s->tls_version[sizeof s->tls_version - 1] = '\0';
		s->tls_chan = fd;
		child = 0;
		/* the relay is this session's only child: the kernel reaps it
		 * when it ends, so it never stays as a zombie of a session */
		signal(SIGCHLD, SIG_IGN);
	} else {
		waitpid(child, NULL, 0);
		child = 0;
		close(fd);
	}
	/* a PAM session is closed, when this one ends, by a root process
	 * left behind for that alone */
	pamauth_keep(h.tls ? s->tls_chan : -1);
	memcpy(s->ctrl.buf, h.buf, h.len);
	s->ctrl.pos = 0;
	s->ctrl.len = h.len;
	s->ctrl.telnet = h.telnet;
	s->ctrl.discard = h.discard != 0;
	s->type_ascii = h.type_ascii != 0;
	s->utf8 = h.utf8 != 0;
}

/* Started as root (or with TLS, which needs a process to hold it): split
 * the session. Returns in the child (to run the pre-login dialogue) and,
 * after a successful login, in the parent. */
int
priv_needed(const struct config *cfg)
{
	return geteuid() == 0 || cfg->srv.tls != TLS_OFF;
}

int
priv_start(struct session *s, struct config *cfg, int header)
{
	int sp[2], root = geteuid() == 0;

	if (!priv_needed(cfg)) {
		return 0;	/* nothing to separate */
	}
	umask(022);
	if ((root && mkdir(RUN_DIR, 0755) != 0 && errno != EEXIST) ||
	    (root && mkdir(PRELOGIN_ROOT, 0755) != 0 && errno != EEXIST) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0 ||
	    (child = fork()) < 0) {
		log_msg(LOG_ERR, "cannot separate privileges: %s", strerror(errno));
		return -1;
	}
	if (child == 0) {
		close(sp[0]);
		slots_forget();
		priv_fd = sp[1];
		config_wipe_secrets(cfg);
		/* the key is read now, as root, by this process alone */
		if (cfg->srv.tls != TLS_OFF && tls_setup(cfg) != 0) {
			if (cfg->srv.tls != TLS_IMPLICIT) {
				reply(s, 421, "Service not available: TLS is not "
				    "set up (see the server log)");
			}
			_exit(EXIT_FAILURE_);
		}
		if (root) {
			become_unprivileged(cfg);
		} else {
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		}
		sandbox_scope();	/* no signals to other connections */
		if (header) {
			prelogin_proxy(s);
		}
		if (cfg->srv.tls == TLS_IMPLICIT) {
			if (tls_start(s) != 0) {
				_exit(EXIT_OK);		/* logged */
			}
			reply(s, 220, "%s", cfg->srv.banner);
		}
		return 0;
	}
	close(sp[1]);
	if (header) {
		monitor_proxy(s, sp[0]);
	}
	priv_monitor(s, sp[0]);
	return 1;
}
