#!/usr/bin/env python3
"""Times stagewise's peers on the shapes `stagewise bench --peers` asks for.

Peers (each a column of the bench table):
  torch-cudnn    torch SDPA forced onto its cuDNN backend  (SDPBackend.CUDNN_ATTENTION)
  torch-flash    torch SDPA forced onto its flash backend  (SDPBackend.FLASH_ATTENTION)
  torch-default  torch SDPA with no backend forced: torch picks, and the entry says which
  triton         an autotuned FA2-style Triton forward kernel, modelled on the Triton
                 tutorial's fused attention (06-fused-attention.py)

Layout is (batch, heads, seq_len, head_dim), contiguous, as stagewise's. Each peer is first
checked against torch's math SDPA in fp32 on a slice of output rows; only a passing peer is
timed. Timing: `warmup` launches, then `iterations` launches each bracketed by CUDA events,
rotating among several input sets so L2 does not flatter; the median is reported.

Spec, as JSON on stdin, or --spec JSON, or --spec-file FILE:
  {"configs": [{"batch": 8, "heads": 16, "seq_len": 8192, "head_dim": 128,
                "dtype": "f16", "causal": false}],
   "warmup": 10, "iterations": 30, "peers": ["torch-cudnn", "torch-flash", "triton"]}
  optional "cooldown_ms": the card idles that long before each peer's timed burst (bench --cooldown).

Output: one JSON document on stdout (everything else, progress included, goes to stderr):
  {"versions": {"python": ..., "torch": ..., "triton": ... or null, "cudnn": ...},
   "device": "NVIDIA H100 80GB HBM3",
   "results": [{"config": {...},
                "peers": {"torch-cudnn": {"median_ms", "min_ms", "max_ms", "tflops", "samples_ms",
                                          "check": {"rel_l2", "max_abs"}},
                          "triton": {"error": "...", "kind": "unsupported" | "check" | "error"}}}]}
or {"error": "..."} when torch or a CUDA device is missing. A peer that cannot run a config
is an error entry, never a crash.

Problem mode (`stagewise bench --preset ... --peers`): a config may carry a "problem" field,
  {"hq": 32, "hkv": 8, "layout": "bnhd", "softcap": 0, "window": null}
with "heads" = hq. K and V then have hkv heads (GQA: hkv divides hq) and "bnhd" tensors are
[B, N, H, D] in memory. torch SDPA gets them as [B, H, N, D] views (transpose(1, 2) swaps strides:
no copy, the same bytes stagewise reads) with enable_gqa=True when hkv < hq (torch >= 2.5; K and V
are never repeated). Every torch peer's entry then has "backend": the SDPA op that ran, read from
the profiler (cudnn, flash, efficient, math), so torch-default says what torch picked. SDPA has no
softcap and no sliding window: such a problem is "unsupported" for every peer, with that reason, and
nothing is allocated or timed (an attn_mask would time a different, dense-mask problem). The
triton peer runs MHA on [B, H, N, D] only.

Serve mode (`stagewise bench --peers --rounds N`): `--serve` reads one JSON spec per line on stdin
and answers each with one JSON document on one line of stdout, until stdin closes. The bench sends
one spec after each of its own rounds, so peers and stagewise are timed in interleaved rounds of
the same run; torch is imported once and Triton autotunes each shape once, in the first round.

Standalone: python3 bench/peers.py --quick       (headline shape 8x16x8192x128, f16, non-causal)
            python3 bench/peers.py --quick-gqa   (llama3-8b 4x8192, Hq 32 / Hkv 8, D 128, causal, BNHD)
"""

import argparse
import json
import math
import os
import platform
import sys
import time
import traceback
import warnings

