/* The control connection as a client drives it: bytes through the Telnet
 * filter and the line reader (with ABOR or QUIT taken out of the buffer
 * as during a transfer), each line through the command split. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellftpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctrl c;
	char line[CTRL_LINE_MAX], verb[8], *arg;
	int p[2];

	if (size > 60000 || pipe(p) != 0) {
		return 0;
	}
	if (write(p[1], data, size) != (ssize_t)size) {
		abort();
	}
	close(p[1]);
	memset(&c, 0, sizeof c);
	c.fd = p[0];
	c.idle_timeout = 1;
	for (int round = 0;; round++) {
		enum ctrl_status st;

		/* as during a transfer: ABOR taken from anywhere in the buffer */
		if (size > 0 && (data[0] & 1) && ctrl_take_verb(&c, round % 2 ? "ABOR" : "QUIT") &&
		    c.pos > c.len) {
			abort();
		}
		st = ctrl_read_line(&c, line, sizeof line);

		if (st == CTRL_EOF || st == CTRL_TIMEOUT) {
			break;
		}
		if (st != CTRL_LINE) {
			continue;
		}
		if (strlen(line) >= sizeof line || c.pos > c.len) {
			abort();
		}
		if (command_split(line, verb, &arg) == 0) {
			if (strlen(verb) > 7 || (arg != NULL && (arg < line || *arg == '\0'))) {
				abort();
			}
			(void)is_http_request(verb, arg);
		}
	}
	close(p[0]);
	return 0;
}
