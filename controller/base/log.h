/* log.h: leveled logging to stderr, text or JSON lines.
 *
 * Only main, cli/ and reconcile/ log; library modules return errors instead
 * (STYLE.md). One call writes one whole line (thread-safe, no interleaving).
 * Never pass tokens, secret keys, session tokens or Authorization headers.
 *
 *     log_info("reconciled %s/%s in %ld ms", ns, name, ms);
 */
#ifndef KEYLESS_LOG_H
#define KEYLESS_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "base/macros.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Parse "debug", "info", "warn", "error". Returns 0 or -EINVAL. */
int log_level_from_string(const char *s, enum log_level *ret);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* JSON lines ({"ts":...,"level":...,"msg":...}) instead of text. */
void log_set_json(bool json);

/* Redirect output (default stderr); used by tests. NULL restores stderr. */
void log_set_stream(FILE *f);

/* Tag every line the calling thread logs, until log_clear_context(), with
 * the object key and the reconcile id (the manager sets them around each
 * reconcile): text lines end in " key=<key> reconcile=<id>", JSON lines get
 * "key" and "reconcileID". Copied (truncated at 253 and 16 bytes). */
void log_set_context(const char *key, const char *reconcile_id);
void log_clear_context(void);

void log_emit(enum log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_emit(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_emit(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