PEERS = ("torch-cudnn", "torch-flash", "triton")
# The default for a spec whose configs carry a problem: the three ways torch SDPA can be asked.
PROBLEM_PEERS = ("torch-cudnn", "torch-flash", "torch-default")
KNOWN_PEERS = ("torch-cudnn", "torch-flash", "torch-default", "triton")
HEADLINE = {"batch": 8, "heads": 16, "seq_len": 8192, "head_dim": 128, "dtype": "f16", "causal": False}
HEADLINE_GQA = {"batch": 4, "heads": 32, "seq_len": 8192, "head_dim": 128, "dtype": "f16", "causal": True,
                "problem": {"hq": 32, "hkv": 8, "layout": "bnhd", "softcap": 0, "window": None}}
LAYOUTS = ("bhnd", "bnhd")
# The aten op each SDPA backend runs under, as the profiler names it (exact names: the CPU flash
# op's name extends the CUDA one's).
SDPA_OPS = (
    ("aten::_scaled_dot_product_cudnn_attention", "cudnn"),
    ("aten::_scaled_dot_product_flash_attention", "flash"),
    ("aten::_scaled_dot_product_flash_attention_for_cpu", "flash-cpu"),
    ("aten::_scaled_dot_product_efficient_attention", "efficient"),
    ("aten::_scaled_dot_product_fused_attention_overrideable", "overrideable"),
    ("aten::_scaled_dot_product_attention_math", "math"),
)
# Relative L2 error allowed against the fp32 reference: a few ulps of the storage type.
TOLERANCE = {"f16": 1e-2, "bf16": 2e-2}
# Enough distinct inputs that they cannot all sit in L2 (50 MB on H100).
ROTATION_BYTES = 256 << 20
MAX_INPUT_SETS = 8
CHECK_ROWS = 128  # rows taken from each end of the sequence for the check
CHECK_HEADS = 2


class Unsupported(Exception):
    """The peer cannot run this config (backend missing, dtype, head dim, shape)."""


class CheckFailed(Exception):
    """The peer ran but its output disagrees with the fp32 reference."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def flops(cfg):
    f = 4.0 * cfg["batch"] * cfg["heads"] * cfg["seq_len"] ** 2 * cfg["head_dim"]
    return f / 2 if cfg["causal"] else f


def describe(cfg):
    causal = " causal" if cfg["causal"] else ""
    p = cfg.get("problem")
    if p is None:
        return f'{cfg["dtype"]} {cfg["batch"]}x{cfg["heads"]}x{cfg["seq_len"]}x{cfg["head_dim"]}{causal}'
    extra = (f' softcap {p["softcap"]:g}' if p["softcap"] > 0 else "") + (f' window {p["window"]}' if p["window"] is not None else "")
    return f'{cfg["dtype"]} {cfg["batch"]}x{cfg["seq_len"]} Hq{p["hq"]}/Hkv{p["hkv"]} D{cfg["head_dim"]} {p["layout"]}{causal}{extra}'


def sdpa_gap(cfg):
    """Why torch SDPA cannot run this problem as posed, or None. An attn_mask could express a window,
    but it would time a dense-mask kernel: a different problem under the same name."""
    p = cfg.get("problem")
    if p is None:
        return None
    has = ([f'softcap {p["softcap"]:g}'] if p["softcap"] > 0 else []) + ([f'window {p["window"]}'] if p["window"] is not None else [])
    return f'torch SDPA has no softcap or sliding window (this problem has {", ".join(has)})' if has else None


def as_bhnd(tensors, cfg):
    """[B, H, N, D] views of a problem's tensors: transpose(1, 2) of [B, N, H, D] swaps strides, no copy."""
    p = cfg.get("problem")
    if p is None or p["layout"] == "bhnd":
        return tuple(tensors)
    return tuple(t.transpose(1, 2) for t in tensors)


# ---------------------------------------------------------------------------------------------
# Triton: FA2-style forward, after the Triton tutorial's fused attention. One program owns
# BLOCK_M query rows of one (batch, head) and streams K/V in BLOCK_N blocks with an online
# softmax in base 2. Causal runs two passes, as the tutorial does: blocks left of the diagonal
# without a mask (STAGE 1), then the diagonal band with one (STAGE 2).
# ---------------------------------------------------------------------------------------------

