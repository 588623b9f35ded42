"""Batched augmentation: exact geometry, seeded determinism, and rank slices equal to one batch."""

from __future__ import annotations

import pytest
import torch

from cnnzoo.data.augment import Augment, Part, channel_stats, pca_lighting_basis
from cnnzoo.data.inputs import Fit, InputTransform


def _images(n: int = 16, c: int = 1, side: int = 28, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, c, side, side), generator=g, dtype=torch.uint8)


def _transform(
    augment: Augment, fit: Fit | None = None, images: torch.Tensor | None = None
) -> InputTransform:
    images = _images() if images is None else images
    mean, std = channel_stats(images)
    basis = pca_lighting_basis(images) if augment.lighting else None
    return InputTransform(fit or Fit((28, 28), images.shape[1]), mean, std, augment, basis)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_eval_transform_is_normalisation_only() -> None:
    images = _images()
    t = _transform(Augment(crop_padding=4, flip=True, erasing=1.0))
    x = t(images)  # train=False: no augmentation, no randomness needed
    mean, std = channel_stats(images)
    expected = (images.float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    torch.testing.assert_close(x, expected)
    assert abs(x.mean().item()) < 1e-4 and abs(x.std().item() - 1) < 1e-3


def test_same_seed_same_batch_other_seed_other_batch() -> None:
    t = _transform(Augment(crop_padding=2, flip=True, erasing=0.5))
    images = _images()
    a, b = t(images, _gen(1), train=True), t(images, _gen(1), train=True)
    c = t(images, _gen(2), train=True)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_random_crop_is_a_shift_of_the_padded_image() -> None:
    images = _images(8)
    t = _transform(Augment(crop_padding=3))
    base = t(images)  # normalised, unshifted
    out = t(images, _gen(5), train=True)
    padded = torch.nn.functional.pad(base, (3, 3, 3, 3))
    shifts = set()
    for i in range(len(images)):
        found = [
            (dy, dx)
            for dy in range(7)
            for dx in range(7)
            if torch.equal(out[i], padded[i, :, dy : dy + 28, dx : dx + 28])
        ]
        assert found, f"image {i} is not a 28x28 window of its 3-pixel padded copy"
        shifts.add(found[0])
    assert len(shifts) > 1  # not every image at the same offset


def test_flip_mirrors_about_half() -> None:
    images = _images(400, side=8)
    t = _transform(Augment(flip=True), Fit((8, 8), 1), images)
    base, out = t(images), t(images, _gen(3), train=True)
    flipped = torch.tensor([torch.equal(o, b.flip(2)) for o, b in zip(out, base, strict=True)])
    same = torch.tensor([torch.equal(o, b) for o, b in zip(out, base, strict=True)])
    assert bool((flipped | same).all())
    assert 160 < int(flipped.sum()) < 240  # Binomial(400, 1/2): ±4 sigma


def test_random_erasing_zeroes_one_rectangle_of_the_right_area() -> None:
    images = torch.full((64, 1, 28, 28), 200, dtype=torch.uint8)
    images[0] = 0  # a second value so the std is not zero
    t = _transform(Augment(erasing=1.0), images=images)
    out = t(images, _gen(0), train=True)[1:]
    for img in out:
        zero = img[0] == 0
        rows, cols = zero.any(1).nonzero(), zero.any(0).nonzero()
        h = rows.max() - rows.min() + 1
        w = cols.max() - cols.min() + 1
        assert int(zero.sum()) == int(h * w), "the erased region is a filled rectangle"
        assert 0.02 * 784 - 28 <= h * w <= 0.33 * 784 + 28


def test_pca_lighting_basis_is_eigenvectors_times_eigenvalues() -> None:
    """AlexNet §4.1 adds [p1 p2 p3][α1 λ1, α2 λ2, α3 λ3]ᵀ: columns λ_i p_i, so B Bᵀ = C²."""
    g = _gen(0)
    rgb = torch.randint(0, 256, (200, 3, 8, 8), generator=g, dtype=torch.uint8)
    rgb[:, 1] = rgb[:, 0] // 2 + rgb[:, 1] // 2  # correlated channels, distinct eigenvalues
    basis = pca_lighting_basis(rgb)
    pixels = (rgb.float() / 255).transpose(0, 1).reshape(3, -1)
    covariance = torch.cov(pixels)
    torch.testing.assert_close(basis @ basis.T, covariance @ covariance, atol=1e-6, rtol=1e-4)
    for column in basis.T:  # each column is an eigenvector scaled by its eigenvalue
        torch.testing.assert_close(
            covariance @ column, column.norm() * column, atol=1e-6, rtol=1e-4
        )
    t = _transform(Augment(lighting=0.1), Fit((8, 8), 3), rgb)
    shift = t(rgb, _gen(1), train=True) - t(rgb)
    per_image = shift.flatten(2)
    torch.testing.assert_close(per_image.amax(2), per_image.amin(2), atol=1e-5, rtol=0)


def test_pad_fit_centres_the_image_on_a_black_field() -> None:
    """LeNet-5 reads 28x28 digits on a 32x32 field (LeCun et al. 1998, §III.A)."""
    images = _images(4)
    t = _transform(Augment(), Fit((32, 32), 1, "pad"), images)
    x = t(images)
    mean, std = channel_stats(images)
    black = (0 - mean.item()) / std.item()
    assert x.shape == (4, 1, 32, 32)
    torch.testing.assert_close(x[:, :, 2:30, 2:30], _transform(Augment(), images=images)(images))
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    torch.testing.assert_close(x[:, 0][:, border], torch.full((4, int(border.sum())), black))


def test_resize_fit_grey_to_alexnet_rgb() -> None:
    images = _images(2)
    x = _transform(Augment(), Fit((227, 227), 3, "resize"), images)(images)
    assert x.shape == (2, 3, 227, 227)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 1], x[:, 2])


