"""Synthetic posters: a seeded stand-in for the real data, with genre-dependent looks."""

import hashlib
import json
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter

from .._config import get_cache_dir
from ._common import (
    empty_report,
    indicator_matrix,
    logger,
    make_bunch,
    standard_frame,
)

# Bump when the drawing changes: cached folders are keyed by it.
_GENERATOR_VERSION = 1
DEFAULT_GENRES = ("Drama", "Comedy", "Action", "Romance", "Horror", "Animation")
# Relative frequencies, in the order of the real set (Drama 3.6k ... Animation 0.24k).
_DEFAULT_WEIGHTS = {
    "Drama": 0.30,
    "Comedy": 0.24,
    "Action": 0.14,
    "Romance": 0.13,
    "Horror": 0.11,
    "Animation": 0.08,
}
_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}
_MARKER = ".complete"

# Genre look: base colour (RGB 0-1) and a texture drawn on top.
_STYLES = {
    "Drama": ((0.42, 0.40, 0.38), "muted"),
    "Comedy": ((0.97, 0.84, 0.22), "bright"),
    "Action": ((0.80, 0.10, 0.08), "stripes"),
    "Romance": ((0.93, 0.52, 0.68), "glow"),
    "Horror": ((0.12, 0.08, 0.10), "dark"),
    "Animation": ((0.20, 0.65, 0.95), "blobs"),
}
_TEXTURES = ("muted", "bright", "stripes", "glow", "dark", "blobs")

