/*
 * p11-sign-files: signs many files through a PKCS#11 module in ONE session and one login, as a
 * build job does (benchmark and window tests, test/integration/pkcs11/). Loads the module with
 * dlopen, finds the token by label and the private key by CKA_ID, C_Login with a NULL PIN
 * (protected authentication path), then per file C_SignInit + C_Sign and writes FILE.sig (the
 * raw PKCS#11 signature). Stops at the first failure and names it.
 *   usage: p11-sign-files MODULE TOKEN KEY_ID_HEX MECHANISM_HEX DELAY_MS FILE...
 *   output: "signed N of M" and, on failure, "FILE: C_xxx failed: 0x..."; exit 0 only if all.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../include/ck.h"

static CK_FUNCTION_LIST *f;

static int fail(const char *what, const char *fn, CK_RV rv) {
  printf("%s: %s failed: 0x%lx\n", what, fn, rv);
  return 1;
}

static unsigned char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0, r;
  do {
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      unsigned char *p = realloc(buf, cap);
      if (p == NULL) break;
      buf = p;
    }
    r = fread(buf + n, 1, cap - n, fp);
    n += r;
  } while (r > 0);
  fclose(fp);
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s MODULE TOKEN KEY_ID_HEX MECHANISM_HEX DELAY_MS FILE...\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 2;
  }
  CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
  *(void **)&get = dlsym(lib, "C_GetFunctionList");
  if (get == NULL || get(&f) != CKR_OK) return 2;
  CK_RV rv = f->C_Initialize(NULL);
  if (rv != CKR_OK) return fail("module", "C_Initialize", rv);
  CK_SLOT_ID slots[64];
  CK_ULONG ns = 64;
  if ((rv = f->C_GetSlotList(CK_TRUE, slots, &ns)) != CKR_OK)
    return fail("module", "C_GetSlotList", rv);
  CK_SLOT_ID slot = ~0UL;
  for (CK_ULONG i = 0; i < ns; i++) {
    CK_TOKEN_INFO ti;
    if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK) continue;
    size_t l = strlen(argv[2]);
    if (l <= 32 && memcmp(ti.label, argv[2], l) == 0 && (l == 32 || ti.label[l] == ' '))
      slot = slots[i];
  }
  if (slot == ~0UL) return fail(argv[2], "token lookup", CKR_TOKEN_NOT_PRESENT);
  CK_SESSION_HANDLE s;
  if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
    return fail("token", "C_OpenSession", rv);
  if ((rv = f->C_Login(s, CKU_USER, NULL, 0)) != CKR_OK) return fail("token", "C_Login", rv);
  unsigned char id[64];
  size_t idl = strlen(argv[3]) / 2;
  if (idl == 0 || idl > sizeof id) return 2;
  for (size_t i = 0; i < idl; i++) sscanf(argv[3] + 2 * i, "%2hhx", &id[i]);
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, id, idl}};
  CK_OBJECT_HANDLE key;
  CK_ULONG found = 0;
  if ((rv = f->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK) return fail("key", "C_FindObjectsInit", rv);
  rv = f->C_FindObjects(s, &key, 1, &found);
  f->C_FindObjectsFinal(s);
  if (rv != CKR_OK || found != 1) return fail("key", "C_FindObjects", rv ? rv : CKR_KEY_HANDLE_INVALID);
  CK_MECHANISM mech = {strtoul(argv[4], NULL, 16), NULL, 0};
  long delay = atol(argv[5]);
  int files = argc - 6, done = 0, status = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 6; i < argc; i++) {
    if (delay > 0 && i > 6) {
      struct timespec d = {delay / 1000, (delay % 1000) * 1000000L};
      nanosleep(&d, NULL);
    }
    size_t len;
    unsigned char *data = slurp(argv[i], &len);
    if (data == NULL) {
      status = fail(argv[i], "read", CKR_ARGUMENTS_BAD);
      break;
    }
    unsigned char sig[1024];
    CK_ULONG sl = sizeof sig;
    rv = f->C_SignInit(s, &mech, key);
    if (rv == CKR_OK) rv = f->C_Sign(s, data, len, sig, &sl);
    free(data);
    if (rv != CKR_OK) {
      status = fail(argv[i], "C_Sign", rv);
      break;
    }
    char out[4096];
    snprintf(out, sizeof out, "%s.sig", argv[i]);
    FILE *fp = fopen(out, "wb");
    if (fp == NULL || fwrite(sig, 1, sl, fp) != sl) {
      status = fail(out, "write", CKR_GENERAL_ERROR);
      if (fp) fclose(fp);
      break;
    }
    fclose(fp);
    done++;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("signed %d of %d in %.3f s\n", done, files, secs);
  f->C_CloseSession(s);
  f->C_Finalize(NULL);
  return status;
}
