/* The configuration: an INI file read with inih into one typed structure.
 *
 * Every key is a row of a table {name, type, field, min, max}; parsing,
 * defaults and range checks come from the table. Problems are collected
 * as "FILE:LINE: message" so that -t can print them all and a session can
 * refuse with 421 and log them.
 *
 * The main file is followed by the *.conf files of FILE.d in name order, as if they
 * were one file: a key given twice is an error wherever the two are.
 * A "line" stored anywhere (key_line, a section's line, a problem's) is
 * a position over all the files read, which pos_file() turns back into
 * FILE and LINE. */
#include <arpa/inet.h>
#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cellftpd.h"

enum ktype { K_STR, K_BOOL, K_UINT, K_OCTAL, K_RANGE, K_LIST, K_ENUM, K_ADDR,
	K_SECRET,
	K_SIZE };	/* bytes, a long long: digits and an optional K, M, G or T */

struct key {
	const char	 *name;
	enum ktype	  type;
	size_t		  off;
	unsigned	  min, max;
	const char *const *choices;	/* K_ENUM: index = stored value */
};

static const char *const log_choices[] = { "auto", "syslog", "journal", "stderr", NULL };
static const char *const write_choices[] = { "no", "yes", "upload", NULL };
static const char *const symlink_choices[] = { "contain", "follow", NULL };
static const char *const tls_choices[] = { "off", "explicit", "implicit", NULL };
static const char *const tlsver_choices[] = { "1.2", "1.3", NULL };
static const char *const require_choices[] = { "no", "login", "all", NULL };
/* index = the PROXY_V1 | PROXY_V2 bits accepted */
static const char *const proxy_choices[] = { "no", "v1", "v2", "any", NULL };
static const char *const untrusted_choices[] = { "refuse", "direct", NULL };
static const char *const sysauth_choices[] = { "shadow", "pam", NULL };
static const char *const syslogin_choices[] = { "no", "yes", "pam", NULL };

#define S(f) offsetof(struct server_conf, f)
static const struct key server_keys[] = {
	{ "banner",		K_STR,	 S(banner),		0, 0, NULL },
	{ "passive_ports",	K_RANGE, S(pasv_lo),		1024, 65535, NULL },
	{ "passive_address",	K_ADDR,	 S(passive_address),	0, 0, NULL },
	{ "active_mode",	K_BOOL,	 S(active_mode),	0, 0, NULL },
	{ "anonymous_names",	K_LIST,	 S(anonymous_names),	0, 0, NULL },
	{ "all_users",		K_BOOL,	 S(all_users),		0, 0, NULL },
	{ "restricted_users",	K_LIST,	 S(restricted_users),	0, 0, NULL },
	{ "deny_users_file",	K_STR,	 S(deny_users_file),	0, 0, NULL },
	{ "idle_timeout",	K_UINT,	 S(idle_timeout),	1, TIMEOUT_MAX, NULL },
	{ "data_timeout",	K_UINT,	 S(data_timeout),	1, TIMEOUT_MAX, NULL },
	{ "max_login_failures",	K_UINT,	 S(max_login_failures),	1, LOGIN_FAILURES_MAX, NULL },
	{ "login_timeout",	K_UINT,	 S(login_timeout),	1, TIMEOUT_MAX, NULL },
	{ "umask",		K_OCTAL, S(umask),		0, 0777, NULL },
	{ "atomic_uploads",	K_BOOL,	 S(atomic_uploads),	0, 0, NULL },
	{ "welcome_file",	K_STR,	 S(welcome_file),	0, 0, NULL },
	{ "message_file",	K_STR,	 S(message_file),	0, 0, NULL },
	{ "conversions",	K_BOOL,	 S(conversions),	0, 0, NULL },
	{ "log",		K_ENUM,	 S(log),		0, 0, log_choices },
	{ "xferlog",		K_STR,	 S(xferlog),		0, 0, NULL },
	{ "max_sessions",	K_UINT,	 S(max_sessions),	0, SESSIONS_MAX, NULL },
	{ "max_sessions_per_ip", K_UINT, S(max_sessions_per_ip), 0, SESSIONS_MAX, NULL },
	{ "unprivileged_user",	K_STR,	 S(unprivileged_user),	0, 0, NULL },
	{ "tls",		K_ENUM,	 S(tls),		0, 0, tls_choices },
	{ "tls_certificate",	K_STR,	 S(tls_certificate),	0, 0, NULL },
	{ "tls_key",		K_STR,	 S(tls_key),		0, 0, NULL },
	{ "tls_min_version",	K_ENUM,	 S(tls_min_version),	0, 0, tlsver_choices },
	{ "tls_ciphers",	K_STR,	 S(tls_ciphers),	0, 0, NULL },
	{ "tls_ciphersuites",	K_STR,	 S(tls_ciphersuites),	0, 0, NULL },
	{ "require_tls",	K_ENUM,	 S(require_tls),	0, 0, require_choices },
	{ "proxy_protocol",	K_ENUM,	 S(proxy_protocol),	0, 0, proxy_choices },
	{ "proxy_from",		K_LIST,	 S(proxy_from),		0, 0, NULL },
	{ "proxy_untrusted",	K_ENUM,	 S(proxy_untrusted),	0, 0, untrusted_choices },
	{ "max_upload_size",	K_SIZE,	 S(max_upload_size),	0, 0, NULL },
	{ "max_rate_download",	K_SIZE,	 S(max_rate_download),	0, 0, NULL },
	{ "max_rate_upload",	K_SIZE,	 S(max_rate_upload),	0, 0, NULL },
	{ "system_auth",	K_ENUM,	 S(system_auth),	0, 0, sysauth_choices },
	{ "pam_service",	K_STR,	 S(pam_service),	0, 0, NULL },
	{ "guest_user",		K_STR,	 S(guest_user),		0, 0, NULL },
	{ "guest_root",		K_STR,	 S(guest_root),		0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL }
};
#undef S

#define U(f) offsetof(struct user_conf, f)
enum { UK_HASH, UK_SALT, UK_PASSWORD, UK_SYSLOGIN, UK_SYSUSER, UK_ROOT, UK_HOME,
	UK_WRITE, UK_UMASK, UK_SYMLINKS, UK_REQTLS };
static const struct key user_keys[] = {
	[UK_HASH]     = { "password_hash",	K_SECRET, U(password_hash),	0, 0, NULL },
	[UK_SALT]     = { "password_salt",	K_SECRET, U(password_salt),	0, 0, NULL },
	[UK_PASSWORD] = { "password",		K_SECRET, U(password),		0, 0, NULL },
	[UK_SYSLOGIN] = { "system_login",	K_ENUM,	 U(system_login),	0, 0, syslogin_choices },
	[UK_SYSUSER]  = { "system_user",	K_STR,	 U(system_user),	0, 0, NULL },
	[UK_ROOT]     = { "root",		K_STR,	 U(root),		0, 0, NULL },
	[UK_HOME]     = { "home",		K_STR,	 U(home),		0, 0, NULL },
	[UK_WRITE]    = { "allow_write",	K_ENUM,	 U(allow_write),	0, 0, write_choices },
	[UK_UMASK]    = { "umask",		K_OCTAL, U(umask),		0, 0777, NULL },
	[UK_SYMLINKS] = { "symlinks",		K_ENUM,	 U(symlinks),		0, 0, symlink_choices },
	[UK_REQTLS]   = { "require_tls",	K_ENUM,	 U(require_tls),	0, 0, require_choices },
	{ "max_upload_size",	K_SIZE,	 U(max_upload_size),	0, 0, NULL },
	{ "max_rate_download",	K_SIZE,	 U(max_rate_download),	0, 0, NULL },
	{ "max_rate_upload",	K_SIZE,	 U(max_rate_upload),	0, 0, NULL },
	{ NULL, 0, 0, 0, 0, NULL }
};
#undef U
/* every key has a line in key_line (the tables end with a NULL row) */
_Static_assert(sizeof server_keys / sizeof server_keys[0] - 1 <=
    sizeof ((struct server_conf *)0)->key_line / sizeof (int), "server key_line");
_Static_assert(sizeof user_keys / sizeof user_keys[0] - 1 <=
    sizeof ((struct user_conf *)0)->key_line / sizeof (int), "user key_line");

/* Secrets (passwords, hashes, salts, and the file text that holds them)
 * live in one anonymous mapping, the vault: a fork() child sees it as
 * zeros (MADV_WIPEONFORK), core dumps leave it out, and
 * config_wipe_secrets() clears it. The reader hands inih a placeholder
 * "@OFFSET" instead of a secret value, so that no secret ever passes
 * through inih's buffers or the heap. One configuration at a time. */
static char *vault;
static size_t vault_len;
static size_t vault_open;	/* its first bytes, readable and writable */
/* each file's text, and its secrets at most as long again */
#define VAULT_SIZE (2 * ((size_t)CONF_TOTAL_MAX + CONF_DIR_FILES_MAX + 1))
/* The vault is reserved whole but inaccessible, which costs no memory
 * and no commit charge (vm.overcommit_memory = 2), and opened a step at
 * a time as the configuration's text and secrets fill it. */