_KEYWORDS = {
    "Drama": ["family", "loss", "grief", "marriage", "small town", "based on novel"],
    "Comedy": ["friendship", "wedding", "road trip", "parody", "buddy", "slapstick"],
    "Action": ["explosion", "car chase", "martial arts", "heist", "shootout", "revenge"],
    "Romance": ["love", "first love", "love triangle", "wedding", "paris", "kiss"],
    "Horror": ["ghost", "haunted house", "slasher", "demon", "zombie", "blood"],
    "Animation": ["talking animal", "magic", "anthropomorphism", "princess", "robot", "toy"],
}
_GENERIC_KEYWORDS = ["new york", "father son", "woman director", "independent film", "sequel"]
_TITLE_A = ["Silent", "Last", "Golden", "Broken", "Hidden", "Red", "Midnight", "Lost", "Wild"]
_TITLE_B = ["Harbor", "Summer", "Road", "Promise", "Kingdom", "River", "Garden", "City", "Storm"]
_NAMES = ["A. Moreau", "J. Kim", "L. Okafor", "M. Rossi", "S. Novak", "T. Ito", "R. Silva"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

DESCR = """\
Synthetic movie posters made by posterml.datasets.make_posters: seeded, deterministic
images whose colour and texture depend on the genres (Horror dark, Comedy bright yellow,
Action red high-contrast stripes, Animation saturated blobs, Romance pink glow, Drama
muted), blended for multi-genre movies and overlaid with random shapes and noise, plus
synthetic title/year/keywords/metadata columns. For tests and demos without the real data.
"""


def _style(genre):
    if genre in _STYLES:
        return _STYLES[genre]
    # A stable look for a user-supplied genre: crc32 is the same on every run and platform.
    seed = zlib.crc32(genre.encode("utf-8"))
    rng = np.random.default_rng(seed)
    return tuple(float(c) for c in rng.uniform(0.1, 0.95, 3)), _TEXTURES[seed % len(_TEXTURES)]


def _genre_weights(genres):
    weights = np.array(
        [_DEFAULT_WEIGHTS.get(g, 1.0 / (i + 2) ** 0.8) for i, g in enumerate(genres)], dtype=float
    )
    return weights / weights.sum()


def _draw_labels(rng, genres, weights):
    k = int(rng.choice([1, 2, 3], p=[0.35, 0.37, 0.28]))
    k = min(k, len(genres))
    chosen = rng.choice(len(genres), size=k, replace=False, p=weights)
    return sorted(int(j) for j in chosen)


def _render(rng, labels, genres, size):
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy /= height
    xx /= width
    styles = [_style(genres[j]) for j in labels]
    mix = rng.dirichlet(np.ones(len(styles)) * 2.0)
    base = np.zeros(3, dtype=np.float32)
    for w, (colour, _) in zip(mix, styles):
        base += w * np.asarray(colour, dtype=np.float32)
    # Global colour jitter: genres overlap in colour space, as real posters do.
    base = np.clip(base + rng.normal(0, 0.12, 3), 0, 1).astype(np.float32)
    gradient = 1.0 + rng.uniform(-0.35, 0.35) * (yy - 0.5)
    img = base[None, None, :] * gradient[..., None]

    for (colour, texture), w in zip(styles, mix):
        if rng.random() > 0.85:  # a genre's texture is sometimes absent
            continue
        colour = np.asarray(colour, dtype=np.float32)
        strength = float(np.clip(0.45 + w, 0.4, 1.0))
        if texture == "stripes":
            angle = rng.uniform(0, np.pi)
            period = rng.uniform(0.08, 0.2)
            phase = np.cos(angle) * xx + np.sin(angle) * yy * height / width
            stripes = (np.sin(2 * np.pi * phase / period) > 0).astype(np.float32)
            dark = rng.random() < 0.5
            layer = stripes[..., None] * colour + (1 - stripes[..., None]) * (0.0 if dark else 1.0)
            img = (1 - 0.6 * strength) * img + 0.6 * strength * layer
        elif texture == "bright":
            img = 1 - (1 - img) * (1 - 0.5 * strength)
            img = img * (1 - 0.4 * strength) + colour * 0.4 * strength
        elif texture == "dark":
            cx, cy = rng.uniform(0.3, 0.7, 2)
            vignette = np.clip(1.2 - 1.6 * np.hypot(xx - cx, yy - cy), 0.05, 1)
            img = img * (1 - 0.75 * strength) * vignette[..., None] + colour * 0.2
        elif texture == "muted":
            grey = img.mean(axis=2, keepdims=True)
            img = (1 - 0.6 * strength) * img + 0.6 * strength * (0.7 * grey + 0.3 * colour)
        else:  # "blobs" and "glow" are drawn with Pillow below
            continue

    image = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8), "RGB")
    for (colour, texture), w in zip(styles, mix):
        if texture not in ("blobs", "glow") or rng.random() > 0.85:
            continue
        layer = Image.new("RGB", size, (0, 0, 0))
        mask = Image.new("L", size, 0)
        draw, mdraw = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
        if texture == "blobs":
            for _ in range(int(rng.integers(5, 13))):
                hue = rng.random()
                rgb = _hsv_to_rgb(hue, 0.95, 0.95)
                r = rng.uniform(0.06, 0.2) * width
                cx, cy = rng.uniform(0, width), rng.uniform(0, height)
                box = (cx - r, cy - r, cx + r, cy + r)
                draw.ellipse(box, fill=rgb)
                mdraw.ellipse(box, fill=int(200 + 55 * w))
        else:
            pink = tuple(int(255 * c) for c in np.clip(np.asarray(colour) + 0.1, 0, 1))
            for _ in range(int(rng.integers(2, 5))):
                r = rng.uniform(0.15, 0.35) * width
                cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
                box = (cx - r, cy - r, cx + r, cy + r)
                draw.ellipse(box, fill=pink)
                mdraw.ellipse(box, fill=int(150 + 80 * w))
            mask = mask.filter(ImageFilter.GaussianBlur(radius=width / 12))
        image = Image.composite(layer, image, mask)

    # Distractors that carry no genre signal: a "figure", a title band, random shapes.
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 4))):
        rgb = tuple(int(v) for v in rng.integers(0, 256, 3))
        x0, y0 = rng.uniform(0, width * 0.8), rng.uniform(0, height * 0.8)
        x1, y1 = x0 + rng.uniform(0.1, 0.5) * width, y0 + rng.uniform(0.1, 0.5) * height
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=rgb)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=rgb)
    band_y = rng.uniform(0.05, 0.85) * height
    band = tuple(int(v) for v in rng.integers(0, 256, 3))
    draw.rectangle((0.1 * width, band_y, 0.9 * width, band_y + 0.08 * height), fill=band)

    pixels = np.asarray(image, dtype=np.float32) / 255
    pixels = pixels + rng.normal(0, 0.05, pixels.shape).astype(np.float32)
    return Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8), "RGB")


def _hsv_to_rgb(h, s, v):
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return int(255 * r), int(255 * g), int(255 * b)


