"""Seed paper 004's custom genres: one class per movie, a logistic regression on the CNN
embeddings, and its confusion matrix."""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import posterml
from posterml.labels import CustomGenreClassifier
from posterml.model_selection import multilabel_train_test_split
from posterml.plotting import CustomGenreConfusionDisplay

sample = posterml.load_sample()
X_train, X_test, Y_train, Y_test = multilabel_train_test_split(
    sample.X_cnn, Y=sample.Y, test_size=0.25, random_state=0
)

# Each movie's genres vote for AcAdDr, CoFaDr, RoCoDa, AcThMi, AcCrTh, ScFa, Ho or Ot.
model = CustomGenreClassifier(
    make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    genres=sample.genres,
    random_state=0,
).fit(X_train, Y_train)
display = CustomGenreConfusionDisplay.from_estimator(model, X_test, Y_test, normalize="true")
print(f"custom-genre accuracy on the test movies: {model.score(X_test, Y_test):.3f}")
