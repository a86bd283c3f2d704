"""Pick the smallest embedding that keeps accuracy: a GridSearchCV over ``dim``.

Run: ``python examples/grid_search_dim.py`` (needs the ``data`` extra for BBC News).
"""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmrl import TfidfBaseline
from skmrl.datasets import load_bbc_news

texts, labels = load_bbc_news()
pipe = make_pipeline(TfidfBaseline(max_dim=256, min_df=2), LogisticRegression(max_iter=2000))
grid = GridSearchCV(pipe, {"tfidfbaseline__dim": [8, 16, 32, 64, 128, 256]}, cv=5)
grid.fit(texts, labels)  # one TF-IDF + SVD per fold, whatever the number of dims

results = grid.cv_results_
for dim, score in zip(results["param_tfidfbaseline__dim"], results["mean_test_score"], strict=True):
    print(f"dim={dim:>4}  accuracy={score:.3f}")
print("best:", grid.best_params_)
