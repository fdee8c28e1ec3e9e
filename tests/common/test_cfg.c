/* test_cfg.c - the table-driven config: defaults, every value type, the
 * file parser and its "path:line: reason" errors, and the command line
 * (overrides, -c, -h, -v, -t, and what is reported on stderr). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jm/cfg.h"
#include "jm/log.h"
#include "jm_test.h"

/* One field of each type. */
struct test_config {
    char *data_dir;
    char *name;
    int64_t max_conn;
    bool verbose;
    int log_level;
    jm_strlist peers;
};

#define CFG(field) offsetof(struct test_config, field)

static const jm_cfg_entry table[] = {
    JM_CFG_STR("data_dir", CFG(data_dir), "/var/lib/jm",
               "where the LMDB files live"),
    JM_CFG_STR("name", CFG(name), NULL, "instance name"),
    JM_CFG_INT("max_conn", CFG(max_conn), 10, 1, 100,
               "most client connections"),
    JM_CFG_BOOL("verbose", CFG(verbose), 0, "log every request"),
    JM_CFG_LEVEL("log_level", CFG(log_level), "info", "least important level"),
    JM_CFG_LIST("peer", CFG(peers), "a peer endpoint"),
    JM_CFG_END,
};

static const jm_cfg_program program = {
    .name = "jm-test",
    .summary = "A program for testing jm_cfg.",
    .version = "9.8.7",
};

struct fixture {
    char dir[256];
    char path[300];
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    jm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/test.conf", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    jm_test_rmtree(f->dir);
    free(f);
    return 0;
}

/* Redirects stdout or stderr into a file for the duration of one call. */
struct capture {
    int fd;
    int saved;
    char path[300];
};

static void
capture_begin(struct capture *c, int fd, const char *dir)
{
    int file;

    fflush(stdout);
    fflush(stderr);
    snprintf(c->path, sizeof(c->path), "%s/capture-%d", dir, fd);
    file = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(file >= 0);
    c->fd = fd;
    c->saved = dup(fd);
    assert_true(c->saved >= 0);
    assert_true(dup2(file, fd) >= 0);
    close(file);
}

/* Caller frees the text. */
static char *
capture_end(struct capture *c)
{
    char *text;

    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(c->saved, c->fd) >= 0);
    close(c->saved);
    text = jm_test_read_file(c->path, NULL);
    assert_non_null(text);
    return text;
}

/* Runs jm_cfg_from_args with stdout and stderr captured. */
static int
run_args(struct fixture *f, struct test_config *cfg, int argc, char **argv,
         char **out, char **err)
{
    struct capture co, ce;
    int rc;

    capture_begin(&co, STDOUT_FILENO, f->dir);
    capture_begin(&ce, STDERR_FILENO, f->dir);
    rc = jm_cfg_from_args(cfg, table, &program, argc, argv);
    *err = capture_end(&ce);
    *out = capture_end(&co);
    return rc;
}

static void
test_defaults(void **state)
{
    struct test_config cfg;

    (void) state;
    memset(&cfg, 0xa5, sizeof(cfg)); /* defaults must set every field */
    jm_cfg_defaults(&cfg, table);
    assert_string_equal(cfg.data_dir, "/var/lib/jm");
    assert_null(cfg.name);
    assert_int_equal(cfg.max_conn, 10);
    assert_false(cfg.verbose);
    assert_int_equal(cfg.log_level, JM_LOG_INFO);
    assert_int_equal(cfg.peers.count, 0);
    assert_non_null(cfg.peers.items);
    assert_null(cfg.peers.items[0]);
    jm_cfg_release(&cfg, table);
    assert_null(cfg.data_dir);
    assert_null(cfg.peers.items);
    jm_cfg_release(&cfg, table); /* twice is harmless */
}

