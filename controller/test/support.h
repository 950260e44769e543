/* support.h: includes every cmocka test needs, in the order cmocka wants. */
#ifndef KEYLESS_TEST_SUPPORT_H
#define KEYLESS_TEST_SUPPORT_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "base/macros.h"

/* Read a file under controller/test/testdata/ (path relative to it) into a
 * malloc'd NUL-terminated buffer; fails the test if missing. */
char *test_read_file(const char *rel, size_t *ret_len);

/* A private temporary folder per test group: pass test_tmpdir_setup and
 * test_tmpdir_teardown to cmocka_run_group_tests; test_write_file writes a
 * file in it and returns its path (valid for the next 7 calls). */
extern char test_tmpdir[64];
int test_tmpdir_setup(void **state);
int test_tmpdir_teardown(void **state);
const char *test_write_file(const char *name, const char *content);

/* JSON text written with ' for " (readable tables); a new value. */
json_t *test_sq_json(const char *sq);
/* A WorkloadIdentity in namespace "ns", name "wi", generation 1, whose spec
 * is test_sq_json(spec_sq); a new value. */
json_t *test_wi_with_spec(const char *spec_sq);
/* Operator settings from YAML (fails the test if they do not parse). */
struct settings *test_settings(const char *yaml);

#endif
