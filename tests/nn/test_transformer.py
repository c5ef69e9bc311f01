"""Attention and transformers against PyTorch: F.scaled_dot_product_attention (masks boolean,
additive and broadcast, causal, scale, leading dimensions, different lengths, float64 finite
differences, dropout); MultiheadAttention with torch's weights (self and cross attention, kdim and
vdim, key_padding_mask, attn_mask, the weights averaged and per head, batch_first both ways,
unbatched); encoder and decoder layers pre- and post-norm with relu and gelu and their stacks
(outputs, input gradients and every parameter's gradient); state_dicts both ways; positional
encodings; error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet.nn as nn
import glassnet.nn.functional as F
from glassnet.ops.attention import attention
from glassnet.random import manual_seed
from glassnet.tensor import Tensor
from torch_compare import FLOATS, compare, gradcheck, random

TOLERANCES = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


def torch_dtype(dtype):
    return torch.float32 if dtype == np.float32 else torch.float64


# -- scaled_dot_product_attention -----------------------------------------------------------------


def sdpa_pair(mask=None, **kwargs):
    """F.scaled_dot_product_attention of both libraries, with the same fixed mask."""

    def cast(dtype):  # torch wants a float mask in the inputs' dtype
        return mask if mask is None or mask.dtype == bool else mask.astype(dtype)

    def ours(q, k, v):
        m = cast(q.dtype)
        return F.scaled_dot_product_attention(q, k, v, None if m is None else Tensor(m), **kwargs)

    def theirs(q, k, v):
        m = cast(q.detach().numpy().dtype)
        return TF.scaled_dot_product_attention(
            q, k, v, None if m is None else torch.tensor(m), **kwargs
        )

    return ours, theirs


def qkv(q_shape, k_shape, v_shape, dtype=np.float64):
    return [random(s, dtype, seed=i) for i, s in enumerate((q_shape, k_shape, v_shape))]


rng = np.random.default_rng(7)
BOOL_MASK = rng.random((5, 6)) > 0.4
FLOAT_MASK = rng.standard_normal((5, 6))
SDPA_CASES = {
    "plain": (((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)), None, {}),
    "bool mask": (((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)), BOOL_MASK, {}),
    "additive mask": (((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)), FLOAT_MASK, {}),
    "bool mask per batch": (((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
                            rng.random((2, 1, 5, 6)) > 0.3, {}),
    "float mask per key": (((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
                           rng.standard_normal((3, 1, 6)), {}),
    "causal": (((2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4)), None, dict(is_causal=True)),
    "causal, longer keys": (((2, 5, 4), (2, 7, 4), (2, 7, 3)), None, dict(is_causal=True)),
    "scale": (((2, 5, 4), (2, 6, 4), (2, 6, 4)), BOOL_MASK, dict(scale=0.3)),
    "3-D": (((4, 5, 8), (4, 6, 8), (4, 6, 2)), None, {}),
    "2-D": (((5, 4), (6, 4), (6, 3)), FLOAT_MASK, {}),
    "5-D": (((2, 2, 2, 5, 4), (2, 2, 2, 6, 4), (2, 2, 2, 6, 4)), BOOL_MASK, {}),
    "broadcast batch": (((2, 3, 5, 4), (1, 3, 6, 4), (2, 1, 6, 4)), None, {}),
    "one query": (((2, 1, 4), (2, 6, 4), (2, 6, 4)), None, {}),
}  # fmt: skip


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", SDPA_CASES, ids=str)
def test_sdpa_matches_torch(case, dtype):
    shapes, mask, kwargs = SDPA_CASES[case]
    compare(*sdpa_pair(mask, **kwargs), *qkv(*shapes, dtype=dtype), **TOLERANCES[dtype])


def test_sdpa_rows_with_nothing_to_attend_give_zeros_like_torch():
    mask = np.ones((2, 5, 6), bool)
    mask[0, 1] = False
    mask[1, 3] = False
    out, *_ = compare(*sdpa_pair(mask), *qkv((2, 5, 4), (2, 6, 4), (2, 6, 4)))
    np.testing.assert_array_equal(out.data[0, 1], 0.0)
    additive = np.where(mask, 0.0, -np.inf)
    compare(*sdpa_pair(additive), *qkv((2, 5, 4), (2, 6, 4), (2, 6, 4)))


def test_sdpa_gradient_of_a_float_mask_matches_torch():
    compare(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m),
        *qkv((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
        random((3, 1, 6), seed=9),
    )


@pytest.mark.parametrize(
    "mask, kwargs",
    [(None, {}), (BOOL_MASK[:3, :4], dict(scale=0.7)), (None, dict(is_causal=True))],
    ids=["plain", "bool mask", "causal"],
)
def test_sdpa_gradcheck(mask, kwargs):
    ours, _ = sdpa_pair(mask, **kwargs)
    gradcheck(ours, *qkv((2, 3, 3), (2, 4, 3), (2, 4, 2)))


def test_sdpa_gradcheck_with_dropout_and_weights():
    def fn(q, k, v):
        manual_seed(3)  # the same dropout mask on every call
        out, weights = attention(q, k, v, dropout_p=0.3, need_weights=True)
        return out * 2.0 + weights.sum(dim=-1, keepdim=True) + (weights * weights).mean()

    gradcheck(fn, *qkv((2, 3, 3), (2, 4, 3), (2, 4, 3)))


def test_sdpa_weights_match_torch_softmax():
    q, k, v = (Tensor(a, requires_grad=True) for a in qkv((2, 5, 4), (2, 6, 4), (2, 6, 4)))
    out, weights = attention(q, k, v, Tensor(BOOL_MASK), need_weights=True)
    tq, tk = torch.tensor(q.data), torch.tensor(k.data)
    scores = (tq @ tk.transpose(-1, -2) / 2.0).masked_fill(~torch.tensor(BOOL_MASK), -np.inf)
    np.testing.assert_allclose(weights.data, torch.softmax(scores, -1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.data, weights.data @ v.data, rtol=1e-12)


def test_sdpa_dropout_is_seeded_and_scales_the_weights_kept():
    q, k, v = (Tensor(a) for a in qkv((2, 8, 4), (2, 8, 4), (2, 8, 4), dtype=np.float32))
    manual_seed(0)
    out, weights = attention(q, k, v, dropout_p=0.5, need_weights=True)
    _, full = attention(q, k, v, need_weights=True)
    kept = weights.data != 0.0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(weights.data[kept], 2.0 * full.data[kept], rtol=1e-6)
    np.testing.assert_allclose(out.data, weights.data @ v.data, rtol=1e-5, atol=1e-6)
    assert out.dtype == weights.dtype == np.float32
    manual_seed(0)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(again.data, out.data)


def test_sdpa_float32_stays_float32_with_a_float64_mask():
    arrays = qkv((2, 5, 4), (2, 6, 4), (2, 6, 4), dtype=np.float32)
    q, k, v = (Tensor(a, requires_grad=True) for a in arrays)
    out = F.scaled_dot_product_attention(q, k, v, Tensor(FLOAT_MASK))
    out.sum().backward()
    assert out.dtype == q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32


def test_sdpa_errors():
    q, k, v = (Tensor(a) for a in qkv((2, 5, 4), (2, 6, 4), (2, 6, 3)))
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, Tensor(BOOL_MASK), is_causal=True)
    with pytest.raises(
        ValueError, match=r"query \(shape \(2, 5, 4\)\) and key \(shape \(2, 6, 3\)"
    ):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(
        ValueError, match=r"key \(shape \(2, 6, 4\)\) and value \(shape \(2, 5, 4\)"
    ):
        F.scaled_dot_product_attention(q, k, q)
    with pytest.raises(ValueError, match=r"mask of shape \(6, 5\) does not broadcast.*\(2, 5, 6\)"):
        F.scaled_dot_product_attention(q, k, v, Tensor(BOOL_MASK.T))
    with pytest.raises(TypeError, match="boolean .* or floating point"):
        F.scaled_dot_product_attention(q, k, v, Tensor(BOOL_MASK.astype(np.int64)))
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


# -- modules against torch ------------------------------------------------------------------------


def pair(cls, *args, dtype=np.float64, seed=0, **kwargs):
    """Our module and torch's with torch's weights; the biases made non-zero so they are tested."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(*args, dtype=torch_dtype(dtype), **kwargs)
    with torch.no_grad():
        for p in theirs.parameters():
            if p.ndim == 1:
                p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.1)
    ours = getattr(nn, cls)(*args, dtype=dtype, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    theirs.eval()
    ours.eval()
    return ours, theirs


def stack_pair(kind, num_layers, dtype=np.float64, final_norm=True, **layer_kwargs):
    """TransformerEncoder or TransformerDecoder stacks of both libraries with torch's weights."""
    torch.manual_seed(1)
    t_layer = getattr(torch.nn, f"Transformer{kind}Layer")(dtype=torch_dtype(dtype), **layer_kwargs)
    t_norm = torch.nn.LayerNorm(layer_kwargs["d_model"], dtype=torch_dtype(dtype))
    extra = dict(enable_nested_tensor=False) if kind == "Encoder" else {}
    theirs = getattr(torch.nn, f"Transformer{kind}")(
        t_layer, num_layers, t_norm if final_norm else None, **extra
    )
    ours_layer = getattr(nn, f"Transformer{kind}Layer")(dtype=dtype, **layer_kwargs)
    ours_norm = nn.LayerNorm(layer_kwargs["d_model"], dtype=dtype)
    ours = getattr(nn, f"Transformer{kind}")(
        ours_layer, num_layers, ours_norm if final_norm else None
    )
    with torch.no_grad():  # every copy different, so that a mix-up of layers shows
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.05)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours.eval(), theirs.eval()


