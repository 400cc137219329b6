// The rootless preamble runs as an ELF constructor, before the Go runtime starts any thread: setns(2) into
// a user namespace is only allowed for a single-threaded process. It joins the user and mount namespaces
// held by the pause process, so that every skiff call after the first pays a few syscalls instead of a
// re-exec. It never creates the namespace: that is the Go side's job (rootless/userns_linux.go), which
// then re-executes skiff once, and this code joins.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "preamble.h"

static int joined;            // 1 when this process joined the pause process's namespaces
static int inherited;         // 1 when a parent skiff had already configured the namespace
static int pause_alive;       // 1 when a live pause process was found
static uid_t orig_uid;
static gid_t orig_gid;
static char runtime_dir[PATH_MAX];
static char err_msg[1024];

int skiff_joined(void) { return joined || inherited; }
int skiff_inherited(void) { return inherited; }
int skiff_pause_alive(void) { return pause_alive; }
unsigned int skiff_orig_uid(void) { return orig_uid; }
unsigned int skiff_orig_gid(void) { return orig_gid; }
const char *skiff_runtime_dir(void) { return runtime_dir; }
const char *skiff_preamble_error(void) { return err_msg; }

// Commands that never need the user namespace: they must stay fast and must work when it cannot be made.
static const char *no_userns_cmds[] = {
    "version", "help", "completion", "__complete", "__completeNoDesc", "login", "logout", NULL,
};

// Global flags that take a separate value: skipped while looking for the subcommand.
static const char *value_flags[] = {
    "--root", "--runroot", "--storage-driver", "--storage-opt", "--runtime", "--log-level",
    "--cgroup-manager", "--tmpdir", "--network-cmd-path", "--events-backend", "--conmon", "--url",
    "--connection", "-c", "--identity", "--module", "--hooks-dir", "--network-config-dir",
    "--runtime-flag", "--volumepath", "--imagestore", "--ssh", NULL,
};

static int in_list(const char *s, const char **list) {
  for (int i = 0; list[i]; i++)
    if (strcmp(s, list[i]) == 0)
      return 1;
  return 0;
}

// needs_userns decides from argv whether the command works on containers or storage. When unsure it
// answers yes: joining costs a few syscalls, while skipping it would make storage unreadable.
static int needs_userns(int argc, char **argv) {
  const char *sub = NULL, *sub2 = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--version") == 0 ||
        strcmp(a, "-v") == 0)
      return 0;
    if (a[0] == '-') {
      if (sub == NULL && strchr(a, '=') == NULL && in_list(a, value_flags))
        i++;
      continue;
    }
    if (sub == NULL)
      sub = a;
    else if (sub2 == NULL) {
      sub2 = a;
      break;
    }
  }
  if (sub == NULL)
    return 0; // bare "skiff" prints help
  if (in_list(sub, no_userns_cmds))
    return 0;
  if (strcmp(sub, "system") == 0 && sub2 && strcmp(sub2, "migrate") == 0)
    return 0; // migrate stops the pause process: joining it first would be pointless
  if (strcmp(sub, "system") == 0 && sub2 == NULL)
    return 0;
  return 1;
}