static void
test_set_each_type(void **state)
{
    static const char *const yes[] = {"yes", "true", "on", "1", "YES", "On"};
    static const char *const no[] = {"no", "false", "off", "0", "False"};
    struct test_config cfg;
    char err[256];

    (void) state;
    jm_cfg_defaults(&cfg, table);
    assert_int_equal(
        jm_cfg_set(&cfg, table, "data_dir", "/srv/x", err, sizeof(err)), 0);
    assert_string_equal(cfg.data_dir, "/srv/x");
    assert_int_equal(jm_cfg_set(&cfg, table, "name", "", err, sizeof(err)), 0);
    assert_string_equal(cfg.name, "");
    assert_int_equal(
        jm_cfg_set(&cfg, table, "max_conn", "100", err, sizeof(err)), 0);
    assert_int_equal(cfg.max_conn, 100);
    assert_int_equal(jm_cfg_set(&cfg, table, "max_conn", "1", err, sizeof(err)),
                     0);
    assert_int_equal(cfg.max_conn, 1);
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        cfg.verbose = false;
        assert_int_equal(
            jm_cfg_set(&cfg, table, "verbose", yes[i], err, sizeof(err)), 0);
        assert_true(cfg.verbose);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        cfg.verbose = true;
        assert_int_equal(
            jm_cfg_set(&cfg, table, "verbose", no[i], err, sizeof(err)), 0);
        assert_false(cfg.verbose);
    }
    assert_int_equal(
        jm_cfg_set(&cfg, table, "log_level", "debug", err, sizeof(err)), 0);
    assert_int_equal(cfg.log_level, JM_LOG_DEBUG);
    assert_int_equal(jm_cfg_set(&cfg, table, "peer", "a", err, sizeof(err)), 0);
    assert_int_equal(jm_cfg_set(&cfg, table, "peer", "b", err, sizeof(err)), 0);
    assert_int_equal(cfg.peers.count, 2);
    assert_string_equal(cfg.peers.items[0], "a");
    assert_string_equal(cfg.peers.items[1], "b");
    assert_null(cfg.peers.items[2]);
    jm_cfg_release(&cfg, table);
}

/* Each bad value gives -EINVAL, a reason naming the problem, and leaves
 * the field as it was. */
static void
test_set_errors(void **state)
{
    static const struct {
        const char *key, *value, *reason;
    } cases[] = {
        {"nonsense", "1", "unknown key \"nonsense\""},
        {"data_dir", NULL, "value missing for data_dir"},
        {"max_conn", "ten", "bad integer \"ten\" for max_conn"},
        {"max_conn", "", "bad integer"},
        {"max_conn", " 5", "bad integer"},
        {"max_conn", "5x", "bad integer"},
        {"max_conn", "99999999999999999999", "bad integer"},
        {"max_conn", "0", "max_conn 0 out of bounds (1 to 100)"},
        {"max_conn", "101", "out of bounds"},
        {"max_conn", "-3", "out of bounds"},
        {"verbose", "maybe", "bad boolean \"maybe\" for verbose"},
        {"verbose", "", "bad boolean"},
        {"log_level", "loud", "bad log level \"loud\" for log_level"},
    };
    struct test_config cfg;
    char err[256];

    (void) state;
    jm_cfg_defaults(&cfg, table);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_int_equal(jm_cfg_set(&cfg, table, cases[i].key, cases[i].value,
                                    err, sizeof(err)),
                         -EINVAL);
        if (strstr(err, cases[i].reason) == NULL)
            fail_msg("%s=%s: reason \"%s\", expected \"%s\"", cases[i].key,
                     cases[i].value ? cases[i].value : "(null)", err,
                     cases[i].reason);
    }
    assert_string_equal(cfg.data_dir, "/var/lib/jm");
    assert_int_equal(cfg.max_conn, 10);
    assert_false(cfg.verbose);
    assert_int_equal(cfg.log_level, JM_LOG_INFO);
    /* err may be NULL when the caller does not want the reason. */
    assert_int_equal(jm_cfg_set(&cfg, table, "nonsense", "1", NULL, 0),
                     -EINVAL);
    jm_cfg_release(&cfg, table);
}