def run_both(ours, theirs, arrays, same=None, masks=None, dtype=np.float64, **kwargs):
    """Call both modules on the same inputs (float arrays require grad; `same` maps argument
    positions to arrays, so that self-attention gets one tensor three times), send a random
    gradient into every output, and compare outputs, the inputs' and every parameter's
    gradients."""
    same = list(range(len(arrays))) if same is None else same
    our_in = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    their_in = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    masks = masks or {}
    our_out = ours(*[our_in[i] for i in same], **{k: Tensor(m) for k, m in masks.items()}, **kwargs)
    their_out = theirs(
        *[their_in[i] for i in same], **{k: torch.tensor(m) for k, m in masks.items()}, **kwargs
    )
    if not isinstance(our_out, tuple):
        our_out, their_out = (our_out,), (their_out,)
    assert [o is None for o in our_out] == [t is None for t in their_out]
    tol = TOLERANCES[dtype]
    our_loss, their_loss = 0.0, 0.0
    for i, (o, t) in enumerate((o, t) for o, t in zip(our_out, their_out) if o is not None):
        expected = t.detach().numpy()
        assert o.shape == expected.shape and o.dtype == expected.dtype, i
        np.testing.assert_allclose(o.data, expected, **tol, err_msg=f"output {i}")
        upstream = random(o.shape, dtype, seed=20 + i)
        our_loss = our_loss + (o * Tensor(upstream)).sum()
        their_loss = their_loss + (t * torch.tensor(upstream)).sum()
    our_loss.backward()
    their_loss.backward()
    for i, (o, t) in enumerate(zip(our_in, their_in)):
        assert o.grad.dtype == dtype
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), **tol, err_msg=f"grad of input {i}")
    mine = dict(ours.named_parameters())
    theirs_named = dict(theirs.named_parameters())
    assert list(mine) == list(theirs_named)
    for name, p in theirs_named.items():
        assert mine[name].grad is not None, name
        assert mine[name].grad.dtype == dtype, name
        np.testing.assert_allclose(mine[name].grad.data, p.grad.numpy(), **tol, err_msg=name)
    return our_out


