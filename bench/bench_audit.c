/*
 * bench_audit.c - how fast `zguard audit` reads code: lines scanned per
 * second, on one core, over a generated tree of about 200,000 lines of C,
 * C++ and Python (a third each) where one function in four makes and uses
 * a ZeroMQ socket and the rest is ordinary code the parser must still get
 * through. The target is 100,000 lines/s.
 *
 *   build/bench/bench_audit            the full tree, best of 3 runs
 *   build/bench/bench_audit --quick    a tenth of it, one run (CI smoke)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli_clock.h"
#include "cli_opt.h"

#define FILES_PER_LANG 60
#define TARGET_LINES_PER_S 100000.0

/* Each writer emits one function numbered i: templates stay literal
 * format strings, which the compiler checks. */
static void c_socket(FILE *f, int i)
{
    fprintf(f, "void *make_%d(void *ctx)\n{\n"
               "    void *s = zmq_socket(ctx, ZMQ_PUSH);\n"
               "    int hwm = 1000;\n"
               "    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);\n"
               "    zmq_connect(s, \"tcp://server:%d\");\n"
               "    zmq_send(s, \"x\", 1, 0);\n"
               "    return s;\n}\n\n", i, 5000 + i);
}

static void c_plain(FILE *f, int i)
{
    fprintf(f, "static int work_%d(const int *v, size_t n)\n{\n"
               "    int total = 0;\n"
               "    for (size_t i = 0; i < n; i++) {\n"
               "        if (v[i] %% 2 == 0)\n"
               "            total += v[i] * %d;\n"
               "        else\n"
               "            total -= v[i];\n"
               "    }\n    return total;\n}\n\n", i, i);
}

static void cpp_socket(FILE *f, int i)
{
    fprintf(f, "void Worker::run_%d(zmq::context_t &ctx)\n{\n"
               "    zmq::socket_t s{ctx, zmq::socket_type::dealer};\n"
               "    s.set(zmq::sockopt::rcvtimeo, 1000);\n"
               "    s.connect(\"tcp://server:%d\");\n"
               "    zmq::message_t m;\n"
               "    auto r = s.recv(m, zmq::recv_flags::none);\n"
               "    (void)r;\n}\n\n", i, 5000 + i);
}

static void cpp_plain(FILE *f, int i)
{
    fprintf(f, "template <typename T> T Stats::mean_%d(const std::vector<T> &v) const\n{\n"
               "    T sum{};\n"
               "    for (const auto &x : v)\n"
               "        sum += x * %d;\n"
               "    return v.empty() ? T{} : sum / static_cast<T>(v.size());\n}\n\n",
            i, i);
}

static void py_socket(FILE *f, int i)
{
    fprintf(f, "def serve_%d(ctx):\n"
               "    s = ctx.socket(zmq.REP)\n"
               "    s.rcvtimeo = 1000\n"
               "    s.bind(\"tcp://127.0.0.1:%d\")\n"
               "    return s.recv_json()\n\n\n", i, 5000 + i);
}

static void py_plain(FILE *f, int i)
{
    fprintf(f, "def transform_%d(rows):\n"
               "    out = []\n"
               "    for row in rows:\n"
               "        if row.get('kind') == 'a':\n"
               "            out.append({'id': row['id'], 'v': row['v'] * %d})\n"
               "        else:\n"
               "            out.append(row)\n"
               "    return out\n\n\n", i, i);
}

typedef void(writer_fn)(FILE *f, int i);

typedef struct lang_gen {
    const char *ext, *header;
    writer_fn *with_socket, *plain;
} lang_gen_t;

static const lang_gen_t gens[] = {
    {"c", "#include <zmq.h>\n#include <stddef.h>\n\n", c_socket, c_plain},
    {"cpp", "#include <zmq.hpp>\n#include <vector>\n\n", cpp_socket, cpp_plain},
    {"py", "import zmq\n\n\n", py_socket, py_plain},
};

/* zeromq: whether the file uses ZeroMQ at all (one function in four) */
static int write_file(const char *path, const lang_gen_t *g, int functions, int zeromq)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "bench_audit: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (zeromq)
        fputs(g->header, f);
    for (int i = 0; i < functions; i++)
        (zeromq && i % 4 == 0 ? g->with_socket : g->plain)(f, i);
    return fclose(f);
}