static void
test_load_file(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char err[256] = "";

    jm_test_write_file(f->path, "# a comment line\n"
                                "\n"
                                "   # an indented comment\n"
                                "data_dir   /srv/jm data  \n"
                                "name \"  two  blanks  \"\r\n"
                                "\tmax_conn\t42\n"
                                "verbose on\n"
                                "log_level warn\n"
                                "peer tcp://10.0.0.1:7000\n"
                                "peer \"a \"quoted\" peer\"\n"
                                "peer x # not a comment");
    jm_cfg_defaults(&cfg, table);
    assert_int_equal(jm_cfg_load_file(&cfg, table, f->path, err, sizeof(err)),
                     0);
    /* Inner blanks stay; surrounding blanks and the CR go. */
    assert_string_equal(cfg.data_dir, "/srv/jm data");
    assert_string_equal(cfg.name, "  two  blanks  ");
    assert_int_equal(cfg.max_conn, 42);
    assert_true(cfg.verbose);
    assert_int_equal(cfg.log_level, JM_LOG_WARN);
    assert_int_equal(cfg.peers.count, 3);
    assert_string_equal(cfg.peers.items[0], "tcp://10.0.0.1:7000");
    assert_string_equal(cfg.peers.items[1], "a \"quoted\" peer");
    assert_string_equal(cfg.peers.items[2], "x # not a comment");
    jm_cfg_release(&cfg, table);
}

static void
test_load_file_errors(void **state)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"data_dir /x\nbogus 1\n", ":2: unknown key \"bogus\""},
        {"# c\n\nmax_conn\n", ":3: value missing for max_conn"},
        {"max_conn   \n", ":1: value missing for max_conn"},
        {"max_conn lots\n", ":1: bad integer \"lots\" for max_conn"},
        {"max_conn 1000\n", ":1: max_conn 1000 out of bounds (1 to 100)"},
        {"verbose perhaps\n", ":1: bad boolean \"perhaps\" for verbose"},
        {"log_level chatty\n", ":1: bad log level \"chatty\""},
        {"name \"open\n", ":1: unterminated quote in value of name"},
        {"name \"\n", ":1: unterminated quote"},
    };
    struct fixture *f = *state;
    char err[512], want[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_config cfg;

        jm_test_write_file(f->path, cases[i].text);
        jm_cfg_defaults(&cfg, table);
        err[0] = '\0';
        assert_int_equal(
            jm_cfg_load_file(&cfg, table, f->path, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s%s", f->path, cases[i].error);
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("got \"%s\", expected \"%s\"", err, want);
        jm_cfg_release(&cfg, table);
    }
}

/* A check of each value (JM_CFG_*_CHECKED): refused where it is written,
 * with the file's line or the command line, and nothing kept of it. */
static bool
no_upper_case(const char *value, char *why, size_t why_size)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            snprintf(why, why_size, "'%c' is upper case", *p);
            return false;
        }
    }
    return true;
}

static const jm_cfg_entry checked_table[] = {
    /* The default is the table's own: not checked. */
    JM_CFG_STR_CHECKED("name", CFG(name), "DEFAULT", no_upper_case,
                       "instance name"),
    JM_CFG_LIST_CHECKED("peer", CFG(peers), jm_cfg_valid_endpoint,
                        "a peer endpoint"),
    JM_CFG_END,
};

static void
test_checked_values(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char err[512], want[700];

    jm_cfg_defaults(&cfg, checked_table);
    assert_string_equal(cfg.name, "DEFAULT");
    assert_int_equal(
        jm_cfg_set(&cfg, checked_table, "name", "lower", err, sizeof(err)), 0);
    assert_int_equal(
        jm_cfg_set(&cfg, checked_table, "name", "Upper", err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "name \"Upper\": 'U' is upper case");
    assert_string_equal(cfg.name, "lower");
    jm_cfg_release(&cfg, checked_table);

    jm_test_write_file(f->path, "peer tcp://10.0.0.1:7101\n"
                                "# the next one has no port\n"
                                "peer tcp://10.0.0.2\n");
    jm_cfg_defaults(&cfg, checked_table);
    assert_int_equal(
        jm_cfg_load_file(&cfg, checked_table, f->path, err, sizeof(err)),
        -EINVAL);
    snprintf(want, sizeof(want),
             "%s:3: peer \"tcp://10.0.0.2\": want tcp://HOST:PORT (PORT a "
             "number or *)",
             f->path);
    assert_string_equal(err, want);
    assert_int_equal(cfg.peers.count, 1);
    jm_cfg_release(&cfg, checked_table);
}

/* The endpoints the services bind and connect, as ZeroMQ takes them. */
static void
test_valid_endpoint(void **state)
{
    static const char *const good[] = {
        "",
        "tcp://127.0.0.1:7101",
        "tcp://*:7101",
        "tcp://0.0.0.0:*",
        "tcp://intake-101:7102",
        "tcp://[::1]:5",
        "ipc:///run/jobmatch/intake.sock",
        "inproc://api",
    };

    static const struct {
        const char *value, *why;
    } bad[] = {
        {"bogus", "want tcp://HOST:PORT, ipc://PATH or inproc://NAME"},
        {"tcp://127.0.0.1", "want tcp://HOST:PORT"},
        {"tcp://:7101", "want tcp://HOST:PORT"},
        {"tcp://h:0", "from 1 to 65535"},
        {"tcp://h:65536", "from 1 to 65535"},
        {"tcp://h:77x", "from 1 to 65535"},
        {"tcp://127.0.0.1:7101 ", "blank"},
        {"ipc://", "no path"},
        {"udp://h:1", "want tcp://"},
    };

    char why[256];

    (void) state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!jm_cfg_valid_endpoint(good[i], why, sizeof(why)))
            fail_msg("\"%s\" refused: %s", good[i], why);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        if (jm_cfg_valid_endpoint(bad[i].value, why, sizeof(why)))
            fail_msg("\"%s\" accepted", bad[i].value);
        if (strstr(why, bad[i].why) == NULL)
            fail_msg("\"%s\": \"%s\" does not say \"%s\"", bad[i].value, why,
                     bad[i].why);
    }
}

