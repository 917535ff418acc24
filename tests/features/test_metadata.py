"""Tests for posterml.features._metadata.MovieMetadata."""

import doctest
import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from posterml.features import _metadata
from posterml.features._keywords import KeywordBagOfWords
from posterml.features._metadata import MovieMetadata

NUMERIC = ["year", "runtime", "imdb_rating", "imdb_votes", "box_office", "metascore"]
ONLY = {f: None for f in [*NUMERIC, "rated", "language", "country"]}


def _only(**columns):
    """MovieMetadata using only the given fields (others None)."""
    params = {**ONLY, **columns}
    extra = {k: params.pop(k) for k in list(params) if k not in ONLY}
    return MovieMetadata(**params, **extra)


def _movies():
    """Loader-like frame: OMDb fields as raw strings, NaN where OMDb said N/A."""
    return pd.DataFrame(
        {
            "imdb_id": ["tt1", "tt2", "tt3", "tt4", "tt5"],
            "year": [1980.0, 2010.0, np.nan, 1999.0, 2015.0],
            "runtime": ["124 min", "88 min", np.nan, "101 min", "95 min"],
            "imdb_rating": ["8.8", "6.8", "7.8", np.nan, "5.0"],
            "imdb_votes": ["799,579", "17,705", "154,994", "12", np.nan],
            "box_office": ["$290,158,751", "101,500,000", np.nan, np.nan, "1,020"],
            "metascore": ["79", np.nan, "50", np.nan, "1"],
            "rated": ["PG", "R", "R", np.nan, "Not Rated"],
            "language": ["English", "English, Spanish", "Hindi", np.nan, "French, English"],
            "country": ["USA", "USA, UK", "India", "UK", np.nan],
            "keywords": [["space"], ["prison", "escape"], None, ["love"], ["paris", "love"]],
        }
    )


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("year", "2010", 2010),
        ("year", "2010.0", 2010),
        ("year", 2010.0, 2010),
        ("year", 2010, 2010),
        ("year", "2010\u20132013", 2010),
        ("year", "2010-2013", 2010),
        ("year", "2010\u2013", 2010),
        ("year", "16 Jul 2010", 2010),
        ("year", "2010-07-16", 2010),
        ("year", "July 16, 2010", 2010),
        ("runtime", "124 min", 124),
        ("runtime", " 124 min ", 124),
        ("runtime", "124", 124),
        ("runtime", "124 mins", 124),
        ("runtime", "2 h 4 min", 124),
        ("runtime", "2h", 120),
        ("runtime", 95, 95),
        ("imdb_rating", "7.5", 7.5),
        ("imdb_rating", "7.5/10", 7.5),
        ("imdb_rating", "10", 10),
        ("imdb_votes", "799,579", 799579),
        ("imdb_votes", "1,626,900", 1626900),
        ("imdb_votes", "43", 43),
        ("box_office", "$290,158,751", 290158751),
        ("box_office", "290,158,751", 290158751),
        ("box_office", "$1,020", 1020),
        ("metascore", "79", 79),
        ("metascore", "79/100", 79),
    ],
)
def test_numeric_parsing(field, value, expected):
    frame = pd.DataFrame({field: [value]}, dtype=object)
    out = _only(**{field: field}, dtype=np.float64).fit_transform(frame)
    assert out.tolist() == [[expected, 0.0]]


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, "", "  ", "N/A", "n/a", "NA", "nan"])
def test_missing_numbers_are_nan_with_indicator(value):
    frame = pd.DataFrame({"runtime": ["90 min", value]}, dtype=object)
    meta = _only(runtime="runtime")
    out = meta.fit_transform(frame)
    assert meta.get_feature_names_out().tolist() == ["runtime", "runtime_missing"]
    assert out[0].tolist() == [90.0, 0.0]
    assert np.isnan(out[1, 0])
    assert out[1, 1] == 1.0
    assert len(meta.unparsed_) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("runtime", "abc"),
        ("runtime", "-5 min"),
        ("runtime", "12 parsecs"),
        ("year", "10"),
        ("year", "next year"),
        ("imdb_rating", "7.5 stars"),
        ("imdb_votes", "79,9579"),
        ("imdb_votes", -3),
        ("imdb_votes", float("inf")),
        ("imdb_votes", True),
        ("box_office", "\u00a3100"),
        ("metascore", ["79"]),
    ],
)
def test_unparseable_values_coerced_and_reported(field, value, caplog):
    first, last = ("1999", "2001") if field == "year" else ("5", "6")  # valid in every field
    frame = pd.DataFrame({field: [first, value, last]}, dtype=object, index=[7, 8, 9])
    meta = _only(**{field: field}, dtype=np.float64)
    with caplog.at_level(logging.WARNING, logger="posterml"):
        out = meta.fit_transform(frame)
    assert np.isnan(out[1, 0])
    assert out[1, 1] == 1.0  # the indicator marks it too
    assert meta.unparsed_.to_dict("list") == {
        "row": [1],
        "index": [8],  # the frame's label of row 1
        "column": [field],
        "value": [value],
    }
    message = caplog.records[0].getMessage()
    assert "MovieMetadata.fit: 1 unparseable value(s) made missing" in message
    assert f"row 1: {value!r}" in message


