/* The glob matcher: "pattern NUL name". Bounded work, answers 1, 0 or
 * -1, and a pattern matches itself when it has no special characters. */
#include <stdlib.h>
#include <string.h>

#include "cellftpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[2 * 256 + 2];
	const char *pat = in, *name;
	long work = 0;
	int m;

	if (size >= sizeof in) {
		return 0;
	}
	memcpy(in, data, size);
	in[size] = '\0';
	name = memchr(in, '\0', size) != NULL ? in + strlen(in) + 1 : "";
	if (strlen(pat) > GLOB_PATTERN_MAX || strlen(name) > 255) {
		return 0;
	}
	m = glob_match(pat, name, &work);
	if (m < -1 || m > 1 || work > GLOB_WORK_MAX + 256) {
		abort();
	}
	if (strpbrk(pat, "*?[") == NULL) {
		work = 0;
		if (glob_match(pat, pat, &work) != 1) {
			abort();
		}
	}
	return 0;
}
