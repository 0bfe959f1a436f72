"""Group-relative selection: the argmax of each group, GRPO advantages."""

from __future__ import annotations

import numpy as np
import pytest

from profilerec.errors import UserError
from profilerec.methods.pte.selection import group_relative


def test_selects_argmax_with_grpo_advantages() -> None:
    rewards = np.array([[1.0, 3.0, 2.0], [-5.0, -1.0, -4.0], [0.5, 0.5, 0.1]])
    out = group_relative(rewards)
    assert out.selected.tolist() == [1, 1, 0]  # the tie in row 3 goes to the first candidate
    expected = (rewards - rewards.mean(1, keepdims=True)) / (
        rewards.std(1, ddof=1, keepdims=True) + 1e-4
    )
    np.testing.assert_allclose(out.advantages, expected, rtol=1e-12)
    np.testing.assert_allclose(out.advantages.sum(1), 0.0, atol=1e-12)
    assert out.advantages[0].tolist() == pytest.approx([-1.0, 1.0, 0.0], abs=1e-3)


def test_shift_and_scale_of_a_group_do_not_change_its_advantages() -> None:
    base = np.array([[0.2, -1.3, 0.7, 0.1]])
    a = group_relative(base).advantages
    b = group_relative(base * 10.0 + 7.0).advantages
    np.testing.assert_allclose(a, b, rtol=1e-3)  # up to eps


def test_missing_rewards_are_left_out() -> None:
    out = group_relative([[None, 2.0, 4.0], [np.nan, 1.0, np.nan], [None, None, None]])
    assert out.selected.tolist() == [2, 1, 0]
    assert np.isnan(out.advantages[0, 0])
    assert out.advantages[0, 1:] == pytest.approx([-1 / np.sqrt(2), 1 / np.sqrt(2)], rel=1e-3)
    assert out.advantages[1, 1] == 0.0  # a group of one valid reward has nothing to compare
    assert np.isnan(out.advantages[2]).all()


def test_equal_rewards_give_zero_advantage_and_empty_input_is_fine() -> None:
    out = group_relative([[1.0, 1.0]])
    assert out.advantages.tolist() == [[0.0, 0.0]] and out.selected.tolist() == [0]
    assert group_relative([]).selected.shape == (0,)
    with pytest.raises(UserError):
        group_relative([[]])
