#include "base/yamljson.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "base/buf.h"

#define YAML_FILE_CAP ((size_t)16 << 20)


static json_t *plain_scalar(const char *s, size_t len)
{
	char *end;

	if (len == 0 || streq(s, "~") || strcasecmp(s, "null") == 0)
		return json_null();
	if (strcasecmp(s, "true") == 0)
		return json_true();
	if (strcasecmp(s, "false") == 0)
		return json_false();
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+') && len > 1)) {
		long long v;
		double d;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (*end == '\0' && errno == 0)
			return json_integer(v);
		errno = 0;
		d = strtod(s, &end);
		if (*end == '\0' && errno == 0 && isfinite(d) && strpbrk(s, "xXnN") == NULL)
			return json_real(d);
	}
	return json_stringn(s, len);
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth, struct op_err *err)
{
	if (depth > 64) {
		op_err_set(err, -EINVAL, "YAML nested deeper than 64 levels");
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *v = (const char *)node->data.scalar.value;
		size_t len = node->data.scalar.length;

		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return plain_scalar(v, len);
		return json_stringn(v, len);
	}
	case YAML_SEQUENCE_NODE: {
		json_auto_t *arr = json_array();

		for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
			json_t *child = convert(doc, yaml_document_get_node(doc, *it), depth + 1, err);

			if (!child || json_array_append_new(arr, child) < 0)
				return NULL;
		}
		return TAKE_PTR(arr);
	}
	case YAML_MAPPING_NODE: {
		json_auto_t *obj = json_object();

		for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			json_t *child;

			if (!k || k->type != YAML_SCALAR_NODE) {
				op_err_set(err, -EINVAL, "YAML line %zu: mapping keys must be scalars",
					   k ? k->start_mark.line + 1 : 0);
				return NULL;
			}
			child = convert(doc, yaml_document_get_node(doc, p->value), depth + 1, err);
			if (!child)
				return NULL;
			if (json_object_setn_new(obj, (const char *)k->data.scalar.value, k->data.scalar.length,
						 child) < 0) {
				op_err_set(err, -EINVAL, "YAML line %zu: invalid key", k->start_mark.line + 1);
				return NULL;
			}
		}
		return TAKE_PTR(obj);
	}
	default:
		op_err_set(err, -EINVAL, "YAML: empty node");
		return NULL;
	}
}

int yaml_to_json(const char *text, size_t len, json_t **ret, struct op_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	json_t *out;

	if (!yaml_parser_initialize(&parser))
		return op_err_set(err, -ENOMEM, "YAML parser initialization failed");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		int r = op_err_set(err, -EINVAL, "YAML line %zu column %zu: %s", parser.problem_mark.line + 1,
				   parser.problem_mark.column + 1, parser.problem ? parser.problem : "parse error");

		yaml_parser_delete(&parser);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	out = root ? convert(&doc, root, 0, err) : json_object();
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!out)
		return err && err->code ? err->code : -EINVAL;
	*ret = out;
	return 0;
}

int yaml_file_to_json(const char *path, json_t **ret, struct op_err *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(YAML_FILE_CAP);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char chunk[8192];
	size_t n;
	int r;

	if (!f)
		return op_err_set(err, -errno, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0)
			return op_err_set(err, -E2BIG, "%s: larger than %zu bytes", path, YAML_FILE_CAP);
	}
	if (ferror(f))
		return op_err_set(err, -EIO, "%s: read error", path);
	r = yaml_to_json(b.data ? b.data : "", b.len, ret, err);
	if (r < 0 && err) {
		char msg[sizeof(err->message)];

		memcpy(msg, err->message, sizeof(msg));
		op_err_set(err, r, "%s: %s", path, msg);
	}
	return r;
}

int yaml_documents_to_json(const char *text, size_t len, json_t **ret, struct op_err *err)
{
	yaml_parser_t parser;
	json_t *all = json_array();
	int r = 0;

	if (!all || !yaml_parser_initialize(&parser)) {
		json_decref(all);
		return op_err_set(err, -ENOMEM, "YAML parser initialization failed");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (size_t n = 1;; n++) {
		yaml_document_t doc;
		yaml_node_t *root;
		json_t *out;

		if (!yaml_parser_load(&parser, &doc)) {
			r = op_err_set(err, -EINVAL, "YAML document %zu, line %zu column %zu: %s", n,
				       parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				       parser.problem ? parser.problem : "parse error");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root && parser.stream_end_produced) {
			yaml_document_delete(&doc);
			break;
		}
		out = root ? convert(&doc, root, 0, err) : NULL;
		yaml_document_delete(&doc);
		if (root && !out) {
			r = err && err->code ? err->code : -EINVAL;
			break;
		}
		if (out && json_array_append_new(all, out) < 0) {
			r = op_err_set(err, -ENOMEM, "out of memory");
			break;
		}
	}
	yaml_parser_delete(&parser);
	if (r < 0) {
		json_decref(all);
		return r;
	}
	*ret = all;
	return 0;
}

int yaml_read_file(const char *path, char **ret, size_t *ret_len, struct op_err *err)
{
	_cleanup_buf_ struct buf b = BUF_INIT(YAML_FILE_CAP);
	FILE *f = streq(path, "-") ? stdin : fopen(path, "re");
	char chunk[8192];
	size_t n;
	int r = 0;

	if (!f)
		return op_err_set(err, -errno, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			r = op_err_set(err, -E2BIG, "%s: larger than %zu bytes", path, (size_t)YAML_FILE_CAP);
			break;
		}
	}
	if (!r && ferror(f))
		r = op_err_set(err, -EIO, "%s: read error", path);
	if (f != stdin)
		fclose(f);
	if (r < 0)
		return r;
	*ret = strndup(b.data ? b.data : "", b.len);
	*ret_len = b.len;
	return *ret ? 0 : op_err_set(err, -ENOMEM, "out of memory");
}
