/*
 * Signing. The module hashes nothing and pads nothing: it sends the mechanism, the key's card
 * id and the data to custodian-server, which hashes (for the hashing mechanisms), signs at the
 * card inside the unlock window, counts and audits the signature (docs/pkcs11.md "Mechanisms").
 * Multi-part data is buffered here (up to MAX_SIGN_DATA) and sent at C_SignFinal.
 */
#include <stdlib.h>
#include <string.h>

#include "objects.h"
#include "state.h"

CK_RV resolve_object(const session *s, CK_OBJECT_HANDLE h, const cp_key **key, size_t *index,
                     int *kind);

#define EXPORT __attribute__((visibility("default")))

#define LOCKED_BEGIN                     \
  pthread_mutex_lock(&g_lock);           \
  if (!g.initialized) {                  \
    pthread_mutex_unlock(&g_lock);       \
    return CKR_CRYPTOKI_NOT_INITIALIZED; \
  }

#define RETURN(rv)                 \
  do {                             \
    CK_RV rv_ = (rv);              \
    pthread_mutex_unlock(&g_lock); \
    return rv_;                    \
  } while (0)

/* Key type a mechanism needs, whether it hashes (multi-part) and whether it takes PSS params. */
static int mech_props(CK_MECHANISM_TYPE m, CK_KEY_TYPE *type, int *hashing, int *pss) {
  *pss = 0;
  *hashing = 1;
  switch (m) {
    case CKM_RSA_PKCS:
      *hashing = 0;
      *type = CKK_RSA;
      return 0;
    case CKM_RSA_PKCS_PSS:
      *hashing = 0;
      *pss = 1;
      *type = CKK_RSA;
      return 0;
    case CKM_SHA256_RSA_PKCS:
    case CKM_SHA384_RSA_PKCS:
    case CKM_SHA512_RSA_PKCS:
      *type = CKK_RSA;
      return 0;
    case CKM_SHA256_RSA_PKCS_PSS:
    case CKM_SHA384_RSA_PKCS_PSS:
    case CKM_SHA512_RSA_PKCS_PSS:
      *pss = 1;
      *type = CKK_RSA;
      return 0;
    case CKM_ECDSA:
      *hashing = 0;
      *type = CKK_EC;
      return 0;
    case CKM_ECDSA_SHA256:
    case CKM_ECDSA_SHA384:
    case CKM_ECDSA_SHA512:
      *type = CKK_EC;
      return 0;
    default:
      return -1;
  }
}

EXPORT CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key) {
  if (mech == NULL) return CKR_ARGUMENTS_BAD;
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (s->sign_active) RETURN(CKR_OPERATION_ACTIVE);
  if (!g.slots[s->slot].logged_in) RETURN(CKR_USER_NOT_LOGGED_IN);
  const cp_key *k;
  size_t idx;
  int kind;
  CK_RV rv = resolve_object(s, key, &k, &idx, &kind);
  if (rv != CKR_OK) RETURN(rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv);
  if (kind != OBJ_PRIVATE) RETURN(CKR_KEY_FUNCTION_NOT_PERMITTED);
  CK_KEY_TYPE need;
  int hashing, pss;
  if (mech_props(mech->mechanism, &need, &hashing, &pss) != 0) RETURN(CKR_MECHANISM_INVALID);
  if (need != k->type) RETURN(CKR_KEY_TYPE_INCONSISTENT);
  s->has_pss = 0;
  if (pss) {
    if (mech->pParameter == NULL || mech->ulParameterLen != sizeof(CK_RSA_PKCS_PSS_PARAMS))
      RETURN(CKR_MECHANISM_PARAM_INVALID);
    memcpy(&s->pss, mech->pParameter, sizeof s->pss);
    s->has_pss = 1;
  } else if (mech->ulParameterLen != 0) {
    RETURN(CKR_MECHANISM_PARAM_INVALID);
  }
  s->sign_active = 1;
  s->sign_multipart = 0;
  s->mech = mech->mechanism;
  s->key = idx;
  s->buf = NULL;
  s->buf_len = 0;
  RETURN(CKR_OK);
}

static void end_sign(session *s) {
  free(s->buf);
  s->buf = NULL;
  s->buf_len = 0;
  s->sign_active = 0;
  s->sign_multipart = 0;
}

/*
 * Asks the server to sign; called with the lock held and the operation active. Ends the
 * operation unless the caller only asked for the length or gave too small a buffer.
 */
