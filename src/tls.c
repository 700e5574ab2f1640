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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- the relay: the pre-login process after a login ---- */

struct relay {
	int	 net, plain;		/* the control connection, both sides */
	int	 chan;			/* requests from the session */
	SSL	*ctl;
	SSL	*d;			/* the data connection, when open */
	int	 dnet, dplain;
	unsigned data_timeout;
	int	 broken;		/* the data connection did not end cleanly */
};

static char rbuf[XFER_BUF];

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
ssl_write_all(SSL *ssl, const char *p, size_t len)
{
	while (len > 0) {
		int n = ossl.SSL_write(ssl, p, (int)len);

		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
data_finish(struct relay *r)
{
	struct tls_msg m = { TLS_MAGIC_DONE, r->broken ? -1 : 0 };

	ossl.SSL_free(r->d);
	close(r->dnet);
	if (r->dplain >= 0) {
		close(r->dplain);
	}
	r->d = NULL;
	r->dnet = r->dplain = -1;
	if (send_with_fd(r->chan, &m, -1) != 0) {
		_exit(EXIT_OK);
	}
}

static void
data_wrap(struct relay *r, int fd)
{
	struct tls_msg m = { TLS_MAGIC_DONE, -1 };
	int sp[2] = { -1, -1 };
	SSL *d = ossl.SSL_new(ctx);

	if (d != NULL) {
		ossl.SSL_set_ex_data(d, 0, &data_mark);
		ossl.SSL_set_num_tickets(d, 0);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	set_timeouts(fd, r->data_timeout);
	errno = 0;
	if (d == NULL || ossl.SSL_set_fd(d, fd) != 1 || ossl.SSL_accept(d) != 1) {
		log_msg(LOG_NOTICE, "TLS handshake on a data connection failed: %s",
		    ssl_error());
	} else if (!ossl.SSL_session_reused(d)) {
		/* not this control connection's session: nothing it made stays */
		ossl.SSL_CTX_remove_session(ctx, ossl.SSL_get_session(d));
		log_msg(LOG_WARNING, "data connection refused: it did not resume the "
		    "control connection's TLS session");
	} else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		log_msg(LOG_ERR, "TLS relay: socketpair: %s", strerror(errno));
	} else {
		m.status = 0;
	}
	if (m.status != 0) {
		if (d != NULL) {
			ossl.SSL_free(d);
		}
		close(fd);
		if (send_with_fd(r->chan, &m, -1) != 0) {
			_exit(EXIT_OK);
		}
		return;
	}
	if (send_with_fd(r->chan, &m, sp[0]) != 0) {
		_exit(EXIT_OK);
	}
	close(sp[0]);
	r->d = d;
	r->dnet = fd;
	r->dplain = sp[1];
	r->broken = 0;
}

/* Data from the client's side: an upload (or a client's close). */
static void
data_from_net(struct relay *r)
{
	int n = ossl.SSL_read(r->d, rbuf, sizeof rbuf);

	if (n <= 0 && (ossl.SSL_get_error(r->d, n) == SSL_ERROR_WANT_READ ||
	    ossl.SSL_get_error(r->d, n) == SSL_ERROR_WANT_WRITE)) {
		return;		/* a record that was not data */
	}
	if (n > 0) {
		if (r->dplain >= 0 && write_all(r->dplain, rbuf, (size_t)n) != 0) {
			close(r->dplain);	/* the session stopped: drop the rest */
			r->dplain = -1;
		}
		return;
	}
	/* the end: clean only with the client's close_notify */
	r->broken = ossl.SSL_get_error(r->d, n) != SSL_ERROR_ZERO_RETURN;
	if (r->broken) {
		log_msg(LOG_NOTICE, "data connection ended without TLS close_notify");
	} else {
		ossl.SSL_shutdown(r->d);
	}
	data_finish(r);
}

/* Data from the session's side: a download, ended by its close. */
static void
data_from_session(struct relay *r)
{
	ssize_t n = read(r->dplain, rbuf, sizeof rbuf);

	if (n > 0) {
		if (ssl_write_all(r->d, rbuf, (size_t)n) != 0) {
			r->broken = 1;
			data_finish(r);
		}
		return;
	}
	r->broken = ossl.SSL_shutdown(r->d) < 0;	/* close_notify */
	data_finish(r);
}

void
tls_relay(struct session *s, int plain, int chan)
{
	struct relay r = { .net = s->ctrl.fd, .plain = plain, .chan = chan,
	    .ctl = s->ctrl.tls, .dnet = -1, .dplain = -1,
	    .data_timeout = s->cfg->srv.data_timeout };

	/* the session ends the relay by closing its ends; no timeout here */
	set_timeouts(r.net, 0);
	for (;;) {
		struct pollfd p[5] = {
			{ .fd = r.net, .events = POLLIN },
			{ .fd = r.plain, .events = POLLIN },
			{ .fd = r.chan, .events = POLLIN },
			{ .fd = r.d != NULL ? r.dnet : -1, .events = POLLIN },
			{ .fd = r.d != NULL ? r.dplain : -1, .events = POLLIN },
		};
		int ready = ossl.SSL_pending(r.ctl) > 0 ||
		    (r.d != NULL && ossl.SSL_pending(r.d) > 0);

		if (poll(p, 5, ready ? 0 : -1) < 0 && errno != EINTR) {
			break;
		}
		if ((p[0].revents != 0 || ossl.SSL_pending(r.ctl) > 0)) {
			ssize_t n = tls_read(r.ctl, rbuf, sizeof rbuf);

			if (n <= 0 || write_all(r.plain, rbuf, (size_t)n) != 0) {
				break;
			}
		}
		if (p[1].revents != 0) {
			ssize_t n = read(r.plain, rbuf, sizeof rbuf);

			if (n <= 0) {
				ossl.SSL_shutdown(r.ctl);
				break;
			}
			if (ssl_write_all(r.ctl, rbuf, (size_t)n) != 0) {
				break;
			}
		}
		if (p[2].revents != 0) {
			struct tls_msg m;
			int fd;

			if (recv_with_fd(r.chan, &m, &fd) != 0) {
				break;		/* the session ended */
			}
			if (m.magic != TLS_MAGIC_WRAP || fd < 0 || r.d != NULL) {
				log_msg(LOG_ERR, "TLS relay: malformed request from the session");
				break;
			}
			data_wrap(&r, fd);
		}
		if (r.d != NULL && (p[3].revents != 0 || ossl.SSL_pending(r.d) > 0)) {
			data_from_net(&r);
		}
		if (r.d != NULL && r.dplain >= 0 && p[4].revents != 0) {
			data_from_session(&r);
		}
	}
	_exit(EXIT_OK);
}
