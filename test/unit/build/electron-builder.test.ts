import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../../../build/electron-builder.mjs';

// The packaging invariants, checked without running the packager (docs/desktop-app.md "Build").
describe('electron-builder configuration', () => {
  it('names the app and builds AppImage + deb, dmg and nsis', () => {
    expect(config.appId).toBe('org.custodian.desktop');
    expect(config.productName).toBe('Custodian');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.publish).toBeNull();
  });

  it('unpacks native modules from the asar', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toContain('**/*.node');
  });

  it('states every security fuse explicitly', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('ships the bundles only, never the fake bridge or sources', () => {
    const files = (config.files ?? []) as string[];
    expect(files).toContain('!out/renderer-dev/**');
    expect(
      files
        .filter((f) => !f.startsWith('!'))
        .every((f) => /^out\/(main|preload|renderer)\/\*\*$|^package\.json$/.test(f)),
    ).toBe(true);
  });

  it('has PNG icons of at least 512 px', () => {
    for (const path of ['build/icons/icon.png', 'build/icons/512x512.png']) {
      const png = readFileSync(path);
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
      expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(512);
    }
    expect(config.mac?.icon).toBe('build/icons/icon.png');
  });

  describe('entry points match what the bundler writes', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'custodian-bundle-'));
      execFileSync(process.execPath, ['build/bundle.mjs', '--outdir', join(dir, 'out')], {
        stdio: 'pipe',
      });
    }, 60_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('main, preload and renderer sit where main.ts expects them', () => {
      const main = (config.extraMetadata as { main: string }).main;
      expect(existsSync(join(dir, main))).toBe(true);
      const mainDir = dirname(join(dir, main));
      expect(existsSync(join(mainDir, '..', 'preload', 'preload.cjs'))).toBe(true);
      expect(existsSync(join(mainDir, '..', 'renderer', 'index.html'))).toBe(true);
      expect(existsSync(join(mainDir, '..', 'renderer', 'app.js'))).toBe(true);
    });

    it('the production renderer does not contain the fake bridge, the preload no zod', () => {
      const app = readFileSync(join(dir, 'out', 'renderer', 'app.js'), 'utf8');
      expect(app).not.toContain('Acme PKI Operations');
      expect(readFileSync(join(dir, 'out', 'renderer-dev', 'app.js'), 'utf8')).toContain(
        'Acme PKI Operations',
      );
      const preload = readFileSync(join(dir, 'out', 'preload', 'preload.cjs'), 'utf8');
      expect(preload.length).toBeLessThan(20_000);
      expect(preload).toContain('exposeInMainWorld');
      expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
    });
  });
});