def _metadata(rng, i, labels, genres):
    """Title/year/keywords/OMDb-like fields of movie ``i``; sometimes missing, as real ones are."""
    names = [genres[j] for j in labels]
    year = int(rng.integers(1950, 2017))
    runtime = int(rng.normal(100, 15)) - (20 if "Animation" in names else 0)
    rating = float(np.clip(rng.normal(6.3, 1.0) + (-0.8 if "Horror" in names else 0), 1, 10))

    def maybe(value, p_missing):
        return np.nan if rng.random() < p_missing else value

    vocabulary = list(dict.fromkeys(k for g in names for k in _KEYWORDS.get(g, [g.lower()])))
    has_keywords = rng.random() > 0.12
    keywords = None
    if has_keywords:
        picked = rng.choice(
            vocabulary, size=min(len(vocabulary), int(rng.integers(0, 6))), replace=False
        )
        noise = rng.choice(_GENERIC_KEYWORDS, size=int(rng.integers(0, 3)), replace=False)
        keywords = [str(k) for k in (*picked, *noise)]
    return {
        "title": f"{rng.choice(_TITLE_A)} {rng.choice(_TITLE_B)}",
        "year": maybe(float(year), 0.03),
        "released": maybe(f"{int(rng.integers(1, 29)):02d} {rng.choice(_MONTHS)} {year}", 0.03),
        "omdb_genre": ", ".join(names),
        "director": maybe(str(rng.choice(_NAMES)), 0.02),
        "writer": maybe(str(rng.choice(_NAMES)), 0.08),
        "actors": maybe(", ".join(rng.choice(_NAMES, size=3, replace=False)), 0.02),
        "imdb_rating": maybe(f"{rating:.1f}", 0.04),
        "imdb_votes": maybe(f"{int(rng.lognormal(8, 2)) + 5:,}", 0.04),
        "box_office": maybe(f"{int(rng.lognormal(16, 1.5)):,}", 0.3),
        "rated": maybe(str(rng.choice(["G", "PG", "PG-13", "R"])), 0.18),
        "runtime": maybe(f"{max(runtime, 5)} min", 0.03),
        "language": maybe(str(rng.choice(["English", "English", "French", "Spanish"])), 0.01),
        "country": maybe(str(rng.choice(["USA", "USA", "UK", "France", "Japan"])), 0.01),
        "awards": np.nan,
        "metascore": maybe(str(int(np.clip(rating * 10 + rng.normal(0, 10), 1, 100))), 0.45),
        "tmdb_id": i + 1 if has_keywords else pd.NA,
        "keywords": keywords,
    }


def _validate(n, genres, size, random_state, fmt):
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if genres is None:
        genres = list(DEFAULT_GENRES)
    else:
        if isinstance(genres, str):
            raise TypeError(f"genres must be a list of genre names, not the string {genres!r}")
        genres = list(genres)
        if not genres or not all(isinstance(g, str) and g.strip() for g in genres):
            raise ValueError(f"genres must be non-empty strings, got {genres!r}")
        if len(set(genres)) != len(genres):
            raise ValueError(f"genres has duplicates: {genres!r}")
    if (
        not isinstance(size, list | tuple)
        or len(size) != 2
        or not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in size)
        or min(size) < 8
    ):
        raise ValueError(f"size must be (width, height), ints >= 8, got {size!r}")
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, int | np.integer)
    ):
        raise ValueError(
            f"random_state must be an int (or None for unseeded posters), got {random_state!r}"
        )
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {sorted(_FORMATS)}, got {fmt!r}")
    return int(n), genres, (int(size[0]), int(size[1])), fmt


