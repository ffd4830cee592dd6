/*
 * PKCS#11 entry points: library, slots and tokens, sessions, login, objects. Signing: sign.c.
 * Everything a token holds comes from custodian-server (docs/pkcs11.md); the module holds no
 * key material and does no cryptography.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objects.h"
#include "state.h"

#define EXPORT __attribute__((visibility("default")))

#define LOCKED_BEGIN                                         \
  pthread_mutex_lock(&g_lock);                               \
  if (!g.initialized) {                                      \
    pthread_mutex_unlock(&g_lock);                           \
    return CKR_CRYPTOKI_NOT_INITIALIZED;                     \
  }

#define RETURN(rv)               \
  do {                           \
    CK_RV rv_ = (rv);            \
    pthread_mutex_unlock(&g_lock); \
    return rv_;                  \
  } while (0)

static void pad(CK_UTF8CHAR *dst, size_t cap, const char *src) {
  memset(dst, ' ', cap);
  size_t n = strlen(src);
  memcpy(dst, src, n < cap ? n : cap);
}

EXPORT CK_RV C_Initialize(CK_VOID_PTR args) {
  if (args != NULL) {
    CK_C_INITIALIZE_ARGS *a = args;
    if (a->pReserved != NULL) return CKR_ARGUMENTS_BAD;
    int some = a->CreateMutex || a->DestroyMutex || a->LockMutex || a->UnlockMutex;
    int all = a->CreateMutex && a->DestroyMutex && a->LockMutex && a->UnlockMutex;
    if (some && !all) return CKR_ARGUMENTS_BAD;
    /* The module locks with the OS primitives; callbacks without OS locking are not offered. */
    if (all && !(a->flags & CKF_OS_LOCKING_OK)) return CKR_CANT_LOCK;
  }
  pthread_mutex_lock(&g_lock);
  if (g.initialized) RETURN(CKR_CRYPTOKI_ALREADY_INITIALIZED);
  if (cfg_load(&g.cfg) != 0) RETURN(CKR_FUNCTION_FAILED);
  g.fd = -1;
  g.initialized = 1;
  RETURN(CKR_OK);
}

