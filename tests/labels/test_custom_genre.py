import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from posterml import CustomGenreClassifier, CustomGenreEncoder
from posterml.labels import DEFAULT_CUSTOM_GENRES, IMDB_GENRES

PAPER_CLASSES = ["AcAdDr", "AcCrTh", "AcThMi", "CoFaDr", "Ho", "Ot", "RoCoDa", "ScFa"]


def test_default_table_is_the_papers():
    assert sorted(DEFAULT_CUSTOM_GENRES) == PAPER_CLASSES
    assert DEFAULT_CUSTOM_GENRES["AcCrTh"] == ("Action", "Crime", "Thriller")
    assert DEFAULT_CUSTOM_GENRES["RoCoDa"] == ("Romance", "Comedy", "Drama")
    assert DEFAULT_CUSTOM_GENRES["Ot"] == ()
    assert {g for gs in DEFAULT_CUSTOM_GENRES.values() for g in gs} <= set(IMDB_GENRES)


def test_majority_vote_worked_example():
    # Action votes AcAdDr, AcThMi, AcCrTh; Thriller AcThMi, AcCrTh; Crime AcCrTh.
    encoder = CustomGenreEncoder(random_state=0).fit([["Drama"]])
    votes = dict(zip(encoder.classes_, encoder.votes([["Action", "Thriller", "Crime"]])[0]))
    assert votes == {**dict.fromkeys(PAPER_CLASSES, 0), "AcAdDr": 1, "AcThMi": 2, "AcCrTh": 3}
    assert encoder.transform([["Action", "Thriller", "Crime"]]).tolist() == ["AcCrTh"]
    # Action, Thriller, Mystery: AcThMi 3 votes against AcCrTh 2
    assert encoder.transform([["Mystery", "Thriller", "Action"]]).tolist() == ["AcThMi"]
    # Romance, Comedy: RoCoDa 2, CoFaDr 1
    assert encoder.transform([["Comedy", "Romance"]]).tolist() == ["RoCoDa"]


def test_classes_are_sorted_and_include_the_fallback():
    encoder = CustomGenreEncoder(fallback="Other").fit([["Horror"]])
    assert encoder.classes_.tolist() == sorted([*PAPER_CLASSES, "Other"])
    assert encoder.get_feature_names_out().tolist() == encoder.classes_.tolist()


@pytest.mark.parametrize("fallback", ["Ot", "Other"])
def test_fallback_for_unmapped_or_empty_genre_sets(fallback):
    encoder = CustomGenreEncoder(fallback=fallback, random_state=0)
    labels = encoder.fit_transform([[], ["Animation"], ["N/A"], ["Western", "Documentary"]])
    assert labels.tolist() == [fallback] * 4
    assert not encoder.inverse_transform([fallback]).any()


def test_ties_are_random_but_reproducible_for_a_seed():
    tied = [["Action", "Thriller"]]  # AcThMi 2, AcCrTh 2, AcAdDr 1
    chosen = {
        seed: CustomGenreEncoder(random_state=seed).fit(tied).transform(tied)[0]
        for seed in range(40)
    }
    assert set(chosen.values()) == {"AcThMi", "AcCrTh"}
    for seed in (0, 1, 2):
        encoder = CustomGenreEncoder(random_state=seed).fit(tied)
        again = CustomGenreEncoder(random_state=seed).fit([["Horror"]])
        assert encoder.transform(tied)[0] == encoder.transform(tied)[0] == chosen[seed]
        assert again.transform(tied)[0] == chosen[seed]


def test_tie_break_depends_on_the_genre_set_not_the_row():
    rows = [["Drama"], ["Action", "Thriller"], ["Drama"], ["Thriller", "Action"], ["Drama"]]
    encoder = CustomGenreEncoder(random_state=3).fit(rows)
    labels = encoder.transform(rows)
    assert labels[0] == labels[2] == labels[4]
    assert labels[0] in {"AcAdDr", "CoFaDr", "RoCoDa"}
    assert labels[1] == labels[3]
    assert encoder.transform(rows[::-1]).tolist() == labels[::-1].tolist()
    assert encoder.transform(rows[1:2]).tolist() == labels[1:2].tolist()


def test_random_state_none_draws_a_seed_once():
    encoder = CustomGenreEncoder().fit([["Drama"]])
    first = encoder.transform([["Drama"]] * 3)
    assert isinstance(encoder.seed_, int)
    assert encoder.transform([["Drama"]] * 3).tolist() == first.tolist()