def test_on_error_raise_names_column_row_and_value():
    frame = pd.DataFrame({"Runtime": ["90 min", "95 min", "abc"]})
    meta = _only(runtime="Runtime", on_error="raise")
    with pytest.raises(ValueError, match=r"cannot parse 'abc' in column 'Runtime' at row 2"):
        meta.fit(frame)
    with pytest.raises(NotFittedError):
        meta.transform(frame)
    meta.fit(frame.iloc[:2])
    with pytest.raises(ValueError, match=r"'12 parsecs' in column 'Runtime' at row 0"):
        meta.transform(pd.DataFrame({"Runtime": ["12 parsecs"]}))
    # missing values are not errors
    assert np.isnan(meta.transform(pd.DataFrame({"Runtime": ["N/A"]}))[0, 0])


def test_unparsed_report_resets_per_call():
    meta = _only(runtime="runtime")
    meta.fit(pd.DataFrame({"runtime": ["abc", "90 min"]}))
    assert meta.unparsed_["row"].tolist() == [0]
    meta.transform(pd.DataFrame({"runtime": ["90 min", "x", "y"]}))
    assert meta.unparsed_["row"].tolist() == [1, 2]
    assert meta.unparsed_["value"].tolist() == ["x", "y"]
    meta.transform(pd.DataFrame({"runtime": ["90 min"]}))
    assert meta.unparsed_.empty
    assert meta.unparsed_.columns.tolist() == ["row", "index", "column", "value"]


def test_log_counts():
    frame = pd.DataFrame({"imdb_votes": ["999", np.nan], "runtime": ["99 min", "1 min"]})
    meta = _only(imdb_votes="imdb_votes", runtime="runtime", log_counts=True, dtype=np.float64)
    out = meta.fit_transform(frame)
    assert out[0, :2].tolist() == pytest.approx([99.0, np.log(1000.0)])  # runtime not logged
    assert np.isnan(out[1, 1])


# ---------------------------------------------------------------- categories


