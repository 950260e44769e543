/* jwt.h: the payload of a JSON Web Token, decoded WITHOUT verifying it (for
 * tokens the API server just issued to keyless itself, or in tests). Never
 * log the token. */
#ifndef KEYLESS_BASE_JWT_H
#define KEYLESS_BASE_JWT_H

#include <jansson.h>

/* The payload as a JSON object (new reference), or NULL if token is not
 * header.payload.signature with a base64url JSON object in the middle. */
json_t *jwt_payload(const char *token);

/* The first audience of a payload ("aud": a string or a list), or NULL. */
const char *jwt_first_audience(json_t *payload);

#endif
