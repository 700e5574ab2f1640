/* Unit tests of cellftpd's pure functions: path normalisation, reply
 * formatting, Telnet stripping, configuration parsing, CIDR matching,
 * time values; the seccomp filters built into a session and the
 * pre-login process, their signals, and the xferlog writer. Output is
 * TAP, counted by tests/run.sh. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cellftpd.h"

static int ntests, failed;

static void
ok(int cond, const char *what)
{
	ntests++;
	if (!cond) {
		failed++;
	}
	printf("%sok %d - %s\n", cond ? "" : "not ", ntests, what);
}

static void
norm(const char *cwd, const char *arg, const char *want)
{
	char out[VPATH_MAX], what[256];
	int rc = path_normalize(cwd, arg, out, sizeof out);

	snprintf(what, sizeof what, "normalize '%s' in '%s' -> '%s'", arg, cwd, want);
	if (want == NULL) {
		ok(rc == -1, what);
	} else {
		ok(rc == 0 && strcmp(out, want) == 0, what);
		if (rc != 0 || strcmp(out, want) != 0) {
			printf("# got '%s' (rc %d)\n", rc == 0 ? out : "", rc);
		}
	}
}

static void
test_paths(void)
{
	char longpath[VPATH_MAX + 10], out[VPATH_MAX], q[64];

	norm("/", "a", "/a");
	norm("/", "", "/");
	norm("/", ".", "/");
	norm("/", "..", "/");
	norm("/", "/..", "/");
	norm("/", "../../..", "/");
	norm("/a/b", "../../../etc/passwd", "/etc/passwd");
	norm("/a/b", "..", "/a");
	norm("/a/b", "../c", "/a/c");
	norm("/a", "//b//c//", "/b/c");
	norm("/a", "./b/./c/.", "/a/b/c");
	norm("/a", "b/../../..", "/");
	norm("/", "...", "/...");
	norm("/", "..a/b..", "/..a/b..");
	norm("/x", "a\\..\\b", "/x/a\\..\\b");	/* backslash is a name byte */
	norm("/x", "%2e%2e/y", "/x/%2e%2e/y");	/* percent taken literally */
	norm("/", "/../../tmp/x", "/tmp/x");
	norm("/a b", "c d", "/a b/c d");

	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	ok(path_normalize("/", longpath, out, sizeof out) == -1,
	    "a path longer than VPATH_MAX is refused");
	longpath[VPATH_MAX - 1] = '\0';
	ok(path_normalize("/", longpath, out, sizeof out) == 0 &&
	    strlen(out) == VPATH_MAX - 1, "a path of VPATH_MAX-1 bytes fits");

	ok(path_quote("a\"b\"", q, sizeof q) == 0 && strcmp(q, "a\"\"b\"\"") == 0,
	    "quotes are doubled for 257 replies");
	ok(path_quote("\"\"\"\"", q, 8) == -1, "quoting refuses to overflow");
}

static void
test_replies(void)
{
	char out[256];
	size_t len;

	len = reply_format(out, sizeof out, 200, "NOOP ok");
	ok(len == 13 && strcmp(out, "200 NOOP ok\r\n") == 0, "single-line reply");
	reply_format(out, sizeof out, 211, "Features:\n SIZE\n MDTM\nEnd");
	ok(strcmp(out, "211-Features:\r\n SIZE\r\n MDTM\r\n211 End\r\n") == 0,
	    "multi-line reply with RFC 2389 feature lines");
	reply_format(out, sizeof out, 230, "Welcome\n123 not an end\nLogin successful");
	ok(strcmp(out, "230-Welcome\r\n230-123 not an end\r\n230 Login successful\r\n") == 0,
	    "every inner line carries CODE-, so digits cannot end the reply");
	reply_format(out, sizeof out, 550, "bad\rname");
	ok(strcmp(out, "550 badname\r\n") == 0, "CR never reaches the wire");
	ok(reply_format(out, 16, 200, "a reply that does not fit") == 0,
	    "a reply too long for the buffer is refused");
	ok(reply_format(out, sizeof out, 99, "x") == 0, "codes below 100 are refused");
}