#define VAULT_STEP ((size_t)1 << 20)

static char *
vault_alloc(size_t n)
{
	char *p;

	if (vault == NULL) {
		vault = mmap(NULL, VAULT_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (vault == MAP_FAILED) {
			abort();
		}
		madvise(vault, VAULT_SIZE, MADV_WIPEONFORK);
		madvise(vault, VAULT_SIZE, MADV_DONTDUMP);
	}
	if (n > VAULT_SIZE - vault_len) {
		return NULL;
	}
	if (vault_len + n > vault_open) {
		size_t to = (vault_len + n + VAULT_STEP - 1) / VAULT_STEP * VAULT_STEP;

		to = to < VAULT_SIZE ? to : VAULT_SIZE;
		if (mprotect(vault + vault_open, to - vault_open, PROT_READ | PROT_WRITE) != 0) {
			return NULL;
		}
		vault_open = to;
	}
	p = vault + vault_len;
	vault_len += n;
	return p;
}

static void
vault_clear(void)
{
	if (vault != NULL) {
		wipe(vault, vault_len);
	}
	vault_len = 0;
}

static const char *const secret_keys[] = { "password", "password_hash",
	"password_salt" };
/* bytes a line may grow by when its secret becomes "@OFFSET\n" */
#define SECRET_ROOM 24
/* what -T prints for a secret that is set (never a secret itself) */
#define SECRET_SHOWN "(set)"

enum section_kind { SEC_NONE, SEC_SERVER, SEC_PASV, SEC_USER, SEC_BAD };

struct loader {
	struct config	*cfg;
	const char	*p, *end;	/* text not yet handed to inih */
	int		 line;		/* of the line inih handles now */
	enum section_kind sec;
	struct user_conf *user;		/* SEC_USER: the section's user */
	int		 server_seen;
	int		 pasv_seen;
};

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL) {
		abort();
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		abort();
	}
	return p;
}

/* The file and line of a position; position 0 is the main file as a
 * whole (line 0). */
static const char *
pos_file(const struct config *cfg, int pos, int *line)
{
	size_t lo = 0, hi = cfg->nfiles;

	*line = 0;
	if (pos <= 0 || cfg->nfiles == 0) {
		return cfg->path;
	}
	/* the last file whose base is below pos */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (cfg->file_base[mid] < pos) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	*line = pos - cfg->file_base[lo];
	return cfg->files[lo];
}

/* Where pos is, for a message about here: "first at line N" in the
 * same file, else "first at FILE:N". */
static const char *
where(const struct config *cfg, int pos, int here, char *buf, size_t size)
{
	int line, here_line;
	const char *file = pos_file(cfg, pos, &line);

	if (file == pos_file(cfg, here, &here_line)) {
		snprintf(buf, size, "first at line %d", line);
	} else {
		snprintf(buf, size, "first at %s:%d", file, line);
	}
	return buf;
}

static void vproblem(struct config *, const char *file, int line, int warning,
    const char *fmt, va_list) PRINTF(5, 0);
static void problem(struct config *, int pos, int warning, const char *fmt, ...)
    PRINTF(4, 5);
static void problem_file(struct config *, const char *file, int warning,
    const char *fmt, ...) PRINTF(4, 5);

static void
vproblem(struct config *cfg, const char *file, int line, int warning,
    const char *fmt, va_list ap)
{
	char msg[512], *full;
	int n;

	if (cfg->nproblems >= CONF_PROBLEMS_MAX) {
		cfg->nerrors += !warning;
		return;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (line > 0) {
		n = asprintf(&full, "%s:%d: %s%s", file, line,
		    warning ? "warning: " : "", msg);
	} else {
		n = asprintf(&full, "%s: %s%s", file,
		    warning ? "warning: " : "", msg);
	}
	if (n < 0) {
		abort();
	}
	cfg->problems = realloc(cfg->problems,
	    (cfg->nproblems + 1) * sizeof *cfg->problems);
	if (cfg->problems == NULL) {
		abort();
	}
	cfg->problems[cfg->nproblems++] = full;
	cfg->nerrors += !warning;
}

/* A problem at a position (0: the main file as a whole). */
static void
problem(struct config *cfg, int pos, int warning, const char *fmt, ...)
{
	va_list ap;
	int line;
	const char *file = pos_file(cfg, pos, &line);

	va_start(ap, fmt);
	vproblem(cfg, file, line, warning, fmt, ap);
	va_end(ap);
}

/* A problem of a file or directory as a whole. */
static void
problem_file(struct config *cfg, const char *file, int warning, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(cfg, file, 0, warning, fmt, ap);
	va_end(ap);
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const t[] = { "yes", "true", "1", "on" };
	static const char *const f[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, t[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_uint(const char *v, int base, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*v)) {
		return -1;
	}
	errno = 0;
	n = strtoul(v, &end, base);
	if (errno != 0 || *end != '\0' || n < min || n > max) {
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* "1048576", "512K", "100M", "2G", "1T": K is 1024 bytes. */
static int
parse_size(const char *v, long long *out)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long n;
	const char *u;
	int shift = 0;

	if (!isdigit((unsigned char)*v)) {
		return -1;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0) {
		return -1;
	}
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, toupper((unsigned char)*end))) == NULL) {
			return -1;
		}
		shift = 10 * (int)(u - units + 1);
	}
	if (n > (unsigned long long)UPLOAD_SIZE_MAX >> shift) {
		return -1;
	}
	*out = (long long)(n << shift);
	return 0;
}

static int
parse_list(const char *v, struct wordlist *out)
{
	char *copy = xstrdup(v), *save = NULL;

	for (char *w = strtok_r(copy, " \t,", &save); w != NULL;
	    w = strtok_r(NULL, " \t,", &save)) {
		if (out->n >= CONF_LIST_MAX) {
			free(copy);
			return -1;
		}
		out->v = realloc(out->v, (out->n + 1) * sizeof *out->v);
		if (out->v == NULL) {
			abort();
		}
		out->v[out->n++] = xstrdup(w);
	}
	free(copy);
	return 0;
}

static void
wordlist_free(struct wordlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
config_word_in(const struct wordlist *l, const char *word, int nocase)
{
	for (size_t i = 0; i < l->n; i++) {
		if (nocase ? strcasecmp(l->v[i], word) == 0
		    : strcmp(l->v[i], word) == 0) {
			return 1;
		}
	}
	return 0;
}

int
cidr_parse(const char *text, struct cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned bits, max;

	if (strlen(text) >= sizeof buf) {
		return -1;
	}
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash++ = '\0';
	}
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	bits = max;
	if (slash != NULL && parse_uint(slash, 10, 0, max, &bits) != 0) {
		return -1;
	}
	out->prefix = bits;
	/* host bits must be zero: 192.168.1.7/24 is a typing error */
	for (unsigned i = bits; i < max; i++) {
		if (out->addr[i / 8] & (0x80 >> (i % 8))) {
			return -1;
		}
	}
	return 0;
}

int
cidr_match(const struct cidr *net, const struct sockaddr *sa)
{
	const uint8_t *a;
	uint8_t mapped[4];

	if (sa->sa_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (net->family != AF_INET) {
			return 0;
		}
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		a = a6->s6_addr;
		if (net->family == AF_INET && IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(mapped, a + 12, 4);
			a = mapped;
		} else if (net->family != AF_INET6) {
			return 0;
		}
	} else {
		return 0;
	}
	for (unsigned i = 0; i < net->prefix; i++) {
		uint8_t m = 0x80 >> (i % 8);

		if ((a[i / 8] & m) != (net->addr[i / 8] & m)) {
			return 0;
		}
	}
	return 1;
}

static int
valid_host(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > HOST_NAME_MAX_FTP) {
		return 0;
	}
	for (const char *c = v; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && strchr(".-:", *c) == NULL) {
			return 0;
		}
	}
	return 1;
}

