"""Tests for posterml.features._keywords.KeywordBagOfWords."""

import doctest
import logging
import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from posterml.features import _keywords
from posterml.features._keywords import KeywordBagOfWords, parse_keyword_entry

TMDB_TEXT = "[{'id': 931, 'name': 'jealousy'}, {'id': 4290, 'name': 'toy'}]"


def _corpus():
    """Four movies, one per input form, plus a missing one."""
    return [
        ["based on novel", "love"],
        "[{'id': 9663, 'name': 'sequel'}, {'id': 9715, 'name': 'love triangle'}]",
        "novel|war",
        [{"id": 1, "name": "war"}, {"id": 2, "name": "love"}],
        None,
    ]


# ---------------------------------------------------------------- parsing one entry


@pytest.mark.parametrize(
    ("entry", "names"),
    [
        (["based on novel", "love"], ["based on novel", "love"]),
        (("love", "war"), ["love", "war"]),
        (np.array(["love", "war"], dtype=object), ["love", "war"]),
        ("based on novel|love", ["based on novel", "love"]),
        ("based on novel", ["based on novel"]),
        (TMDB_TEXT, ["jealousy", "toy"]),
        ("  " + TMDB_TEXT + "\n", ["jealousy", "toy"]),
        ([{"id": 931, "name": "jealousy"}, {"id": 4290, "name": "toy"}], ["jealousy", "toy"]),
        ({"id": 931, "name": "jealousy"}, ["jealousy"]),
        ("['love', 'war']", ["love", "war"]),
        # escaped quote: not the fast path's shape, literal_eval reads it
        ("[{'id': 1, 'name': 'director\\'s cut'}]", ["director's cut"]),
        ('[{"id": 1, "name": "it\'s"}]', ["it's"]),
        (b"love|war", ["love", "war"]),
        (["love", None, float("nan")], ["love"]),
    ],
)
def test_parse_entry_forms(entry, names):
    assert parse_keyword_entry(entry) == (names, False)


@pytest.mark.parametrize("entry", [None, float("nan"), np.nan, pd.NA, "", "   ", "[]", [], ()])
def test_parse_entry_missing_is_empty_not_malformed(entry):
    assert parse_keyword_entry(entry) == ([], False)


@pytest.mark.parametrize(
    ("entry", "names"),
    [
        # truncated TMDb cell: the complete items survive
        ("[{'id': 931, 'name': 'jealousy'}, {'id': 4290, 'name': 'to", ["jealousy"]),
        ("[{'id': 931, 'name': 'jealousy'}, {'id': 42", ["jealousy"]),
        # unquoted list: brackets dropped, split on commas and the separator
        ("[love, war|peace]", ["love", "war", "peace"]),
        ("{broken", ["broken"]),
        # a literal, but not a list of names or name dicts
        ("[{'id': 1}, 'love']", ["love"]),
        ("[1, 2]", []),
        ([{"id": 1, "title": "x"}, "love"], ["love"]),
        (42, []),
        (3.5, []),
        (b"\xff\xfe", []),
    ],
)
def test_parse_entry_malformed_is_flagged_never_raises(entry, names):
    assert parse_keyword_entry(entry) == (names, True)


def test_parse_entry_custom_separator():
    assert parse_keyword_entry("love;war", separator=";") == (["love", "war"], False)
    assert parse_keyword_entry("love;war") == (["love;war"], False)


# ---------------------------------------------------------------- fit / transform


def test_word_analyzer_exact_columns_and_values():
    bag = KeywordBagOfWords(max_features=3).fit(_corpus())
    # df: love 3, novel 2, war 2, based/sequel/triangle 1; 'on' is a stop word
    assert bag.get_feature_names_out().tolist() == ["kw_love", "kw_novel", "kw_war"]
    assert bag.vocabulary_ == {"love": 0, "novel": 1, "war": 2}
    assert bag.document_frequency_.tolist() == [3, 2, 2]
    assert bag.column_ is None
    assert bag.n_malformed_ == 0
    assert bag.malformed_rows_.tolist() == []
    out = bag.transform(_corpus())
    assert out.dtype == np.float32
    assert not sp.issparse(out)
    np.testing.assert_array_equal(out, [[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]])


def test_default_keeps_40_and_ties_break_alphabetically():
    rng = np.random.default_rng(0)
    docs = [[f"word{i:02d}"] for i in rng.permutation(50)] + [["word49"]]
    bag = KeywordBagOfWords().fit(docs)
    names = bag.get_feature_names_out().tolist()
    assert len(names) == 40
    # word49 has df 2; the other 39 slots go to the alphabetically first df-1 words
    assert "kw_word49" in names
    assert names[:2] == ["kw_word00", "kw_word01"]
    assert "kw_word39" not in names