static void
test_telnet(void)
{
	char buf[64];
	int st = 0;
	size_t n;

	memcpy(buf, "NO\xff\xf4OP\xff\xff\r\n", 10);
	n = telnet_strip(buf, 10, &st);
	ok(n == 7 && memcmp(buf, "NOOP\xff\r\n", 7) == 0,
	    "IAC IP removed, IAC IAC kept as 0xff");
	memcpy(buf, "A\xff\xfb\x01" "B\xff\xfa\x18\x01\xff\xf0" "C", 12);
	st = 0;
	n = telnet_strip(buf, 12, &st);
	ok(n == 3 && memcmp(buf, "ABC", 3) == 0, "WILL option and SB..SE removed");
	st = 0;
	memcpy(buf, "X\xff", 2);
	n = telnet_strip(buf, 2, &st);
	memcpy(buf + n, "\xfd\x03Y", 3);
	n += telnet_strip(buf + n, 3, &st);
	ok(n == 2 && memcmp(buf, "XY", 2) == 0, "a sequence split between reads");
}

static int
has_problem(const struct config *cfg, const char *text)
{
	for (size_t i = 0; i < cfg->nproblems; i++) {
		if (strstr(cfg->problems[i], text) != NULL) {
			return 1;
		}
	}
	return 0;
}

static void
expect(const char *ini, int errors, const char *text, const char *what)
{
	struct config *cfg = config_parse("t.conf", ini, 0);
	int good = (int)cfg->nerrors == errors && (text == NULL || has_problem(cfg, text));

	ok(good, what);
	if (!good) {
		for (size_t i = 0; i < cfg->nproblems; i++) {
			printf("# %s\n", cfg->problems[i]);
		}
	}
	config_free(cfg);
}

