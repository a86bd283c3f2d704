"""
The smallest ``dim`` within one point of the best
=================================================

Let ``GridSearchCV`` pick the *smallest* embedding size within one point of the best.

GridSearchCV normally refits the best-scoring candidate, which is usually the largest ``dim``.
``smallest_dim_refit`` is a ``refit=`` callable that instead picks the smallest ``dim`` whose
mean CV score is within ``tolerance`` (absolute: 0.01 = one accuracy point) of the best, so the
refitted pipeline stores small vectors for (almost) no loss.

Run: ``python examples/smallest_dim.py`` (BBC News, needs the ``data`` extra) or
``python examples/smallest_dim.py --dataset trec --data ../shared/data``.
"""

import argparse

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmrl import TfidfBaseline
from skmrl.datasets import load_bbc_news, load_trec
from skmrl.evaluation import smallest_dim_refit

parser = argparse.ArgumentParser(description="The smallest dim within a tolerance of the best.")
parser.add_argument("--dataset", choices=["bbc", "trec"], default="bbc")
parser.add_argument("--data", default="../shared/data", help="shared data folder (for TREC)")
parser.add_argument("--tolerance", type=float, default=0.01, help="absolute, 0.01 = 1 point")
parser.add_argument("--cv", type=int, default=5)
args = parser.parse_args()
if args.cv < 2:
    parser.error(f"--cv must be at least 2 (folds), got {args.cv}")
if not args.tolerance >= 0:  # nan too
    parser.error(f"--tolerance must be a number >= 0, got {args.tolerance}")

# %%
# The data and the grid
# ---------------------
# TF-IDF reduced by SVD to at most 256 dims; ``dim`` keeps the first components. The ``refit=``
# callable reads ``cv_results_`` and returns the index of the candidate to refit.

if args.dataset == "bbc":
    texts, labels = load_bbc_news()  # 2,225 news articles, 5 topics
else:
    texts, labels = load_trec(args.data)  # ~5,400 questions, 6 coarse types

pipe = make_pipeline(TfidfBaseline(max_dim=256, min_df=2), LogisticRegression(max_iter=2000))
param = "tfidfbaseline__dim"
grid = GridSearchCV(
    pipe,
    {param: [8, 16, 32, 64, 128, 256]},
    cv=args.cv,
    refit=smallest_dim_refit(param, tolerance=args.tolerance),
)
grid.fit(texts, labels)

# %%
# Every candidate, then the choice
# --------------------------------

results = grid.cv_results_
best = results["mean_test_score"].max()
print(f"{args.dataset}: {len(texts)} texts, {args.cv}-fold CV")
print("|  dim | accuracy |  std  |")
print("|-----:|---------:|------:|")
for dim, mean, std in zip(
    results[f"param_{param}"], results["mean_test_score"], results["std_test_score"], strict=True
):
    print(f"| {dim:>4} |   {mean:.4f} | {std:.3f} |")
chosen = grid.best_params_[param]
print(f"best accuracy: {best:.4f}")
print(f"chosen dim: {chosen} (smallest within {args.tolerance} of the best)")
# The refitted pipeline (trained on all the data) outputs vectors of that size:
print("refitted embedding size:", grid.best_estimator_[0].transform(texts[:1]).shape[1])
