/* The configuration loader over any text: every problem is reported,
 * nothing crashes or leaks. */
#include <stdlib.h>
#include <string.h>

#include "cellftpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	char *text;

	if (size > 65536 || (text = malloc(size + 1)) == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	cfg = config_parse("fuzz.conf", text, 0);
	if (cfg->nerrors > cfg->nproblems && cfg->nproblems < CONF_PROBLEMS_MAX) {
		abort();
	}
	for (size_t i = 0; i < cfg->nusers; i++) {
		(void)config_user(cfg, cfg->users[i].name);
	}
	config_free(cfg);
	free(text);
	return 0;
}