/* Store value v of key k into the structure at base. */
static void
set_key(struct loader *ld, const struct key *k, void *base, const char *v)
{
	struct config *cfg = ld->cfg;
	char *field = (char *)base + k->off;
	struct in6_addr a6;
	unsigned n;
	int b;

	switch (k->type) {
	case K_SECRET: {
		/* "@OFFSET" into the vault, made by the reader */
		char *end;
		unsigned long off = strtoul(v + 1, &end, 10);

		if (v[0] != '@' || *end != '\0' || off >= vault_len) {
			problem(cfg, ld->line, 0, "%s: unreadable value", k->name);
			return;
		}
		if (vault[off] == '\0') {
			problem(cfg, ld->line, 0, "%s: empty value", k->name);
			return;
		}
		if (strcmp(vault + off, SECRET_SHOWN) == 0) {
			problem(cfg, ld->line, 0, "%s: '%s' is what -T shows in place "
			    "of a secret; put the secret back", k->name, SECRET_SHOWN);
			return;
		}
		*(char **)field = vault + off;
		return;
	}
	case K_STR:
		if (*v == '\0') {
			problem(cfg, ld->line, 0, "%s: empty value", k->name);
			return;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return;
	case K_BOOL:
		if (parse_bool(v, &b) != 0) {
			problem(cfg, ld->line, 0, "%s: '%s' is not yes or no",
			    k->name, v);
			return;
		}
		*(int *)field = b;
		return;
	case K_UINT:
	case K_OCTAL:
		if (parse_uint(v, k->type == K_OCTAL ? 8 : 10, k->min, k->max, &n) != 0) {
			if (k->type == K_OCTAL) {
				problem(cfg, ld->line, 0, "%s: '%s' is not an octal "
				    "mode up to %o", k->name, v, k->max);
			} else {
				problem(cfg, ld->line, 0, "%s: '%s' is not a number "
				    "from %u to %u", k->name, v, k->min, k->max);
			}
			return;
		}
		*(unsigned *)field = n;
		if (k->off == offsetof(struct user_conf, umask) && base != &cfg->srv) {
			((struct user_conf *)base)->umask_set = 1;
		}
		return;
	case K_SIZE:
		if (parse_size(v, (long long *)field) != 0) {
			problem(cfg, ld->line, 0, "%s: '%s' is not a size in bytes up to "
			    "%lldT (a number, optionally followed by K, M, G or T)",
			    k->name, v, UPLOAD_SIZE_MAX >> 40);
		}
		return;
	case K_RANGE: {
		char lo[16], hi[16];
		const char *dash = strchr(v, '-');
		unsigned l, h;

		if (dash == NULL || (size_t)(dash - v) >= sizeof lo ||
		    strlen(dash + 1) >= sizeof hi) {
			goto badrange;
		}
		memcpy(lo, v, (size_t)(dash - v));
		lo[dash - v] = '\0';
		strcpy(hi, dash + 1);
		if (parse_uint(lo, 10, k->min, k->max, &l) != 0 ||
		    parse_uint(hi, 10, k->min, k->max, &h) != 0 || l > h) {
			goto badrange;
		}
		((unsigned *)field)[0] = l;
		((unsigned *)field)[1] = h;
		return;
badrange:
		problem(cfg, ld->line, 0, "%s: '%s' is not a port range LOW-HIGH "
		    "within %u-%u", k->name, v, k->min, k->max);
		return;
	}
	case K_LIST:
		wordlist_free((struct wordlist *)field);
		if (parse_list(v, (struct wordlist *)field) != 0) {
			problem(cfg, ld->line, 0, "%s: more than %d words",
			    k->name, CONF_LIST_MAX);
		}
		return;
	case K_ENUM:
		for (int i = 0; k->choices[i] != NULL; i++) {
			if (strcasecmp(v, k->choices[i]) == 0) {
				*(int *)field = i;
				if (k->choices == require_choices) {	/* else a default */
					if (base == &cfg->srv) {
						cfg->srv.require_tls_set = 1;
					} else {
						((struct user_conf *)base)->require_tls_set = 1;
					}
				}
				return;
			}
		}
		/* yes/no words stand for the first two choices of allow_write */
		if (k->choices == write_choices && parse_bool(v, &b) == 0) {
			*(int *)field = b ? WRITE_YES : WRITE_NO;
			return;
		}
		/* ... and of system_login, a boolean before PAM */
		if (k->choices == syslogin_choices && parse_bool(v, &b) == 0) {
			*(int *)field = b ? SYSLOGIN_YES : SYSLOGIN_NO;
			return;
		}
		problem(cfg, ld->line, 0, "%s: '%s' is not one of %s%s%s%s%s",
		    k->name, v, k->choices[0], k->choices[1] ? ", " : "",
		    k->choices[1] ? k->choices[1] : "",
		    k->choices[1] && k->choices[2] ? ", " : "",
		    k->choices[1] && k->choices[2] ? k->choices[2] : "");
		return;
	case K_ADDR:
		/* PASV replies carry IPv4 only; EPSV replies no address */
		if (inet_pton(AF_INET, v, &a6) != 1) {
			problem(cfg, ld->line, 0, "%s: '%s' is not an IPv4 address",
			    k->name, v);
			return;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v);
		return;
	}
}

static int
find_key(const struct key *table, const char *name)
{
	for (int i = 0; table[i].name != NULL; i++) {
		if (strcmp(table[i].name, name) == 0) {
			return i;
		}
	}
	return -1;
}

static int
valid_user_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > USER_NAME_MAX) {
		return 0;
	}
	for (; *n != '\0'; n++) {
		if (!isalnum((unsigned char)*n) && strchr("._-@$", *n) == NULL) {
			return 0;
		}
	}
	return 1;
}

/* Damerau-Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours) of two names of at
 * most CONF_SUGGEST_MAX bytes. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][CONF_SUGGEST_MAX + 1];
	size_t *before = rows[0], *prev = rows[1], *cur = rows[2], *t;

	if (la > CONF_SUGGEST_MAX || lb > CONF_SUGGEST_MAX) {
		return SIZE_MAX;
	}
	for (size_t j = 0; j <= lb; j++) {
		prev[j] = j;
	}
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t v = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < v) {
				v = prev[j] + 1;
			}
			if (cur[j - 1] + 1 < v) {
				v = cur[j - 1] + 1;
			}
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && before[j - 2] + 1 < v) {
				v = before[j - 2] + 1;
			}
			cur[j] = v;
		}
		t = before;
		before = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* Is candidate near enough to name to suggest it, and nearer than the
 * best so far? Near: at most 2 edits, and fewer than half of name. */
static int
nearer(const char *name, const char *candidate, size_t *best)
{
	size_t d = edit_distance(name, candidate);

	if (d <= 2 && 2 * d < strlen(name) && d < *best) {
		*best = d;
		return 1;
	}
	return 0;
}

static void
unknown_key(struct loader *ld, const struct key *table, const char *name,
    const char *section)
{
	const struct key *other = table == server_keys ? user_keys : server_keys;
	const char *near = NULL;
	size_t best = SIZE_MAX;

	for (int i = 0; table[i].name != NULL; i++) {
		if (nearer(name, table[i].name, &best)) {
			near = table[i].name;
		}
	}
	if (near != NULL) {
		problem(ld->cfg, ld->line, 0, "unknown key '%s' in [%s]; did you "
		    "mean '%s'?", name, section, near);
	} else if (find_key(other, name) >= 0) {
		problem(ld->cfg, ld->line, 0, "unknown key '%s' in [%s]; it belongs "
		    "in %s", name, section, table == server_keys ?
		    "a [user NAME] section" : "[server]");
	} else {
		problem(ld->cfg, ld->line, 0, "unknown key '%s' in [%s]", name, section);
	}
}

static void
unknown_section(struct loader *ld, const char *name)
{
	static const char *const sections[] = { "server", "passive_addresses" };
	size_t wlen = strcspn(name, " \t"), best = SIZE_MAX;
	const char *near = NULL;

	if (name[wlen] != '\0' && wlen <= CONF_SUGGEST_MAX) {
		char word[CONF_SUGGEST_MAX + 1];

		memcpy(word, name, wlen);
		word[wlen] = '\0';
		if (nearer(word, "user", &best)) {
			problem(ld->cfg, ld->line, 0, "unknown section [%s]; did you "
			    "mean [user %s]?", name, name + wlen + strspn(name + wlen, " \t"));
			return;
		}
	}
	if (strcmp(name, "user") == 0) {
		problem(ld->cfg, ld->line, 0, "unknown section [user]; a user's "
		    "section is [user NAME]");
		return;
	}
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
		if (nearer(name, sections[i], &best)) {
			near = sections[i];
		}
	}
	if (near != NULL) {
		problem(ld->cfg, ld->line, 0, "unknown section [%s]; did you mean "
		    "[%s]?", name, near);
	} else {
		problem(ld->cfg, ld->line, 0, "unknown section [%s]", name);
	}
}

/* A section header line: called from the reader, so that sections without
 * keys are seen too. */
static void
begin_section(struct loader *ld, const char *name)
{
	struct config *cfg = ld->cfg;

	ld->user = NULL;
	if (strcmp(name, "server") == 0) {
		if (ld->server_seen++) {
			problem(cfg, ld->line, 0, "[server] given twice");
		}
		ld->sec = SEC_SERVER;
	} else if (strcmp(name, "passive_addresses") == 0) {
		if (ld->pasv_seen++) {
			problem(cfg, ld->line, 0, "[passive_addresses] given twice");
		}
		ld->sec = SEC_PASV;
	} else if (strncmp(name, "user", 4) == 0 && (name[4] == ' ' || name[4] == '\t')) {
		const char *u = name + 5;

		while (*u == ' ' || *u == '\t') {
			u++;
		}
		ld->sec = SEC_BAD;
		if (!valid_user_name(u)) {
			problem(cfg, ld->line, 0, "[%s]: '%s' is not a valid user name",
			    name, u);
			return;
		}
		if (config_user(cfg, u) != NULL) {
			char at[512];

			problem(cfg, ld->line, 0, "[user %s] given twice (%s)", u,
			    where(cfg, config_user(cfg, u)->line, ld->line, at, sizeof at));
			return;
		}
		if (cfg->nusers >= CONF_USERS_MAX) {
			problem(cfg, ld->line, 0, "more than %d users", CONF_USERS_MAX);
			return;
		}
		cfg->users = realloc(cfg->users, (cfg->nusers + 1) * sizeof *cfg->users);
		if (cfg->users == NULL) {
			abort();
		}
		ld->user = &cfg->users[cfg->nusers++];
		memset(ld->user, 0, sizeof *ld->user);
		ld->user->name = xstrdup(u);
		ld->user->line = ld->line;
		ld->user->allow_write = WRITE_NO;
		ld->user->max_upload_size = -1;	/* the server's */
		ld->user->max_rate_download = -1;
		ld->user->max_rate_upload = -1;
		ld->sec = SEC_USER;
	} else {
		unknown_section(ld, name);
		ld->sec = SEC_BAD;
	}
}

