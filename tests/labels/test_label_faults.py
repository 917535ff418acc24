"""Faulty labels for CustomGenreEncoder / CustomGenreClassifier: odd genre spellings, genres
met only at predict time, empty and missing label sets, wrong column counts.

Each test checks the exact genre, row or shape the error names.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from posterml.datasets._common import canonical_genre, genre_key
from posterml.labels import IMDB_GENRES, CustomGenreClassifier, CustomGenreEncoder


def _encoder(y=(("Drama",), ("Sci-Fi",), ("Horror",)), **params):
    return CustomGenreEncoder(random_state=0, **params).fit([list(r) for r in y])


@pytest.mark.parametrize("name", ["Sci-Fi", "Science Fiction", "sci fi", "SCI_FI", "scifi"])
def test_sci_fi_spellings_are_one_genre(name):
    encoder = _encoder()
    assert encoder.transform([[name]]).tolist() == ["ScFa"]
    assert canonical_genre(name) == "Sci-Fi"  # the loaders read the same way


def test_the_loaders_and_the_encoder_share_one_vocabulary():
    assert all(canonical_genre(g) == g for g in IMDB_GENRES)
    assert genre_key(" Film - Noir ") == genre_key("film_noir") == "filmnoir"
    assert canonical_genre("  Space Opera ") == "Space Opera"  # unknown: stripped, kept


def test_genre_seen_only_at_predict_time_is_named_with_its_row():
    encoder = _encoder()
    with pytest.raises(
        ValueError,
        match=r"unknown genre name\(s\) \['Space Opera'\] in y \('Space Opera' first in row 2\)",
    ):
        encoder.transform([["Drama"], ["Horror"], ["Space Opera", "Drama"], ["Space Opera"]])
    with pytest.raises(ValueError, match=r"aliases=\{'Science Fiction': 'Sci-Fi'\}"):
        encoder.votes([["Space Opera"]])
    # An IMDb genre no training movie had is no fault: it votes by the mapping.
    assert encoder.transform([["Action", "Adventure"]]).tolist() == ["AcAdDr"]
    # Mapped by the user, the new name is read.
    mapped = _encoder(aliases={"Space Opera": "Sci-Fi"})
    assert mapped.transform([["Space Opera"]]).tolist() == ["ScFa"]


def test_unknown_genres_at_fit_name_every_one_and_its_first_row():
    with pytest.raises(
        ValueError,
        match=r"\['Kung Fu', 'Space Opera'\] in y \('Space Opera' first in row 1, "
        r"'Kung Fu' first in row 2\)",
    ):
        CustomGenreEncoder().fit([["Drama"], ["Space Opera"], ["Kung Fu", "Space Opera"]])


def test_unknown_genre_column_at_predict_time_is_named():
    columns = ["Drama", "Horror", "Sci-Fi"]
    train = pd.DataFrame([[1, 0, 0], [0, 1, 0], [0, 0, 1]], columns=columns)
    encoder = CustomGenreEncoder(random_state=0).fit(train)
    test = pd.DataFrame([[1, 0, 0, 1]], columns=[*columns, "Space Opera"])
    with pytest.raises(ValueError, match=r"\['Space Opera'\] in the genre columns"):
        encoder.transform(test)


def test_indicator_with_another_column_count_names_the_fitted_genres():
    encoder = CustomGenreEncoder(random_state=0).fit(
        pd.DataFrame([[1, 0], [0, 1]], columns=["Drama", "Horror"])
    )
    with pytest.raises(
        ValueError,
        match=r"2 genre names \(the fitted genres_: \['Drama', 'Horror'\]\) for an indicator y "
        r"of 3 columns",
    ):
        encoder.transform(np.array([[1, 0, 0]]))
    with pytest.raises(ValueError, match=r"1 genre names \(genres: \['Drama'\]\) for an"):
        CustomGenreEncoder(genres=["Drama"]).fit(np.array([[1, 0]]))


@pytest.mark.parametrize(
    "y",
    [
        [[], ["Drama"]],
        [[""], ["Drama"]],  # a blank name ("Drama|" split) is no genre
        np.array([[0, 0], [1, 0]]),
        pd.DataFrame([[0, 0], [1, 0]], columns=["Horror", "Drama"]),
        [["N/A"], ["Drama"]],
    ],
    ids=["empty-list", "blank-name", "zero-row", "zero-frame-row", "pseudo-genre"],
)
def test_empty_label_sets_go_to_the_fallback(y):
    encoder = CustomGenreEncoder(genres=["Drama", "Horror"] if isinstance(y, np.ndarray) else None)
    labels = encoder.set_params(random_state=0).fit_transform(y)
    assert labels[0] == "Ot"
    assert encoder.votes(y)[0].sum() == 0


def test_blank_names_are_ignored_beside_real_genres():
    encoder = _encoder()
    assert encoder.transform([["Horror", "", "  "]]).tolist() == ["Ho"]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (None, r"row 1 is missing \(None\): give \[\] for a movie without genres"),
        (np.nan, r"row 1 is missing \(nan\)"),
        ("['Drama']", r"row 1 is the string \"\['Drama'\]\" \(genre-list text from a CSV: parse"),
        ("", r"row 1 is the string '' \(write \[''\]; \[\] for a movie without genres\)"),
        (5, r"row 1 is 5"),
    ],
    ids=["none", "nan", "literal-text", "empty-string", "number"],
)
def test_bad_rows_name_the_row(row, match):
    with pytest.raises(TypeError, match=match):
        CustomGenreEncoder().fit([["Drama"], row])


def test_non_string_genre_name_names_the_row():
    with pytest.raises(TypeError, match=r"genre names must be strings; got 3 in row 1 of y"):
        CustomGenreEncoder().fit([["Drama"], ["Horror", 3]])


def test_non_binary_indicator_names_the_cell():
    y = pd.DataFrame([[1, 0], [np.nan, 1]], columns=["Drama", "Horror"])
    with pytest.raises(ValueError, match=r"y must hold only 0/1 .* found nan at row 1, column 0"):
        CustomGenreEncoder().fit(y)


def test_unknown_custom_class_is_named():
    encoder = _encoder()
    with pytest.raises(ValueError, match=r"unknown custom genre\(s\) \['Musical'\]"):
        encoder.inverse_transform(["Ho", "Musical"])


def test_classifier_scoring_with_a_genre_seen_only_at_evaluation():
    X = np.array([[0.0], [0.1], [1.0], [1.1]])
    y = [["Horror"], ["Horror"], ["Sci-Fi"], ["Science Fiction"]]
    model = CustomGenreClassifier(LogisticRegression(), random_state=0).fit(X, y)
    assert model.score(X, [["Horror"], ["Horror"], ["sci fi"], ["Sci-Fi"]]) == 1.0
    with pytest.raises(ValueError, match=r"\['Space Opera'\] in y \('Space Opera' first in row 3"):
        model.score(X, [["Horror"], ["Horror"], ["Sci-Fi"], ["Space Opera"]])
