#!/usr/bin/env python3
"""Logit and greedy-token parity of steper's Llama against transformers, on CUDA when there is one.

Creates small random LlamaForCausalLM (GQA, untied, llama3 rope scaling, float32) and Qwen2ForCausalLM
(q/k/v biases, tied embeddings, sharded bfloat16 checkpoint) folders with save_pretrained, runs
model_check (bench/model/model_check.cpp) on them, and compares:
  - logits at every position of each prompt (one prompt at a time),
  - the last-position logits of the same prompts as one left-padded batch,
  - greedy continuations (steper: batched with the KV cache; transformers: full recompute per token).

  python3 scripts/cuda_check.py --check-bin BUILD/bench/model/model_check [--device cuda|cpu]
Exit 0 when every comparison passes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print(f"cuda_check: {msg}", file=sys.stderr)
    sys.exit(1)


try:
    import torch
except ImportError:
    fail("python cannot import torch (install a PyTorch wheel)")
try:
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
except ImportError:
    fail("python cannot import transformers (pip install transformers)")


def randomize_(model, seed):
    """Makes norms and biases non-trivial so that every code path shows in the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def make_models(root):
    vocab = 512
    common = dict(vocab_size=vocab, hidden_size=64, intermediate_size=160, num_hidden_layers=3,
                  num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=512,
                  rms_norm_eps=1e-6, initializer_range=0.25, bos_token_id=1, eos_token_id=2)
    models = []

    torch.manual_seed(0)
    cfg = LlamaConfig(**common, rope_theta=5000.0, tie_word_embeddings=False,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
    m = LlamaForCausalLM(cfg).eval()
    randomize_(m, 1)
    d = os.path.join(root, "llama")
    m.save_pretrained(d, safe_serialization=True)
    models.append(("llama (GQA, untied, llama3 rope, F32)", d, m, 2e-4))

    torch.manual_seed(1)
    cfg = Qwen2Config(**common, rope_theta=1000.0, tie_word_embeddings=True, use_sliding_window=False)
    m = Qwen2ForCausalLM(cfg).eval()
    randomize_(m, 2)
    m = m.to(torch.bfloat16).to(torch.float32)  # the values a bfloat16 checkpoint holds exactly
    d = os.path.join(root, "qwen2")
    m.to(torch.bfloat16).save_pretrained(d, safe_serialization=True, max_shard_size="100KB")
    m = m.to(torch.float32)
    if not os.path.exists(os.path.join(d, "model.safetensors.index.json")):
        fail(f"{d}: expected a sharded checkpoint")
    models.append(("qwen2 (biases, tied, sharded BF16)", d, m, 2e-4))
    return models, vocab


def reference(model, prompts, new_tokens, device):
    model = model.to(device).float().eval()
    logits, greedy = [], []
    with torch.no_grad():
        for p in prompts:
            ids = torch.tensor([p], device=device)
            logits.append(model(ids).logits[0].float().cpu())
            seq, out = list(p), []
            for _ in range(new_tokens):
                nxt = int(model(torch.tensor([seq], device=device)).logits[0, -1].argmax())
                out.append(nxt)
                seq.append(nxt)
            greedy.append(out)
    return logits, greedy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-bin", required=True, help="path of the built model_check program")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--new-tokens", type=int, default=8)
    args = ap.parse_args()
    if not os.path.exists(args.check_bin):
        fail(f"--check-bin {args.check_bin} does not exist")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"cuda_check: torch {torch.__version__}, transformers {transformers.__version__}, device {args.device}")

    failures = 0
    with tempfile.TemporaryDirectory() as root:
        models, vocab = make_models(root)
        g = torch.Generator().manual_seed(5)
        prompts = [torch.randint(3, vocab, (n,), generator=g).tolist() for n in (11, 3, 7)]
        prompts_path = os.path.join(root, "prompts.json")
        with open(prompts_path, "w") as f:
            json.dump(prompts, f)
        for label, d, model, tol in models:
            out_path = os.path.join(root, "out.json")
            r = subprocess.run([args.check_bin, d, prompts_path, out_path, args.device, str(args.new_tokens)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"FAIL {label}: model_check exited {r.returncode}\n{r.stdout}{r.stderr}")
                failures += 1
                continue
            with open(out_path) as f:
                got = json.load(f)
            ref_logits, ref_greedy = reference(model, prompts, args.new_tokens, args.device)
            worst = 0.0
            for i, p in enumerate(prompts):
                mine = torch.tensor(got["logits"][i]).view(len(p), vocab)
                scale = max(1.0, float(ref_logits[i].abs().max()))
                worst = max(worst, float((mine - ref_logits[i]).abs().max()) / scale)
                last = torch.tensor(got["batched_last_logits"][i])
                worst = max(worst, float((last - ref_logits[i][-1]).abs().max()) / scale)
            ok_logits = worst < tol
            ok_greedy = got["greedy"] == ref_greedy
            status = "ok  " if ok_logits and ok_greedy else "FAIL"
            print(f"{status} {label}: max relative logit difference {worst:.2e} (tolerance {tol:.0e}), "
                  f"greedy tokens {'equal' if ok_greedy else 'differ'}")
            if not ok_greedy:
                print(f"     steper:       {got['greedy']}\n     transformers: {ref_greedy}")
            failures += 0 if ok_logits and ok_greedy else 1
    if failures:
        fail(f"{failures} model(s) differ from transformers")
    print("cuda_check: all models match transformers")


if __name__ == "__main__":
    main()