static void
add_pasv_rule(struct loader *ld, const char *name, const char *value)
{
	struct config *cfg = ld->cfg;
	struct pasv_rule r;

	memset(&r, 0, sizeof r);
	if (strcmp(name, "default") == 0) {
		r.is_default = 1;
	} else if (cidr_parse(name, &r.net) != 0) {
		problem(cfg, ld->line, 0, "[passive_addresses]: '%s' is not an "
		    "address or ADDRESS/BITS network", name);
		return;
	}
	if (!valid_host(value)) {
		problem(cfg, ld->line, 0, "[passive_addresses]: '%s' is not an "
		    "address or host name", value);
		return;
	}
	for (size_t i = 0; i < cfg->npasv; i++) {
		if (cfg->pasv[i].is_default == r.is_default &&
		    (r.is_default || memcmp(&cfg->pasv[i].net, &r.net, sizeof r.net) == 0)) {
			char at[512];

			problem(cfg, ld->line, 0, "[passive_addresses]: '%s' given "
			    "twice (%s)", name, where(cfg, cfg->pasv[i].line,
			    ld->line, at, sizeof at));
			return;
		}
	}
	if (cfg->npasv >= CONF_PASV_MAX) {
		problem(cfg, ld->line, 0, "more than %d passive addresses", CONF_PASV_MAX);
		return;
	}
	r.target = xstrdup(value);
	r.line = ld->line;
	cfg->pasv = realloc(cfg->pasv, (cfg->npasv + 1) * sizeof *cfg->pasv);
	if (cfg->pasv == NULL) {
		abort();
	}
	cfg->pasv[cfg->npasv++] = r;
}

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct loader *ld = arg;
	const struct key *table;
	int *lines, i;
	void *base;

	(void)section;		/* the reader saw the header first */
	switch (ld->sec) {
	case SEC_NONE:
		problem(ld->cfg, ld->line, 0, "'%s' outside a section", name);
		return 1;
	case SEC_BAD:
		return 1;	/* reported at the header */
	case SEC_PASV:
		add_pasv_rule(ld, name, value);
		return 1;
	case SEC_SERVER:
		table = server_keys;
		base = &ld->cfg->srv;
		lines = ld->cfg->srv.key_line;
		break;
	case SEC_USER:
	default:
		table = user_keys;
		base = ld->user;
		lines = ld->user->key_line;
		break;
	}
	i = find_key(table, name);
	if (i < 0) {
		unknown_key(ld, table, name, section);
		return 1;
	}
	if (lines[i] != 0) {
		char at[512];

		problem(ld->cfg, ld->line, 0, "'%s' given twice (%s)", name,
		    where(ld->cfg, lines[i], ld->line, at, sizeof at));
		return 1;
	}
	lines[i] = ld->line;
	set_key(ld, &table[i], base, value);
	return 1;
}

/* "password = value ; comment" becomes "password = @OFFSET" with the
 * value, as inih would read it, copied into the vault. */
static void
hide_secret(struct loader *ld, char *line, size_t size)
{
	char *k = line + strspn(line, " \t"), *eq = strpbrk(k, "=:"), *v, *e;
	size_t klen, vlen;
	char *copy;
	int secret = 0;

	if (eq == NULL) {
		return;
	}
	for (klen = (size_t)(eq - k); klen > 0 && strchr(" \t", k[klen - 1]); klen--) {
		continue;
	}
	for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++) {
		secret |= strlen(secret_keys[i]) == klen &&
		    strncmp(k, secret_keys[i], klen) == 0;
	}
	if (!secret) {
		return;
	}
	v = eq + 1 + strspn(eq + 1, " \t");
	/* inih's inline comment: ';' or '#' after white space */
	for (e = v; *e != '\0' && *e != '\r' && *e != '\n'; e++) {
		if ((*e == ';' || *e == '#') && e > v && (e[-1] == ' ' || e[-1] == '\t')) {
			break;
		}
	}
	while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
		e--;
	}
	vlen = (size_t)(e - v);
	copy = vault_alloc(vlen + 1);
	if (copy == NULL) {
		problem(ld->cfg, ld->line, 0, "too many secrets");
		return;
	}
	memcpy(copy, v, vlen);
	copy[vlen] = '\0';
	wipe(v, strlen(v));
	/* the reader leaves SECRET_ROOM bytes for this; a cut placeholder
	 * would point elsewhere in the vault */
	if ((size_t)snprintf(v, size - (size_t)(v - line), "@%zu\n",
	    (size_t)(copy - vault)) >= size - (size_t)(v - line)) {
		v[0] = '\0';
	}
}

/* fgets for inih over the text in memory: counts lines, sees section
 * headers, refuses NUL bytes and over-long lines. */
static char *
reader(char *str, int num, void *arg)
{
	struct loader *ld = arg;
	const char *nl, *p = ld->p;
	size_t len;

	if (p >= ld->end) {
		return NULL;
	}
	nl = memchr(p, '\n', (size_t)(ld->end - p));
	len = (size_t)((nl != NULL ? nl + 1 : ld->end) - p);
	ld->p = p + len;
	ld->line++;
	str[0] = '\0';
	if (memchr(p, '\0', len) != NULL) {
		problem(ld->cfg, ld->line, 0, "NUL byte in line");
		return str;
	}
	{
		size_t content = len;

		if (content > 0 && p[content - 1] == '\n') {
			content--;
		}
		if (content > 0 && p[content - 1] == '\r') {
			content--;
		}
		if (content > CONF_LINE_MAX || len + 1 > (size_t)num) {
			problem(ld->cfg, ld->line, 0, "line longer than %d bytes",
			    CONF_LINE_MAX);
			return str;
		}
	}
	memcpy(str, p, len);
	str[len] = '\0';
	hide_secret(ld, str, (size_t)num);
	/* a section header (inih checks its syntax; we need its name now) */
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	if (len > 0 && *p == '[') {
		const char *close = memchr(p, ']', len);

		if (close != NULL) {
			char name[CONF_LINE_MAX];
			size_t n = (size_t)(close - p - 1);

			memcpy(name, p + 1, n);
			name[n] = '\0';
			begin_section(ld, name);
		}
	}
	return str;
}

const struct user_conf *
config_user(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nusers; i++) {
		if (strcmp(cfg->users[i].name, name) == 0) {
			return &cfg->users[i];
		}
	}
	return NULL;
}

/* The account a [user] section's sessions run as (auth.c, check_user,
 * -T): system_user; else, with system_login, the name itself; else,
 * started as root, "nobody", otherwise the account cellftpd runs as
 * (NULL when it has none). */
const char *
config_session_account(const struct user_conf *u)
{
	struct passwd *self;

	if (u->system_user != NULL) {
		return u->system_user;
	}
	if (u->system_login) {
		return u->name;
	}
	if (geteuid() == 0) {
		return "nobody";
	}
	self = getpwuid(geteuid());
	return self != NULL ? self->pw_name : NULL;
}

