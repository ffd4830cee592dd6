/* Configuration, log, request encoding and framing (see wire.h). */
#define _GNU_SOURCE
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- configuration ---- */

static void set(char *dst, size_t cap, const char *v) {
  size_t n = strlen(v);
  if (n >= cap) n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

static int read_credential_file(cfg *c, const char *path) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  char line[128];
  int ok = fgets(line, sizeof line, f) != NULL;
  fclose(f);
  if (!ok) return -1;
  set(c->credential, sizeof c->credential, trim(line));
  return 0;
}

static int parse_file(cfg *c, const char *path, int *found) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return 0;
  *found = 1;
  char line[1024];
  int rc = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    char *s = trim(line);
    if (*s == '\0' || *s == '#') continue;
    char *eq = strchr(s, '=');
    if (eq == NULL) continue;
    *eq = '\0';
    char *k = trim(s), *v = trim(eq + 1);
    if (strcmp(k, "socket") == 0) set(c->socket, sizeof c->socket, v);
    else if (strcmp(k, "credential") == 0) set(c->credential, sizeof c->credential, v);
    else if (strcmp(k, "credential_file") == 0) {
      if (read_credential_file(c, v) != 0) rc = -1;
    } else if (strcmp(k, "purpose") == 0) set(c->purpose, sizeof c->purpose, v);
    else if (strcmp(k, "requester") == 0) set(c->requester, sizeof c->requester, v);
    else if (strcmp(k, "log") == 0) set(c->log, sizeof c->log, v);
    else if (strcmp(k, "quiet") == 0) c->quiet = strcmp(v, "1") == 0 || strcmp(v, "yes") == 0;
  }
  fclose(f);
  return rc;
}

static void program_name(char *out, size_t cap) {
  char exe[256];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    set(out, cap, "unknown program");
    return;
  }
  exe[n] = '\0';
  const char *base = strrchr(exe, '/');
  set(out, cap, base ? base + 1 : exe);
}

int cfg_load(cfg *c) {
  memset(c, 0, sizeof *c);
  const char *home = getenv("HOME");
  const char *env;
  char path[600];
  int found = 0, bad = 0;
  if ((env = getenv("CUSTODIAN_PKCS11_CONF")) != NULL && *env) {
    bad |= parse_file(c, env, &found);
    if (!found) bad = -1;
  } else {
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg) snprintf(path, sizeof path, "%s/custodian/pkcs11.conf", xdg);
    else if (home) snprintf(path, sizeof path, "%s/.config/custodian/pkcs11.conf", home);
    else path[0] = '\0';
    if (path[0]) bad |= parse_file(c, path, &found);
    if (!found) bad |= parse_file(c, "/etc/custodian/pkcs11.conf", &found);
  }
  if ((env = getenv("CUSTODIAN_PKCS11_SOCKET")) && *env) set(c->socket, sizeof c->socket, env);
  if ((env = getenv("CUSTODIAN_PKCS11_CREDENTIAL")) && *env)
    set(c->credential, sizeof c->credential, env);
  if ((env = getenv("CUSTODIAN_PKCS11_CREDENTIAL_FILE")) && *env)
    bad |= read_credential_file(c, env);
  if ((env = getenv("CUSTODIAN_PKCS11_PURPOSE")) && *env) set(c->purpose, sizeof c->purpose, env);
  if ((env = getenv("CUSTODIAN_PKCS11_REQUESTER")) && *env)
    set(c->requester, sizeof c->requester, env);
  if ((env = getenv("CUSTODIAN_PKCS11_LOG")) && *env) set(c->log, sizeof c->log, env);
  if ((env = getenv("CUSTODIAN_PKCS11_QUIET")) && *env) c->quiet = strcmp(env, "1") == 0;
  if (c->log[0] == '\0') {
    const char *state = getenv("XDG_STATE_HOME");
    if (state && *state) snprintf(c->log, sizeof c->log, "%s/custodian/pkcs11.log", state);
    else if (home) snprintf(c->log, sizeof c->log, "%s/.local/state/custodian/pkcs11.log", home);
  }
  char prog[128];
  program_name(prog, sizeof prog);
  if (c->purpose[0] == '\0')
    snprintf(c->purpose, sizeof c->purpose, "PKCS#11 signing by %s", prog);
  if (c->requester[0] == '\0') {
    const char *user = getenv("USER");
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%.64s@%.64s (%.64s, pid %ld)", user ? user : "?", host, prog,
             (long)getpid());
    set(c->requester, sizeof c->requester, tmp);
  }
  if (c->socket[0] == '\0') set(c->socket, sizeof c->socket, "/run/custodian/pkcs11.sock");
  if (bad) {
    log_line(c, "configuration unreadable (CUSTODIAN_PKCS11_CONF or credential_file)");
    return -1;
  }
  if (c->credential[0] == '\0') {
    log_line(c, "no credential configured (credential / CUSTODIAN_PKCS11_CREDENTIAL)");
    return -1;
  }
  return 0;
}

/* ---- log ---- */

static void make_parent(const char *path) {
  char dir[512];
  set(dir, sizeof dir, path);
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    mkdir(dir, 0700);
    *p = '/';
  }
}