static void
test_load_missing_file(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char err[512], path[320];

    snprintf(path, sizeof(path), "%s/absent.conf", f->dir);
    jm_cfg_defaults(&cfg, table);
    assert_int_equal(jm_cfg_load_file(&cfg, table, path, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, path));
    jm_cfg_release(&cfg, table);
}

static void
test_args_overrides(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char *out, *err;
    char *argv[] = {"jm-test",    "--data-dir", "/a b",        "--max-conn=7",
                    "--verbose",  "yes",        "--log-level", "debug",
                    "--name=",    "--peer",     "p1",          "--peer=p2",
                    "--max_conn", "8",          NULL};

    assert_int_equal(run_args(f, &cfg, 14, argv, &out, &err), 0);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    assert_string_equal(cfg.data_dir, "/a b");
    assert_string_equal(cfg.name, "");
    assert_int_equal(cfg.max_conn, 8); /* later wins; '_' works as well */
    assert_true(cfg.verbose);
    assert_int_equal(cfg.log_level, JM_LOG_DEBUG);
    assert_int_equal(cfg.peers.count, 2);
    assert_string_equal(cfg.peers.items[0], "p1");
    assert_string_equal(cfg.peers.items[1], "p2");
    jm_cfg_release(&cfg, table);
    free(out);
    free(err);
}

static void
test_args_config_file_then_overrides(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char *out, *err;
    /* -c comes last, yet the overrides before it still win. */
    char *argv[] = {"jm-test", "--max-conn", "99", "--peer", "cli1",
                    "--peer",  "cli2",       "-c", f->path,  NULL};
    char *argv_file_only[] = {"jm-test", "--config", f->path, NULL};
    char config_eq[320];
    char *argv_eq[] = {"jm-test", config_eq, "--data-dir=/cli", NULL};

    jm_test_write_file(f->path, "max_conn 5\n"
                                "data_dir /from/file\n"
                                "peer file1\n"
                                "peer file2\n");
    assert_int_equal(run_args(f, &cfg, 9, argv, &out, &err), 0);
    assert_int_equal(cfg.max_conn, 99);
    assert_string_equal(cfg.data_dir, "/from/file");
    /* The first command-line --peer replaced the file's list. */
    assert_int_equal(cfg.peers.count, 2);
    assert_string_equal(cfg.peers.items[0], "cli1");
    assert_string_equal(cfg.peers.items[1], "cli2");
    jm_cfg_release(&cfg, table);
    free(out);
    free(err);

    assert_int_equal(run_args(f, &cfg, 3, argv_file_only, &out, &err), 0);
    assert_int_equal(cfg.max_conn, 5);
    assert_int_equal(cfg.peers.count, 2);
    assert_string_equal(cfg.peers.items[0], "file1");
    jm_cfg_release(&cfg, table);
    free(out);
    free(err);

    snprintf(config_eq, sizeof(config_eq), "--config=%s", f->path);
    assert_int_equal(run_args(f, &cfg, 3, argv_eq, &out, &err), 0);
    assert_string_equal(cfg.data_dir, "/cli");
    assert_int_equal(cfg.max_conn, 5);
    jm_cfg_release(&cfg, table);
    free(out);
    free(err);
}

