/* PAM, for system_login = pam and for system_auth = pam: the
 * conversation, the account check and the session. Only the root
 * parent of priv.c calls it; no network-facing process talks to PAM.
 *
 *   pamauth_check(): forks the checker, which does pam_start(pam_service),
 *                    sets PAM_RHOST to the client (as a trusted PROXY
 *                    header named it) and PAM_TTY to "ftp", calls
 *                    pam_authenticate and pam_acct_mgmt, sends back the
 *                    verdict, PAM_USER and PAM's reason, and ends: what
 *                    the modules read to decide (the account's shadow
 *                    entry in NSS buffers, libcrypt's state) never is in
 *                    the process that becomes the session.
 *   pamauth_open():  a second handle for PAM_USER in the parent, as root
 *                    before the drop: pam_setcred(PAM_ESTABLISH_CRED) and
 *                    pam_open_session, so that what pam_limits and
 *                    pam_loginuid set holds for the session process.
 *   pamauth_keep():  forks the closer: a root process that holds nothing
 *                    of the client's and, when the session has ended,
 *                    calls pam_close_session, pam_setcred(PAM_DELETE_CRED)
 *                    and pam_end. The session cannot: it is no longer
 *                    root, and its seccomp filter ends it for what
 *                    modules do.
 *
 * The conversation answers one PAM_PROMPT_ECHO_OFF with the password and
 * nothing else: a second prompt, PAM_PROMPT_ECHO_ON or an unknown style
 * fails it; PAM_TEXT_INFO and PAM_ERROR_MSG are logged.
 *
 * The parent's waits before login run under the login alarm (ctrl.c): a
 * module that blocks past login_timeout + LOGIN_GRACE_SEC is left (the
 * checker killed, or the parent's own call left by siglongjmp), the
 * connection is shut, one log line is written (itself bounded by
 * LOGIN_GRACE_SEC) and the process ends with _exit. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "cellftpd.h"

/* libpam is loaded when a PAM login first needs it, not by every
 * session: linked, it and its dependencies (libaudit, libcap-ng) cost
 * each connection a tenth of its CPU at start. __typeof__ keeps each
 * function checked against PAM's own prototype. */
#define PAM_FUNCS(X) \
	X(pam_start) X(pam_end) X(pam_set_item) X(pam_get_item) \
	X(pam_authenticate) X(pam_acct_mgmt) X(pam_setcred) \
	X(pam_open_session) X(pam_close_session) X(pam_strerror)

#define X(f) __typeof__(f) *f;
static struct { PAM_FUNCS(X) } lp;
#undef X

/* 0 once every function is there; -1 with why set. */
static int load_pam(void);

static pam_handle_t *pamh;
static int opened;		/* pam_open_session succeeded */
static char rhost[64];
static char why[300];		/* the reason of the last failure, for the log */
static unsigned timeout_s;

/* what the conversation may answer: the password, once */
static struct {
	const char *pass;
	int	    answered;
	int	    refused;	/* a prompt it does not answer */
} conv_state;

static int converse(int, const struct pam_message **, struct pam_response **, void *);
static struct pam_conv conv = { converse, NULL };

void
pamauth_client(const char *addr)
{
	snprintf(rhost, sizeof rhost, "%s", addr);
}