def test_default_output_columns_and_values():
    meta = MovieMetadata(min_frequency=1, top_languages=2, top_countries=2)
    out = meta.fit_transform(_movies())
    names = meta.get_feature_names_out().tolist()
    assert names == [
        *NUMERIC,
        *[f"{n}_missing" for n in NUMERIC],
        "rated_r",
        "rated_not_rated",
        "rated_pg",
        "rated_other",
        "rated_missing",
        "language_english",
        "language_french",
        "language_other",
        "language_missing",
        "country_uk",
        "country_usa",
        "country_other",
        "country_missing",
    ]
    frame = pd.DataFrame(out, columns=names)
    assert out.dtype == np.float32
    assert frame["year"].tolist()[:2] == [1980.0, 2010.0]
    assert frame["runtime"].tolist()[:2] == [124.0, 88.0]
    assert frame["imdb_votes"].tolist()[:4] == [799579.0, 17705.0, 154994.0, 12.0]
    assert frame["box_office"][0] == np.float32(290158751)
    assert frame["metascore_missing"].tolist() == [0, 1, 0, 1, 0]
    assert frame["year_missing"].tolist() == [0, 0, 1, 0, 0]
    assert frame["rated_r"].tolist() == [0, 1, 1, 0, 0]
    assert frame["rated_not_rated"].tolist() == [0, 0, 0, 0, 1]
    assert frame["rated_missing"].tolist() == [0, 0, 0, 1, 0]
    assert frame["rated_other"].tolist() == [0, 0, 0, 0, 0]
    # "any": Spanish (1 movie, beyond the top 2) is other; French counts though listed 2nd
    assert frame["language_english"].tolist() == [1, 1, 0, 0, 1]
    assert frame["language_french"].tolist() == [0, 0, 0, 0, 1]
    assert frame["language_other"].tolist() == [0, 1, 1, 0, 0]
    assert frame["language_missing"].tolist() == [0, 0, 0, 1, 0]
    assert frame["country_uk"].tolist() == [0, 1, 0, 1, 0]
    assert frame["country_other"].tolist() == [0, 0, 1, 0, 0]
    assert frame["country_missing"].tolist() == [0, 0, 0, 0, 1]
    assert meta.categories_ == {
        "rated": ["R", "NOT RATED", "PG"],
        "language": ["english", "french"],
        "country": ["uk", "usa"],
    }
    assert meta.category_counts_["language"] == {
        "english": 3,
        "french": 1,
        "hindi": 1,
        "spanish": 1,
    }
    # only the numbers can be NaN
    n_numeric = len(NUMERIC)
    assert not np.isnan(out[:, n_numeric:]).any()


def test_rated_normalisation_min_frequency_and_unknown():
    frame = pd.DataFrame(
        {"rated": ["PG-13", "pg-13 ", "Not Rated", "UNRATED", "NOT RATED", "R", "N/A", None]}
    )
    meta = _only(rated="rated", min_frequency=2).fit(frame)
    assert meta.categories_["rated"] == ["NOT RATED", "PG-13"]
    assert meta.category_counts_["rated"] == {"NOT RATED": 3, "PG-13": 2, "R": 1}
    assert meta.get_feature_names_out().tolist() == [
        "rated_not_rated",
        "rated_pg_13",
        "rated_other",
        "rated_missing",
    ]
    out = meta.transform(pd.DataFrame({"rated": ["R", "TV-MA", "Unrated", "N/A"]}))
    # rare in fit (R) and unseen (TV-MA) both go to other; all-zero never happens
    assert out.tolist() == [[0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]]


def test_list_values_first_and_top_n():
    frame = pd.DataFrame(
        {"language": ["English, Spanish", "Spanish", "French, Spanish", "English"]}
    )
    any_ = _only(language="language", min_frequency=1, top_languages=2).fit(frame)
    assert any_.categories_["language"] == ["spanish", "english"]
    first = _only(language="language", min_frequency=1, top_languages=2, list_values="first")
    out = first.fit_transform(frame)
    assert first.categories_["language"] == ["english", "french"]
    assert first.get_feature_names_out().tolist() == [
        "language_english",
        "language_french",
        "language_other",
        "language_missing",
    ]
    assert out.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]]


def test_list_columns_accept_python_lists_and_omdb_comma_names():
    frame = pd.DataFrame(
        {
            "language": [
                ["English", "French"],
                "English, Greek,  Ancient (to 1453)",
                "english,FRENCH",
                "N/A",
            ]
        }
    )
    meta = _only(language="language", min_frequency=1).fit(frame)
    assert meta.category_counts_["language"] == {
        "english": 3,
        "french": 2,
        "greek, ancient (to 1453)": 1,
    }
    assert "language_greek_ancient_to_1453" in meta.get_feature_names_out()


def test_missing_indicators_off():
    meta = MovieMetadata(missing_indicators=False, min_frequency=1)
    out = meta.fit_transform(_movies())
    names = meta.get_feature_names_out().tolist()
    assert not [n for n in names if n.endswith("_missing")]
    assert len(names) == out.shape[1]
    frame = pd.DataFrame(out, columns=names)
    assert frame.filter(like="rated_").iloc[3].sum() == 0  # missing rating: all zeros
    assert np.isnan(frame["year"][2])


def test_category_names_are_unique():
    frame = pd.DataFrame({"country": ["Other", "other", "O.ther", "Missing", "!!!"]})
    meta = _only(country="country", min_frequency=1).fit(frame)
    assert meta.get_feature_names_out().tolist() == [
        "country_other_2",  # 2 movies; then ties alphabetical: "!!!", "missing", "o.ther"
        "country_value",
        "country_missing_2",
        "country_o_ther",
        "country_other",
        "country_missing",
    ]