static void
test_args_empty_list_value_clears(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char *out, *err;
    char *argv[] = {"jm-test", "-c", f->path, "--peer=", NULL};

    jm_test_write_file(f->path, "peer file1\n");
    assert_int_equal(run_args(f, &cfg, 4, argv, &out, &err), 0);
    assert_int_equal(cfg.peers.count, 0);
    assert_null(cfg.peers.items[0]);
    jm_cfg_release(&cfg, table);
    free(out);
    free(err);
}

/* Every bad command line: -EINVAL, nothing on stdout, one reason on
 * stderr, and the config already released. */
static void
test_args_errors(void **state)
{
    struct fixture *f = *state;
    char absent[320], bad_conf[320];
    char *unknown[] = {"jm-test", "--frobnicate", "1", NULL};
    char *unknown_eq[] = {"jm-test", "--frob=1", NULL};
    char *missing_end[] = {"jm-test", "--data-dir", NULL};
    char *missing_next[] = {"jm-test", "--data-dir", "--verbose", "yes", NULL};
    char *positional[] = {"jm-test", "stray", NULL};
    char *single_dash[] = {"jm-test", "-x", NULL};
    char *bad_value[] = {"jm-test", "--max-conn", "500", NULL};
    char *c_missing[] = {"jm-test", "-c", NULL};
    char *c_empty[] = {"jm-test", "--config=", NULL};
    char *c_twice[] = {"jm-test", "-c", "a", "-c", "b", NULL};
    char *c_absent[] = {"jm-test", "-c", absent, NULL};
    char *c_bad[] = {"jm-test", "--data-dir", "/x", "-c", bad_conf, NULL};

    struct {
        char **argv;
        int argc;
        const char *reason;
    } cases[] = {
        {unknown, 3, "jm-test: unknown option --frobnicate"},
        {unknown_eq, 2, "jm-test: unknown option --frob"},
        {missing_end, 2, "jm-test: option --data-dir needs a value"},
        {missing_next, 4, "jm-test: option --data-dir needs a value"},
        {positional, 2, "jm-test: unexpected argument \"stray\""},
        {single_dash, 2, "jm-test: unexpected argument \"-x\""},
        {bad_value, 3, "jm-test: command line: max_conn 500 out of bounds"},
        {c_missing, 2, "jm-test: option -c needs a file name"},
        {c_empty, 2, "jm-test: option --config= needs a file name"},
        {c_twice, 5, "jm-test: only one config file may be given"},
        {c_absent, 3, "jm-test: "},
        {c_bad, 5, "jm-test: "},
    };

    snprintf(absent, sizeof(absent), "%s/absent.conf", f->dir);
    snprintf(bad_conf, sizeof(bad_conf), "%s/bad.conf", f->dir);
    jm_test_write_file(bad_conf, "data_dir /ok\nmax_conn many\n");
    cases[10].reason = absent;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_config cfg;
        char *out, *err;

        assert_int_equal(
            run_args(f, &cfg, cases[i].argc, cases[i].argv, &out, &err),
            -EINVAL);
        assert_string_equal(out, "");
        if (strstr(err, cases[i].reason) == NULL)
            fail_msg("case %zu: stderr \"%s\", expected \"%s\"", i, err,
                     cases[i].reason);
        /* Released already: the caller may just exit. */
        assert_null(cfg.data_dir);
        assert_null(cfg.peers.items);
        jm_cfg_release(&cfg, table);
        if (i == 11) {
            char want[400];

            snprintf(want, sizeof(want), "%s:2: bad integer", bad_conf);
            assert_non_null(strstr(err, want));
        }
        free(out);
        free(err);
    }
}