def test_max_features_none_keeps_every_term():
    bag = KeywordBagOfWords(max_features=None).fit(_corpus())
    assert bag.get_feature_names_out().tolist() == [
        "kw_based",
        "kw_love",
        "kw_novel",
        "kw_sequel",
        "kw_triangle",
        "kw_war",
    ]


def test_keyword_analyzer_whole_keywords():
    docs = [["Based on  Novel", "love"], ["based on novel"], "love|the", None]
    bag = KeywordBagOfWords(analyzer="keyword", max_features=None).fit(docs)
    assert bag.vocabulary_ == {"based on novel": 0, "love": 1}  # 'the' is a stop word
    assert bag.get_feature_names_out().tolist() == ["kw_based_on_novel", "kw_love"]
    np.testing.assert_array_equal(bag.transform(docs), [[1, 1], [1, 0], [0, 1], [0, 0]])


def test_keyword_analyzer_case_and_stop_words_options():
    docs = [["Love", "THE"], ["love"]]
    bag = KeywordBagOfWords(analyzer="keyword", lowercase=False, stop_words=None).fit(docs)
    assert sorted(bag.vocabulary_) == ["Love", "THE", "love"]
    bag = KeywordBagOfWords(analyzer="keyword", stop_words=["LOVE"]).fit(docs)
    assert sorted(bag.vocabulary_) == ["the"]


def test_stop_words_parameter_word_analyzer():
    docs = [["based on novel"], ["on the run"]]
    assert sorted(KeywordBagOfWords().fit(docs).vocabulary_) == ["based", "novel", "run"]
    kept = KeywordBagOfWords(stop_words=None).fit(docs).vocabulary_
    assert sorted(kept) == ["based", "novel", "on", "run", "the"]
    custom = KeywordBagOfWords(stop_words={"novel", "Run"}).fit(docs).vocabulary_
    assert sorted(custom) == ["based", "on", "the"]


def test_vocabulary_by_document_frequency_and_binary_false_counts():
    docs = [["love story", "love letter", "love triangle"], ["war"], ["war hero"]]
    # 'love' occurs 3 times but in 1 movie; 'war' is in 2 movies and wins
    bag = KeywordBagOfWords(max_features=1, binary=False).fit(docs)
    assert bag.get_feature_names_out().tolist() == ["kw_war"]
    counting = KeywordBagOfWords(max_features=None, binary=False)
    out = counting.fit_transform(docs)
    column = counting.vocabulary_["love"]
    assert out[:, column].tolist() == [3.0, 0.0, 0.0]
    np.testing.assert_array_equal(out, counting.transform(docs))
    assert counting.document_frequency_[column] == 1
    binary = KeywordBagOfWords(max_features=None).fit_transform(docs)
    assert binary[:, column].tolist() == [1.0, 0.0, 0.0]


def test_min_df():
    bag = KeywordBagOfWords(min_df=2, max_features=None).fit(_corpus())
    assert sorted(bag.vocabulary_) == ["love", "novel", "war"]
    bag = KeywordBagOfWords(min_df=0.5, max_features=None).fit(_corpus())
    assert sorted(bag.vocabulary_) == ["love"]  # in 3 of 5 movies


def test_fit_transform_equals_fit_then_transform():
    bag = KeywordBagOfWords(max_features=4)
    np.testing.assert_array_equal(bag.fit_transform(_corpus()), bag.transform(_corpus()))


def test_unseen_words_and_missing_entries_give_zero_rows():
    bag = KeywordBagOfWords().fit(_corpus())
    out = bag.transform([["dinosaur"], None, float("nan"), "", "[]", [], pd.NA])
    assert out.shape == (7, len(bag.get_feature_names_out()))
    assert not out.any()
    assert bag.n_malformed_ == 0


def test_missing_only_fit_raises_clear_error():
    with pytest.raises(ValueError, match="no term to learn from 3 rows .3 without keywords"):
        KeywordBagOfWords().fit([None, "", "[]"])
    with pytest.raises(ValueError, match="no term to learn"):
        KeywordBagOfWords().fit([["the"], ["of the"]])


