// What this machine has: CUDA devices, driver, NVRTC. These never throw for a missing GPU,
// driver, toolkit or even an unbuilt addon: they report the reason instead.
import { requireDevice } from './check.js';
import { addonProblem, native } from './native.js';

export interface DeviceInfo {
  index: number;
  name: string;
  computeCapability: [number, number];
  smCount: number;
  maxSharedMemoryPerBlockOptin: number;
  l2CacheBytes: number;
  totalMemoryBytes: number;
}

export interface DevicesReport {
  devices: DeviceInfo[];
  /** Why the list is empty (no driver, no device, cuInit failed, addon not built). */
  reason?: string;
  /** cuDriverGetVersion, e.g. 13000 for CUDA 13.0. */
  driverVersion?: number;
  /** NVRTC's version ("13.0") when it loaded. */
  nvrtcVersion?: string;
  /** Set once a kernel fault has killed the context (every GPU call then fails). */
  contextLost?: string;
}

export interface NvrtcInfo {
  loaded: boolean;
  path?: string;
  version?: string;
  reason?: string;
}

/** What is missing for running kernels here; each field is one line, absent when nothing is. */
export interface Readiness {
  /** The native addon cannot load (and says how to build it): nothing else can be known. */
  addon?: string;
  /** No GPU here can run the sm_90a kernels: no driver, no device, no Hopper, or a lost context. */
  gpu?: string;
  /** NVRTC does not load (the places searched, in one line). */
  nvrtc?: string;
}

/** The one thing to do about a missing NVRTC. */
export const NVRTC_FIX =
  'set STAGEWISE_NVRTC_PATH to a libnvrtc.so.* file (CUDA toolkit, or pip install nvidia-cuda-nvrtc) or CUDA_HOME to a CUDA toolkit';

/** The one thing to do about a missing GPU. */
export const GPU_FIX = 'run on a machine with a Hopper GPU (H100/H200) and the NVIDIA driver';

export function readiness(report: DevicesReport = devices(), nvrtc: NvrtcInfo = nvrtcInfo()): Readiness {
  const addon = addonProblem();
  if (addon) return { addon };
  const missing: Readiness = {};
  if (report.devices.length === 0) missing.gpu = `no CUDA device: ${report.reason ?? 'unknown reason'}`;
  else if (!report.devices.some(isHopper)) {
    const found = report.devices.map((d) => `${d.name} (sm_${d.computeCapability.join('')})`).join(', ');
    missing.gpu = `no Hopper GPU (compute capability 9.x) for the sm_90a kernels (wgmma, TMA); found ${found}`;
  } else if (report.contextLost) missing.gpu = `the CUDA context was lost: ${report.contextLost}`;
  if (!nvrtc.loaded) missing.nvrtc = nvrtc.reason ?? 'NVRTC not found';
  return missing;
}

export function devices(): DevicesReport {
  const problem = addonProblem();
  if (problem) return { devices: [], reason: problem };
  const report: DevicesReport = native().devices();
  const nvrtc = nvrtcInfo();
  if (nvrtc.version) report.nvrtcVersion = nvrtc.version;
  return report;
}

export function nvrtcInfo(): NvrtcInfo {
  const problem = addonProblem();
  if (problem) return { loaded: false, reason: problem };
  const raw = native().nvrtcInfo();
  if (!raw.loaded) return { loaded: false, reason: `NVRTC not found: ${raw.reason}` };
  return { loaded: true, path: raw.path, version: raw.version?.join('.') };
}

/** Hopper (compute capability 9.x): what the generated kernels (sm_90a) need. */
export function isHopper(device: DeviceInfo): boolean {
  return device.computeCapability[0] === 9;
}

/** cuCtxSynchronize: waits for all work launched on the device (default 0), blocking the JS
 * thread meanwhile (Stream.synchronizeAsync() and Event.wait() do not). A kernel fault surfaces
 * here as an Error such as "cuCtxSynchronize: CUDA_ERROR_ILLEGAL_ADDRESS". Such a fault is
 * sticky: the context is dead for the rest of the process and every later GPU call fails with
 * CUDA_ERROR_CONTEXT_LOST. */
export function synchronize(device = 0): void {
  requireDevice(device, 'synchronize: device');
  native().synchronize(device);
}