EXPORT CK_RV C_Finalize(CK_VOID_PTR reserved) {
  if (reserved != NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  for (size_t i = 0; i < MAX_SESSIONS; i++) {
    st_reset_session(&g.sessions[i]);
    g.sessions[i].used = 0;
  }
  for (size_t i = 0; i < g.nslots; i++) {
    cp_reply old = {.keys = g.slots[i].keys, .nkeys = g.slots[i].nkeys};
    cp_free(&old);
  }
  memset(g.slots, 0, sizeof g.slots);
  g.nslots = 0;
  g.slots_loaded = 0;
  if (g.fd >= 0 && g.fd_pid == getpid()) close(g.fd);
  g.fd = -1;
  g.initialized = 0;
  RETURN(CKR_OK);
}

EXPORT CK_RV C_GetInfo(CK_INFO *info) {
  if (info == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  memset(info, 0, sizeof *info);
  info->cryptokiVersion.major = 2;
  info->cryptokiVersion.minor = 40;
  pad(info->manufacturerID, sizeof info->manufacturerID, "Custodian");
  pad(info->libraryDescription, sizeof info->libraryDescription,
      "Custodian n-of-m PKCS#11 module");
  info->libraryVersion.major = 0;
  info->libraryVersion.minor = 1;
  RETURN(CKR_OK);
}

EXPORT CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count) {
  if (count == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  /* The list is read again on the size query, the call that starts an enumeration. */
  CK_RV rv = st_load_slots(list == NULL);
  if (rv != CKR_OK) RETURN(rv);
  CK_ULONG n = 0;
  for (size_t i = 0; i < g.nslots; i++)
    if (!present || (g.slots[i].info.flags & CP_SLOT_CONNECTED)) n++;
  if (list == NULL) {
    *count = n;
    RETURN(CKR_OK);
  }
  if (*count < n) {
    *count = n;
    RETURN(CKR_BUFFER_TOO_SMALL);
  }
  n = 0;
  for (size_t i = 0; i < g.nslots; i++)
    if (!present || (g.slots[i].info.flags & CP_SLOT_CONNECTED)) list[n++] = i;
  *count = n;
  RETURN(CKR_OK);
}

static CK_RV check_slot(CK_SLOT_ID id) {
  CK_RV rv = st_load_slots(0);
  if (rv != CKR_OK) return rv;
  return id < g.nslots ? CKR_OK : CKR_SLOT_ID_INVALID;
}

EXPORT CK_RV C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO *info) {
  if (info == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  CK_RV rv = check_slot(id);
  if (rv != CKR_OK) RETURN(rv);
  memset(info, 0, sizeof *info);
  char desc[160];
  const cp_slot *s = &g.slots[id].info;
  snprintf(desc, sizeof desc, "Custodian %s (%s)", s->name, s->label[0] ? s->label : s->name);
  pad(info->slotDescription, sizeof info->slotDescription, desc);
  pad(info->manufacturerID, sizeof info->manufacturerID, "Custodian");
  info->flags = CKF_REMOVABLE_DEVICE | ((s->flags & CP_SLOT_CONNECTED) ? CKF_TOKEN_PRESENT : 0);
  RETURN(CKR_OK);
}

EXPORT CK_RV C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO *info) {
  if (info == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  CK_RV rv = check_slot(id);
  if (rv != CKR_OK) RETURN(rv);
  const cp_slot *s = &g.slots[id].info;
  if (!(s->flags & CP_SLOT_CONNECTED)) RETURN(CKR_TOKEN_NOT_PRESENT);
  memset(info, 0, sizeof *info);
  pad(info->label, sizeof info->label, s->name);
  pad(info->manufacturerID, sizeof info->manufacturerID, "Custodian");
  pad(info->model, sizeof info->model, "SmartCard-HSM");
  pad(info->serialNumber, sizeof info->serialNumber, s->device);
  /* The quorum is the authentication: no PIN is entered here (protected authentication path). */
  info->flags = CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED |
                CKF_PROTECTED_AUTHENTICATION_PATH;
  info->ulMaxSessionCount = MAX_SESSIONS;
  info->ulSessionCount = st_sessions_on(id);
  info->ulMaxRwSessionCount = MAX_SESSIONS;
  info->ulRwSessionCount = 0;
  info->ulMaxPinLen = 0;
  info->ulMinPinLen = 0;
  info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
  memset(info->utcTime, ' ', sizeof info->utcTime);
  RETURN(CKR_OK);
}

static const CK_MECHANISM_TYPE MECHS[] = {
    CKM_RSA_PKCS,        CKM_SHA256_RSA_PKCS,     CKM_SHA384_RSA_PKCS,
    CKM_SHA512_RSA_PKCS, CKM_RSA_PKCS_PSS,        CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS, CKM_SHA512_RSA_PKCS_PSS, CKM_ECDSA,
    CKM_ECDSA_SHA256,    CKM_ECDSA_SHA384,        CKM_ECDSA_SHA512,
};
#define NMECHS (sizeof MECHS / sizeof MECHS[0])

EXPORT CK_RV C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count) {
  if (count == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  CK_RV rv = check_slot(id);
  if (rv != CKR_OK) RETURN(rv);
  if (list == NULL) {
    *count = NMECHS;
    RETURN(CKR_OK);
  }
  if (*count < NMECHS) {
    *count = NMECHS;
    RETURN(CKR_BUFFER_TOO_SMALL);
  }
  memcpy(list, MECHS, sizeof MECHS);
  *count = NMECHS;
  RETURN(CKR_OK);
}

EXPORT CK_RV C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info) {
  if (info == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  CK_RV rv = check_slot(id);
  if (rv != CKR_OK) RETURN(rv);
  for (size_t i = 0; i < NMECHS; i++) {
    if (MECHS[i] != type) continue;
    int ec = type >= CKM_ECDSA;
    info->ulMinKeySize = ec ? 192 : 1024;
    info->ulMaxKeySize = ec ? 521 : 4096;
    info->flags = CKF_HW | CKF_SIGN;
    if (ec) info->flags |= CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
    RETURN(CKR_OK);
  }
  RETURN(CKR_MECHANISM_INVALID);
}

EXPORT CK_RV C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                    CK_SESSION_HANDLE_PTR out) {
  (void)app;
  (void)notify;
  if (out == NULL) return CKR_ARGUMENTS_BAD;
  if (!(flags & CKF_SERIAL_SESSION)) return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
  LOCKED_BEGIN;
  CK_RV rv = check_slot(id);
  if (rv != CKR_OK) RETURN(rv);
  if (!(g.slots[id].info.flags & CP_SLOT_CONNECTED)) RETURN(CKR_TOKEN_NOT_PRESENT);
  rv = st_load_keys(id, st_sessions_on(id) == 0);
  if (rv != CKR_OK) RETURN(rv);
  for (size_t i = 0; i < MAX_SESSIONS; i++) {
    session *s = &g.sessions[i];
    if (s->used) continue;
    memset(s, 0, sizeof *s);
    s->used = 1;
    s->slot = id;
    s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
    *out = i + 1;
    RETURN(CKR_OK);
  }
  RETURN(CKR_SESSION_COUNT);
}

static void close_session(session *s) {
  CK_SLOT_ID id = s->slot;
  st_reset_session(s);
  s->used = 0;
  /* Login state belongs to the application's sessions with the token (spec §5.5). */
  if (st_sessions_on(id) == 0) g.slots[id].logged_in = 0;
}

EXPORT CK_RV C_CloseSession(CK_SESSION_HANDLE h) {
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  close_session(s);
  RETURN(CKR_OK);
}

EXPORT CK_RV C_CloseAllSessions(CK_SLOT_ID id) {
  LOCKED_BEGIN;
  if (id >= g.nslots) RETURN(CKR_SLOT_ID_INVALID);
  for (size_t i = 0; i < MAX_SESSIONS; i++)
    if (g.sessions[i].used && g.sessions[i].slot == id) close_session(&g.sessions[i]);
  RETURN(CKR_OK);
}

EXPORT CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO *info) {
  if (info == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  int rw = (s->flags & CKF_RW_SESSION) != 0;
  int user = g.slots[s->slot].logged_in;
  info->slotID = s->slot;
  info->flags = s->flags;
  info->ulDeviceError = 0;
  info->state = user ? (rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS)
                     : (rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION);
  RETURN(CKR_OK);
}

/*
 * C_Login: the target must be unlocked by its custodians. The server answers at once when it
 * is; otherwise it requests a ceremony (purpose and requester from the configuration) and
 * answers when the ceremony ends. The PIN, if any, is not used (docs/pkcs11.md "Login").
 */
EXPORT CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  (void)pin;
  (void)pin_len;
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (user == CKU_CONTEXT_SPECIFIC) RETURN(CKR_OPERATION_NOT_INITIALIZED);
  if (user != CKU_USER) RETURN(CKR_USER_TYPE_INVALID);
  CK_SLOT_ID id = s->slot;
  if (g.slots[id].logged_in) RETURN(CKR_USER_ALREADY_LOGGED_IN);
  char target[65];
  memcpy(target, g.slots[id].info.name, sizeof target);
  cfg c = g.cfg;
  pthread_mutex_unlock(&g_lock);

  /* The wait for a quorum runs on its own connection, without the module lock. */
  CK_RV rv;
  int fd = conn_open(&c, &rv);
  if (fd >= 0) {
    sbuf b = {0};
    sb_raw(&b, "{\"v\":1,\"op\":\"login\",\"target\":");
    sb_str(&b, target);
    sb_raw(&b, ",\"purpose\":");
    sb_str(&b, c.purpose);
    sb_raw(&b, ",\"requester\":");
    sb_str(&b, c.requester);
    sb_raw(&b, "}");
    cp_reply r;
    log_line(&c, "C_Login on %s: waiting for the custodians' quorum if it is locked", target);
    rv = conn_call(&c, fd, &b, &r, 3900);
    sb_free(&b);
    close(fd);
    if (rv == CKR_OK) rv = r.rv;
    if (rv == CKR_OK) log_line(&c, "C_Login on %s: unlocked", target);
    else if (r.message[0]) log_line(&c, "C_Login on %s failed: %s", target, r.message);
    else log_line(&c, "C_Login on %s failed (CK_RV 0x%lx)", target, rv);
    cp_free(&r);
  }
  pthread_mutex_lock(&g_lock);
  if (!g.initialized) RETURN(CKR_CRYPTOKI_NOT_INITIALIZED);
  if (rv == CKR_OK && id < g.nslots && strcmp(g.slots[id].info.name, target) == 0) {
    g.slots[id].logged_in = 1;
    /* Keys generated during the unlock become visible. */
    (void)st_load_keys(id, 1);
  }
  RETURN(rv);
}

