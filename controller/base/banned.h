/* banned.h: functions keyless code must not use (after git's banned.h).
 *
 * Included by every translation unit through base/prelude.h (-include), so a
 * use of one of these fails to compile with a message naming the function.
 * Use the bounded or reentrant alternative instead:
 *   strcpy/strcat      -> snprintf, memcpy with an explicit length, struct buf
 *   sprintf/vsprintf   -> snprintf/vsnprintf
 *   strtok             -> strtok_r
 *   gets               -> fgets/getline
 *   atoi               -> strtol with end-pointer and range checks
 *   gmtime/localtime   -> gmtime_r/localtime_r
 */
#ifndef KEYLESS_BANNED_H
#define KEYLESS_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)

#endif
