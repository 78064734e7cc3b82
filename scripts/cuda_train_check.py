#!/usr/bin/env python3
"""Training parity of steper against transformers, PEFT and torch.distributed, on CUDA when there is one.

Drives bench/model/train_check.cpp (steper's Llama, LoRA adapters, bfloat16 base and c10d workers) on a
small random LlamaForCausalLM written by save_pretrained, and runs the same AdamW steps on the same batch
in PyTorch. Checks, each printed as PASS, FAIL or SKIP with its reason:
  full-f32     every weight trained, float32: losses within 1e-4 (relative) of transformers'
  full-bf16    the same under bfloat16 autocast (CUDA only; steper trains on CPU in float32): within 3e-2
  lora-f32     LoRA from an adapter folder PEFT wrote (written by hand without peft): losses within 1e-4 of
               the same adapters in PyTorch; with peft, PEFT loading steper's saved adapter gives steper's
               logits (within 1e-4 of the logits' scale)
  lora-bf16    --lora-base-bf16 (projections in bfloat16, adapters float32) against PyTorch doing the same:
               within 1e-2; and within 3e-2 of the float32 base
  workers      2 workers (NCCL on CUDA with 2 GPUs, Gloo on CPU) against 1 worker accumulating the same 2
               micro-batches: the same weights (max abs difference at most 1e-5)
bfloat16 keeps 8 significant bits (relative rounding at most 2^-9, about 2e-3); a few steps through two
layers and the softmax stay within about ten roundings, hence 1e-2 between two bfloat16 computations that
round in different orders and 3e-2 against float32.

  python3 scripts/cuda_train_check.py --train-bin BUILD/bench/model/train_check [--device cuda|cpu]
Exit 0 when no check fails.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

try:
    import peft
except ImportError:
    peft = None
from safetensors.torch import load_file, save_file

VOCAB, SEQ, ROWS, STEPS = 256, 17, 4, 4
OPT = dict(lr=2e-3, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.01)
LORA = dict(r=4, alpha=8.0, targets=["q_proj", "v_proj", "down_proj"])
PROJ = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def make_model(root):
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-6, initializer_range=0.1, tie_word_embeddings=False,
                      bos_token_id=1, eos_token_id=2)
    d = os.path.join(root, "llama")
    LlamaForCausalLM(cfg).save_pretrained(d, safe_serialization=True)
    return d


def load_base(d, device):
    return LlamaForCausalLM.from_pretrained(d, torch_dtype=torch.float32).to(device).train()


def rel(a, b):
    return max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b))


class Proj(torch.nn.Module):
    """A Llama projection as steper computes it: optionally a bfloat16 base, optionally a LoRA pair."""

    def __init__(self, base, a=None, b=None, scale=1.0, base_bf16=False):
        super().__init__()
        self.base, self.scale, self.base_bf16 = base, scale, base_bf16
        self.wb = base.weight.detach().to(torch.bfloat16) if base_bf16 else None
        self.a = torch.nn.Parameter(a.clone()) if a is not None else None
        self.b = torch.nn.Parameter(b.clone()) if b is not None else None

    def forward(self, x):
        if self.base_bf16:
            y = F.linear(x.to(torch.bfloat16), self.wb).to(x.dtype)
            y = y + self.base.bias if self.base.bias is not None else y
        else:
            y = self.base(x)
        return y if self.a is None else y + F.linear(F.linear(x, self.a), self.b) * self.scale


def wrap_lora(model, adapter, base_bf16):
    """Freezes the base and puts Proj modules in; returns the adapter parameters in steper's order."""
    for p in model.parameters():
        p.requires_grad_(False)
    trained = []
    for i, layer in enumerate(model.model.layers):
        for name in PROJ:
            parent = layer.self_attn if name.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else layer.mlp
            part = "self_attn" if parent is layer.self_attn else "mlp"
            key = f"base_model.model.model.layers.{i}.{part}.{name}.lora_%s.weight"
            a, b = adapter.get(key % "A"), adapter.get(key % "B")
            m = Proj(getattr(parent, name), a, b, LORA["alpha"] / LORA["r"], base_bf16)
            setattr(parent, name, m)
            if m.a is not None:
                trained += [m.a, m.b]
    return trained


