"""
Choose ``dim`` with GridSearchCV
================================

Pick the smallest embedding that keeps accuracy: a ``Pipeline`` of an embedder and a classifier,
and a ``GridSearchCV`` over the embedder's ``dim``.

``TfidfBaseline(max_dim=256)`` fits TF-IDF and a 256-component SVD (LSA) once per fold; each
``dim`` keeps the first components, so the six grid points cost one fit per fold, not six.

Run: ``python examples/grid_search_dim.py`` (needs the ``data`` extra for BBC News).
"""

# %%
# The pipeline and the grid
# -------------------------
# BBC News: 2,225 news articles in 5 topics. ``min_df=2`` drops the words of a single article.

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmrl import TfidfBaseline
from skmrl.datasets import load_bbc_news

texts, labels = load_bbc_news()
pipe = make_pipeline(TfidfBaseline(max_dim=256, min_df=2), LogisticRegression(max_iter=2000))
grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [8, 16, 32, 64, 128, 256]}, cv=5)
grid.fit(texts, labels)  # one TF-IDF + SVD per fold, whatever the number of dims

# %%
# Accuracy against ``dim``
# ------------------------
# The mean 5-fold accuracy of each size. ``GridSearchCV`` keeps the best-scoring one; to keep
# the smallest one within a point of the best instead, see
# :ref:`sphx_glr_auto_examples_smallest_dim.py`.

results = grid.cv_results_
for dim, score in zip(results["param_tfidfbaseline__dim"], results["mean_test_score"], strict=True):
    print(f"dim={dim:>4}  accuracy={score:.3f}")
print("best:", grid.best_params_)