static CK_RV do_sign(session *s, const unsigned char *data, size_t len, CK_BYTE_PTR sig,
                     CK_ULONG_PTR sig_len) {
  const slot *sl = &g.slots[s->slot];
  const cp_key *k = &sl->keys[s->key];
  size_t want = obj_sig_len(k);
  if (want == 0) {
    end_sign(s);
    return CKR_DEVICE_ERROR;
  }
  if (sig == NULL) {
    *sig_len = want;
    return CKR_OK;
  }
  if (*sig_len < want) {
    *sig_len = want;
    return CKR_BUFFER_TOO_SMALL;
  }
  if (!sl->logged_in) {
    end_sign(s);
    return CKR_USER_NOT_LOGGED_IN;
  }
  sbuf b = {0};
  sb_raw(&b, "{\"v\":1,\"op\":\"sign\",\"target\":");
  sb_str(&b, sl->info.name);
  sb_raw(&b, ",\"keyRef\":");
  sb_num(&b, k->ref);
  sb_raw(&b, ",\"mechanism\":");
  sb_num(&b, s->mech);
  if (s->has_pss) {
    sb_raw(&b, ",\"pss\":{\"hashAlg\":");
    sb_num(&b, s->pss.hashAlg);
    sb_raw(&b, ",\"mgf\":");
    sb_num(&b, s->pss.mgf);
    sb_raw(&b, ",\"sLen\":");
    sb_num(&b, s->pss.sLen);
    sb_raw(&b, "}");
  }
  sb_raw(&b, ",\"data\":");
  sb_hex(&b, data, len);
  sb_raw(&b, "}");
  cp_reply r;
  /* Other processes' signatures queue at the card before this one. */
  CK_RV rv = st_call(&b, &r, 600);
  sb_free(&b);
  if (rv == CKR_OK) rv = r.rv;
  if (rv == CKR_OK && (!r.has_signature || r.signature_len != want)) {
    log_line(&g.cfg, "custodian-server answered a signature of the wrong length");
    rv = CKR_DEVICE_ERROR;
  }
  if (rv == CKR_OK) {
    memcpy(sig, r.signature, want);
    *sig_len = want;
  } else {
    if (r.message[0]) log_line(&g.cfg, "signing on %s refused: %s", sl->info.name, r.message);
    /* The unlock window ended (time or signature limit): the application is logged out. */
    if (rv == CKR_USER_NOT_LOGGED_IN) g.slots[s->slot].logged_in = 0;
  }
  cp_free(&r);
  end_sign(s);
  return rv;
}

EXPORT CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
             CK_ULONG_PTR sig_len) {
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (!s->sign_active || s->sign_multipart) RETURN(CKR_OPERATION_NOT_INITIALIZED);
  if (sig_len == NULL || (data == NULL && len > 0)) {
    end_sign(s);
    RETURN(CKR_ARGUMENTS_BAD);
  }
  if (len > MAX_SIGN_DATA) {
    end_sign(s);
    RETURN(CKR_DATA_LEN_RANGE);
  }
  RETURN(do_sign(s, data, len, sig, sig_len));
}

EXPORT CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len) {
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (!s->sign_active) RETURN(CKR_OPERATION_NOT_INITIALIZED);
  CK_KEY_TYPE t;
  int hashing, pss;
  if (mech_props(s->mech, &t, &hashing, &pss) != 0 || !hashing) {
    /* Raw mechanisms are single-part (PKCS#11 mechanisms spec, §2.1 and §2.3 tables). */
    end_sign(s);
    RETURN(CKR_FUNCTION_NOT_SUPPORTED);
  }
  if (part == NULL && len > 0) {
    end_sign(s);
    RETURN(CKR_ARGUMENTS_BAD);
  }
  if (len > MAX_SIGN_DATA - s->buf_len) {
    log_line(&g.cfg, "multi-part data over %u bytes: hash it yourself and use CKM_ECDSA or "
                     "CKM_RSA_PKCS with a DigestInfo", MAX_SIGN_DATA);
    end_sign(s);
    RETURN(CKR_DATA_LEN_RANGE);
  }
  if (len > 0) {
    unsigned char *p = realloc(s->buf, s->buf_len + len);
    if (p == NULL) {
      end_sign(s);
      RETURN(CKR_HOST_MEMORY);
    }
    memcpy(p + s->buf_len, part, len);
    s->buf = p;
    s->buf_len += len;
  }
  s->sign_multipart = 1;
  RETURN(CKR_OK);
}

EXPORT CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  LOCKED_BEGIN;
  session *s = st_session(h);
  if (s == NULL) RETURN(CKR_SESSION_HANDLE_INVALID);
  if (!s->sign_active) RETURN(CKR_OPERATION_NOT_INITIALIZED);
  CK_KEY_TYPE t;
  int hashing, pss;
  if (mech_props(s->mech, &t, &hashing, &pss) != 0 || !hashing) {
    end_sign(s);
    RETURN(CKR_FUNCTION_NOT_SUPPORTED);
  }
  if (sig_len == NULL) {
    end_sign(s);
    RETURN(CKR_ARGUMENTS_BAD);
  }
  s->sign_multipart = 1;
  static const unsigned char empty[1] = {0};
  RETURN(do_sign(s, s->buf ? s->buf : empty, s->buf_len, sig, sig_len));
}