def test_malformed_entries_counted_logged_and_read(caplog):
    docs = [
        ["love"],
        "[{'id': 1, 'name': 'love'}, {'id': 2, 'name': 'wa",
        42,
        "[love, war]",
        "war",
    ]
    bag = KeywordBagOfWords(max_features=None)
    with caplog.at_level(logging.WARNING, logger="posterml"):
        out = bag.fit_transform(docs)
    assert bag.n_malformed_ == 3
    assert bag.malformed_rows_.tolist() == [1, 2, 3]
    messages = [r.getMessage() for r in caplog.records if r.name == "posterml"]
    assert len(messages) == 1
    assert "3 of 5 keyword entries are malformed (rows 1, 2, 3)" in messages[0]
    assert bag.get_feature_names_out().tolist() == ["kw_love", "kw_war"]
    np.testing.assert_array_equal(out, [[1, 0], [1, 0], [0, 0], [1, 1], [0, 1]])

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="posterml"):
        bag.transform([["love"], "[oops"])
    assert bag.n_malformed_ == 1
    assert bag.malformed_rows_.tolist() == [1]
    assert "rows 1)" in caplog.records[0].getMessage()
    # a clean batch resets the report and logs nothing
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="posterml"):
        bag.transform([["love"]])
    assert bag.n_malformed_ == 0
    assert not caplog.records


def test_malformed_log_names_at_most_five_rows(caplog):
    docs = [["love"]] + [12] * 8
    with caplog.at_level(logging.WARNING, logger="posterml"):
        KeywordBagOfWords().fit(docs)
    assert "(rows 1, 2, 3, 4, 5, ...)" in caplog.records[0].getMessage()


# ---------------------------------------------------------------- input containers


def test_series_ndarray_list_and_column_vector_agree():
    expected = KeywordBagOfWords().fit_transform(_corpus())
    array = np.empty(len(_corpus()), dtype=object)
    array[:] = _corpus()
    inputs = [
        pd.Series(_corpus()),
        array,
        array.reshape(-1, 1),
        tuple(_corpus()),
        iter(_corpus()),
    ]
    for X in inputs:
        np.testing.assert_array_equal(KeywordBagOfWords().fit_transform(X), expected)


def test_dataframe_column_resolution():
    movies = pd.DataFrame(
        {"title": ["a", "b", "c", "d", "e"], "keywords": _corpus(), "tags": ["x"] * 5}
    )
    expected = KeywordBagOfWords().fit_transform(_corpus())
    bag = KeywordBagOfWords()
    np.testing.assert_array_equal(bag.fit_transform(movies), expected)
    assert bag.column_ == "keywords"
    # one-column frame: its only column, whatever its name
    single = movies[["tags"]].rename(columns={"tags": "kw"})
    single["kw"] = _corpus()
    bag = KeywordBagOfWords().fit(single)
    assert bag.column_ == "kw"
    np.testing.assert_array_equal(bag.transform(single), expected)
    # a one-column frame of another name, when column is given, must have that column
    with pytest.raises(ValueError, match="no column 'keywords'"):
        KeywordBagOfWords(column="keywords").fit(single)


def test_renamed_column_error_suggests_the_near_name():
    frame = pd.DataFrame({"Keywords ": ["love|war"], "title": ["x"]})
    with pytest.raises(
        ValueError, match=r"no column 'keywords' .*; did you mean column='Keywords '\?"
    ):
        KeywordBagOfWords().fit(frame)


def test_dangerous_and_damaged_entries_are_never_evaluated(tmp_path, caplog):
    target = tmp_path / "pwned"
    entries = [
        f"[__import__('os').system('touch {target}')]",  # literal-like: salvaged, flagged
        f"__import__('os').system('touch {target}')",  # plain text: one keyword, never run
        "[" * 10_000,  # far deeper than the parser allows
        "[" + "9" * 50_000 + "]",  # beyond Python's int-from-string digit limit
        "love\x00|w\x01ar",  # NUL and control bytes from a damaged file
        b"caf\xe9",  # bytes that are not UTF-8
    ]
    with caplog.at_level(logging.WARNING, logger="posterml"):
        bag = KeywordBagOfWords(analyzer="keyword", max_features=None).fit(entries)
    assert not target.exists()
    assert bag.malformed_rows_.tolist() == [0, 2, 3, 5]
    assert "rows 0, 2, 3, 5" in caplog.text
    # Control characters are spaces: "love\x00" is the keyword "love".
    assert {"love", "w ar"} <= set(bag.vocabulary_)


