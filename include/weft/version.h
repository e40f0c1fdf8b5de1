/**
 * \file weft/version.h
 * \brief Version numbers and the export macro.
 *
 * The version macros describe the headers a program was compiled against;
 * weft_version() and weft_version_string() describe the library it runs with.
 * A program may check at start-up that both agree:
 * `assert(weft_version() == WEFT_VERSION_HEX);`
 */
#ifndef WEFT_VERSION_H
#define WEFT_VERSION_H

#define WEFT_VERSION_MAJOR 0 /**< incompatible API changes */
#define WEFT_VERSION_MINOR 1 /**< compatible additions */
#define WEFT_VERSION_PATCH 0 /**< fixes */
/** 0xMMmmpp, as weft_version() returns it. */
#define WEFT_VERSION_HEX                                                      \
	((WEFT_VERSION_MAJOR << 16) | (WEFT_VERSION_MINOR << 8) |             \
	    (WEFT_VERSION_PATCH))

/** Marks a symbol of the public API; everything else is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define WEFT_API __attribute__((visibility("default")))
/** Marks a deprecated function. */
#define WEFT_DEPRECATED __attribute__((deprecated))
/** printf-style arguments: format string `f`, first argument `a`. */
#define WEFT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WEFT_API
#define WEFT_DEPRECATED
#define WEFT_PRINTF(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** \return the library's version as WEFT_VERSION_HEX would spell it. */
WEFT_API unsigned weft_version(void);

/** \return the library's version as "MAJOR.MINOR.PATCH" (static storage). */
WEFT_API const char *weft_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
