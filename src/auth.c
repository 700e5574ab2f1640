/* Credentials. auth_check() is the one boundary between the FTP dialogue
 * and the decision: it takes a user name and a password and answers
 * yes (with the account to become) or no (with a reason for the log).
 * It keeps no state between calls, so it can run in a separate process. */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sha256.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cellftpd.h"

#define SHADOW_FILE "/etc/shadow"

void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* SHA-256 from libmd: small, and without the start-up cost of libcrypto */
static int
sha256(const char *a, const char *b, unsigned char out[32])
{
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	SHA256Update(&ctx, (const uint8_t *)a, strlen(a));
	if (b != NULL)
		SHA256Update(&ctx, (const uint8_t *)b, strlen(b));
	SHA256Final(out, &ctx);
	explicit_bzero(&ctx, sizeof ctx);
	return 0;
}

/* ftpmgr: hex(SHA-256(password + salt)) */
static int
check_sha256_hex(const char *hex, const char *salt, const char *pass)
{
	unsigned char want[32], got[32];
	int ok;

	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			return 0;
		}
		want[i] = (unsigned char)v;
	}
	ok = sha256(pass, salt != NULL ? salt : "", got) == 0 && ct_equal(want, got, 32);
	wipe(got, sizeof got);
	return ok;
}

static int
check_crypt(const char *hash, const char *pass)
{
	static struct crypt_data data;	/* 32 KiB: not on the stack */
	const char *out;
	int ok;

	memset(&data, 0, sizeof data);
	out = crypt_rn(pass, hash, &data, sizeof data);
	ok = out != NULL && out[0] != '*' && strlen(out) == strlen(hash) &&
	    ct_equal(out, hash, strlen(hash));
	wipe(&data, sizeof data);
	return ok;
}

/* Plaintext: compare digests so that neither length nor content leaks. */
static int
check_plain(const char *want, const char *pass)
{
	unsigned char a[32], b[32];
	int ok = sha256(want, NULL, a) == 0 && sha256(pass, NULL, b) == 0 &&
	    ct_equal(a, b, 32);

	wipe(a, sizeof a);
	wipe(b, sizeof b);
	return ok;
}

/* ftpmgr's form: SHA-256 as 64 hex digits */
int
is_hex64(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return n == 64 && s[n] == '\0';
}

/* The system's shadow entry: locked, expired and must-change refused. */
static int
check_shadow_entry(struct spwd *sp, const char *pass, const char **reason);

/* /etc/shadow, parsed by glibc's fgetspent_r, read through buffers of
 * our own that are wiped afterwards: no hash of any account stays in
 * the memory of the session this process becomes (getspnam() leaves its
 * entry, and NSS its stdio buffer, behind). */