static void
drop_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp != NULL) {
			wipe(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;

	(void)data;
	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG) {
		return PAM_CONV_ERR;
	}
	if ((r = calloc((size_t)n, sizeof *r)) == NULL) {
		return PAM_BUF_ERR;
	}
	for (int i = 0; i < n; i++) {
		const char *text = msg[i]->msg != NULL ? msg[i]->msg : "";

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (conv_state.pass == NULL || conv_state.answered) {
				conv_state.refused = 1;
				drop_responses(r, n);
				return PAM_CONV_ERR;
			}
			/* PAM frees (and its modules overwrite) this copy */
			if ((r[i].resp = strdup(conv_state.pass)) == NULL) {
				drop_responses(r, n);
				return PAM_BUF_ERR;
			}
			conv_state.answered = 1;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			log_msg(LOG_INFO, "pam: %.200s", text);
			break;
		default:	/* PAM_PROMPT_ECHO_ON, binary prompts: not FTP's */
			conv_state.refused = 1;
			drop_responses(r, n);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* ---- a PAM call bounded by the login alarm ---- */

static sigjmp_buf expired;
static volatile sig_atomic_t guarded;
static volatile pid_t checker;	/* the process that authenticates, if any */

static void
on_alarm(int sig)
{
	(void)sig;
	shutdown(STDIN_FILENO, SHUT_RDWR);	/* as ctrl.c's handler does */
	if (checker > 0) {
		kill(checker, SIGKILL);
	}
	if (guarded) {
		guarded = 0;
		alarm(LOGIN_GRACE_SEC);		/* for the log line, at most */
		siglongjmp(expired, 1);
	}
	_exit(EXIT_OK);				/* the log line itself hung */
}

static int
guarded_call(int (*fn)(void *), void *arg, const char *step)
{
	struct sigaction sa, old;
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	if (sigsetjmp(expired, 1) != 0) {
		/* never back into the module: its state is abandoned */
		log_event("timeout", NULL, -1, "%s did not return within "
		    "login_timeout (%u seconds); closing", step, timeout_s);
		_exit(EXIT_OK);
	}
	guarded = 1;
	rc = fn(arg);
	guarded = 0;
	sigaction(SIGALRM, &old, NULL);
	return rc;
}

static int
call_setcred(void *flags)
{
	return lp.pam_setcred(pamh, *(int *)flags);
}

static int
call_open_session(void *unused)
{
	(void)unused;
	return lp.pam_open_session(pamh, 0);
}

/* ---- before login ---- */

static int accepted;		/* the checker said yes to name */
static char accepted_name[USER_NAME_MAX + 1];

void
pamauth_forget(void)
{
	if (pamh != NULL) {
		lp.pam_end(pamh, PAM_SUCCESS);
	}
	pamh = NULL;
	opened = 0;
	accepted = 0;
}

int
pamauth_pending(void)
{
	return accepted;
}

static void
because(const char *step, int rc)
{
	const char *hint = "";

	if (conv_state.refused) {
		hint = " (a module asked for more than the password)";
	} else if (rc == PAM_NEW_AUTHTOK_REQD) {
		hint = " (FTP cannot change a password)";
	}
	snprintf(why, sizeof why, "%s: %s%s", step, lp.pam_strerror(pamh, rc), hint);
}

static int
load_pam(void)
{
	void *lib;

	if (lp.pam_start != NULL) {
		return 0;
	}
	if ((lib = dlopen("libpam.so.0", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(why, sizeof why, "cannot load libpam.so.0: %s", dlerror());
		return -1;
	}
#define X(f) \
	if ((lp.f = (__typeof__(lp.f))dlsym(lib, #f)) == NULL) { \
		snprintf(why, sizeof why, "libpam.so.0 has no %s", #f); \
		lp.pam_start = NULL; \
		return -1; \
	}
	PAM_FUNCS(X)
#undef X
	return 0;
}

/* a handle for user with the client's address and tty set; -1 (why set) */
static int
start(const struct config *cfg, const char *user)
{
	int rc;

	if (load_pam() != 0) {
		pamh = NULL;
		return -1;
	}
	rc = lp.pam_start(cfg->srv.pam_service, user, &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		snprintf(why, sizeof why, "pam_start(%s): %s", cfg->srv.pam_service,
		    lp.pam_strerror(pamh, rc));
		pamh = NULL;
		return -1;
	}
	if ((rc = lp.pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS ||
	    (rc = lp.pam_set_item(pamh, PAM_TTY, "ftp")) != PAM_SUCCESS) {
		because("pam_set_item", rc);
		lp.pam_end(pamh, rc);
		pamh = NULL;
		return -1;
	}
	return 0;
}

/* The checker's answer: fixed size, one message. */
struct verdict {
	int	result;		/* enum auth_result */
	char	name[USER_NAME_MAX + 1];
	char	why[sizeof why];
};

/* In the checker: pam_authenticate and pam_acct_mgmt. What the modules
 * read to decide (the shadow entry, NSS buffers) stays in this process,
 * which ends, not in the one that becomes the session. */
static void
check_in_child(const struct config *cfg, const char *user, const char *pass, int fd)
{
	struct verdict v;
	const void *item = NULL;
	const char *step = "pam_authenticate";
	int rc;

	memset(&v, 0, sizeof v);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	signal(SIGALRM, SIG_DFL);
	v.result = AUTH_ERROR;
	if (start(cfg, user) == 0) {
		conv_state.pass = pass;
		rc = lp.pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
		conv_state.pass = NULL;		/* no module hears it again */
		if (rc == PAM_SUCCESS) {
			step = "pam_acct_mgmt";
			rc = lp.pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
		}
		if (rc == PAM_SUCCESS) {
			step = "pam_get_item(PAM_USER)";
			rc = lp.pam_get_item(pamh, PAM_USER, &item);
			if (rc == PAM_SUCCESS && (item == NULL ||
			    snprintf(v.name, sizeof v.name, "%s", (const char *)item) >=
			    (int)sizeof v.name)) {
				rc = PAM_USER_UNKNOWN;
			}
		}
		v.result = rc == PAM_SUCCESS ? AUTH_OK : AUTH_FAIL;
		if (rc != PAM_SUCCESS) {
			because(step, rc);
		}
		lp.pam_end(pamh, rc);
	}
	memcpy(v.why, why, sizeof v.why);
	(void)!write(fd, &v, sizeof v);
	_exit(EXIT_OK);
}

struct reading {
	int	fd;
	struct verdict v;
};

static int
read_verdict(void *arg)
{
	struct reading *r = arg;
	struct verdict *v = &r->v;
	size_t got = 0;
	ssize_t n;

	while (got < sizeof *v) {
		n = read(r->fd, (char *)v + got, sizeof *v - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

enum auth_result
pamauth_check(const struct config *cfg, const char *user, const char *pass,
    char *name, size_t size, const char **reason)
{
	struct reading m;
	int p[2], ok;
	pid_t pid;

	pamauth_forget();
	*reason = why;
	log_set_user(user);	/* for what is logged on the way */
	if (geteuid() != 0) {
		snprintf(why, sizeof why, "PAM logins need cellftpd started as root");
		return AUTH_ERROR;
	}
	timeout_s = cfg->srv.login_timeout;
	memset(&conv_state, 0, sizeof conv_state);
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(why, sizeof why, "cannot start the PAM check: %s", strerror(errno));
		return AUTH_ERROR;
	}
	if (pid == 0) {
		close(p[0]);
		check_in_child(cfg, user, pass, p[1]);
	}
	close(p[1]);
	checker = pid;
	memset(&m, 0, sizeof m);
	m.fd = p[0];
	ok = guarded_call(read_verdict, &m, "the PAM check (pam_authenticate, "
	    "pam_acct_mgmt)") == 0;
	checker = 0;
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		continue;
	}
	if (!ok) {
		snprintf(why, sizeof why, "the PAM check ended without an answer");
		return AUTH_ERROR;
	}
	m.v.why[sizeof m.v.why - 1] = '\0';
	m.v.name[sizeof m.v.name - 1] = '\0';
	memcpy(why, m.v.why, sizeof why);
	if (m.v.result != AUTH_OK) {
		return m.v.result == AUTH_FAIL ? AUTH_FAIL : AUTH_ERROR;
	}
	if (snprintf(name, size, "%s", m.v.name) >= (int)size) {
		snprintf(why, sizeof why, "PAM_USER too long");
		return AUTH_FAIL;
	}
	snprintf(accepted_name, sizeof accepted_name, "%s", m.v.name);
	accepted = 1;
	return AUTH_OK;
}

int
pamauth_open(const struct config *cfg, const char **reason)
{
	int establish = PAM_ESTABLISH_CRED, delete = PAM_DELETE_CRED, rc;

	*reason = why;
	accepted = 0;
	if (start(cfg, accepted_name) != 0) {
		return -1;
	}
	rc = guarded_call(call_setcred, &establish, "pam_setcred");
	if (rc != PAM_SUCCESS) {
		because("pam_setcred", rc);
		pamauth_forget();
		return -1;
	}
	rc = guarded_call(call_open_session, NULL, "pam_open_session");
	if (rc != PAM_SUCCESS) {
		because("pam_open_session", rc);
		(void)guarded_call(call_setcred, &delete, "pam_setcred");
		pamauth_forget();
		return -1;
	}
	opened = 1;
	return 0;
}

/* ---- after login: the closer ---- */

void
pamauth_keep(int close_fd)
{
	int p[2], null;
	pid_t pid;
	char c;

	if (pamh == NULL || !opened) {
		return;
	}
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		log_msg(LOG_WARNING, "pam: no process to close the session when it "
		    "ends: %s", strerror(errno));
		lp.pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
		pamh = NULL;
		return;
	}
	if (pid > 0) {
		/* the session: p[1] stays open until it (and what it forks)
		 * ends; its copy of the handle is dropped, the modules' data
		 * left alone (PAM_DATA_SILENT): the closer cleans up */
		close(p[0]);
		lp.pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
		pamh = NULL;
		opened = 0;
		return;
	}
	/* the closer: root, no seccomp filter, and none of the client's
	 * connections, nor the session's slot, held open */
	close(p[1]);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	if (close_fd >= 0) {
		close(close_fd);
	}
	slots_forget();
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGALRM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	while (read(p[0], &c, 1) < 0 && errno == EINTR) {
		continue;	/* end of file: the session has ended */
	}
	alarm(PAM_CLOSE_SEC);	/* a module that hangs here ends this process */
	{
		int rc = lp.pam_close_session(pamh, 0);

		if (rc != PAM_SUCCESS) {
			log_msg(LOG_WARNING, "pam_close_session: %s", lp.pam_strerror(pamh, rc));
		}
		rc = lp.pam_setcred(pamh, PAM_DELETE_CRED);
		if (rc != PAM_SUCCESS) {
			log_msg(LOG_WARNING, "pam_setcred(PAM_DELETE_CRED): %s",
			    lp.pam_strerror(pamh, rc));
		}
		lp.pam_end(pamh, rc);
	}
	_exit(EXIT_OK);
}
