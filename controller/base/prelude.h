/* prelude.h: force-included first in every translation unit (-include).
 *
 * Pulls in the C library headers that declare the banned functions, then
 * banned.h, so that the bans apply to keyless code but do not break the
 * system headers' own declarations (git does the same in git-compat-util.h).
 */
#ifndef KEYLESS_PRELUDE_H
#define KEYLESS_PRELUDE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wchar.h>

#include "base/banned.h"

#endif
