#!/usr/bin/env python3
"""Writes the fuzzing seed corpus under Fuzz/Corpus/<Harness>/ (deterministic; every file < 4 KB).

Text seeds are literal; the safetensors and GGUF seeds are built byte by byte here, the GGUF ones
the way Tests/TextModelTests/GGUFBuilder.swift builds its files.
"""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def put(harness, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) < 4096, (harness, name, len(data))
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- FuzzLevels: XSB/SOK collections -------------------------------------------------------------
put("FuzzLevels", "titled.xsb", """Title: Seed collection
Author: fuzz

; 1
#######
#.@ $ #
#######

; Second
  ####
###  ####
#     $ #
# #  #$ #
# . .#@ #
#########
Title: Second (renamed)
Author: someone
Solution: uLLrdL
""")
put("FuzzLevels", "runlength.xsb", """Title: Run-length rows
7#|#.@-$-#|7#

; two rows in one line, counts on walls and floor
4#|#@$.#|4#
""")
put("FuzzLevels", "boxoban.txt", """; 0
##########
##########
##  ######
##  $  . #
##  @#   #
##########
##########
##########
##########
##########

; 1
##########
#.  ######
# $ ######
# @ ######
##########
""")
put("FuzzLevels", "crlf-bom.xsb", "\ufeffTitle: CRLF\r\n\r\n#####\r\n#@$.#\r\n#####\r\n")
put("FuzzLevels", "goal-player.xsb", """Comment: player on a goal, box on a goal
######
#+$* #
#  $.#
######
""")
put("FuzzLevels", "mixed-skipped.xsb", """; bad: no goal
#####
#@$ #
#####
Author: dropped with the refused board

; good
#####
#@$.#
#####
Author: kept
""")
put("FuzzLevels", "near-two-players.xsb", "#####\n#@@$.#\n#####\n")
put("FuzzLevels", "near-open.xsb", "#####\n#@$. \n#####\n")
put("FuzzLevels", "near-mismatch.xsb", "######\n#@$$.#\n######\n")
put("FuzzLevels", "near-too-wide.xsb", "65#|#@$.62#|65#\n")

# --- FuzzLURD: solution strings ------------------------------------------------------------------
put("FuzzLURD", "solve.lurd", "rL")
put("FuzzLURD", "moves.lurd", "lurdLURD")
put("FuzzLURD", "spaced.lurd", "  uulLd\n RR\tdDl \r\n")
put("FuzzLURD", "long.lurd", "ullDRRRdlllUUrrdd" * 8)
put("FuzzLURD", "near-bad-char.lurd", "lurdx")
put("FuzzLURD", "near-digits.lurd", "3l2R")

# --- FuzzIntervention: LAYER:TYPE:RHO ------------------------------------------------------------
put("FuzzIntervention", "fc_out.txt", "28:fc_out:0.01")
put("FuzzIntervention", "all-mlp-rate.txt", "all:mlp:rate=9.9")
put("FuzzIntervention", "one.txt", "5:attn:1")
put("FuzzIntervention", "tiny.txt", "1:fc_in:1e-7")
put("FuzzIntervention", "near-range.txt", "0-3:conv:0.5")
put("FuzzIntervention", "near-zero.txt", "3:q_proj:0")
put("FuzzIntervention", "near-fields.txt", "2:fc_in:0.5:extra")
put("FuzzIntervention", "near-rate.txt", "all:all:rate=10")

# --- FuzzSafetensors -----------------------------------------------------------------------------