def test_unparseable_category_values():
    frame = pd.DataFrame({"rated": ["R", 13, ["PG"]], "country": ["USA", 5, ["UK", 3]]})
    meta = _only(rated="rated", country="country", min_frequency=1)
    out = meta.fit_transform(frame)
    assert meta.unparsed_["row"].tolist() == [1, 2, 1, 2]
    assert meta.unparsed_["column"].tolist() == ["rated", "rated", "country", "country"]
    assert out[1].tolist() == [0, 0, 1, 0, 0, 1]  # rated_missing, country_missing
    with pytest.raises(ValueError, match="cannot parse 13 in column 'rated' at row 1"):
        _only(rated="rated", on_error="raise").fit(frame)


# ---------------------------------------------------------------- columns and input


def test_unparsed_values_name_the_index_of_a_shuffled_frame():
    # After a shuffled split the position is not the movie: both are named.
    frame = pd.DataFrame({"Runtime": ["90 min", "abc"]}, index=["tt0000007", "tt0000003"])
    meta = _only(runtime="Runtime")
    meta.fit(frame)
    assert meta.unparsed_.to_dict("records") == [
        {"row": 1, "index": "tt0000003", "column": "Runtime", "value": "abc"}
    ]
    with pytest.raises(
        ValueError, match=r"'abc' in column 'Runtime' at row 1 \(index 'tt0000003'\)"
    ):
        _only(runtime="Runtime", on_error="raise").fit(frame)


@pytest.mark.parametrize(
    ("field", "value"),
    [("imdb_rating", "79"), ("imdb_rating", 10.5), ("metascore", "101"), ("year", "1066")],
)
def test_values_outside_the_fields_range_are_unparseable(field, value):
    good = "1999" if field == "year" else "7"
    frame = pd.DataFrame({field: [good, value]}, dtype=object)
    meta = _only(**{field: field}, dtype=np.float64)
    out = meta.fit_transform(frame)
    assert out[0, 0] == float(good)
    assert np.isnan(out[1, 0])
    assert meta.unparsed_["value"].tolist() == [value]
    with pytest.raises(ValueError, match=r"between \d+ and \d+"):
        _only(**{field: field}, on_error="raise").fit(frame)


def test_column_parameters_rename_and_skip():
    raw = pd.DataFrame({"Runtime": ["124 min"], "Rated": ["PG"], "Other": ["x"]})
    meta = _only(runtime="Runtime", rated="Rated", min_frequency=1).fit(raw)
    assert meta.get_feature_names_out().tolist() == [
        "runtime",
        "runtime_missing",
        "rated_pg",
        "rated_other",
        "rated_missing",
    ]
    assert meta.n_features_in_ == 3
    assert meta.feature_names_in_.tolist() == ["Runtime", "Rated", "Other"]
    # columns may be reordered, added or dropped (if unused) at transform
    shuffled = pd.DataFrame({"Rated": ["R"], "Extra": [1], "Runtime": ["90 min"]})
    assert meta.transform(shuffled).tolist() == [[90.0, 0.0, 0.0, 1.0, 0.0]]


def test_missing_column_error_names_column_and_columns_present():
    frame = _movies().drop(columns="runtime")
    with pytest.raises(ValueError, match=r"no column 'runtime' \(parameter runtime='runtime'\)"):
        MovieMetadata().fit(frame)
    with pytest.raises(ValueError, match=r"columns present: \['imdb_id', 'year', 'imdb_rating'"):
        MovieMetadata().fit(frame)
    meta = MovieMetadata(min_frequency=1).fit(_movies())
    with pytest.raises(ValueError, match="no column 'country'"):
        meta.transform(_movies().drop(columns="country"))
    # leaving the field out works
    assert MovieMetadata(runtime=None).fit(frame).get_feature_names_out()[1] == "imdb_rating"


@pytest.mark.parametrize("X", [np.zeros((2, 3)), [["124 min"]], pd.Series(["124 min"])])
def test_non_dataframe_input_raises_type_error(X):
    with pytest.raises(TypeError, match="takes a pandas DataFrame"):
        MovieMetadata().fit(X)


