/* Path normalisation: "cwd NUL argument". Whatever comes in, the result
 * is absolute, has no empty, "." or ".." component, and fits. */
#include <stdlib.h>
#include <string.h>

#include "cellftpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[2 * VPATH_MAX + 2], out[VPATH_MAX], cwd[VPATH_MAX], q[2 * VPATH_MAX];
	const char *arg;

	if (size >= sizeof in) {
		return 0;
	}
	memcpy(in, data, size);
	in[size] = '\0';
	arg = memchr(in, '\0', size) != NULL ? in + strlen(in) + 1 : "";
	/* a cwd is itself always a normalised path */
	if (path_normalize("/", in, cwd, sizeof cwd) != 0) {
		return 0;
	}
	if (path_normalize(cwd, arg, out, sizeof out) != 0) {
		return 0;
	}
	if (out[0] != '/' || strlen(out) >= sizeof out ||
	    (strlen(out) > 1 && out[strlen(out) - 1] == '/') ||
	    strstr(out, "//") != NULL || strstr(out, "/./") != NULL ||
	    strstr(out, "/../") != NULL ||
	    (strlen(out) >= 3 && strcmp(out + strlen(out) - 3, "/..") == 0) ||
	    (strlen(out) >= 2 && strcmp(out + strlen(out) - 2, "/.") == 0)) {
		abort();
	}
	if (path_quote(out, q, sizeof q) != 0) {
		abort();
	}
	return 0;
}
