/* PAM, for system_login = pam and for system_auth = pam: the
 * conversation, the account check and the session. Only the root
 * parent of priv.c calls it; no network-facing process talks to PAM.
 *
 *   pamauth_check(): pam_start(pam_service), PAM_RHOST the client (as a
 *                    trusted PROXY header named it), PAM_TTY "ftp",
 *                    pam_authenticate, pam_acct_mgmt.
 *   pamauth_open():  pam_setcred(PAM_ESTABLISH_CRED), pam_open_session,
 *                    as root before the drop, so that what pam_limits and
 *                    pam_loginuid set holds for the session process.
 *   pamauth_keep():  fork the closer: a root process that holds nothing of
 *                    the client's and, when the session has ended, calls
 *                    pam_close_session, pam_setcred(PAM_DELETE_CRED) and
 *                    pam_end. The session cannot: it is no longer root,
 *                    and its seccomp filter ends it for what modules do.
 *
 * The conversation answers one PAM_PROMPT_ECHO_OFF with the password and
 * nothing else: a second prompt, PAM_PROMPT_ECHO_ON or an unknown style
 * fails it; PAM_TEXT_INFO and PAM_ERROR_MSG are logged.
 *
 * Every PAM call before login runs under the login alarm (ctrl.c): a
 * module that blocks past login_timeout + LOGIN_GRACE_SEC is left by
 * siglongjmp, the connection is shut, one log line is written (itself
 * bounded by LOGIN_GRACE_SEC) and the process ends with _exit. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "cellftpd.h"

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

static void
on_alarm(int sig)
{
	(void)sig;
	shutdown(STDIN_FILENO, SHUT_RDWR);	/* as ctrl.c's handler does */
	if (guarded) {
		guarded = 0;
		alarm(LOGIN_GRACE_SEC);		/* for the log line, at most */
		siglongjmp(expired, 1);
	}
	_exit(EXIT_OK);				/* the log line itself hung */
}

static int
guarded_call(int (*fn)(pam_handle_t *, int), int flags, const char *step)
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
	rc = fn(pamh, flags);
	guarded = 0;
	sigaction(SIGALRM, &old, NULL);
	return rc;
}

/* ---- before login ---- */

void
pamauth_forget(void)
{
	if (pamh != NULL) {
		pam_end(pamh, PAM_SUCCESS);
	}
	pamh = NULL;
	opened = 0;
}

int
pamauth_pending(void)
{
	return pamh != NULL;
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
	snprintf(why, sizeof why, "%s: %s%s", step, pam_strerror(pamh, rc), hint);
}

enum auth_result
pamauth_check(const struct config *cfg, const char *user, const char *pass,
    char *name, size_t size, const char **reason)
{
	const void *item = NULL;
	const char *step = "pam_authenticate";
	int rc;

	pamauth_forget();
	*reason = why;
	log_set_user(user);	/* for what is logged on the way */
	if (geteuid() != 0) {
		snprintf(why, sizeof why, "PAM logins need cellftpd started as root");
		return AUTH_ERROR;
	}
	timeout_s = cfg->srv.login_timeout;
	memset(&conv_state, 0, sizeof conv_state);
	rc = pam_start(cfg->srv.pam_service, user, &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		snprintf(why, sizeof why, "pam_start(%s): %s", cfg->srv.pam_service,
		    pam_strerror(pamh, rc));
		pamauth_forget();
		return AUTH_ERROR;
	}
	if ((rc = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS ||
	    (rc = pam_set_item(pamh, PAM_TTY, "ftp")) != PAM_SUCCESS) {
		because("pam_set_item", rc);
		pamauth_forget();
		return AUTH_ERROR;
	}
	conv_state.pass = pass;
	rc = guarded_call(pam_authenticate, PAM_DISALLOW_NULL_AUTHTOK, step);
	conv_state.pass = NULL;		/* no module hears it again */
	if (rc == PAM_SUCCESS) {
		step = "pam_acct_mgmt";
		rc = guarded_call(pam_acct_mgmt, PAM_DISALLOW_NULL_AUTHTOK, step);
	}
	if (rc == PAM_SUCCESS) {
		rc = pam_get_item(pamh, PAM_USER, &item);
		step = "pam_get_item(PAM_USER)";
		if (rc == PAM_SUCCESS && (item == NULL ||
		    snprintf(name, size, "%s", (const char *)item) >= (int)size)) {
			rc = PAM_USER_UNKNOWN;
		}
	}
	if (rc != PAM_SUCCESS) {
		because(step, rc);
		pamauth_forget();
		return AUTH_FAIL;
	}
	return AUTH_OK;
}

int
pamauth_open(const char **reason)
{
	int rc;

	*reason = why;
	rc = guarded_call(pam_setcred, PAM_ESTABLISH_CRED, "pam_setcred");
	if (rc != PAM_SUCCESS) {
		because("pam_setcred", rc);
		pamauth_forget();
		return -1;
	}
	rc = guarded_call(pam_open_session, 0, "pam_open_session");
	if (rc != PAM_SUCCESS) {
		because("pam_open_session", rc);
		(void)guarded_call(pam_setcred, PAM_DELETE_CRED, "pam_setcred");
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
		pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
		pamh = NULL;
		return;
	}
	if (pid > 0) {
		/* the session: p[1] stays open until it (and what it forks)
		 * ends; the handle's copy here is dropped, the password that
		 * PAM_AUTHTOK held overwritten, the modules' data left alone */
		close(p[0]);
		pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
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
		int rc = pam_close_session(pamh, 0);

		if (rc != PAM_SUCCESS) {
			log_msg(LOG_WARNING, "pam_close_session: %s", pam_strerror(pamh, rc));
		}
		rc = pam_setcred(pamh, PAM_DELETE_CRED);
		if (rc != PAM_SUCCESS) {
			log_msg(LOG_WARNING, "pam_setcred(PAM_DELETE_CRED): %s",
			    pam_strerror(pamh, rc));
		}
		pam_end(pamh, rc);
	}
	_exit(EXIT_OK);
}
