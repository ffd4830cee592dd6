/*
 * Fuzz harness for the module's reply parser and framing (run under ASan/UBSan by
 * test/integration/pkcs11/fuzz.test.ts): random bodies, well-formed replies mutated (bit
 * flips, truncation, inflated lengths, spliced items, nesting), and whole frames through a
 * socket pair into conn_call. Deterministic (seeded xorshift), bounded iterations. Any memory
 * error aborts under the sanitizers; invariants on accepted replies are checked here.
 *   usage: fuzz-reply ITERATIONS SEED
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../src/reply.h"
#include "../src/wire.h"

static unsigned long long rng;
static unsigned long long next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static size_t put(uint8_t *b, size_t off, uint8_t tag, const void *v, size_t len) {
  b[off] = tag;
  b[off + 1] = (uint8_t)(len >> 24);
  b[off + 2] = (uint8_t)(len >> 16);
  b[off + 3] = (uint8_t)(len >> 8);
  b[off + 4] = (uint8_t)len;
  memcpy(b + off + 5, v, len);
  return off + 5 + len;
}

/* A well-formed reply of a random kind. */
static size_t valid(uint8_t *b) {
  size_t off = 0;
  uint8_t rv[4] = {0, 0, 0, 0};
  off = put(b, off, CP_TAG_RV, rv, 4);
  switch (next() % 4) {
    case 0: {
      uint8_t slot[200];
      size_t s = put(slot, 0, CP_TAG_SLOT_NAME, "t1", 2);
      s = put(slot, s, CP_TAG_SLOT_LABEL, "Target one", 10);
      s = put(slot, s, CP_TAG_SLOT_DEVICE, "DECC0100001", 11);
      uint8_t f = 3;
      s = put(slot, s, CP_TAG_SLOT_FLAGS, &f, 1);
      off = put(b, off, CP_TAG_SLOT, slot, s);
      break;
    }
    case 1: {
      uint8_t key[600];
      uint8_t one = 1, ec = CKK_EC, rsa = CKK_RSA;
      size_t s = put(key, 0, CP_TAG_KEY_REF, &one, 1);
      if (next() % 2) {
        s = put(key, s, CP_TAG_KEY_TYPE, &ec, 1);
        uint8_t params[10] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
        s = put(key, s, CP_TAG_KEY_EC_PARAMS, params, sizeof params);
        uint8_t point[67] = {0x04, 65, 0x04};
        s = put(key, s, CP_TAG_KEY_EC_POINT, point, sizeof point);
      } else {
        s = put(key, s, CP_TAG_KEY_TYPE, &rsa, 1);
        uint8_t mod[256];
        memset(mod, 0xc3, sizeof mod);
        s = put(key, s, CP_TAG_KEY_MODULUS, mod, sizeof mod);
        uint8_t e[3] = {1, 0, 1};
        s = put(key, s, CP_TAG_KEY_EXPONENT, e, 3);
      }
      s = put(key, s, CP_TAG_KEY_ID, &one, 1);
      s = put(key, s, CP_TAG_KEY_LABEL, "release", 7);
      off = put(b, off, CP_TAG_KEY, key, s);
      break;
    }
    case 2: {
      uint8_t sig[64];
      memset(sig, 0x5a, sizeof sig);
      off = put(b, off, CP_TAG_SIGNATURE, sig, sizeof sig);
      break;
    }
    default:
      off = put(b, off, CP_TAG_MESSAGE, "target t1 is locked", 19);
      break;
  }
  return off;
}

static const uint8_t TAGS[] = {
    CP_TAG_RV,           CP_TAG_MESSAGE,       CP_TAG_CLIENT,         CP_TAG_SLOT,
    CP_TAG_SLOT_NAME,    CP_TAG_SLOT_LABEL,    CP_TAG_SLOT_DEVICE,    CP_TAG_SLOT_FLAGS,
    CP_TAG_KEY,          CP_TAG_KEY_REF,       CP_TAG_KEY_TYPE,       CP_TAG_KEY_ID,
    CP_TAG_KEY_LABEL,    CP_TAG_KEY_MODULUS,   CP_TAG_KEY_EXPONENT,   CP_TAG_KEY_EC_PARAMS,
    CP_TAG_KEY_EC_POINT, CP_TAG_KEY_CERT,      CP_TAG_KEY_CERT_SUBJECT, CP_TAG_KEY_CERT_ISSUER,
    CP_TAG_KEY_CERT_SERIAL, CP_TAG_SIGNATURE,  CP_TAG_UNLOCKED};

/* Boundary lengths around every field's capacity, and a few large ones. */
static size_t field_len(void) {
  static const size_t edges[] = {0,   1,   3,   4,   5,   16,  17,   32,   33,   63,   64,  65,
                                 100, 101, 159, 160, 161, 512, 513, 1023, 1024, 1025, 2100};
  return edges[next() % (sizeof edges / sizeof edges[0])] + (next() % 3 == 0 ? next() % 3 : 0);
}

