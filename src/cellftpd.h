/* cellftpd: one FTP session per process. Declarations grouped by file. */
#ifndef CELLFTPD_H
#define CELLFTPD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "limits.h"

#define CELLFTPD_VERSION "0.1.0"

#define PRINTF(f, a) __attribute__((format(printf, f, a)))
#define STR_(x) #x
#define STR(x) STR_(x)	/* a limit's value as a string */

/* Where sessions keep runtime state: the empty pre-login root and the
 * session counters. Created by the first session, owned by root. */
#define RUN_DIR		"/run/cellftpd"
#define PRELOGIN_ROOT	RUN_DIR "/empty"

/* The default unprivileged_user: the dedicated pre-login account when
 * it exists (sysusers.d/cellftpd.conf makes it), else the fallback. */
#define PRELOGIN_USER		"cellftpd"
#define PRELOGIN_USER_FALLBACK	"nobody"

/* Exit codes with fixed meanings. */
enum {
	EXIT_OK = 0,		/* session ended normally, -t found no error */
	EXIT_CONFIG = 1,	/* configuration unusable (-t), or usage error */
	EXIT_NOSOCKET = 2,	/* fd 0 is not a connected stream socket */
	EXIT_FAILURE_ = 3,	/* the session ended on an internal error */
};

/* ---- config.c ---- */

enum write_mode { WRITE_NO = 0, WRITE_YES, WRITE_UPLOAD };
enum symlinks_mode { SYMLINKS_CONTAIN = 0, SYMLINKS_FOLLOW };
enum log_mode { LOGTO_AUTO = 0, LOGTO_SYSLOG, LOGTO_JOURNAL, LOGTO_STDERR };
enum tls_mode { TLS_OFF = 0, TLS_EXPLICIT, TLS_IMPLICIT };
enum tls_version { TLSV_12 = 0, TLSV_13 };
enum tls_require { REQ_NO = 0, REQ_LOGIN, REQ_ALL };
enum proxy_untrusted { UNTRUSTED_REFUSE = 0, UNTRUSTED_DIRECT };
enum system_login { SYSLOGIN_NO = 0, SYSLOGIN_YES, SYSLOGIN_PAM };
enum system_auth { SYSAUTH_SHADOW = 0, SYSAUTH_PAM };

struct wordlist {
	char	**v;
	size_t	  n;
};

struct cidr {
	int	  family;		/* AF_INET or AF_INET6 */
	uint8_t	  addr[16];
	unsigned  prefix;		/* bits */
};

struct pasv_rule {
	int	  is_default;
	struct cidr net;
	char	 *target;		/* address or host name */
	int	  line;
};

/* Values of one [user NAME] section. "set" marks what the file gave. */
struct user_conf {
	char	 *name;
	char	 *password_hash;
	char	 *password_salt;
	char	 *password;
	int	  system_login;
	char	 *system_user;
	char	 *root;
	char	 *home;
	int	  allow_write;		/* enum write_mode */
	unsigned  umask;
	int	  umask_set;
	int	  symlinks;		/* enum symlinks_mode */
	int	  require_tls;		/* enum tls_require */
	int	  require_tls_set;
	long long max_upload_size;	/* bytes, 0: unlimited, -1: the server's */
	long long max_rate_download;	/* bytes per second, 0: unlimited, -1: the server's */
	long long max_rate_upload;
	int	  line;			/* of the section header */
	int	  key_line[16];		/* line of each key, by table index */
};

struct server_conf {
	char	 *banner;
	unsigned  pasv_lo, pasv_hi;
	char	 *passive_address;
	int	  active_mode;
	struct wordlist anonymous_names;
	int	  all_users;
	struct wordlist restricted_users;
	char	 *deny_users_file;
	unsigned  idle_timeout;
	unsigned  data_timeout;
	unsigned  max_login_failures;
	unsigned  login_timeout;
	unsigned  umask;
	int	  atomic_uploads;
	char	 *welcome_file;
	char	 *message_file;
	int	  conversions;
	int	  log;			/* enum log_mode */
	char	 *xferlog;
	unsigned  max_sessions;
	unsigned  max_sessions_per_ip;
	char	 *unprivileged_user;
	int	  tls;			/* enum tls_mode */
	char	 *tls_certificate;
	char	 *tls_key;
	int	  tls_min_version;	/* enum tls_version */
	char	 *tls_ciphers;
	char	 *tls_ciphersuites;
	int	  require_tls;		/* enum tls_require */
	int	  require_tls_set;
	int	  proxy_protocol;	/* PROXY_V1 | PROXY_V2 bits, 0: off */
	struct wordlist proxy_from;
	int	  proxy_untrusted;	/* enum proxy_untrusted */
	long long max_upload_size;	/* bytes, 0: unlimited */
	long long max_rate_download;	/* bytes per second, 0: unlimited */
	long long max_rate_upload;
	int	  system_auth;		/* enum system_auth */
	char	 *pam_service;
	char	 *guest_user;		/* all_users names PAM accepts without an account */
	char	 *guest_root;		/* ... and their root, %u the name */
	int	  key_line[40];
};