static void
defaults(struct config *cfg)
{
	struct server_conf *s = &cfg->srv;

	s->banner = xstrdup("FTP server ready");
	s->pasv_lo = 49152;
	s->pasv_hi = 65535;
	s->active_mode = 1;
	parse_list("anonymous ftp", &s->anonymous_names);
	s->deny_users_file = xstrdup("/etc/ftpusers");
	s->idle_timeout = 300;
	s->data_timeout = 300;
	s->max_login_failures = 3;
	s->login_timeout = 120;
	s->umask = 022;
	s->atomic_uploads = 1;
	s->log = LOGTO_AUTO;
	/* unprivileged_user: default_unprivileged_user(), after the files */
	s->pam_service = xstrdup("cellftpd");
	s->tls_ciphers = xstrdup("ECDHE+AESGCM:ECDHE+CHACHA20");
	s->tls_ciphersuites = xstrdup("TLS_AES_256_GCM_SHA384:"
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256");
}

int
tls_required(const struct config *cfg, const char *user)
{
	const struct user_conf *u = NULL;

	if (cfg->srv.tls == TLS_OFF) {
		return REQ_NO;
	}
	if (user != NULL) {
		u = config_user(cfg, auth_is_anonymous(cfg, user) ? "anonymous" : user);
	}
	if (u != NULL && u->require_tls_set) {
		return u->require_tls;
	}
	return cfg->srv.require_tls_set ? cfg->srv.require_tls : REQ_ALL;
}

/* The default of unprivileged_user, decided here alone: the dedicated
 * account when /etc/passwd has it, where sysusers.d/cellftpd.conf puts
 * it. Looked up there, not through NSS: a name NSS does not know walks
 * every source (libnss_systemd and its userdb, LDAP, ...) at every
 * connection, which cost a session a fifth more CPU. */
static const char *
default_unprivileged_user(void)
{
	static const char entry[] = PRELOGIN_USER ":";
	const char *name = PRELOGIN_USER_FALLBACK;
	FILE *f = fopen("/etc/passwd", "re");
	char *line = NULL;
	size_t size = 0;

	if (f == NULL) {
		return name;
	}
	/* its entry is the line that starts with the name and a colon
	 * (fgetpwent would also do, at an lseek per line) */
	while (getline(&line, &size, f) > 0) {
		if (strncmp(line, entry, sizeof entry - 1) == 0) {
			name = PRELOGIN_USER;
			break;
		}
	}
	free(line);
	fclose(f);
	return name;
}

/* Relative paths are relative to the directory of the file that gives
 * them (pos: the key's position). */
static void
absolutize(struct config *cfg, int pos, char **path)
{
	const char *slash, *file;
	char *abs;
	int line;

	if (*path == NULL || (*path)[0] == '/') {
		return;
	}
	file = pos_file(cfg, pos, &line);
	slash = strrchr(file, '/');
	if (slash == NULL) {
		if (asprintf(&abs, "./%s", *path) < 0) {
			abort();
		}
	} else if (asprintf(&abs, "%.*s/%s", (int)(slash - file), file,
	    *path) < 0) {
		abort();
	}
	free(*path);
	*path = abs;
}

int
auth_hash_valid(const char *hash, const char *salt)
{
	if (is_hex64(hash)) {
		return 1;
	}
	return salt == NULL && crypt_checksalt(hash) == CRYPT_SALT_OK;
}

static void
check_user(struct config *cfg, struct user_conf *u, int checks)
{
	const int *kl = u->key_line;
	int forms = (u->password_hash != NULL) + (u->password != NULL) +
	    (u->system_login != SYSLOGIN_NO);
	int anonymous = strcmp(u->name, "anonymous") == 0;
	const char *sysuser;
	struct passwd *pw = NULL;
	struct stat st;

	if (forms > 1) {
		problem(cfg, u->line, 0, "[user %s]: give only one of password_hash, "
		    "password, system_login", u->name);
	}
	if (anonymous && forms > 0) {
		problem(cfg, u->line, 0, "[user anonymous] takes any password; remove "
		    "its password settings");
	}
	if (u->password_salt != NULL && (u->password_hash == NULL ||
	    !is_hex64(u->password_hash))) {
		problem(cfg, kl[UK_SALT], 0, "password_salt goes only with a "
		    "64-hex-digit SHA-256 password_hash");
	}
	if (u->password_hash != NULL && !auth_hash_valid(u->password_hash, NULL)) {
		problem(cfg, kl[UK_HASH], 0, "password_hash is neither a crypt(3) "
		    "hash this system verifies nor 64 hex digits");
	}
	if (u->password != NULL) {
		problem(cfg, kl[UK_PASSWORD], 1, "[user %s] has a plaintext "
		    "password; use password_hash (cellftpd -H makes one)", u->name);
	}
	if (forms == 0 && !anonymous) {
		problem(cfg, u->line, 1, "[user %s] logs in without any password",
		    u->name);
	}
	if (u->home != NULL && u->home[0] != '/') {
		problem(cfg, kl[UK_HOME], 0, "home '%s' must start with '/' (it is "
		    "inside root)", u->home);
	}
	absolutize(cfg, kl[UK_ROOT], &u->root);

	sysuser = u->system_user;
	if (sysuser == NULL && u->system_login) {
		sysuser = u->name;
	}
	if (sysuser != NULL) {
		pw = getpwnam(sysuser);
		if (pw == NULL && (checks & CONF_CHECK_FS)) {
			problem(cfg, kl[UK_SYSUSER] ? kl[UK_SYSUSER] : u->line, 0,
			    "[user %s]: no system account '%s'", u->name, sysuser);
			return;
		}
	}
	if (pw != NULL && geteuid() != 0 && pw->pw_uid != geteuid()) {
		problem(cfg, kl[UK_SYSUSER] ? kl[UK_SYSUSER] : u->line, 0,
		    "[user %s]: cannot run as '%s' without being started as root",
		    u->name, sysuser);
	}
	if (pw != NULL && geteuid() == 0 && pw->pw_uid == 0) {
		problem(cfg, kl[UK_SYSUSER] ? kl[UK_SYSUSER] : u->line, 0,
		    "[user %s]: sessions never run as root", u->name);
	}
	if (!(checks & CONF_CHECK_FS)) {
		return;
	}
	if (u->root == NULL && pw == NULL) {
		const char *as = config_session_account(u);

		pw = as != NULL ? getpwnam(as) : NULL;
	}
	if (u->root == NULL && pw != NULL) {
		u->root = xstrdup(pw->pw_dir);
	}
	if (u->root == NULL) {
		problem(cfg, u->line, 0, "[user %s]: set root", u->name);
	} else if (stat(u->root, &st) != 0) {
		problem(cfg, kl[UK_ROOT] ? kl[UK_ROOT] : u->line, 0,
		    "[user %s]: root '%s': %s", u->name, u->root, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		problem(cfg, kl[UK_ROOT] ? kl[UK_ROOT] : u->line, 0,
		    "[user %s]: root '%s' is not a directory", u->name, u->root);
	}
}

static void
check_tls(struct config *cfg, int checks)
{
	struct server_conf *s = &cfg->srv;
	const int *kl = s->key_line;
	int tls_line = kl[find_key(server_keys, "tls")];
	int cert_line = kl[find_key(server_keys, "tls_certificate")];
	int key_line = kl[find_key(server_keys, "tls_key")];
	char err[600];
	int days;
	struct stat st;

	if (s->tls == TLS_OFF) {
		if (s->require_tls_set) {
			problem(cfg, kl[find_key(server_keys, "require_tls")], 0,
			    "require_tls needs tls = explicit or implicit");
		}
		for (size_t i = 0; i < cfg->nusers; i++) {
			if (cfg->users[i].require_tls_set) {
				problem(cfg, cfg->users[i].key_line[UK_REQTLS], 0,
				    "require_tls needs tls = explicit or implicit");
			}
		}
		return;
	}
	if (s->tls_certificate == NULL) {
		problem(cfg, tls_line, 0, "tls = %s needs tls_certificate",
		    tls_choices[s->tls]);
		return;
	}
	if (!(checks & CONF_CHECK_TLS)) {
		return;		/* the pre-login process loads them */
	}
	if (tls_check(s, err, sizeof err, &days) != 0) {
		problem(cfg, strstr(err, "tls_key") == err && key_line != 0 ? key_line :
		    cert_line, 0, "%s", err);
	} else if (days >= 0) {
		problem(cfg, cert_line, 1, "tls_certificate '%s' expires within %d days",
		    s->tls_certificate, days);
	}
	if (stat(s->tls_key, &st) == 0 && (st.st_mode & 077) != 0) {
		problem(cfg, key_line ? key_line : cert_line, 1,
		    "tls_key '%s' can be read by others than its owner (mode %03o)",
		    s->tls_key, st.st_mode & 0777);
	}
}

/* proxy_from: networks, and someone to believe when the protocol is on. */
static void
check_proxy(struct config *cfg)
{
	struct server_conf *s = &cfg->srv;
	int from_line = s->key_line[find_key(server_keys, "proxy_from")];

	cfg->proxy_nets = xcalloc(s->proxy_from.n + 1, sizeof *cfg->proxy_nets);
	for (size_t i = 0; i < s->proxy_from.n; i++) {
		if (cidr_parse(s->proxy_from.v[i], &cfg->proxy_nets[cfg->nproxy]) != 0) {
			problem(cfg, from_line, 0, "proxy_from: '%s' is not an address "
			    "or a network (ADDRESS/BITS, host bits zero)",
			    s->proxy_from.v[i]);
		} else {
			cfg->nproxy++;
		}
	}
	if (s->proxy_protocol != 0 && s->proxy_from.n == 0) {
		problem(cfg, s->key_line[find_key(server_keys, "proxy_protocol")], 0,
		    "proxy_protocol = %s needs proxy_from: the addresses of the "
		    "balancers allowed to send a header", proxy_choices[s->proxy_protocol]);
	} else if (s->proxy_protocol == 0 && s->proxy_from.n > 0) {
		problem(cfg, from_line, 1, "proxy_from has no effect with "
		    "proxy_protocol = no");
	}
}

int
config_proxy_trusted(const struct config *cfg, const struct sockaddr_storage *peer)
{
	for (size_t i = 0; i < cfg->nproxy; i++) {
		if (cidr_match(&cfg->proxy_nets[i], (const struct sockaddr *)peer)) {
			return 1;
		}
	}
	return 0;
}

/* Does any account go through PAM? */
static int
pam_used(const struct config *cfg)
{
	if (cfg->srv.all_users && cfg->srv.system_auth == SYSAUTH_PAM) {
		return 1;
	}
	for (size_t i = 0; i < cfg->nusers; i++) {
		int sl = cfg->users[i].system_login;

		if (sl == SYSLOGIN_PAM ||
		    (sl == SYSLOGIN_YES && cfg->srv.system_auth == SYSAUTH_PAM)) {
			return 1;
		}
	}
	return 0;
}

/* pam_service, guest_user and guest_root */
static void
check_pam(struct config *cfg, int checks)
{
	struct server_conf *s = &cfg->srv;
	const int *kl = s->key_line;
	int svc_line = kl[find_key(server_keys, "pam_service")];
	int guest_line = kl[find_key(server_keys, "guest_user")];
	int root_line = kl[find_key(server_keys, "guest_root")];
	int virtual = s->all_users && s->system_auth == SYSAUTH_PAM;

	if (s->pam_service[0] == '\0' || strchr(s->pam_service, '/') != NULL ||
	    s->pam_service[0] == '.') {
		problem(cfg, svc_line, 0, "pam_service '%s' is not a file name in "
		    "/etc/pam.d", s->pam_service);
	} else if ((checks & CONF_CHECK_FS) && pam_used(cfg)) {
		char etc[300], vendor[300];
		struct stat st;

		snprintf(etc, sizeof etc, "/etc/pam.d/%s", s->pam_service);
		snprintf(vendor, sizeof vendor, "/usr/lib/pam.d/%s", s->pam_service);
		if (stat(etc, &st) != 0 && stat(vendor, &st) != 0) {
			problem(cfg, svc_line, 1, "pam_service: no %s, so PAM uses the "
			    "service 'other' (on Debian: deny)", etc);
		}
	}
	if (s->guest_root != NULL) {
		const char *p = s->guest_root;

		if (p[0] != '/') {
			problem(cfg, root_line, 0, "guest_root '%s' must be an absolute "
			    "path", p);
		}
		for (; (p = strchr(p, '%')) != NULL; p += 2) {
			if (p[1] != 'u' && p[1] != '%') {
				problem(cfg, root_line, 0, "guest_root: only %%u (the "
				    "name) and %%%% may follow a '%%'");
				break;
			}
		}
	}
	if (s->guest_user != NULL && s->guest_root == NULL) {
		problem(cfg, guest_line, 0, "guest_user needs guest_root (e.g. "
		    "/srv/ftp/%%u)");
	}
	if (s->guest_root != NULL && s->guest_user == NULL) {
		problem(cfg, root_line, 1, "guest_root has no effect without guest_user");
	}
	if (s->guest_user != NULL && !virtual) {
		problem(cfg, guest_line, 1, "guest_user has no effect without "
		    "all_users = yes and system_auth = pam");
	}
	if (s->guest_user != NULL && (checks & CONF_CHECK_FS)) {
		struct passwd *pw = getpwnam(s->guest_user);

		if (pw == NULL) {
			problem(cfg, guest_line, 0, "guest_user: no system account '%s'",
			    s->guest_user);
		} else if (pw->pw_uid == 0) {
			problem(cfg, guest_line, 0, "guest_user: '%s' is root "
			    "(sessions never run as root)", s->guest_user);
		}
	}
}

static void
check_server(struct config *cfg, int checks)
{
	struct server_conf *s = &cfg->srv;
	const int *kl = s->key_line;
	int deny_line = kl[find_key(server_keys, "deny_users_file")];
	struct stat st;

	if (s->unprivileged_user == NULL) {
		s->unprivileged_user = xstrdup(default_unprivileged_user());
	}
	absolutize(cfg, deny_line, &s->deny_users_file);
	absolutize(cfg, kl[find_key(server_keys, "xferlog")], &s->xferlog);
	if ((checks & CONF_CHECK_FS) && geteuid() == 0) {
		struct passwd *pw = getpwnam(s->unprivileged_user);
		int line = kl[find_key(server_keys, "unprivileged_user")];

		if (pw == NULL) {
			problem(cfg, line, 0, "unprivileged_user: no system account '%s'",
			    s->unprivileged_user);
		} else if (pw->pw_uid == 0) {
			problem(cfg, line, 0, "unprivileged_user: '%s' is root",
			    s->unprivileged_user);
		}
	}
	if ((checks & CONF_CHECK_FS) && deny_line != 0 &&
	    stat(s->deny_users_file, &st) != 0) {
		problem(cfg, deny_line, 0, "deny_users_file '%s': %s",
		    s->deny_users_file, strerror(errno));
	}
	if (s->welcome_file != NULL && strchr(s->welcome_file, '\0')[-1] == '/') {
		problem(cfg, kl[find_key(server_keys, "welcome_file")], 0,
		    "welcome_file names a file, not a directory");
	}
	if (s->message_file != NULL && strchr(s->message_file, '/') != NULL) {
		problem(cfg, kl[find_key(server_keys, "message_file")], 0,
		    "message_file is a plain file name, looked for in each directory");
	}
	for (size_t i = 0; i < s->anonymous_names.n; i++) {
		const char *name = s->anonymous_names.v[i];
		const struct user_conf *u = config_user(cfg, name);

		if (u != NULL && strcmp(name, "anonymous") != 0) {
			problem(cfg, u->line, 0, "[user %s] is also one of "
			    "anonymous_names", name);
		}
	}
	absolutize(cfg, kl[find_key(server_keys, "tls_certificate")], &s->tls_certificate);
	absolutize(cfg, kl[find_key(server_keys, "tls_key")], &s->tls_key);
	if (s->tls_key == NULL && s->tls_certificate != NULL) {
		s->tls_key = xstrdup(s->tls_certificate);
	}
	check_tls(cfg, checks);
	check_proxy(cfg);
	check_pam(cfg, checks);
	if (s->restricted_users.n > 0 && !s->all_users) {
		problem(cfg, kl[find_key(server_keys, "restricted_users")], 1,
		    "restricted_users has no effect without all_users = yes");
	}
	if (s->anonymous_names.n > 0 && config_user(cfg, "anonymous") == NULL &&
	    kl[find_key(server_keys, "anonymous_names")] != 0) {
		problem(cfg, kl[find_key(server_keys, "anonymous_names")], 1,
		    "anonymous_names has no effect without [user anonymous]");
	}
}

static struct config *
config_new(const char *path)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);

	cfg->path = xstrdup(path);
	defaults(cfg);
	return cfg;
}

