/* types.h: small value types shared by the IAM, STS and EKS calls.
 *
 * Inputs borrow (`const char *`, struct aws_tag_in); outputs own their
 * strings and are released by the matching function (NULL-safe).
 */
#ifndef KEYLESS_AWS_TYPES_H
#define KEYLESS_AWS_TYPES_H

#include <stddef.h>

/* A tag given to a call (borrowed). */
struct aws_tag_in {
	const char *key;
	const char *value;
};

/* A tag returned by a call (owned). */
struct aws_tag {
	char *key;
	char *value;
};

struct aws_tag_list {
	struct aws_tag *items;
	size_t n;
};

void aws_tag_list_release(struct aws_tag_list *l);
/* Value of the tag named key, or NULL. */
const char *aws_tag_list_get(const struct aws_tag_list *l, const char *key);
/* Append (copies). Returns 0 or -ENOMEM. */
int aws_tag_list_add(struct aws_tag_list *l, const char *key, const char *value);

struct aws_str_list {
	char **items;
	size_t n;
};

void aws_str_list_release(struct aws_str_list *l);
/* Append (copies). Returns 0 or -ENOMEM. */
int aws_str_list_add(struct aws_str_list *l, const char *s);
/* Take ownership of s (freed on failure). */
int aws_str_list_push(struct aws_str_list *l, char *s);
/* Index of s, or -1. */
long aws_str_list_index(const struct aws_str_list *l, const char *s);

#endif
