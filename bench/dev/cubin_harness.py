#!/usr/bin/env python3
"""Low-level check of generated cubins on a GPU without Node.js: loads each cubin through the
driver API (ctypes), encodes the TMA maps, launches on torch tensors, compares O and LSE with an
fp32 reference and times the headline shape with CUDA events. A development tool: the library's
own path is the Node addon (src/runtime); this exists to debug kernels in isolation.

usage: cubin_harness.py DIR [--time] [--passes N]   (DIR holds *.cubin with a *.json config beside each)
--passes N: after the checks, time every kernel that passed in N interleaved passes (the card's
clock drifts between passes; only a kernel's standing within one pass compares).
"""
import ctypes, json, math, os, sys, glob
import torch

cuda = ctypes.CDLL("libcuda.so.1")

def check(res, what):
    if res != 0:
        name = ctypes.c_char_p()
        cuda.cuGetErrorName(res, ctypes.byref(name))
        raise RuntimeError(f"{what}: {name.value.decode() if name.value else res}")

class TensorMap(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint64 * 16)]

def encode(t, d, rows, box_rows):
    """3-D map over a (BH, N, D) 16-bit tensor: dims innermost first (D, N, BH), 128B swizzle."""
    bh, n, _ = t.shape
    m = TensorMap()
    dims = (ctypes.c_uint64 * 3)(d, n, bh)
    strides = (ctypes.c_uint64 * 2)(d * 2, n * d * 2)
    box = (ctypes.c_uint32 * 3)(64, box_rows, 1)
    es = (ctypes.c_uint32 * 3)(1, 1, 1)
    dt = 6 if t.dtype == torch.float16 else 9
    check(cuda.cuTensorMapEncodeTiled(ctypes.byref(m), dt, 3, ctypes.c_void_p(t.data_ptr()), dims, strides, box, es,
                                      0, 3, 3, 0), "cuTensorMapEncodeTiled")
    return m

def load(path):
    data = open(path, "rb").read()
    mod = ctypes.c_void_p()
    check(cuda.cuModuleLoadData(ctypes.byref(mod), ctypes.c_char_p(data)), "cuModuleLoadData")
    fn = ctypes.c_void_p()
    check(cuda.cuModuleGetFunction(ctypes.byref(fn), mod, b"stagewise_attn_fwd"), "cuModuleGetFunction")
    return fn

def launch(fn, meta, q, k, v, o, lse, causal, stream=0):
    bh, n, d = q.shape
    bm, bn = meta["blockM"], meta["blockN"]
    tq, tk, tv = encode(q, d, n, 64), encode(k, d, n, bn), encode(v, d, n, bn)
    ptrs = [ctypes.c_void_p(x.data_ptr()) for x in (q, k, v, o, lse)]
    seq = ctypes.c_int(n)
    scale = ctypes.c_float(1.0 / math.sqrt(d) * 1.4426950408889634)
    args = [tq, tk, tv, *ptrs, seq, scale]
    params = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
    check(cuda.cuFuncSetAttribute(fn, 8, meta["smem"]), "cuFuncSetAttribute")
    grid = (n + bm - 1) // bm
    check(cuda.cuLaunchKernel(fn, grid, bh, 1, meta["threads"], 1, 1, meta["smem"], ctypes.c_void_p(stream), params, None),
          "cuLaunchKernel")
    return args  # keep alive