def reference(model, trained, batch, autocast, micro=1):
    decay = [p for p in trained if p.dim() >= 2]
    rest = [p for p in trained if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": OPT["weight_decay"]}]
    if rest:
        groups.append({"params": rest, "weight_decay": 0.0})
    opt = torch.optim.AdamW(groups, lr=OPT["lr"], betas=tuple(OPT["betas"]), eps=OPT["eps"])
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            logits = model(batch[:, :-1]).logits
        loss = F.cross_entropy(logits.float().reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_steper(args, root, name, spec, workers=1):
    spec = dict(OPT, steps=STEPS, device=args.device, lora=None, **spec)
    spec_path, out_path = os.path.join(root, name + ".spec.json"), os.path.join(root, name + ".out.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    port, procs = free_port(), []
    for rank in range(workers):
        env = dict(os.environ)
        if workers > 1:
            env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(workers), MASTER_ADDR="127.0.0.1",
                       MASTER_PORT=str(port))
        procs.append(subprocess.Popen([args.train_bin, spec_path, out_path], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    text = ""
    for p in procs:
        text += p.communicate(timeout=300)[0]
        if p.returncode != 0:
            raise RuntimeError(f"train_check exited {p.returncode}: {text.strip()}")
    with open(out_path) as f:
        return json.load(f)


def write_adapter(base_dir, out):
    """An adapter folder PEFT wrote (peft.get_peft_model, save_pretrained), or one written by hand in PEFT's
    layout without peft; B drawn non-zero so that the first step trains A too."""
    torch.manual_seed(1)
    if peft is not None:
        cfg = peft.LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], target_modules=LORA["targets"],
                              lora_dropout=0.0, bias="none", task_type="CAUSAL_LM")
        model = peft.get_peft_model(LlamaForCausalLM.from_pretrained(base_dir, torch_dtype=torch.float32), cfg)
        with torch.no_grad():
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.05)
        model.save_pretrained(out)
        return "written by PEFT " + peft.__version__
    os.makedirs(out)
    base = load_base(base_dir, "cpu")
    tensors = {}
    for i, layer in enumerate(base.model.layers):
        for name in LORA["targets"]:
            part = "mlp" if name.endswith(("gate_proj", "up_proj", "down_proj")) else "self_attn"
            w = getattr(getattr(layer, part), name).weight
            key = f"base_model.model.model.layers.{i}.{part}.{name}.lora_%s.weight"
            tensors[key % "A"] = (torch.rand(LORA["r"], w.shape[1]) * 2 - 1) / w.shape[1] ** 0.5
            tensors[key % "B"] = torch.randn(w.shape[0], LORA["r"]) * 0.05
    save_file(tensors, os.path.join(out, "adapter_model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": LORA["r"], "lora_alpha": LORA["alpha"],
                   "lora_dropout": 0.0, "target_modules": LORA["targets"], "bias": "none"}, f)
    return "written by hand (no peft here)"


def check_full(args, root, d, batch, autocast):
    got = run_steper(args, root, "full-bf16" if autocast else "full-f32",
                     dict(model=d, batch=batch.tolist(), autocast_bf16=autocast))
    model = load_base(d, args.device)
    want = reference(model, list(model.parameters()), batch.to(args.device), autocast)
    tol = 3e-2 if autocast else 1e-4
    r = rel(got["losses"], want)
    return r <= tol, f"losses {fmt(got['losses'])} vs transformers {fmt(want)}: relative {r:.1e} (tolerance {tol:.0e})"


def check_lora(args, root, d, batch, adapter, base_bf16, f32_losses=None):
    name = "lora-bf16" if base_bf16 else "lora-f32"
    out_dir = os.path.join(root, name + "-adapter")
    got = run_steper(args, root, name, dict(model=d, batch=batch.tolist(),
                                            lora=dict(adapter_in=adapter, adapter_out=out_dir, base_bf16=base_bf16)))
    model = load_base(d, args.device)
    tensors = {k: v.to(args.device) for k, v in load_file(os.path.join(adapter, "adapter_model.safetensors")).items()}
    want = reference(model, wrap_lora(model, tensors, base_bf16), batch.to(args.device), False)
    tol = 1e-2 if base_bf16 else 1e-4
    r = rel(got["losses"], want)
    ok, text = r <= tol, f"losses {fmt(got['losses'])} vs PyTorch {fmt(want)}: relative {r:.1e} (tolerance {tol:.0e})"
    if base_bf16 and f32_losses:
        r32 = rel(got["losses"], f32_losses)
        ok, text = ok and r32 <= 3e-2, text + f"; against the float32 base {r32:.1e} (tolerance 3e-02)"
    if not base_bf16:
        ok_peft, peft_text = peft_logits(args, d, out_dir, got, batch)
        ok, text = ok and ok_peft, text + "; " + peft_text
    return ok, text, got["losses"]


def peft_logits(args, d, adapter_dir, got, batch):
    if peft is None:
        return True, "PEFT loading steper's adapter: skipped (python cannot import peft)"
    model = peft.PeftModel.from_pretrained(load_base(d, args.device), adapter_dir).eval()
    with torch.no_grad():
        want = model(batch.to(args.device)).logits.float().cpu().reshape(-1)
    mine = torch.tensor(got["logits"])
    r = float((mine - want).abs().max()) / max(1.0, float(want.abs().max()))
    return r <= 1e-4, f"PEFT loading steper's adapter: logits differ by {r:.1e} of their scale (tolerance 1e-04)"


def check_workers(args, root, d, batch):
    cuda = args.device.startswith("cuda")
    if cuda and torch.cuda.device_count() < 2:
        return None, f"needs 2 GPUs for NCCL, this machine has {torch.cuda.device_count()}"
    runs, backend = {}, ""
    for workers in (1, 2):
        path = os.path.join(root, f"weights-{workers}.bin")
        out = run_steper(args, root, f"workers-{workers}", dict(model=d, batch=batch.tolist(), micro_batches=2,
                                                                weights_out=path), workers)
        backend = out["backend"]
        with open(path, "rb") as f:
            runs[workers] = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    diff = float((runs[1] - runs[2]).abs().max())
    text = (f"2 workers ({backend}) vs 1 worker accumulating 2 micro-batches: max abs weight difference "
            f"{diff:.1e} (at most 1e-05)")
    if cuda and backend != "nccl":
        return False, text + "; on CUDA the workers should use NCCL (train_check was built without it)"
    return diff <= 1e-5, text


def fmt(xs):
    return "[" + ", ".join(f"{x:.5f}" for x in xs) + "]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-bin", required=True, help="path of the built train_check program")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    if not os.path.exists(args.train_bin):
        print(f"cuda_train_check: --train-bin {args.train_bin} does not exist", file=sys.stderr)
        sys.exit(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cuda = args.device.startswith("cuda")
    results = []

    def record(name, fn):
        try:
            ok, text = fn()
        except Exception as e:  # a check that cannot run is a failure, with its reason
            ok, text = False, f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        results.append((name, ok, text))
        print(f"{'SKIP' if ok is None else 'PASS' if ok else 'FAIL'} {name}: {text}", flush=True)

    with tempfile.TemporaryDirectory() as root:
        d = make_model(root)
        g = torch.Generator().manual_seed(5)
        batch = torch.randint(3, VOCAB, (ROWS, SEQ), generator=g)
        record("full-f32", lambda: check_full(args, root, d, batch, False))
        record("full-bf16", (lambda: check_full(args, root, d, batch, True)) if cuda else
               (lambda: (None, "bfloat16 autocast is CUDA-only in steper's trainer (CPU trains in float32)")))
        adapter = os.path.join(root, "adapter-init")
        how = write_adapter(d, adapter)
        print(f"cuda_train_check: initial adapter {how}")
        f32 = {}

        def lora(bf16):
            ok, text, losses = check_lora(args, root, d, batch, adapter, bf16, f32.get("losses"))
            if not bf16:
                f32["losses"] = losses
            return ok, text
        record("lora-f32", lambda: lora(False))
        record("lora-bf16", lambda: lora(True))
        record("workers", lambda: check_workers(args, root, d, batch))
    failed = [n for n, ok, _ in results if ok is False]
    print("cuda_train_check: summary: " + ", ".join(
        f"{n} {'SKIP' if ok is None else 'PASS' if ok else 'FAIL'}" for n, ok, _ in results))
    if failed:
        print(f"cuda_train_check: {len(failed)} check(s) failed: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
