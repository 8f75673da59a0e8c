"""Independent reference for the Hugging Face Qwen2 / Llama format, standard library only (no numpy, no torch).

  write OUTDIR                 writes tiny HF checkpoints (Qwen2 and Llama; F32 and BF16; tied and untied; sharded;
                               llama3 and linear rope scaling) with its own safetensors writer, and prints, per case,
                               the reference logits of a prompt, greedy tokens and their log-probabilities (JSON).
  check DIR PROMPT STEPS       validates a checkpoint written by someone else (file layout, safetensors header, HF
                               weight names, shapes, dtypes, config fields) and prints the same reference outputs.

The forward pass follows the HF modelling code's maths: RMSNorm, rotate-half rotary embeddings with rope_scaling,
grouped-query attention, SwiGLU MLP, q/k/v biases for Qwen2, attention_bias / mlp_bias for Llama.
"""
import json
import math
import os
import random
import struct
import sys

# ---------------------------------------------------------------- safetensors

def f32_to_bf16_bits(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    rounding = 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
    return ((bits + rounding) >> 16) & 0xFFFF


def bf16_bits_to_f32(b):
    return struct.unpack("<f", struct.pack("<I", b << 16))[0]


def encode(values, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    if dtype == "BF16":
        return struct.pack("<%dH" % len(values), *[f32_to_bf16_bits(v) for v in values])
    raise ValueError(dtype)


def decode(data, dtype):
    if dtype == "F32":
        return list(struct.unpack("<%df" % (len(data) // 4), data))
    if dtype == "F16":
        return list(struct.unpack("<%de" % (len(data) // 2), data))
    if dtype == "BF16":
        return [bf16_bits_to_f32(b) for b in struct.unpack("<%dH" % (len(data) // 2), data)]
    raise ValueError("unsupported dtype " + dtype)


def write_safetensors(path, tensors, dtype):
    """tensors: list of (name, shape, flat values)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, shape, values in tensors:
        blob = encode(values, dtype)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Returns {name: (dtype, shape, values)}, checking the header strictly."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), path + ": header runs past the end"
    header = json.loads(data[8:8 + n])
    base, out, spans = 8 + n, {}, []
    for name, entry in header.items():
        if name == "__metadata__":
            assert entry.get("format") == "pt", path + ": __metadata__.format must be 'pt' for HF transformers"
            continue
        dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        size = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
        assert end - begin == size * math.prod(shape), path + ": byte count of " + name
        assert base + end <= len(data), path + ": " + name + " is truncated"
        spans.append((begin, end))
        out[name] = (dtype, shape, decode(data[base + begin:base + end], dtype))
    spans.sort()
    assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:])), path + ": data not contiguous"
    assert base + spans[-1][1] == len(data), path + ": trailing bytes"
    return out


# ---------------------------------------------------------------- model

def head_dim(c):
    return c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]


def expected_shapes(c, scalar_head=False):
    h, i, v, d = c["hidden_size"], c["intermediate_size"], c["vocab_size"], head_dim(c)
    nq, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    qwen = c["model_type"] == "qwen2"
    qkv_bias = qwen or c.get("attention_bias", False)
    o_bias = (not qwen) and c.get("attention_bias", False)
    mlp_bias = (not qwen) and c.get("mlp_bias", False)
    shapes = {"model.embed_tokens.weight": [v, h], "model.norm.weight": [h]}
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        shapes[p + "input_layernorm.weight"] = [h]
        shapes[p + "post_attention_layernorm.weight"] = [h]
        for name, out in (("q_proj", nq * d), ("k_proj", nkv * d), ("v_proj", nkv * d)):
            shapes[p + "self_attn." + name + ".weight"] = [out, h]
            if qkv_bias:
                shapes[p + "self_attn." + name + ".bias"] = [out]
        shapes[p + "self_attn.o_proj.weight"] = [h, nq * d]
        if o_bias:
            shapes[p + "self_attn.o_proj.bias"] = [h]
        for name, shape in (("gate_proj", [i, h]), ("up_proj", [i, h]), ("down_proj", [h, i])):
            shapes[p + "mlp." + name + ".weight"] = shape
            if mlp_bias:
                shapes[p + "mlp." + name + ".bias"] = [shape[0]]
    if scalar_head:
        shapes["score.weight"] = [1, h]
    elif not c.get("tie_word_embeddings", False):
        shapes["lm_head.weight"] = [v, h]
    return shapes


def matvec(w, rows, cols, x, bias=None):
    out = []
    for r in range(rows):
        base = r * cols
        s = sum(w[base + k] * x[k] for k in range(cols))
        out.append(s + (bias[r] if bias else 0.0))
    return out


def rms_norm(x, w, eps):
    scale = 1.0 / math.sqrt(sum(v * v for v in x) / len(x) + eps)
    return [w[k] * x[k] * scale for k in range(len(x))]


def inv_freqs(c):
    d = head_dim(c)
    inv = [1.0 / c.get("rope_theta", 10000.0) ** (2 * i / d) for i in range(d // 2)]
    rs = c.get("rope_scaling")
    if rs is None:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return [f / rs["factor"] for f in inv]
    assert kind == "llama3", kind
    factor, low, high, orig = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    out = []
    for f in inv:
        wavelen = 2 * math.pi / f
        if wavelen < orig / high:
            out.append(f)
        elif wavelen > orig / low:
            out.append(f / factor)
        else:
            smooth = (orig / wavelen - low) / (high - low)
            out.append((1 - smooth) * f / factor + smooth * f)
    return out


def rope(vec, pos, inv):
    half = len(inv)
    out = list(vec)
    for i in range(half):
        cos, sin = math.cos(pos * inv[i]), math.sin(pos * inv[i])
        a, b = vec[i], vec[i + half]
        out[i] = a * cos - b * sin
        out[i + half] = b * cos + a * sin
    return out


def forward(c, w, ids):
    """Logits [T][V] for one unpadded sequence (positions 0..T-1)."""
    h, inter, v, d = c["hidden_size"], c["intermediate_size"], c["vocab_size"], head_dim(c)
    nq, nkv, eps = c["num_attention_heads"], c["num_key_value_heads"], c["rms_norm_eps"]
    inv = inv_freqs(c)
    emb = w["model.embed_tokens.weight"]
    xs = [emb[t * h:(t + 1) * h] for t in ids]
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        g = lambda name: w.get(p + name)
        qs, ks, vs = [], [], []
        for pos, x in enumerate(xs):
            n = rms_norm(x, g("input_layernorm.weight"), eps)
            q = matvec(g("self_attn.q_proj.weight"), nq * d, h, n, g("self_attn.q_proj.bias"))
            k = matvec(g("self_attn.k_proj.weight"), nkv * d, h, n, g("self_attn.k_proj.bias"))
            qs.append([rope(q[j * d:(j + 1) * d], pos, inv) for j in range(nq)])
            ks.append([rope(k[j * d:(j + 1) * d], pos, inv) for j in range(nkv)])
            val = matvec(g("self_attn.v_proj.weight"), nkv * d, h, n, g("self_attn.v_proj.bias"))
            vs.append([val[j * d:(j + 1) * d] for j in range(nkv)])
        new = []
        for t, x in enumerate(xs):
            att = []
            for j in range(nq):
                kv = j // (nq // nkv)
                scores = [sum(a * b for a, b in zip(qs[t][j], ks[s][kv])) / math.sqrt(d) for s in range(t + 1)]
                m = max(scores)
                e = [math.exp(s - m) for s in scores]
                z = sum(e)
                att.extend(sum(e[s] / z * vs[s][kv][k] for s in range(t + 1)) for k in range(d))
            o = matvec(g("self_attn.o_proj.weight"), h, nq * d, att, g("self_attn.o_proj.bias"))
            x = [a + b for a, b in zip(x, o)]
            n = rms_norm(x, g("post_attention_layernorm.weight"), eps)
            gate = matvec(g("mlp.gate_proj.weight"), inter, h, n, g("mlp.gate_proj.bias"))
            up = matvec(g("mlp.up_proj.weight"), inter, h, n, g("mlp.up_proj.bias"))
            act = [gv / (1 + math.exp(-gv)) * uv for gv, uv in zip(gate, up)]
            down = matvec(g("mlp.down_proj.weight"), h, inter, act, g("mlp.down_proj.bias"))
            new.append([a + b for a, b in zip(x, down)])
        xs = new
    head = w.get("lm_head.weight") if not c.get("tie_word_embeddings") else emb
    return [matvec(head, v, h, rms_norm(x, w["model.norm.weight"], eps)) for x in xs]


def log_softmax(row):
    m = max(row)
    lse = m + math.log(sum(math.exp(r - m) for r in row))
    return [r - lse for r in row]


def reference_outputs(c, w, prompt, steps):
    logits = forward(c, w, prompt)
    ids, greedy, logprobs = list(prompt), [], []
    last = logits[-1]
    for _ in range(steps):
        best = max(range(len(last)), key=lambda k: last[k])
        greedy.append(best)
        logprobs.append(log_softmax(last)[best])
        ids.append(best)
        last = forward(c, w, ids)[-1]
    return {"prompt": prompt, "logits": logits, "greedy": greedy, "logprobs": logprobs}


# ---------------------------------------------------------------- writing and checking checkpoints

def load_weights(path):
    """Reads model.safetensors or the shards of model.safetensors.index.json; returns ({name: values}, {name: (dtype, shape)})."""
    single = os.path.join(path, "model.safetensors")
    if os.path.exists(single):
        files = {single: None}
    else:
        index = json.load(open(os.path.join(path, "model.safetensors.index.json")))
        assert "total_size" in index["metadata"], "index metadata.total_size missing"
        files = {os.path.join(path, f): None for f in sorted(set(index["weight_map"].values()))}
    values, meta = {}, {}
    for f in files:
        for name, (dtype, shape, data) in read_safetensors(f).items():
            assert name not in values, "tensor in two files: " + name
            values[name], meta[name] = data, (dtype, shape)
    return values, meta


def write_case(root, name, config, dtype, shards, seed):
    rng = random.Random(seed)
    path = os.path.join(root, name)
    os.makedirs(path, exist_ok=True)
    tensors = []
    for tname, shape in sorted(expected_shapes(config).items()):
        if tname.endswith("norm.weight"):
            vals = [1.0 + rng.uniform(-0.2, 0.2) for _ in range(math.prod(shape))]
        else:
            vals = [rng.gauss(0.0, 0.3 if "embed" in tname else 0.15) for _ in range(math.prod(shape))]
        vals = decode(encode(vals, dtype), dtype)  # the values exactly as stored
        tensors.append((tname, shape, vals))
    if shards == 1:
        write_safetensors(os.path.join(path, "model.safetensors"), tensors, dtype)
    else:
        weight_map, per = {}, math.ceil(len(tensors) / shards)
        total = 0
        for s in range(shards):
            fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
            part = tensors[s * per:(s + 1) * per]
            write_safetensors(os.path.join(path, fname), part, dtype)
            for t in part:
                weight_map[t[0]] = fname
                total += len(encode(t[2], dtype))
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, open(os.path.join(path, "model.safetensors.index.json"), "w"))
    json.dump(config, open(os.path.join(path, "config.json"), "w"), indent=2)
    json.dump({"bos_token_id": config.get("bos_token_id"), "eos_token_id": config.get("eos_token_id")},
              open(os.path.join(path, "generation_config.json"), "w"))
    return path, {t[0]: t[2] for t in tensors}


def base_config(model_type, **extra):
    c = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 128,
        "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32", "use_cache": True,
    }
    c.update(extra)
    return c


def cmd_write(root):
    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 64}
    cases = [
        ("qwen2-f32-untied", base_config("qwen2"), "F32", 1),
        ("qwen2-bf16-tied", base_config("qwen2", tie_word_embeddings=True, torch_dtype="bfloat16", rope_theta=1000000.0), "BF16", 1),
        ("llama-f32-tied-llama3-sharded", base_config("llama", tie_word_embeddings=True, rope_scaling=llama3, rope_theta=10000.0,
                                                      eos_token_id=[2, 3]), "F32", 3),
        ("llama-bf16-untied-bias-linear", base_config("llama", hidden_size=24, head_dim=8, num_key_value_heads=4, attention_bias=True,
                                                      mlp_bias=True, rope_scaling={"type": "linear", "factor": 2.0},
                                                      torch_dtype="bfloat16"), "BF16", 2),
        ("llama-f16-mha", base_config("llama", num_key_value_heads=4, torch_dtype="float16"), "F16", 1),
    ]
    out = []
    for i, (name, config, dtype, shards) in enumerate(cases):
        path, weights = write_case(root, name, config, dtype, shards, seed=100 + i)
        prompt = [(7 * i + 3 * k + 5) % config["vocab_size"] for k in range(7)]
        result = reference_outputs(config, weights, prompt, steps=5)
        result.update({"name": name, "dir": path})
        out.append(result)
    print(json.dumps(out))


def cmd_check(path, prompt, steps):
    config = json.load(open(os.path.join(path, "config.json")))
    for field in ("architectures", "model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                  "num_key_value_heads", "vocab_size", "rms_norm_eps", "rope_theta", "tie_word_embeddings", "torch_dtype",
                  "max_position_embeddings", "hidden_act"):
        assert field in config, "config.json lacks " + field
    arch = config["architectures"][0]
    assert arch in ("Qwen2ForCausalLM", "LlamaForCausalLM", "Qwen2ForSequenceClassification", "LlamaForSequenceClassification"), arch
    assert arch.lower().startswith(config["model_type"]), (arch, config["model_type"])
    scalar = arch.endswith("ForSequenceClassification")
    if scalar:
        assert config.get("num_labels") == 1 or len(config.get("id2label", {})) == 1, "num_labels must be 1"
    gen = json.load(open(os.path.join(path, "generation_config.json")))
    assert gen.get("eos_token_id") == config.get("eos_token_id"), "generation_config eos_token_id differs from config"
    weights, meta = load_weights(path)
    expected = expected_shapes(config, scalar)
    assert set(weights) == set(expected), "names differ: missing %s unexpected %s" % (
        sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected)))
    want_dtype = {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}[config["torch_dtype"]]
    for name, shape in expected.items():
        assert meta[name][1] == shape, "%s: shape %s, expected %s" % (name, meta[name][1], shape)
        assert meta[name][0] == want_dtype, "%s: dtype %s, config says %s" % (name, meta[name][0], want_dtype)
    result = {"names": sorted(weights), "config": config}
    if not scalar:
        result.update(reference_outputs(config, weights, prompt, steps))
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        cmd_write(sys.argv[2])
    elif sys.argv[1] == "check":
        cmd_check(sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: hf_reference.py write OUTDIR | check DIR PROMPT_JSON STEPS")
