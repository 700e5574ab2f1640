/* The address parsers: PORT and EPRT arguments and CIDR networks. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cellftpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[512];
	struct sockaddr_storage ss;
	struct cidr c;

	if (size >= sizeof in) {
		return 0;
	}
	memcpy(in, data, size);
	in[size] = '\0';
	if (parse_port_arg(in, &ss) == 0 && ss.ss_family != AF_INET) {
		abort();
	}
	if (parse_eprt_arg(in, &ss) == 0 && ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6) {
		abort();
	}
	if (cidr_parse(in, &c) == 0) {
		if ((c.family == AF_INET && c.prefix > 32) || c.prefix > 128) {
			abort();
		}
		(void)cidr_match(&c, (struct sockaddr *)&ss);
	}
	return 0;
}