@pytest.mark.parametrize(
    "params",
    [
        {"on_error": "ignore"},
        {"list_values": "all"},
        {"min_frequency": 0},
        {"top_languages": -1},
        {"runtime": 3},
        {"log_counts": "yes"},
    ],
)
def test_invalid_parameters(params):
    with pytest.raises(ValueError):
        MovieMetadata(**params).fit(_movies())


def test_invalid_dtype():
    with pytest.raises(ValueError, match="floating dtype"):
        MovieMetadata(dtype=np.int64).fit(_movies())


def test_all_fields_off_gives_zero_columns():
    meta = MovieMetadata(**ONLY)
    assert meta.fit_transform(_movies()).shape == (5, 0)
    assert meta.get_feature_names_out().tolist() == []


def test_top_zero_keeps_only_other_and_missing():
    meta = _only(country="country", top_countries=0).fit(_movies())
    assert meta.get_feature_names_out().tolist() == ["country_other", "country_missing"]


def test_not_fitted():
    with pytest.raises(NotFittedError):
        MovieMetadata().transform(_movies())
    with pytest.raises(NotFittedError):
        MovieMetadata().get_feature_names_out()


# ---------------------------------------------------------------- sklearn integration


def test_pandas_output_keeps_index():
    movies = _movies().set_index("imdb_id")
    meta = MovieMetadata(min_frequency=1).set_output(transform="pandas")
    out = meta.fit_transform(movies)
    assert isinstance(out, pd.DataFrame)
    assert out.index.tolist() == ["tt1", "tt2", "tt3", "tt4", "tt5"]
    assert out.columns.tolist() == meta.get_feature_names_out().tolist()
    assert (out.dtypes == np.float32).all()
    assert out.loc["tt2", "runtime"] == 88.0
    assert meta.transform(movies.iloc[[4]]).index.tolist() == ["tt5"]


def test_pickle_and_clone():
    meta = MovieMetadata(min_frequency=1).fit(_movies())
    restored = pickle.loads(pickle.dumps(meta))
    np.testing.assert_array_equal(restored.transform(_movies()), meta.transform(_movies()))
    assert restored.categories_ == meta.categories_
    fresh = clone(meta)
    assert fresh.get_params() == meta.get_params()
    assert not hasattr(fresh, "categories_")


def test_imputer_can_follow():
    pipe = Pipeline([("meta", MovieMetadata(min_frequency=1)), ("impute", SimpleImputer())])
    out = pipe.fit_transform(_movies())
    assert not np.isnan(out).any()
    assert out.shape == (5, len(pipe[0].get_feature_names_out()))


def test_inside_column_transformer_with_keywords():
    meta_columns = ["year", "runtime", "rated", "country"]
    ct = ColumnTransformer(
        [
            (
                "meta",
                MovieMetadata(
                    imdb_rating=None,
                    imdb_votes=None,
                    box_office=None,
                    metascore=None,
                    language=None,
                    min_frequency=2,
                ),
                meta_columns,
            ),
            ("kw", KeywordBagOfWords(max_features=2), "keywords"),
        ]
    ).set_output(transform="pandas")
    out = ct.fit_transform(_movies())
    assert out.columns.tolist() == [
        "meta__year",
        "meta__runtime",
        "meta__year_missing",
        "meta__runtime_missing",
        "meta__rated_r",
        "meta__rated_other",
        "meta__rated_missing",
        "meta__country_uk",
        "meta__country_usa",
        "meta__country_other",
        "meta__country_missing",
        "kw__kw_escape",
        "kw__kw_love",
    ]
    assert out["meta__rated_other"].tolist() == [1, 0, 0, 0, 1]
    assert out["kw__kw_love"].tolist() == [0, 0, 0, 1, 1]


