/* config.h: the SDKs' shared files (~/.aws/config and ~/.aws/credentials).
 *
 * Files: $AWS_CONFIG_FILE (default $HOME/.aws/config) and
 * $AWS_SHARED_CREDENTIALS_FILE (default $HOME/.aws/credentials); a missing
 * file is not an error. Format as botocore reads it: "[default]" and
 * "[profile NAME]" sections in the config file, "[NAME]" in the credentials
 * file; "key = value" lines; full-line comments with '#' or ';'; indented
 * sub-keys (s3 = \n  max_concurrent_requests = 5) skipped; other section
 * kinds ([sso-session x], [services x]) ignored. A key set in the
 * credentials file wins over the same key in the config file. Files are
 * capped at 1 MiB.
 */
#ifndef KEYLESS_AWS_CONFIG_H
#define KEYLESS_AWS_CONFIG_H

#include <stdbool.h>

#include "aws/endpoint.h"
#include "base/err.h"

struct aws_shared_config;

/* Load both files (paths from env). *ret is owned by the caller. Errors
 * (-EINVAL for a malformed line, -EFBIG, read errors) name file and line. */
int aws_shared_config_load(const struct aws_env *env, struct aws_shared_config **ret, struct op_err *err);

/* Load from explicit paths (either may be NULL or missing). */
int aws_shared_config_load_files(const char *config_path, const char *credentials_path,
				 struct aws_shared_config **ret, struct op_err *err);

void aws_shared_config_free(struct aws_shared_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct aws_shared_config *, aws_shared_config_free)

/* Value of key in profile (borrowed, valid until free), or NULL. */
const char *aws_shared_config_get(const struct aws_shared_config *c, const char *profile, const char *key);

/* True if either file has the profile. */
bool aws_shared_config_has_profile(const struct aws_shared_config *c, const char *profile);

/* The profile in use: $AWS_PROFILE, else "default". */
const char *aws_profile_name(const struct aws_env *env);

/* The region: $AWS_REGION, $AWS_DEFAULT_REGION, then the profile's
 * `region` (cfg may be NULL). NULL when none. Borrowed. */
const char *aws_region_resolve(const struct aws_env *env, const struct aws_shared_config *cfg, const char *profile);

#endif
