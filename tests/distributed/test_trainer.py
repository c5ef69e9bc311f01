"""The Trainer in a process group: killed and resumed on as many ranks it ends bit for bit as
the uninterrupted run; a 4-rank checkpoint resumed on 2 ranks starts from the same weights."""

from __future__ import annotations

import json

import numpy as np

from .ranks import check, run_ranks


def final(out) -> dict:
    return dict(np.load(out / "final.npz"))


def test_a_killed_two_rank_run_resumed_on_two_ranks_ends_bit_identical(tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir(), broken.mkdir()
    check(run_ranks(2, "train", str(whole))[0])
    killed, seconds = run_ranks(2, "train", str(broken), "stop=9")  # mid-epoch 2
    assert killed.returncode != 0 and seconds < 60
    assert not (broken / "final.npz").exists()
    check(run_ranks(2, "train", str(broken), "resume")[0])
    ours, reference = final(broken), final(whole)
    assert ours.keys() == reference.keys()
    for key in reference:
        assert np.array_equal(ours[key], reference[key]), key
    position = json.loads((broken / "position.json").read_text())
    assert position == {"global_step": 18, "epoch": 3}


def test_a_four_rank_checkpoint_resumed_on_two_ranks_starts_from_its_weights(tmp_path):
    check(run_ranks(4, "train", str(tmp_path), "steps=8")[0])
    at_step_8 = final(tmp_path)
    check(run_ranks(2, "train", str(tmp_path), "resume", "steps=12", "record")[0])
    start = dict(np.load(tmp_path / "start.npz"))
    for key in at_step_8:
        assert np.array_equal(start[key], at_step_8[key]), key
    position = json.loads((tmp_path / "position.json").read_text())
    assert position == {"global_step": 12, "epoch": 2}
    assert any(not np.array_equal(final(tmp_path)[k], at_step_8[k]) for k in at_step_8)


def test_the_trainer_on_two_ranks_takes_the_steps_of_one_process(tmp_path):
    # in order (no shuffle) rank 0 reads samples 0, 2, ..., 14 and rank 1 samples 1, 3, ..., 15
    # of each global batch of 16: the averaged gradient is the whole batch's
    options = ["dropout=0", "shuffle=0", "accumulate=2", "steps=12"]
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    check(run_ranks(1, "train", str(one), *options)[0])
    done, _ = run_ranks(2, "train", str(two), *options)
    check(done)
    assert "2 ranks: rank 0" in done.stderr
    ours, single = final(two), final(one)
    for key in single:
        np.testing.assert_allclose(ours[key], single[key], rtol=1e-5, atol=1e-6, err_msg=key)
