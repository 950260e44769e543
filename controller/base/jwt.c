#include "base/jwt.h"

#include <stdlib.h>
#include <string.h>

#include "base/b64.h"

json_t *jwt_payload(const char *token)
{
	const char *p1 = token ? strchr(token, '.') : NULL, *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
	unsigned char *raw = NULL;
	size_t len = 0;
	json_t *payload;

	if (!p2 || b64_decode(p1 + 1, (size_t)(p2 - p1 - 1), true, &raw, &len) < 0)
		return NULL;
	payload = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	if (!json_is_object(payload)) {
		json_decref(payload);
		return NULL;
	}
	return payload;
}

const char *jwt_first_audience(json_t *payload)
{
	json_t *aud = json_object_get(payload, "aud");

	return json_is_string(aud) ? json_string_value(aud) : json_string_value(json_array_get(aud, 0));
}