/* Correctly framed items with known tags and lengths at and around the fields' limits. */
static size_t framed(uint8_t *b, size_t cap, int depth) {
  size_t off = 0;
  if (depth == 0 && next() % 4) {
    uint8_t rv[4] = {0, 0, 0, (uint8_t)(next() % 3 ? 0 : next())};
    off = put(b, off, CP_TAG_RV, rv, 4);
  }
  int n = 1 + (int)(next() % 6);
  for (int i = 0; i < n; i++) {
    uint8_t tag = TAGS[next() % sizeof TAGS];
    if (depth < 1 && (tag == CP_TAG_SLOT || tag == CP_TAG_KEY) && cap - off > 600) {
      uint8_t inner[4096];
      size_t l = framed(inner, sizeof inner < cap - off - 5 ? sizeof inner : cap - off - 5, 1);
      off = put(b, off, tag, inner, l);
      continue;
    }
    size_t len = field_len();
    if (len + 5 > cap - off) break;
    uint8_t v[2200];
    for (size_t j = 0; j < len; j++) v[j] = (uint8_t)(next() % 64 ? 0x41 + next() % 26 : next());
    if (len > 0 && next() % 2) v[0] = 0x04;
    off = put(b, off, tag, v, len);
  }
  return off;
}

static void check(const cp_reply *r) {
  if (r->nslots > CP_MAX_SLOTS || r->nkeys > CP_MAX_KEYS) abort();
  if (strlen(r->message) >= sizeof r->message) abort();
  if (strlen(r->client) >= sizeof r->client) abort();
  for (size_t i = 0; i < r->nslots; i++) {
    const cp_slot *s = &r->slots[i];
    if (strlen(s->name) == 0 || strlen(s->name) >= sizeof s->name) abort();
    if (strlen(s->label) >= sizeof s->label || strlen(s->device) >= sizeof s->device) abort();
  }
  for (size_t i = 0; i < r->nkeys; i++) {
    const cp_key *k = &r->keys[i];
    if (k->ref == 0 || k->id_len == 0 || k->id_len > sizeof k->id) abort();
    if (strlen(k->label) >= sizeof k->label) abort();
    if (k->type == CKK_EC && (k->ec_point_len < 3 || k->ec_point[0] != 4)) abort();
  }
  if (r->signature_len > sizeof r->signature) abort();
}

static void one(const uint8_t *b, size_t len) {
  /* An exact-size heap copy, so ASan sees any read past the end. */
  uint8_t *copy = malloc(len ? len : 1);
  memcpy(copy, b, len);
  cp_reply r;
  if (cp_parse(copy, len, &r) == 0) {
    check(&r);
    cp_free(&r);
  }
  free(copy);
}

static void through_socket(const uint8_t *b, size_t len, int lie) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
  size_t framed = lie ? (size_t)(next() & 0xffffffffULL) : len;
  uint8_t hdr[4] = {(uint8_t)(framed >> 24), (uint8_t)(framed >> 16), (uint8_t)(framed >> 8),
                    (uint8_t)framed};
  /* The request the module "sends" is read and dropped by nobody: the pair buffers it. */
  if (write(sv[1], hdr, 4) != 4 || (len && write(sv[1], b, len) != (ssize_t)len)) {
    close(sv[0]);
    close(sv[1]);
    return;
  }
  shutdown(sv[1], SHUT_WR);
  cfg c;
  memset(&c, 0, sizeof c);
  c.quiet = 1;
  sbuf req = {0};
  sb_raw(&req, "{}");
  cp_reply r;
  if (conn_call(&c, sv[0], &req, &r, 2) == CKR_OK) {
    check(&r);
    cp_free(&r);
  }
  sb_free(&req);
  close(sv[0]);
  close(sv[1]);
}

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 100000;
  rng = argc > 2 ? strtoull(argv[2], NULL, 10) : 0x9e3779b97f4a7c15ULL;
  if (rng == 0) rng = 1;
  static uint8_t buf[8192];
  long accepted = 0;
  for (long i = 0; i < iterations; i++) {
    size_t len;
    int mode = (int)(next() % 7);
    if (mode == 6) {
      len = framed(buf, sizeof buf, 0);
    } else if (mode == 0) {
      len = next() % 512;
      for (size_t j = 0; j < len; j++) buf[j] = (uint8_t)next();
    } else {
      len = valid(buf);
      if (mode >= 2 && next() % 3) len += valid(buf + len);
      int muts = (int)(next() % 4);
      for (int m = 0; m < muts && len > 0; m++) {
        size_t at = next() % len;
        switch (next() % 4) {
          case 0:
            buf[at] ^= (uint8_t)(1u << (next() % 8));
            break;
          case 1:
            len = at;
            break;
          case 2:
            buf[at] = (uint8_t)next();
            break;
          default:
            /* Inflate a length field if `at` happens to start an item header. */
            if (at + 5 <= len) buf[at + 1 + next() % 4] = 0xff;
        }
      }
    }
    cp_reply probe;
    if (cp_parse(buf, len, &probe) == 0) {
      accepted++;
      cp_free(&probe);
    }
    one(buf, len);
    if (i % 64 == 0) through_socket(buf, len, (int)(next() % 2));
  }
  printf("fuzz-reply: %ld iterations, %ld accepted\n", iterations, accepted);
  return 0;
}
