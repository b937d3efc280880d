"""scikit-learn references for the fatigue MLP (StandardScaler + MLPClassifier).

usage: /usr/bin/python3 tests/gen/gen_fatigue_ref.py OUTDIR

For each case OUTDIR/fatigue_ref/<case>/ holds (all written temp + rename):
  mean.npy, scale.npy        f8 [n_features]  scaler.mean_, scaler.scale_ (absent: no scaler)
  coefs_<i>.npy              f8 [in,out]      mlp.coefs_[i]
  intercepts_<i>.npy         f8 [out]         mlp.intercepts_[i]
  classes.npy                i8 [n_classes]   mlp.classes_
  meta.txt                   "key value" lines: n_layers (weight matrices), activation,
                             out_activation, n_features, n_classes
  X.npy                      f8 [n,n_features]  inputs
  proba.npy                  f8 [n,n_classes]   pipeline.predict_proba(X)
  X_f32.npy, proba_f32.npy   the same inputs rounded to f4, and predict_proba of those
                             values promoted to f8 (what smw-run computes for f4 input)
Cases:
  real        shared/seed/checkpoints/fatigue_mlp.joblib (SM_SHARED or ../shared), the
              1000 random feature vectors (EAR 0-0.5, MAR 0-1.2, yawn 0/1, tilt -45..45,
              pitch 0.5-2.0) followed by the 3 vectors of SEED_MODELS.md section 7;
              prints "skipped" when the file is absent
  synth3      Pipeline(StandardScaler, MLPClassifier tanh (8,6)), 3 classes (softmax)
  synth_logi  Pipeline(StandardScaler, MLPClassifier logistic (5,)), 2 classes
  synth_bare  bare MLPClassifier identity (4,), 4 classes, no scaler
"""

import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import out_dir, save_npy, save_text, shared_dir, up_to_date  # noqa: E402

SEED = 4242

SEED_VECTORS = np.array([[0.30, 0.20, 0, 2.0, 1.30],
                         [0.15, 0.70, 1, -12.0, 1.10],
                         [0.25, 0.45, 0, 25.0, 1.60]])
SEED_PROBA = np.array([[0.9976605799687428, 0.002339420031257175],
                       [0.8012089501422957, 0.1987910498577043],
                       [0.550016531767165, 0.44998346823283497]])


def split(model):
    """(scaler or None, MLPClassifier) of a Pipeline or a bare classifier."""
    from sklearn.pipeline import Pipeline
    if isinstance(model, Pipeline):
        steps = [s for _, s in model.steps]
        if len(steps) == 2:
            return steps[0], steps[1]
        return None, steps[0]
    return None, model


def write_case(d, model, X):
    scaler, mlp = split(model)
    if scaler is not None:
        save_npy(os.path.join(d, "mean.npy"), scaler.mean_.astype(np.float64))
        save_npy(os.path.join(d, "scale.npy"), scaler.scale_.astype(np.float64))
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        save_npy(os.path.join(d, "coefs_%d.npy" % i), w.astype(np.float64))
        save_npy(os.path.join(d, "intercepts_%d.npy" % i), b.astype(np.float64))
    save_npy(os.path.join(d, "classes.npy"), np.asarray(mlp.classes_, dtype=np.int64))
    proba = model.predict_proba(X)
    X32 = X.astype(np.float32)
    proba32 = model.predict_proba(X32.astype(np.float64))
    save_npy(os.path.join(d, "X.npy"), X)
    save_npy(os.path.join(d, "proba.npy"), proba.astype(np.float64))
    save_npy(os.path.join(d, "X_f32.npy"), X32)
    save_npy(os.path.join(d, "proba_f32.npy"), proba32.astype(np.float64))
    # meta.txt last: its presence marks a complete case
    save_text(os.path.join(d, "meta.txt"),
              "n_layers %d\nactivation %s\nout_activation %s\nn_features %d\nn_classes %d\n"
              % (len(mlp.coefs_), mlp.activation, mlp.out_activation_, mlp.n_features_in_,
                 len(mlp.classes_)))
    return proba


def random_features(rng, n):
    return np.column_stack([rng.uniform(0.0, 0.5, n), rng.uniform(0.0, 1.2, n),
                            rng.randint(0, 2, n).astype(np.float64), rng.uniform(-45.0, 45.0, n),
                            rng.uniform(0.5, 2.0, n)])


def gen_real(out, path):
    import joblib
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InconsistentVersionWarning (saved by 1.6.1)
        model = joblib.load(path)
    rng = np.random.RandomState(SEED)
    X = np.vstack([random_features(rng, 1000), SEED_VECTORS])
    proba = write_case(os.path.join(out, "real"), model, X)
    err = np.abs(proba[-3:] - SEED_PROBA).max()
    print("  real: %s, %d vectors; SEED_MODELS section 7 vectors max |diff| %.3g"
          % (path, len(X), err))
    if err > 1e-12:
        raise SystemExit("real joblib disagrees with SEED_MODELS.md section 7 (%.3g)" % err)


def gen_synth(out):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.RandomState(SEED + 1)
    X = random_features(rng, 300)
    s = (X[:, 0] * 4 - X[:, 1] * 2 + X[:, 3] / 30.0)
    specs = {
        "synth3": (Pipeline([("scaler", StandardScaler()),
                             ("clf", MLPClassifier((8, 6), activation="tanh", max_iter=200,
                                                   random_state=1))]),
                   np.digitize(s, np.quantile(s, [1 / 3, 2 / 3]))),
        "synth_logi": (Pipeline([("scaler", StandardScaler()),
                                 ("clf", MLPClassifier((5,), activation="logistic", max_iter=200,
                                                       random_state=2))]),
                       (s > np.median(s)).astype(int) * 3 + 2),  # classes [2, 5]
        "synth_bare": (MLPClassifier((4,), activation="identity", max_iter=200, random_state=3),
                       np.digitize(s, np.quantile(s, [0.25, 0.5, 0.75]))),
    }
    for name, (model, y) in specs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: a short fit is enough
            model.fit(X, y)
        Xt = random_features(rng, 200)
        proba = write_case(os.path.join(out, name), model, Xt)
        print("  %s: classes %s, proba range [%.3g, %.3g]"
              % (name, list(split(model)[1].classes_), proba.min(), proba.max()))


def main():
    out = out_dir("fatigue_ref")
    me = os.path.abspath(__file__)
    sstamp = os.path.join(out, ".stamp_synth")
    if up_to_date(sstamp, [me]):
        print("synthetic sklearn references up to date (%s)" % out)
    else:
        gen_synth(out)
        save_text(sstamp, "%d\n" % SEED)
    sh = shared_dir()
    path = os.path.join(sh, "seed/checkpoints/fatigue_mlp.joblib") if sh else None
    rstamp = os.path.join(out, ".stamp_real")
    if not path or not os.path.exists(path):
        print("skipped: real fatigue_mlp.joblib references: shared/seed/checkpoints not found")
    elif up_to_date(rstamp, [me, path]):
        print("real fatigue_mlp.joblib references up to date (%s)" % out)
    else:
        gen_real(out, path)
        save_text(rstamp, "%d\n" % SEED)


if __name__ == "__main__":
    main()
