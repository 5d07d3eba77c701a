/* unit_sandbox.c -- run a command under the seccomp part of the systemd
 * unit's sandbox, for tests on machines where systemd is not PID 1.
 *
 * usage: unit_sandbox NR,NR,... -- COMMAND [ARG...]
 *
 * Installs, with no_new_privs, a seccomp filter that mirrors what systemd
 * 252 builds for debian/shortcoded.service (src/shared/seccomp-util.c):
 *   SystemCallFilter=  only the listed x86_64 system call numbers (the
 *                      test expands @system-service minus @privileged
 *                      @resources with `systemd-analyze syscall-filter`);
 *                      any other call fails with EPERM
 *                      (SystemCallErrorNumber=EPERM)
 *   SystemCallArchitectures=native: other ABIs (i386, x32) fail with EPERM
 *   MemoryDenyWriteExecute=yes: mmap with PROT_WRITE|PROT_EXEC, mprotect
 *                      and pkey_mprotect with PROT_EXEC, shmat with
 *                      SHM_EXEC fail with EPERM
 *   RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX: socket() of any other
 *                      family fails with EAFNOSUPPORT
 *   RestrictNamespaces=yes: clone3 fails with ENOSYS (glibc then uses
 *                      clone), clone and unshare with a CLONE_NEW* flag EPERM
 * then execs COMMAND. The other directives (mounts, users, capabilities)
 * are not emulated; tests/integration/test_package.py says which. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_NRS 1024
#define MAX_PROG 4096
#define X32_BIT 0x40000000u
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
                  CLONE_NEWNET | CLONE_NEWCGROUP)

struct prog {
    struct sock_filter ins[MAX_PROG];
    unsigned short n;
};

static void emit(struct prog *p, struct sock_filter f)
{
    if (p->n >= MAX_PROG) {
        fprintf(stderr, "unit_sandbox: filter too long\n");
        exit(2);
    }
    p->ins[p->n++] = f;
}

#define LD_NR() BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 8 * (i))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define RET_ERRNO(e) RET(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* if (nr == call && (arg & mask) == want) return errno; nr reloaded after. */
static void deny_arg(struct prog *p, unsigned call, int arg, unsigned mask, unsigned want, int err)
{
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, call, 0, 5));
    emit(p, (struct sock_filter)LD_ARG(arg));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, want, 0, 1));
    emit(p, (struct sock_filter)RET_ERRNO(err));
    emit(p, (struct sock_filter)LD_NR());
}

/* socket(): families other than the three fail with EAFNOSUPPORT. */
static void restrict_families(struct prog *p)
{
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 6));
    emit(p, (struct sock_filter)LD_ARG(0));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 3, 0));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 2, 0));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0));
    emit(p, (struct sock_filter)RET_ERRNO(EAFNOSUPPORT));
    emit(p, (struct sock_filter)LD_NR());
}

/* Parses "0,1,2" into nrs. Returns the count, or -1. */
static int parse_nrs(const char *s, unsigned *nrs)
{
    int n = 0;
    while (*s) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v >= X32_BIT || n >= MAX_NRS || (*end && *end != ','))
            return -1;
        nrs[n++] = (unsigned)v;
        s = *end ? end + 1 : end;
    }
    return n;
}

static void build(struct prog *p, const unsigned *nrs, int n)
{
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    emit(p, (struct sock_filter)RET_ERRNO(EPERM));
    emit(p, (struct sock_filter)LD_NR());
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1));
    emit(p, (struct sock_filter)RET_ERRNO(EPERM));
    deny_arg(p, __NR_mmap, 2, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC, EPERM);
    deny_arg(p, __NR_mprotect, 2, PROT_EXEC, PROT_EXEC, EPERM);
    deny_arg(p, __NR_pkey_mprotect, 2, PROT_EXEC, PROT_EXEC, EPERM);
    deny_arg(p, __NR_shmat, 2, SHM_EXEC, SHM_EXEC, EPERM);
    restrict_families(p);
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1));
    emit(p, (struct sock_filter)RET_ERRNO(ENOSYS));
    /* any namespace flag: EPERM; the test below is "flags & NS_FLAGS != 0" */
    for (int k = 0; k < 2; k++) {
        unsigned call = k ? __NR_unshare : __NR_clone;
        emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, call, 0, 4));
        emit(p, (struct sock_filter)LD_ARG(0));
        emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1));
        emit(p, (struct sock_filter)RET_ERRNO(EPERM));
        emit(p, (struct sock_filter)LD_NR());
    }
    for (int i = 0; i < n; i++) {
        emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i], 0, 1));
        emit(p, (struct sock_filter)RET(SECCOMP_RET_ALLOW));
    }
    emit(p, (struct sock_filter)RET_ERRNO(EPERM));
}

int main(int argc, char **argv)
{
    static unsigned nrs[MAX_NRS];
    static struct prog p;
    int n = argc >= 4 && strcmp(argv[2], "--") == 0 ? parse_nrs(argv[1], nrs) : -1;
    if (n <= 0) {
        fprintf(stderr, "usage: unit_sandbox NR,NR,... -- COMMAND [ARG...]\n");
        return 2;
    }
    build(&p, nrs, n);
    struct sock_fprog fprog = {.len = p.n, .filter = p.ins};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
        perror("unit_sandbox: seccomp");
        return 2;
    }
    execv(argv[3], argv + 3);
    perror("unit_sandbox: execv");
    return 127;
}
