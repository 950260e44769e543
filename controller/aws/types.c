#include "aws/types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macros.h"

void aws_tag_list_release(struct aws_tag_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

const char *aws_tag_list_get(const struct aws_tag_list *l, const char *key)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (streq(l->items[i].key, key))
			return l->items[i].value;
	return NULL;
}

int aws_tag_list_add(struct aws_tag_list *l, const char *key, const char *value)
{
	struct aws_tag *n = realloc(l->items, (l->n + 1) * sizeof(*n));
	char *k, *v;

	if (!n)
		return -ENOMEM;
	l->items = n;
	k = strdup(key ? key : "");
	v = strdup(value ? value : "");
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->items[l->n++] = (struct aws_tag){ k, v };
	return 0;
}

void aws_str_list_release(struct aws_str_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int aws_str_list_push(struct aws_str_list *l, char *s)
{
	char **n;

	if (!s)
		return -ENOMEM;
	n = realloc(l->items, (l->n + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	l->items = n;
	l->items[l->n++] = s;
	return 0;
}

int aws_str_list_add(struct aws_str_list *l, const char *s)
{
	return aws_str_list_push(l, strdup(s ? s : ""));
}

long aws_str_list_index(const struct aws_str_list *l, const char *s)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (streq(l->items[i], s))
			return (long)i;
	return -1;
}