struct config {
	char	 *path;
	struct server_conf srv;
	struct pasv_rule *pasv;
	size_t	  npasv;
	struct cidr *proxy_nets;	/* proxy_from, parsed */
	size_t	  nproxy;
	struct user_conf *users;
	size_t	  nusers;
	/* problems found while loading, one "FILE:LINE: text" each */
	char	**problems;
	size_t	  nproblems;
	size_t	  nerrors;
	/* the files read, the main one first: every "line" above is a
	 * position over all of them, file_base[i] + its line in files[i] */
	char	**files;
	int	 *file_base;
	size_t	  nfiles;
	int	  npositions;		/* lines read so far, all files */
};

enum { CONF_CHECK_FILE = 1, CONF_CHECK_FS = 2, CONF_CHECK_TLS = 4 };

/* Parse text (name used in messages). checks: CONF_CHECK_* flags. */
struct config *config_parse(const char *name, const char *text, int checks);
/* Read and parse a file, then the *.conf files of PATH.d in name order; refuses
 * unsafe ownership when running as root. */
struct config *config_load(const char *path, int checks);
/* -T: the effective configuration, readable as a configuration file;
 * with user, also the section a login as that user would apply. 0, or
 * -1 with a message on err when there is no such user. */
int config_show(const struct config *, const char *user, FILE *out, FILE *err);
void config_free(struct config *);
/* Forget every password, hash and salt (before facing the network). */
void config_wipe_secrets(struct config *);
const struct user_conf *config_user(const struct config *, const char *name);
const char *config_session_account(const struct user_conf *);
/* The require_tls that applies to a user name (NULL: the server's). */
int tls_required(const struct config *, const char *user);
int config_word_in(const struct wordlist *, const char *word, int nocase);
/* Is this peer in proxy_from: may it send a PROXY header? */
int config_proxy_trusted(const struct config *, const struct sockaddr_storage *peer);
int cidr_parse(const char *text, struct cidr *out);
int cidr_match(const struct cidr *, const struct sockaddr *);

/* ---- log.c ---- */

struct session;
void log_open(int mode, int debug);
void log_before_chroot(void);
void log_set_client(const char *addr, unsigned port);
void log_set_user(const char *user);
void log_msg(int prio, const char *fmt, ...) PRINTF(2, 3);
/* One event line with structured fields: event name, path, bytes. */
void log_event(const char *event, const char *path, long long bytes,
    const char *fmt, ...) PRINTF(4, 5);
void log_debug_dialogue(const char *dir, const char *line);

/* One finished or failed transfer: the log line (journal fields
 * FTP_BYTES, FTP_DURATION_MS) and, when configured, the xferlog line. */
struct xfer_record {
	const char	*path;		/* as the client sees it */
	long long	 bytes;
	long long	 ms;		/* duration */
	int		 upload;
	int		 ascii;
	int		 complete;
	char		 action;	/* xferlog special-action flag: _ C U T */
	const char	*detail;	/* why it failed, for the log */
	const char	*note;		/* or NULL: "resumed at N", for the log */
};
/* Open the transfer log (with the rights the session started with) in a
 * writer process that formats the account's records; the session keeps
 * a socket to it alone. */
struct account;
int xferlog_open(const char *path, const struct account *);
void log_transfer(const struct session *, const struct xfer_record *);
int log_debugging(void);

/* ---- ctrl.c ---- */

struct ctrl {
	int	  fd;
	void	 *tls;			/* SSL of the control connection, or NULL */
	char	  buf[CTRL_LINE_MAX];	/* bytes read, not yet returned */
	size_t	  len;
	size_t	  pos;			/* start of unconsumed bytes */
	int	  telnet;		/* telnet_strip state between reads */
	int	  discard;		/* skipping the rest of an over-long line */
	unsigned  idle_timeout;		/* for each command line, whole */
	long long login_deadline;	/* ms of CLOCK_MONOTONIC; 0 after login */
};

