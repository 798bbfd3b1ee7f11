/* util.c - xlb-backend's failure message and its two directories (shared by every command). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"

static char fail_msg[512];

int be_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (fail_msg[0]) /* the first, most precise message wins */
		return err;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	return err;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *be_run_dir(void)
{
	return env_or("XLB_BACKEND_RUN_DIR", BE_RUN_DIR);
}

const char *be_pin_dir(void)
{
	return env_or("XLB_BACKEND_PIN_DIR", BE_PIN_DIR);
}

const char *be_fail_message(void)
{
	return fail_msg;
}

void be_fail_reset(void)
{
	fail_msg[0] = '\0';
}
