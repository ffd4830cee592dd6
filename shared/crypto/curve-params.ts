/**
 * Domain parameters of the curves OpenSC's SmartCard-HSM driver offers that @noble/curves does
 * not ship as ready-made instances (docs/card-reference.md §4.3: the card takes any of them as
 * explicit parameters in `7F49`). The numbers are the published ones:
 * secp192r1 and secp192k1 from SEC 2 v2 (Certicom, 2010) §2.2.1/§2.2.2, the brainpool curves
 * from RFC 5639 §3.1–§3.7 (r1 and the twisted t1 variants). Arithmetic is @noble's
 * `weierstrass`/`ecdsa`; tests cross-check every curve against Node's OpenSSL.
 * @module
 */
import { ecdsa, weierstrass, type ECDSA } from '@noble/curves/abstract/weierstrass.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';

/** Names of the curves defined here. */
export type ExplicitCurveName =
  | 'secp192r1'
  | 'secp192k1'
  | 'brainpoolP192r1'
  | 'brainpoolP224r1'
  | 'brainpoolP320r1'
  | 'brainpoolP192t1'
  | 'brainpoolP224t1'
  | 'brainpoolP256t1'
  | 'brainpoolP320t1'
  | 'brainpoolP384t1'
  | 'brainpoolP512t1';

type Params = {
  p: bigint;
  a: bigint;
  b: bigint;
  Gx: bigint;
  Gy: bigint;
  n: bigint;
  h: bigint;
};