/* CTRL_TIMEOUT: no whole line within idle_timeout; CTRL_LOGIN_TIMEOUT:
 * the login_deadline came first. */
enum ctrl_status { CTRL_LINE = 0, CTRL_TOOLONG, CTRL_NUL, CTRL_EOF, CTRL_TIMEOUT,
	CTRL_LOGIN_TIMEOUT };

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
long long ctrl_now_ms(void);
/* login_timeout: from the connection (before the pre-login process is
 * forked: the alarm stays in the parent) until the login succeeds. */
void login_timer_start(struct ctrl *, unsigned seconds);
void login_timer_stop(struct ctrl *);

/* Strip Telnet IAC sequences in place; returns the new length. */
size_t telnet_strip(char *buf, size_t len, int *state);
enum ctrl_status ctrl_read_line(struct ctrl *, char *line, size_t size);
/* Read what the socket has now (after poll said so): -1 on EOF. */
int ctrl_fill(struct ctrl *);
/* A complete line in the buffer? Copies it; consumes it when asked. */
int ctrl_peek_line(struct ctrl *, char *line, size_t size, int consume);
/* The first complete line, anywhere in the buffer, whose verb is verb:
 * removed from the buffer (the others stay in order). 1 when found. */
int ctrl_take_verb(struct ctrl *, const char *verb);
/* Format a reply; '\n' in text separates lines. Returns length or 0. */
size_t reply_format(char *out, size_t size, int code, const char *text);
void reply(struct session *, int code, const char *fmt, ...) PRINTF(3, 4);
void reply_lines(struct session *, int code, const char *text);
/* A message file's lines as "CODE-line", then "CODE last". */
void reply_message(struct session *, int code, const char *message, const char *last);
/* Bytes as they are (a listing for STAT) on the control connection. */
void ctrl_write(struct session *, const char *buf, size_t len);

/* ---- path.c ---- */

/* Lexical normalisation of arg against cwd into an absolute path. */
int path_normalize(const char *cwd, const char *arg, char *out, size_t size);
/* Quote a path for a 257 reply (double every '"'). */
int path_quote(const char *in, char *out, size_t size);

struct vfs {
	int	  rootfd;		/* O_PATH directory descriptor */
	int	  contain;		/* kernel confinement (openat2) */
};

int vfs_open_root(struct vfs *, const char *root, int contain);
int vfs_open(const struct vfs *, const char *vpath, int flags, unsigned mode);
/* Open the parent directory of vpath (O_PATH); *base points into vpath.
 * EBUSY for "/", EINVAL when the last component is "." or "..". */
int vfs_parent(const struct vfs *, const char *vpath, const char **base);

/* ---- auth.c ---- */

/* What a successful login becomes. Filled by auth_check, used by sandbox. */
struct account {
	char	  login[USER_NAME_MAX + 1];	/* name given to USER */
	char	  sysname[USER_NAME_MAX + 1];	/* system account it runs as */
	uid_t	  uid;
	gid_t	  gid;
	int	  change_identity;		/* started as root */
	char	  root[VPATH_MAX];
	char	  home[VPATH_MAX];		/* inside root */
	int	  allow_write;
	unsigned  umask;
	int	  symlinks;
	int	  anonymous;
	char	  anon_id[65];			/* the anonymous password given */
};

/* AUTH_CLOSE: a failure that used up max_login_failures. */
enum auth_result { AUTH_OK = 0, AUTH_FAIL, AUTH_ERROR, AUTH_CLOSE };

/* The one boundary between the dialogue and the credential check. Takes
 * a user name and a password, returns a decision and, on AUTH_OK, the
 * account to become. reason (for the log only) says why it failed. */
enum auth_result auth_check(const struct config *, const char *user,
    const char *pass, struct account *out, const char **reason);
int auth_is_anonymous(const struct config *, const char *user);
int auth_hash_password(const char *pass, char *out, size_t size);
int auth_hash_valid(const char *hash, const char *salt);
int is_hex64(const char *);
/* guest_root with %u the name and %% a '%': -1 when it does not fit. */
int auth_guest_root(const char *tmpl, const char *name, char *out, size_t size);
int ct_equal(const void *a, const void *b, size_t n);
void wipe(void *p, size_t n);

