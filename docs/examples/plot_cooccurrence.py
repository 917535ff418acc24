"""Which genres go together: true genre sets next to ML-kNN's predicted ones."""

import numpy as np

import posterml
from posterml import MLkNN
from posterml.model_selection import multilabel_train_test_split
from posterml.plotting import GenreCooccurrenceDisplay

sample = posterml.load_sample()
common = sample.Y.sum(axis=0) >= 200  # the 18 genres with at least 200 movies
genres = list(np.asarray(sample.genres)[common])
X_train, X_test, Y_train, Y_test = multilabel_train_test_split(
    sample.X_cnn, Y=sample.Y[:, common], test_size=0.25, random_state=0
)

model = MLkNN(k=20).fit(X_train, Y_train)
# normalize="true": row i is the share of the movies of genre i that also have genre j
display = GenreCooccurrenceDisplay.from_estimator(
    model, X_test, Y_test, genres=genres, normalize="true"
)