/* One file's text, its lines numbered on from the files before it. */
static void
parse_text(struct config *cfg, const char *name, const char *text)
{
	struct loader ld;
	int rc, base = cfg->npositions;

	cfg->files = realloc(cfg->files, (cfg->nfiles + 1) * sizeof *cfg->files);
	cfg->file_base = realloc(cfg->file_base,
	    (cfg->nfiles + 1) * sizeof *cfg->file_base);
	if (cfg->files == NULL || cfg->file_base == NULL) {
		abort();
	}
	cfg->files[cfg->nfiles] = xstrdup(name);
	cfg->file_base[cfg->nfiles++] = base;

	memset(&ld, 0, sizeof ld);
	ld.cfg = cfg;
	ld.p = text;
	ld.end = text + strlen(text);
	ld.line = base;

	/* inih's behaviour, chosen on purpose: no continuation lines (an
	 * indented "key = value" is a key of its own, never part of the
	 * value above), ';' and '#' start comments, lines up to
	 * CONF_LINE_MAX bytes, every error seen. */
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = (char *)";#";
	ini_start_comment_prefixes = (char *)";#";
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = CONF_LINE_MAX + 3 + SECRET_ROOM;
	ini_initial_alloc = CONF_LINE_MAX + 3 + SECRET_ROOM;
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;

	rc = ini_parse_stream(reader, &ld, handler, &ld);
	if (rc > 0) {
		problem(cfg, base + rc, 0, "syntax error: expected [section] or "
		    "key = value");
	} else if (rc < 0) {
		problem_file(cfg, name, 0, "cannot parse: out of memory");
	}
	cfg->npositions = ld.line;
}

/* The checks that need every file read. */
static void
config_check(struct config *cfg, int checks)
{
	check_server(cfg, checks);
	for (size_t i = 0; i < cfg->nusers; i++) {
		check_user(cfg, &cfg->users[i], checks);
	}
}

struct config *
config_parse(const char *name, const char *text, int checks)
{
	struct config *cfg = config_new(name);

	if (vault == NULL || text < vault || text >= vault + VAULT_SIZE) {
		vault_clear();	/* a new configuration (text from elsewhere) */
	}
	parse_text(cfg, name, text);
	config_check(cfg, checks);
	return cfg;
}

/* Unsafe modes that root would refuse are warnings for anyone else. */
static void
writable_warning(struct config *cfg, const char *path, const struct stat *st)
{
	if (geteuid() != 0 && (st->st_mode & 022) != 0) {
		problem_file(cfg, path, 1, "writable by group or others (mode %04o); "
		    "started as root, cellftpd would refuse it",
		    (unsigned)(st->st_mode & 07777));
	}
}