/* ---- priv.c ---- */

/* Started as root (or with TLS): fork the unprivileged pre-login
 * process. Returns 0 in it (and when not needed), 1 in the parent after
 * a login, -1 on error. With header, the pre-login process reads the
 * PROXY header and the parent opens the session (session_open). */
int priv_needed(const struct config *);
int priv_start(struct session *, struct config *, int header);
int priv_separated(void);
/* In the pre-login process: ask the parent; hand the session over. */
enum auth_result priv_login(const char *user, const char *pass);
void priv_handover(const struct session *) __attribute__((noreturn));

/* ---- pam.c (the root parent's PAM conversation and session) ---- */

/* The client's address, for PAM_RHOST (before a login is checked). */
void pamauth_client(const char *addr);
/* pam_start, pam_authenticate, pam_acct_mgmt for user and pass; on
 * AUTH_OK the handle is kept and name holds PAM_USER (a module may have
 * changed it). reason: for the log. */
enum auth_result pamauth_check(const struct config *, const char *user, const char *pass,
    char *name, size_t size, const char **reason);
/* A PAM login is pending: pam_setcred and pam_open_session, as root,
 * before the drop; -1 with *reason when the session may not open. */
int pamauth_pending(void);
int pamauth_open(const struct config *, const char **reason);
/* Leave a root process behind that closes the session when this one
 * ends; this one forgets the handle. close_fd: a descriptor that process
 * must not hold open besides the control connection (or -1). */
void pamauth_keep(int close_fd);
/* Forget a handle no session was opened for. */
void pamauth_forget(void);

/* ---- tls.c ---- */

/* -t: load the certificate and key as the server would; -1 with err
 * set when they cannot serve. *days_left is >= 0 when it ends soon. */
int tls_check(const struct server_conf *, char *err, size_t size, int *days_left);
/* The pre-login process, still root: load libssl, the certificate, the key. */
int tls_setup(const struct config *);
/* The handshake on the control connection; -1 (logged) ends the session. */
int tls_start(struct session *);
void tls_end(struct session *);
ssize_t tls_read(void *ssl, void *buf, size_t len);
ssize_t tls_write(void *ssl, const void *buf, size_t len);
int tls_pending(void *ssl);
/* After a login: the pre-login process relays until the session ends. */
void tls_relay(struct session *, int plain, int chan) __attribute__((noreturn));
int tls_handover_fd(int chan, int fd);
int tls_receive_fd(int chan);
/* The session: have the relay protect a data connection (PROT P); *dfd
 * becomes the plaintext side. tls_data_end: 0 when it ended with a
 * clean close_notify, -1 when not. */
int tls_data_wrap(struct session *, int *dfd);
int tls_data_end(struct session *);

/* ---- proxy.c ---- */

#define PROXY_V1	1u
#define PROXY_V2	2u

struct proxy_header {
	int	 local;		/* the balancer speaks for itself (v2 LOCAL,
				 * v1 UNKNOWN): no addresses */
	struct sockaddr_storage src, dst;	/* the client, where it went */
};

/* Parse the bytes received so far: the header's length once it is
 * whole, 0 while it may still become one, -1 (with *why) when not. */
long proxy_parse(const unsigned char *, size_t, unsigned versions,
    struct proxy_header *, const char **why);
/* Take one header off socket fd within PROXY_HEADER_MS, not a byte more.
 * -1 when there is none: *why says why, or is NULL when the peer closed
 * without sending a byte (a balancer's connect-only check). */
int proxy_read(int fd, unsigned versions, struct proxy_header *, const char **why);

struct session;
/* The client and the address it connected to, for every later use. */
void session_addresses(struct session *, const struct sockaddr_storage *peer,
    const struct sockaddr_storage *dest);
/* A header named them: the peer so far was the balancer (s->via). */
void proxy_apply(struct session *, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst);
/* 1: this peer must send a header; 0: a direct client; -1: refused
 * (logged, and told so). */
int proxy_expected(struct session *);
/* Read the control connection's header and apply it. -1 when the
 * session ends here: refused (logged) or a health check (answered). */
int proxy_receive(struct session *, struct proxy_header *);
int proxy_take(struct session *);

/* ---- slots.c ---- */

/* max_sessions and max_sessions_per_ip: -1 (logged) when full. */
int slots_take(const struct session *);
void slots_forget(void);

