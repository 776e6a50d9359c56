/* hikectl: command-line client of hiked's control socket. */
#include "hikectl.h"

#include "config/config.h" /* HK_CONF_CONTROL_SOCKET */

#include <getopt.h>
#include <string.h>

static const struct hikectl_cmd *const commands[] = {
    &hikectl_cmd_list_sas, &hikectl_cmd_list_conns, &hikectl_cmd_initiate, &hikectl_cmd_terminate,
    &hikectl_cmd_rekey,    &hikectl_cmd_reload,     &hikectl_cmd_stats,    &hikectl_cmd_log_level,
    &hikectl_cmd_clone,    &hikectl_cmd_migrate,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void help(FILE *f)
{
    fprintf(f,
            "usage: hikectl [-s SOCKET] [--json] COMMAND [ARGS]\n"
            "Talks to hiked over its control socket.\n\n"
            "Options:\n"
            "  -s, --socket SOCKET  hiked's control socket (default " HK_CONF_CONTROL_SOCKET ")\n"
            "  -j, --json           print hiked's result as JSON instead of a table\n"
            "  -h, --help           this help\n\n"
            "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char syn[64];
        snprintf(syn, sizeof(syn), "%s%s%s", commands[i]->name, *commands[i]->args ? " " : "",
                 commands[i]->args);
        fprintf(f, "  %-22s %s\n", syn, commands[i]->help);
    }
    fprintf(f, "  %-22s %s\n", "help", "this help");
    fprintf(f, "\nExit status: 0 done, 1 hiked unreachable or the command failed, "
               "2 usage error.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         /* Arguments of migrate: read here, since getopt
                                          * permutes them out of the command's argv. */
                                         {"local", required_argument, NULL, 'L'},
                                         {"remote", required_argument, NULL, 'R'},
                                         {NULL, 0, NULL, 0}};
    struct hikectl ctx = {.socket = HK_CONF_CONTROL_SOCKET};
    int opt;
    /* Options may follow the command too ("hikectl list-sas --json"): getopt permutes. */
    while ((opt = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            ctx.socket = optarg;
            break;
        case 'j':
            ctx.json = true;
            break;
        case 'h':
            help(stdout);
            return HIKECTL_OK;
        case 'L':
            ctx.local = optarg;
            break;
        case 'R':
            ctx.remote = optarg;
            break;
        default:
            fprintf(stderr, "Try 'hikectl --help'.\n");
            return HIKECTL_USAGE;
        }
    }
    if (optind >= argc) {
        help(stderr);
        return HIKECTL_USAGE;
    }
    const char *name = argv[optind];
    if (!strcmp(name, "help")) {
        help(stdout);
        return HIKECTL_OK;
    }
    if ((ctx.local || ctx.remote) && strcmp(name, hikectl_cmd_migrate.name)) {
        fprintf(stderr, "hikectl: --local and --remote go with migrate only\n");
        return HIKECTL_USAGE;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i]->name, name))
            return commands[i]->run(&ctx, argc - optind, argv + optind);
    fprintf(stderr, "hikectl: unknown command '%s'. Try 'hikectl --help'.\n", name);
    return HIKECTL_USAGE;
}