void log_line(const cfg *c, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if ((unsigned char)*p < 0x20) *p = ' ';
  if (c->log[0]) {
    make_parent(c->log);
    int fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      char line[900];
      time_t now = time(NULL);
      struct tm tm;
      gmtime_r(&now, &tm);
      char ts[32];
      strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
      int n = snprintf(line, sizeof line, "%s pid %ld: %s\n", ts, (long)getpid(), msg);
      if (n > 0) {
        ssize_t w = write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w;
      }
      close(fd);
    }
  }
  if (!c->quiet) fprintf(stderr, "custodian-pkcs11: %s\n", msg);
}

/* ---- request building ---- */

static void sb_grow(sbuf *b, size_t more) {
  if (b->failed) return;
  if (b->len + more + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1) cap *= 2;
  char *p = realloc(b->p, cap);
  if (p == NULL) {
    b->failed = 1;
    return;
  }
  b->p = p;
  b->cap = cap;
}

void sb_raw(sbuf *b, const char *s) {
  size_t n = strlen(s);
  sb_grow(b, n);
  if (b->failed) return;
  memcpy(b->p + b->len, s, n + 1);
  b->len += n;
}

void sb_str(sbuf *b, const char *s) {
  sb_raw(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char tmp[8];
    if (*p == '"' || *p == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)*p;
      tmp[2] = '\0';
    } else if (*p < 0x20 || *p == 0x7f) {
      snprintf(tmp, sizeof tmp, "\\u%04x", *p);
    } else {
      tmp[0] = (char)*p;
      tmp[1] = '\0';
    }
    sb_raw(b, tmp);
  }
  sb_raw(b, "\"");
}

void sb_num(sbuf *b, unsigned long v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%lu", v);
  sb_raw(b, tmp);
}

void sb_hex(sbuf *b, const uint8_t *d, size_t n) {
  static const char hx[] = "0123456789abcdef";
  sb_grow(b, 2 * n + 2);
  if (b->failed) return;
  char *o = b->p + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    *o++ = hx[d[i] >> 4];
    *o++ = hx[d[i] & 15];
  }
  *o++ = '"';
  *o = '\0';
  b->len += 2 * n + 2;
}

void sb_free(sbuf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- framing ---- */

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    /* MSG_NOSIGNAL: a closed socket must not kill the host process with SIGPIPE. */
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads exactly n bytes before the deadline: 0, -1 (closed/error), -2 (timeout). */
static int read_all(int fd, uint8_t *p, size_t n, time_t deadline) {
  while (n > 0) {
    time_t now = time(NULL);
    if (now >= deadline) return -2;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long ms = (long)(deadline - now) * 1000L;
    int pr = poll(&pfd, 1, ms > 60000 ? 60000 : (int)ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return -1;
    if (pr == 0) continue;
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

CK_RV conn_call(const cfg *c, int fd, const sbuf *req, cp_reply *out, int timeout_s) {
  memset(out, 0, sizeof *out);
  if (req->failed || req->p == NULL) return CKR_HOST_MEMORY;
  uint8_t hdr[4] = {(uint8_t)(req->len >> 24), (uint8_t)(req->len >> 16),
                    (uint8_t)(req->len >> 8), (uint8_t)req->len};
  if (write_all(fd, hdr, 4) != 0 || write_all(fd, (const uint8_t *)req->p, req->len) != 0) {
    log_line(c, "lost the connection to custodian-server (%s)", c->socket);
    return CKR_DEVICE_REMOVED;
  }
  time_t deadline = time(NULL) + timeout_s;
  int r = read_all(fd, hdr, 4, deadline);
  if (r != 0) {
    if (r == -2) log_line(c, "custodian-server did not answer in %d s", timeout_s);
    else log_line(c, "custodian-server closed the connection (%s)", c->socket);
    return CKR_DEVICE_REMOVED;
  }
  size_t len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
  if (len == 0 || len > CP_MAX_FRAME) {
    log_line(c, "custodian-server sent a malformed reply (frame of %zu bytes)", len);
    return CKR_DEVICE_ERROR;
  }
  uint8_t *body = malloc(len);
  if (body == NULL) return CKR_HOST_MEMORY;
  r = read_all(fd, body, len, deadline);
  if (r != 0) {
    free(body);
    log_line(c, "custodian-server closed the connection mid-reply");
    return CKR_DEVICE_REMOVED;
  }
  int p = cp_parse(body, len, out);
  free(body);
  if (p != 0) {
    log_line(c, "custodian-server sent a malformed reply");
    return CKR_DEVICE_ERROR;
  }
  return CKR_OK;
}

int conn_open(const cfg *c, CK_RV *rv) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *rv = CKR_HOST_MEMORY;
    return -1;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  set(sa.sun_path, sizeof sa.sun_path, c->socket);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    log_line(c, "cannot reach custodian-server at %s: %s", c->socket, strerror(errno));
    close(fd);
    *rv = CKR_DEVICE_REMOVED;
    return -1;
  }
  sbuf b = {0};
  sb_raw(&b, "{\"v\":1,\"op\":\"hello\",\"credential\":");
  sb_str(&b, c->credential);
  sb_raw(&b, ",\"requester\":");
  sb_str(&b, c->requester);
  sb_raw(&b, "}");
  cp_reply r;
  CK_RV t = conn_call(c, fd, &b, &r, 30);
  sb_free(&b);
  if (t == CKR_OK && r.rv != CKR_OK) {
    log_line(c, "custodian-server refused the module: %s",
             r.message[0] ? r.message : "credential refused");
    t = r.rv;
  }
  cp_free(&r);
  if (t != CKR_OK) {
    close(fd);
    *rv = t;
    return -1;
  }
  *rv = CKR_OK;
  return fd;
}
