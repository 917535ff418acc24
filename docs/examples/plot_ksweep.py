"""ML-kNN k-sweep on the bundled sample: every k and every fold from one neighbour search."""

import numpy as np

import posterml
from posterml import MLkNNCV
from posterml.model_selection import multilabel_train_test_split
from posterml.plotting import KSweepDisplay

sample = posterml.load_sample()  # CNN embeddings of the 7,233 AV posters, no image needed

# 2,000 movies, stratified on the genres that have at least 100 movies.
common = sample.Y.sum(axis=0) >= 100
X, _, Y, _ = multilabel_train_test_split(
    sample.X_cnn, Y=sample.Y[:, common], train_size=2000, random_state=0
)

k_values = [1, 3, 5, 10, 20, 40]
model = MLkNNCV(k_values=k_values, cv=3, scoring=["hamming_loss", "overall_f1"]).fit(X, Y)
display = KSweepDisplay.from_estimator(model)
print(f"best k = {model.best_k_} (by {model.refit_metric_}), genres: {int(np.sum(common))}")
