"""Blind estimate of a region's lens blur: the defocus disc's radius, read from the region's own
power spectrum rather than assumed.

A code's modules make a broadband, roughly power-law spectrum. A lens out of focus multiplies it
by the disc's transfer function |H_r(f)|², whose zero rings sit at frequencies set by the radius
r. So the log power spectrum, averaged over angle, is a smooth power law plus log |H_r(f)|²: the
radius whose dips fit best is the blur's. The fit is linear least squares per candidate radius
(offset and slope of the power law), one matrix product for all candidates at once. "No blur" is
a candidate too, so a sharp region says so instead of being deconvolved for nothing.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from terminal.scan.imaging import disc_kernel

BINS = 100  # radial frequency bins from 0 to 0.5 cycles per pixel
FIT_BAND = (0.03, 0.42)  # cycles/px: below, the code's layout dominates; above, noise and JPEG
RADII = tuple(np.round(np.arange(1.0, 5.01, 0.125), 3))  # px: the discs the fit chooses among
FLOOR = 1e-3  # |H|² floor: a real zero ring is filled by noise, never -inf in the log
SHARP = 0.0  # the "no blur" candidate's radius


def _bin_centres() -> np.ndarray:
    return (np.arange(BINS) + 0.5) * (0.5 / BINS)


@lru_cache(maxsize=8)
def _radial_bins(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For an unshifted spectrum of `shape`: each element's radial bin (BINS = out of range),
    and how many elements each bin holds."""
    height, width = shape
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[None, :]
    radius = np.sqrt(fy * fy + fx * fx)
    index = np.minimum((radius * (2 * BINS)).astype(np.int32), BINS).ravel()
    counts = np.bincount(index, minlength=BINS + 1)[:BINS]
    return index, np.maximum(counts, 1)


def log_power_profile(gray: np.ndarray) -> np.ndarray:
    """The region's log power spectrum averaged over angle, in BINS radial bins. A Hann window
    first, so the region's cut edges do not add a spectrum of their own."""
    values = gray.astype(np.float32)
    values -= float(values.mean())
    values *= cv2.createHanningWindow((gray.shape[1], gray.shape[0]), cv2.CV_32F)
    spectrum = cv2.dft(values, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = (spectrum[:, :, 0] ** 2 + spectrum[:, :, 1] ** 2).ravel()
    index, counts = _radial_bins(gray.shape)
    sums = np.bincount(index, weights=power, minlength=BINS + 1)[:BINS]
    return np.log(sums / counts + 1e-6)


@lru_cache(maxsize=1)
def _disc_responses() -> np.ndarray:
    """log |H_r(f)|² per candidate radius (rows; row 0 is "no blur") at the bin centres, from
    the same discrete discs the deconvolution uses, averaged over angle."""
    size = 256
    index, counts = _radial_bins((size, size))
    rows = [np.zeros(BINS)]
    for radius in RADII:
        kernel = disc_kernel(radius)
        padded = np.zeros((size, size), np.float32)
        padded[: kernel.shape[0], : kernel.shape[1]] = kernel
        shift = -(kernel.shape[0] // 2)
        transfer = np.real(np.fft.fft2(np.roll(padded, (shift, shift), axis=(0, 1))))
        mean = np.bincount(index, weights=transfer.ravel(), minlength=BINS + 1)[:BINS] / counts
        rows.append(np.log(mean * mean + FLOOR))
    return np.array(rows)


@lru_cache(maxsize=1)
def _fit_matrices() -> tuple[np.ndarray, np.ndarray]:
    """The band's mask and the least-squares projector onto (1, log f): residual = y - P y."""
    centres = _bin_centres()
    band = (centres >= FIT_BAND[0]) & (centres <= FIT_BAND[1])
    design = np.stack([np.ones(band.sum()), np.log(centres[band])], axis=1)
    projector = design @ np.linalg.pinv(design)
    return band, projector


def defocus_radius(gray: np.ndarray) -> float:
    """The defocus disc's radius in px that best explains the region's spectrum; 0.0 when no
    disc explains it better than no blur at all."""
    band, projector = _fit_matrices()
    profile = log_power_profile(gray)[band]
    unexplained = profile[None, :] - _disc_responses()[:, band]
    residual = unexplained - unexplained @ projector.T
    errors = (residual * residual).mean(axis=1)
    best = int(np.argmin(errors))
    return SHARP if best == 0 else float(RADII[best - 1])
