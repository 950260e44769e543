#include "cli/cli.h"

void cli_usage(FILE *f)
{
	fputs("usage: keyless <command> [options]\n"
	      "\n"
	      "keyless gives every Kubernetes workload its own scoped AWS IAM role, from\n"
	      "WorkloadIdentity resources.\n"
	      "\n"
	      "commands:\n"
	      "  controller [options]  run the controller (see keyless controller --help)\n"
	      "  iam-policy --settings FILE  print the IAM policy keyless needs (see --help)\n"
	      "  render -f FILE        what keyless would make for the WorkloadIdentities in FILE,\n"
	      "                        offline (see --help)\n"
	      "  audit queries --settings FILE  CloudTrail queries for the roles keyless manages\n"
	      "  doctor [-n NS] (pod|serviceaccount|workloadidentity)/NAME  name the broken link of\n"
	      "                        the IRSA chain (see --help)\n"
	      "  version [--verbose]   print the version (and linked library versions)\n"
	      "  help                  print this help\n"
	      "\n"
	      "options:\n"
	      "  -h, --help            print this help\n"
	      "  --version             same as `keyless version`\n",
	      f);
}
