#include "identity/fingerprint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/policy.h"
#include "base/macros.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/* FNV-1a over s and its terminator (NULL hashes like ""); lower-cased when asked */
static uint64_t mix(uint64_t h, const char *s, bool fold)
{
	s = s ? s : "";
	do {
		h ^= (unsigned char)(fold ? tolower((unsigned char)*s) : *s);
		h *= FNV_PRIME;
	} while (*s++);
	return h;
}

/* a set of strings: the sum of the members' own hashes does not depend on
 * their order (duplicates are not expected: IAM keys and names are unique) */
static uint64_t mix_set(uint64_t h, const char *const *v, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += mix(FNV_OFFSET, v[i], false);
	h ^= sum;
	h *= FNV_PRIME;
	return mix(h, "", false);
}

static uint64_t mix_tags(uint64_t h, const struct wi_tag *t, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += mix(mix(FNV_OFFSET, t[i].key, true), t[i].value, false);
	h ^= sum;
	h *= FNV_PRIME;
	return mix(h, "", false);
}

/* the canonical text of a document, hashed; false if it is not JSON */
static bool mix_doc(uint64_t *h, const char *doc)
{
	char *c = NULL;

	if (!doc) {
		*h = mix(*h, "\x01none", false);
		return true;
	}
	if (aws_policy_canonical(doc, &c) < 0)
		return false;
	*h = mix(*h, c, false);
	free(c);
	return true;
}

static uint64_t nonzero(uint64_t h)
{
	return h ? h : 1;
}

uint64_t role_fingerprint(const struct role_state *s)
{
	uint64_t h = FNV_OFFSET;

	if (!s->trust_policy || !mix_doc(&h, s->trust_policy) || !mix_doc(&h, s->keyless_policy))
		return 0;
	h = mix(h, s->boundary_arn, false);
	h = mix_tags(h, s->tags, s->n_tags);
	h = mix_set(h, s->inline_names, s->n_inline);
	h = mix_set(h, s->attached, s->n_attached);
	return nonzero(h);
}

uint64_t role_list_fingerprint(const struct role_state *s)
{
	uint64_t h = FNV_OFFSET;
	char msd[16];

	if (!s->trust_policy || !mix_doc(&h, s->trust_policy))
		return 0;
	h = mix(h, s->description, false);
	snprintf(msd, sizeof(msd), "%d", s->max_session_duration);
	return nonzero(mix(h, msd, false));
}