static void
test_config(void)
{
	struct config *cfg;
	const struct user_conf *u;

	cfg = config_parse("t.conf", "", 0);
	ok(cfg->nerrors == 0 && cfg->srv.idle_timeout == 300 &&
	    cfg->srv.pasv_lo == 49152 && cfg->srv.pasv_hi == 65535 &&
	    cfg->srv.umask == 022 && cfg->srv.max_login_failures == 3 &&
	    cfg->srv.active_mode == 1 && cfg->srv.atomic_uploads == 1 &&
	    config_word_in(&cfg->srv.anonymous_names, "FTP", 1),
	    "defaults of an empty file");
	config_free(cfg);

	cfg = config_parse("t.conf",
	    "[server]\n"
	    "banner = Example archive ; comment\n"
	    "passive_ports = 50000-50010 # comment\n"
	    "umask = 027\n"
	    "all_users = yes\n"
	    "restricted_users = joe bobby\n"
	    "[passive_addresses]\n"
	    "192.168.1.0/24 = 192.168.1.1\n"
	    "default = ftp.example.org\n"
	    "[user alice]\n"
	    "password = secret\n"
	    "allow_write = upload\n"
	    "umask = 077\n"
	    "symlinks = follow\n", 0);
	u = config_user(cfg, "alice");
	ok(cfg->nerrors == 0 && strcmp(cfg->srv.banner, "Example archive") == 0 &&
	    cfg->srv.pasv_lo == 50000 && cfg->srv.pasv_hi == 50010 &&
	    cfg->srv.umask == 027 && cfg->srv.all_users == 1 &&
	    cfg->srv.restricted_users.n == 2 && cfg->npasv == 2 &&
	    u != NULL && strcmp(u->password, "secret") == 0 &&
	    u->allow_write == WRITE_UPLOAD && u->umask == 077 && u->umask_set &&
	    u->symlinks == SYMLINKS_FOLLOW,
	    "every kind of value lands in the structure");
	ok(has_problem(cfg, "t.conf:11: warning: [user alice] has a plaintext"),
	    "plaintext password warned with its line");
	config_free(cfg);

	expect("[server]\nbogus = 1\n", 1, "t.conf:2: unknown key 'bogus'",
	    "unknown key names its line");
	expect("[nonsense]\n", 1, "t.conf:1: unknown section [nonsense]",
	    "unknown section names its line");
	expect("[server]\nidle_timeout = 0\n", 1, "t.conf:2: idle_timeout:",
	    "a number below its minimum");
	expect("[server]\nidle_timeout = 12x\n", 1, "not a number", "a number with junk");
	expect("[server]\nidle_timeout = 99999999999999999999\n", 1, "not a number",
	    "a number that overflows");
	expect("[server]\npassive_ports = 60000-50000\n", 1, "port range",
	    "a range backwards");
	expect("[server]\npassive_ports = 80-90\n", 1, "port range",
	    "a passive range below 1024");
	expect("[server]\nactive_mode = perhaps\n", 1, "not yes or no", "a bad boolean");
	expect("[server]\numask = 8\n", 1, "octal", "a bad umask");
	expect("[server]\nlog = everywhere\n", 1, "not one of auto", "a bad enum");
	expect("[server]\npassive_address = 1.2.3\n", 1, "not an IPv4 address",
	    "a bad passive_address");
	expect("[server]\npassive_address = 2001:db8::1\n", 1, "not an IPv4 address",
	    "an IPv6 passive_address (PASV cannot carry it)");
	expect("[passive_addresses]\n10.0.0.0/33 = 1.2.3.4\n", 1, "network",
	    "a CIDR prefix too long");
	expect("[passive_addresses]\n10.0.0.1/8 = 1.2.3.4\n", 1, "network",
	    "a CIDR with host bits set");
	expect("[passive_addresses]\n10.0.0.0/8 = bad host!\n", 1, "host name",
	    "a bad passive target");
	expect("[server]\nbanner = a\nbanner = b\n", 1, "t.conf:3: 'banner' given twice",
	    "a key given twice");
	expect("[user a]\n[user a]\n", 1, "[user a] given twice", "a user given twice");
	expect("[user a b]\n", 1, "not a valid user name", "a user name with a space");
	expect("banner = x\n", 1, "t.conf:1: 'banner' outside a section",
	    "a key before any section");
	expect("[server]\njust words\n", 1, "t.conf:2: syntax error", "a line without '='");
	expect("[server]\n  banner = indented\n", 0, NULL,
	    "an indented key is a key, not a continuation");
	expect("[user a]\npassword = x\npassword_hash = "
	    "0000000000000000000000000000000000000000000000000000000000000000\n",
	    1, "only one of", "two password forms");
	expect("[user a]\npassword_hash = nothash\n", 1, "neither a crypt",
	    "a password_hash that is no hash");
	expect("[user a]\npassword_hash = $6$salt$x\npassword_salt = 1\n", 1,
	    "password_salt goes only", "a salt with a crypt hash");
	expect("[user anonymous]\npassword = x\n", 1, "takes any password",
	    "anonymous with a password");
	expect("[user a]\nhome = incoming\n", 1, "must start with '/'",
	    "a relative home");
	expect("[server]\nbanner = x\n[user a]\n", 0, "warning: [user a] logs in "
	    "without any password", "a user without password is warned");
	expect("[server]\nanonymous_names = ftp\n[user ftp]\n", 1,
	    "also one of anonymous_names", "a user that is also an anonymous name");

	{
		char big[CONF_LINE_MAX + 64];

		memset(big, 'x', sizeof big);
		memcpy(big, "[server]\nbanner = ", 18);
		strcpy(big + sizeof big - 2, "\n");
		expect(big, 1, "t.conf:2: line longer than 1024 bytes", "an over-long line");
		/* exactly CONF_LINE_MAX bytes of content, then CR LF */
		memset(big, 'x', sizeof big);
		memcpy(big, "[server]\nbanner = ", 18);
		strcpy(big + 9 + CONF_LINE_MAX, "\r\n");
		expect(big, 0, NULL, "a line of exactly CONF_LINE_MAX bytes fits");
	}
}

