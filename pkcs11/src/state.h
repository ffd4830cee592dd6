/*
 * Module state shared by the PKCS#11 entry points: configuration, the connection to
 * custodian-server, slots (one per target), their keys, sessions and the login state.
 * One mutex guards all of it; only C_Login's wait for a quorum runs without it.
 */
#ifndef CUSTODIAN_STATE_H
#define CUSTODIAN_STATE_H

#include <pthread.h>
#include <sys/types.h>

#include "../include/ck.h"
#include "reply.h"
#include "wire.h"

#define MAX_SESSIONS 256
/* Multi-part data is buffered in the module and hashed by the server (docs/pkcs11.md). */
#define MAX_SIGN_DATA (16u * 1024u * 1024u)

typedef struct slot {
  cp_slot info;
  cp_key *keys;
  size_t nkeys;
  int loaded;
  int logged_in;
} slot;

typedef struct session {
  int used;
  CK_SLOT_ID slot;
  CK_FLAGS flags;
  int find_active;
  CK_ATTRIBUTE *tmpl;
  CK_ULONG ntmpl;
  size_t find_pos;
  int sign_active;
  int sign_multipart;
  CK_MECHANISM_TYPE mech;
  size_t key;
  int has_pss;
  CK_RSA_PKCS_PSS_PARAMS pss;
  unsigned char *buf;
  size_t buf_len;
} session;

typedef struct state {
  int initialized;
  cfg cfg;
  int fd;
  pid_t fd_pid;
  slot slots[CP_MAX_SLOTS];
  size_t nslots;
  int slots_loaded;
  session sessions[MAX_SESSIONS];
} state;

extern state g;
extern pthread_mutex_t g_lock;

/* One request on the shared connection (reconnecting first if needed); see conn_call. */
CK_RV st_call(sbuf *req, cp_reply *out, int timeout_s);

/* Loads the slot list if needed (or again when `refresh` and no session is open). */
CK_RV st_load_slots(int refresh);

/* Loads the keys of slot `s` (again when `refresh`). */
CK_RV st_load_keys(CK_SLOT_ID s, int refresh);

/* The session for handle `h`, or NULL. */
session *st_session(CK_SESSION_HANDLE h);

/* Number of open sessions on slot `s`. */
size_t st_sessions_on(CK_SLOT_ID s);

/* Frees the session's operations. */
void st_reset_session(session *s);

#endif
