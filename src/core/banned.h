/* banned.h - functions that must not be used in secretsync.
 *
 * Included last by every translation unit through common.h; a use of a
 * banned function becomes a compile error naming the function.
 */
#ifndef SS_BANNED_H
#define SS_BANNED_H

#define SS_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) SS_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SS_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SS_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SS_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SS_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SS_BANNED(strtok)
#undef gmtime
#define gmtime(t) SS_BANNED(gmtime)
#undef localtime
#define localtime(t) SS_BANNED(localtime)
#undef ctime
#define ctime(t) SS_BANNED(ctime)
#undef asctime
#define asctime(t) SS_BANNED(asctime)

#endif
