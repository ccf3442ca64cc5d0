// `stagewise info`: what this machine offers stagewise (devices, driver, NVRTC, cache) and,
// plainly, what is missing. Exit code 0 even without a GPU: a missing GPU is information.
import { cacheSettings, devices, NVRTC_FIX, nvrtcInfo, readiness, type DevicesReport, type NvrtcInfo } from '../runtime/index.js';

const USAGE = `usage: stagewise info [--json]

Prints the CUDA devices, driver version, NVRTC library and compile cache, and what is missing
for running kernels on this machine.

  --json   print one JSON object instead of text`;

export interface InfoReport {
  devices: DevicesReport;
  nvrtc: NvrtcInfo;
  cache: ReturnType<typeof cacheSettings>;
  missing: string[];
}

export function gatherInfo(): InfoReport {
  const report = devices();
  const nvrtc = nvrtcInfo();
  const { addon, gpu, nvrtc: noNvrtc } = readiness(report, nvrtc);
  const missing = [addon, gpu, noNvrtc && `${noNvrtc}; ${NVRTC_FIX}`].filter((m): m is string => m !== undefined);
  return { devices: report, nvrtc, cache: cacheSettings(), missing };
}

function formatDriverVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

function formatText(info: InfoReport): string {
  const lines: string[] = [];
  const { devices: report, nvrtc, cache } = info;
  lines.push(`driver:  ${report.driverVersion !== undefined ? `CUDA ${formatDriverVersion(report.driverVersion)} (${report.driverVersion})` : 'not loaded'}`);
  if (report.devices.length === 0) lines.push('devices: none');
  for (const d of report.devices) {
    lines.push(
      `device ${d.index}: ${d.name}, sm_${d.computeCapability.join('')}, ${d.smCount} SMs, ` +
        `${(d.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, L2 ${(d.l2CacheBytes / 2 ** 20).toFixed(0)} MiB, ` +
        `shared memory per block (opt-in) ${d.maxSharedMemoryPerBlockOptin / 1024} KiB`,
    );
  }
  lines.push(`nvrtc:   ${nvrtc.loaded ? `${nvrtc.version} at ${nvrtc.path}` : 'not loaded'}`);
  lines.push(`cache:   ${cache.enabled ? cache.dir : 'disabled (STAGEWISE_CACHE=0)'}${cache.strict ? ' (strict)' : ''}`);
  if (info.missing.length === 0) lines.push('ready: kernels can be compiled and run on this machine');
  else lines.push('missing:', ...info.missing.map((m) => `  - ${m}`));
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    console.error(`stagewise info: unknown option '${unknown[0]}'\n\n${USAGE}`);
    return 2;
  }
  const info = gatherInfo();
  console.log(argv.includes('--json') ? JSON.stringify(info, null, 2) : formatText(info));
  return 0;
}