/* ... and secrets readable by every local user are worth a warning
 * always (users: the sections the file added). */
static void
file_mode_warnings(struct config *cfg, const char *path, const struct stat *st,
    size_t first_user)
{
	int secrets = 0;

	for (size_t i = first_user; i < cfg->nusers; i++) {
		secrets |= cfg->users[i].password != NULL ||
		    cfg->users[i].password_hash != NULL;
	}
	writable_warning(cfg, path, st);
	if (secrets && (st->st_mode & 004) != 0) {
		problem_file(cfg, path, 1, "holds passwords but is readable by others "
		    "(mode %04o); chmod 600", (unsigned)(st->st_mode & 07777));
	}
}

/* Started as root, a file or directory that someone else could change
 * is refused. */
static int
refused(struct config *cfg, const char *path, const struct stat *st, int checks)
{
	if ((checks & CONF_CHECK_FILE) && geteuid() == 0 &&
	    (st->st_uid != 0 || (st->st_mode & 022) != 0)) {
		problem_file(cfg, path, 0, "refused: must be owned by root and not "
		    "writable by group or others (owner uid %u, mode %04o)",
		    (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
		return 1;
	}
	return 0;
}

/* Read and parse the file name in directory dirfd (path: its name in
 * messages); total counts the bytes of all files. 0, or -1 when it was
 * not read. */
static int
load_file(struct config *cfg, int dirfd, const char *name, const char *path,
    int checks, size_t *total)
{
	size_t first_user = cfg->nusers;
	struct stat st;
	char *text;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO is refused below, not waited on */
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		problem_file(cfg, path, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_FILE_MAX) {
		problem_file(cfg, path, 0, "not a regular file of at most %d bytes",
		    CONF_FILE_MAX);
		goto out;
	}
	if ((size_t)st.st_size > CONF_TOTAL_MAX - *total) {
		problem_file(cfg, path, 0, "the configuration files hold more than "
		    "%d bytes together", CONF_TOTAL_MAX);
		goto out;
	}
	if (refused(cfg, path, &st, checks)) {
		goto out;
	}
	text = vault_alloc((size_t)st.st_size + 1);
	if (text == NULL) {
		/* VAULT_SIZE holds CONF_TOTAL_MAX and the secrets: out of memory */
		problem_file(cfg, path, 0, "cannot read: %s", strerror(ENOMEM));
		goto out;
	}
	n = read(fd, text, (size_t)st.st_size);
	if (n < 0 || (size_t)n != strnlen(text, (size_t)n)) {
		int err = errno;

		problem_file(cfg, path, 0, n < 0 ? "cannot read: %s" : "NUL byte in file%s",
		    n < 0 ? strerror(err) : "");
		goto out;
	}
	text[n] = '\0';
	*total += (size_t)n;
	parse_text(cfg, path, text);
	wipe(text, (size_t)n);	/* its secrets are in the vault now */
	file_mode_warnings(cfg, path, &st, first_user);
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A name of the directory that is read: "*.conf", not hidden (so not an
 * editor's or dpkg's leftover: x.conf~, x.conf.dpkg-old, .x.conf.swp). */
static int
dropin_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The *.conf files of PATH.d in byte order of their names; no directory is fine. */
static void
load_dir(struct config *cfg, const char *path, int checks, size_t *total)
{
	char *dir, **names = NULL;
	size_t n = 0;
	struct stat st;
	struct dirent *e;
	DIR *d = NULL;
	int fd;

	if (asprintf(&dir, "%s.d", path) < 0) {
		abort();
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			problem_file(cfg, dir, 0, "cannot open: %s", strerror(errno));
		}
		goto out;
	}
	if (fstat(fd, &st) != 0 || (d = fdopendir(fd)) == NULL) {
		problem_file(cfg, dir, 0, "cannot read: %s", strerror(errno));
		close(fd);
		goto out;
	}
	if (refused(cfg, dir, &st, checks)) {
		goto out;
	}
	writable_warning(cfg, dir, &st);
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		if (!dropin_name(e->d_name)) {
			continue;
		}
		if (n >= CONF_DIR_FILES_MAX) {
			problem_file(cfg, dir, 0, "more than %d *.conf files",
			    CONF_DIR_FILES_MAX);
			break;
		}
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL) {
			abort();
		}
		names[n++] = xstrdup(e->d_name);
	}
	if (e == NULL && errno != 0) {
		problem_file(cfg, dir, 0, "cannot read: %s", strerror(errno));
	}
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		char *file;

		if (asprintf(&file, "%s/%s", dir, names[i]) < 0) {
			abort();
		}
		load_file(cfg, dirfd(d), names[i], file, checks, total);
		free(file);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	if (d != NULL) {
		closedir(d);
	}
	free(dir);
}

struct config *
config_load(const char *path, int checks)
{
	struct config *cfg = config_new(path);
	size_t total = 0;

	vault_clear();
	if (load_file(cfg, AT_FDCWD, path, path, checks, &total) != 0) {
		config_check(cfg, 0);	/* the defaults, completed */
		return cfg;
	}
	load_dir(cfg, path, checks, &total);
	config_check(cfg, checks);
	return cfg;
}

void
config_wipe_secrets(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nusers; i++) {
		cfg->users[i].password = NULL;
		cfg->users[i].password_hash = NULL;
		cfg->users[i].password_salt = NULL;
	}
	vault_clear();
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < cfg->nusers; i++) {
		struct user_conf *u = &cfg->users[i];

		free(u->name);
		free(u->system_user);
		free(u->root);
		free(u->home);
	}
	free(cfg->users);
	for (size_t i = 0; i < cfg->npasv; i++) {
		free(cfg->pasv[i].target);
	}
	free(cfg->pasv);
	for (size_t i = 0; i < cfg->nproblems; i++) {
		free(cfg->problems[i]);
	}
	free(cfg->problems);
	free(cfg->srv.banner);
	free(cfg->srv.passive_address);
	wordlist_free(&cfg->srv.anonymous_names);
	wordlist_free(&cfg->srv.restricted_users);
	wordlist_free(&cfg->srv.proxy_from);
	free(cfg->proxy_nets);
	free(cfg->srv.deny_users_file);
	free(cfg->srv.welcome_file);
	free(cfg->srv.message_file);
	free(cfg->srv.xferlog);
	free(cfg->srv.unprivileged_user);
	free(cfg->srv.pam_service);
	free(cfg->srv.guest_user);
	free(cfg->srv.guest_root);
	free(cfg->srv.tls_certificate);
	free(cfg->srv.tls_key);
	free(cfg->srv.tls_ciphers);
	free(cfg->srv.tls_ciphersuites);
	for (size_t i = 0; i < cfg->nfiles; i++) {
		free(cfg->files[i]);
	}
	free(cfg->files);
	free(cfg->file_base);
	free(cfg->path);
	free(cfg);
	vault_clear();
}

/* ---- -T: the effective configuration ---- */

/* [server] keys in the order of cellftpd.conf(5) */
static const char *const server_order[] = {
	"banner", "passive_ports", "passive_address", "active_mode",
	"anonymous_names", "all_users", "restricted_users", "deny_users_file",
	"system_auth", "pam_service", "guest_user", "guest_root",
	"idle_timeout", "data_timeout", "max_login_failures", "login_timeout",
	"umask", "atomic_uploads", "max_upload_size", "max_rate_download",
	"max_rate_upload", "welcome_file", "message_file", "conversions", "log",
	"xferlog", "max_sessions", "max_sessions_per_ip", "unprivileged_user",
	"tls", "tls_certificate", "tls_key", "tls_min_version", "tls_ciphers",
	"tls_ciphersuites", "require_tls", "proxy_protocol", "proxy_from",
	"proxy_untrusted",
};
_Static_assert(sizeof server_order / sizeof server_order[0] ==
    sizeof server_keys / sizeof server_keys[0] - 1, "server_order lists every key");

/* A size as the file would give it: the largest unit that divides it. */
static void
show_size(FILE *out, const char *name, long long v)
{
	static const char units[] = "TGMK";
	int shift = 40;

	for (const char *u = units; *u != '\0'; u++, shift -= 10) {
		if (v > 0 && v % (1LL << shift) == 0) {
			fprintf(out, "%s = %lld%c\n", name, v >> shift, *u);
			return;
		}
	}
	fprintf(out, "%s = %lld\n", name, v);
}

/* "key = value" as the file gives it; "# key is not set" for a key
 * without a value. */