def test_explicit_column_and_missing_column_error():
    movies = pd.DataFrame({"title": ["Heat", "Up"], "tags": ["heist|crime", "balloon"]})
    bag = KeywordBagOfWords(column="tags", max_features=None).fit(movies)
    assert bag.column_ == "tags"
    assert sorted(bag.vocabulary_) == ["balloon", "crime", "heist"]
    with pytest.raises(
        ValueError, match=r"no column 'keywords' \(columns present: \['title', 'tags'\]\)"
    ):
        KeywordBagOfWords().fit(movies)
    with pytest.raises(ValueError, match="no column 'kw'"):
        KeywordBagOfWords(column="kw").fit(movies)
    with pytest.raises(ValueError, match="no column 'tags'"):
        bag.transform(movies.drop(columns="tags"))


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ("love|war", TypeError, "single str"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "shape"),
        (5, TypeError, "got int"),
        ({"a": 1}, TypeError, "got dict"),
    ],
)
def test_bad_containers_raise(X, error, match):
    with pytest.raises(error, match=match):
        KeywordBagOfWords().fit(X)


@pytest.mark.parametrize(
    "params",
    [
        {"max_features": 0},
        {"analyzer": "char"},
        {"stop_words": "french"},
        {"min_df": 1.5},
        {"binary": "yes"},
    ],
)
def test_invalid_parameters(params):
    with pytest.raises(ValueError):
        KeywordBagOfWords(**params).fit(_corpus())


def test_invalid_dtype_and_separator():
    with pytest.raises(ValueError, match="floating dtype"):
        KeywordBagOfWords(dtype=np.int32).fit(_corpus())
    with pytest.raises(ValueError, match="separator"):
        KeywordBagOfWords(separator="").fit(_corpus())


# ---------------------------------------------------------------- output formats


def test_dtype_and_sparse_output():
    dense = KeywordBagOfWords(dtype=np.float64).fit_transform(_corpus())
    assert dense.dtype == np.float64
    bag = KeywordBagOfWords(sparse_output=True)
    sparse = bag.fit_transform(_corpus())
    assert sp.issparse(sparse)
    assert sparse.format == "csr"
    assert sparse.dtype == np.float32
    np.testing.assert_array_equal(sparse.toarray(), dense)
    assert sp.issparse(bag.transform(_corpus()))


def test_pandas_output_keeps_index_and_names():
    series = pd.Series(_corpus(), index=[10, 11, 12, 13, 14])
    bag = KeywordBagOfWords(max_features=3).set_output(transform="pandas")
    out = bag.fit_transform(series)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == ["kw_love", "kw_novel", "kw_war"]
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert (out.dtypes == np.float32).all()
    assert out.loc[12].tolist() == [0.0, 1.0, 1.0]
    frame = pd.DataFrame({"keywords": _corpus()}, index=list("abcde"))
    assert bag.transform(frame).index.tolist() == list("abcde")


def test_feature_names_are_identifiers_and_unique():
    docs = [["sci-fi"], ["sci fi"], ["café"], ["3d"]]
    bag = KeywordBagOfWords(analyzer="keyword", max_features=None, prefix="tag_").fit(docs)
    names = bag.get_feature_names_out().tolist()
    assert names == ["tag_3d", "tag_café", "tag_sci_fi", "tag_sci_fi_2"]
    assert bag.get_feature_names_out(["ignored"]).tolist() == names


def test_not_fitted():
    with pytest.raises(NotFittedError):
        KeywordBagOfWords().transform(_corpus())
    with pytest.raises(NotFittedError):
        KeywordBagOfWords().get_feature_names_out()


def test_failed_fit_leaves_estimator_unfitted():
    bag = KeywordBagOfWords()
    with pytest.raises(ValueError):
        bag.fit([None, 42])
    with pytest.raises(NotFittedError):
        bag.transform(_corpus())


# ---------------------------------------------------------------- sklearn integration


@pytest.mark.parametrize("analyzer", ["word", "keyword"])
def test_pickle_and_clone(analyzer):
    bag = KeywordBagOfWords(analyzer=analyzer, max_features=5).fit(_corpus())
    restored = pickle.loads(pickle.dumps(bag))
    np.testing.assert_array_equal(restored.transform(_corpus()), bag.transform(_corpus()))
    assert restored.get_feature_names_out().tolist() == bag.get_feature_names_out().tolist()
    fresh = clone(bag)
    assert fresh.get_params() == bag.get_params()
    assert not hasattr(fresh, "vectorizer_")


