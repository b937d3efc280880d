"""Fixtures for test_convert_joblib: scikit-learn MLP pipelines trained here and
saved with joblib.dump(compress=0) (relu / tanh / logistic / identity, binary and
multi-class, bare MLPClassifier, StandardScaler(with_mean=False)), one saved with
compress=3, and the user's fatigue_mlp.joblib references when SM_SHARED is set.
References come from joblib.load; <name>.meta lists the expected metadata."""
import os
import sys
import warnings

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_ref import write_ref  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("ignore", UserWarning)  # "unpickling from version 1.6.1"
rng = np.random.RandomState(3)


def dump_ref(name, path, version=None):
    obj = joblib.load(path)  # the reference is what joblib gives back
    steps = [n for n, _ in obj.steps] if isinstance(obj, Pipeline) else []
    mlp = obj.steps[-1][1] if isinstance(obj, Pipeline) else obj
    items = []
    if isinstance(obj, Pipeline):
        sc = obj.steps[0][1]
        if sc.with_mean:
            items.append(("scaler.mean_", "f64", sc.mean_))
        if sc.with_std:
            items.append(("scaler.scale_", "f64", sc.scale_))
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        items.append(("mlp.coefs_.%d" % i, "f64", w))
        items.append(("mlp.intercepts_.%d" % i, "f64", b))
    write_ref(out, name, items)
    with open(os.path.join(out, name + ".meta"), "w") as f:
        f.write("n_layers %d\n" % len(mlp.coefs_))
        f.write("activation %s\n" % mlp.activation)
        f.write("out_activation %s\n" % mlp.out_activation_)
        f.write("classes %s\n" % " ".join(str(int(c)) for c in mlp.classes_))
        f.write("n_features %d\n" % mlp.coefs_[0].shape[0])
        if version:  # unpickling drops _sklearn_version, so only the writer knows it
            f.write("version %s\n" % version)
        f.write("steps %s\n" % ",".join(steps))


def train(name, est, n_features, classes, compress=0):
    X = rng.normal(size=(120, n_features)) * rng.uniform(0.5, 5, n_features) + rng.normal(size=n_features)
    y = np.array(classes)[rng.randint(0, len(classes), 120)]
    est.fit(X, y)
    path = os.path.join(out, name + ".joblib")
    joblib.dump(est, path, compress=compress)
    if not compress:
        dump_ref(name, path, sklearn.__version__)


train("mlp_relu_bin", Pipeline([("scaler", StandardScaler()),
                                ("clf", MLPClassifier((8, 4), activation="relu", max_iter=40, random_state=1))]),
      5, [0, 1])
train("mlp_tanh_3c", Pipeline([("std", StandardScaler()),
                               ("mlp", MLPClassifier((6,), activation="tanh", max_iter=40, random_state=2))]),
      4, [0, 1, 2])
train("mlp_logistic_bare", MLPClassifier((5, 5, 3), activation="logistic", max_iter=30, random_state=3), 3, [3, 7])
train("mlp_identity_nomean", Pipeline([("scaler", StandardScaler(with_mean=False)),
                                       ("clf", MLPClassifier((4,), activation="identity", max_iter=30,
                                                             random_state=4))]), 6, [1, 2, 5, 9])
train("mlp_compressed", Pipeline([("scaler", StandardScaler()),
                                  ("clf", MLPClassifier((4,), max_iter=20, random_state=5))]), 5, [0, 1], compress=3)

# Inline arrays in every layout joblib writes: Fortran order, big-endian, other
# dtypes; numpy scalars. References are C-order little-endian copies.
arrs = {"fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4) * 0.5),
        "bigendian": np.array([1.5, -2.25, 1e-300], dtype=">f8"),
        "int32": np.array([[1, -2], [3, 4]], dtype="<i4"),
        "f32_fortran3d": np.asfortranarray(rng.normal(size=(2, 3, 4)).astype(np.float32)),
        "uint8": np.arange(5, dtype=np.uint8)}
scalars = {"s_f8": np.float64(0.1), "s_i8": np.int64(-7), "s_f4": np.float32(2.5), "s_be": np.array([3.25], ">f8")[0]}
joblib.dump(dict(arrs, **scalars), os.path.join(out, "arrays.joblib"), compress=0)
back = joblib.load(os.path.join(out, "arrays.joblib"))
raw = open(os.path.join(out, "arrays.joblib"), "rb").read()
assert b"\x8c\x01F" in raw and b"\x8c\x01>" in raw, "joblib no longer writes order 'F' / '>' dtypes"
code = {"f8": "f64", "i4": "i32", "f4": "f32", "u1": "u8"}
write_ref(out, "arrays", [(k, code[back[k].dtype.str[1:]], back[k]) for k in arrs])
with open(os.path.join(out, "arrays.scalars"), "w") as f:
    for k in scalars:
        f.write("%s %r\n" % (k, back[k].item()))

shared = os.environ.get("SM_SHARED", "")
fat = os.path.join(shared, "seed/checkpoints/fatigue_mlp.joblib") if shared else ""
if fat and os.path.exists(fat):
    dump_ref("fatigue", fat)
    print("fatigue_mlp.joblib references written")
else:
    print("note: shared fatigue_mlp.joblib absent; its references are not written")