static void
test_args_help(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char *out, *err;
    char *argv[] = {"jm-test", "--data-dir", "/x", "-h", NULL};
    char *argv_long[] = {"jm-test", "--help", NULL};
    static const char *const expected[] = {
        "Usage: jm-test",
        "A program for testing jm_cfg.",
        "-c, --config FILE",
        "-t, --test-config",
        "-v, --version",
        "-h, --help",
        "--data-dir TEXT",
        "where the LMDB files live (default: \"/var/lib/jm\")",
        "--name TEXT",
        "instance name (default: none)",
        "--max-conn INT",
        "most client connections (default: 10; 1 to 100)",
        "--verbose yes|no",
        "log every request (default: no)",
        "--log-level LEVEL",
        "least important level (default: info;",
        "--peer TEXT",
        "a peer endpoint (default: empty; repeat to add)",
    };

    assert_int_equal(run_args(f, &cfg, 4, argv, &out, &err), 1);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        if (strstr(out, expected[i]) == NULL)
            fail_msg("help lacks \"%s\":\n%s", expected[i], out);
    }
    assert_string_equal(err, "");
    assert_null(cfg.data_dir); /* released: the program exits */
    free(out);
    free(err);

    assert_int_equal(run_args(f, &cfg, 2, argv_long, &out, &err), 1);
    assert_non_null(strstr(out, "Usage: jm-test"));
    free(out);
    free(err);
}

static void
test_args_version(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    char *out, *err;
    char *argv[] = {"jm-test", "-v", NULL};
    char *argv_long[] = {"jm-test", "--version", NULL};

    assert_int_equal(run_args(f, &cfg, 2, argv, &out, &err), 1);
    assert_string_equal(out, "jm-test 9.8.7\n");
    assert_string_equal(err, "");
    free(out);
    free(err);
    assert_int_equal(run_args(f, &cfg, 2, argv_long, &out, &err), 1);
    assert_string_equal(out, "jm-test 9.8.7\n");
    free(out);
    free(err);
}

/* -t prints the effective config; that text is itself a config file that
 * reads back to the same values, including awkward strings. */
static void
test_args_test_config_round_trip(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg, back;
    char *out, *err, printed[320], errbuf[256];
    char *argv[] = {"jm-test",   "-c",         f->path,  "-t",
                    "--verbose", "true",       "--peer", " leading blank",
                    "--peer",    "\"quoted\"", NULL};

    jm_test_write_file(f->path, "max_conn 33\n"
                                "name \"\"\n"
                                "log_level err\n");
    assert_int_equal(run_args(f, &cfg, 10, argv, &out, &err), 1);
    assert_string_equal(err, "");
    assert_non_null(strstr(out, "# where the LMDB files live\n"
                                "data_dir /var/lib/jm\n"));
    assert_non_null(strstr(out, "max_conn 33\n"));
    assert_non_null(strstr(out, "verbose yes\n"));
    assert_non_null(strstr(out, "log_level err\n"));
    assert_non_null(strstr(out, "name \"\"\n"));

    snprintf(printed, sizeof(printed), "%s/printed.conf", f->dir);
    jm_test_write_file(printed, out);
    jm_cfg_defaults(&back, table);
    assert_int_equal(
        jm_cfg_load_file(&back, table, printed, errbuf, sizeof(errbuf)), 0);
    assert_string_equal(back.data_dir, "/var/lib/jm");
    assert_string_equal(back.name, "");
    assert_int_equal(back.max_conn, 33);
    assert_true(back.verbose);
    assert_int_equal(back.log_level, JM_LOG_ERR);
    assert_int_equal(back.peers.count, 2);
    assert_string_equal(back.peers.items[0], " leading blank");
    assert_string_equal(back.peers.items[1], "\"quoted\"");
    jm_cfg_release(&back, table);
    free(out);
    free(err);
}

/* A service's CURVE settings: the allow list only means something with
 * the service's own key pair. */
struct curve_config {
    char *key_file;
    char *allow_file;
    char *plain_principal;
};

#define CURVE_CFG(field) offsetof(struct curve_config, field)

static const jm_cfg_entry curve_table[] = {
    JM_CFG_STR("key_file", CURVE_CFG(key_file), "", "key pair"),
    JM_CFG_STR("allow_file", CURVE_CFG(allow_file), "", "allow list"),
    JM_CFG_STR("plain_principal", CURVE_CFG(plain_principal), "local",
               "who callers are without CURVE"),
    JM_CFG_END,
};

static int
run_curve_args(struct fixture *f, struct curve_config *cfg, int argc,
               char **argv, char **out, char **err)
{
    struct capture co, ce;
    int rc;

    capture_begin(&co, STDOUT_FILENO, f->dir);
    capture_begin(&ce, STDERR_FILENO, f->dir);
    rc = jm_cfg_from_args(cfg, curve_table, &program, argc, argv);
    *err = capture_end(&ce);
    *out = capture_end(&co);
    return rc;
}