static void
test_cidr(void)
{
	struct cidr c;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };

	ok(cidr_parse("192.168.1.0/24", &c) == 0, "parse an IPv4 network");
	inet_pton(AF_INET, "192.168.1.77", &a4.sin_addr);
	ok(cidr_match(&c, (struct sockaddr *)&a4), "an address inside matches");
	inet_pton(AF_INET, "192.168.2.1", &a4.sin_addr);
	ok(!cidr_match(&c, (struct sockaddr *)&a4), "an address outside does not");
	inet_pton(AF_INET6, "::ffff:192.168.1.5", &a6.sin6_addr);
	ok(cidr_match(&c, (struct sockaddr *)&a6), "an IPv4-mapped IPv6 address matches");
	ok(cidr_parse("2001:db8::/32", &c) == 0, "parse an IPv6 network");
	inet_pton(AF_INET6, "2001:db8:1::1", &a6.sin6_addr);
	ok(cidr_match(&c, (struct sockaddr *)&a6), "an IPv6 address inside matches");
	ok(cidr_parse("127.0.0.1", &c) == 0 && c.prefix == 32, "a host is /32");
	ok(cidr_parse("nonsense/8", &c) == -1, "nonsense is refused");
}

static void
test_time(void)
{
	long long t;

	ok(parse_timeval("20240229123456", &t) == 0 && t == 1709210096,
	    "time-val in UTC");
	ok(parse_timeval("20240229123456.123", &t) == 0 && t == 1709210096,
	    "time-val with fraction");
	ok(parse_timeval("2024022912345", &t) == -1, "a short time-val is refused");
	ok(parse_timeval("20241329123456", &t) == -1, "month 13 is refused");
	ok(parse_timeval("20240229123456.", &t) == -1, "an empty fraction is refused");
}

static void
test_auth(void)
{
	char hash[256];

	ok(auth_hash_password("secret", hash, sizeof hash) == 0 &&
	    strncmp(hash, "$y$", 3) == 0 && auth_hash_valid(hash, NULL),
	    "-H makes a yescrypt hash this system verifies");
	ok(auth_hash_valid("$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2"
	    "/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", NULL) &&
	    auth_hash_valid("$2b$05$abcdefghijklmnopqrstuu", NULL),
	    "sha512crypt and bcrypt settings are accepted");
	ok(!auth_hash_valid("plain words", NULL) && !auth_hash_valid("", NULL),
	    "words that are no hash are refused");
	ok(auth_hash_valid("00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff", "salt"), "64 hex digits are the SHA-256 form");
	ok(ct_equal("abcd", "abcd", 4) && !ct_equal("abcd", "abce", 4),
	    "constant-time comparison");
}

#ifndef CELLFTPD_NO_SECCOMP
/* A confined process that makes a system call off the list is ended,
 * and the log names the call; the calls a session makes go through. */
static void
test_seccomp(void)
{
	static struct session s;	/* symlinks = follow: no Landlock here */
	char log[2048] = "";
	int p[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	s.acct.symlinks = SYMLINKS_FOLLOW;
	if (pipe(p) != 0 || (pid = fork()) < 0) {
		ok(0, "seccomp: fork");
		return;
	}
	if (pid == 0) {
		dup2(p[1], 2);
		log_open(LOGTO_STDERR, 0);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);	/* as sandbox_become() */
		sandbox_confine(&s);
		if (getpid() > 0 && write(2, "allowed calls work\n", 19) == 19) {
			syscall(SYS_getppid);	/* not on the list */
		}
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], log + got, sizeof log - 1 - (size_t)got)) > 0) {
		got += n;
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(strstr(log, "allowed calls work") != NULL,
	    "seccomp: a confined process keeps the calls a session makes");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FAILURE_ &&
	    strstr(log, "seccomp: system call getppid (") != NULL &&
	    strstr(log, ") is not allowed; session ended") != NULL,
	    "seccomp: a call off the list ends the process, logged by name");
	if (!WIFEXITED(status) || strstr(log, "getppid") == NULL) {
		printf("# status %d, log: %s\n", status, log);
	}
}
#endif

/* Reads what fd gives until its end. */
static void
slurp(int fd, char *buf, size_t size)
{
	ssize_t n;
	size_t got = 0;

	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0) {
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
}

#ifndef CELLFTPD_NO_SECCOMP
/* The pre-login process's own allow-list: the calls of the dialogue and
 * the relay go through; one a session may make (openat) ends it. */
