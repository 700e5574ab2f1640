/* FTPS (RFC 4217) with OpenSSL.
 *
 * libssl is loaded with dlopen only where TLS is configured, and only in
 * the pre-login process: a plain session never maps it, and the session
 * that runs as the user never holds the key or any TLS state.
 *
 * The pre-login process loads the certificate and key while still root,
 * then drops privileges and does the handshake and the login dialogue.
 * After a login it stays as the TLS endpoint (tls_relay): it carries the
 * control connection's plaintext to the session over a socket pair, and
 * on request (tls_data_wrap, over the privilege channel) it takes a data
 * connection's socket, makes the TLS handshake on it, and hands back a
 * socket pair end that carries its plaintext.
 *
 * A data connection must resume the control connection's session:
 * ticket keys are made at random in each pre-login process, so another
 * control connection's ticket cannot be decrypted, and a data connection
 * that makes a full handshake is refused and gets no ticket, so a stolen
 * passive port gains nothing. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cellftpd.h"

/* Every OpenSSL function used, called through a table filled by dlsym;
 * __typeof__ keeps each one checked against OpenSSL's own prototype. */
#define OSSL_FUNCS(X) \
	X(OPENSSL_init_ssl) X(TLS_server_method) X(SSL_CTX_new) \
	X(SSL_CTX_free) X(SSL_CTX_ctrl) X(SSL_CTX_set_options) \
	X(SSL_CTX_set_cipher_list) X(SSL_CTX_set_ciphersuites) \
	X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file) \
	X(SSL_CTX_check_private_key) X(SSL_CTX_get0_certificate) \
	X(SSL_CTX_set_session_id_context) X(SSL_CTX_set_session_ticket_cb) \
	X(SSL_CTX_remove_session) X(SSL_new) X(SSL_free) X(SSL_set_fd) \
	X(SSL_accept) X(SSL_read) X(SSL_write) X(SSL_shutdown) \
	X(SSL_get_error) X(SSL_pending) X(SSL_session_reused) \
	X(SSL_get_session) X(SSL_get_version) X(SSL_set_num_tickets) \
	X(SSL_set_ex_data) X(SSL_get_ex_data) X(ERR_get_error) \
	X(ERR_error_string_n) X(ERR_clear_error) X(X509_get0_notAfter) \
	X(X509_get0_notBefore) X(X509_cmp_time)

#define X(f) __typeof__(f) *f;
static struct { OSSL_FUNCS(X) } ossl;
#undef X

#define TLS_MAGIC_WRAP	0x63667431u	/* "cft1": session asks for a data wrap */
#define TLS_MAGIC_DONE	0x63667432u	/* relay: the wrap's result, or its end */

struct tls_msg {
	uint32_t magic;
	int32_t	 status;		/* 0 ok, -1 refused or broken */
};

static SSL_CTX *ctx;
static char data_mark;	/* ex_data of a data connection's SSL */
static pid_t session_pid;	/* the relay's parent, seen at the handshake */

static int
load_openssl(char *err, size_t size)
{
	void *lib;

	if (ossl.SSL_new != NULL) {
		return 0;
	}
	lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(err, size, "cannot load libssl.so.3: %s", dlerror());
		return -1;
	}
