"""Real objects of the machine-learning libraries, as firms pickle them (tiny, built locally).

Used by the benign adversarial corpus (pickled, torch.saved, joblib-dumped) and by
scripts/gen_allowlists.py to see which globals real pickles of each library write.
Nothing here downloads anything; every model is built from a config or fitted on tiny data.
"""

from __future__ import annotations

import inspect
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

Named = list[tuple[str, Any]]


def _try(out: Named, name: str, make: Callable[[], Any]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append((name, make()))
    except Exception:  # a constructor that needs arguments or hardware: skipped
        pass


def _data() -> tuple[Any, Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((40, 4))
    y_cls = (x[:, 0] + x[:, 1] > 1).astype(int)
    y_reg = x @ np.array([1.0, -2.0, 0.5, 3.0])
    return x, y_cls, y_reg


def sklearn_objects() -> Named:
    """Every instantiable scikit-learn estimator, fitted on tiny data when it can be."""
    import numpy as np
    from sklearn.utils import all_estimators

    x, y_cls, y_reg = _data()
    out: Named = []
    for name, cls in all_estimators():
        params = inspect.signature(cls.__init__).parameters
        kwargs: dict[str, Any] = {}
        if "estimator" in params and params["estimator"].default is inspect.Parameter.empty:
            from sklearn.linear_model import LinearRegression, LogisticRegression

            kwargs["estimator"] = LogisticRegression() if "Classif" in name else LinearRegression()
        if "estimators" in params and params["estimators"].default is inspect.Parameter.empty:
            from sklearn.linear_model import LinearRegression, LogisticRegression

            base = LogisticRegression() if "Classif" in name else LinearRegression()
            kwargs["estimators"] = [("a", base)]
        if "steps" in params:
            from sklearn.preprocessing import StandardScaler

            kwargs["steps"] = [("s", StandardScaler())]
        if "transformers" in params and params["transformers"].default is inspect.Parameter.empty:
            from sklearn.preprocessing import StandardScaler

            kwargs["transformers"] = [("s", StandardScaler(), [0, 1])]
        if "transformer_list" in params:
            from sklearn.decomposition import PCA

            kwargs["transformer_list"] = [("p", PCA(n_components=1))]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = cls(**kwargs)
        except Exception:
            continue
        fitted = None
        for y in (y_cls, y_reg, None):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x_in = np.abs(x) if "NB" in name or "Chi" in name else x
                    fitted = est.fit(x_in) if y is None else est.fit(x_in, y)
                break
            except Exception:
                continue
        out.append((f"sklearn-{name}", fitted if fitted is not None else est))
    # Objects that estimators hold and that firms pickle on their own.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import BallTree, KDTree
    from sklearn.preprocessing import FunctionTransformer

    _try(out, "sklearn-kdtree", lambda: KDTree(x))
    _try(out, "sklearn-balltree", lambda: BallTree(x))
    _try(out, "sklearn-functiontransformer-log1p", lambda: FunctionTransformer(np.log1p).fit(x))
    _try(out, "sklearn-tfidf", lambda: TfidfVectorizer().fit(["a b c", "b c d", "e f a"]))
    return out


def torch_objects() -> Named:
    """Many torch.nn layers, optimisers, quantised tensors and modules."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    out: Named = []
    simple = {
        "Linear": (4, 3),
        "Bilinear": (2, 3, 4),
        "Conv1d": (2, 3, 3),
        "Conv2d": (2, 3, 3),
        "Conv3d": (2, 3, 3),
        "ConvTranspose1d": (2, 3, 3),
        "ConvTranspose2d": (2, 3, 3),
        "ConvTranspose3d": (2, 3, 3),
        "BatchNorm1d": (4,),
        "BatchNorm2d": (4,),
        "BatchNorm3d": (4,),
        "InstanceNorm1d": (4,),
        "InstanceNorm2d": (4,),
        "LayerNorm": (4,),
        "GroupNorm": (2, 4),
        "RMSNorm": (4,),
        "LocalResponseNorm": (2,),
        "Embedding": (10, 4),
        "EmbeddingBag": (10, 4),
        "LSTM": (4, 3),
        "GRU": (4, 3),
        "RNN": (4, 3),
        "LSTMCell": (4, 3),
        "GRUCell": (4, 3),
        "RNNCell": (4, 3),
        "MultiheadAttention": (4, 2),
        "TransformerEncoderLayer": (8, 2),
        "TransformerDecoderLayer": (8, 2),
        "MaxPool1d": (2,),
        "MaxPool2d": (2,),
        "MaxPool3d": (2,),
        "AvgPool1d": (2,),
        "AvgPool2d": (2,),
        "AvgPool3d": (2,),
        "AdaptiveAvgPool1d": (2,),
        "AdaptiveAvgPool2d": (2,),
        "AdaptiveMaxPool2d": (2,),
        "LPPool2d": (2, 2),
        "PixelShuffle": (2,),
        "Upsample": (None, 2),
        "ZeroPad2d": (1,),
        "ReflectionPad2d": (1,),
        "ReplicationPad2d": (1,),
        "ConstantPad1d": (1, 0.5),
        "Softmax": (1,),
        "LogSoftmax": (1,),
        "GLU": (),
        "PReLU": (),
        "Unflatten": (1, (2, 2)),
        "Fold": ((4, 4), (2, 2)),
        "Unfold": ((2, 2),),
        "ChannelShuffle": (2,),
        "CosineSimilarity": (),
        "PairwiseDistance": (),
        "AdaptiveLogSoftmaxWithLoss": (8, 10, [4]),
    }
    for name in sorted(dir(nn)):
        cls = getattr(nn, name)
        if not (inspect.isclass(cls) and issubclass(cls, nn.Module)) or name.startswith("Lazy"):
            continue
        args = simple.get(name, ())
        _try(out, f"torch-nn-{name}", lambda cls=cls, args=args: cls(*args))
    _try(
        out,
        "torch-transformer",
        lambda: nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1),
    )
    seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    out.append(("torch-sequential", seq))
    out.append(("torch-moduledict", nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Tanh()})))
    out.append(("torch-parameterlist", nn.ParameterList([nn.Parameter(torch.ones(2))])))
    opt = torch.optim.AdamW(seq.parameters(), lr=1e-3)
    seq(torch.randn(3, 4)).sum().backward()
    opt.step()
    out.append(("torch-optimizer-state", opt.state_dict()))
    for oname in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"):
        _try(out, f"torch-optim-{oname}", lambda o=oname: getattr(torch.optim, o)(seq.parameters()))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    out.append(("torch-scheduler-state", sched.state_dict()))
    out.append(
        ("torch-tensors", {"f16": torch.ones(3, dtype=torch.float16), "i64": torch.arange(5)})
    )
    out.append(("torch-bf16", torch.zeros(2, 2, dtype=torch.bfloat16)))
    out.append(("torch-complex", torch.ones(2, dtype=torch.complex64)))
    out.append(("torch-bool", torch.ones(2, dtype=torch.bool)))
    out.append(("torch-sparse-coo", torch.eye(3).to_sparse()))
    out.append(("torch-sparse-csr", torch.eye(3).to_sparse_csr()))
    out.append(("torch-size-device", {"size": torch.Size([2, 3]), "dtype": torch.float32}))
    out.append(("torch-parameter", nn.Parameter(torch.ones(3))))
    out.append(("torch-view", torch.arange(10.0)[2:5]))
    q = torch.quantize_per_tensor(torch.randn(4), 0.1, 0, torch.qint8)
    out.append(("torch-qtensor", q))
    qc = torch.quantize_per_channel(
        torch.randn(2, 3), torch.tensor([0.1, 0.2]), torch.tensor([0, 0]), 0, torch.quint8
    )
    out.append(("torch-qtensor-channel", qc))
    _try(
        out,
        "torch-dynamic-quantized",
        lambda: torch.ao.quantization.quantize_dynamic(
            nn.Sequential(nn.Linear(4, 4)), {nn.Linear}, dtype=torch.qint8
        ),
    )
    _try(out, "torch-observer", lambda: torch.ao.quantization.MinMaxObserver())
    _try(out, "torch-qconfig", lambda: torch.ao.quantization.get_default_qconfig("fbgemm"))
    _try(out, "torch-distribution", lambda: torch.distributions.Normal(0.0, 1.0))
    out.append(("torch-state-dict", seq.state_dict()))
    out.append(("torch-rng-state", torch.get_rng_state()))
    out.append(("torch-version", torch.__version__))
    return out


def numpy_objects() -> Named:
    """Arrays of many dtypes, masked and structured arrays, random generators."""
    import numpy as np

    out: Named = []
    for dt in ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u8", "c8", "c16", "?", "U5", "S3"):
        out.append((f"numpy-{dt}", np.zeros(3, dtype=dt)))
    out.append(("numpy-datetime", np.array(["2024-01-01"], dtype="datetime64[D]")))
    out.append(("numpy-timedelta", np.array([1, 2], dtype="timedelta64[s]")))
    out.append(("numpy-structured", np.zeros(2, dtype=[("O", "f8"), ("Obj", "i4")])))
    out.append(("numpy-object", np.array([1, "a", None], dtype=object)))
    out.append(("numpy-masked", np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])))
    out.append(("numpy-scalars", [np.float64(1.5), np.int32(3), np.bool_(True)]))
    out.append(("numpy-fortran", np.asfortranarray(np.ones((2, 3)))))
    out.append(("numpy-generator", np.random.default_rng(1)))
    out.append(("numpy-randomstate", np.random.RandomState(2)))
    for bg in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        out.append((f"numpy-{bg}", getattr(np.random, bg)(3)))
    out.append(("numpy-seedsequence", np.random.SeedSequence(4)))
    out.append(("numpy-polynomial", np.polynomial.Polynomial([1, 2, 3])))
    out.append(("numpy-dtype", np.dtype([("a", "<i4"), ("b", "O")])))
    # Every ufunc (pure element-wise maths): what FunctionTransformer(np.log1p) and friends
    # hold. Array functions that touch files (np.save, np.load...) are not ufuncs.
    ufuncs = [getattr(np, n) for n in sorted(dir(np)) if isinstance(getattr(np, n), np.ufunc)]
    out.append(("numpy-ufuncs", ufuncs))
    return out


def pandas_objects() -> Named:
    """DataFrames, Series, categoricals, time zones, indexes and extension arrays."""
    import numpy as np
    import pandas as pd

    out: Named = []
    df = pd.DataFrame(
        {
            "a": [1, 2, 3],
            "b": [1.5, 2.5, np.nan],
            "c": ["x", "y", "z"],
            "d": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    out.append(("pandas-dataframe", df))
    out.append(("pandas-series", pd.Series([1, 2, 3], name="s")))
    out.append(("pandas-categorical", pd.Categorical(["a", "b", "a"])))
    out.append(("pandas-cat-series", pd.Series(["lo", "hi"], dtype="category")))
    out.append(("pandas-tz", pd.date_range("2024-01-01", periods=3, tz="Europe/Paris")))
    out.append(("pandas-tz-utc", pd.Timestamp("2024-01-01", tz="UTC")))
    out.append(("pandas-timedelta", pd.to_timedelta([1, 2], unit="D")))
    out.append(("pandas-period", pd.period_range("2024-01", periods=3, freq="M")))
    out.append(("pandas-interval", pd.interval_range(0, 3)))
    out.append(("pandas-multiindex", pd.MultiIndex.from_tuples([(1, "a"), (2, "b")])))
    out.append(("pandas-nullable", pd.array([1, None, 3], dtype="Int64")))
    out.append(("pandas-string", pd.array(["a", None], dtype="string")))
    out.append(("pandas-bool", pd.array([True, None], dtype="boolean")))
    out.append(("pandas-sparse", pd.arrays.SparseArray([0, 0, 1])))
    out.append(("pandas-range-index", pd.RangeIndex(5)))
    out.append(("pandas-dateoffset", pd.offsets.MonthEnd(2)))
    out.append(("pandas-frame-cat-index", df.set_index("c")))
    return out


def scipy_objects() -> Named:
    """Sparse matrices and arrays."""
    import numpy as np
    from scipy import sparse

    out: Named = []
    m = np.eye(4)
    for fmt in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia"):
        out.append((f"scipy-{fmt}-matrix", getattr(sparse, f"{fmt}_matrix")(m)))
        out.append((f"scipy-{fmt}-array", getattr(sparse, f"{fmt}_array")(m)))
    return out


def boosting_objects() -> Named:
    """xgboost and lightgbm models fitted on tiny data."""
    x, y_cls, y_reg = _data()
    out: Named = []
    import lightgbm
    import xgboost

    _try(out, "xgboost-classifier", lambda: xgboost.XGBClassifier(n_estimators=3).fit(x, y_cls))
    _try(out, "xgboost-regressor", lambda: xgboost.XGBRegressor(n_estimators=3).fit(x, y_reg))
    _try(
        out,
        "xgboost-booster",
        lambda: xgboost.train({}, xgboost.DMatrix(x, label=y_reg), num_boost_round=2),
    )
    params = {"n_estimators": 3, "verbose": -1, "min_child_samples": 2}
    _try(out, "lightgbm-classifier", lambda: lightgbm.LGBMClassifier(**params).fit(x, y_cls))
    _try(out, "lightgbm-regressor", lambda: lightgbm.LGBMRegressor(**params).fit(x, y_reg))
    _try(
        out,
        "lightgbm-booster",
        lambda: lightgbm.train(
            {"verbose": -1, "min_data_in_leaf": 2}, lightgbm.Dataset(x, y_reg), num_boost_round=2
        ),
    )
    return out


def transformers_objects() -> Named:
    """Training arguments, configs and generation configs of tiny models."""
    import transformers as tr

    out: Named = []
    tmp = tempfile.mkdtemp(prefix="airlock-trargs-")
    _try(out, "transformers-training-args", lambda: tr.TrainingArguments(output_dir=tmp))
    _try(
        out,
        "transformers-seq2seq-args",
        lambda: tr.Seq2SeqTrainingArguments(output_dir=tmp, predict_with_generate=True),
    )
    for cfg in (
        "BertConfig",
        "GPT2Config",
        "LlamaConfig",
        "T5Config",
        "ViTConfig",
        "MistralConfig",
    ):
        _try(out, f"transformers-{cfg}", lambda c=cfg: getattr(tr, c)(hidden_size=16))
    _try(out, "transformers-generation-config", lambda: tr.GenerationConfig(max_new_tokens=4))
    _try(out, "transformers-trainer-state", lambda: tr.TrainerState(global_step=3))
    return out


def lightning_objects() -> Named:
    """Lightning hyper-parameters and checkpoint dictionaries as Trainer writes them."""
    import lightning

    out: Named = []
    from lightning.fabric.utilities.data import AttributeDict

    hp = AttributeDict(lr=0.01, layers=[4, 8], name="net", dropout=0.1)
    out.append(("lightning-hparams", hp))
    _try(
        out,
        "lightning-checkpoint-callback",
        lambda: lightning.pytorch.callbacks.ModelCheckpoint(monitor="val_loss").state_dict(),
    )
    _try(
        out,
        "lightning-early-stopping",
        lambda: lightning.pytorch.callbacks.EarlyStopping(monitor="val_loss").state_dict(),
    )
    out.append(
        (
            "lightning-checkpoint-dict",
            {
                "epoch": 1,
                "global_step": 10,
                "pytorch-lightning_version": lightning.__version__,
                "hyper_parameters": hp,
                "hparams_name": "kwargs",
            },
        )
    )
    return out


def objects_by_library() -> dict[str, Named]:
    """All the above, by library."""
    return {
        "sklearn": sklearn_objects(),
        "torch": torch_objects(),
        "numpy": numpy_objects(),
        "pandas": pandas_objects(),
        "scipy": scipy_objects(),
        "boosting": boosting_objects(),
        "transformers": transformers_objects(),
        "lightning": lightning_objects(),
    }
