#include "rc.h"

const char *ss_strerror(enum ss_rc rc)
{
	switch (rc) {
	case SS_OK: return "success";
	case SS_ERR_NOMEM: return "out of memory";
	case SS_ERR_TOOBIG: return "data too large";
	case SS_ERR_INVALID: return "invalid input";
	case SS_ERR_IO: return "input/output error";
	case SS_ERR_NET: return "network error";
	case SS_ERR_HTTP: return "remote error";
	case SS_ERR_AUTH: return "authentication or permission failure";
	case SS_ERR_NOTFOUND: return "not found";
	case SS_ERR_PARSE: return "malformed response";
	case SS_ERR_CONFLICT: return "conflict";
	case SS_ERR_INTERNAL: return "internal error";
	}
	return "unknown error";
}
