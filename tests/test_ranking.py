"""HR@k and NDCG@k on cases worked out by hand (one held-out item in column 0 per row)."""

import math

import numpy as np
import pytest

from glassnet.train.ranking import hit_rate, ndcg, rank_of_first


def test_ranks_hits_and_ndcg_by_hand():
    scores = np.array(
        [
            [0.9, 0.1, 0.2, 0.3],  # first: rank 0
            [0.5, 0.9, 0.1, 0.2],  # one above: rank 1
            [0.1, 0.9, 0.8, 0.7],  # last: rank 3
            [0.5, 0.5, 0.1, 0.1],  # a tie counts against the model: rank 1
        ]
    )
    np.testing.assert_array_equal(rank_of_first(scores), [0, 1, 3, 1])
    assert hit_rate(scores, k=1) == 0.25
    assert hit_rate(scores, k=2) == 0.75
    assert hit_rate(scores, k=4) == 1.0
    # NDCG@2: 1/log2(2) = 1, 1/log2(3) twice, 0 for the rank-3 row
    assert ndcg(scores, k=2) == pytest.approx((1 + 2 / math.log2(3)) / 4)
    assert ndcg(scores, k=4) == pytest.approx((1 + 2 / math.log2(3) + 1 / math.log2(5)) / 4)


def test_equal_scores_rank_last_and_bad_shapes_are_named():
    assert hit_rate(np.zeros((5, 101)), k=10) == 0.0
    with pytest.raises(ValueError, match="rank_of_first: scores must be"):
        rank_of_first(np.zeros(5))
    with pytest.raises(ValueError, match="k"):
        ndcg(np.zeros((2, 3)), k=0)