def reference(q, k, v, causal):
    qf, kf, vf = q.float(), k.float(), v.float()
    s = qf @ kf.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n = q.shape[1]
        s = s.masked_fill(torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return torch.softmax(s, -1) @ vf, torch.logsumexp(s, -1)

def run_check(fn, meta, bh, n):
    d = meta["headDim"]; dt = torch.float16 if meta["dtype"] == "f16" else torch.bfloat16
    q, k, v = (torch.randn(bh, n, d, device="cuda", dtype=dt) for _ in range(3))
    o = torch.full((bh, n, d), float("nan"), device="cuda", dtype=dt)
    lse = torch.full((bh, n), float("nan"), device="cuda", dtype=torch.float32)
    keep = launch(fn, meta, q, k, v, o, lse, meta["causal"])
    torch.cuda.synchronize()
    ro, rl = reference(q, k, v, meta["causal"])
    of = o.float()
    nan = int(torch.isnan(of).sum())
    rel = float((of - ro).norm() / ro.norm()) if nan == 0 else float("nan")
    lerr = float((lse - rl).abs().max())
    return rel, nan, lerr

def run_time(fn, meta, b=8, h=16, n=8192, iters=20, warm=3):
    d = meta["headDim"]; dt = torch.float16 if meta["dtype"] == "f16" else torch.bfloat16
    sets = []
    for _ in range(2):
        q, k, v = (torch.randn(b * h, n, d, device="cuda", dtype=dt) for _ in range(3))
        sets.append((q, k, v, torch.empty_like(q), torch.empty(b * h, n, device="cuda", dtype=torch.float32)))
    for i in range(warm):
        launch(fn, meta, *sets[i % 2], meta["causal"])
    torch.cuda.synchronize()
    times = []
    for i in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); keep = launch(fn, meta, *sets[i % 2], meta["causal"]); e.record()
        torch.cuda.synchronize(); times.append(s.elapsed_time(e))
    times.sort()
    ms = times[len(times) // 2]
    fl = 4 * b * h * n * n * d * (0.5 if meta["causal"] else 1.0)
    return ms, fl / ms / 1e9, [fl / t / 1e9 for t in times]

def run_profile(fn, meta, b=2, h=16, n=8192):
    """One launch on a realistic shape, for ncu (no checks, nothing else launched)."""
    d = meta["headDim"]; dt = torch.float16 if meta["dtype"] == "f16" else torch.bfloat16
    q, k, v = (torch.randn(b * h, n, d, device="cuda", dtype=dt) for _ in range(3))
    o = torch.empty_like(q); lse = torch.empty(b * h, n, device="cuda", dtype=torch.float32)
    keep = launch(fn, meta, q, k, v, o, lse, meta["causal"])
    torch.cuda.synchronize()

def main():
    d = sys.argv[1]; timing = "--time" in sys.argv
    torch.cuda.init(); torch.zeros(1, device="cuda")
    if "--profile" in sys.argv:
        for path in sorted(glob.glob(os.path.join(d, "*.cubin"))):
            run_profile(load(path), json.load(open(path[:-6] + ".json")))
        return
    torch.cuda.init(); torch.zeros(1, device="cuda")
    print(torch.cuda.get_device_name())
    passes = int(sys.argv[sys.argv.index("--passes") + 1]) if "--passes" in sys.argv else 0
    passed = []
    for path in sorted(glob.glob(os.path.join(d, "*.cubin"))):
        meta = json.load(open(path[:-6] + ".json"))
        name = os.path.basename(path)[:-6]
        try:
            fn = load(path)
            results = [run_check(fn, meta, bh, n) for bh, n in ((3, 128), (2, 1000), (2, 77), (1, 2048))]
            worst = max(r[0] for r in results); nan = sum(r[1] for r in results); lerr = max(r[2] for r in results)
            ok = nan == 0 and worst < 1e-2 and lerr < 1e-2
            line = f"{name:44s} {'OK ' if ok else 'BAD'} relL2={worst:.2e} nan={nan} lseErr={lerr:.2e}"
            if ok:
                passed.append((name, fn, meta))
            if ok and timing and meta.get("time", True):
                ms, tf, _ = run_time(fn, meta)
                line += f"  {ms:.3f} ms  {tf:.1f} TFLOP/s"
            print(line, flush=True)
        except Exception as e:
            print(f"{name:44s} ERR {e}", flush=True)
            if "ILLEGAL" in str(e) or "LAUNCH" in str(e) or "MISALIGNED" in str(e):
                break
    # Interleaved rounds of a few launches each, so clock drift spreads over every kernel; the
    # summary pools every sample of a kernel.
    results = {name: [] for name, _, _ in passed}
    pooled = {name: [] for name, _, _ in passed}
    for p in range(passes):
        for name, fn, meta in passed:
            ms, tf, samples = run_time(fn, meta, iters=6, warm=1)
            results[name].append(tf)
            pooled[name] += samples
    if passes:
        for name, tfs in results.items():
            ps = sorted(pooled[name])
            print(f"summary {name:56s} pooled median {ps[len(ps) // 2]:.1f}  (rounds: {min(tfs):.1f} .. {max(tfs):.1f})")

if __name__ == "__main__":
    main()