EXPORT CK_RV C_Logout(CK_SESSION_HANDLE h) {
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (!g.slots[s->slot].logged_in) RETURN(CKR_USER_NOT_LOGGED_IN);
  g.slots[s->slot].logged_in = 0;
  for (size_t i = 0; i < MAX_SESSIONS; i++)
    if (g.sessions[i].used && g.sessions[i].slot == s->slot) st_reset_session(&g.sessions[i]);
  RETURN(CKR_OK);
}

/* The key and kind behind an object handle visible in session `s`, or an error. */
CK_RV resolve_object(const session *s, CK_OBJECT_HANDLE h, const cp_key **key, size_t *index,
                     int *kind) {
  CK_SLOT_ID sid;
  if (obj_split(h, &sid, index, kind) != 0 || sid != s->slot) return CKR_OBJECT_HANDLE_INVALID;
  const slot *sl = &g.slots[sid];
  if (*index >= sl->nkeys) return CKR_OBJECT_HANDLE_INVALID;
  if (*kind == OBJ_CERT && sl->keys[*index].cert.data == NULL) return CKR_OBJECT_HANDLE_INVALID;
  /* Private objects exist for the application only while it is logged in (spec §4.4). */
  if (*kind == OBJ_PRIVATE && !sl->logged_in) return CKR_OBJECT_HANDLE_INVALID;
  *key = &sl->keys[*index];
  return CKR_OK;
}

