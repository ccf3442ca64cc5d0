# Development tool (GPU): torch cuDNN SDPA timed in separate rounds, each with fresh inputs, to see
# how much its median moves between rounds (session 10: the gate's 4k-16k configs moved 5-10%).
# usage: python3 bench/dev/cudnn_rounds.py B H N D causal(0|1) ROUNDS [ITERATIONS]
# COOLDOWN_MS: idle before each round's timed burst (as bench --cooldown).
import os, sys, time
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

b, h, n, d, causal, rounds = (int(x) for x in sys.argv[1:7])
iters = int(sys.argv[7]) if len(sys.argv) > 7 else 30
flops = 4 * b * h * d * (n * (n + 1) // 2 if causal else n * n)
with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
    for r in range(rounds):
        sets = [tuple(torch.randn(b, h, n, d, device='cuda', dtype=torch.float16) for _ in range(3)) for _ in range(2)]
        f = lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=bool(causal))
        for i in range(10):
            f(*sets[i % 2])
        torch.cuda.synchronize()
        time.sleep(float(os.environ.get('COOLDOWN_MS', '0')) / 1000)
        for i in range(10):
            f(*sets[i % 2])
        torch.cuda.synchronize()
        ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
        for i, (s, e) in enumerate(ev):
            s.record(); f(*sets[i % 2]); e.record()
        torch.cuda.synchronize()
        ms = sorted(s.elapsed_time(e) for s, e in ev)
        med = ms[len(ms) // 2]
        print(f"{time.strftime('%H:%M:%S')} cudnn {b}x{h}x{n}x{d} causal={causal} round {r + 1}/{rounds}: "
              f"{flops / med / 1e9:.1f} TFLOP/s (min {flops / ms[-1] / 1e9:.1f}, max {flops / ms[0] / 1e9:.1f})", flush=True)
        del sets