static void
test_prelogin_seccomp(void)
{
	char log[2048];
	int p[2], status = 0;
	pid_t pid;

	if (pipe(p) != 0 || (pid = fork()) < 0) {
		ok(0, "pre-login seccomp: fork");
		return;
	}
	if (pid == 0) {
		int sp[2];

		dup2(p[1], 2);
		log_open(LOGTO_STDERR, 0);
		sandbox_scope();
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
		    fcntl(sp[0], F_SETFL, O_NONBLOCK) == 0 && getppid() > 0 &&
		    write(2, "allowed calls work\n", 19) == 19) {
			syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY);	/* not on it */
		}
		_exit(0);
	}
	close(p[1]);
	slurp(p[0], log, sizeof log);
	waitpid(pid, &status, 0);
	ok(strstr(log, "allowed calls work") != NULL,
	    "pre-login seccomp: the process keeps the calls of the dialogue and relay");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_FAILURE_ &&
	    strstr(log, "seccomp: system call openat (") != NULL &&
	    strstr(log, ") is not allowed; session ended") != NULL,
	    "pre-login seccomp: a call off its list ends the process, logged by name");
	if (!WIFEXITED(status) || strstr(log, "openat") == NULL) {
		printf("# status %d, log: %s\n", status, log);
	}
}
#endif

/* Signals from a confined process: to itself they go through; to any
 * other process (here: its parent, root like it) seccomp ends it, as
 * tgkill may name its own pid alone, and without seccomp (sanitizer
 * builds) Landlock's scope refuses them with EPERM. */
enum scope_case { SCOPE_SESSION, SCOPE_FOLLOW, SCOPE_PRELOGIN };

static void
test_signal_scope(enum scope_case how)
{
	static struct session s;
	static const char *const names[] = {
		"a session", "a session (symlinks = follow)", "the pre-login process"
	};
	pid_t parent = getpid(), pid;
	char got[2048], want[64], what[160];
	int p[2], status = 0;
	int abi = landlock_abi(), self_ok, out_ok;

	s.acct.symlinks = how == SCOPE_FOLLOW ? SYMLINKS_FOLLOW : SYMLINKS_CONTAIN;
	s.vfs.rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s.vfs.rootfd < 0 || pipe(p) != 0 || (pid = fork()) < 0) {
		ok(0, "signal scope: set-up");
		return;
	}
	if (pid == 0) {
		int out, self;

		dup2(p[1], 2);		/* the sandbox's notices and the log */
		log_open(LOGTO_STDERR, 0);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);	/* as sandbox_become() */
		if (how == SCOPE_PRELOGIN) {
			sandbox_scope();
		} else {
			sandbox_confine(&s);
		}
		self = (int)syscall(SYS_tgkill, getpid(), gettid(), 0) == 0 ? 0 : errno;
		dprintf(2, "self %d\n", self);
		out = (int)syscall(SYS_tgkill, parent, parent, 0) == 0 ? 0 : errno;
		dprintf(2, "outside %d\n", out);
		_exit(0);
	}
	close(p[1]);
	slurp(p[0], got, sizeof got);
	waitpid(pid, &status, 0);
	close(s.vfs.rootfd);
	self_ok = strstr(got, "self 0\n") != NULL;
#ifndef CELLFTPD_NO_SECCOMP
	(void)abi;
	(void)want;
	out_ok = strstr(got, "outside") == NULL && WIFEXITED(status) &&
	    WEXITSTATUS(status) == EXIT_FAILURE_ &&
	    strstr(got, "seccomp: system call tgkill (") != NULL;
	snprintf(what, sizeof what, "seccomp: %s may signal itself; tgkill to another "
	    "process ends it", names[how]);
#else
	if (abi < 6) {
		printf("# Landlock ABI %d: signal scoping needs 6, not checked\n", abi);
		return;
	}
	snprintf(want, sizeof want, "outside %d\n", EPERM);
	out_ok = strstr(got, want) != NULL;
	snprintf(what, sizeof what, "Landlock scope: %s may signal itself, no process "
	    "outside it (EPERM)", names[how]);
#endif
	ok(self_ok && out_ok, what);
	if (!self_ok || !out_ok) {
		printf("# got '%s', status %d\n", got, status);
	}
}

