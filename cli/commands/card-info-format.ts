/**
 * Human-readable rendering of `card info`.
 * @module
 */
import type { PinStatus } from '../../shared/sc-hsm/pin';
import type { CardReport } from './card-info';

const PIN_TEXT: Record<PinStatus['state'], string> = {
  verified: 'verified',
  'not-verified': 'not verified',
  blocked: 'BLOCKED',
  'transport-pin': 'transport PIN active (change it before use)',
  'not-initialized': 'not set',
  'pka-active': 'public key authentication active',
};

function pinText(p: PinStatus): string {
  const base = PIN_TEXT[p.state];
  return p.retries !== undefined && p.state === 'not-verified'
    ? `${base}, ${p.retries} tries left`
    : base;
}

/** The report as aligned "label: value" lines, then one line per key. */
export function formatCardInfo(r: CardReport): string {
  const lines: [string, string][] = [];
  lines.push([
    'Card',
    r.source.type === 'pcsc' ? `reader "${r.source.reader}"` : `emulator ${r.source.file}`,
  ]);
  lines.push(['Device id', r.deviceId ?? '(none)']);
  const options =
    r.applet.options !== undefined
      ? ` (options 0x${r.applet.options.toString(16).padStart(4, '0')})`
      : '';
  lines.push(['Applet', `SmartCard-HSM ${r.applet.version}${options}`]);
  lines.push(['Initialized', r.initialized ? 'yes' : 'no']);
  lines.push(['User PIN', pinText(r.pin)]);
  if (r.soPin) lines.push(['SO-PIN', pinText(r.soPin)]);
  if (r.pka) {
    const p = r.pka;
    const reached = p.authenticated >= p.n ? ' — quorum reached' : '';
    lines.push([
      'PKA',
      `${p.n} of ${p.m} required, ${p.m - p.missing} registered, ${p.authenticated} authenticated${reached}`,
    ]);
  } else {
    lines.push(['PKA', 'not configured']);
  }
  const g = r.genuine;
  lines.push([
    'Genuine',
    g.genuine
      ? `yes — chain ${g.path} to trust anchor ${g.anchorChr} (${g.anchor})`
      : `NOT GENUINE — ${g.reason}`,
  ]);
  // Trust anchors are explicit: a root that is not built in is said loudly, every time.
  if (g.genuine && g.anchorSource === 'configured') {
    lines.push([
      'TEST ROOT',
      `!! ${g.anchorChr} is a configured root, NOT CardContact's production root DESRCACC100001`,
    ]);
  }
  if (g.genuine) for (const w of g.warnings) lines.push(['Warning', w]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  let out = lines.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n') + '\n';
  out += r.keys.length === 0 ? 'Keys: none\n' : 'Keys:\n';
  for (const k of r.keys) {
    const parts = [
      `  ${String(k.id).padStart(3)}`,
      k.label !== undefined ? JSON.stringify(k.label) : '(no label)',
      k.chr !== undefined ? `CHR ${k.chr}` : '',
      k.type === 'rsa'
        ? `RSA ${k.size ?? '?'} bit`
        : (k.curve ?? (k.size !== undefined ? `${k.size} bit` : '')),
      // PKA custodian keys are EC (docs/card-reference.md §6.2): an RSA request cannot be one.
      k.hasRequest && k.type !== 'rsa' ? 'PKA-exportable' : '',
    ];
    out += parts.filter((p) => p !== '').join('  ') + '\n';
  }
  return out;
}