def make_posters(n=200, out_dir=None, *, genres=None, size=(182, 268), random_state=0, fmt="jpg"):
    """Write ``n`` synthetic poster images and return them as a dataset.

    Each movie gets 1-3 genres (imbalanced like the real set: Drama most, Animation
    least). Its poster blends the colour and texture of its genres (Horror dark, Comedy
    bright yellow, Action red high-contrast stripes, Animation saturated blobs, Romance pink
    glow, Drama muted), then adds random shapes, a title band and pixel noise: not trivially
    separable, yet a kNN on 16x16 thumbnails beats chance. The same parameters give the
    same bytes; poster ``i`` does not depend on ``n``.

    Parameters
    ----------
    n : int, default=200
        Number of posters.
    out_dir : str or Path, optional
        Where to write ``syn000001.jpg`` ... (created; existing files of the same names are
        overwritten). Default: a folder under ``get_cache_dir("synthetic")`` keyed by the
        parameters, reused when complete.
    genres : list of str, optional
        Genre names. Default: Drama, Comedy, Action, Romance, Horror, Animation. Other
        names get a stable colour and texture derived from the name.
    size : (int, int), default=(182, 268)
        ``(width, height)`` in pixels (the real posters are 182 px wide).
    random_state : int or None, default=0
        Seed. None draws fresh entropy (and never reuses a cached folder).
    fmt : {"jpg", "jpeg", "png"}, default="jpg"
        Image format.

    Returns
    -------
    sklearn.utils.Bunch
        Same fields as :func:`load_av_posters`: ``frame`` (same columns; ``imdb_id`` like
        ``'syn000001'``, synthetic title, year, keywords and OMDb-like fields, NaN where
        meaningless), ``Y``, ``genres``, ``report`` (empty), ``root`` (the folder), ``DESCR``.

    Examples
    --------
    >>> import tempfile
    >>> from posterml.datasets import make_posters
    >>> data = make_posters(12, tempfile.mkdtemp(), size=(32, 48))
    >>> data.Y.shape, data.frame["imdb_id"].iloc[0]
    ((12, 6), 'syn000001')
    """
    n, genres, size, fmt = _validate(n, genres, size, random_state, fmt)
    seed = np.random.SeedSequence(None if random_state is None else int(random_state))
    ext = "jpg" if fmt == "jpeg" else fmt
    cached = out_dir is None
    if cached:
        params = {
            "version": _GENERATOR_VERSION,
            "n": n,
            "genres": genres,
            "size": list(size),
            "seed": str(seed.entropy),
            "fmt": ext,
        }
        key = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
        base = get_cache_dir("synthetic")
        if random_state is None:
            out_dir = Path(tempfile.mkdtemp(prefix="unseeded-", dir=base))
        else:
            out_dir = base / f"n{n}-{size[0]}x{size[1]}-rs{random_state}-{ext}-{key}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_dir = out_dir.resolve()

    width = max(6, len(str(n)))
    ids = [f"syn{i + 1:0{width}d}" for i in range(n)]
    paths = [out_dir / f"{imdb_id}.{ext}" for imdb_id in ids]
    marker = out_dir / _MARKER
    reuse = (
        cached
        and random_state is not None
        and marker.is_file()
        and marker.read_text() == key
        and all(p.is_file() for p in paths)
    )
    weights = _genre_weights(genres)
    labels, rows = [], []
    for i, child in enumerate(seed.spawn(n)):
        # Separate streams: metadata can be regenerated without redrawing the image.
        label_seed, image_seed = child.spawn(2)
        label_rng = np.random.default_rng(label_seed)
        movie_labels = _draw_labels(label_rng, genres, weights)
        labels.append(movie_labels)
        rows.append(_metadata(label_rng, i, movie_labels, genres))
        if not reuse:
            image = _render(np.random.default_rng(image_seed), movie_labels, genres, size)
            save = {"quality": 90} if _FORMATS[fmt] == "JPEG" else {}
            image.save(paths[i], format=_FORMATS[fmt], **save)
    if cached and not reuse:
        # Written last: an interrupted run leaves no marker and is redone next time.
        marker.write_text(key)

    Y = indicator_matrix([[genres[j] for j in lab] for lab in labels], genres)
    meta = pd.DataFrame(rows)
    frame = standard_frame(
        n,
        imdb_id=ids,
        poster_path=[os.fspath(p) for p in paths],
        genres=[[genres[j] for j in lab] for lab in labels],
        **{c: meta[c].to_numpy(dtype=object) for c in meta.columns if c not in ("year", "tmdb_id")},
        year=meta["year"].to_numpy(dtype=float),
        tmdb_id=pd.array(meta["tmdb_id"].tolist(), dtype="Int64"),
    )
    logger.info(
        "make_posters: %d synthetic posters, %d genres in %s%s",
        n,
        len(genres),
        out_dir,
        " (reused)" if reuse else "",
    )
    return make_bunch(frame, Y, genres, empty_report(), out_dir, DESCR)