triton = None
TRITON_ERROR = None
try:
    import triton  # noqa: F811
    import triton.language as tl
except Exception as e:  # not installed, or installed without a working backend
    triton = None
    TRITON_ERROR = f"triton not importable: {type(e).__name__}: {e}"

if triton is not None:

    def _triton_configs():
        configs = []
        for block_m in (64, 128):
            for block_n in (32, 64, 128):
                for num_warps in (4, 8):
                    for num_stages in (2, 3, 4):
                        configs.append(
                            triton.Config({"BLOCK_M": block_m, "BLOCK_N": block_n}, num_warps=num_warps, num_stages=num_stages)
                        )
        return configs

    def _prune_configs(configs, named_args, **kwargs):
        args = dict(named_args)
        args.update(kwargs)
        head_dim = args.get("HEAD_DIM")
        n_ctx = args.get("N_CTX")
        kept = []
        for c in configs:
            bm, bn = c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"]
            if bn > bm:  # the causal band loop steps BLOCK_N through one BLOCK_M block
                continue
            if bm * bn < 128 * 128 and c.num_warps == 8:  # the tutorial's rule: too little work for 8 warps
                continue
            if head_dim == 256 and bn > 64:  # K and V stages alone would overflow shared memory
                continue
            if isinstance(n_ctx, int) and n_ctx % bm != 0:
                continue
            kept.append(c)
        return kept or configs[:1]

    @triton.jit
    def _attn_fwd_inner(acc, l_i, m_i, q, k_base, v_base, start_m, qk_scale,
                        BLOCK_M: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr,
                        STAGE: tl.constexpr, offs_m, offs_n, offs_d, N_CTX):
        if STAGE == 1:
            lo, hi = 0, start_m * BLOCK_M
        elif STAGE == 2:
            lo, hi = start_m * BLOCK_M, (start_m + 1) * BLOCK_M
            lo = tl.multiple_of(lo, BLOCK_M)
        else:
            lo, hi = 0, N_CTX
        for start_n in range(lo, hi, BLOCK_N):
            start_n = tl.multiple_of(start_n, BLOCK_N)
            k = tl.load(k_base + (start_n + offs_n)[None, :] * HEAD_DIM + offs_d[:, None])
            qk = tl.dot(q, k)
            if STAGE == 2:
                mask = offs_m[:, None] >= (start_n + offs_n[None, :])
                qk = qk * qk_scale + tl.where(mask, 0, -1.0e6)
                m_ij = tl.maximum(m_i, tl.max(qk, 1))
                qk -= m_ij[:, None]
            else:
                m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
                qk = qk * qk_scale - m_ij[:, None]
            p = tl.math.exp2(qk)
            l_ij = tl.sum(p, 1)
            alpha = tl.math.exp2(m_i - m_ij)
            l_i = l_i * alpha + l_ij
            acc = acc * alpha[:, None]
            v = tl.load(v_base + (start_n + offs_n)[:, None] * HEAD_DIM + offs_d[None, :])
            acc += tl.dot(p.to(v.dtype), v)
            m_i = m_ij
        return acc, l_i, m_i

    @triton.autotune(
        configs=_triton_configs(),
        key=["N_CTX", "HEAD_DIM", "STAGE"],
        prune_configs_by={"early_config_prune": _prune_configs},
    )
    @triton.jit
    def _attn_fwd(Q, K, V, Out, sm_scale, N_CTX,
                  HEAD_DIM: tl.constexpr, STAGE: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        start_m = tl.program_id(0)
        off_hz = tl.program_id(1)
        base = off_hz.to(tl.int64) * N_CTX * HEAD_DIM
        offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, HEAD_DIM)
        q = tl.load(Q + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
        m_i = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")
        l_i = tl.zeros([BLOCK_M], dtype=tl.float32) + 1.0
        acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
        qk_scale = sm_scale * 1.44269504  # 1/ln(2): softmax in base 2
        if STAGE & 1:
            acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, K + base, V + base, start_m, qk_scale,
                                            BLOCK_M, HEAD_DIM, BLOCK_N, 4 - STAGE, offs_m, offs_n, offs_d, N_CTX)
        if STAGE & 2:
            acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, K + base, V + base, start_m, qk_scale,
                                            BLOCK_M, HEAD_DIM, BLOCK_N, 2, offs_m, offs_n, offs_d, N_CTX)
        acc = acc / l_i[:, None]
        tl.store(Out + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :], acc.to(Out.dtype.element_ty))