// setup_runtime_dir picks $XDG_RUNTIME_DIR when it is a directory of ours, else a private directory under
// /tmp (users started with su have none), and exports it so that every library agrees on it.
static int setup_runtime_dir(uid_t uid) {
  struct stat st;
  const char *x = getenv("XDG_RUNTIME_DIR");
  if (x && x[0] == '/' && stat(x, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
      access(x, W_OK | X_OK) == 0 && strlen(x) < sizeof(runtime_dir)) {
    strcpy(runtime_dir, x);
    return 0;
  }
  snprintf(runtime_dir, sizeof(runtime_dir), "/tmp/skiff-run-%u", (unsigned)uid);
  if (mkdir(runtime_dir, 0700) < 0 && errno != EEXIST) {
    snprintf(err_msg, sizeof(err_msg), "cannot create runtime directory %s: %s", runtime_dir,
             strerror(errno));
    return -1;
  }
  if (lstat(runtime_dir, &st) < 0) {
    snprintf(err_msg, sizeof(err_msg), "runtime directory %s: %s", runtime_dir, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
    snprintf(err_msg, sizeof(err_msg),
             "runtime directory %s is not a private directory owned by uid %u (someone else may have "
             "made it): remove it, or set XDG_RUNTIME_DIR to a directory of yours",
             runtime_dir, (unsigned)uid);
    return -1;
  }
  setenv("XDG_RUNTIME_DIR", runtime_dir, 1);
  return 0;
}

// proc_start_time reads field 22 of /proc/PID/stat: with the pid it names one process for good, so a pid
// file left by a dead pause process whose pid was reused is recognised as stale.
unsigned long long skiff_proc_start_time(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); // the command name may hold spaces and parentheses
  if (!p)
    return 0;
  p++; // the space before field 3 (state); the start time is field 22
  for (int field = 3; field < 22; field++) {
    p = strchr(p + 1, ' ');
    if (!p)
      return 0;
  }
  return strtoull(p + 1, NULL, 10);
}

static int read_pause_pid(void) {
  char path[PATH_MAX + 32], buf[128];
  snprintf(path, sizeof(path), "%s/skiff/pause.pid", runtime_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = 0;
  int pid = 0;
  unsigned long long start = 0;
  if (sscanf(buf, "%d %llu", &pid, &start) != 2 || pid <= 0)
    return -1;
  if (skiff_proc_start_time(pid) != start)
    return -1; // dead, or the pid belongs to another process now
  return pid;
}

static int join(int pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
  int userfd = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
  int mntfd = open(path, O_RDONLY | O_CLOEXEC);
  if (userfd < 0 || mntfd < 0) {
    if (userfd >= 0)
      close(userfd);
    if (mntfd >= 0)
      close(mntfd);
    return -1; // it died in between: treated like a stale pid file
  }
  if (setns(userfd, CLONE_NEWUSER) < 0 || setns(mntfd, CLONE_NEWNS) < 0) {
    snprintf(err_msg, sizeof(err_msg), "cannot join the user namespace of pause process %d: %s", pid,
             strerror(errno));
    close(userfd);
    close(mntfd);
    return -2;
  }
  close(userfd);
  close(mntfd);
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    snprintf(err_msg, sizeof(err_msg), "cannot become root in the user namespace: %s", strerror(errno));
    return -2;
  }
  return 0;
}

static void export_ids(void) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%u", (unsigned)orig_uid);
  setenv("_CONTAINERS_ROOTLESS_UID", buf, 1);
  snprintf(buf, sizeof(buf), "%u", (unsigned)orig_gid);
  setenv("_CONTAINERS_ROOTLESS_GID", buf, 1);
  setenv("_CONTAINERS_USERNS_CONFIGURED", "done", 1);
}

// pause_forever is the built-in pause process, used where catatonit is not installed: no Go runtime, so it
// costs a few hundred kilobytes.
static void pause_forever(void) {
  sigset_t set;
  sigfillset(&set);
  sigdelset(&set, SIGTERM);
  sigdelset(&set, SIGKILL);
  sigprocmask(SIG_SETMASK, &set, NULL);
  signal(SIGTERM, SIG_DFL);
  for (;;)
    pause();
}

__attribute__((constructor)) static void skiff_preamble(int argc, char **argv, char **envp) {
  (void)envp;
  if (argc >= 2 && strcmp(argv[1], "__pause") == 0)
    pause_forever();

  const char *configured = getenv("_CONTAINERS_USERNS_CONFIGURED");
  const char *ruid = getenv("_CONTAINERS_ROOTLESS_UID");
  if (configured && *configured && ruid && *ruid && geteuid() == 0) {
    // A child of a skiff that joined already (skiff-shim's cleanup, skiff unshare): nothing to do.
    orig_uid = (uid_t)strtoul(ruid, NULL, 10);
    const char *rgid = getenv("_CONTAINERS_ROOTLESS_GID");
    orig_gid = rgid ? (gid_t)strtoul(rgid, NULL, 10) : 0;
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && strlen(x) < sizeof(runtime_dir))
      strcpy(runtime_dir, x);
    inherited = 1;
    return;
  }
  orig_uid = geteuid();
  orig_gid = getegid();
  if (orig_uid == 0)
    return; // rootful: no namespace to join
  if (setup_runtime_dir(orig_uid) < 0)
    return;
  const char *force = getenv("_SKIFF_JOIN");
  if (!(force && *force) && !needs_userns(argc, argv))
    return;
  unsetenv("_SKIFF_JOIN");
  int pid = read_pause_pid();
  if (pid < 0)
    return; // no live pause process: the Go side makes one and re-executes
  pause_alive = 1;
  if (join(pid) == 0) {
    joined = 1;
    export_ids();
  }
}
