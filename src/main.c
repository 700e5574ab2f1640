/* Entry: options, the check that fd 0 is a connected socket, and the
 * start of one session. Under inetd fds 0, 1 and 2 are all the client's
 * socket, so nothing but FTP replies may be written to them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include "cellftpd.h"

#define DEFAULT_CONFIG "/etc/cellftpd.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: cellftpd [-c FILE] [-d] [-i] [-t] [-T [-u USER]] [-H] [-V] [-h]\n"
	    "  -c FILE  configuration (default " DEFAULT_CONFIG "),\n"
	    "           then FILE.d/*.conf in name order\n"
	    "  -i       implicit FTPS (port 990): TLS from the first byte\n"
	    "  -t       check the configuration and exit (0 usable, 1 not)\n"
	    "  -T       check it, then print it with every default filled in\n"
	    "  -u USER  with -T: also the section a login as USER applies\n"
	    "  -d       debug: log the whole control dialogue (passwords masked)\n"
	    "  -H       read a password on standard input, print its yescrypt hash\n"
	    "  -V       print the version\n"
	    "  -h       this help\n"
	    "cellftpd serves one FTP connection on standard input; start it from\n"
	    "systemd (cellftpd.socket), xinetd or inetd.\n");
}

/* The problems found, then the summary, in this order on one stream. */
static void
report(const struct config *cfg, const char *path, FILE *f)
{
	size_t warnings = cfg->nproblems - (cfg->nerrors < cfg->nproblems ?
	    cfg->nerrors : cfg->nproblems);

	for (size_t i = 0; i < cfg->nproblems; i++) {
		fprintf(f, "%s\n", cfg->problems[i]);
	}
	fprintf(f, "%s: %s, %zu user%s, %zu error%s, %zu warning%s\n", path,
	    cfg->nerrors == 0 ? "usable" : "not usable",
	    cfg->nusers, cfg->nusers == 1 ? "" : "s",
	    cfg->nerrors, cfg->nerrors == 1 ? "" : "s",
	    warnings, warnings == 1 ? "" : "s");
}

/* -t: the report on standard output; -T: the configuration there, and
 * what -t would say on standard error (all of it when unusable, else
 * the warnings), so that standard output reads as a configuration. */
static int
check_config(const char *path, int show, const char *user)
{
	struct config *cfg = config_load(path, CONF_CHECK_FILE | CONF_CHECK_FS |
	    CONF_CHECK_TLS);
	int rc = cfg->nerrors > 0 ? EXIT_CONFIG : EXIT_OK;

	if (!show) {
		report(cfg, path, stdout);
		sandbox_report(stdout);
	} else if (rc != EXIT_OK) {
		report(cfg, path, stderr);
	} else {
		for (size_t i = 0; i < cfg->nproblems; i++) {
			fprintf(stderr, "%s\n", cfg->problems[i]);
		}
		if (config_show(cfg, user, stdout, stderr) != 0) {
			rc = EXIT_CONFIG;
		}
	}
	config_free(cfg);
	return rc;
}

