/* Shared state, slot and key loading (see state.h). */
#include "state.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

state g = {.fd = -1};
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

CK_RV st_call(sbuf *req, cp_reply *out, int timeout_s) {
  /* A forked child must not share the parent's connection: frames would interleave. */
  if (g.fd >= 0 && g.fd_pid != getpid()) {
    close(g.fd);
    g.fd = -1;
  }
  if (g.fd < 0) {
    CK_RV rv;
    g.fd = conn_open(&g.cfg, &rv);
    if (g.fd < 0) {
      memset(out, 0, sizeof *out);
      return rv;
    }
    g.fd_pid = getpid();
  }
  CK_RV rv = conn_call(&g.cfg, g.fd, req, out, timeout_s);
  if (rv != CKR_OK) {
    /* The stream is out of step or gone: the next request starts a new connection. */
    close(g.fd);
    g.fd = -1;
  }
  return rv;
}

CK_RV st_load_slots(int refresh) {
  if (g.slots_loaded && !refresh) return CKR_OK;
  if (g.slots_loaded) {
    for (size_t i = 0; i < g.nslots; i++)
      if (st_sessions_on(i) > 0) return CKR_OK;
  }
  sbuf b = {0};
  sb_raw(&b, "{\"v\":1,\"op\":\"slots\"}");
  cp_reply r;
  CK_RV rv = st_call(&b, &r, 60);
  sb_free(&b);
  if (rv == CKR_OK && r.rv != CKR_OK) {
    log_line(&g.cfg, "slot list refused: %s", r.message);
    rv = r.rv;
  }
  if (rv == CKR_OK) {
    for (size_t i = 0; i < g.nslots; i++) {
      cp_reply old = {.keys = g.slots[i].keys, .nkeys = g.slots[i].nkeys};
      cp_free(&old);
    }
    memset(g.slots, 0, sizeof g.slots);
    for (size_t i = 0; i < r.nslots; i++) g.slots[i].info = r.slots[i];
    g.nslots = r.nslots;
    g.slots_loaded = 1;
  }
  cp_free(&r);
  return rv;
}

CK_RV st_load_keys(CK_SLOT_ID s, int refresh) {
  slot *sl = &g.slots[s];
  if (sl->loaded && !refresh) return CKR_OK;
  sbuf b = {0};
  sb_raw(&b, "{\"v\":1,\"op\":\"objects\",\"target\":");
  sb_str(&b, sl->info.name);
  sb_raw(&b, "}");
  cp_reply r;
  CK_RV rv = st_call(&b, &r, 120);
  sb_free(&b);
  if (rv == CKR_OK && r.rv != CKR_OK) {
    log_line(&g.cfg, "key list of %s refused: %s", sl->info.name, r.message);
    rv = r.rv;
  }
  if (rv == CKR_OK) {
    cp_reply old = {.keys = sl->keys, .nkeys = sl->nkeys};
    cp_free(&old);
    sl->keys = r.keys;
    sl->nkeys = r.nkeys;
    r.keys = NULL;
    r.nkeys = 0;
    sl->loaded = 1;
  }
  cp_free(&r);
  return rv;
}

session *st_session(CK_SESSION_HANDLE h) {
  if (h == 0 || h > MAX_SESSIONS) return NULL;
  session *s = &g.sessions[h - 1];
  return s->used ? s : NULL;
}

size_t st_sessions_on(CK_SLOT_ID s) {
  size_t n = 0;
  for (size_t i = 0; i < MAX_SESSIONS; i++)
    if (g.sessions[i].used && g.sessions[i].slot == s) n++;
  return n;
}

void st_reset_session(session *s) {
  if (s->tmpl != NULL) {
    for (CK_ULONG i = 0; i < s->ntmpl; i++) free(s->tmpl[i].pValue);
    free(s->tmpl);
  }
  s->tmpl = NULL;
  s->ntmpl = 0;
  s->find_active = 0;
  free(s->buf);
  s->buf = NULL;
  s->buf_len = 0;
  s->sign_active = 0;
}
