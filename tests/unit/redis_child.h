/* redis_child.h -- for unit tests that need a real redis-server: start one
 * as a child process on a free loopback port (killed with the test, even
 * if it crashes), wait for it, kill it; a temporary directory for its
 * files. Include after <cmocka.h>; each test program includes it once.
 * group_setup / group_teardown go to cmocka_run_group_tests. */
#ifndef SC_TEST_REDIS_CHILD_H
#define SC_TEST_REDIS_CHILD_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "base/sc.h"

static char g_dir[64];
static pid_t g_pids[16];

static void track(pid_t pid)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(g_pids); i++)
        if (g_pids[i] == 0) {
            g_pids[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(g_pids); i++)
        if (g_pids[i] == pid)
            g_pids[i] = 0;
}

static void srv_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    untrack(pid);
}

static void kill_all(void)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(g_pids); i++)
        if (g_pids[i] > 0)
            srv_kill(g_pids[i]);
}

/* A loopback port that stays ours until the test program exits: the socket
 * the kernel chose it for stays bound (SO_REUSEADDR, never listening, not
 * inherited), so Linux gives it to no other bind(0) or outgoing connect,
 * while redis-server (SO_REUSEADDR too) can listen on it, restarts
 * included. Closing it first let a parallel test take the port before the
 * child bound it (tests/integration/harness.py does the same). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port); /* fd kept open on purpose */
}

/* Start redis-server on port with extra arguments (NULL-terminated list);
 * does not wait for it. */
static pid_t srv_spawn(int port, const char *const *extra)
{
    char portstr[16], logf[PATH_MAX], dbf[64];
    const char *argv[40];
    int n = 0;
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(logf, sizeof logf, "%s/redis-%d.log", g_dir, port);
    snprintf(dbf, sizeof dbf, "dump-%d.rdb", port);
    argv[n++] = "redis-server";
    argv[n++] = "--port";
    argv[n++] = portstr;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = g_dir;
    argv[n++] = "--dbfilename";
    argv[n++] = dbf;
    argv[n++] = "--logfile";
    argv[n++] = logf;
    argv[n++] = "--daemonize";
    argv[n++] = "no";
    argv[n++] = "--enable-debug-command"; /* redis >= 7 refuses DEBUG otherwise */
    argv[n++] = "yes";
    for (int i = 0; extra && extra[i] && n < 39; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Dies with us, even if we are killed (timeout, crash). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
        }
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    track(pid);
    return pid;
}

/* Blocking wait (the loop is not running) until the server answers. */
static void srv_wait_up(pid_t pid, int port)
{
    for (int i = 0; i < 1000; i++) { /* 10 s */
        struct timeval tv = {1, 0};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r != NULL; /* PONG or NOAUTH: it is up */
            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return;
        } else if (c) {
            redisFree(c);
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            untrack(pid);
            fail_msg("redis-server exited at start (see %s/redis-%d.log)", g_dir, port);
        }
        usleep(10000);
    }
    fail_msg("redis-server on port %d did not come up", port);
}

static pid_t srv_start(int port, const char *const *extra)
{
    pid_t pid = srv_spawn(port, extra);
    srv_wait_up(pid, port);
    return pid;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sc_redis_child.XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kill_all();
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *e;
        char p[PATH_MAX];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
        rmdir(g_dir);
    }
    return 0;
}

#endif