L, S, N, E, H = 5, 4, 3, 8, 2  # query length, key length, batch, embed_dim, heads


def seq(length, width=E, batch_first=False, seed=0, batched=True):
    shape = (
        ((N, length, width) if batch_first else (length, N, width)) if batched else (length, width)
    )
    return random(shape, np.float64, seed=seed)


def key_padding(length=S):
    """(N, length), True = padding: the end of sample 0, the last key of sample 2."""
    mask = np.zeros((N, length), bool)
    mask[0, 2:] = True
    mask[2, -1] = True
    return mask


def causal_float(length):
    return np.triu(np.full((length, length), -np.inf), 1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention_matches_torch(batch_first, average):
    ours, theirs = pair("MultiheadAttention", E, H, batch_first=batch_first)
    x = seq(L, batch_first=batch_first)
    out, weights = run_both(ours, theirs, [x], [0, 0, 0], average_attn_weights=average)
    assert weights.shape == ((N, L, L) if average else (N, H, L, L))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_cross_attention_matches_torch(batch_first, need_weights):
    ours, theirs = pair("MultiheadAttention", E, H, batch_first=batch_first)
    x, memory = seq(L, batch_first=batch_first), seq(S, batch_first=batch_first, seed=1)
    run_both(ours, theirs, [x, memory], [0, 1, 1], need_weights=need_weights)
    value = seq(S, batch_first=batch_first, seed=2)
    run_both(ours, theirs, [x, memory, value], need_weights=need_weights)


def test_mha_kdim_vdim_matches_torch():
    ours, theirs = pair("MultiheadAttention", E, H, kdim=5, vdim=3)
    assert "q_proj_weight" in ours.state_dict() and ours.in_proj_weight is None
    arrays = [seq(L), seq(S, 5, seed=1), seq(S, 3, seed=2)]
    run_both(ours, theirs, arrays, masks=dict(key_padding_mask=key_padding()))
    run_both(ours, theirs, arrays, average_attn_weights=False, need_weights=True)


MASKS = {
    "key padding": dict(key_padding_mask=key_padding(L)),
    "float key padding": dict(key_padding_mask=np.where(key_padding(L), -1e9, 0.5)),
    "bool attn_mask": dict(attn_mask=np.triu(np.ones((L, L), bool), 1)),
    "float attn_mask": dict(attn_mask=random((L, L), seed=5)),
    "per head attn_mask": dict(attn_mask=random((N * H, L, L), seed=5) > 0.8),
    "both": dict(key_padding_mask=key_padding(L), attn_mask=np.triu(np.ones((L, L), bool), 1)),
}  # fmt: skip


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", MASKS, ids=str)
def test_mha_masks_match_torch(masks, need_weights):
    ours, theirs = pair("MultiheadAttention", E, H)
    run_both(
        ours,
        theirs,
        [seq(L)],
        [0, 0, 0],
        masks=MASKS[masks],
        need_weights=need_weights,
        average_attn_weights=False,
    )


def test_mha_gradient_of_a_float_attn_mask_matches_torch():
    ours, theirs = pair("MultiheadAttention", E, H, batch_first=True)
    x, mask = seq(L, batch_first=True), random((N * H, L, L), seed=6)
    our_mask, their_mask = Tensor(mask, requires_grad=True), torch.tensor(mask, requires_grad=True)
    (ours(*[Tensor(x)] * 3, attn_mask=our_mask)[0] ** 2).sum().backward()
    (theirs(*[torch.tensor(x)] * 3, attn_mask=their_mask)[0] ** 2).sum().backward()
    np.testing.assert_allclose(our_mask.grad.data, their_mask.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_mha_query_with_every_key_masked_gets_zeros():
    ours, theirs = pair("MultiheadAttention", E, H)
    padding = key_padding(L)
    padding[1] = True
    masks = dict(key_padding_mask=padding)
    run_both(ours, theirs, [seq(L)], [0, 0, 0], masks=masks, need_weights=False)  # torch: zeros
    x = Tensor(seq(L))
    out, weights = ours(x, x, x, key_padding_mask=Tensor(padding))  # torch: NaN
    np.testing.assert_array_equal(weights.data[1], 0.0)
    np.testing.assert_allclose(out.data[:, 1], np.broadcast_to(ours.out_proj.bias.data, (L, E)))


def test_mha_is_causal_with_its_mask_and_alone():
    ours, theirs = pair("MultiheadAttention", E, H, batch_first=True)
    x = seq(L, batch_first=True)
    mask = dict(attn_mask=causal_float(L))
    (expected, _) = run_both(ours, theirs, [x], [0, 0, 0], masks=mask, is_causal=True)
    (alone, _) = ours(*[Tensor(x)] * 3, is_causal=True)  # glassnet: no mask needed
    np.testing.assert_allclose(alone.data, expected.data, rtol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched_and_without_bias_matches_torch(need_weights):
    ours, theirs = pair("MultiheadAttention", E, H, bias=False)
    x = seq(L, batched=False)
    run_both(ours, theirs, [x], [0, 0, 0], need_weights=need_weights, average_attn_weights=False)
    memory = seq(S, batched=False, seed=1)
    run_both(ours, theirs, [x, memory], [0, 1, 1], masks=dict(key_padding_mask=key_padding()[0]))


def test_mha_float32():
    ours, theirs = pair("MultiheadAttention", E, H, dtype=np.float32)
    x = seq(L).astype(np.float32)
    run_both(ours, theirs, [x], [0, 0, 0], dtype=np.float32)


def test_mha_dropout_only_while_training():
    manual_seed(0)
    mha = nn.MultiheadAttention(E, H, dropout=0.5)
    x = Tensor(seq(L).astype(np.float32))
    _, dropped = mha(x, x, x, average_attn_weights=False)
    assert (dropped.data == 0).mean() > 0.3
    mha.eval()
    _, weights = mha(x, x, x)
    np.testing.assert_allclose(weights.data.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_gradcheck_with_dropout_and_weights(batch_first):
    manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, dropout=0.3, batch_first=batch_first, dtype=np.float64)

    def fn(x, memory):
        manual_seed(1)  # the same dropout masks on every call
        out, weights = mha(x, memory, memory, average_attn_weights=False)
        return out * 2.0 + (weights * weights).sum()

    memory = random((2, 3, 4) if batch_first else (3, 3, 4), seed=4)
    gradcheck(fn, random((2, 3, 4), seed=3), memory)


def test_mha_initialisation_matches_torch():
    ours, theirs = nn.MultiheadAttention(16, 4), torch.nn.MultiheadAttention(16, 4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(ours.in_proj_bias.data, 0.0)
    np.testing.assert_array_equal(ours.out_proj.bias.data, 0.0)
    bound = np.sqrt(6.0 / (16 + 48))  # xavier_uniform_ over (48, 16)
    w = ours.in_proj_weight.data
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(ours.out_proj.weight.data).max() <= 1 / 4  # Linear's init, 1 / sqrt(16)
    assert repr(ours) == repr(theirs)


# -- encoder and decoder --------------------------------------------------------------------------

LAYER_CONFIGS = [
    dict(norm_first=False, activation="relu"),
    dict(norm_first=True, activation="relu"),
    dict(norm_first=False, activation="gelu", batch_first=True),
    dict(norm_first=True, activation="gelu", batch_first=True),
]


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=str)
def test_encoder_layer_matches_torch(config):
    ours, theirs = pair("TransformerEncoderLayer", E, H, dim_feedforward=12, dropout=0.0, **config)
    x = seq(L, batch_first=config.get("batch_first", False))
    run_both(ours, theirs, [x])
    masks = dict(src_mask=causal_float(L) < 0, src_key_padding_mask=key_padding(L))
    run_both(ours, theirs, [x], masks=masks)


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=str)
def test_decoder_layer_matches_torch(config):
    ours, theirs = pair("TransformerDecoderLayer", E, H, dim_feedforward=12, dropout=0.0, **config)
    bf = config.get("batch_first", False)
    x, memory = seq(L, batch_first=bf), seq(S, batch_first=bf, seed=1)
    run_both(ours, theirs, [x, memory])
    masks = dict(tgt_mask=causal_float(L), memory_key_padding_mask=key_padding())
    run_both(ours, theirs, [x, memory], masks=masks)


def test_unbatched_layers_match_torch():
    ours, theirs = pair("TransformerEncoderLayer", E, H, dim_feedforward=12, dropout=0.0)
    run_both(ours, theirs, [seq(L, batched=False)], masks=dict(src_mask=causal_float(L)))
    ours, theirs = pair("TransformerDecoderLayer", E, H, dim_feedforward=12, dropout=0.0)
    run_both(ours, theirs, [seq(L, batched=False), seq(S, batched=False, seed=1)])


def test_layers_with_callable_activation_layer_norm_eps_and_no_bias():
    kwargs = dict(dim_feedforward=12, dropout=0.0, layer_norm_eps=1e-3, bias=False)
    ours, theirs = pair("TransformerEncoderLayer", E, H, **kwargs)
    ours.activation, theirs.activation = nn.GELU("tanh"), torch.nn.GELU("tanh")
    run_both(ours, theirs, [seq(L)])
    ours, theirs = pair("TransformerDecoderLayer", E, H, activation=F.silu, **kwargs)
    theirs.activation = TF.silu
    run_both(ours, theirs, [seq(L), seq(S, seed=1)])


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_matches_torch(norm_first):
    ours, theirs = stack_pair(
        "Encoder", 2, d_model=E, nhead=H, dim_feedforward=12, dropout=0.0, norm_first=norm_first
    )
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight
    masks = dict(mask=causal_float(L) < 0, src_key_padding_mask=key_padding(L))
    run_both(ours, theirs, [seq(L)], masks=masks)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_stack_matches_torch(norm_first):
    ours, theirs = stack_pair(
        "Decoder",
        2,
        d_model=E,
        nhead=H,
        dim_feedforward=12,
        dropout=0.0,
        norm_first=norm_first,
        activation="gelu",
        batch_first=True,
        final_norm=norm_first,
    )
    x, memory = seq(L, batch_first=True), seq(S, batch_first=True, seed=1)
    run_both(ours, theirs, [x, memory], masks=dict(tgt_mask=causal_float(L)))


def test_float32_encoder_layer_matches_torch():
    ours, theirs = pair(
        "TransformerEncoderLayer", E, H, dim_feedforward=12, dropout=0.0, dtype=np.float32
    )
    run_both(ours, theirs, [seq(L).astype(np.float32)], dtype=np.float32)


def test_dropout_applies_in_training_only_and_is_seeded():
    layer = nn.TransformerEncoderLayer(E, H, dim_feedforward=12, dropout=0.3)
    x = Tensor(seq(L).astype(np.float32))
    manual_seed(5)
    a = layer(x)
    manual_seed(5)
    b = layer(x)
    manual_seed(6)
    c = layer(x)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a.data, c.data)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)


