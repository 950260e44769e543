#include <curl/curl.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <string.h>
#include <yaml.h>

#include "cli/cli.h"
#include "base/macros.h"

#ifndef KEYLESS_VERSION
#define KEYLESS_VERSION "0.0.0-unknown"
#endif

int cli_version(int argc, char **argv)
{
	bool verbose = false;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "-v") || streq(argv[i], "--verbose")) {
			verbose = true;
		} else {
			fprintf(stderr, "keyless version: unknown argument '%s' (usage: keyless version [--verbose])\n",
				argv[i]);
			return 2;
		}
	}
	printf("keyless %s\n", KEYLESS_VERSION);
	if (verbose) {
		printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
		printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION));
		printf("jansson %s\n", jansson_version_str());
		printf("libyaml %s\n", yaml_get_version_string());
		printf("libwebsockets %s\n", lws_get_library_version());
		printf("libxml2 %s\n", LIBXML_DOTTED_VERSION);
	}
	return 0;
}
