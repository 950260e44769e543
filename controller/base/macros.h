/* macros.h: small helpers used everywhere (cleanup attribute, TAKE_PTR, sizes).
 *
 * Owned locals are declared with a cleanup helper so an early return cannot
 * leak (systemd style):
 *     _cleanup_free_ char *s = strdup("x");
 *     return TAKE_PTR(s);          // hands ownership out, cleanup sees NULL
 */
#ifndef KEYLESS_MACROS_H
#define KEYLESS_MACROS_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))
#define _cleanup_(f) __attribute__((cleanup(f)))

/* Return the pointer held in `p` and set `p` to NULL. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _take_tmp = (p);                                 \
		(p) = NULL;                                                    \
		_take_tmp;                                                     \
	})

/* Return the fd held in `fd` and set `fd` to -1. */
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _take_fd = (fd);                                           \
		(fd) = -1;                                                     \
		_take_fd;                                                      \
	})

static inline void freep(void *p) { free(*(void **)p); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Define a cleanup function `name##p` calling `func(*p)` if *p is non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                \
	static inline void func##p(type *p)                                    \
	{                                                                      \
		if (*p)                                                        \
			func(*p);                                              \
	}

#define streq(a, b) (strcmp((a), (b)) == 0)

#endif