/* An allow list without a key pair would leave the sockets plain, every
 * caller the all-powerful plain_principal, and the list ignored without a
 * word: that is a config error (exit 2), from the file or the command
 * line, and -t says so too. */
static void
test_args_allow_file_needs_key_file(void **state)
{
    struct fixture *f = *state;
    char config_arg[320];
    char *alone[] = {"jm-test", "--allow-file", "x.allow", NULL};
    char *from_file[] = {"jm-test", config_arg, NULL};
    char *tested[] = {"jm-test", "--allow-file", "x.allow", "-t", NULL};
    char *emptied_key[] = {"jm-test", config_arg, "--key-file", "", NULL};

    struct {
        char **argv;
        int argc;
    } bad[] = {{alone, 3}, {from_file, 2}, {tested, 4}, {emptied_key, 4}};

    char *both[] = {"jm-test",    "--allow-file", "x.allow",
                    "--key-file", "k.key",        NULL};
    char *key_only[] = {"jm-test", "--key-file", "k.key", NULL};
    char *allow_emptied[] = {"jm-test", config_arg, "--allow-file", "", NULL};
    struct curve_config cfg;
    char *out, *err;

    snprintf(config_arg, sizeof(config_arg), "--config=%s", f->path);
    jm_test_write_file(f->path, "key_file k.key\nallow_file x.allow\n");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i].argv == from_file)
            jm_test_write_file(f->path, "allow_file x.allow\n");
        else
            jm_test_write_file(f->path, "key_file k.key\nallow_file x.allow\n");
        assert_int_equal(
            run_curve_args(f, &cfg, bad[i].argc, bad[i].argv, &out, &err),
            -EINVAL);
        assert_string_equal(out, "");
        if (strstr(err, "jm-test: allow_file needs key_file: ") == NULL)
            fail_msg("case %zu: stderr \"%s\"", i, err);
        assert_null(cfg.allow_file); /* released: the caller just exits */
        free(out);
        free(err);
    }

    jm_test_write_file(f->path, "key_file k.key\nallow_file x.allow\n");
    assert_int_equal(run_curve_args(f, &cfg, 5, both, &out, &err), 0);
    assert_string_equal(err, "");
    jm_cfg_release(&cfg, curve_table);
    free(out);
    free(err);
    assert_int_equal(run_curve_args(f, &cfg, 3, key_only, &out, &err), 0);
    assert_string_equal(err, "");
    jm_cfg_release(&cfg, curve_table);
    free(out);
    free(err);
    /* An empty allow_file is no allow list: plain, as documented. */
    jm_test_write_file(f->path, "allow_file x.allow\n");
    assert_int_equal(run_curve_args(f, &cfg, 4, allow_emptied, &out, &err), 0);
    assert_string_equal(err, "");
    jm_cfg_release(&cfg, curve_table);
    free(out);
    free(err);
}

static void
test_print_unset_and_empty(void **state)
{
    struct fixture *f = *state;
    struct test_config cfg;
    struct capture c;
    char *out;

    jm_cfg_defaults(&cfg, table);
    capture_begin(&c, STDOUT_FILENO, f->dir);
    jm_cfg_print(&cfg, table, stdout);
    out = capture_end(&c);
    assert_non_null(strstr(out, "# name is not set\n"));
    assert_non_null(strstr(out, "# peer is empty\n"));
    assert_non_null(strstr(out, "log_level info\n"));
    assert_non_null(strstr(out, "verbose no\n"));
    free(out);
    jm_cfg_release(&cfg, table);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_set_each_type),
        T(test_set_errors),
        T(test_load_file),
        T(test_load_file_errors),
        T(test_checked_values),
        T(test_valid_endpoint),
        T(test_load_missing_file),
        T(test_args_overrides),
        T(test_args_config_file_then_overrides),
        T(test_args_empty_list_value_clears),
        T(test_args_errors),
        T(test_args_help),
        T(test_args_version),
        T(test_args_test_config_round_trip),
        T(test_print_unset_and_empty),
        T(test_args_allow_file_needs_key_file),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
