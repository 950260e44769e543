/* yamljson.h: parse a YAML document (libyaml) into a jansson value.
 *
 * Mappings become objects (keys must be scalars), sequences arrays. Scalars:
 * quoted ones are always strings; plain ones become null (`null`, `~`, empty),
 * booleans (`true`/`false`, any case), integers and reals when they look like
 * YAML 1.2 core-schema numbers, and strings otherwise. Anchors/aliases are
 * resolved; yaml_to_json reads the first document only. Used for kubeconfig and the
 * operator settings file.
 */
#ifndef KEYLESS_YAMLJSON_H
#define KEYLESS_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

#include "base/err.h"

/* Parse text[0..len). On success *ret is a new reference (an empty document
 * gives an empty object). Errors name the line and column. */
int yaml_to_json(const char *text, size_t len, json_t **ret, struct op_err *err);

/* Read and parse a file (capped at 16 MiB). Errors name the path. */
int yaml_file_to_json(const char *path, json_t **ret, struct op_err *err);

/* Every document of a YAML stream ("---" separated), as a JSON array
 * (empty documents left out). Errors name the document, line and column. */
int yaml_documents_to_json(const char *text, size_t len, json_t **ret, struct op_err *err);

/* Read a whole file (capped at 16 MiB; "-" is stdin) into *ret (malloc'd,
 * NUL-terminated) and its length. Errors name the path. */
int yaml_read_file(const char *path, char **ret, size_t *ret_len, struct op_err *err);

#endif