static int
hash_password(void)
{
	char pass[PASSWORD_MAX + 2], hash[256];
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	size_t n;
	int rc = EXIT_OK;

	if (tty) {
		fprintf(stderr, "password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(pass, sizeof pass, stdin) == NULL) {
		pass[0] = '\0';
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	n = strcspn(pass, "\r\n");
	if (n == 0 || n > PASSWORD_MAX) {
		fprintf(stderr, "cellftpd: give a password of 1 to %d bytes on "
		    "standard input\n", PASSWORD_MAX);
		rc = EXIT_CONFIG;
	} else {
		pass[n] = '\0';
		if (auth_hash_password(pass, hash, sizeof hash) != 0) {
			fprintf(stderr, "cellftpd: cannot hash: %s\n", strerror(errno));
			rc = EXIT_FAILURE_;
		} else {
			printf("%s\n", hash);
		}
	}
	wipe(pass, sizeof pass);
	return rc;
}

/* fd 1 never carries anything; fd 2 only when it is not the socket. */
static void
quiet_std_fds(void)
{
	struct stat s0, s2;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0) {
		exit(EXIT_FAILURE_);
	}
	dup2(null, STDOUT_FILENO);
	if (fstat(STDIN_FILENO, &s0) != 0 || fstat(STDERR_FILENO, &s2) != 0 ||
	    (s0.st_dev == s2.st_dev && s0.st_ino == s2.st_ino)) {
		dup2(null, STDERR_FILENO);
	}
	if (null > STDERR_FILENO) {
		close(null);
	}
}

int
main(int argc, char **argv)
{
	const char *conf = DEFAULT_CONFIG, *user = NULL;
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof local, plen = sizeof peer;
	int type = 0, one = 1, debug = 0, test = 0, show = 0, hash = 0, implicit = 0;
	int opt;
	int proxied, late;
	socklen_t tlen = sizeof type;
	/* static: zero already, and its pages are touched only as used */
	static struct session s;
	struct config *cfg;

	while ((opt = getopt(argc, argv, "c:ditTu:HVh")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'd': debug = 1; break;
		case 'i': implicit = 1; break;
		case 't': test = 1; break;
		case 'T': show = 1; break;
		case 'u': user = optarg; break;
		case 'H': hash = 1; break;
		case 'V': printf("cellftpd %s\n", CELLFTPD_VERSION); return EXIT_OK;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_CONFIG;
		}
	}
	if (optind != argc || (user != NULL && !show)) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (hash) {
		return hash_password();
	}
	if (test || show) {
		return check_config(conf, show, user);
	}
	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
	    type != SOCK_STREAM ||
	    getpeername(STDIN_FILENO, (struct sockaddr *)&peer, &plen) != 0 ||
	    getsockname(STDIN_FILENO, (struct sockaddr *)&local, &llen) != 0) {
		fprintf(stderr, "cellftpd: standard input is not a connected socket; "
		    "start cellftpd from systemd, xinetd or inetd, or try: "
		    "systemd-socket-activate --accept --inetd -l 127.0.0.1:2121 "
		    "cellftpd -c FILE\n");
		return EXIT_NOSOCKET;
	}
	quiet_std_fds();
	signal(SIGPIPE, SIG_IGN);
	/* past RLIMIT_FSIZE (pam_limits' fsize) a write fails with EFBIG,
	 * answered 552, instead of killing the session mid-upload */
	signal(SIGXFSZ, SIG_IGN);
	setsockopt(STDIN_FILENO, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* Telnet Synch before ABOR arrives as urgent data: keep it in the
	 * stream, where the IAC filter removes it */
	setsockopt(STDIN_FILENO, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);

	s.ctrl.fd = STDIN_FILENO;
	session_addresses(&s, &peer, &local);
	strcpy(s.cwd, "/");
	s.local_sa = local;
	s.pasv_fd = -1;
	s.tls_chan = -1;
	s.mlst_facts = mlst_default_facts();

	cfg = config_load(conf, CONF_CHECK_FILE | CONF_CHECK_FS);
	log_open(cfg->srv.log, debug);	/* as the file says, else the default */
	if (cfg->nerrors > 0) {
		for (size_t i = 0; i < cfg->nproblems; i++) {
			log_msg(LOG_ERR, "configuration: %s", cfg->problems[i]);
		}
		reply(&s, 421, "Service not available: configuration error "
		    "(see the server log)");
		return EXIT_CONFIG;
	}
	if (implicit) {
		cfg->srv.tls = TLS_IMPLICIT;
		if (cfg->srv.tls_certificate == NULL) {
			log_msg(LOG_ERR, "-i (implicit FTPS) needs tls_certificate");
			return EXIT_CONFIG;
		}
	}
	s.cfg = cfg;
	s.ctrl.idle_timeout = cfg->srv.idle_timeout;
	{
		/* a client that stops reading cannot hold the session: a reply
		 * that cannot be written within idle_timeout ends it */
		struct timeval tv = { (time_t)cfg->srv.idle_timeout, 0 };

		setsockopt(STDIN_FILENO, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	}
	login_timer_start(&s.ctrl, cfg->srv.login_timeout);
	if ((proxied = proxy_expected(&s)) < 0) {
		return EXIT_OK;		/* refused, logged */
	}
	/* with privilege separation the network-facing pre-login process
	 * reads the header, and the session opens in priv_start() */
	late = proxied && priv_needed(cfg);
	if (!late && ((proxied && proxy_take(&s) != 0) || session_open(&s) != 0)) {
		return EXIT_OK;
	}
	switch (priv_start(&s, cfg, late)) {
	case 0:		/* the pre-login process, or not started as root */
		session_run(&s);
		tls_end(&s);
		break;
	case 1:		/* the privileged parent, after a login */
		finish_login(&s);
		session_run(&s);
		break;
	default:
		reply(&s, 421, "Service not available (see the server log)");
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}
