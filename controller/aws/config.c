#include "aws/config.h"

#include <errno.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"

#define CONFIG_FILE_CAP ((size_t)1 << 20)

struct entry {
	char *profile;
	char *key;
	char *value;
	bool from_credentials;
};

struct aws_shared_config {
	struct entry *e;
	size_t n, cap;
	char **profiles; /* distinct profile names */
	size_t n_profiles;
};

void aws_shared_config_free(struct aws_shared_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].profile);
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c->e);
	for (size_t i = 0; i < c->n_profiles; i++)
		free(c->profiles[i]);
	free(c->profiles);
	free(c);
}

static char *trim_dup(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return strndup(s, n);
}

static int add_profile(struct aws_shared_config *c, const char *name)
{
	char **np;

	for (size_t i = 0; i < c->n_profiles; i++)
		if (streq(c->profiles[i], name))
			return 0;
	np = realloc(c->profiles, (c->n_profiles + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	c->profiles = np;
	c->profiles[c->n_profiles] = strdup(name);
	if (!c->profiles[c->n_profiles])
		return -ENOMEM;
	c->n_profiles++;
	return 0;
}

static int add_entry(struct aws_shared_config *c, const char *profile, char *key, char *value, bool cred)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct entry *ne = realloc(c->e, ncap * sizeof(*ne));

		if (!ne) {
			free(key);
			free(value);
			return -ENOMEM;
		}
		c->e = ne;
		c->cap = ncap;
	}
	c->e[c->n] = (struct entry){ .profile = strdup(profile), .key = key, .value = value, .from_credentials = cred };
	if (!c->e[c->n].profile) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

static int read_capped(const char *path, char **ret, struct op_err *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct buf b = BUF_INIT(CONFIG_FILE_CAP);
	char chunk[4096];
	size_t n;
	int r;

	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return op_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		r = buf_append(&b, chunk, n);
		if (r < 0) {
			buf_release(&b);
			return op_err_set(err, r == -E2BIG ? -EFBIG : r, "%s is larger than %zu bytes", path,
					  CONFIG_FILE_CAP);
		}
	}
	if (ferror(f)) {
		buf_release(&b);
		return op_err_set(err, -EIO, "cannot read %s", path);
	}
	*ret = buf_detach(&b);
	return *ret ? 1 : -ENOMEM;
}

static int parse_file(struct aws_shared_config *c, const char *path, bool cred, struct op_err *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *section = NULL; /* current profile name, or NULL when ignored */
	bool in_section = false, after_empty_key = false;
	const char *line;
	int r, lineno = 0;

	r = read_capped(path, &text, err);
	if (r <= 0)
		return r;
	for (line = text; line && *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		bool indented = line[0] == ' ' || line[0] == '\t';
		_cleanup_free_ char *t = trim_dup(line, len);
		char *eq, *k, *v;

		lineno++;
		line = eol ? eol + 1 : NULL;
		if (!t)
			return -ENOMEM;
		if (!t[0] || t[0] == '#' || t[0] == ';')
			continue;
		if (t[0] == '[') {
			size_t tl = strlen(t);
			_cleanup_free_ char *name = NULL;

			if (t[tl - 1] != ']')
				return op_err_set(err, -EINVAL, "%s:%d: malformed section header", path, lineno);
			name = trim_dup(t + 1, tl - 2);
			if (!name)
				return -ENOMEM;
			free(section);
			section = NULL;
			in_section = true;
			after_empty_key = false;
			if (cred || streq(name, "default"))
				section = TAKE_PTR(name);
			else if (str_startswith(name, "profile ") || str_startswith(name, "profile\t"))
				section = trim_dup(name + 8, strlen(name) - 8);
			if (section && (r = add_profile(c, section)) < 0)
				return r;
			continue;
		}
		/* an indented line after "key =" is a sub-key (s3 = ...): skip it */
		if (indented && after_empty_key)
			continue;
		eq = strchr(t, '=');
		if (!in_section || !eq)
			return op_err_set(err, -EINVAL, "%s:%d: expected \"key = value\"%s", path, lineno,
					  in_section ? "" : " inside a [section]");
		k = trim_dup(t, (size_t)(eq - t));
		v = trim_dup(eq + 1, strlen(eq + 1));
		if (!k || !v) {
			free(k);
			free(v);
			return -ENOMEM;
		}
		after_empty_key = v[0] == '\0';
		if (!section || !k[0]) {
			free(k);
			free(v);
			continue;
		}
		r = add_entry(c, section, k, v, cred);
		if (r < 0)
			return r;
	}
	return 0;
}

int aws_shared_config_load_files(const char *config_path, const char *credentials_path,
				 struct aws_shared_config **ret, struct op_err *err)
{
	struct aws_shared_config *c = calloc(1, sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	if (credentials_path)
		r = parse_file(c, credentials_path, true, err);
	if (r >= 0 && config_path)
		r = parse_file(c, config_path, false, err);
	if (r < 0) {
		aws_shared_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int aws_shared_config_load(const struct aws_env *env, struct aws_shared_config **ret, struct op_err *err)
{
	const char *home = aws_env_get(env, "HOME");
	const char *cfg = aws_env_get(env, "AWS_CONFIG_FILE");
	const char *cred = aws_env_get(env, "AWS_SHARED_CREDENTIALS_FILE");
	_cleanup_free_ char *cfg_def = NULL, *cred_def = NULL;

	if (!cfg && home && asprintf(&cfg_def, "%s/.aws/config", home) < 0)
		return -ENOMEM;
	if (!cred && home && asprintf(&cred_def, "%s/.aws/credentials", home) < 0)
		return -ENOMEM;
	return aws_shared_config_load_files(cfg ? cfg : cfg_def, cred ? cred : cred_def, ret, err);
}

const char *aws_shared_config_get(const struct aws_shared_config *c, const char *profile, const char *key)
{
	const char *from_config = NULL;

	if (!c || !profile)
		return NULL;
	/* the last occurrence in a file wins, as configparser does */
	for (size_t i = c->n; i-- > 0;) {
		const struct entry *e = &c->e[i];

		if (!streq(e->profile, profile) || !streq(e->key, key))
			continue;
		if (e->from_credentials)
			return e->value;
		if (!from_config)
			from_config = e->value;
	}
	return from_config;
}

bool aws_shared_config_has_profile(const struct aws_shared_config *c, const char *profile)
{
	if (!c || !profile)
		return false;
	for (size_t i = 0; i < c->n_profiles; i++)
		if (streq(c->profiles[i], profile))
			return true;
	return false;
}

const char *aws_profile_name(const struct aws_env *env)
{
	const char *p = aws_env_get(env, "AWS_PROFILE");

	return p ? p : "default";
}

const char *aws_region_resolve(const struct aws_env *env, const struct aws_shared_config *cfg, const char *profile)
{
	const char *r = aws_env_get(env, "AWS_REGION");

	if (!r)
		r = aws_env_get(env, "AWS_DEFAULT_REGION");
	if (!r && cfg)
		r = aws_shared_config_get(cfg, profile ? profile : aws_profile_name(env), "region");
	return r && *r ? r : NULL;
}