def test_unknown_genre_names_are_named():
    with pytest.raises(ValueError, match=r"unknown genre name\(s\) \['Spaghetti', 'Zombie'\]"):
        CustomGenreEncoder().fit([["Action", "Spaghetti"], ["Zombie"]])
    with pytest.raises(ValueError, match="'Cartoon'.*mapping class 'Kids'"):
        CustomGenreEncoder({"Kids": ["Family", "Cartoon"]}).fit([["Family"]])
    encoder = CustomGenreEncoder().fit([["Action"]])
    with pytest.raises(ValueError, match="Spaghetti"):
        encoder.transform([["Spaghetti"]])


def test_genre_names_are_normalised_and_aliases_accepted():
    encoder = CustomGenreEncoder(random_state=0)
    spellings = [["Science Fiction"], ["SciFi"], ["sci fi"], ["SCI-FI", "fantasy"]]
    assert encoder.fit_transform(spellings).tolist() == ["ScFa"] * 4
    encoder = CustomGenreEncoder(aliases={"Scary": "Horror", "TV Movie": None})
    assert encoder.fit_transform([["scary"], ["TV Movie"]]).tolist() == ["Ho", "Ot"]
    with pytest.raises(ValueError, match="'Spooky'.*not an IMDb genre"):
        CustomGenreEncoder(aliases={"Scary": "Spooky"}).fit([["Horror"]])


def test_user_mapping_as_dict_and_as_dataframe():
    table = {"Dark": ("Horror", "Thriller", "Crime"), "Light": ("Comedy", "Family"), "Rest": ()}
    frame = pd.DataFrame(
        {
            "custom_genre": ["Dark", "Dark", "Dark", "Light", "Light", "Rest"],
            "genre": ["Horror", "Thriller", "Crime", "Comedy", "Family", None],
        }
    )
    movies = [["Horror", "Comedy", "Thriller"], ["Family"], ["Drama"], []]
    by_dict = CustomGenreEncoder(table, fallback="Rest", random_state=0).fit(movies)
    by_frame = CustomGenreEncoder(frame, fallback="Rest", random_state=0).fit(movies)
    assert by_dict.transform(movies).tolist() == ["Dark", "Light", "Rest", "Rest"]
    assert by_frame.transform(movies).tolist() == ["Dark", "Light", "Rest", "Rest"]
    assert by_frame.mapping_ == by_dict.mapping_
    assert by_dict.classes_.tolist() == ["Dark", "Light", "Rest"]
    with pytest.raises(ValueError, match=r"missing \['genre'\]"):
        CustomGenreEncoder(frame.rename(columns={"genre": "g"})).fit(movies)


def test_indicator_inputs_match_genre_lists():
    genres = ["Action", "Crime", "Thriller", "Horror", "N/A"]
    Y = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [1, 0, 1, 0, 0]])
    lists = [[g for g, v in zip(genres, row) if v] for row in Y]
    expected = CustomGenreEncoder(random_state=1).fit(lists).transform(lists).tolist()
    frame = pd.DataFrame(Y, columns=genres)
    for y, kwargs in [
        (frame, {}),
        (Y, {"genres": genres}),
        (sp.csr_matrix(Y), {"genres": genres}),
        (Y.tolist(), {"genres": genres}),
    ]:
        encoder = CustomGenreEncoder(random_state=1, **kwargs).fit(y)
        assert encoder.transform(y).tolist() == expected
        assert encoder.genres_.tolist() == genres
    fitted = CustomGenreEncoder(random_state=1).fit(frame)
    assert fitted.transform(Y).tolist() == expected  # an array takes the fitted columns
    with pytest.raises(ValueError, match="without genre names"):
        CustomGenreEncoder().fit(Y)
    with pytest.raises(ValueError, match="0/1"):
        CustomGenreEncoder(genres=genres).fit(Y * 2)


def test_refit_does_not_reuse_the_columns_of_an_earlier_fit():
    genres = ["Horror", "Drama"]
    encoder = CustomGenreEncoder(random_state=0).fit(
        pd.DataFrame(np.eye(2, dtype=int), columns=genres)
    )
    # a plain array has no genre names: the refit must refuse it, as a fresh encoder does
    with pytest.raises(ValueError, match="without genre names"):
        encoder.fit(np.eye(2, dtype=int))


def test_inverse_transform_gives_the_genres_of_each_class():
    genres = ["Action", "Adventure", "Drama", "Horror", "Sci-Fi"]
    encoder = CustomGenreEncoder(genres=genres).fit(np.eye(5, dtype=int))
    Y = encoder.inverse_transform(["AcAdDr", "Ho", "Ot", "ScFa", "AcThMi"])
    assert Y.tolist() == [
        [1, 1, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],  # Fantasy is not a column
        [1, 0, 0, 0, 0],
    ]
    with pytest.raises(ValueError, match=r"unknown custom genre\(s\) \['Zz'\]"):
        encoder.inverse_transform(["Ho", "Zz"])


