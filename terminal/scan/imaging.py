"""Image operations the pipeline repairs frames with (and the simulator degrades them with)."""

from __future__ import annotations

import cv2
import numpy as np


def dominant_edge_angle(gray: np.ndarray) -> float:
    """Degrees to rotate by so the strongest edges stand upright (structure tensor)."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    xx, yy, xy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    return 0.5 * float(np.degrees(np.arctan2(2 * xy, xx - yy)))


def rotate(gray: np.ndarray, degrees: float) -> np.ndarray:
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)


def unsharp(gray: np.ndarray, amount: float = 1.5, sigma: float = 2.0) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, blurred, -amount, 0)


def motion_kernel(length: float, degrees: float) -> np.ndarray:
    """A normalised line kernel: the blur a straight movement of `length` px makes."""
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), dtype=np.float32)
    centre = size // 2
    dx, dy = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    for step in np.linspace(-length / 2, length / 2, size * 4):
        kernel[int(np.rint(centre + step * dy)), int(np.rint(centre + step * dx))] += 1
    return kernel / kernel.sum()


def _pair_slots(packed: np.ndarray) -> np.ndarray:
    """Copies each real part of a CCS-packed spectrum into its imaginary slot as well.

    OpenCV packs a real image's spectrum (CCS) as re/im pairs along rows, except columns 0 and
    width-1, which pair along rows of the column. A real-valued spectrum such as |H|² then holds
    its value in the re slot and 0 in the im slot; dividing a packed spectrum by it needs the
    value in both. Needs even width and height.
    """
    height, width = packed.shape
    both = packed.copy()
    both[:, 2 : width - 1 : 2] = packed[:, 1 : width - 1 : 2]
    for column in (0, width - 1):
        both[2 : height - 1 : 2, column] = packed[1 : height - 1 : 2, column]
    return both


def disc_kernel(radius: float) -> np.ndarray:
    """A uniform disc: the blur of a lens out of focus, to first order."""
    size = int(np.ceil(radius)) + 1
    yy, xx = np.mgrid[-size : size + 1, -size : size + 1].astype(np.float32)
    disc = np.clip(radius + 0.5 - np.sqrt(xx * xx + yy * yy), 0, 1)
    return disc / disc.sum()


def deconvolved(gray: np.ndarray, kernels, noise_ratio: float = 0.01):
    """Wiener deconvolutions of `gray`, one per (odd, square) kernel in `kernels`.

    Spectra stay in OpenCV's packed real format (CCS): about 5× cheaper than complex output.
    """
    height, width = gray.shape
    even = cv2.copyMakeBorder(gray, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    spectrum = cv2.dft(even.astype(np.float32))
    for kernel in kernels:
        size = kernel.shape[0]
        padded = np.zeros(even.shape, dtype=np.float32)
        padded[:size, :size] = kernel
        transfer = cv2.dft(np.roll(padded, (-(size // 2), -(size // 2)), axis=(0, 1)))
        numerator = cv2.mulSpectrums(spectrum, transfer, 0, conjB=True)
        power = _pair_slots(cv2.mulSpectrums(transfer, transfer, 0, conjB=True)) + noise_ratio
        restored = cv2.idft(numerator / power, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
        yield np.clip(restored[:height, :width], 0, 255).astype(np.uint8)


def deblurred(gray: np.ndarray, degrees: float, lengths, noise_ratio: float = 0.01):
    """Wiener deconvolutions of `gray` for straight motion along `degrees`, one per length."""
    kernels = (motion_kernel(length, degrees) for length in lengths)
    return deconvolved(gray, kernels, noise_ratio)


def whitened(
    gray: np.ndarray, smooth: float = 1.0, strength: float = 0.8, floor: float = 0.01
) -> np.ndarray:
    """Blind sharpening by spectral whitening: divides the spectrum by its own smooth envelope.

    A code's modules have a roughly flat spectrum; any blur (a curved hand path, a lens, both)
    bends it down towards high frequencies. Dividing by the envelope (the log-magnitude spectrum
    smoothed over `smooth` frequency bins, raised to `strength`, floored at `floor` of its peak
    so noise is not boosted without bound) undoes the bend without assuming the blur's shape.
    Phases are kept, so it sharpens rather than deblurs exactly. Output stretched to 0..255.
    """
    spectrum = cv2.dft(gray.astype(np.float32), flags=cv2.DFT_COMPLEX_OUTPUT)
    magnitude = cv2.magnitude(spectrum[:, :, 0], spectrum[:, :, 1])
    # Smoothed in the centred layout, so low frequencies are not blurred across the wrap.
    envelope = cv2.GaussianBlur(np.fft.fftshift(cv2.log(magnitude + 1e-3)), (0, 0), smooth)
    envelope = np.fft.ifftshift(cv2.max(envelope, float(envelope.max()) + np.log(floor)))
    gain = cv2.exp((float(envelope[0, 0]) - envelope) * strength)  # 1 at zero frequency
    restored = cv2.idft(spectrum * gain[:, :, None], flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)
    low, high = np.percentile(restored[::3, ::3], (1, 99))  # a sample is enough for a stretch
    scale = 255.0 / max(1e-6, float(high - low))
    return np.clip((restored - low) * scale, 0, 255).astype(np.uint8)


def sharpness(gray: np.ndarray) -> float:
    """Edge sharpness relative to contrast: high for crisp print, low for a blurred code."""
    spread = float(gray.std())
    if spread < 1.0:
        return 0.0
    return float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean()) / spread