const PARAMS: Record<ExplicitCurveName, Params> = {
  secp192r1: {
    p: 0xfffffffffffffffffffffffffffffffeffffffffffffffffn,
    a: 0xfffffffffffffffffffffffffffffffefffffffffffffffcn,
    b: 0x64210519e59c80e70fa7e9ab72243049feb8deecc146b9b1n,
    Gx: 0x188da80eb03090f67cbf20eb43a18800f4ff0afd82ff1012n,
    Gy: 0x07192b95ffc8da78631011ed6b24cdd573f977a11e794811n,
    n: 0xffffffffffffffffffffffff99def836146bc9b1b4d22831n,
    h: 1n,
  },
  secp192k1: {
    p: 0xfffffffffffffffffffffffffffffffffffffffeffffee37n,
    a: 0x0n,
    b: 0x3n,
    Gx: 0xdb4ff10ec057e9ae26b07d0280b7f4341da5d1b1eae06c7dn,
    Gy: 0x9b2f2f6d9c5628a7844163d015be86344082aa88d95e2f9dn,
    n: 0xfffffffffffffffffffffffe26f2fc170f69466a74defd8dn,
    h: 1n,
  },
  brainpoolP192r1: {
    p: 0xc302f41d932a36cda7a3463093d18db78fce476de1a86297n,
    a: 0x6a91174076b1e0e19c39c031fe8685c1cae040e5c69a28efn,
    b: 0x469a28ef7c28cca3dc721d044f4496bcca7ef4146fbf25c9n,
    Gx: 0xc0a0647eaab6a48753b033c56cb0f0900a2f5c4853375fd6n,
    Gy: 0x14b690866abd5bb88b5f4828c1490002e6773fa2fa299b8fn,
    n: 0xc302f41d932a36cda7a3462f9e9e916b5be8f1029ac4acc1n,
    h: 1n,
  },
  brainpoolP224r1: {
    p: 0xd7c134aa264366862a18302575d1d787b09f075797da89f57ec8c0ffn,
    a: 0x68a5e62ca9ce6c1c299803a6c1530b514e182ad8b0042a59cad29f43n,
    b: 0x2580f63ccfe44138870713b1a92369e33e2135d266dbb372386c400bn,
    Gx: 0x0d9029ad2c7e5cf4340823b2a87dc68c9e4ce3174c1e6efdee12c07dn,
    Gy: 0x58aa56f772c0726f24c6b89e4ecdac24354b9e99caa3f6d3761402cdn,
    n: 0xd7c134aa264366862a18302575d0fb98d116bc4b6ddebca3a5a7939fn,
    h: 1n,
  },
  brainpoolP320r1: {
    p: 0xd35e472036bc4fb7e13c785ed201e065f98fcfa6f6f40def4f92b9ec7893ec28fcd412b1f1b32e27n,
    a: 0x3ee30b568fbab0f883ccebd46d3f3bb8a2a73513f5eb79da66190eb085ffa9f492f375a97d860eb4n,
    b: 0x520883949dfdbc42d3ad198640688a6fe13f41349554b49acc31dccd884539816f5eb4ac8fb1f1a6n,
    Gx: 0x43bd7e9afb53d8b85289bcc48ee5bfe6f20137d10a087eb6e7871e2a10a599c710af8d0d39e20611n,
    Gy: 0x14fdd05545ec1cc8ab4093247f77275e0743ffed117182eaa9c77877aaac6ac7d35245d1692e8ee1n,
    n: 0xd35e472036bc4fb7e13c785ed201e065f98fcfa5b68f12a32d482ec7ee8658e98691555b44c59311n,
    h: 1n,
  },
  brainpoolP192t1: {
    p: 0xc302f41d932a36cda7a3463093d18db78fce476de1a86297n,
    a: 0xc302f41d932a36cda7a3463093d18db78fce476de1a86294n,
    b: 0x13d56ffaec78681e68f9deb43b35bec2fb68542e27897b79n,
    Gx: 0x3ae9e58c82f63c30282e1fe7bbf43fa72c446af6f4618129n,
    Gy: 0x097e2c5667c2223a902ab5ca449d0084b7e5b3de7ccc01c9n,
    n: 0xc302f41d932a36cda7a3462f9e9e916b5be8f1029ac4acc1n,
    h: 1n,
  },
  brainpoolP224t1: {
    p: 0xd7c134aa264366862a18302575d1d787b09f075797da89f57ec8c0ffn,
    a: 0xd7c134aa264366862a18302575d1d787b09f075797da89f57ec8c0fcn,
    b: 0x4b337d934104cd7bef271bf60ced1ed20da14c08b3bb64f18a60888dn,
    Gx: 0x6ab1e344ce25ff3896424e7ffe14762ecb49f8928ac0c76029b4d580n,
    Gy: 0x0374e9f5143e568cd23f3f4d7c0d4b1e41c8cc0d1c6abd5f1a46db4cn,
    n: 0xd7c134aa264366862a18302575d0fb98d116bc4b6ddebca3a5a7939fn,
    h: 1n,
  },
  brainpoolP256t1: {
    p: 0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377n,
    a: 0xa9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5374n,
    b: 0x662c61c430d84ea4fe66a7733d0b76b7bf93ebc4af2f49256ae58101fee92b04n,
    Gx: 0xa3e8eb3cc1cfe7b7732213b23a656149afa142c47aafbc2b79a191562e1305f4n,
    Gy: 0x2d996c823439c56d7f7b22e14644417e69bcb6de39d027001dabe8f35b25c9ben,
    n: 0xa9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7n,
    h: 1n,
  },
  brainpoolP320t1: {
    p: 0xd35e472036bc4fb7e13c785ed201e065f98fcfa6f6f40def4f92b9ec7893ec28fcd412b1f1b32e27n,
    a: 0xd35e472036bc4fb7e13c785ed201e065f98fcfa6f6f40def4f92b9ec7893ec28fcd412b1f1b32e24n,
    b: 0xa7f561e038eb1ed560b3d147db782013064c19f27ed27c6780aaf77fb8a547ceb5b4fef422340353n,
    Gx: 0x925be9fb01afc6fb4d3e7d4990010f813408ab106c4f09cb7ee07868cc136fff3357f624a21bed52n,
    Gy: 0x63ba3a7a27483ebf6671dbef7abb30ebee084e58a0b077ad42a5a0989d1ee71b1b9bc0455fb0d2c3n,
    n: 0xd35e472036bc4fb7e13c785ed201e065f98fcfa5b68f12a32d482ec7ee8658e98691555b44c59311n,
    h: 1n,
  },
  brainpoolP384t1: {
    p: 0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53n,
    a: 0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec50n,
    b: 0x7f519eada7bda81bd826dba647910f8c4b9346ed8ccdc64e4b1abd11756dce1d2074aa263b88805ced70355a33b471een,
    Gx: 0x18de98b02db9a306f2afcd7235f72a819b80ab12ebd653172476fecd462aabffc4ff191b946a5f54d8d0aa2f418808ccn,
    Gy: 0x25ab056962d30651a114afd2755ad336747f93475b7a1fca3b88f2b6a208ccfe469408584dc2b2912675bf5b9e582928n,
    n: 0x8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565n,
    h: 1n,
  },
  brainpoolP512t1: {
    p: 0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3n,
    a: 0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f0n,
    b: 0x7cbbbcf9441cfab76e1890e46884eae321f70c0bcb4981527897504bec3e36a62bcdfa2304976540f6450085f2dae145c22553b465763689180ea2571867423en,
    Gx: 0x640ece5c12788717b9c1ba06cbc2a6feba85842458c56dde9db1758d39c0313d82ba51735cdb3ea499aa77a7d6943a64f7a3f25fe26f06b51baa2696fa9035dan,
    Gy: 0x5b534bd595f5af0fa2c892376c84ace1bb4e3019b71634c01131159cae03cee9d9932184beef216bd71df2dadf86a627306ecff96dbb8bace198b61e00f8b332n,
    n: 0xaadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069n,
    h: 1n,
  },
};

/**
 * The @noble ECDSA instance of a curve defined here. The hash only feeds RFC 6979 nonce
 * derivation (callers always pass digests, `prehash: false`); it is sized to the order.
 */
function build(name: ExplicitCurveName): ECDSA {
  const c = PARAMS[name];
  const bits = c.n.toString(2).length;
  const hash = bits <= 256 ? sha256 : bits <= 384 ? sha384 : sha512;
  return ecdsa(weierstrass(c), hash);
}

const cache = new Map<ExplicitCurveName, ECDSA>();

/** The (lazily built, cached) ECDSA implementation of a curve defined here. */
export function explicitCurve(name: ExplicitCurveName): ECDSA {
  let impl = cache.get(name);
  if (!impl) {
    impl = build(name);
    cache.set(name, impl);
  }
  return impl;
}