/* every: every file uses ZeroMQ, so every line is parsed; otherwise one
 * file in four does, as in a codebase where ZeroMQ is one module */
static int generate(const char *root, int functions, int every)
{
    char path[512];
    for (size_t l = 0; l < sizeof gens / sizeof gens[0]; l++) {
        snprintf(path, sizeof path, "%s/%s", root, gens[l].ext);
        if (mkdir(path, 0700) != 0)
            return -1;
        for (int k = 0; k < FILES_PER_LANG; k++) {
            snprintf(path, sizeof path, "%s/%s/gen%03d.%s", root, gens[l].ext, k,
                     gens[l].ext);
            if (write_file(path, &gens[l], functions, every || k % 4 == 0) != 0)
                return -1;
        }
    }
    return 0;
}


/* One full audit; returns lines per second, or -1. */
static double run(au_engine_t *e, const char *root, size_t *lines, size_t *sockets)
{
    au_result_t *r = au_result_new();
    if (!r)
        return -1;
    double t0 = cli_now();
    int rc = au_scan_path(e, r, root);
    au_result_finish(r);
    double secs = cli_now() - t0;
    *lines = r->lines;
    *sockets = r->nsockets;
    au_result_destroy(&r);
    return rc == 0 && secs > 0 ? (double)*lines / secs : -1;
}

static void cleanup(const char *root)
{
    char path[512];
    for (size_t l = 0; l < sizeof gens / sizeof gens[0]; l++) {
        for (int k = 0; k < FILES_PER_LANG; k++) {
            snprintf(path, sizeof path, "%s/%s/gen%03d.%s", root, gens[l].ext, k,
                     gens[l].ext);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/%s", root, gens[l].ext);
        rmdir(path);
    }
    rmdir(root);
}

static int measure(const char *what, int functions, int every, int runs)
{
    char root[] = "/tmp/zguard-bench-audit-XXXXXX";
    if (!mkdtemp(root)) {
        perror("bench_audit: mkdtemp");
        return -1;
    }
    char err[256];
    au_engine_t *e = NULL;
    if (generate(root, functions, every) != 0 || !(e = au_engine_new(NULL, err, sizeof err))) {
        fprintf(stderr, "bench_audit: %s\n", e ? "cannot generate the tree" : err);
        cleanup(root);
        return -1;
    }
    double best = 0;
    size_t lines = 0, sockets = 0;
    for (int i = 0; i < runs; i++) {
        double lps = run(e, root, &lines, &sockets);
        if (lps < 0) {
            fprintf(stderr, "bench_audit: the audit failed\n");
            break;
        }
        best = lps > best ? lps : best;
    }
    printf("zguard audit, %s: %zu lines of C, C++, Python, %zu sockets: %.0f lines/s on "
           "one core (target %.0f: %s)\n", what, lines, sockets, best, TARGET_LINES_PER_S,
           best >= TARGET_LINES_PER_S ? "met" : "not met");
    au_engine_destroy(&e);
    cleanup(root);
    return best > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"quick", 0, NULL, 'q'}, {NULL, 0, NULL, 0}};
    cli_opts_t p = {.cmd = "bench_audit", .table = opts, .argc = argc, .argv = argv};
    bool quick = false;
    if (cli_wants_help(argc, argv)) {
        puts("usage: bench_audit [--quick]   lines per second zguard audit scans");
        return 0;
    }
    for (int c; (c = cli_opt_next(&p)) != CLI_OPT_END;) {
        if (c == CLI_OPT_ERROR)
            return CLI_EXIT_USAGE;
        quick = true;
    }
    if (p.nargs)
        return cli_usage_error(p.cmd, "unexpected argument '%s'", cli_opt_args(&p)[0]);
    /* ~115 functions of ~9.5 lines a file: 60 files x 3 languages x ~1100 lines */
    int functions = quick ? 12 : 115, runs = quick ? 1 : 3;
    int rc = measure("every file uses ZeroMQ (every line parsed)", functions, 1, runs);
    rc |= measure("one file in four uses ZeroMQ", functions, 0, runs);
    return rc ? 1 : 0;
}