static int
check_shadow(const char *name, const char *pass, const char **reason)
{
	static char io[SHADOW_LINE_MAX], buf[SHADOW_LINE_MAX];
	struct spwd ent, *sp = NULL;
	FILE *f = fopen(SHADOW_FILE, "re");
	int ok = 0;

	*reason = "no shadow entry";
	if (f != NULL && setvbuf(f, io, _IOFBF, sizeof io) == 0) {
		while (fgetspent_r(f, &ent, buf, sizeof buf, &sp) == 0) {
			if (strcmp(sp->sp_namp, name) == 0) {
				ok = check_shadow_entry(sp, pass, reason);
				break;
			}
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	wipe(&ent, sizeof ent);
	wipe(buf, sizeof buf);
	wipe(io, sizeof io);
	return ok;
}

static int
check_shadow_entry(struct spwd *sp, const char *pass, const char **reason)
{
	long today = (long)(time(NULL) / 86400);

	if (sp->sp_pwdp == NULL || sp->sp_pwdp[0] == '!' || sp->sp_pwdp[0] == '*' ||
	    sp->sp_pwdp[0] == '\0') {
		*reason = "account locked or without a password";
		return 0;
	}
	if (sp->sp_expire >= 0 && today >= sp->sp_expire) {
		*reason = "account expired";
		return 0;
	}
	if (sp->sp_lstchg == 0) {
		*reason = "password must be changed first";
		return 0;
	}
	if (sp->sp_max >= 0 && sp->sp_lstchg > 0 && today > sp->sp_lstchg + sp->sp_max) {
		*reason = "password expired";
		return 0;
	}
	if (!check_crypt(sp->sp_pwdp, pass)) {
		*reason = "wrong password";
		return 0;
	}
	return 1;
}

static int
deny_listed(const char *file, const char *user)
{
	char line[USER_NAME_MAX + 256];
	size_t seen = 0;
	FILE *f;
	int hit = 0;

	if (file == NULL || (f = fopen(file, "re")) == NULL) {
		return 0;	/* the default /etc/ftpusers may be absent */
	}
	/* a line at a time, and no more than DENY_FILE_MAX bytes in all */
	for (int start = 1; !hit && seen < DENY_FILE_MAX && fgets(line, sizeof line, f);) {
		size_t n = strlen(line);
		char *l = line + strspn(line, " \t");
		int whole = n > 0 && line[n - 1] == '\n';

		seen += n;
		l[strcspn(l, " \t\r\n#")] = '\0';
		hit = start && strcmp(l, user) == 0;
		start = whole;	/* the rest of an over-long line is no name */
	}
	fclose(f);
	return hit;
}

int
auth_is_anonymous(const struct config *cfg, const char *user)
{
	return config_user(cfg, "anonymous") != NULL &&
	    config_word_in(&cfg->srv.anonymous_names, user, 1);
}

static int
set_str(char *dst, size_t size, const char *src)
{
	return snprintf(dst, size, "%s", src) >= (int)size ? -1 : 0;
}

/* Fill the account from a system entry; root and home are set by callers. */
static int
set_identity(struct account *a, const char *sysname)
{
	struct passwd *pw = getpwnam(sysname);

	if (pw == NULL || set_str(a->sysname, sizeof a->sysname, sysname) != 0) {
		return -1;
	}
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	return 0;
}

/* system_login = pam, or yes with system_auth = pam */
static int
uses_pam(const struct config *cfg, int system_login)
{
	return system_login == SYSLOGIN_PAM ||
	    (system_login == SYSLOGIN_YES && cfg->srv.system_auth == SYSAUTH_PAM);
}

static enum auth_result
from_section(const struct config *cfg, const struct user_conf *u,
    const char *pass, struct account *a, const char **reason)
{
	const char *sysname;
	char home[VPATH_MAX];

	if (a->anonymous) {
		/* any password */
	} else if (u->password_hash != NULL && is_hex64(u->password_hash)) {
		if (!check_sha256_hex(u->password_hash, u->password_salt, pass)) {
			*reason = "wrong password";
			return AUTH_FAIL;
		}
	} else if (u->password_hash != NULL) {
		if (!check_crypt(u->password_hash, pass)) {
			*reason = "wrong password";
			return AUTH_FAIL;
		}
	} else if (u->password != NULL) {
		if (!check_plain(u->password, pass)) {
			*reason = "wrong password";
			return AUTH_FAIL;
		}
	} else if (uses_pam(cfg, u->system_login)) {
		char name[USER_NAME_MAX + 1];
		enum auth_result r = pamauth_check(cfg, u->name, pass, name, sizeof name,
		    reason);

		if (r != AUTH_OK) {
			return r;	/* the section's name stays the account's */
		}
	} else if (u->system_login) {
		if (!check_shadow(u->name, pass, reason)) {
			return AUTH_FAIL;
		}
	}
	sysname = config_session_account(u);
	if (sysname == NULL || set_identity(a, sysname) != 0) {
		*reason = "system_user not found";
		return AUTH_ERROR;
	}
	if (u->root == NULL || set_str(a->root, sizeof a->root, u->root) != 0 ||
	    path_normalize("/", u->home != NULL ? u->home : "/", home, sizeof home) != 0) {
		*reason = "root or home not usable";
		return AUTH_ERROR;
	}
	strcpy(a->home, home);
	a->allow_write = u->allow_write;
	a->umask = u->umask_set ? u->umask : cfg->srv.umask;
	if (a->anonymous && a->allow_write == WRITE_UPLOAD && !u->umask_set) {
		/* one visitor's upload is not served to the next one, who
		 * runs as the same account: RETR wants o+r (may_download) */
		a->umask = ANON_UPLOAD_UMASK;
	}
	a->symlinks = u->symlinks;
	return AUTH_OK;
}

/* An all_users account whose password was checked: as itself. */
static enum auth_result
as_system(const struct config *cfg, const char *user, struct account *a,
    const char **reason)
{
	struct passwd *pw = getpwnam(user);
	int restricted;

	if (pw == NULL || set_identity(a, user) != 0) {
		*reason = "unknown user";
		return AUTH_FAIL;
	}
	if (a->uid == 0) {
		*reason = "root may not log in";
		return AUTH_FAIL;
	}
	pw = getpwnam(user);	/* set_identity used the same buffer */
	restricted = config_word_in(&cfg->srv.restricted_users, user, 0) ||
	    config_word_in(&cfg->srv.restricted_users, "*", 0);
	if (pw == NULL ||
	    set_str(a->root, sizeof a->root, restricted ? pw->pw_dir : "/") != 0 ||
	    set_str(a->home, sizeof a->home, restricted ? "/" : pw->pw_dir) != 0) {
		*reason = "home directory path too long";
		return AUTH_ERROR;
	}
	a->allow_write = WRITE_YES;	/* the kernel's permissions decide */
	a->umask = cfg->srv.umask;
	a->symlinks = SYMLINKS_CONTAIN;
	return AUTH_OK;
}

/* A name that may stand for %u in guest_root: one path component. */
static int
guest_name_ok(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

/* guest_root with each %u the name and %% a '%' (config.c allows no
 * other '%'). */
int
auth_guest_root(const char *tmpl, const char *name, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *add = p;
		size_t len = 1;

		if (p[0] == '%' && p[1] == 'u') {
			add = name;
			len = strlen(name);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			p++;
		}
		if (len >= size - n) {
			return -1;
		}
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

/* A virtual user: a name PAM accepts that no system account has runs as
 * guest_user, in guest_root with %u its name, starting in "/". */
static enum auth_result
as_guest(const struct config *cfg, const char *name, struct account *a,
    const char **reason)
{
	if (!guest_name_ok(name)) {
		*reason = "not a virtual user's name (empty, '/' or a leading '.')";
		return AUTH_FAIL;
	}
	if (set_identity(a, cfg->srv.guest_user) != 0 || a->uid == 0) {
		*reason = "guest_user not found, or root";
		return AUTH_ERROR;
	}
	if (auth_guest_root(cfg->srv.guest_root, name, a->root, sizeof a->root) != 0) {
		*reason = "guest_root too long with the name";
		return AUTH_ERROR;
	}
	strcpy(a->home, "/");
	a->allow_write = WRITE_YES;	/* the kernel's permissions decide */
	a->umask = cfg->srv.umask;
	a->symlinks = SYMLINKS_CONTAIN;
	return AUTH_OK;
}

/* ftpmgr's allUsers: a system account without a section, checked in
 * the shadow file or by PAM (system_auth); with PAM and guest_user, also
 * a name that has no system account (a virtual user). */
static enum auth_result
from_system(const struct config *cfg, const char *user, const char *pass,
    struct account *a, const char **reason)
{
	struct passwd *pw = getpwnam(user);
	char name[USER_NAME_MAX + 1];
	enum auth_result r;

	if (pw != NULL && pw->pw_uid == 0) {
		*reason = "root may not log in";
		return AUTH_FAIL;
	}
	if (cfg->srv.system_auth != SYSAUTH_PAM) {
		if (pw == NULL) {
			*reason = "unknown user";
			return AUTH_FAIL;
		}
		if (!check_shadow(user, pass, reason)) {
			return AUTH_FAIL;
		}
		return as_system(cfg, user, a, reason);
	}
	if (pw == NULL && cfg->srv.guest_user == NULL) {
		*reason = "unknown user (no system account, and no guest_user)";
		return AUTH_FAIL;
	}
	if (pw == NULL && !guest_name_ok(user)) {
		*reason = "not a virtual user's name (empty, '/' or a leading '.')";
		return AUTH_FAIL;
	}
	r = pamauth_check(cfg, user, pass, name, sizeof name, reason);
	if (r != AUTH_OK) {
		return r;
	}
	/* PAM_USER: a module may have given the account's own name */
	if (getpwnam(name) != NULL) {
		return as_system(cfg, name, a, reason);
	}
	if (cfg->srv.guest_user == NULL) {
		*reason = "unknown user (no system account, and no guest_user)";
		return AUTH_FAIL;
	}
	return as_guest(cfg, name, a, reason);
}

enum auth_result
auth_check(const struct config *cfg, const char *user, const char *pass,
    struct account *out, const char **reason)
{
	const struct user_conf *u;
	enum auth_result r = AUTH_FAIL;

	memset(out, 0, sizeof *out);
	*reason = "unknown user";
	if (set_str(out->login, sizeof out->login, user) != 0 || user[0] == '\0') {
		return AUTH_FAIL;
	}
	out->change_identity = geteuid() == 0;
	if (deny_listed(cfg->srv.deny_users_file, user)) {
		*reason = "listed in deny_users_file";
		return AUTH_FAIL;
	}
	if (auth_is_anonymous(cfg, user)) {
		out->anonymous = 1;
		return from_section(cfg, config_user(cfg, "anonymous"), pass, out, reason);
	}
	u = config_user(cfg, user);
	if (u != NULL && strcmp(u->name, "anonymous") == 0) {
		return AUTH_FAIL;	/* "anonymous" is not one of anonymous_names */
	}
	if (u != NULL) {
		r = from_section(cfg, u, pass, out, reason);
	} else if (cfg->srv.all_users) {
		r = from_system(cfg, user, pass, out, reason);
	}
	if (r != AUTH_OK) {
		pamauth_forget();	/* PAM said yes, but the account is unusable */
	}
	return r;
}

/* yescrypt with libxcrypt's default cost */
int
auth_hash_password(const char *pass, char *out, size_t size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof *data);
	const char *h;
	int rc = -1;

	if (data == NULL) {
		return -1;
	}
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt) != NULL) {
		h = crypt_rn(pass, salt, data, sizeof *data);
		if (h != NULL && h[0] != '*' && set_str(out, size, h) == 0) {
			rc = 0;
		}
	}
	wipe(data, sizeof *data);
	free(data);
	return rc;
}