def test_grid_search_over_parameters():
    rng = np.random.default_rng(0)
    n = 40
    y = np.arange(n) % 2
    movies = pd.DataFrame(
        {
            "runtime": [f"{90 + 30 * label + int(rng.integers(0, 5))} min" for label in y],
            "country": np.where(y == 1, "India", "USA"),
            "language": np.where(rng.random(n) < 0.5, "English", "Hindi"),
        }
    )
    movies.loc[3, "runtime"] = "N/A"
    pipe = Pipeline(
        [
            ("meta", _only(runtime="runtime", country="country", language="language")),
            ("impute", SimpleImputer()),
            ("clf", LogisticRegression()),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {
            "meta__runtime": [None],
            "meta__top_countries": [0, 5],
            "meta__list_values": ["any", "first"],
            "meta__log_counts": [False],
        },
        cv=2,
    ).fit(movies, y)
    assert grid.best_params_["meta__top_countries"] == 5
    assert grid.best_score_ == 1.0


def test_tags():
    tags = MovieMetadata().__sklearn_tags__()
    assert tags.input_tags.string
    assert tags.input_tags.allow_nan


def test_docstring_examples_run():
    result = doctest.testmod(_metadata, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def av_frame(data_root):
    from posterml.datasets import load_av_posters

    return load_av_posters(data_root).frame


@pytest.mark.integration
def test_real_av_metadata(av_frame):
    meta = MovieMetadata().set_output(transform="pandas")
    out = meta.fit_transform(av_frame)
    assert out.shape == (len(av_frame), 45)
    assert out.index.equals(av_frame.index)
    assert meta.unparsed_.empty
    year = out["year"].dropna()
    assert year.between(1900, 2030).all()
    assert (out["runtime"].dropna() > 0).all()
    assert out["imdb_rating"].dropna().between(1, 10).all()
    assert (out["imdb_votes"].dropna() >= 1).all()
    assert (out["box_office"].dropna() > 0).all()
    assert out["metascore"].dropna().between(0, 100).all()
    # every movie is in exactly one state of each one-hot block
    for field in ("rated",):
        block = out.filter(regex=f"^{field}_")
        assert (block.sum(axis=1) == 1).all()
    for field in ("language", "country"):
        block = out.filter(regex=f"^{field}_")
        assert (block.sum(axis=1) >= 1).all()
    assert meta.categories_["rated"][:3] == ["R", "PG-13", "PG"]
    assert meta.categories_["language"][0] == "english"
    assert meta.categories_["country"][:2] == ["usa", "uk"]
    # missing indicators agree with the loader's NaN (OMDb "N/A")
    assert out["runtime_missing"].sum() == av_frame["runtime"].isna().sum()
    assert out["box_office_missing"].sum() == av_frame["box_office"].isna().sum()
    assert out["rated_missing"].sum() == av_frame["rated"].isna().sum()
    assert out["language_english"].mean() > 0.8


@pytest.mark.integration
def test_real_raw_omdb_file(data_root):
    """The raw OMDb CSV (column names as OMDb writes them, "N/A" strings) parses cleanly."""
    raw = pd.read_csv(
        data_root / "av-posters" / "omdb-metadata.csv", dtype=str, keep_default_na=False
    )
    meta = MovieMetadata(
        year="Released",
        runtime="Runtime",
        imdb_rating="imdbRating",
        imdb_votes="imdbVotes",
        box_office="Box_office",
        metascore="Metascore",
        rated="Rated",
        language="Language",
        country="Country",
    )
    out = pd.DataFrame(meta.fit_transform(raw), columns=meta.get_feature_names_out())
    assert len(out) == len(raw)
    assert meta.unparsed_.empty
    assert out["year_missing"].sum() == (raw["Released"] == "N/A").sum()
    assert out["runtime"].dropna().gt(0).all()


def test_unparsed_report_survives_skops_and_pickle(tmp_path):
    # skops cannot hold a DataFrame: unparsed_ travels as lists and comes back identical
    from posterml.persistence import load_model, save_model

    X = pd.DataFrame(
        {"year": ["1999", "abc", "2001"], "runtime": ["100 min", "x", "90 min"]},
        index=["tt1", "tt2", "tt3"],
    )
    fields = dict.fromkeys(
        ["imdb_rating", "imdb_votes", "box_office", "metascore", "rated", "language", "country"]
    )
    model = MovieMetadata(**fields).fit(X)
    assert len(model.unparsed_) == 2
    save_model(model, tmp_path / "m.skops")
    for loaded in (load_model(tmp_path / "m.skops"), pickle.loads(pickle.dumps(model))):
        pd.testing.assert_frame_equal(loaded.unparsed_, model.unparsed_)
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
