#!/usr/bin/env python3
"""The same Llama training step in plain PyTorch (Debian's python3-torch), as a speed reference.

Prints one JSON line like model_bench: python3 torch_ref.py train tiny 8 256 10
Written the way a PyTorch user would write it (HF-style modules, repeat_kv, rotate_half).
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {
    "tiny": dict(hidden=128, layers=4, heads=4, kv=2, inter=384, tied=True),
    "small": dict(hidden=256, layers=6, heads=8, kv=4, inter=768, tied=False),
}
VOCAB = 4096


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h, self.kv = c["hidden"], c["heads"], c["kv"]
        self.hd = d // self.h
        self.q_proj = nn.Linear(d, self.h * self.hd, bias=False)
        self.k_proj = nn.Linear(d, self.kv * self.hd, bias=False)
        self.v_proj = nn.Linear(d, self.kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.h * self.hd, d, bias=False)
        self.gate_proj = nn.Linear(d, c["inter"], bias=False)
        self.up_proj = nn.Linear(d, c["inter"], bias=False)
        self.down_proj = nn.Linear(c["inter"], d, bias=False)
        self.input_layernorm = RMSNorm(d)
        self.post_attention_layernorm = RMSNorm(d)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(h).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        g = self.h // self.kv
        k = k.repeat_interleave(g, dim=1)
        v = v.repeat_interleave(g, dim=1)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        a = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.o_proj(a)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(VOCAB, c["hidden"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"])
        self.lm_head = None if c["tied"] else nn.Linear(c["hidden"], VOCAB, bias=False)
        hd = c["hidden"] // c["heads"]
        self.inv_freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def hidden(self, ids):
        T = ids.shape[1]
        freqs = torch.arange(T).float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x)

    def logits(self, h):
        w = self.embed_tokens.weight if self.lm_head is None else self.lm_head.weight
        return F.linear(h, w)


def bench_train(size, B, T, steps):
    torch.manual_seed(0)
    model = Llama(SIZES[size])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    scored = max(1, T // 8)
    ids = torch.randint(0, VOCAB, (B, T + 1))
    inp, target = ids[:, :T], ids[:, T + 1 - scored:].reshape(-1)

    def step():
        h = model.hidden(inp)
        logits = model.logits(h[:, T - scored:]).reshape(-1, VOCAB)
        loss = F.cross_entropy(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"impl": "pytorch", "size": size, "batch": B, "seq": T, "steps": steps, "params": params,
                      "tokens_per_s": B * T * steps / s, "step_ms": 1000 * s / steps,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    args = sys.argv[1:]
    if not args or args[0] != "train":
        sys.exit("usage: torch_ref.py train [tiny|small] [batch] [seq] [steps]")
    bench_train(args[1] if len(args) > 1 else "tiny", int(args[2]) if len(args) > 2 else 8,
                int(args[3]) if len(args) > 3 else 256, int(args[4]) if len(args) > 4 else 10)
