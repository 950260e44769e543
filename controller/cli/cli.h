/* cli.h: the keyless subcommands. Each takes argc/argv starting at the
 * subcommand name and returns a process exit status (0 ok, 1 failure,
 * 2 usage error). Only main() exits. */
#ifndef KEYLESS_CLI_H
#define KEYLESS_CLI_H

#include <stdio.h>

/* Print the top-level usage to f. */
void cli_usage(FILE *f);

/* `keyless version`: version and the linked library versions. */
int cli_version(int argc, char **argv);

/* `keyless controller`: leader election, informers, reconcile workers. */
int cli_controller(int argc, char **argv);

/* `keyless iam-policy`: the IAM policy keyless needs for a settings file. */
int cli_iam_policy(int argc, char **argv);

/* `keyless render`: what keyless would make for the WorkloadIdentities in a file, offline. */
int cli_render(int argc, char **argv);

/* `keyless audit queries`: CloudTrail queries for this cluster's roles. */
int cli_audit(int argc, char **argv);

/* `keyless doctor`: walk the IRSA chain and name the broken link. */
int cli_doctor(int argc, char **argv);

#endif