EXPORT CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
                          CK_ULONG n) {
  if (t == NULL && n > 0) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  const cp_key *k;
  size_t idx;
  int kind;
  CK_RV rv = resolve_object(s, o, &k, &idx, &kind);
  if (rv != CKR_OK) RETURN(rv);
  for (CK_ULONG i = 0; i < n; i++) {
    const void *val;
    size_t len;
    unsigned char scratch[16];
    CK_RV a = obj_attr(k, kind, t[i].type, &val, &len, scratch);
    if (a != CKR_OK) {
      t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = a;
    } else if (t[i].pValue == NULL) {
      t[i].ulValueLen = len;
    } else if (t[i].ulValueLen < len) {
      t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_BUFFER_TOO_SMALL;
    } else {
      if (len > 0) memcpy(t[i].pValue, val, len);
      t[i].ulValueLen = len;
    }
  }
  RETURN(rv);
}

static void free_find(session *s) {
  if (s->tmpl != NULL) {
    for (CK_ULONG i = 0; i < s->ntmpl; i++) free(s->tmpl[i].pValue);
    free(s->tmpl);
  }
  s->tmpl = NULL;
  s->ntmpl = 0;
  s->find_active = 0;
}

EXPORT CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
  if (t == NULL && n > 0) return CKR_ARGUMENTS_BAD;
  if (n > 64) return CKR_TEMPLATE_INCONSISTENT;
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (s->find_active) RETURN(CKR_OPERATION_ACTIVE);
  s->tmpl = n ? calloc(n, sizeof *s->tmpl) : NULL;
  if (n && s->tmpl == NULL) RETURN(CKR_HOST_MEMORY);
  s->ntmpl = n;
  for (CK_ULONG i = 0; i < n; i++) {
    s->tmpl[i].type = t[i].type;
    s->tmpl[i].ulValueLen = t[i].ulValueLen;
    if (t[i].ulValueLen > 0) {
      if (t[i].pValue == NULL || t[i].ulValueLen > 65536) {
        free_find(s);
        RETURN(CKR_ARGUMENTS_BAD);
      }
      s->tmpl[i].pValue = malloc(t[i].ulValueLen);
      if (s->tmpl[i].pValue == NULL) {
        free_find(s);
        RETURN(CKR_HOST_MEMORY);
      }
      memcpy(s->tmpl[i].pValue, t[i].pValue, t[i].ulValueLen);
    }
  }
  s->find_active = 1;
  s->find_pos = 0;
  RETURN(CKR_OK);
}

static int matches(const session *s, const cp_key *k, int kind) {
  for (CK_ULONG i = 0; i < s->ntmpl; i++) {
    const void *val;
    size_t len;
    unsigned char scratch[16];
    if (obj_attr(k, kind, s->tmpl[i].type, &val, &len, scratch) != CKR_OK) return 0;
    if (len != s->tmpl[i].ulValueLen) return 0;
    if (len > 0 && memcmp(val, s->tmpl[i].pValue, len) != 0) return 0;
  }
  return 1;
}

EXPORT CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
                    CK_ULONG_PTR count) {
  if (count == NULL || (out == NULL && max > 0)) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (!s->find_active) RETURN(CKR_OPERATION_NOT_INITIALIZED);
  const slot *sl = &g.slots[s->slot];
  CK_ULONG n = 0;
  /* Position = key index × 3 + kind − 1. */
  while (n < max && s->find_pos < sl->nkeys * 3) {
    size_t idx = s->find_pos / 3;
    int kind = (int)(s->find_pos % 3) + 1;
    s->find_pos++;
    const cp_key *k = &sl->keys[idx];
    if (kind == OBJ_PRIVATE && !sl->logged_in) continue;
    if (kind == OBJ_CERT && k->cert.data == NULL) continue;
    if (matches(s, k, kind)) out[n++] = obj_handle(s->slot, idx, kind);
  }
  *count = n;
  RETURN(CKR_OK);
}

EXPORT CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h) {
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (!s->find_active) RETURN(CKR_OPERATION_NOT_INITIALIZED);
  free_find(s);
  RETURN(CKR_OK);
}

EXPORT CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ULONG_PTR size) {
  (void)h;
  (void)o;
  (void)size;
  return CKR_FUNCTION_NOT_SUPPORTED;
}
