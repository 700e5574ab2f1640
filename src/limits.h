/* Every numeric bound of cellftpd, in one place. */
#ifndef CELLFTPD_LIMITS_H
#define CELLFTPD_LIMITS_H

/* control connection */
#define CTRL_LINE_MAX		8192	/* bytes in one command line, CRLF included */
#define CTRL_REPLY_MAX		16384	/* bytes in one formatted reply */
#define USER_NAME_MAX		64	/* bytes in a USER argument */
#define PASSWORD_MAX		1024	/* bytes in a PASS argument */
#define HOST_NAME_MAX_FTP	255	/* bytes in a HOST argument (RFC 1035) */
#define CMD_RATE_PER_SEC	200	/* commands a session may send per second */
#define CMD_RATE_BURST		400	/* ... and at once, after a quiet time */

/* the pre-login process */
#define PRELOGIN_FILES_MAX	16	/* open files (RLIMIT_NOFILE) */

/* a logged-in session */
#define SESSION_FILES_MAX	(CONVERT_DEPTH_MAX + 64)	/* open files (RLIMIT_NOFILE):
					 * a conversion holds one a level */
#define XFERLOG_FILES_MAX	8	/* ... and of its xferlog writer */

/* login */
#define LOGIN_FAIL_DELAY_MS	1000	/* every failed PASS is answered this late */
#define LOGIN_FAILURES_MAX	100	/* upper bound for max_login_failures */
#define ANON_UPLOAD_UMASK	077	/* anonymous uploads without a umask key */
#define LOGIN_GRACE_SEC		2	/* after login_timeout, the socket is shut */
#define PAM_CLOSE_SEC		10	/* pam_close_session after the session ends */

/* configuration */
#define CONF_FILE_MAX		(1024 * 1024)	/* bytes in the configuration file */
#define CONF_LINE_MAX		1024	/* bytes in one configuration line */
#define CONF_USERS_MAX		10000	/* [user] sections */
#define CONF_PASV_MAX		1000	/* [passive_addresses] entries */
#define CONF_LIST_MAX		1000	/* words in a list value */
#define CONF_PROBLEMS_MAX	100	/* problems reported before giving up */
#define CONF_DIR_FILES_MAX	10000	/* *.conf files read from FILE.d */
#define CONF_TOTAL_MAX		(16 * 1024 * 1024)	/* bytes in the file and FILE.d
					 * together */
#define CONF_SUGGEST_MAX	64	/* bytes of an unknown key or section name
					 * compared with the known ones */
#define TIMEOUT_MAX		86400	/* seconds, for idle_timeout and data_timeout */
#define SESSIONS_MAX		100000	/* upper bound for max_sessions(_per_ip) */
#define SLOT_KEY_MAX		80	/* bytes of a client address in a slot file */
#define SLOTS_MAX		SESSIONS_MAX	/* files in RUN_DIR/sessions */
#define DENY_FILE_MAX		(256 * 1024)	/* bytes read from deny_users_file */
#define SHADOW_LINE_MAX		4096	/* bytes of one shadow entry (getspnam_r) */

/* data connections and transfers */
#define XFER_BUF		(256 * 1024)	/* bytes per read/write of a transfer */
#define SENDFILE_CHUNK		(4 * 1024 * 1024)	/* bytes per sendfile call */
/* under max_rate_*: at most 1/RATE_STEPS s worth of bytes at once, and
 * never fewer than RATE_CHUNK_MIN */
#define RATE_STEPS		20
#define RATE_CHUNK_MIN		1024
#define STOU_TRIES_MAX		16	/* unique names tried by STOU */
#define TEMP_TRIES_MAX		16	/* temporary names tried by atomic STOR */
#define PARTIAL_KEEP_SEC	(24 * 3600)	/* a broken atomic upload waits this long,
					 * from its last write, to be resumed */
#define UPLOAD_END_WAIT_MS	2	/* after an atomic upload's data end, the
					 * client's close of the control connection
					 * is looked for this long: a killed client
					 * closes both (then the upload is kept as a
					 * partial one, not published) */
#define UPLOAD_SIZE_MAX		(1LL << 50)	/* bytes: the largest max_upload_size, 1024T */
#define UPLOAD_DRAIN_MAX	(16LL * 1024 * 1024)	/* bytes of a refused upload read and
					 * dropped (so the client sees the reply)
					 * before its data connection is cut */

/* listings */
#define LIST_ENTRIES_MAX	50000	/* entries in one listing */
#define GLOB_PATTERN_MAX	255	/* bytes in a glob pattern */
#define GLOB_WORK_MAX		(20 * 1000 * 1000)	/* match steps per listing */
#define NAME_CACHE_MAX		32	/* uid/gid names remembered per listing */

/* messages after login and on entering a directory */
#define MESSAGE_MAX		4096	/* bytes shown of one message file */
#define MESSAGE_DIRS_MAX	64	/* directories remembered as shown */

/* conversions: archives made on the fly */
#define CONVERT_DEPTH_MAX	64	/* levels below the archived directory */
#define CONVERT_ENTRIES_MAX	100000	/* entries in one archive */

/* paths */
#define VPATH_MAX		4096	/* bytes in a client-visible path (PATH_MAX) */
#define NAME_BYTES_MAX		255	/* bytes in one path component (NAME_MAX) */

/* TLS */
#define TLS_EXPIRY_WARN_DAYS	30	/* -t warns when the certificate ends sooner */
#define TLS_RELAY_CTRL_BUF	(16 * 1024)	/* bytes the relay holds per control direction */
#define TLS_RELAY_DATA_BUF	(128 * 1024)	/* bytes the relay holds per data direction */

/* the PROXY protocol: the header a load balancer sends first */
#define PROXY_HEADER_MS		3000	/* a whole header within this time */
#define PROXY_V1_MAX		107	/* bytes of a v1 line, CR LF included */
#define PROXY_V2_MAX		1024	/* bytes of a v2 header, TLVs included */

#endif
