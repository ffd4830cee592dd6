/* Bounded TLV reply parser (see reply.h). */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

typedef struct item {
  uint8_t tag;
  const uint8_t *v;
  size_t len;
} item;

/* Next item of buf[*off..len): 1 = item, 0 = end, -1 = truncated. */
static int next_item(const uint8_t *buf, size_t len, size_t *off, item *it) {
  if (*off == len) return 0;
  if (len - *off < 5) return -1;
  const uint8_t *p = buf + *off;
  size_t l = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) | ((size_t)p[3] << 8) | (size_t)p[4];
  if (l > len - *off - 5) return -1;
  it->tag = p[0];
  it->v = p + 5;
  it->len = l;
  *off += 5 + l;
  return 1;
}

/* Printable UTF-8 text without control characters, copied NUL-terminated. */
static int copy_text(char *dst, size_t cap, const item *it) {
  if (it->len == 0 || it->len >= cap) return -1;
  for (size_t i = 0; i < it->len; i++) {
    if (it->v[i] < 0x20 || it->v[i] == 0x7f) return -1;
  }
  memcpy(dst, it->v, it->len);
  dst[it->len] = '\0';
  return 0;
}

static int copy_bytes(uint8_t *dst, size_t cap, size_t *dlen, const item *it) {
  if (it->len == 0 || it->len > cap || *dlen != 0) return -1;
  memcpy(dst, it->v, it->len);
  *dlen = it->len;
  return 0;
}

static int dup_bytes(cp_bytes *dst, size_t cap, const item *it) {
  if (it->len == 0 || it->len > cap || dst->data != NULL) return -1;
  dst->data = malloc(it->len);
  if (dst->data == NULL) return -1;
  memcpy(dst->data, it->v, it->len);
  dst->len = it->len;
  return 0;
}

int cp_rv_allowed(CK_RV rv) {
  static const CK_RV allowed[] = {
      CKR_OK,
      CKR_GENERAL_ERROR,
      CKR_FUNCTION_FAILED,
      CKR_ARGUMENTS_BAD,
      CKR_DATA_INVALID,
      CKR_DATA_LEN_RANGE,
      CKR_DEVICE_ERROR,
      CKR_DEVICE_MEMORY,
      CKR_DEVICE_REMOVED,
      CKR_FUNCTION_CANCELED,
      CKR_KEY_HANDLE_INVALID,
      CKR_KEY_SIZE_RANGE,
      CKR_KEY_TYPE_INCONSISTENT,
      CKR_KEY_FUNCTION_NOT_PERMITTED,
      CKR_MECHANISM_INVALID,
      CKR_MECHANISM_PARAM_INVALID,
      CKR_PIN_INCORRECT,
      CKR_SLOT_ID_INVALID,
      CKR_TOKEN_NOT_PRESENT,
      CKR_TOKEN_NOT_RECOGNIZED,
      CKR_USER_NOT_LOGGED_IN,
      CKR_USER_PIN_NOT_INITIALIZED,
      CKR_FUNCTION_REJECTED,
  };
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
    if (allowed[i] == rv) return 1;
  }
  return 0;
}

static int parse_slot(const item *outer, cp_slot *s) {
  size_t off = 0;
  item it;
  int r, seen_flags = 0;
  memset(s, 0, sizeof *s);
  while ((r = next_item(outer->v, outer->len, &off, &it)) == 1) {
    switch (it.tag) {
      case CP_TAG_SLOT_NAME:
        if (s->name[0] || copy_text(s->name, sizeof s->name, &it)) return -1;
        break;
      case CP_TAG_SLOT_LABEL:
        if (s->label[0] || copy_text(s->label, sizeof s->label, &it)) return -1;
        break;
      case CP_TAG_SLOT_DEVICE:
        if (s->device[0] || copy_text(s->device, sizeof s->device, &it)) return -1;
        break;
      case CP_TAG_SLOT_FLAGS:
        if (seen_flags || it.len != 1) return -1;
        seen_flags = 1;
        s->flags = it.v[0] & (CP_SLOT_CONNECTED | CP_SLOT_UNLOCKED);
        break;
      default:
        return -1;
    }
  }
  return (r < 0 || s->name[0] == '\0') ? -1 : 0;
}

static void free_key(cp_key *k) {
  free(k->cert.data);
  free(k->cert_subject.data);
  free(k->cert_issuer.data);
  free(k->cert_serial.data);
  memset(k, 0, sizeof *k);
}

