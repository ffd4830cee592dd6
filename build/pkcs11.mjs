#!/usr/bin/env node
// Builds the PKCS#11 module (pkcs11/) with the system C compiler: the release library
// (pkcs11/build/libcustodian-pkcs11.so), the same library with AddressSanitizer and UBSan
// (pkcs11/build/asan/libcustodian-pkcs11.so, used by the tests) and the reply-parser fuzz
// harness (pkcs11/build/asan/fuzz-reply), and the test driver pkcs11/build/p11-sign-files. Each output is written to a temporary name and
// renamed, so concurrent builds (parallel test files) never load a half-written library.
//   node build/pkcs11.mjs [--release-only]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'pkcs11', 'src');
const out = join(root, 'pkcs11', 'build');
const sources = readdirSync(src)
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => join(src, f));
const cc = process.env.CC ?? 'gcc';
const warn = ['-Wall', '-Wextra', '-Werror', '-std=gnu11'];
const lib = ['-fPIC', '-shared', '-fvisibility=hidden', '-Wl,-z,defs', '-Wl,-z,now', '-pthread'];
const asan = ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined'];

function compile(target, flags, files) {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  execFileSync(cc, [...warn, ...flags, '-o', tmp, ...files], { stdio: 'inherit' });
  renameSync(tmp, target);
  process.stdout.write(`built ${target}\n`);
}

compile(join(out, 'libcustodian-pkcs11.so'), ['-O2', ...lib], sources);
if (!process.argv.includes('--release-only')) {
  compile(
    join(out, 'asan', 'libcustodian-pkcs11.so'),
    [...asan, ...lib.filter((f) => f !== '-Wl,-z,defs')],
    sources,
  );
  compile(
    join(out, 'asan', 'fuzz-reply'),
    [...asan, '-fno-sanitize-recover=all'],
    [join(root, 'pkcs11', 'test', 'fuzz-reply.c'), join(src, 'reply.c'), join(src, 'wire.c')],
  );
  // The test driver: many files, one session, one login (benchmark and window tests).
  compile(join(out, 'p11-sign-files'), ['-O2'], [join(root, 'pkcs11', 'test', 'sign-files.c')]);
}