def test_tags():
    tags = KeywordBagOfWords().__sklearn_tags__()
    assert tags.input_tags.string
    assert not tags.input_tags.two_d_array


def _movies():
    return pd.DataFrame(
        {
            "title": ["A", "B", "C", "D", "E", "F"],
            "year": [2001.0, 1999.0, np.nan, 2010.0, 2012.0, 1995.0],
            "keywords": [
                ["love", "wedding"],
                "[{'id': 1, 'name': 'war'}, {'id': 2, 'name': 'soldier'}]",
                None,
                "love|paris",
                ["war hero"],
                [],
            ],
        }
    )


@pytest.mark.parametrize("columns", ["keywords", ["keywords"]])
def test_inside_column_transformer(columns):
    movies = _movies()
    ct = ColumnTransformer(
        [("kw", KeywordBagOfWords(max_features=3), columns), ("num", "passthrough", ["year"])]
    ).set_output(transform="pandas")
    out = ct.fit_transform(movies)
    # love and war in 2 movies; hero first of the df-1 words alphabetically
    assert out.columns.tolist() == ["kw__kw_hero", "kw__kw_love", "kw__kw_war", "num__year"]
    assert out["kw__kw_love"].tolist() == [1, 0, 0, 1, 0, 0]
    assert out["kw__kw_hero"].tolist() == [0, 0, 0, 0, 1, 0]
    assert out["kw__kw_war"].tolist() == [0, 1, 0, 0, 1, 0]
    assert out.shape == (6, 4)


def test_grid_search_over_parameters():
    rng = np.random.default_rng(0)
    words = ["love", "war", "space", "ghost", "heist", "wedding"]
    docs = [list(rng.choice(words, size=2, replace=False)) for _ in range(40)]
    y = np.array([int("war" in d or "heist" in d) for d in docs])
    pipe = Pipeline([("kw", KeywordBagOfWords()), ("clf", LogisticRegression())])
    grid = GridSearchCV(
        pipe,
        {"kw__max_features": [1, 6], "kw__analyzer": ["word", "keyword"], "kw__binary": [True]},
        cv=2,
    ).fit(docs, y)
    assert grid.best_params_["kw__max_features"] == 6
    assert grid.best_score_ == 1.0


def test_docstring_examples_run():
    result = doctest.testmod(_keywords, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def av_frame(data_root):
    from posterml.datasets import load_av_posters

    return load_av_posters(data_root).frame


@pytest.mark.integration
def test_real_av_keywords(av_frame):
    bag = KeywordBagOfWords().set_output(transform="pandas")
    out = bag.fit_transform(av_frame)
    assert bag.column_ == "keywords"
    assert out.shape == (len(av_frame), 40)
    assert out.index.equals(av_frame.index)
    assert bag.n_malformed_ == 0
    assert set(np.unique(out.to_numpy())) <= {0.0, 1.0}
    top = [
        name
        for _, name in sorted(
            zip(-bag.document_frequency_, bag.get_feature_names_out()), key=lambda t: t[0]
        )[:10]
    ]
    # TMDb's 'woman director' and 'independent film' tags are the most common words
    assert {"kw_woman", "kw_director", "kw_film", "kw_independent"} <= set(top)
    assert {"kw_love", "kw_murder", "kw_relationship"} <= set(top)
    no_keywords = av_frame["keywords"].map(lambda k: not k)
    assert not out[no_keywords.to_numpy()].to_numpy().any()
    assert out[~no_keywords.to_numpy()].sum(axis=1).gt(0).mean() > 0.5
    # document_frequency_ is what the output columns sum to
    np.testing.assert_array_equal(out.sum(axis=0).to_numpy(), bag.document_frequency_)


@pytest.mark.integration
def test_real_keywords_text_matches_parsed_lists(av_frame, data_root):
    """TMDb's raw literal text gives the same features as the loader's parsed lists."""
    raw = pd.read_csv(
        data_root / "movielens" / "keywords.csv", dtype=str, keep_default_na=False
    ).drop_duplicates("id")
    text = raw.set_index(raw["id"].astype("int64"))["keywords"]
    movies = av_frame[av_frame["keywords"].notna()].head(1500)
    texts = text.reindex(movies["tmdb_id"].astype("int64").to_numpy()).tolist()
    for analyzer in ("word", "keyword"):
        bag = KeywordBagOfWords(analyzer=analyzer).fit(movies["keywords"])
        np.testing.assert_array_equal(
            bag.transform(texts), bag.transform(movies["keywords"].tolist())
        )
        assert bag.n_malformed_ == 0