/* ---- sandbox.c ---- */

/* Become the account: groups, gid, uid, then prove root is gone. */
int sandbox_become(const struct account *, const char **what);
/* After login: limits, Landlock, seccomp (each skipped with a notice
 * where the kernel lacks it). */
void sandbox_confine(const struct session *);
/* Before login: Landlock's scopes (no signals to other processes) and
 * the pre-login seccomp allow-list. */
void sandbox_scope(void);
/* The xferlog writer: empty root, the account, limits, its allow-list. */
int sandbox_xferlog(const struct account *, const char **what);
void sandbox_report(FILE *);
int landlock_abi(void);

/* ---- cmd.c ---- */

struct session {
	struct config *cfg;
	struct ctrl ctrl;
	char	  peer_addr[64];
	unsigned  peer_port;
	char	  local_addr[64];
	unsigned  local_port;
	char	  via[64];		/* the balancer's address, "" when direct */
	/* before login */
	char	  user[USER_NAME_MAX + 1];
	int	  have_user;
	unsigned  failures;
	char	  host[HOST_NAME_MAX_FTP + 1];
	/* after login */
	int	  logged_in;
	struct account acct;
	struct vfs vfs;
	char	  cwd[VPATH_MAX];
	unsigned  umask;
	char	  rnfr[VPATH_MAX];
	int	  have_rnfr;
	int	  type_ascii;
	int	  utf8;
	int	  quit;
	/* command rate (cmd.c): tokens, and when they were counted */
	double	  tokens;
	struct timespec tokens_at;
	/* data connection (data.c) */
	struct sockaddr_storage local_sa, peer_sa;
	/* what the client connected to: the balancer's address when a
	 * PROXY header named it, else local_sa; PASV offers it */
	struct sockaddr_storage dest_sa;
	int	  pasv_fd;		/* passive listener, -1 when none */
	struct sockaddr_storage port_sa;	/* PORT/EPRT target */
	int	  have_port;
	int	  epsv_all;
	uint8_t	  pasv_ip[4];		/* the address PASV replies name */
	int	  pasv_ip_set;
	long long rest;			/* REST offset for the next transfer */
	long long xfer_bytes;		/* of the transfer running now */
	long long xfer_rate;		/* its max_rate_*, bytes per second, 0: none */
	struct timespec xfer_start;
	int	  ctrl_held;		/* the control buffer is full until then */
	int	  ctrl_eof;		/* the client closed the control connection */
	unsigned  mlst_facts;		/* OPTS MLST selection (list.c) */
	/* FTPS (tls.c): in the session, TLS is the relay's business */
	int	  tls_on;		/* the control connection is protected */
	char	  tls_version[16];	/* with what: "TLSv1.3" */
	int	  pbsz;			/* PBSZ was given */
	int	  prot_p;		/* PROT P: data connections are protected */
	int	  tls_chan;		/* to the relay, -1 when none */
	int	  data_wrapped;		/* the open data connection goes through it */
	/* directories whose message_file was shown */
	char	 *shown[MESSAGE_DIRS_MAX];
	size_t	  nshown;
	/* totals for the logout line */
	long long bytes_in, bytes_out;
	unsigned  files_in, files_out;
};

/* The connect line, the session limits and the greeting; -1 (after
 * 421) when the session may not start. */
int session_open(struct session *);
void session_run(struct session *);
/* The decision on a login, with its log line, failure delay and cap;
 * never replies (the privileged parent calls it too). */
enum auth_result login_check(struct session *, const char *user, const char *pass);
/* Become the decided account and answer 230. */
void finish_login(struct session *);
/* Split a command line: the verb upper-cased into verb[8], *arg the
 * rest after one space (NULL when none). -1 when there is no verb. */
int command_split(char *line, char verb[8], char **arg);
/* "METHOD target HTTP/1.x": someone pointed a web client at us. */
int is_http_request(const char *verb, const char *arg);
/* The logout line, with the session's totals. */
void session_logout(const struct session *, const char *how);

/* ---- files.c (handlers over confined paths) ---- */

