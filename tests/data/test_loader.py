"""The in-memory loader: epochs are permutations, resumes repeat batches, ranks split batches."""

from __future__ import annotations

import pytest
import torch

from cnnzoo.data.augment import Augment, channel_stats
from cnnzoo.data.inputs import Fit, InputTransform
from cnnzoo.data.loader import InMemoryLoader, Shard


def _data(n: int = 103) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.arange(n, dtype=torch.float64).view(n, 1, 1, 1).expand(n, 1, 6, 6)
    images = (images % 256).to(torch.uint8).contiguous()
    return images, torch.arange(n)  # label = index: batches say which images they hold


def _loader(
    train: bool, shard: Shard | None = None, batch: int = 10, augment: Augment | None = None
) -> InMemoryLoader:
    images, labels = _data()
    mean, std = channel_stats(images)
    t = InputTransform(Fit((6, 6), 1), mean, std, augment or Augment(crop_padding=1, flip=True))
    return InMemoryLoader(images, labels, t, batch, train=train, seed=3, shard=shard)


def test_an_epoch_is_a_permutation_without_the_last_partial_batch() -> None:
    loader = _loader(train=True)
    assert len(loader) == 10 and loader.num_samples == 100
    seen = torch.cat([labels for _, labels in loader])
    assert len(seen) == 100 and len(set(seen.tolist())) == 100
    loader.set_epoch(1)
    other = torch.cat([labels for _, labels in loader])
    assert not torch.equal(seen, other)  # reshuffled every epoch
    loader.set_epoch(0)
    assert torch.equal(seen, torch.cat([labels for _, labels in loader]))


def test_resuming_mid_epoch_gives_the_remaining_batches() -> None:
    loader = _loader(train=True)
    loader.set_epoch(2)
    full = list(loader)
    rest = list(loader.batches(start=6))
    assert len(rest) == 4
    for (x, y), (x2, y2) in zip(full[6:], rest, strict=True):
        assert torch.equal(x, x2) and torch.equal(y, y2)


def test_two_ranks_split_each_global_batch() -> None:
    single = list(_loader(train=True))
    ranks = [list(_loader(train=True, shard=Shard(r, 2))) for r in range(2)]
    assert len(ranks[0]) == len(single)
    for (x, y), (x0, y0), (x1, y1) in zip(single, *ranks, strict=True):
        assert torch.equal(torch.cat([y0, y1]), y)
        assert torch.equal(torch.cat([x0, x1]), x)  # the same crops and flips


@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_evaluation_counts_every_image_exactly_once(world: int) -> None:
    seen = torch.cat(
        [
            y
            for r in range(world)
            for _, y in _loader(train=False, shard=Shard(r, world), batch=8 * world)
        ]
    )
    assert sorted(seen.tolist()) == list(range(103))
    assert (
        sum(
            _loader(train=False, shard=Shard(r, world), batch=8 * world).num_samples
            for r in range(world)
        )
        == 103
    )


def test_batch_size_must_split_over_the_ranks() -> None:
    with pytest.raises(ValueError, match="batch size 10 does not split over 3 processes"):
        _loader(train=True, shard=Shard(0, 3))
