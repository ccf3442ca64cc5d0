// Loads the native addon (native/, built by `npm install` into build/Release) on first use and
// describes its raw exports. Everything here is internal: the typed, checked API is in the
// sibling modules and index.ts.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceInfo } from './devices.js';

/** Opaque native handle (a type-tagged N-API external). */
export interface NativeHandle { readonly __brand: 'stagewise.NativeHandle' }

/** Launch parameter as the addon takes it: [tag, value]; tags in native/napi_kernels.cc. */
export type NativeParam = [0, bigint] | [1, number] | [2, number] | [3, number] | [4, Uint8Array];

export interface NativeLaunchSpec {
  grid: number[];
  block: number[];
  cluster?: number[];
  sharedMemBytes: number;
  params: NativeParam[];
}

export interface NativeAddon {
  devices(): {
    devices: DeviceInfo[];
    reason?: string;
    driverVersion?: number;
    contextLost?: string;
  };
  nvrtcInfo(): { loaded: boolean; path?: string; version?: [number, number]; reason?: string };
  synchronize(device?: number): void;
  memAlloc(bytes: number, device: number): { handle: NativeHandle; ptr: bigint };
  memWrap(ptr: bigint, bytes: number, device: number): NativeHandle;
  memFree(handle: NativeHandle): void;
  memUpload(handle: NativeHandle, src: Uint8Array, dstOffsetBytes: number): void;
  memDownload(handle: NativeHandle, dst: Uint8Array, srcOffsetBytes: number): void;
  memCopy(dst: NativeHandle, src: NativeHandle, bytes: number, dstOffsetBytes: number, srcOffsetBytes: number): void;
  memSet(handle: NativeHandle, widthBytes: 1 | 2 | 4, value: number): void;
  compile(source: string, name: string, headerNames: string[], headerSources: string[], options: string[]): Promise<{ cubin: Uint8Array; log: string }>;
  moduleLoad(cubin: Uint8Array, device: number): NativeHandle;
  moduleUnload(module: NativeHandle): void;
  moduleGetFunction(module: NativeHandle, name: string): NativeHandle;
  funcSetMaxDynamicShared(fn: NativeHandle, bytes: number): void;
  funcMaxActiveClusters(fn: NativeHandle, clusterX: number, threads: number, sharedMemBytes: number): number;
  funcAttributes(fn: NativeHandle): { numRegs: number; localSizeBytes: number; maxThreadsPerBlock: number; sharedSizeBytes: number };
  /** A spec checked and encoded once, as a native handle (no device needed). */
  specPrepare(spec: NativeLaunchSpec): NativeHandle;
  launchSpec(fn: NativeHandle, prepared: NativeHandle, stream?: NativeHandle): void;
  timeLaunches(fn: NativeHandle, specs: NativeLaunchSpec[], warmup: number, iterations: number): number[];
  streamCreate(device: number): NativeHandle;
  streamDefault(device: number): NativeHandle;
  streamDestroy(stream: NativeHandle): void;
  streamSynchronizeAsync(stream: NativeHandle): Promise<void>;
  eventRecord(stream: NativeHandle, event?: NativeHandle): NativeHandle;
  eventQuery(event: NativeHandle): boolean;
  eventWait(event: NativeHandle): Promise<void>;
  eventDestroy(event: NativeHandle): void;
  encodeTensorMap(desc: {
    dataType: number;
    address: bigint;
    dims: number[];
    stridesBytes: number[];
    box: number[];
    elementStrides: number[];
    swizzle: number;
    l2Promotion: number;
    oobFill: number;
    device?: number;
  }): Uint8Array;
}

// src/runtime/native.ts and dist/runtime/native.js both sit two levels below the package root.
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const candidates = [
  path.join(packageRoot, 'build', 'Release', 'stagewise.node'),
  path.join(packageRoot, 'build', 'Debug', 'stagewise.node'),
  path.join(packageRoot, 'build-cmake', 'Release', 'stagewise.node'),
];

let loaded: NativeAddon | undefined;
let loadFailure: string | undefined;

/** Why the addon cannot be loaded, or undefined when it can. */
export function addonProblem(): string | undefined {
  if (loaded) return undefined;
  if (loadFailure) return loadFailure;
  const file = candidates.find((c) => existsSync(c));
  if (!file) {
    loadFailure = `the native addon is not built (looked for ${candidates[0]}); run \`npm run build:native\``;
    return loadFailure;
  }
  try {
    loaded = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    loadFailure = `the native addon at ${file} failed to load: ${err instanceof Error ? err.message : String(err)}`;
  }
  return loadFailure;
}

/** The addon, or an Error saying why it cannot be loaded. */
export function native(): NativeAddon {
  const problem = addonProblem();
  if (problem) throw new Error(`stagewise: ${problem}`);
  return loaded!;
}

/** Where a wrapper object keeps its native handle (not part of the public API). */
export const HANDLE: unique symbol = Symbol('stagewise.nativeHandle');