def test_state_dicts_move_both_ways():
    torch.manual_seed(0)
    theirs = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=12, dropout=0.0), 2
    ).eval()
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, dim_feedforward=12), 2).eval()
    manual_seed(3)
    fresh = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, dim_feedforward=12), 2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(fresh.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    x, memory = seq(L).astype(np.float32), seq(S, seed=1).astype(np.float32)
    expected = theirs(torch.tensor(x), torch.tensor(memory)).detach().numpy()
    np.testing.assert_allclose(ours(Tensor(x), Tensor(memory)).data, expected, rtol=1e-4, atol=1e-5)


def test_repr_matches_torch():
    for cls in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        assert repr(getattr(nn, cls)(E, H)) == repr(getattr(torch.nn, cls)(E, H)), cls


# -- positional encodings -------------------------------------------------------------------------


def tutorial_table(max_len, d_model):
    """PyTorch's tutorial PositionalEncoding table, (max_len, d_model)."""
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-np.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe.numpy()


@pytest.mark.parametrize("batch_first", [False, True])
def test_sinusoidal_encoding_adds_the_table(batch_first):
    enc = nn.SinusoidalPositionalEncoding(E, max_len=50, dropout=0.2, batch_first=batch_first)
    assert "pe" not in enc.state_dict()
    np.testing.assert_allclose(enc.pe.data, tutorial_table(50, E), rtol=1e-6, atol=1e-6)
    enc.eval()
    x = seq(L, batch_first=batch_first).astype(np.float32)
    out = enc(Tensor(x))
    table = tutorial_table(L, E)
    expected = x + (table[None] if batch_first else table[:, None])
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32
    unbatched = enc(Tensor(x[0] if batch_first else x[:, 0]))
    np.testing.assert_allclose(
        unbatched.data, (x[0] if batch_first else x[:, 0]) + table, atol=1e-6
    )
    enc.train()
    manual_seed(0)
    assert (enc(Tensor(np.zeros_like(x))).data == 0).mean() > 0.1


def test_sinusoidal_encoding_odd_width_and_gradient():
    enc = nn.SinusoidalPositionalEncoding(5, max_len=9, dropout=0.0)
    np.testing.assert_allclose(enc.pe.data[:, 4], np.sin(np.arange(9) * 1e-4 ** (4 / 5)), 1e-5)
    x = Tensor(np.zeros((3, 2, 5), np.float32), requires_grad=True)
    enc(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 1.0)


@pytest.mark.parametrize("batch_first", [False, True])
def test_learned_positional_embedding(batch_first):
    pos = nn.LearnedPositionalEmbedding(10, E, batch_first=batch_first)
    assert list(pos.state_dict()) == ["weight"] and pos.weight.shape == (10, E)
    x = Tensor(seq(L, batch_first=batch_first).astype(np.float32), requires_grad=True)
    out = pos(x)
    table = pos.weight.data[:L]
    np.testing.assert_allclose(out.data, x.data + (table[None] if batch_first else table[:, None]))
    out.sum().backward()
    np.testing.assert_array_equal(pos.weight.grad.data[:L], N)
    np.testing.assert_array_equal(pos.weight.grad.data[L:], 0.0)


def test_positional_errors():
    with pytest.raises(ValueError, match=r"the sequence has 12 positions .* only 10"):
        nn.SinusoidalPositionalEncoding(E, max_len=10)(Tensor(np.zeros((12, 2, E), np.float32)))
    with pytest.raises(ValueError, match=r"E = 8, got shape \(2, 3, 6\)"):
        nn.LearnedPositionalEmbedding(10, E)(Tensor(np.zeros((2, 3, 6), np.float32)))


# -- errors ---------------------------------------------------------------------------------------


def test_wrong_embed_dim_names_the_layer_and_both_shapes():
    mha = nn.MultiheadAttention(E, H)
    pattern = r"MultiheadAttention\(embed_dim=8, num_heads=2\): expected query of shape \(L, N, 8\)"
    with pytest.raises(ValueError, match=pattern + r".*got shape \(5, 3, 6\)"):
        mha(*[Tensor(np.zeros((5, 3, 6), np.float32))] * 3)
    x = Tensor(np.zeros((3, 5, E), np.float32))
    with pytest.raises(
        ValueError, match=r"expected key of shape \(N, S, 4\) \(kdim=4\).*\(3, 5, 8\)"
    ):
        nn.MultiheadAttention(E, H, kdim=4, batch_first=True)(x, x, x)
    layer = nn.TransformerEncoderLayer(E, H)
    with pytest.raises(ValueError, match=r"embed_dim=8.*got shape \(5, 3, 6\)"):
        layer(Tensor(np.zeros((5, 3, 6), np.float32)))


def test_num_heads_must_divide_embed_dim():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="divisible"):
        nn.TransformerEncoderLayer(10, 4)


def test_mask_errors():
    mha = nn.MultiheadAttention(E, H)
    x = Tensor(np.zeros((L, N, E), np.float32))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(3, 5\).*got shape \(5, 3\)"):
        mha(x, x, x, key_padding_mask=Tensor(np.zeros((L, N), bool)))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(5, 5\).*\(6, 5, 5\).*\(2, 5, 5\)"):
        mha(x, x, x, attn_mask=Tensor(np.zeros((2, L, L), bool)))
    with pytest.raises(TypeError, match="boolean"):
        mha(x, x, x, attn_mask=Tensor(np.zeros((L, L), np.int64)))
    with pytest.raises(ValueError, match=r"same batch size"):
        mha(x, Tensor(np.zeros((S, 2, E), np.float32)), Tensor(np.zeros((S, 2, E), np.float32)))


def test_bad_arguments_are_rejected():
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(E, H, add_bias_kv=True)
    with pytest.raises(ValueError, match="relu/gelu, not 'tanh'"):
        nn.TransformerEncoderLayer(E, H, activation="tanh")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\], got 2.0"):
        nn.TransformerDecoderLayer(E, H, dropout=2.0)
    with pytest.raises(ValueError, match="TransformerEncoder: num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H), -1)