#define X(f) \
	if ((ossl.f = (__typeof__(ossl.f))dlsym(lib, #f)) == NULL) { \
		snprintf(err, size, "libssl.so.3 has no %s", #f); \
		return -1; \
	}
	OSSL_FUNCS(X)
#undef X
	ossl.OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_LOAD_CONFIG, NULL);
	return 0;
}

static const char *
ssl_error(void)
{
	static char buf[256];
	unsigned long e = ossl.ERR_get_error();

	if (e == 0) {
		return errno != 0 ? strerror(errno) : "closed";
	}
	ossl.ERR_error_string_n(e, buf, sizeof buf);
	ossl.ERR_clear_error();
	return buf;
}

/* A data connection's handshake may issue a ticket only when it resumed:
 * failing here ends a full handshake before any ticket is sent. */
static int
ticket_gen(SSL *ssl, void *arg)
{
	(void)arg;
	return ossl.SSL_get_ex_data(ssl, 0) != &data_mark || ossl.SSL_session_reused(ssl);
}

static SSL_TICKET_RETURN
ticket_dec(SSL *ssl, SSL_SESSION *ss, const unsigned char *name, size_t len,
    SSL_TICKET_STATUS status, void *arg)
{
	(void)ssl, (void)ss, (void)name, (void)len, (void)arg;
	switch (status) {
	case SSL_TICKET_SUCCESS:
		return SSL_TICKET_RETURN_USE;
	case SSL_TICKET_SUCCESS_RENEW:
		return SSL_TICKET_RETURN_USE_RENEW;
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
}

/* The context of this server's configuration; NULL with err set. */
static SSL_CTX *
make_context(const struct server_conf *srv, char *err, size_t size)
{
	SSL_CTX *c;

	if (load_openssl(err, size) != 0) {
		return NULL;
	}
	if (access(srv->tls_certificate, R_OK) != 0) {
		snprintf(err, size, "tls_certificate '%s': %s", srv->tls_certificate,
		    strerror(errno));
		return NULL;
	}
	if (access(srv->tls_key, R_OK) != 0) {
		snprintf(err, size, "tls_key '%s': %s", srv->tls_key, strerror(errno));
		return NULL;
	}
	if ((c = ossl.SSL_CTX_new(ossl.TLS_server_method())) == NULL) {
		snprintf(err, size, "%s", ssl_error());
		return NULL;
	}
	ossl.SSL_CTX_ctrl(c, SSL_CTRL_SET_MIN_PROTO_VERSION,
	    srv->tls_min_version == TLSV_13 ? TLS1_3_VERSION : TLS1_2_VERSION, NULL);
	ossl.SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_ENABLE_KTLS);
	if (ossl.SSL_CTX_set_cipher_list(c, srv->tls_ciphers) != 1) {
		snprintf(err, size, "tls_ciphers: no usable cipher in '%s'", srv->tls_ciphers);
	} else if (ossl.SSL_CTX_set_ciphersuites(c, srv->tls_ciphersuites) != 1) {
		snprintf(err, size, "tls_ciphersuites: no usable suite in '%s'",
		    srv->tls_ciphersuites);
	/* the key first: a certificate that does not fit it then drops it
	 * quietly, and the check below says so in words (the other order
	 * gives OpenSSL's "key values mismatch") */
	} else if (ossl.SSL_CTX_use_PrivateKey_file(c, srv->tls_key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, size, "tls_key '%s': %s", srv->tls_key, ssl_error());
	} else if (ossl.SSL_CTX_use_certificate_chain_file(c, srv->tls_certificate) != 1) {
		snprintf(err, size, "tls_certificate '%s': %s", srv->tls_certificate,
		    ssl_error());
	} else if (ossl.SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, size, "tls_key '%s' does not match tls_certificate '%s'",
		    srv->tls_key, srv->tls_certificate);
	} else {
		ossl.SSL_CTX_set_session_id_context(c, (const unsigned char *)"cellftpd", 8);
		ossl.SSL_CTX_set_session_ticket_cb(c, ticket_gen, ticket_dec, NULL);
		return c;
	}
	ossl.SSL_CTX_free(c);
	return NULL;
}

int
tls_check(const struct server_conf *srv, char *err, size_t size, int *days_left)
{
	SSL_CTX *c = make_context(srv, err, size);
	X509 *cert;
	time_t now = time(NULL), soon;
	int rc = 0;

	*days_left = -1;
	if (c == NULL) {
		return -1;
	}
	cert = ossl.SSL_CTX_get0_certificate(c);
	if (ossl.X509_cmp_time(ossl.X509_get0_notBefore(cert), &now) > 0) {
		snprintf(err, size, "tls_certificate '%s' is not yet valid",
		    srv->tls_certificate);
		rc = -1;
	} else if (ossl.X509_cmp_time(ossl.X509_get0_notAfter(cert), &now) < 0) {
		snprintf(err, size, "tls_certificate '%s' has expired", srv->tls_certificate);
		rc = -1;
	} else {
		soon = now + TLS_EXPIRY_WARN_DAYS * 86400;
		if (ossl.X509_cmp_time(ossl.X509_get0_notAfter(cert), &soon) < 0) {
			*days_left = TLS_EXPIRY_WARN_DAYS;
		}
	}
	ossl.SSL_CTX_free(c);
	return rc;
}