void cmd_pwd(struct session *, char *);
void cmd_cwd(struct session *, char *);
void cmd_cdup(struct session *, char *);
void cmd_mkd(struct session *, char *);
void cmd_rmd(struct session *, char *);
void cmd_dele(struct session *, char *);
void cmd_rnfr(struct session *, char *);
void cmd_rnto(struct session *, char *);
void cmd_size(struct session *, char *);
void cmd_mdtm(struct session *, char *);
void cmd_mfmt(struct session *, char *);
void cmd_site(struct session *, char *);
/* Resolve arg against the session; replies and returns -1 on failure. */
int session_path(struct session *, const char *arg, char *out);
/* The text of a small file inside the root (NULL when absent), for the
 * welcome and directory messages; free() it. */
char *read_message(struct session *, const char *vpath);
int parse_timeval(const char *s, long long *sec);
void reply_errno(struct session *, const char *vpath);
int format_time(time_t t, char *out, size_t size);

/* ---- data.c ---- */

void cmd_pasv(struct session *, char *);
void cmd_epsv(struct session *, char *);
void cmd_port(struct session *, char *);
void cmd_eprt(struct session *, char *);
/* The data connection for a transfer (non-blocking), or -1 after 425. */
int data_connect(struct session *);
int data_protect(struct session *, int *dfd);
int data_close(struct session *, int dfd);
void data_reset(struct session *);
/* At login, before the sandbox: choose (and resolve) the PASV address. */
void data_prepare(struct session *);
int parse_port_arg(const char *arg, struct sockaddr_storage *out);
int parse_eprt_arg(const char *arg, struct sockaddr_storage *out);
int same_host(const struct sockaddr_storage *, const struct sockaddr_storage *);

/* ---- transfer.c ---- */

void cmd_retr(struct session *, char *);
void cmd_stor(struct session *, char *);
void cmd_appe(struct session *, char *);
void cmd_stou(struct session *, char *);
void cmd_rest(struct session *, char *);
void cmd_abor(struct session *, char *);
/* Names of the server's own (partial and temporary uploads): never
 * listed, served or named by a command. */
int reserved_name(const char *name);
/* SIZE: this user's partial upload of vpath, waiting to be resumed. */
int partial_size(struct session *, const char *vpath, long long *size);
/* How a transfer, or one wait in it, ended. */
enum xfer_result { XR_OK = 0, XR_ABORTED, XR_TIMEOUT, XR_LOST, XR_NOSPACE,
	XR_LOCAL, XR_EXISTS,
	XR_QUOTA,	/* EDQUOT, EFBIG: the storage allocation is used up (552) */
	XR_TOOBIG };	/* past max_upload_size (552) */
/* Wait for fd (POLLIN/POLLOUT) while watching the control connection:
 * XR_OK when fd is ready, else XR_ABORTED, XR_TIMEOUT or XR_LOST. */
enum xfer_result xfer_wait(struct session *, int fd, short events);
/* A transfer starts now: its byte count, clock and rate limit. */
void xfer_begin(struct session *, int upload);
/* Write all of buf to a non-blocking data socket. */
enum xfer_result xfer_send(struct session *, int fd, const char *buf, size_t len);
/* TYPE A: LF to CR LF (out holds 2 * n); CR LF to LF in place. */
size_t ascii_encode(const char *in, size_t n, char *out);
size_t ascii_decode(char *buf, size_t n, int *held_cr);

/* End a download made elsewhere (conversions): replies, logs, totals;
 * detail (or NULL) says why it failed. */
void transfer_done(struct session *, int dfd, enum xfer_result, const char *vpath,
    char action, const char *detail);
/* A regular file this session may send: anonymous sessions only send
 * files that everybody may read (their uploads are not, see umask). */
struct stat;
int may_download(const struct session *, const struct stat *);

/* ---- convert.c ---- */

/* At login, before the sandbox: load libarchive if conversions = yes. */
void convert_prepare(const struct session *);
/* RETR of a name that does not exist: 1 when it was a conversion (and
 * answered), 0 when the caller's reply stands. */
int convert_retr(struct session *, const char *vpath, long long rest);

/* ---- list.c ---- */

void cmd_list(struct session *, char *);
void cmd_nlst(struct session *, char *);
void cmd_mlsd(struct session *, char *);
void cmd_mlst(struct session *, char *);
void list_stat(struct session *, char *);
int opts_mlst(struct session *, const char *arg);
size_t mlst_feat(const struct session *, char *out, size_t size);
unsigned mlst_default_facts(void);
/* Glob match of name against pattern (* ? [...]); *work counts steps,
 * returns -1 when it would pass GLOB_WORK_MAX. */
int glob_match(const char *pattern, const char *name, long *work);

#endif
