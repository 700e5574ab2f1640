/* Virtual paths. A client path is made absolute against the current
 * directory and normalised lexically ("", "." dropped, ".." removes one
 * component and never climbs above "/"). The result is then opened
 * relative to the user's root directory descriptor; with symlinks =
 * contain the kernel resolves every component inside that root
 * (openat2 RESOLVE_IN_ROOT), so no link and no race leads outside. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cellftpd.h"

/* Append one component to out (holding an absolute path of length *len). */
static int
push(char *out, size_t *len, size_t size, const char *comp, size_t n)
{
	if (n == 1 && comp[0] == '.') {
		return 0;
	}
	if (n == 2 && comp[0] == '.' && comp[1] == '.') {
		while (*len > 1 && out[*len - 1] != '/') {
			(*len)--;
		}
		if (*len > 1) {
			(*len)--;		/* the slash before the component */
		}
		out[*len] = '\0';
		return 0;
	}
	if (*len + (*len > 1) + n + 1 > size) {
		return -1;
	}
	if (*len > 1) {
		out[(*len)++] = '/';
	}
	memcpy(out + *len, comp, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

static int
push_all(char *out, size_t *len, size_t size, const char *path)
{
	while (*path != '\0') {
		const char *slash = strchr(path, '/');
		size_t n = slash != NULL ? (size_t)(slash - path) : strlen(path);

		if (n > 0 && push(out, len, size, path, n) != 0) {
			return -1;
		}
		path += n + (slash != NULL);
	}
	return 0;
}

int
path_normalize(const char *cwd, const char *arg, char *out, size_t size)
{
	size_t len = 1;

	if (size < 2) {
		return -1;
	}
	out[0] = '/';
	out[1] = '\0';
	if (arg[0] != '/' && push_all(out, &len, size, cwd) != 0) {
		return -1;
	}
	if (push_all(out, &len, size, arg) != 0) {
		return -1;
	}
	return 0;
}

int
path_quote(const char *in, char *out, size_t size)
{
	size_t len = 0;

	for (; *in != '\0'; in++) {
		if (len + 3 > size) {
			return -1;
		}
		if (*in == '"') {
			out[len++] = '"';
		}
		out[len++] = *in;
	}
	out[len] = '\0';
	return 0;
}

static long
openat2_(int dirfd, const char *path, int flags, unsigned mode)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = (unsigned)(flags | O_CLOEXEC);
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int
vfs_open_root(struct vfs *v, const char *root, int contain)
{
	int fd;

	v->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	v->contain = contain;
	if (v->rootfd < 0) {
		return -1;
	}
	if (contain) {
		fd = (int)openat2_(v->rootfd, ".", O_PATH, 0);
		if (fd < 0) {
			int e = errno;

			close(v->rootfd);
			v->rootfd = -1;
			errno = e;
			return -1;	/* ENOSYS: kernel before 5.6 */
		}
		close(fd);
	}
	return 0;
}

/* vpath is absolute and normalised; the root is ".". */
static const char *
relative(const char *vpath)
{
	return vpath[1] != '\0' ? vpath + 1 : ".";
}

int
vfs_open(const struct vfs *v, const char *vpath, int flags, unsigned mode)
{
	if (v->contain) {
		return (int)openat2_(v->rootfd, relative(vpath), flags, mode);
	}
	return openat(v->rootfd, relative(vpath), flags | O_CLOEXEC, mode);
}

int
vfs_parent(const struct vfs *v, const char *vpath, const char **base)
{
	char parent[VPATH_MAX];
	const char *slash = strrchr(vpath, '/');
	size_t n;

	if (slash == NULL || slash[1] == '\0') {
		errno = EBUSY;		/* "/" has no parent and no name */
		return -1;
	}
	if (strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0) {
		errno = EINVAL;		/* not a name: the directory itself or above */
		return -1;
	}
	n = (size_t)(slash - vpath);
	memcpy(parent, vpath, n);
	parent[n > 0 ? n : 1] = '\0';
	if (n == 0) {
		parent[0] = '/';
	}
	*base = slash + 1;
	return vfs_open(v, parent, O_PATH | O_DIRECTORY, 0);
}
