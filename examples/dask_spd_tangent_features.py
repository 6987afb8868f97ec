"""
SPD tangent-space features of a chunked collection, fed to scikit-learn
=======================================================================

A collection of covariance matrices (two classes of simulated multichannel trials) is held as a
Dask array chunked along the trials.  :class:`linalgkit.dask.TangentSpace` fits the Riemannian
(Karcher) mean of the training chunks, one tree reduction per iteration, and maps every matrix to
its tangent vector at that mean chunk by chunk; the lazy feature matrix is computed once and fed
to a scikit-learn logistic regression.  The same pipeline in memory
(:class:`linalgkit.spd.TangentSpace`) gives the same features: the script prints the largest
difference and the test accuracy, and saves ``dask_spd_tangent_features.png`` (the first two
principal components of the features, by class).
"""

import pathlib

import matplotlib

matplotlib.use("Agg")
import dask  # noqa: E402
import dask.array as da  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import linalgkit.dask as ld  # noqa: E402
from linalgkit.datasets import make_spd_classification  # noqa: E402
from linalgkit.spd import TangentSpace  # noqa: E402

TRIALS, CHANNELS, CHUNK = 1000, 8, 125


def main():
    X, y = make_spd_classification(TRIALS, CHANNELS, class_sep=0.15, random_state=0)
    train, test = np.arange(TRIALS) < TRIALS * 3 // 4, np.arange(TRIALS) >= TRIALS * 3 // 4
    chunked = da.from_array(X, chunks=(CHUNK, CHANNELS, CHANNELS))
    with dask.config.set(scheduler="threads"):  # or a distributed Client: the calls are the same
        mapper = ld.TangentSpace(metric="affine_invariant").fit(chunked[np.flatnonzero(train)])
        features = mapper.transform(chunked).compute()
    reference = TangentSpace(metric="affine_invariant").fit(X[train]).transform(X)
    print(f"features {features.shape}, largest difference to the in-memory TangentSpace: "
          f"{np.abs(features - reference).max():.1e}")
    classifier = LogisticRegression(max_iter=1000).fit(features[train], y[train])
    print(f"test accuracy of logistic regression on tangent features: {classifier.score(features[test], y[test]):.3f}")
    points = PCA(2).fit_transform(features)
    figure, axes = plt.subplots(figsize=(4.5, 4))
    for label, marker in ((0, "o"), (1, "s")):
        axes.scatter(*points[y == label].T, s=6, marker=marker, alpha=0.5, label=f"class {label}")
    axes.set_title("tangent features (PCA), computed chunk by chunk")
    axes.legend()
    figure.tight_layout()
    figure.savefig(pathlib.Path(__file__).with_suffix(".png") if "__file__" in globals() else
                   "dask_spd_tangent_features.png")


if __name__ == "__main__":
    main()
