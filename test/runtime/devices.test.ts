// devices(), nvrtcInfo() and `stagewise info` report instead of failing, on any machine.
import { describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/info.js';
import { devices, nvrtcInfo } from '../../src/runtime/index.js';
import { gpu, nvrtc } from '../gpu.js';

/** How many times `needle` occurs in `text`. */
function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('devices()', () => {
  it('returns a list, and a reason when the list is empty', () => {
    const report = devices();
    expect(Array.isArray(report.devices)).toBe(true);
    if (report.devices.length === 0) expect(report.reason).toMatch(/\S/);
  });

  it.skipIf(gpu.available)('on a machine without a GPU: empty list plus a reason, no crash', () => {
    const report = devices();
    expect(report.devices).toEqual([]);
    expect(report.reason).toMatch(/CUDA|driver|device|addon/);
  });
});

describe('nvrtcInfo()', () => {
  it('says where NVRTC is or why it is not', () => {
    const info = nvrtcInfo();
    if (info.loaded) {
      expect(info.path).toMatch(/nvrtc/);
      expect(info.version).toMatch(/^\d+\.\d+$/);
    } else {
      expect(info.reason).toMatch(/NVRTC not found: .*libnvrtc/);
    }
  });
});

describe('stagewise info', () => {
  it('exits 0 and prints JSON with devices, nvrtc, cache and what is missing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await run(['--json'])).toBe(0);
      const printed = JSON.parse(String(log.mock.calls[0][0]));
      expect(printed).toHaveProperty('devices.devices');
      expect(printed).toHaveProperty('nvrtc.loaded');
      expect(printed).toHaveProperty('cache.dir');
      if (!gpu.available) expect(printed.missing.join('\n')).toMatch(/no CUDA device|no Hopper/);
    } finally {
      log.mockRestore();
    }
  });
  it.skipIf(nvrtc.available)('says where it searched for NVRTC once, in one line, with what to do', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await run(['--json'])).toBe(0);
      const missing: string[] = JSON.parse(String(log.mock.calls[0][0])).missing;
      const line = missing.find((m) => m.startsWith('NVRTC not found') || m.includes('native addon'));
      expect(line).toBeDefined();
      if (line!.includes('native addon')) return;
      expect(line).toMatch(/^NVRTC not found: searched .*; set STAGEWISE_NVRTC_PATH .* or CUDA_HOME/);
      expect(line).not.toContain('\n');
      for (const place of ['libnvrtc.so.13', 'libnvrtc.so.12', '/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib'])
        expect(count(line!, place)).toBeLessThanOrEqual(1);
      expect(line).not.toContain('cannot open shared object file');
    } finally {
      log.mockRestore();
    }
  });
  it('prints text, and refuses unknown options with exit 2', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await run([])).toBe(0);
      expect(String(log.mock.calls[0][0])).toMatch(/nvrtc: .*\ncache: /);
      expect(await run(['--bogus'])).toBe(2);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
