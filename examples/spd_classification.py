"""
Classifying covariance matrices with each SPD metric
====================================================

Two-class covariance matrices of simulated multichannel signals (class-dependent source power and
mixing, as in motor-imagery EEG) from :func:`linalgkit.datasets._spd.make_spd_classification`:
cross-validated accuracy of the minimum-distance-to-mean classifier (MDM) and of tangent space +
logistic regression, for each metric.  (``spd_domain_shift.py`` measures a session shift with SPD
sliced-Wasserstein.)

Runs in a few seconds and saves ``spd_classification.png`` next to this file.
"""

import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from linalgkit import spd  # noqa: E402
from linalgkit.datasets._spd import make_spd_classification  # noqa: E402

METRICS = ["euclidean", "log_euclidean", "affine_invariant", "bures_wasserstein", "log_cholesky"]


def classification_scores(X, y):
    """Mean 5-fold accuracy of MDM and TangentSpace + LogisticRegression for each metric."""
    scores = {}
    for metric in METRICS:
        mdm = cross_val_score(spd.MDM(metric=metric), X, y, cv=5).mean()
        ts = cross_val_score(make_pipeline(spd.TangentSpace(metric=metric), LogisticRegression(max_iter=500)),
                             X, y, cv=5).mean()
        scores[metric] = (mdm, ts)
        print(f"{metric:>18}: MDM {mdm:.3f}   TangentSpace+LR {ts:.3f}")
    return scores


def main():
    X, y = make_spd_classification(300, 8, n_times=64, class_sep=0.2, random_state=0)
    scores = classification_scores(X, y)
    fig, left = plt.subplots(figsize=(6, 4))
    positions = np.arange(len(METRICS))
    left.bar(positions - 0.2, [scores[m][0] for m in METRICS], 0.4, label="MDM")
    left.bar(positions + 0.2, [scores[m][1] for m in METRICS], 0.4, label="TangentSpace + LR")
    left.set_xticks(positions, [m.replace("_", "\n") for m in METRICS])
    left.set_ylim(0.5, 1.0)
    left.set_ylabel("5-fold accuracy")
    left.set_title("Two-class simulated covariances (8 channels)")
    left.legend(loc="lower right")
    fig.tight_layout()
    out = pathlib.Path(__file__).with_suffix(".png") if "__file__" in globals() else pathlib.Path("spd_classification.png")
    fig.savefig(out, dpi=100)
    print(f"saved {out}")


if __name__ == "__main__":
    main()