int
tls_setup(const struct config *cfg)
{
	char err[512];

	if ((ctx = make_context(&cfg->srv, err, sizeof err)) == NULL) {
		log_msg(LOG_ERR, "TLS: %s", err);
		return -1;
	}
	return 0;
}

/* ---- the control connection, before login ---- */

static void
set_timeouts(int fd, unsigned seconds)
{
	struct timeval tv = { (time_t)seconds, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int
tls_start(struct session *s)
{
	SSL *ssl = ossl.SSL_new(ctx);

	if (ssl == NULL || ossl.SSL_set_fd(ssl, s->ctrl.fd) != 1) {
		log_msg(LOG_ERR, "TLS: %s", ssl_error());
		return -1;
	}
	set_timeouts(s->ctrl.fd, s->ctrl.idle_timeout);
	session_pid = getppid();	/* the monitor, which becomes the session */
	errno = 0;
	if (ossl.SSL_accept(ssl) != 1) {
		log_msg(LOG_NOTICE, "TLS handshake on the control connection failed: %s",
		    ssl_error());
		ossl.SSL_free(ssl);
		return -1;
	}
	s->ctrl.tls = ssl;
	s->tls_on = 1;
	snprintf(s->tls_version, sizeof s->tls_version, "%s", ossl.SSL_get_version(ssl));
	log_msg(LOG_INFO, "control connection protected with %s",
	    ossl.SSL_get_version(ssl));
	return 0;
}

/* The pre-login process ends: a clean close_notify after the last reply. */
void
tls_end(struct session *s)
{
	if (s->ctrl.tls != NULL) {
		ossl.SSL_shutdown(s->ctrl.tls);
	}
}

ssize_t
tls_read(void *ssl, void *buf, size_t len)
{
	for (;;) {
		int n = ossl.SSL_read(ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
		int e = n > 0 ? SSL_ERROR_NONE : ossl.SSL_get_error(ssl, n);

		if (n > 0) {
			return n;
		}
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			continue;	/* a record that was not data */
		}
		if (e != SSL_ERROR_ZERO_RETURN) {
			log_msg(LOG_DEBUG, "TLS read: %s", ssl_error());
		}
		return -1;
	}
}

ssize_t
tls_write(void *ssl, const void *buf, size_t len)
{
	int n = ossl.SSL_write(ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));

	return n > 0 ? n : -1;
}

int
tls_pending(void *ssl)
{
	return ossl.SSL_pending(ssl) > 0;
}

/* ---- passing descriptors ---- */

static int
send_with_fd(int chan, const struct tls_msg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)m, sizeof *m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	}
	do {
		n = sendmsg(chan, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *m ? 0 : -1;
}

/* One message, and the descriptor that came with it (else *fd = -1). */
static int
recv_with_fd(int chan, struct tls_msg *m, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { m, sizeof *m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	for (cm = CMSG_FIRSTHDR(&mh); n > 0 && cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0) {
			memcpy(fd, CMSG_DATA(cm), sizeof *fd);
		}
	}
	if (n != (ssize_t)sizeof *m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
		return -1;
	}
	return 0;
}

/* ---- the session's side: it never touches TLS itself ---- */

int
tls_handover_fd(int chan, int fd)
{
	struct tls_msg m = { TLS_MAGIC_DONE, 0 };

	return send_with_fd(chan, &m, fd);
}

int
tls_receive_fd(int chan)
{
	struct tls_msg m;
	int fd;

	if (recv_with_fd(chan, &m, &fd) != 0 || m.magic != TLS_MAGIC_DONE) {
		return -1;
	}
	return fd;
}

int
tls_data_wrap(struct session *s, int *dfd)
{
	struct tls_msg m = { TLS_MAGIC_WRAP, 0 };
	int fd;

	set_timeouts(s->tls_chan, s->cfg->srv.data_timeout + 5);
	if (send_with_fd(s->tls_chan, &m, *dfd) != 0) {
		return -1;
	}
	close(*dfd);
	*dfd = -1;
	if (recv_with_fd(s->tls_chan, &m, &fd) != 0 || m.magic != TLS_MAGIC_DONE ||
	    m.status != 0 || fd < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	*dfd = fd;
	s->data_wrapped = 1;
	return 0;
}

int
tls_data_end(struct session *s)
{
	struct tls_msg m;
	int fd;

	if (!s->data_wrapped) {
		return 0;
	}
	s->data_wrapped = 0;
	if (recv_with_fd(s->tls_chan, &m, &fd) != 0 || m.magic != TLS_MAGIC_DONE) {
		return -1;
	}
	if (fd >= 0) {
		close(fd);
	}
	return m.status;
}

/* ---- the relay: the pre-login process after a login ----
 *
 * One poll loop; every descriptor it reads or writes is non-blocking,
 * and each direction of each connection passes through one bounded
 * buffer, so that no peer that stops reading can make it wait: the
 * relay only stops reading from the side whose bytes have nowhere to go.
 * What the client does not take within idle_timeout (data_timeout on a
 * data connection) ends that connection, as a plain session's
 * SO_SNDTIMEO does. When either side ends, both do: the client's end
 * reaches the session as the end of its input, and the session's end
 * (its sides of the socket pairs closed, as the kernel does when it
 * exits, however it exits) ends the relay once what it wrote has been
 * passed on, or could not be within idle_timeout. */

/* Bytes on their way in one direction: buf[head, tail). */
struct flow {
	char	*buf;
	size_t	 size, head, tail;
	size_t	 retry;		/* an SSL_write of this many bytes from head to repeat */
};

/* The network side of one TLS connection. */
struct side {
	SSL	*ssl;
	int	 fd;
	short	 rd_wants, wr_wants;	/* what SSL_read, SSL_write wait for */
	int	 in_end;		/* the client sent its last: 1 with close_notify, -1 not */
	long long since;		/* ms: output last moved, or began to wait */
};

enum { D_NONE, D_HANDSHAKE, D_OPEN, D_SHUTDOWN };

struct relay {
	struct side ctl, dat;
	int	 plain, dplain;		/* the session's sides of both */
	int	 chan;			/* requests from the session; -1 once it ended */
	struct flow up, down;		/* control: to the session, to the client */
	struct flow dup, ddown;		/* data: upload, download */
	int	 plain_in_end;		/* the session wrote its last */
	int	 plain_out_end;		/* the session reads no more */
	int	 up_shut;		/* the session was told the client's end */
	int	 dstate;
	int	 dplain_in_end, dplain_out_end;
	int	 broken;		/* the data connection did not end cleanly */
	long long handshake_end;	/* ms */
	long long idle_ms, data_ms;
};

static char up_buf[TLS_RELAY_CTRL_BUF], down_buf[TLS_RELAY_CTRL_BUF];
static char dup_buf[TLS_RELAY_DATA_BUF], ddown_buf[TLS_RELAY_DATA_BUF];

static void
nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
flow_init(struct flow *f, char *buf, size_t size)
{
	f->buf = buf;
	f->size = size;
	f->head = f->tail = f->retry = 0;
}

static size_t
flow_len(const struct flow *f)
{
	return f->tail - f->head;
}

/* Bytes pending, or an SSL_write to finish. */
static int
flow_busy(const struct flow *f)
{
	return f->tail > f->head || f->retry > 0;
}

/* Room at the tail; moves the bytes to the front when little is left
 * (never under an SSL_write to repeat, which needs its bytes in place). */
static size_t
flow_room(struct flow *f)
{
	if (f->retry == 0 && f->head == f->tail) {
		f->head = f->tail = 0;
	} else if (f->retry == 0 && f->head > 0 && f->size - f->tail < f->size / 4) {
		memmove(f->buf, f->buf + f->head, f->tail - f->head);
		f->tail -= f->head;
		f->head = 0;
	}
	return f->size - f->tail;
}

/* SSL_read into f: 1 bytes came, 0 none for now, -1 the client's side
 * ended (t->in_end says how). */
static int
ssl_in(struct side *t, struct flow *f)
{
	size_t room = flow_room(f);
	int n, e;

	if (room == 0 || t->in_end != 0) {
		return 0;
	}
	ossl.ERR_clear_error();
	errno = 0;
	n = ossl.SSL_read(t->ssl, f->buf + f->tail, (int)room);
	if (n > 0) {
		f->tail += (size_t)n;
		t->rd_wants = POLLIN;
		return 1;
	}
	e = ossl.SSL_get_error(t->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		t->rd_wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return 0;
	}
	t->in_end = e == SSL_ERROR_ZERO_RETURN ? 1 : -1;
	if (t->in_end < 0) {
		log_msg(LOG_DEBUG, "TLS read: %s", ssl_error());
	}
	return -1;
}

/* SSL_write from f: 1 bytes went, 0 none could for now, -1 failed. */
static int
ssl_out(struct side *t, struct flow *f, long long now)
{
	int n, e;

	if (f->retry == 0) {
		f->retry = flow_len(f);
	}
	if (f->retry == 0) {
		return 0;
	}
	ossl.ERR_clear_error();
	errno = 0;
	n = ossl.SSL_write(t->ssl, f->buf + f->head, (int)f->retry);
	if (n > 0) {
		f->head += (size_t)n;	/* partial writes are on: n may be less */
		f->retry = 0;
		t->wr_wants = POLLOUT;
		t->since = now;
		return 1;
	}
	e = ossl.SSL_get_error(t->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		t->wr_wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return 0;
	}
	log_msg(LOG_DEBUG, "TLS write: %s", ssl_error());
	return -1;
}

/* read() into f: 1 bytes came, 0 none for now, -1 the end. */
static int
fd_in(int fd, struct flow *f)
{
	size_t room = flow_room(f);
	ssize_t n;

	if (room == 0) {
		return 0;
	}
	n = read(fd, f->buf + f->tail, room);
	if (n > 0) {
		f->tail += (size_t)n;
		return 1;
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

/* write() from f: 1 bytes went, 0 none could for now, -1 the reader
 * is gone. */
static int
fd_out(int fd, struct flow *f)
{
	ssize_t n;

	if (flow_len(f) == 0) {
		return 0;
	}
	n = write(fd, f->buf + f->head, flow_len(f));
	if (n > 0) {
		f->head += (size_t)n;
		return 1;
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

/* The relay's end: a close_notify when it can go at once. */
static void __attribute__((noreturn))
relay_end(struct relay *r, int notify)
{
	if (notify) {
		ossl.SSL_shutdown(r->ctl.ssl);
	}
	_exit(EXIT_OK);
}

static void
tell_session(struct relay *r, int status, int fd)
{
	struct tls_msg m = { TLS_MAGIC_DONE, status };

	if (r->chan >= 0 && send_with_fd(r->chan, &m, fd) != 0) {
		relay_end(r, 0);	/* the session ended */
	}
}

/* The data connection is over: its TLS state goes, and the session
 * learns how it ended (not when it is gone itself). */
static void
dconn_close(struct relay *r, int tell)
{
	if (r->dat.ssl != NULL) {
		ossl.SSL_free(r->dat.ssl);
	}
	if (r->dat.fd >= 0) {
		close(r->dat.fd);
	}
	if (r->dplain >= 0) {
		close(r->dplain);
	}
	r->dat.ssl = NULL;
	r->dat.fd = r->dplain = -1;
	r->dstate = D_NONE;
	if (tell) {
		tell_session(r, r->broken ? -1 : 0, -1);
	}
}

/* A request to protect the data connection fd: the handshake starts. */
static void
dconn_start(struct relay *r, int fd)
{
	SSL *d = ossl.SSL_new(ctx);

	if (d == NULL || ossl.SSL_set_fd(d, fd) != 1) {
		log_msg(LOG_ERR, "TLS relay: %s", ssl_error());
		if (d != NULL) {
			ossl.SSL_free(d);
		}
		close(fd);
		tell_session(r, -1, -1);
		return;
	}
	ossl.SSL_set_ex_data(d, 0, &data_mark);
	ossl.SSL_set_num_tickets(d, 0);
	nonblocking(fd);
	r->dat = (struct side){ .ssl = d, .fd = fd, .rd_wants = POLLIN,
	    .wr_wants = POLLOUT };
	r->dplain = -1;
	r->dstate = D_HANDSHAKE;
	r->handshake_end = ctrl_now_ms() + r->data_ms;
}

/* The data connection's handshake, one step. */
static void
dconn_handshake(struct relay *r, long long now)
{
	int sp[2], n, e;

	ossl.ERR_clear_error();
	errno = 0;
	n = ossl.SSL_accept(r->dat.ssl);
	if (n != 1) {
		e = ossl.SSL_get_error(r->dat.ssl, n);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    now < r->handshake_end) {
			r->dat.rd_wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return;
		}
		log_msg(LOG_NOTICE, "TLS handshake on a data connection failed: %s",
		    now >= r->handshake_end ? "timed out" : ssl_error());
	} else if (!ossl.SSL_session_reused(r->dat.ssl)) {
		/* not this control connection's session: nothing it made stays */
		ossl.SSL_CTX_remove_session(ctx, ossl.SSL_get_session(r->dat.ssl));
		log_msg(LOG_WARNING, "data connection refused: it did not resume the "
		    "control connection's TLS session");
	} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_msg(LOG_ERR, "TLS relay: socketpair: %s", strerror(errno));
	} else {
		tell_session(r, 0, sp[0]);
		close(sp[0]);
		nonblocking(sp[1]);
		r->dplain = sp[1];
		r->dstate = D_OPEN;
		r->dplain_in_end = r->dplain_out_end = r->broken = 0;
		r->dat.rd_wants = POLLIN;
		flow_init(&r->dup, dup_buf, sizeof dup_buf);
		flow_init(&r->ddown, ddown_buf, sizeof ddown_buf);
		return;
	}
	r->broken = 1;
	dconn_close(r, 1);
}

/* The data connection, after poll: what can move moves. */
static void
dconn_step(struct relay *r, int net_ready, int plain_ready, long long now)
{
	if (!flow_busy(&r->ddown) && r->dstate == D_OPEN) {
		r->dat.since = now;
	}
	if (net_ready || ossl.SSL_pending(r->dat.ssl) > 0) {
		if (!r->dplain_out_end) {
			ssl_in(&r->dat, &r->dup);
		}
		if (ssl_out(&r->dat, &r->ddown, now) < 0) {
			r->broken = 1;
			dconn_close(r, 1);
			return;
		}
	}
	if (plain_ready) {
		if (!r->dplain_out_end && fd_out(r->dplain, &r->dup) < 0) {
			r->dplain_out_end = 1;	/* the session stopped: drop the rest */
		}
		if (!r->dplain_in_end && fd_in(r->dplain, &r->ddown) < 0) {
			r->dplain_in_end = 1;
		}
	}
	if (r->dat.in_end != 0 && (flow_len(&r->dup) == 0 || r->dplain_out_end)) {
		/* the client's end, clean only with its close_notify and
		 * nothing of a download left unsent */
		r->broken = r->dat.in_end < 0 || flow_busy(&r->ddown);
		if (r->broken) {
			log_msg(LOG_NOTICE, "data connection ended without TLS close_notify");
		} else {
			ossl.SSL_shutdown(r->dat.ssl);
		}
		dconn_close(r, 1);
		return;
	}
	if (r->dplain_in_end && !flow_busy(&r->ddown)) {
		r->dstate = D_SHUTDOWN;	/* the session's end: a close_notify */
		r->dat.wr_wants = POLLOUT;
		r->dat.since = now;
	}
}

/* The close_notify of a data connection, one try. */
static void
dconn_shutdown(struct relay *r)
{
	int n, e;

	ossl.ERR_clear_error();
	errno = 0;
	n = ossl.SSL_shutdown(r->dat.ssl);
	if (n < 0) {
		e = ossl.SSL_get_error(r->dat.ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			r->dat.wr_wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return;
		}
		r->broken = 1;
	}
	dconn_close(r, 1);
}

/* A request from the session, or its end. */
static void
chan_step(struct relay *r)
{
	struct tls_msg m;
	int fd;

	if (recv_with_fd(r->chan, &m, &fd) != 0) {
		/* the session ended: its data connection goes with it */
		close(r->chan);
		r->chan = -1;
		dconn_close(r, 0);
		return;
	}
	if (m.magic != TLS_MAGIC_WRAP || fd < 0 || r->dstate != D_NONE) {
		log_msg(LOG_ERR, "TLS relay: malformed request from the session");
		relay_end(r, 0);
	}
	dconn_start(r, fd);
}

static int
poll_ms(long long deadline, long long now)
{
	long long left = deadline - now;

	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

void
tls_relay(struct session *s, int plain, int chan)
{
	struct relay r = { .ctl = { .ssl = s->ctrl.tls, .fd = s->ctrl.fd,
	    .rd_wants = POLLIN, .wr_wants = POLLOUT },
	    .dat = { .fd = -1 }, .plain = plain, .dplain = -1, .chan = chan,
	    .idle_ms = (long long)s->cfg->srv.idle_timeout * 1000,
	    .data_ms = (long long)s->cfg->srv.data_timeout * 1000 };

	/* the relay dies with the session, however the session ends (the
	 * setting is per process and survives no change of credentials, so
	 * it is made here, after the last one); a session already gone
	 * would send nothing, hence the look at the parent after it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != session_pid) {
		_exit(EXIT_OK);
	}
	/* what the login dialogue read, PASS among it, is of no more use */
	wipe(s->ctrl.buf, sizeof s->ctrl.buf);
	s->ctrl.pos = s->ctrl.len = 0;
	flow_init(&r.up, up_buf, sizeof up_buf);
	flow_init(&r.down, down_buf, sizeof down_buf);
	nonblocking(r.ctl.fd);
	nonblocking(r.plain);
	for (;;) {
		/* control: read from the client while the session reads */
		int ctl_in = r.ctl.in_end == 0 && !r.plain_out_end && flow_room(&r.up) > 0;
		int ctl_out = flow_busy(&r.down);
		int d_in = r.dstate == D_OPEN && r.dat.in_end == 0 &&
		    !r.dplain_out_end && flow_room(&r.dup) > 0;
		int d_out = r.dstate == D_OPEN && flow_busy(&r.ddown);
		short dev = r.dstate == D_HANDSHAKE ? r.dat.rd_wants :
		    r.dstate == D_SHUTDOWN ? r.dat.wr_wants :
		    (short)((d_in ? r.dat.rd_wants : 0) | (d_out ? r.dat.wr_wants : 0));
		/* a descriptor with nothing to wait for is left out, so that
		 * its hang-up cannot wake the loop again and again */
		struct pollfd p[5] = {
			{ .fd = r.ctl.fd, .events = (short)((ctl_in ? r.ctl.rd_wants : 0) |
			    (ctl_out ? r.ctl.wr_wants : 0)) },
			{ .fd = r.plain, .events = (short)((!r.plain_in_end &&
			    flow_room(&r.down) > 0 ? POLLIN : 0) |
			    (!r.plain_out_end && flow_len(&r.up) > 0 ? POLLOUT : 0)) },
			{ .fd = r.chan, .events = POLLIN },
			{ .fd = r.dat.fd, .events = dev },
			{ .fd = r.dplain, .events = (short)(r.dstate != D_OPEN ? 0 :
			    (!r.dplain_in_end && flow_room(&r.ddown) > 0 ? POLLIN : 0) |
			    (!r.dplain_out_end && flow_len(&r.dup) > 0 ? POLLOUT : 0)) },
		};
		long long now = ctrl_now_ms(), wake = -1;
		int pending = (ctl_in && ossl.SSL_pending(r.ctl.ssl) > 0) ||
		    (d_in && ossl.SSL_pending(r.dat.ssl) > 0);

		for (int i = 0; i < 5; i++) {
			if (p[i].events == 0) {
				p[i].fd = -1;
			}
		}
		if (ctl_out) {
			wake = r.ctl.since + r.idle_ms;
		}
		if (d_out || r.dstate == D_SHUTDOWN) {
			long long w = r.dat.since + r.data_ms;

			wake = wake < 0 || w < wake ? w : wake;
		}
		if (r.dstate == D_HANDSHAKE) {
			wake = wake < 0 || r.handshake_end < wake ? r.handshake_end : wake;
		}
		if (poll(p, 5, pending ? 0 : wake < 0 ? -1 : poll_ms(wake, now)) < 0 &&
		    errno != EINTR) {
			log_msg(LOG_ERR, "TLS relay: poll: %s", strerror(errno));
			relay_end(&r, 0);
		}
		now = ctrl_now_ms();

		/* the control connection */
		if (!flow_busy(&r.down)) {
			r.ctl.since = now;	/* no reply waits for the client */
		}
		if (p[0].revents != 0 || (ctl_in && ossl.SSL_pending(r.ctl.ssl) > 0)) {
			if (ctl_in) {
				ssl_in(&r.ctl, &r.up);
			}
			if (ssl_out(&r.ctl, &r.down, now) < 0) {
				relay_end(&r, 0);	/* the client is gone */
			}
		}
		if (p[1].revents != 0) {
			if (!r.plain_out_end && fd_out(r.plain, &r.up) < 0) {
				r.plain_out_end = 1;	/* the session ended: drop the rest */
				r.up.head = r.up.tail = 0;
			}
			if (!r.plain_in_end && fd_in(r.plain, &r.down) < 0) {
				r.plain_in_end = 1;
			}
		}
		if (r.ctl.in_end != 0 && !r.up_shut && flow_len(&r.up) == 0) {
			/* the session reads what the client sent, then its end */
			shutdown(r.plain, SHUT_WR);
			r.up_shut = 1;
		}
		if (r.plain_in_end && !flow_busy(&r.down)) {
			relay_end(&r, 1);	/* the session's end, all passed on */
		}
		if (flow_busy(&r.down) && now - r.ctl.since >= r.idle_ms) {
			log_msg(LOG_INFO, "control connection lost: the client took no "
			    "reply for %lld seconds", r.idle_ms / 1000);
			relay_end(&r, 0);
		}

		/* requests from the session, and the data connection */
		if (r.chan >= 0 && p[2].revents != 0) {
			chan_step(&r);
		} else if (r.dstate == D_HANDSHAKE) {
			dconn_handshake(&r, now);
		} else if (r.dstate == D_OPEN) {
			dconn_step(&r, p[3].revents != 0, p[4].revents != 0, now);
		} else if (r.dstate == D_SHUTDOWN &&
		    (p[3].revents != 0 || now - r.dat.since >= r.data_ms)) {
			if (now - r.dat.since >= r.data_ms) {
				r.broken = 1;
				dconn_close(&r, 1);
			} else {
				dconn_shutdown(&r);
			}
		}
		if (r.dstate == D_OPEN && flow_busy(&r.ddown) &&
		    now - r.dat.since >= r.data_ms) {
			log_msg(LOG_NOTICE, "data connection lost: the client took no data "
			    "for %lld seconds", r.data_ms / 1000);
			r.broken = 1;
			dconn_close(&r, 1);
		}
	}
}