static int parse_key(const item *outer, cp_key *k) {
  size_t off = 0;
  item it;
  int r, seen_type = 0;
  memset(k, 0, sizeof *k);
  while ((r = next_item(outer->v, outer->len, &off, &it)) == 1) {
    int bad = 0;
    switch (it.tag) {
      case CP_TAG_KEY_REF:
        bad = k->ref != 0 || it.len != 1 || it.v[0] == 0;
        if (!bad) k->ref = it.v[0];
        break;
      case CP_TAG_KEY_TYPE:
        bad = seen_type || it.len != 1 || (it.v[0] != CKK_RSA && it.v[0] != CKK_EC);
        if (!bad) {
          k->type = it.v[0];
          seen_type = 1;
        }
        break;
      case CP_TAG_KEY_ID:
        bad = copy_bytes(k->id, sizeof k->id, &k->id_len, &it);
        break;
      case CP_TAG_KEY_LABEL:
        bad = k->label[0] || copy_text(k->label, sizeof k->label, &it);
        break;
      case CP_TAG_KEY_MODULUS:
        bad = copy_bytes(k->modulus, sizeof k->modulus, &k->modulus_len, &it);
        break;
      case CP_TAG_KEY_EXPONENT:
        bad = copy_bytes(k->exponent, sizeof k->exponent, &k->exponent_len, &it);
        break;
      case CP_TAG_KEY_EC_PARAMS:
        bad = copy_bytes(k->ec_params, sizeof k->ec_params, &k->ec_params_len, &it);
        break;
      case CP_TAG_KEY_EC_POINT:
        bad = copy_bytes(k->ec_point, sizeof k->ec_point, &k->ec_point_len, &it);
        break;
      case CP_TAG_KEY_CERT:
        bad = dup_bytes(&k->cert, 65536, &it);
        break;
      case CP_TAG_KEY_CERT_SUBJECT:
        bad = dup_bytes(&k->cert_subject, 4096, &it);
        break;
      case CP_TAG_KEY_CERT_ISSUER:
        bad = dup_bytes(&k->cert_issuer, 4096, &it);
        break;
      case CP_TAG_KEY_CERT_SERIAL:
        bad = dup_bytes(&k->cert_serial, 64, &it);
        break;
      default:
        bad = 1;
    }
    if (bad) return -1;
  }
  if (r < 0 || k->ref == 0 || !seen_type || k->id_len == 0) return -1;
  /* Every key carries its public part, and only that of its own type. */
  if (k->type == CKK_RSA) {
    if (k->modulus_len == 0 || k->exponent_len == 0 || k->ec_params_len || k->ec_point_len)
      return -1;
  } else {
    /* CKA_EC_POINT is a DER OCTET STRING holding 04 || x || y (short or 0x81 length form). */
    if (k->ec_params_len == 0 || k->ec_point_len < 3 || k->modulus_len || k->exponent_len)
      return -1;
    size_t hdr, inner;
    if (k->ec_point[0] != 0x04) return -1;
    if (k->ec_point[1] < 0x80) {
      hdr = 2;
      inner = k->ec_point[1];
    } else if (k->ec_point[1] == 0x81 && k->ec_point_len > 3) {
      hdr = 3;
      inner = k->ec_point[2];
    } else {
      return -1;
    }
    if (hdr + inner != k->ec_point_len || inner < 3 || inner % 2 == 0) return -1;
    if (k->ec_point[hdr] != 0x04) return -1;
  }
  if ((k->cert_subject.data || k->cert_issuer.data || k->cert_serial.data) && !k->cert.data)
    return -1;
  return 0;
}

void cp_free(cp_reply *r) {
  if (r == NULL) return;
  if (r->keys != NULL) {
    for (size_t i = 0; i < r->nkeys; i++) free_key(&r->keys[i]);
    free(r->keys);
  }
  r->keys = NULL;
  r->nkeys = 0;
}

int cp_parse(const uint8_t *body, size_t len, cp_reply *out) {
  size_t off = 0;
  item it;
  int r, seen_rv = 0;
  memset(out, 0, sizeof *out);
  out->unlocked = -1;
  if (body == NULL || len > CP_MAX_FRAME) return -1;
  while ((r = next_item(body, len, &off, &it)) == 1) {
    int bad = 0;
    switch (it.tag) {
      case CP_TAG_RV:
        bad = seen_rv || it.len != 4;
        if (!bad) {
          out->rv = ((CK_RV)it.v[0] << 24) | ((CK_RV)it.v[1] << 16) | ((CK_RV)it.v[2] << 8) |
                    (CK_RV)it.v[3];
          seen_rv = 1;
          bad = !cp_rv_allowed(out->rv);
        }
        break;
      case CP_TAG_MESSAGE:
        bad = out->message[0] || copy_text(out->message, sizeof out->message, &it);
        break;
      case CP_TAG_CLIENT:
        bad = out->client[0] || copy_text(out->client, sizeof out->client, &it);
        break;
      case CP_TAG_SLOT:
        bad = out->nslots >= CP_MAX_SLOTS || parse_slot(&it, &out->slots[out->nslots]);
        if (!bad) out->nslots++;
        break;
      case CP_TAG_KEY:
        if (out->nkeys >= CP_MAX_KEYS) {
          bad = 1;
          break;
        }
        if (out->keys == NULL) {
          out->keys = calloc(CP_MAX_KEYS, sizeof *out->keys);
          if (out->keys == NULL) {
            bad = 1;
            break;
          }
        }
        bad = parse_key(&it, &out->keys[out->nkeys]);
        if (bad) free_key(&out->keys[out->nkeys]);
        else out->nkeys++;
        break;
      case CP_TAG_SIGNATURE:
        bad = out->has_signature ||
              copy_bytes(out->signature, sizeof out->signature, &out->signature_len, &it);
        if (!bad) out->has_signature = 1;
        break;
      case CP_TAG_UNLOCKED:
        bad = out->unlocked != -1 || it.len != 1 || it.v[0] > 1;
        if (!bad) out->unlocked = it.v[0];
        break;
      default:
        bad = 1;
    }
    if (bad) {
      cp_free(out);
      return -1;
    }
  }
  if (r < 0 || !seen_rv) {
    cp_free(out);
    return -1;
  }
  /* A refusal carries nothing but its reason. */
  if (out->rv != CKR_OK && (out->nslots || out->nkeys || out->has_signature)) {
    cp_free(out);
    return -1;
  }
  return 0;
}
