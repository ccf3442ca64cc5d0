// What this machine has: CUDA devices, driver, NVRTC. These never throw for a missing GPU,
// driver, toolkit or even an unbuilt addon: they report the reason instead.
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

/** cuCtxSynchronize: waits for all launched work; a kernel fault surfaces here as an Error
 * such as "cuCtxSynchronize: CUDA_ERROR_ILLEGAL_ADDRESS". Such a fault is sticky: the context
 * is dead for the rest of the process and every later GPU call fails with CUDA_ERROR_CONTEXT_LOST. */
export function synchronize(): void {
  native().synchronize();
}