def triton_attention(causal):
    if triton is None:
        raise Unsupported(TRITON_ERROR)

    def run(q, k, v):
        batch, heads, n_ctx, head_dim = q.shape
        out = torch.empty_like(q)
        grid = lambda meta: (triton.cdiv(n_ctx, meta["BLOCK_M"]), batch * heads, 1)  # noqa: E731
        _attn_fwd[grid](q, k, v, out, 1.0 / math.sqrt(head_dim), n_ctx, HEAD_DIM=head_dim, STAGE=3 if causal else 1)
        return out

    return run


# ---------------------------------------------------------------------------------------------
# torch SDPA on one forced backend
# ---------------------------------------------------------------------------------------------

def sdpa_backend(name):
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError as e:
        raise Unsupported(f"torch {torch.__version__} has no torch.nn.attention.sdpa_kernel ({e})")
    attr = {"torch-cudnn": "CUDNN_ATTENTION", "torch-flash": "FLASH_ATTENTION"}[name]
    if not hasattr(SDPBackend, attr):
        raise Unsupported(f"torch {torch.__version__} has no SDPBackend.{attr}")
    return sdpa_kernel(getattr(SDPBackend, attr))


def sdpa_attention(causal):
    import torch.nn.functional as F

    def run(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def sdpa_problem(cfg):
    """SDPA on a problem's own tensors: [B, H, N, D] views of [B, N, H, D] storage, and GQA through
    enable_gqa (only when hkv < hq, so MHA problems still run on torch < 2.5)."""
    import torch.nn.functional as F

    gqa = {"enable_gqa": True} if cfg["problem"]["hkv"] != cfg["problem"]["hq"] else {}

    def run(q, k, v):
        q, k, v = as_bhnd((q, k, v), cfg)
        return F.scaled_dot_product_attention(q, k, v, is_causal=cfg["causal"], **gqa)

    return run


def reports_backend(name, cfg):
    """torch-default always says what torch picked; in problem mode every torch peer says what ran."""
    return name == "torch-default" or (cfg.get("problem") is not None and name.startswith("torch-"))


def backend_ran(fn, inputs):
    """The SDPA backend of one call, from the aten op the profiler saw: what ran, not what was asked."""
    try:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn(*inputs)
        torch.cuda.synchronize()
        names = {e.name for e in prof.events()}
    except Exception as e:
        return f"unknown (profiler: {error_text(e, 200)})"
    found = [backend for op, backend in SDPA_OPS if op in names]
    return "+".join(found) if found else "unknown (no SDPA op in the profile)"


def build_peer(name, cfg):
    """(context manager to run inside, fn(q, k, v) -> out); raises Unsupported."""
    import contextlib

    problem = cfg.get("problem")
    if name == "triton":
        if problem is not None and (problem["hkv"] != problem["hq"] or problem["layout"] != "bhnd"):
            raise Unsupported("the triton peer runs MHA on contiguous [B, H, N, D] only (no GQA, no [B, N, H, D])")
        if cfg["seq_len"] % 128 != 0:
            raise Unsupported("the triton peer needs seq_len % 128 == 0 (no masking of partial blocks)")
        return contextlib.nullcontext(), triton_attention(cfg["causal"])
    run = sdpa_attention(cfg["causal"]) if problem is None else sdpa_problem(cfg)
    if name in ("torch-cudnn", "torch-flash"):
        return sdpa_backend(name), run
    if name == "torch-default":
        return contextlib.nullcontext(), run
    raise Unsupported(f"unknown peer '{name}' (known: {', '.join(KNOWN_PEERS)})")


# ---------------------------------------------------------------------------------------------
# inputs, check, timing
# ---------------------------------------------------------------------------------------------

def make_inputs(cfg):
    """Input sets (q, k, v) in the config's memory layout: [B, H, N, D], or [B, N, H, D] for a bnhd problem."""
    dtype = {"f16": torch.float16, "bf16": torch.bfloat16}[cfg["dtype"]]
    p = cfg.get("problem")
    b, n, d = cfg["batch"], cfg["seq_len"], cfg["head_dim"]

    def shape(heads):
        return (b, n, heads, d) if p is not None and p["layout"] == "bnhd" else (b, heads, n, d)

    shapes = (shape(cfg["heads"]),) + (shape(p["hkv"] if p is not None else cfg["heads"]),) * 2
    set_bytes = sum(math.prod(s) for s in shapes) * torch.finfo(dtype).bits // 8
    count = max(2, min(MAX_INPUT_SETS, -(-ROTATION_BYTES // set_bytes)))
    gen = torch.Generator(device="cuda").manual_seed(1234)
    return [tuple(torch.randn(s, dtype=dtype, device="cuda", generator=gen) for s in shapes) for _ in range(count)]


def check_rows(n):
    if n <= 2 * CHECK_ROWS:
        return torch.arange(n, device="cuda")
    return torch.cat([torch.arange(CHECK_ROWS, device="cuda"), torch.arange(n - CHECK_ROWS, n, device="cuda")])


def reference(q, k, v, rows, causal):
    """torch math SDPA in fp32 for batch 0, the first heads and the chosen query rows ([B, H, N, D] views)."""
    import torch.nn.functional as F

    h = min(CHECK_HEADS, q.shape[1])
    group = q.shape[1] // k.shape[1]
    # Query head i reads K/V head i // group (GQA); repeated here on the small fp32 slice only.
    kv_heads = -(-h // group)
    qs = q[:1, :h].float()[:, :, rows]
    ks, vs = (t[:1, :kv_heads].float().repeat_interleave(group, dim=1)[:, :h] for t in (k, v))
    mask = None
    if causal:  # explicit: is_causal would align a row slice to the top-left
        mask = torch.arange(k.shape[2], device="cuda")[None, :] <= rows[:, None]
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.MATH):
            return F.scaled_dot_product_attention(qs, ks, vs, attn_mask=mask)
    except ImportError:
        scores = (qs @ ks.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1) @ vs


def check(fn, cfg, inputs):
    out = fn(*inputs)
    torch.cuda.synchronize()
    q, k, v = as_bhnd(inputs, cfg)
    if tuple(out.shape) != tuple(q.shape):
        raise CheckFailed(f"output shape {tuple(out.shape)}, expected {tuple(q.shape)}")
    rows = check_rows(cfg["seq_len"])
    ref = reference(q, k, v, rows, cfg["causal"])
    got = out[:1, : ref.shape[1]][:, :, rows].float()
    if torch.isnan(got).any():
        raise CheckFailed("NaN in output")
    rel_l2 = ((got - ref).norm() / ref.norm().clamp_min(1e-30)).item()
    max_abs = (got - ref).abs().max().item()
    result = {"rel_l2": rel_l2, "max_abs": max_abs}
    if not rel_l2 <= TOLERANCE[cfg["dtype"]]:
        raise CheckFailed(f"relL2 {rel_l2:.3g} > {TOLERANCE[cfg['dtype']]} (maxAbs {max_abs:.3g}) against fp32 math SDPA")
    return result


def time_launches(fn, input_sets, warmup, iterations):
    """ms per launch for each timed launch, rotating among input sets."""
    for i in range(warmup):
        fn(*input_sets[i % len(input_sets)])
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
    for i in range(iterations):
        q, k, v = input_sets[(warmup + i) % len(input_sets)]
        starts[i].record()
        fn(q, k, v)
        ends[i].record()
    torch.cuda.synchronize()
    return [s.elapsed_time(e) for s, e in zip(starts, ends)]


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def error_text(e, limit=600):
    text = f"{type(e).__name__}: {e}".strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_peer(name, cfg, input_sets, warmup, iterations, cooldown_ms=0):
    try:
        ctx, fn = build_peer(name, cfg)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with ctx:
                    checked = check(fn, cfg, input_sets[0])
                    backend = backend_ran(fn, input_sets[0]) if reports_backend(name, cfg) else None
                    if cooldown_ms > 0:
                        # The bench's --cooldown: the card idles before each burst, as before ours.
                        torch.cuda.synchronize()
                        time.sleep(cooldown_ms / 1000)
                    samples = time_launches(fn, input_sets, warmup, iterations)
            except TypeError as e:
                if "enable_gqa" in str(e):
                    raise Unsupported(f"torch {torch.__version__} has no enable_gqa (SDPA takes GQA from torch 2.5)")
                raise
            except RuntimeError as e:
                # torch says "No available kernel" when the forced backend rejects the inputs (its
                # reasons arrive as warnings), "No viable backend" when it is not there at all.
                if "No available kernel" in str(e) or "No viable backend" in str(e):
                    reasons = [str(w.message).splitlines()[0] for w in caught]
                    why = "; ".join(reasons)
                    p = cfg.get("problem")
                    if p is not None and p["hkv"] != p["hq"] and any("num_heads" in r for r in reasons):
                        why = "enable_gqa unsupported by this backend" + (f" ({why})" if why else "")
                    raise Unsupported(f"{name} cannot run {describe(cfg)}" + (f": {why}" if why else ""))
                raise
    except Unsupported as e:
        return {"error": error_text(e), "kind": "unsupported"}
    except CheckFailed as e:
        return {"error": str(e), "kind": "check"}
    except Exception as e:
        if isinstance(e, torch.cuda.OutOfMemoryError):
            torch.cuda.empty_cache()
        log(traceback.format_exc().rstrip())
        return {"error": error_text(e), "kind": "error"}
    ms = median(samples)
    result = {
        "median_ms": ms,
        "min_ms": min(samples),
        "max_ms": max(samples),
        "tflops": flops(cfg) / (ms * 1e9),
        "samples_ms": samples,
        "check": checked,
    }
    if backend is not None:
        result["backend"] = backend
    return result


def normalise_config(raw):
    cfg = {
        "batch": int(raw["batch"]),
        "heads": int(raw["heads"]),
        "seq_len": int(raw.get("seq_len", raw.get("seqLen", 0))),
        "head_dim": int(raw.get("head_dim", raw.get("headDim", 0))),
        "dtype": str(raw.get("dtype", "f16")),
        "causal": bool(raw.get("causal", False)),
    }
    if min(cfg["batch"], cfg["heads"], cfg["seq_len"], cfg["head_dim"]) <= 0:
        raise ValueError(f"config needs positive batch, heads, seq_len, head_dim: {raw}")
    if cfg["dtype"] not in TOLERANCE:
        raise ValueError(f"dtype must be f16 or bf16: {raw}")
    if "problem" in raw:
        cfg["problem"] = normalise_problem(raw["problem"], cfg)
    return cfg


def normalise_problem(raw, cfg):
    if not isinstance(raw, dict):
        raise ValueError(f"problem must be an object: {raw}")
    hq, hkv = int(raw.get("hq", cfg["heads"])), int(raw.get("hkv", cfg["heads"]))
    if hq != cfg["heads"]:
        raise ValueError(f"problem hq {hq} differs from heads {cfg['heads']}")
    if hkv <= 0 or hq % hkv != 0:
        raise ValueError(f"problem hkv {hkv} must divide hq {hq}")
    layout = str(raw.get("layout", "bhnd"))
    if layout not in LAYOUTS:
        raise ValueError(f"problem layout must be one of {', '.join(LAYOUTS)}: {raw}")
    window = raw.get("window")
    if window is not None:
        if not isinstance(window, (list, tuple)) or len(window) != 2:
            raise ValueError(f"problem window must be [left, right] or null: {raw}")
        window = [int(window[0]), int(window[1])]
    return {"hq": hq, "hkv": hkv, "layout": layout, "softcap": float(raw.get("softcap") or 0), "window": window}


def run_spec(spec):
    configs = [normalise_config(c) for c in spec.get("configs", [])]
    warmup = int(spec.get("warmup", 10))
    iterations = int(spec.get("iterations", 30))
    cooldown_ms = float(spec.get("cooldown_ms", 0))
    if not 0 <= cooldown_ms <= 10000:
        raise ValueError(f"cooldown_ms must be in 0..10000, got {cooldown_ms}")
    default_peers = PROBLEM_PEERS if any("problem" in c for c in configs) else PEERS
    peers = list(spec.get("peers", default_peers))
    results = []
    for i, cfg in enumerate(configs):
        entry = {"config": cfg, "peers": {}}
        gap = sdpa_gap(cfg)
        if gap is not None:
            # Nothing allocated, nothing timed: no peer here runs softcap or a window.
            entry["peers"] = {name: {"error": gap, "kind": "unsupported"} for name in peers}
            results.append(entry)
            log(f"[{i + 1}/{len(configs)}] {describe(cfg)} ... unsupported: {gap}")
            continue
        try:
            input_sets = make_inputs(cfg)
        except Exception as e:
            torch.cuda.empty_cache()
            err = {"error": f"could not allocate inputs: {error_text(e)}", "kind": "error"}
            entry["peers"] = {name: err for name in peers}
            results.append(entry)
            log(f"[{i + 1}/{len(configs)}] {describe(cfg)} ... inputs: {err['error']}")
            continue
        for name in peers:
            res = run_peer(name, cfg, input_sets, warmup, iterations, cooldown_ms)
            entry["peers"][name] = res
            shown = f'{res["tflops"]:.1f} TFLOP/s' if "tflops" in res else f'{res["kind"]}: {res["error"]}'
            if "backend" in res:
                shown += f' (ran {res["backend"]})'
            log(f"[{i + 1}/{len(configs)}] {name} {describe(cfg)} ... {shown}")
        del input_sets
        torch.cuda.empty_cache()
        results.append(entry)
    return results


def versions():
    v = {"python": platform.python_version(), "torch": torch.__version__, "triton": None, "cuda": torch.version.cuda}
    if triton is not None:
        v["triton"] = getattr(triton, "__version__", "unknown")
    try:
        v["cudnn"] = str(torch.backends.cudnn.version())
    except Exception:
        v["cudnn"] = None
    return v


def table(results):
    names = list(PEERS) + [p for p in KNOWN_PEERS if p not in PEERS and any(p in r["peers"] for r in results)]
    lines = ["config".ljust(28) + "".join(p.rjust(14) for p in names) + "   (TFLOP/s)"]
    for r in results:
        cells = []
        for p in names:
            res = r["peers"].get(p)
            cells.append("-" if res is None else f'{res["tflops"]:.1f}' if "tflops" in res else res["kind"][:5])
        lines.append(describe(r["config"]).ljust(28) + "".join(c.rjust(14) for c in cells))
    return "\n".join(lines)


def read_spec(args):
    if args.quick:
        return {"configs": [HEADLINE], "warmup": args.warmup or 10, "iterations": args.iterations or 30}
    if args.quick_gqa:
        return {"configs": [HEADLINE_GQA], "warmup": args.warmup or 10, "iterations": args.iterations or 30}
    if args.spec is not None:
        text = args.spec
    elif args.spec_file is not None:
        with open(args.spec_file, encoding="utf8") as f:
            text = f.read()
    elif sys.stdin.isatty():
        raise ValueError("no spec: pass --quick, --spec JSON, --spec-file FILE, or a JSON spec on stdin")
    else:
        text = sys.stdin.read()
    spec = json.loads(text)
    if not isinstance(spec, dict):
        raise ValueError("the spec must be a JSON object with a 'configs' list")
    if args.warmup is not None:
        spec["warmup"] = args.warmup
    if args.iterations is not None:
        spec["iterations"] = args.iterations
    if args.peers is not None:
        spec["peers"] = [p for p in args.peers.split(",") if p]
    return spec


def main():
    # Only the JSON document may reach stdout: move fd 1 (and anything a library prints or
    # a C extension writes there) onto stderr, keeping a private handle for the result.
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(doc):
        result_out.write(json.dumps(doc) + "\n")
        result_out.flush()

    parser = argparse.ArgumentParser(description="Time torch SDPA (cuDNN, flash, torch's pick) and a Triton kernel as stagewise's peers.")
    parser.add_argument("--quick", action="store_true", help="headline shape 8x16x8192x128, f16, non-causal")
    parser.add_argument("--quick-gqa", action="store_true", help="llama3-8b 4x8192, Hq 32 / Hkv 8, D 128, causal, BNHD, f16")
    parser.add_argument("--spec", help="the JSON spec as an argument")
    parser.add_argument("--spec-file", help="read the JSON spec from a file")
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--peers", help=f"comma-separated subset of {','.join(KNOWN_PEERS)}")
    parser.add_argument("--serve", action="store_true", help="one JSON spec per stdin line, one JSON document per stdout line")
    args = parser.parse_args()
    if args.serve:
        return serve(emit)

    try:
        spec = read_spec(args)
    except Exception as e:
        emit({"error": f"bad spec: {error_text(e)}"})
        return 2

    global torch
    try:
        import torch  # noqa: F401
    except Exception as e:
        emit({"error": f"torch not importable with {sys.executable}: {error_text(e)}"})
        return 0
    if not torch.cuda.is_available():
        emit({"error": f"torch {torch.__version__} sees no CUDA device"})
        return 0

    try:
        results = run_spec(spec)
    except (KeyError, TypeError, ValueError) as e:
        emit({"error": f"bad spec: {error_text(e)}"})
        return 2
    log(table(results))
    emit({"versions": versions(), "device": torch.cuda.get_device_name(), "results": results})
    return 0


def serve(emit):
    """--serve: a spec per stdin line, a document per stdout line; every line gets an answer."""
    global torch
    unusable = None
    try:
        import torch  # noqa: F401
        if not torch.cuda.is_available():
            unusable = f"torch {torch.__version__} sees no CUDA device"
    except Exception as e:
        unusable = f"torch not importable with {sys.executable}: {error_text(e)}"
    for line in sys.stdin:
        if not line.strip():
            continue
        if unusable is not None:
            emit({"error": unusable})
            continue
        try:
            spec = json.loads(line)
            if not isinstance(spec, dict):
                raise ValueError("the spec must be a JSON object with a 'configs' list")
            results = run_spec(spec)
        except (KeyError, TypeError, ValueError) as e:
            emit({"error": f"bad spec: {error_text(e)}"})
            continue
        log(table(results))
        emit({"versions": versions(), "device": torch.cuda.get_device_name(), "results": results})
    return 0


torch = None

if __name__ == "__main__":
    sys.exit(main())
