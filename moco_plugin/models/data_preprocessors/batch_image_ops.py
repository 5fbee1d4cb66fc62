"""Per-sample image operations vectorised over a batch (the pieces of :class:`BatchMoCoAugment`).

Every function takes a float batch ``(N, 3, H, W)`` (any value scale, given by
``bound``) plus per-sample parameters as tensors on the same device, and runs
without Python loops over samples and without reading values back to the host,
so one call costs the same few kernels for 1 or 1,000 images. Each one mirrors
a torchvision transform; the tests compare them with
``torchvision.transforms.functional`` for the same parameters.
"""
from __future__ import annotations

from typing import Optional

import torch

# ITU-R 601-2 luma weights, as torchvision's ``rgb_to_grayscale`` (and PIL's ``convert('L')``).
LUMA_WEIGHTS = (0.2989, 0.587, 0.114)

# Colour-jitter operation ids, in the order of torchvision's ``ColorJitter`` factors.
BRIGHTNESS, CONTRAST, SATURATION, HUE = 0, 1, 2, 3


def resize_weights(start: torch.Tensor, length: torch.Tensor, in_size: int, out_size: int,
                   flip: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Matrices that crop ``[start, start + length)`` along one axis and resize it to ``out_size``.

    The weights are those of PIL's bilinear resize, which torchvision uses for
    PIL images and reproduces for tensors with ``antialias=True``: a triangle
    filter whose support widens with the downscaling factor (so shrinking
    averages instead of aliasing; when enlarging it is plain bilinear
    interpolation), restricted to the pixels inside the crop and normalised.
    Mirroring the output order gives the horizontal flip for free.

    Args:
        start: ``(N,)`` first pixel of each crop along the axis.
        length: ``(N,)`` crop length in pixels.
        in_size: Image length along the axis.
        out_size: Output length.
        flip: Optional ``(N,)`` bool; reverses the output of those samples.

    Returns:
        ``(N, out_size, in_size)`` float32 weights; row ``o`` holds the
        contribution of every input pixel to output pixel ``o``.
    """
    start = start.float().unsqueeze(1)
    length = length.float().unsqueeze(1)
    step = length / out_size  # input pixels per output pixel
    support = step.clamp(min=1.0)
    out_pos = torch.arange(out_size, device=start.device, dtype=torch.float32) + 0.5
    if flip is not None:
        out_pos = torch.where(flip.unsqueeze(1), out_size - out_pos, out_pos)
    centre = start + out_pos * step  # (N, out) in continuous pixel coordinates
    pixel = torch.arange(in_size, device=start.device, dtype=torch.float32) + 0.5
    weights = (1.0 - (pixel - centre.unsqueeze(2)).abs() / support.unsqueeze(2)).clamp_(min=0.0)
    inside = (pixel >= start.unsqueeze(2)) & (pixel < (start + length).unsqueeze(2))
    weights = weights * inside
    return weights / weights.sum(dim=2, keepdim=True)


def resample(images: torch.Tensor, row_weights: torch.Tensor, col_weights: torch.Tensor) -> torch.Tensor:
    """``out[n, c] = row_weights[n] @ images[n, c] @ col_weights[n].T``: a separable resampling.

    Crop, resize and flip of every sample become two batched matrix products,
    arranged so that no transposed copy of the images is needed.

    Args:
        images: ``(N, C, H, W)`` float batch.
        row_weights: ``(N, H_out, H)`` weights (see :func:`resize_weights`).
        col_weights: ``(N, W_out, W)`` weights.

    Returns:
        ``(N, C, H_out, W_out)`` contiguous batch.
    """
    n, c, h, w = images.shape
    out_h, out_w = row_weights.shape[1], col_weights.shape[1]
    # Columns of all channels at once: (N, C*H, W) @ (N, W, W_out) -> (N, C, H, W_out).
    cols = torch.bmm(images.reshape(n, c * h, w), col_weights.transpose(1, 2))
    # Rows, one product per (sample, channel): (N*C, H_out, H) @ (N*C, H, W_out).
    rows = row_weights.repeat_interleave(c, dim=0)
    return torch.bmm(rows, cols.view(n * c, h, out_w)).view(n, c, out_h, out_w)


def gaussian_blur_weights(sigma: torch.Tensor, size: int, radius: int) -> torch.Tensor:
    """``(N, size, size)`` matrices of a 1-D Gaussian blur with per-sample ``sigma``.

    Border pixels are repeated (PIL's ``GaussianBlur`` extends the edges), so
    each row sums to one. A ``sigma`` of 0 gives the identity.

    Args:
        sigma: ``(N,)`` standard deviations in pixels.
        size: Image length along the axis.
        radius: Taps on each side of the centre (e.g. ``ceil(3 * max_sigma)``).
    """
    offsets = torch.arange(-radius, radius + 1, device=sigma.device, dtype=torch.float32)
    safe_sigma = sigma.float().clamp(min=1e-6).unsqueeze(1)
    taps = torch.exp(-0.5 * (offsets / safe_sigma) ** 2)  # (N, T)
    taps = taps / taps.sum(dim=1, keepdim=True)
    positions = torch.arange(size, device=sigma.device)
    source = (positions.unsqueeze(1) + offsets.long()).clamp_(0, size - 1)  # (size, T)
    n = sigma.shape[0]
    weights = torch.zeros(n, size, size, device=sigma.device, dtype=torch.float32)
    weights.scatter_add_(2, source.expand(n, size, -1),
                         taps.unsqueeze(1).expand(n, size, -1).contiguous())
    return weights


def rgb_to_luma(images: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` luma of an RGB batch (torchvision's ``rgb_to_grayscale``)."""
    r, g, b = images.unbind(dim=1)
    return (LUMA_WEIGHTS[0] * r + LUMA_WEIGHTS[1] * g + LUMA_WEIGHTS[2] * b).unsqueeze(1)


def shift_hue(images: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of each sample by ``shift`` turns (torchvision's ``adjust_hue``).

    Computes the HSV hue in sextants (``6 h``), adds the shift and converts
    back with the branch-free form ``c = V - (V - min) * clamp(min(k, 4 - k), 0, 1)``,
    ``k = (n_c + 6 h) mod 6`` with ``n = (5, 3, 1)`` for R, G, B; value and
    saturation are unchanged, as in torchvision's HSV round trip.

    Args:
        images: ``(N, 3, H, W)`` float batch, any non-negative scale.
        shift: ``(N,)`` hue shifts in turns, in ``[-0.5, 0.5]``.
    """
    r, g, b = images.unbind(dim=1)
    max_c = images.amax(dim=1)
    min_c = images.amin(dim=1)
    chroma = max_c - min_c
    inv_chroma = 1.0 / torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    # Same tie-breaking as torchvision: red wins, then green.
    sextant = torch.where(max_c == r, (g - b) * inv_chroma,
                          torch.where(max_c == g, (b - r) * inv_chroma + 2.0,
                                      (r - g) * inv_chroma + 4.0))
    sextant = sextant.add_(6.0 * shift.view(-1, 1, 1)).unsqueeze(1)
    phase = torch.tensor([5.0, 3.0, 1.0], device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    k = phase + sextant
    k = k.sub_(torch.floor(k * (1.0 / 6.0)).mul_(6.0))  # mod 6 (torch.remainder is much slower on CPU)
    ramp = torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)
    return max_c.unsqueeze(1) - chroma.unsqueeze(1) * ramp


def _per_sample(value: torch.Tensor) -> torch.Tensor:
    return value.view(-1, 1, 1, 1)


def color_jitter(images: torch.Tensor, factors: torch.Tensor, order: torch.Tensor,
                 applied: torch.Tensor, bound: float = 255.0,
                 hue_on_subset: Optional[bool] = None, inplace: bool = False) -> torch.Tensor:
    """torchvision's ``ColorJitter`` with per-sample factors and per-sample op order.

    Brightness, contrast and saturation are all ``clamp(f * x + (1 - f) * base)``
    (torchvision's ``_blend``) with ``base`` = 0, the mean luma, or the pixel's
    luma, so each of the 4 positions of the random order is one blend with a
    per-sample factor and a per-sample mix of those bases for the whole batch,
    plus the hue shift for the samples whose op at that position is hue.
    Samples with ``applied`` False (or whose op there is hue) get factor 1,
    which leaves them bit-identical.

    Args:
        images: ``(N, 3, H, W)`` float batch in ``[0, bound]``.
        factors: ``(N, 4)`` brightness, contrast, saturation factors and hue shift.
        order: ``(N, 4)`` per-sample permutation of the op ids
            (``BRIGHTNESS, CONTRAST, SATURATION, HUE``), applied left to right.
        applied: ``(N,)`` bool, whether the jitter is applied to each sample.
        bound: Maximum pixel value (255 for the 0-255 scale, 1 for [0, 1]).
        hue_on_subset: Convert only the samples that need the hue op at each
            position (less work, but the subset size is data-dependent, which
            synchronises GPUs with the host). ``None`` picks it on CPU only.
        inplace: Overwrite ``images`` (contiguous) instead of a copy; saves a
            batch-sized allocation, which on CPU means fresh pages to fault in.

    Returns:
        The jittered batch.
    """
    if hue_on_subset is None:
        hue_on_subset = images.device.type == 'cpu'
    if not inplace:
        images = images.clone()  # updated in place below: no new batch-sized tensor per op
    for position in range(order.shape[1]):
        op = order[:, position]
        factor = factors.gather(1, op.unsqueeze(1)).squeeze(1)
        is_hue = op == HUE
        blend = torch.where(applied & ~is_hue, factor, torch.ones_like(factor))
        keep = 1.0 - blend
        luma = rgb_to_luma(images)
        # base = (1 - f) * (luma if saturation) + (1 - f) * (mean luma if contrast); 0 for brightness.
        luma_weight = _per_sample(keep * (op == SATURATION))
        offset = _per_sample(keep * (op == CONTRAST)) * luma.mean(dim=(2, 3), keepdim=True)
        base = torch.addcmul(offset, luma, luma_weight)
        # f * x + base; with f == 1 the base is 0 and x comes back exactly.
        torch.addcmul(base, images, _per_sample(blend), out=images).clamp_(0.0, bound)
        hue_here = applied & is_hue
        if hue_on_subset:
            index = hue_here.nonzero().squeeze(1)
            if index.numel():
                shifted = shift_hue(images.index_select(0, index), factor.index_select(0, index))
                images.index_copy_(0, index, shifted)
        else:
            shift = torch.where(hue_here, factor, torch.zeros_like(factor))
            shifted = shift_hue(images, shift)
            mask = _per_sample(hue_here).to(images.dtype)
            images.mul_(1.0 - mask).addcmul_(shifted, mask)
    return images


def random_grayscale(images: torch.Tensor, to_gray: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """Replace the samples flagged in ``to_gray`` by their luma on all 3 channels.

    Arithmetic blend with a 0/1 per-sample weight, which is exact for both
    cases and avoids ``torch.where`` (slow on CPU for float batches).
    ``inplace`` overwrites ``images`` instead of allocating the result.
    """
    gray = _per_sample(to_gray).to(images.dtype)
    luma = rgb_to_luma(images).mul_(gray)
    if inplace:
        return images.mul_(1.0 - gray).add_(luma)
    return torch.addcmul(luma, images, 1.0 - gray)