/* The xferlog writer: the line is its own (the account and address it
 * was started with, the path as one field even with a newline), the
 * session's process holds no descriptor of the file, and a malformed
 * record ends the writer, after which the session logs the loss. */
static void
test_xferlog_writer(void)
{
	char dir[] = "/tmp/cellftpd-unit-XXXXXX", path[64], log[4096], line[1024];
	int p[2], status = 0, fd;
	pid_t pid;

	if (mkdtemp(dir) == NULL || pipe(p) != 0) {
		ok(0, "xferlog writer: set-up");
		return;
	}
	snprintf(path, sizeof path, "%s/xferlog", dir);
	if (geteuid() == 0) {	/* the writer, as root, goes into the empty root */
		mkdir(RUN_DIR, 0755);
		mkdir(PRELOGIN_ROOT, 0755);
	}
	if ((pid = fork()) < 0) {
		ok(0, "xferlog writer: fork");
		return;
	}
	if (pid == 0) {
		static struct session s;
		struct xfer_record r = { .path = "/a\nb c\t\x01" "d", .bytes = 42, .ms = 1500,
		    .upload = 1, .complete = 1, .action = '_' };
		char link[64], target[256];
		int holds = 0, chan = -1;

		close(p[0]);
		dup2(p[1], 2);
		log_open(LOGTO_STDERR, 0);
		log_set_client("192.0.2.7", 2121);
		log_set_user("somebody-else");
		snprintf(s.acct.login, sizeof s.acct.login, "alice");
		if (xferlog_open(path, &s.acct) != 0) {
			_exit(3);
		}
		log_set_user("mallory");	/* the session's words do not count */
		log_transfer(&s, &r);
		for (int i = 3; i < 64; i++) {
			int type = 0;
			socklen_t len = sizeof type;
			ssize_t n;

			snprintf(link, sizeof link, "/proc/self/fd/%d", i);
			n = readlink(link, target, sizeof target - 1);
			if (n > 0) {
				target[n] = '\0';
				holds |= strcmp(target, path) == 0;
			}
			if (getsockopt(i, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
			    type == SOCK_SEQPACKET) {
				chan = i;
			}
		}
		dprintf(2, "holds %d\n", holds);
		/* what a session taken over could send: not a record */
		if (chan >= 0 && send(chan, "forged line\n", 12, MSG_NOSIGNAL) == 12) {
			log_transfer(&s, &r);
		}
		_exit(0);
	}
	close(p[1]);
	slurp(p[0], log, sizeof log);
	waitpid(pid, &status, 0);
	line[0] = '\0';
	if ((fd = open(path, O_RDONLY)) >= 0) {
		slurp(fd, line, sizeof line);
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(log, "holds 0\n") &&
	    strchr(line, '\n') == line + strlen(line) - 1 &&
	    strstr(line, " 2 192.0.2.7 42 /a_b_c__d b _ i r alice ftp 0 * c\n") != NULL,
	    "xferlog writer: the line is the writer's, the session holds no descriptor");
	ok(strstr(log, "xferlog writer: malformed record from the session") != NULL &&
	    strstr(log, "cannot write xferlog: ") != NULL &&
	    strstr(line, "forged") == NULL,
	    "xferlog writer: a malformed record ends it; the session logs the loss");
	if (!WIFEXITED(status) || !strstr(log, "holds 0") || !strstr(line, " alice ") ||
	    !strstr(log, "malformed")) {
		printf("# status %d, line '%s', log: %s\n", status, line, log);
	}
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	test_paths();
	test_replies();
	test_telnet();
	test_config();
	test_cidr();
	test_time();
	test_auth();
#ifndef CELLFTPD_NO_SECCOMP
	test_seccomp();
#endif
#ifndef CELLFTPD_NO_SECCOMP
	test_prelogin_seccomp();
#endif
	test_signal_scope(SCOPE_SESSION);
	test_signal_scope(SCOPE_FOLLOW);
	test_signal_scope(SCOPE_PRELOGIN);
	test_xferlog_writer();
	printf("1..%d\n", ntests);
	printf("unit: %d passed, %d failed\n", ntests - failed, failed);
	return failed != 0;
}