def safetensors(tensors, metadata=None, pad=True, header_override=None):
    """tensors: [(name, dtype, shape, bytes)] laid out in order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = header_override if header_override is not None else json.dumps(header, separators=(",", ":"))
    h = text.encode()
    while pad and (8 + len(h)) % 8:
        h += b" "
    return struct.pack("<Q", len(h)) + h + data


f32 = struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 65504)
f16 = struct.pack("<4e", 1, -0.5, 2, 0)
bf16 = bytes.fromhex("803f00c00040003f")  # 1, -2, 2, 0.5
put("FuzzSafetensors", "f32.safetensors", safetensors([("w", "F32", [2, 3], f32)], {"format": "pt"}))
put("FuzzSafetensors", "mixed.safetensors", safetensors([
    ("a.f16", "F16", [4], f16),
    ("b.bf16", "BF16", [2, 2], bf16),
    ("c.i64", "I64", [1], struct.pack("<q", -7)),
    ("d.u8", "U8", [3], b"\x01\x02\x03"),
    ("e.bool", "BOOL", [1], b"\x01"),
    ("f.scalar", "F32", [], struct.pack("<f", 42)),
    ("g.empty", "F32", [0, 5], b""),
], {"note": "seed", "x": "y"}))
put("FuzzSafetensors", "empty.safetensors", safetensors([]))
put("FuzzSafetensors", "near-size-mismatch.safetensors",
    safetensors([], header_override='{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}') + b"\0" * 16)
put("FuzzSafetensors", "near-overlap.safetensors",
    safetensors([], header_override='{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
                '"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}') + b"\0" * 8)
put("FuzzSafetensors", "near-short.safetensors", struct.pack("<Q", 100) + b'{"a":')
put("FuzzSafetensors", "near-dtype.safetensors",
    safetensors([], header_override='{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}') + b"\0" * 16)

# --- FuzzGGUF ------------------------------------------------------------------------------------
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B",
          U64: "<Q", I64: "<q", F64: "<d"}


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gval(t, v):
    if t == STR:
        return gstr(v)
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gval(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf(metadata, tensors, version=3, alignment=32, offsets=None):
    """metadata: [(key, type, value)]; tensors: [(name, dims innermost first, ggml type, bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata))
    for k, t, v in metadata:
        out += gstr(k) + struct.pack("<I", t) + gval(t, v)
    data_offsets, cursor = [], 0
    for _, _, _, raw in tensors:
        data_offsets.append(cursor)
        cursor = (cursor + len(raw) + alignment - 1) // alignment * alignment
    for i, (name, dims, typ, _) in enumerate(tensors):
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", typ, offsets[i] if offsets else data_offsets[i])
    while len(out) % alignment:
        out += b"\0"
    start = len(out)
    for i, (_, _, _, raw) in enumerate(tensors):
        while len(out) - start < data_offsets[i]:
            out += b"\0"
        out += raw
    return out


meta = [
    ("general.architecture", STR, "llama"),
    ("general.alignment", U32, 32),
    ("llama.context_length", U32, 128),
    ("llama.rope.freq_base", F32, 10000.0),
    ("llama.attention.layer_norm_rms_epsilon", F64, 1e-5),
    ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "</s>", "a", "b", "\u0120the"])),
    ("tokenizer.ggml.token_type", ARR, (I32, [3, 3, 1, 1, 1])),
    ("tokenizer.ggml.merges", ARR, (STR, ["a b", "\u0120 t"])),
    ("general.flag", BOOL, 1),
    ("general.nested", ARR, (ARR, [(U8, [1, 2]), (I64, [-1])])),
    ("general.small", I8, -3),
    ("general.count", U64, 2**40),
]
q8_0 = struct.pack("<e", 0.5) + bytes((i * 7) & 0xFF for i in range(32))
q4_0 = struct.pack("<e", 0.25) + bytes(range(16))
q4_1 = struct.pack("<ee", 0.25, -1.0) + bytes(range(16, 32))
q4_k = struct.pack("<ee", 0.5, 0.125) + bytes((i * 13) & 0x3F for i in range(12)) + bytes(i & 0xFF for i in range(128))
q6_k = bytes((i * 5) & 0xFF for i in range(128 + 64)) + bytes((i - 8) & 0xFF for i in range(16)) + struct.pack("<e", 0.01)
assert (len(q8_0), len(q4_0), len(q4_1), len(q4_k), len(q6_k)) == (34, 18, 20, 144, 210)
put("FuzzGGUF", "llama-tiny.gguf", gguf(meta, [
    ("token_embd.weight", [4, 2], 0, struct.pack("<8f", *range(8))),
    ("output_norm.weight", [8], 1, struct.pack("<8e", *[1.0] * 8)),
    ("blk.0.attn_q.weight", [32], 8, q8_0),
    ("blk.0.attn_k.weight", [32], 2, q4_0),
    ("blk.0.ffn_up.weight", [32], 3, q4_1),
]))
put("FuzzGGUF", "kquants.gguf", gguf([("general.architecture", STR, "llama")], [
    ("blk.0.ffn_down.weight", [256], 12, q4_k),
    ("blk.0.ffn_gate.weight", [256], 14, q6_k),
    ("bf16", [2, 2], 30, bytes.fromhex("803f00c00040003f")),
    ("i8", [3], 24, b"\x01\xff\x02"),
]))
put("FuzzGGUF", "v2-metadata-only.gguf", gguf(meta[:6], [], version=2))
put("FuzzGGUF", "align64.gguf", gguf([("general.alignment", U32, 64)],
                                     [("a", [2], 0, struct.pack("<2f", 1, 2)), ("b", [1, 1, 1, 1], 0, struct.pack("<f", 3))],
                                     alignment=64))
put("FuzzGGUF", "near-truncated.gguf", gguf(meta[:3], [("w", [4], 0, struct.pack("<4f", 1, 2, 3, 4))])[:-6])
put("FuzzGGUF", "near-misaligned.gguf", gguf([], [("w", [4], 0, struct.pack("<4f", 1, 2, 3, 4))], offsets=[4]))
put("FuzzGGUF", "near-bad-alignment.gguf", gguf([("general.alignment", U32, 24)], []))
put("FuzzGGUF", "near-version1.gguf", b"GGUF" + struct.pack("<IIII", 1, 0, 0, 0))