static void
show_key(FILE *out, const struct key *k, const void *base)
{
	const char *field = (const char *)base + k->off;

	switch (k->type) {
	case K_STR:
	case K_ADDR:
	case K_SECRET: {
		const char *v = *(char *const *)field;

		if (v == NULL) {
			fprintf(out, "# %s is not set\n", k->name);
		} else {
			fprintf(out, "%s = %s\n", k->name, k->type == K_SECRET ?
			    SECRET_SHOWN : v);
		}
		return;
	}
	case K_BOOL:
		fprintf(out, "%s = %s\n", k->name, *(const int *)field ? "yes" : "no");
		return;
	case K_UINT:
		fprintf(out, "%s = %u\n", k->name, *(const unsigned *)field);
		return;
	case K_OCTAL:
		fprintf(out, "%s = %03o\n", k->name, *(const unsigned *)field);
		return;
	case K_RANGE:
		fprintf(out, "%s = %u-%u\n", k->name, ((const unsigned *)field)[0],
		    ((const unsigned *)field)[1]);
		return;
	case K_LIST: {
		const struct wordlist *l = (const struct wordlist *)field;

		fprintf(out, "%s =", k->name);
		for (size_t i = 0; i < l->n; i++) {
			fprintf(out, " %s", l->v[i]);
		}
		fprintf(out, "\n");
		return;
	}
	case K_ENUM:
		fprintf(out, "%s = %s\n", k->name, k->choices[*(const int *)field]);
		return;
	case K_SIZE:
		show_size(out, k->name, *(const long long *)field);
		return;
	}
}

/* require_tls: a comment when TLS is off (the key is refused then). */
static void
show_require_tls(FILE *out, const struct config *cfg, int req)
{
	if (cfg->srv.tls == TLS_OFF) {
		fprintf(out, "# require_tls is not used with tls = off\n");
	} else {
		fprintf(out, "require_tls = %s\n", require_choices[req]);
	}
}

static void
show_server(FILE *out, const struct config *cfg)
{
	const struct server_conf *s = &cfg->srv;
	struct stat st;

	fprintf(out, "[server]\n");
	for (size_t i = 0; i < sizeof server_order / sizeof server_order[0]; i++) {
		int k = find_key(server_keys, server_order[i]);

		if (strcmp(server_order[i], "require_tls") == 0) {
			show_require_tls(out, cfg, tls_required(cfg, NULL));
		} else if (strcmp(server_order[i], "deny_users_file") == 0 &&
		    s->key_line[k] == 0 && stat(s->deny_users_file, &st) != 0) {
			/* given, a missing file is an error */
			fprintf(out, "# deny_users_file is not set (%s does not "
			    "exist)\n", s->deny_users_file);
		} else if (strcmp(server_order[i], "anonymous_names") == 0 &&
		    s->key_line[k] == 0 && config_user(cfg, "anonymous") == NULL) {
			/* given, it warns that it has no effect */
			fprintf(out, "# anonymous_names is not used without "
			    "[user anonymous]\n");
		} else {
			show_key(out, &server_keys[k], s);
		}
	}
	if (cfg->npasv > 0) {
		fprintf(out, "\n[passive_addresses]\n");
	}
	for (size_t i = 0; i < cfg->npasv; i++) {
		const struct pasv_rule *r = &cfg->pasv[i];
		char addr[INET6_ADDRSTRLEN];

		if (r->is_default) {
			fprintf(out, "default = %s\n", r->target);
			continue;
		}
		inet_ntop(r->net.family, r->net.addr, addr, sizeof addr);
		if (r->net.prefix == (r->net.family == AF_INET ? 32u : 128u)) {
			fprintf(out, "%s = %s\n", addr, r->target);
		} else {
			fprintf(out, "%s/%u = %s\n", addr, r->net.prefix, r->target);
		}
	}
}

/* The values of a [user] section a session applies (auth.c): the
 * section's, else the server's or the account's. */
static void
show_user(FILE *out, const struct config *cfg, const struct user_conf *u,
    const char *login)
{
	int anonymous = strcmp(u->name, "anonymous") == 0;
	const char *sysname = config_session_account(u);
	unsigned umask = u->umask_set ? u->umask : cfg->srv.umask;

	if (sysname == NULL) {
		sysname = "";
	}
	if (anonymous && u->allow_write == WRITE_UPLOAD && !u->umask_set) {
		umask = ANON_UPLOAD_UMASK;
	}
	fprintf(out, "\n[user %s]\n", u->name);
	for (int i = 0; user_keys[i].name != NULL; i++) {
		const struct key *k = &user_keys[i];
		long long size;

		switch (i) {
		case UK_SYSUSER:
			fprintf(out, "system_user = %s\n", sysname);
			continue;
		case UK_HOME:
			fprintf(out, "home = %s\n", u->home != NULL ? u->home : "/");
			continue;
		case UK_UMASK:
			fprintf(out, "umask = %03o\n", umask);
			continue;
		case UK_REQTLS:
			show_require_tls(out, cfg, tls_required(cfg, login));
			continue;
		default:
			break;
		}
		if (k->type == K_SIZE) {
			size = *(const long long *)((const char *)u + k->off);
			if (size < 0) {	/* the server's */
				size = *(const long long *)((const char *)&cfg->srv +
				    server_keys[find_key(server_keys, k->name)].off);
			}
			show_size(out, k->name, size);
		} else {
			show_key(out, k, u);
		}
	}
}

/* A name without a section that logs in through all_users: what
 * auth.c's as_system() and as_guest() give it. */
struct sysacct {
	const char *sysname;
	const char *login;		/* system_login */
	const char *why;
	char	 root[VPATH_MAX];
	char	 home[VPATH_MAX];
};

static int
system_account(const struct config *cfg, const char *name, struct sysacct *a,
    FILE *err)
{
	const struct server_conf *s = &cfg->srv;
	struct passwd *pw = getpwnam(name);

	a->sysname = name;
	a->login = s->system_auth == SYSAUTH_PAM ? "pam" : "yes";
	if (pw != NULL && pw->pw_uid == 0) {
		fprintf(err, "cellftpd: -u %s: root may never log in\n", name);
		return -1;
	}
	if (pw != NULL) {
		int restricted = config_word_in(&s->restricted_users, name, 0) ||
		    config_word_in(&s->restricted_users, "*", 0);

		snprintf(a->root, sizeof a->root, "%s", restricted ? pw->pw_dir : "/");
		snprintf(a->home, sizeof a->home, "%s", restricted ? "/" : pw->pw_dir);
		a->why = restricted ? "all_users = yes lets its system account in, "
		    "confined to its home (restricted_users)" :
		    "all_users = yes lets its system account in";
		return 0;
	}
	if (s->system_auth == SYSAUTH_PAM && s->guest_user != NULL &&
	    name[0] != '.' && strchr(name, '/') == NULL &&
	    auth_guest_root(s->guest_root, name, a->root, sizeof a->root) == 0) {
		a->sysname = s->guest_user;
		a->login = "pam";
		strcpy(a->home, "/");
		a->why = "no system account either: a virtual user (guest_user), "
		    "if PAM accepts it";
		return 0;
	}
	fprintf(err, "cellftpd: -u %s: no such user: no [user %s] section and no "
	    "system account\n", name, name);
	return -1;
}

/* ... written as the section that would do the same */
static void
show_system_user(FILE *out, const struct config *cfg, const char *name,
    const struct sysacct *a)
{
	const struct server_conf *s = &cfg->srv;

	fprintf(out, "\n# %s: no [user %s] section; %s\n", name, name, a->why);
	fprintf(out, "[user %s]\nsystem_login = %s\nsystem_user = %s\nroot = %s\n"
	    "home = %s\nallow_write = yes\numask = %03o\nsymlinks = contain\n",
	    name, a->login, a->sysname, a->root, a->home, s->umask);
	show_require_tls(out, cfg, tls_required(cfg, name));
	show_size(out, "max_upload_size", s->max_upload_size);
	show_size(out, "max_rate_download", s->max_rate_download);
	show_size(out, "max_rate_upload", s->max_rate_upload);
}

int
config_show(const struct config *cfg, const char *user, FILE *out, FILE *err)
{
	const struct user_conf *u = NULL;
	struct sysacct acct;

	if (user != NULL && auth_is_anonymous(cfg, user)) {
		u = config_user(cfg, "anonymous");
	} else if (user != NULL) {
		u = config_user(cfg, user);
		if (u != NULL && strcmp(user, "anonymous") == 0) {
			fprintf(err, "cellftpd: -u anonymous: [user anonymous] serves "
			    "anonymous_names, and 'anonymous' is not one of them\n");
			return -1;
		}
		if (u == NULL && !cfg->srv.all_users) {
			fprintf(err, "cellftpd: -u %s: no such user: no [user %s] "
			    "section, and all_users = no\n", user, user);
			return -1;
		}
		if (u == NULL && system_account(cfg, user, &acct, err) != 0) {
			return -1;
		}
	}
	fprintf(out, "# cellftpd -T: the effective configuration, defaults filled in\n");
	for (size_t i = 0; i < cfg->nfiles; i++) {
		fprintf(out, "# read %s\n", cfg->files[i]);
	}
	show_server(out, cfg);
	if (u != NULL && strcmp(u->name, user) != 0) {
		fprintf(out, "\n# %s is one of anonymous_names: [user anonymous] "
		    "applies", user);
	}
	if (u != NULL) {
		show_user(out, cfg, u, user);
	} else if (user != NULL) {
		show_system_user(out, cfg, user, &acct);
	}
	return 0;
}