def test_pad_refuses_larger_images() -> None:
    with pytest.raises(ValueError, match=r"cannot pad 28x28 images to 20x20"):
        _transform(Augment(), Fit((20, 20), 1, "pad"))(_images())


@pytest.mark.parametrize("world", [2, 4])
def test_rank_parts_equal_the_whole_batch(world: int) -> None:
    """A rank augments its rows exactly as one process augments the whole batch."""
    images = _images(16, c=3, side=12)
    t = _transform(
        Augment(crop_padding=2, flip=True, lighting=0.1, erasing=0.5), Fit((12, 12), 3), images
    )
    whole = t(images, _gen(7), train=True)
    local = 16 // world
    parts = [
        t(
            images[r * local : (r + 1) * local],
            _gen(7),
            train=True,
            part=Part(r * local, (r + 1) * local, 16),
        )
        for r in range(world)
    ]
    assert torch.equal(torch.cat(parts), whole)


def test_constant_images_are_centred_not_divided_by_zero() -> None:
    """All-constant images have std 0 (and a single pixel NaN): the inputs were NaN, and the
    run's advice was to lower the learning rate."""
    grey = torch.full((4, 3, 8, 8), 77, dtype=torch.uint8)
    mean, std = channel_stats(grey)
    assert mean.tolist() == pytest.approx([77 / 255] * 3) and std.tolist() == [1.0] * 3
    x = InputTransform(Fit((8, 8), 3), mean, std)(grey)
    assert torch.isfinite(x).all() and x.abs().max() < 1e-6  # centred: all zero
    assert channel_stats(torch.full((1, 1, 1, 1), 5, dtype=torch.uint8))[1].tolist() == [1.0]
    varied = channel_stats(_images())[1]
    assert 0.25 < varied.item() < 0.35  # uniform noise keeps its own std (255/sqrt(12)/255)
