#include "weft/errno.h"
#include "weft/version.h"

const char *
weft_strerror(int code)
{
	switch (code) {
	case WEFT_OK:
		return "success";
#define WEFT__ERRNO_STR(name, value, msg)                                     \
	case WEFT_##name:                                                     \
		return msg;
		WEFT_ERRNO_MAP(WEFT__ERRNO_STR)
#undef WEFT__ERRNO_STR
	default:
		return "unknown error";
	}
}

const char *
weft_err_name(int code)
{
	switch (code) {
	case WEFT_OK:
		return "WEFT_OK";
#define WEFT__ERRNO_NAME(name, value, msg)                                    \
	case WEFT_##name:                                                     \
		return "WEFT_" #name;
		WEFT_ERRNO_MAP(WEFT__ERRNO_NAME)
#undef WEFT__ERRNO_NAME
	default:
		return "WEFT_E?";
	}
}

unsigned
weft_version(void)
{
	return WEFT_VERSION_HEX;
}

#define WEFT__STR2(x) #x
#define WEFT__STR(x) WEFT__STR2(x)

const char *
weft_version_string(void)
{
	return WEFT__STR(WEFT_VERSION_MAJOR) "." WEFT__STR(
	    WEFT_VERSION_MINOR) "." WEFT__STR(WEFT_VERSION_PATCH);
}
