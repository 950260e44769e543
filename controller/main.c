/* keyless: entry point. Parses the subcommand and dispatches to cli/; the only
 * place that exits the process. */
#include <stdio.h>
#include <string.h>

#include "base/macros.h"
#include "cli/cli.h"

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (streq(cmd, "-h") || streq(cmd, "--help") || streq(cmd, "help")) {
		cli_usage(stdout);
		return 0;
	}
	if (streq(cmd, "--version"))
		return cli_version(1, argv + 1);
	if (streq(cmd, "version"))
		return cli_version(argc - 1, argv + 1);
	if (streq(cmd, "controller"))
		return cli_controller(argc - 1, argv + 1);
	if (streq(cmd, "iam-policy"))
		return cli_iam_policy(argc - 1, argv + 1);
	if (streq(cmd, "render"))
		return cli_render(argc - 1, argv + 1);
	if (streq(cmd, "audit"))
		return cli_audit(argc - 1, argv + 1);
	if (streq(cmd, "doctor"))
		return cli_doctor(argc - 1, argv + 1);

	fprintf(stderr, "keyless: unknown command '%s'\n\n", cmd);
	cli_usage(stderr);
	return 2;
}
