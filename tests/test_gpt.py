"""GPT: shapes, weight tying, causality, the key/value cache (cached logits and greedy tokens
equal the uncached ones, also past the context), the optimizer's decay groups, agreement with
the same network in PyTorch, a tiny model memorising a string, saving and `glassnet sample`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.cli import main
from glassnet.data.datasets.text import Vocabulary
from glassnet.io import load_model_and_document, save_model
from glassnet.models import GPT
from glassnet.models.gpt import KVCache
from glassnet.nn.init import normal_
from torch_twins import TorchGPT

VOCAB, CONTEXT = 13, 16


def small_gpt(**kwargs) -> GPT:
    gn.manual_seed(0)
    options = dict(context=CONTEXT, d_model=32, n_layers=2, n_heads=4, dropout=0.0)
    return GPT(VOCAB, **{**options, **kwargs})


def scrambled(model: GPT) -> GPT:
    """`model` with large random weights, in eval mode: far from the near-uniform start."""
    for p in model.parameters():
        normal_(p, std=0.3)
    return model.eval()


def trained_on_a_cycle() -> GPT:
    """A small GPT that has learned a random cycle of 20 tokens (longer than its context), so
    its greedy choices vary from token to token: comparing generated sequences is a real test."""
    model = small_gpt()
    cycle = np.tile(np.random.default_rng(0).integers(0, VOCAB, 20), 4)
    windows = cycle[np.arange(20)[:, None] + np.arange(CONTEXT + 1)]
    x, y = gn.tensor(windows[:, :-1]), gn.tensor(windows[:, 1:])
    optimizer = model.configure_optimizer(weight_decay=0.0, lr=1e-2)
    for _ in range(40):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def tokens(shape: tuple[int, ...], seed: int = 0) -> gn.Tensor:
    return gn.tensor(np.random.default_rng(seed).integers(0, VOCAB, shape))


def test_shapes_loss_and_config():
    model = small_gpt()
    idx = tokens((3, 10))
    logits = model(idx)
    assert logits.shape == (3, 10, VOCAB) and logits.dtype == np.float32
    logits2, loss = model(idx, tokens((3, 10), seed=1))
    np.testing.assert_array_equal(logits2.data, logits.data)
    assert loss.shape == () and abs(loss.item() - np.log(VOCAB)) < 0.3  # small init: near uniform
    assert GPT(**model.config()).config() == model.config()


def test_bad_input_is_named():
    model = small_gpt()
    with pytest.raises(ValueError, match="exceed the context of 16"):
        model(tokens((1, CONTEXT + 1)))
    with pytest.raises(ValueError, match=r"shape \(N, T\)"):
        model(gn.randn(2, 5))
    with pytest.raises(ValueError, match="divisible"):
        GPT(VOCAB, CONTEXT, d_model=30, n_layers=1, n_heads=4)
    with pytest.raises(ValueError, match="non-empty"):
        model.generate([], 5)
    with pytest.raises(ValueError, match="temperature"):
        model.generate([1], 5, temperature=-1.0)


def test_weight_tying_is_one_parameter():
    model = small_gpt()
    assert model.head.weight is model.tok_emb.weight
    keys = list(model.state_dict())
    assert keys[:2] == ["tok_emb.weight", "pos_emb.weight"] and keys[-1] == "head.weight"
    assert "blocks.1.attn.qkv.weight" in keys and "blocks.0.mlp.proj.bias" in keys
    # the optimizer sees it once; its gradient has both uses (embedding rows and head)
    names = [name for name, _ in model.named_parameters()]
    assert "tok_emb.weight" in names and "head.weight" not in names
    _, loss = model(tokens((2, 8)), tokens((2, 8), seed=1))
    loss.backward()
    assert np.count_nonzero(np.abs(model.tok_emb.weight.grad.data).sum(1)) == VOCAB
    untied = small_gpt(tie_weights=False)
    assert untied.head.weight is not untied.tok_emb.weight
    assert len(list(untied.parameters())) == len(list(model.parameters())) + 1


def test_matches_torch_forward_and_gradients():
    model = small_gpt()
    twin = TorchGPT.copy_of(model)
    idx = tokens((2, 12))
    targets = tokens((2, 12), seed=1)
    logits, loss = model(idx, targets)
    loss.backward()
    ref = twin(torch.from_numpy(idx.numpy()))
    torch.nn.functional.cross_entropy(
        ref.reshape(-1, VOCAB), torch.from_numpy(targets.numpy()).reshape(-1)
    ).backward()
    np.testing.assert_allclose(logits.data, ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    theirs = dict(twin.named_parameters())
    for name, param in model.named_parameters():
        np.testing.assert_allclose(
            param.grad.data, theirs[name].grad.numpy(), rtol=1e-3, atol=1e-6, err_msg=name
        )


def test_causal_future_tokens_do_not_change_earlier_logits():
    model = scrambled(small_gpt())
    idx = tokens((2, 12))
    changed = idx.numpy().copy()
    changed[:, 7] = (changed[:, 7] + 1) % VOCAB
    before, after = model(idx).data, model(gn.tensor(changed)).data
    np.testing.assert_array_equal(after[:, :7], before[:, :7])
    assert np.abs(after[:, 7:] - before[:, 7:]).max() > 1e-3


def test_cached_logits_equal_full_recompute():
    model = scrambled(small_gpt())
    idx = tokens((2, CONTEXT))
    full = model(idx).data
    cache = KVCache()
    with gn.no_grad():
        parts = [model(idx[:, :5], cache=cache)]  # the prompt, read at once
        parts += [model(idx[:, t : t + 1], cache=cache) for t in range(5, 9)]  # one by one
        parts.append(model(idx[:, 9:], cache=cache))  # a chunk after cached positions
    assert cache.length == CONTEXT
    stepped = np.concatenate([p.data for p in parts], axis=1)
    np.testing.assert_allclose(stepped, full, rtol=1e-4, atol=1e-5)
    with gn.no_grad(), pytest.raises(ValueError, match="after the 16 cached"):
        model(idx[:, :1], cache=cache)
    with pytest.raises(RuntimeError, match="no_grad"):
        model(idx[:, :1], cache=KVCache())


def test_cached_greedy_generation_equals_uncached():
    model = trained_on_a_cycle()
    prompt = [3, 1, 4, 1, 5]
    # 40 new tokens with a context of 16: the window slides for the last 29 of them
    cached = model.generate(prompt, 40, temperature=0.0)
    uncached = model.generate(prompt, 40, temperature=0.0, use_cache=False)
    assert len(set(cached.tolist())) > 5  # not one token repeated
    np.testing.assert_array_equal(cached, uncached)
    long_prompt = tokens((CONTEXT + 5,)).numpy()  # cropped to its last 16 tokens
    np.testing.assert_array_equal(
        model.generate(long_prompt, 8, temperature=0.0),
        model.generate(long_prompt[-CONTEXT:], 8, temperature=0.0, use_cache=False),
    )


def test_sampling_is_reproducible_and_respects_top_k():
    model = scrambled(small_gpt())
    a = model.generate([1, 2], 30, temperature=1.0, generator=gn.Generator(7))
    b = model.generate([1, 2], 30, temperature=1.0, generator=gn.Generator(7), use_cache=False)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.min() >= 0 and a.max() < VOCAB
    assert model.training is False
    np.testing.assert_array_equal(
        model.generate([1, 2], 10, top_k=1), model.generate([1, 2], 10, temperature=0.0)
    )


def test_attention_maps():
    model = small_gpt().eval()
    maps = model.attention_maps(tokens((3, 9)))
    assert len(maps) == 2 and all(m.shape == (3, 4, 9, 9) for m in maps)
    for m in maps:
        np.testing.assert_allclose(m.sum(-1), 1.0, rtol=1e-5)
        assert np.triu(m, 1).max() == 0.0  # nothing from the future
        np.testing.assert_allclose(m[:, :, 0, 0], 1.0)  # the first token sees only itself


def test_weight_decay_groups():
    model = small_gpt()
    optimizer = model.configure_optimizer(weight_decay=0.1, lr=1e-3)
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert optimizer.defaults["betas"] == (0.9, 0.95)
    linear_weights = [
        m.weight for b in model.blocks for m in (b.attn.qkv, b.attn.proj, b.mlp.fc, b.mlp.proj)
    ]
    assert [id(p) for p in decay["params"]] == [id(p) for p in linear_weights]
    ids = {id(p) for p in no_decay["params"]}
    assert id(model.tok_emb.weight) in ids and id(model.pos_emb.weight) in ids
    assert id(model.blocks[0].ln1.weight) in ids and id(model.blocks[0].attn.qkv.bias) in ids
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_tiny_gpt_memorises_a_string():
    text = "the cat sat on the mat. "
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text * 4)
    gn.manual_seed(0)
    model = GPT(len(vocab), context=12, d_model=32, n_layers=2, n_heads=2)
    optimizer = model.configure_optimizer(weight_decay=0.0, lr=1e-2)
    starts = np.arange(len(text))
    windows = ids[starts[:, None] + np.arange(13)]
    x, y = gn.tensor(windows[:, :-1]), gn.tensor(windows[:, 1:])
    for _ in range(120):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.25  # the first characters of a window are ambiguous
    written = vocab.decode(model.generate(vocab.encode("the cat"), 30, temperature=0.0))
    assert "the cat" + written == (text * 3)[: 7 + 30]


def test_evaluation_scores_every_character_once_with_its_context():
    from glassnet.data.datasets.text import CharCorpus
    from glassnet.recipes.shakespeare_gpt import evaluate_gpt

    rng = np.random.default_rng(0)
    corpus = CharCorpus("".join(rng.choice(list("abcdefgh"), 200)), val_fraction=0.5)
    gn.manual_seed(0)
    model = scrambled(GPT(len(corpus.vocab), CONTEXT, d_model=32, n_layers=2, n_heads=4)).train()
    ids = corpus.val_ids
    n = len(ids) - 1

    def losses(start: int) -> np.ndarray:
        """Cross-entropy at each position of the window of CONTEXT characters at `start`."""
        window = ids[start : start + CONTEXT + 1]
        logits = model(gn.tensor(window[None, :-1])).data[0].astype(np.float64)
        top = logits.max(-1)
        log_z = np.log(np.exp(logits - top[:, None]).sum(-1)) + top
        return log_z - logits[np.arange(CONTEXT), window[1:]]

    with gn.no_grad():
        model.eval()
        # stride 1: the first window in full, then every character from the CONTEXT before it
        expected = (losses(0).sum() + sum(losses(s)[-1] for s in range(1, n - CONTEXT + 1))) / n
        # disjoint windows, and a last one flush with the end that scores only what is new
        starts = list(range(0, n - CONTEXT + 1, CONTEXT))
        disjoint = sum(losses(s).sum() for s in starts)
        covered = starts[-1] + CONTEXT
        disjoint += losses(n - CONTEXT)[CONTEXT - (n - covered) :].sum()
        model.train()
    assert n % CONTEXT != 0  # the last window overlaps: the test covers that case
    assert evaluate_gpt(model, corpus, stride=1) == pytest.approx(expected, rel=1e-6)
    assert evaluate_gpt(model, corpus, stride=CONTEXT, batch_size=3) == pytest.approx(
        disjoint / n, rel=1e-6
    )
    assert model.training  # the mode it was in
    with pytest.raises(ValueError, match="stride"):
        evaluate_gpt(model, corpus, stride=0)


def test_save_load_and_sample_command(tmp_path, capsys):
    model = small_gpt()
    vocab = Vocabulary("abcdefghijklm")
    extras = {"vocab": vocab.chars, "prompt": "abc"}
    weights, config = save_model(model, tmp_path / "model.safetensors", extras=extras)
    loaded, document = load_model_and_document(tmp_path)
    assert isinstance(loaded, GPT) and document["extras"]["vocab"] == vocab.chars
    assert loaded.head.weight is loaded.tok_emb.weight
    assert document["extras"]["prompt"] == "abc"
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    assert main(["sample", config, "--length", "12", "--temperature", "0"]) == 0
    expected = "abc" + vocab.decode(model.generate(vocab.encode("abc"), 12, temperature=0.0))
    assert capsys.readouterr().out.strip() == expected


def test_shakespeare_gpt_recipe_offline(tmp_path, monkeypatch, capsys):
    from glassnet.recipes.shakespeare_gpt import run

    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "empty"))  # no Tiny Shakespeare here
    result = run(
        out_dir=str(tmp_path),
        corpus="python",
        minutes=None,
        max_steps=3,
        context=32,
        d_model=16,
        n_layers=1,
        n_heads=2,
        batch_size=4,
        warmup_steps=1,
        verbose=False,
    )
    assert result["steps"] == 3 and np.isfinite(result["val_loss"])
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert names == [
        "attention_layer1.png",
        "epochs.csv",
        "loss.png",
        "metrics.jsonl",
        "model.json",
        "model.safetensors",
        "steps.csv",
    ]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-000000003.safetensors"]
    assert set(result["generation_speed"]) == {"cached", "uncached"}
    assert main(["sample", str(tmp_path), "--length", "10"]) == 0
    assert capsys.readouterr().out.startswith("def ")