def test_genre_lists_define_the_inverse_columns():
    encoder = CustomGenreEncoder(random_state=0).fit([["Animation", "Horror"]])
    # the data's genres and the mapping's, in IMDb order
    assert "Animation" in encoder.genres_
    assert "Mystery" in encoder.genres_
    assert list(encoder.genres_) == [g for g in IMDB_GENRES if g in set(encoder.genres_)]
    row = encoder.inverse_transform(encoder.transform([["Horror", "Animation"]]))[0]
    assert encoder.genres_[row.astype(bool)].tolist() == ["Horror"]


def test_bad_rows_are_refused_with_the_row():
    with pytest.raises(TypeError, match="row 1 is the string 'Drama'"):
        CustomGenreEncoder().fit([["Action"], "Drama"])


genre_sets = st.lists(
    st.sets(st.sampled_from(["Action", "Comedy", "Drama", "Horror", "Thriller", "Western"])),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(rows=genre_sets, seed=st.integers(0, 2**31 - 1))
def test_winner_has_the_most_votes(rows, seed):
    rows = [sorted(r) for r in rows]
    encoder = CustomGenreEncoder(random_state=seed).fit(rows)
    labels = encoder.transform(rows)
    votes = encoder.votes(rows)
    for label, row_votes in zip(labels, votes):
        if row_votes.max() == 0:
            assert label == "Ot"
        else:
            assert row_votes[encoder.classes_.tolist().index(label)] == row_votes.max()
    assert encoder.transform(rows[::-1]).tolist() == labels[::-1].tolist()


def _synthetic_movies(n=240, seed=0):
    """Posters whose two features tell the movie's custom genre apart."""
    rng = np.random.default_rng(seed)
    recipes = {
        "Ho": ["Horror"],
        "ScFa": ["Sci-Fi", "Fantasy"],
        "AcCrTh": ["Action", "Crime", "Thriller"],
        "RoCoDa": ["Romance", "Comedy"],
    }
    centres = {"Ho": (0, 0), "ScFa": (4, 0), "AcCrTh": (0, 4), "RoCoDa": (4, 4)}
    names = rng.choice(list(recipes), size=n)
    X = np.array([centres[c] for c in names]) + rng.normal(scale=0.7, size=(n, 2))
    # Drama adds one vote to three classes: it never changes these winners, but Horror + Drama
    # would be a four-way tie
    genres = [recipes[c] + (["Drama"] if c != "Ho" and rng.random() < 0.3 else []) for c in names]
    return X, genres, names


def test_classifier_predicts_valid_custom_genres():
    X, genres, names = _synthetic_movies()
    model = CustomGenreClassifier(LogisticRegression(), random_state=0).fit(X[:180], genres[:180])
    assert model.classes_.tolist() == ["AcCrTh", "Ho", "RoCoDa", "ScFa"]
    predicted = model.predict(X[180:])
    assert set(predicted) <= set(model.encoder_.classes_)
    assert np.mean(predicted == names[180:]) > 0.9
    assert model.score(X[180:], genres[180:]) == pytest.approx(np.mean(predicted == names[180:]))
    proba = model.predict_proba(X[180:])
    assert proba.shape == (60, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    Y_genres = model.predict_genres(X[180:])
    assert Y_genres.shape == (60, len(model.encoder_.genres_))
    horror = model.encoder_.genres_ == "Horror"
    assert (Y_genres[:, horror].ravel() == (predicted == "Ho")).all()
    assert model.n_features_in_ == 2


def test_classifier_in_a_pipeline_and_grid_search():
    X, genres, _ = _synthetic_movies(n=150, seed=1)
    Y = pd.DataFrame(
        [[int(g in row) for g in IMDB_GENRES] for row in genres], columns=list(IMDB_GENRES)
    )
    search = GridSearchCV(
        CustomGenreClassifier(make_pipeline(StandardScaler(), LogisticRegression())),
        {"estimator__logisticregression__C": [0.01, 1.0], "random_state": [0]},
        cv=3,
    ).fit(X, Y)
    assert search.best_score_ > 0.8
    assert set(search.predict(X)) <= set(search.best_estimator_.encoder_.classes_)


def test_bundled_av_sample_indicator_and_lists_agree():
    from posterml.datasets import load_sample

    sample = load_sample(as_frame=True)
    encoder = CustomGenreEncoder(random_state=0).fit(sample.Y)
    labels = encoder.transform(sample.Y)
    assert labels.tolist() == encoder.transform(list(sample.frame["genres"])).tolist()
    assert set(labels) == set(PAPER_CLASSES)  # every custom genre occurs in the real labels
