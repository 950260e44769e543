#include "base/log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "base/str.h"

static enum log_level min_level = LOG_LEVEL_INFO;
static bool as_json;
static FILE *out_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char ctx_key[254], ctx_id[17];

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
};

int log_level_from_string(const char *s, enum log_level *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (streq(s, level_names[i])) {
			*ret = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_level(enum log_level level) { min_level = level; }
enum log_level log_get_level(void) { return min_level; }
void log_set_json(bool json) { as_json = json; }
void log_set_stream(FILE *f) { out_stream = f; }

void log_set_context(const char *key, const char *reconcile_id)
{
	str_copy(ctx_key, sizeof(ctx_key), key ? key : "");
	str_copy(ctx_id, sizeof(ctx_id), reconcile_id ? reconcile_id : "");
}

void log_clear_context(void)
{
	ctx_key[0] = ctx_id[0] = 0;
}

static void timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

void log_emit(enum log_level level, const char *fmt, ...)
{
	char msg[2048], ts[40];
	FILE *f = out_stream ? out_stream : stderr;
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	str_vformat_trunc(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	timestamp(ts, sizeof(ts));

	pthread_mutex_lock(&log_lock);
	if (as_json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "msg", msg);

		if (o && ctx_key[0])
			json_object_set_new(o, "key", json_string(ctx_key));
		if (o && ctx_id[0])
			json_object_set_new(o, "reconcileID", json_string(ctx_id));
		char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

		if (line)
			fprintf(f, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		fprintf(f, "%s %-5s %s%s%s%s%s\n", ts, level_names[level], msg, ctx_key[0] ? " key=" : "", ctx_key,
			ctx_id[0] ? " reconcile=" : "", ctx_id);
	}
	fflush(f);
	pthread_mutex_unlock(&log_lock);
}
